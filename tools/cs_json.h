/*  cs_json - the JSON the CLI writes (records, JSON Lines) and the JSON
 *  scalars it reads (put FIELD:=JSON), with the string and number scanners
 *  the JSON Lines reader of seed (cs_jsonl) builds on.
 *  SPDX-License-Identifier: MIT
 *
 *  Output follows RFC 8259: strings escape '"', '\\', \b \f \n \r \t and
 *  other control characters as \u00XX, and pass UTF-8 through as is (a byte
 *  that is not part of valid UTF-8, which a valid store never holds, is
 *  written as \ufffd so the output stays valid JSON). Integers in decimal.
 *  Floats in the shortest form that reads back to the same double, always
 *  with a '.' or an exponent so they stay floats; NaN and infinities as
 *  null. Binaries as {"$binary":"<base64>"} (RFC 4648 alphabet, padded).
 *  Write errors are sticky on the FILE: check ferror() at the end.
 */
#ifndef CS_JSON_H
#define CS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "crdt/cs_err.h"
#include "crdt/cs_record.h"
#include "crdt/cs_value.h"

/** Enough for any double cs_json_format_double writes, with the NUL. */
#define CS_JSON_DOUBLE_MAX 32u

/** Largest FIELD:=JSON text cs_json_parse_scalar accepts, in bytes: a
 *  1 MiB binary in base64 plus room for the wrapper and whitespace. */
#define CS_JSON_SCALAR_TEXT_MAX (CS_VALUE_MAX / 3u * 4u + 64u * 1024u)

/** Write @p f to @p buf in the shortest of %.15g, %.16g, %.17g that strtod
 *  reads back to the same double. With @p keep_float, a result of digits
 *  only gets ".0" appended (so JSON readers see a float). @p f must be
 *  finite. @return the length written. */
size_t cs_json_format_double(double f, bool keep_float,
                             char buf[CS_JSON_DOUBLE_MAX]);

/** Base64 (RFC 4648, padded) of @p len bytes at @p data, NUL-terminated,
 *  in a new buffer the caller frees. Out of memory aborts. */
char *cs_json_base64(const void *data, size_t len);

/** Write @p len bytes of UTF-8 at @p s as a JSON string, quotes included. */
void cs_json_write_string(FILE *out, const char *s, size_t len);

/** Write one value as JSON. */
void cs_json_write_value(FILE *out, const cs_value_t *value);

/** Write the visible fields of @p rec as one JSON object, in name order. */
void cs_json_write_fields(FILE *out, const cs_record_t *rec);

/** Write one JSON Lines record, newline included:
 *  {"collection":"...","id":"...","fields":{...}} */
void cs_json_write_record_line(FILE *out, const char *collection,
                               const char *id, const cs_record_t *rec);

/** Parse @p len bytes at @p text as exactly one JSON scalar, with optional
 *  white space around it: an integer (to int64), a number with a fraction
 *  or exponent (to double), true, false, null, or a string (escapes
 *  including \uXXXX and surrogate pairs, decoded to UTF-8). The one object
 *  taken is {"$binary":"<base64>"}, for a binary value (the form
 *  cs_json_write_value writes). Strings and binaries point into
 *  *@p storage, a new buffer the caller frees (NULL for other types).
 *  On error a message for the user (without a trailing period) goes to
 *  @p err.
 *  @return CS_OK; CS_EINVAL for bad JSON, arrays and other objects,
 *  integers beyond int64, numbers beyond double, lone surrogates or
 *  invalid UTF-8; CS_ELIMIT for a string or binary over CS_VALUE_MAX
 *  bytes or text over CS_JSON_SCALAR_TEXT_MAX. */
CS_NODISCARD int cs_json_parse_scalar(const char *text, size_t len,
                                      cs_value_t *value, char **storage,
                                      char *err, size_t err_cap);

/** What cs_json_scan_number found. */
typedef enum {
    CS_JSON_NUMBER_INT,   /* integer syntax within int64: an int value */
    CS_JSON_NUMBER_FLOAT, /* a fraction or an exponent: a float value */
    CS_JSON_NUMBER_BIG,   /* integer syntax beyond int64: no value */
} cs_json_number_t;

/** Decode the JSON string whose opening quote is at text[*@p pos], of the
 *  @p len bytes at @p text, the way cs_json_parse_scalar decodes strings
 *  (escapes, \uXXXX with surrogate pairs), into @p out: *@p out_len bytes,
 *  not NUL-terminated, possibly holding NUL bytes (from \u0000). A decoded
 *  string is never longer than its JSON text, so len - *@p pos bytes at
 *  @p out always suffice. With @p out NULL the string is only checked.
 *  Raw bytes in the string must be valid UTF-8. Allocates nothing.
 *  On success *@p pos is just past the closing quote; on error it is near
 *  the fault and a message for the user goes to @p err ("at byte N" counts
 *  from @p text).
 *  @return CS_OK; CS_EINVAL for an unterminated string, a control
 *  character, a bad escape, a lone surrogate or invalid UTF-8. */
CS_NODISCARD int cs_json_scan_string(const char *text, size_t len, size_t *pos,
                                     char *out, size_t *out_len, char *err,
                                     size_t err_cap);

/** Read the RFC 8259 number (no leading '+', no leading zeros, digits
 *  around '.', no NaN or infinities) that starts at text[*@p pos], of the
 *  @p len bytes at @p text, stopping at the first byte that cannot extend
 *  it; the caller checks what follows. *@p kind says what it is; unless
 *  @p value is NULL, *@p value gets an int or a float value (floats by
 *  strtod, correctly rounded). For CS_JSON_NUMBER_BIG, the number is the
 *  text it spans. On success *@p pos is just past the number; on error a
 *  message goes to @p err. Allocates only for numbers over 63 bytes.
 *  @return CS_OK; CS_EINVAL for bad syntax or, when converting, a float
 *  beyond the double range. */
CS_NODISCARD int cs_json_scan_number(const char *text, size_t len, size_t *pos,
                                     cs_value_t *value, cs_json_number_t *kind,
                                     char *err, size_t err_cap);

#endif /* CS_JSON_H */
