/*  cs_row - one row of a legacy export, as the seed's readers give it.
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. Both readers (cs_csv for CSV, cs_jsonl for
 *  JSON Lines) hand out rows in this shape, so the seed maps either the
 *  same way. Everything a row points to is owned by its reader and valid
 *  until the reader's next call.
 */
#ifndef CS_ROW_H
#define CS_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_value.h"

typedef struct {
    size_t count;              /* columns in this row */
    const char *const *names;  /* column names, NUL-terminated UTF-8: the
                                  CSV header, or the JSON object's keys */
    const cs_value_t *values;  /* CSV: strings (UTF-8); JSONL: typed
                                  scalars, nested values as JSON text */
    const bool *quoted;        /* CSV: the field was quoted; NULL for JSONL */
    uint64_t line;             /* physical line the row starts on, 1-based */
    uint64_t offset;           /* byte offset of the row in the input */
    uint64_t end_offset;       /* byte offset just past the row */
    const char *raw;           /* the row's text as read (for rejects) */
    size_t raw_len;            /* bytes at raw */
    const char *error;         /* NULL for a good row; else why it is bad
                                  (static text, e.g. "unbalanced quote",
                                  or text owned by the reader, valid
                                  until its next call) */
} cs_row_t;

#endif /* CS_ROW_H */
