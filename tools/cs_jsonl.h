/*  cs_jsonl - streaming reader of JSON Lines exports.
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. One JSON object per line (LF or CRLF), UTF-8;
 *  a leading BOM is stripped, blank lines are skipped. Each member becomes a
 *  column in the object's key order: strings, true/false and null keep
 *  their type; integers that fit int64 are integers, other numbers floats,
 *  except integers beyond int64, which are kept exactly as strings of their
 *  digits; nested objects and arrays are kept as their JSON text, exactly as
 *  written in the input. A line that is not one object, is invalid JSON or
 *  UTF-8, repeats a key, nests deeper than max_depth or is longer than
 *  max_line_bytes is a bad row; the reader goes on with the next line.
 */
#ifndef CS_JSONL_H
#define CS_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"
#include "tools/cs_row.h"

typedef struct {
    size_t max_line_bytes; /* 0: 16 MiB */
    size_t max_depth;      /* 0: 64 */
    size_t max_keys;       /* 0: 4096 */
} cs_jsonl_opts_t;

typedef struct cs_jsonl cs_jsonl_t; /* opaque */

/** Start reading @p fd (not closed by the reader) named @p name. @p opts
 *  may be NULL. Reads from the fd's current position, which counts as its
 *  offset (0 for a pipe); the first read happens here.
 *  @return CS_OK; CS_EINVAL for fd < 0 or max_line_bytes over 1 GiB;
 *  CS_EIO if the first read fails (detail on stderr). */
CS_NODISCARD int cs_jsonl_open(int fd, const char *name,
                               const cs_jsonl_opts_t *opts,
                               cs_jsonl_t **self_p);

/** Free *self_p and set it to NULL. Safe on NULL. */
void cs_jsonl_destroy(cs_jsonl_t **self_p);

/** The next row (row->quoted is NULL). Same returns as cs_csv_next.
 *  row->raw is the line without its LF or CRLF (and without the BOM, so
 *  the first row's offset is then 3); for a line over max_line_bytes it is
 *  only the line's first 4096 bytes. row->error points into the reader,
 *  valid until the next call; where it says "at byte N", N counts from
 *  row->raw, 0-based. Strings are not held to CS_VALUE_MAX here: check
 *  values with cs_value_is_valid before storing them. max_depth counts the
 *  line's object as level 1. */
CS_NODISCARD int cs_jsonl_next(cs_jsonl_t *self, cs_row_t *row);

/** Continue at byte @p offset, the start of physical line @p line (e.g.
 *  a row's end_offset and line + 1). A BOM is stripped again at offset 0.
 *  @return CS_OK, CS_EINVAL if the input cannot seek (or line is 0),
 *  CS_EIO. */
CS_NODISCARD int cs_jsonl_seek(cs_jsonl_t *self, uint64_t offset,
                               uint64_t line);

#endif /* CS_JSONL_H */
