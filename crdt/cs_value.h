/*  cs_value - the scalar values a record field holds, and their total order.
 *  SPDX-License-Identifier: MIT
 *
 *  A value is one of nil, bool, integer (int64), float (double), string
 *  (UTF-8) or binary. cs_value_t is a plain view: for strings and binaries it
 *  points at bytes it does not own; the owner says how long they live.
 */
#ifndef CS_VALUE_H
#define CS_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"

/** Largest string or binary value, in bytes (1 MiB). */
#define CS_VALUE_MAX 1048576u

/* The order of this enum is part of the value order below: do not reorder. */
typedef enum {
    CS_VALUE_NIL = 0,
    CS_VALUE_BOOL,
    CS_VALUE_INT,
    CS_VALUE_FLOAT,
    CS_VALUE_STR,
    CS_VALUE_BIN,
} cs_value_type_t;

typedef struct {
    cs_value_type_t type; /* which member of u is meaningful */
    union {
        bool b;    /* CS_VALUE_BOOL */
        int64_t i; /* CS_VALUE_INT */
        double f;  /* CS_VALUE_FLOAT */
        struct {
            const char *ptr; /* not NUL-terminated; may be NULL if len 0 */
            size_t len;      /* bytes */
        } s;                 /* CS_VALUE_STR, CS_VALUE_BIN */
    } u;
} cs_value_t;

/** Constructors of views; cs_value_str borrows @p s (strlen). */
cs_value_t cs_value_nil(void);
cs_value_t cs_value_bool(bool b);
cs_value_t cs_value_int(int64_t i);
cs_value_t cs_value_float(double f);
cs_value_t cs_value_str(const char *s);
cs_value_t cs_value_strn(const char *s, size_t len);
cs_value_t cs_value_bin(const void *p, size_t len);

/** Total order on values, the same on every replica: by type (in enum
 *  order), then numerically for int, by IEEE-754 total order for float (so
 *  NaNs and -0.0 are ordered too), bytewise then by length for str and bin.
 *  @return <0, 0 or >0. 0 means the values are identical. */
int cs_value_compare(const cs_value_t *a, const cs_value_t *b);

/** True if @p v is within the limits: string/binary at most CS_VALUE_MAX
 *  bytes, strings valid UTF-8. */
bool cs_value_is_valid(const cs_value_t *v);

/** True if the @p len bytes at @p s are valid UTF-8 (no overlongs, no
 *  surrogates, nothing above U+10FFFF). NUL bytes are allowed. */
bool cs_utf8_is_valid(const char *s, size_t len);

/** How many of the @p len bytes at @p s come before the first that is not
 *  ASCII (0x80 or over): @p len if all are ASCII. */
size_t cs_utf8_ascii_span(const char *s, size_t len);

/** The length of the longest prefix of the @p len bytes at @p s that is
 *  valid UTF-8 (@p len if all of it is); *@p cut is true if the bytes
 *  after it begin a character that is valid so far but ends with the
 *  input (so more input may complete it). A byte loop: for a yes or no on
 *  long input, cs_utf8_is_valid is faster. */
size_t cs_utf8_valid_prefix(const char *s, size_t len, bool *cut);

#endif /* CS_VALUE_H */
