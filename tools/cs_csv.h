/*  cs_csv - streaming reader of CSV exports: RFC 4180 and the dialects
 *  real CRM exports use, with encoding and delimiter detection.
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. Reads from a file descriptor in large
 *  chunks, in bounded memory whatever the file size. Accepts quoted fields
 *  with embedded delimiters, doubled quotes and line breaks (LF, CRLF or a
 *  lone CR inside quotes); rows end with LF or CRLF. A UTF-8 BOM is
 *  stripped; a UTF-16LE BOM selects UTF-16LE. Values come out as UTF-8.
 *
 *  The first row is the header: it names the columns. A later row whose
 *  column count differs, or that holds a NUL, invalid bytes for the
 *  encoding, a field over max_field_bytes or a quote left open past
 *  max_row_bytes is returned as a bad row (row->error says why) and the
 *  reader carries on with the next row.
 *
 *  The dialect, where RFC 4180 is silent or strict (chosen to agree with
 *  papaparse, which tests/import/test_csv_papaparse.sh checks):
 *  - A quote inside an unquoted field is an ordinary character (ab"c),
 *    and so is one after leading spaces ( "x" is the text  "x").
 *  - Spaces and tabs between a closing quote and the delimiter or row end
 *    are dropped ("ab"  ,x gives ab). Any other text after a closing quote
 *    ("ab"c) makes the row bad: "text after closing quote".
 *  - Rows end with LF or CRLF. A lone CR outside quotes is text in the
 *    field, unless the header line itself ends with a lone CR (old Mac
 *    exports): then CR, LF and CRLF all end rows.
 *  - Blank lines (nothing between two line ends) are skipped anywhere; a
 *    line of spaces or a lone "" is a row. A last row needs no line end,
 *    and a line end at the end of the input makes no extra row.
 *  - A quote left open to the end of the input, or past max_row_bytes
 *    from the row's start, makes a bad row ("unbalanced quote") whose raw
 *    text is the row's first physical line; reading goes on at the line
 *    after it, so one stray quote costs one line, not the rest of the
 *    file. A row longer than max_row_bytes without an open quote is bad
 *    ("row over the limit") and reading goes on the same way; if its
 *    first line alone is longer, raw holds the line's first max_row_bytes
 *    bytes and the rest of the line is dropped.
 *  - A row's line is the physical line it starts on, 1-based, counting
 *    LF, CRLF and lone CR (inside quotes too) as one line break each.
 *    offset and end_offset are byte offsets in the file (the fd's offset
 *    at open counts as what it is: a file read from its start has offset
 *    0 at its first byte, BOM included), end_offset just past the row's
 *    line end. For UTF-16LE input they count bytes of the UTF-8 text the
 *    input was converted to (BOM excluded), and raw is that UTF-8 text.
 *  - raw never includes the row's line end. For Windows-1252 and
 *    ISO-8859-1, raw is the input bytes, not UTF-8.
 *  - A bad row has count 0: only line, offset, end_offset, raw, raw_len,
 *    error and names are set. error is static text or text in the reader,
 *    valid until the next call.
 */
#ifndef CS_CSV_H
#define CS_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"
#include "tools/cs_row.h"

/* AUTO: a BOM decides (EF BB BF: UTF-8, FF FE: UTF-16LE; FE FF, UTF-16BE,
 * is refused). Without one, a regular file is checked for UTF-8 to its end
 * (pread, so the file offset does not move; about 0.15 s of CPU per 250 MB
 * from the page cache, but a second read of the file from disk), other
 * input on its first 1 MiB. Not valid UTF-8: Windows-1252, with a notice
 * on stderr. A given encoding is used as is: a BOM is stripped only if it
 * is the BOM of that encoding. */
typedef enum {
    CS_CSV_ENC_AUTO = 0,     /* BOM decides; else UTF-8 if the input is
                                valid UTF-8; else Windows-1252 */
    CS_CSV_ENC_UTF8,         /* UTF-8, BOM optional */
    CS_CSV_ENC_WINDOWS_1252, /* old Excel "CSV"; ISO-8859-1 is read as it */
    CS_CSV_ENC_ISO_8859_1,   /* strict Latin-1 (C1 controls kept) */
    CS_CSV_ENC_UTF16LE,      /* with or without FF FE */
} cs_csv_encoding_t;

typedef struct {
    int delimiter;              /* byte; 0: sniff , ; TAB | from the header */
    int quote;                  /* byte; 0: '"' */
    cs_csv_encoding_t encoding; /* see above */
    size_t max_field_bytes;     /* 0: CS_VALUE_MAX */
    size_t max_row_bytes;       /* 0: 16 MiB */
    size_t max_columns;         /* 0: 4096 */
} cs_csv_opts_t;

typedef struct cs_csv cs_csv_t; /* opaque */

/** Start reading @p fd (not closed by the reader) named @p name (for
 *  messages), reading the header row. @p opts may be NULL. Messages go to
 *  stderr as "crmsync: seed: NAME: ...".
 *  @return CS_OK; CS_EPROTO if there is no usable header (empty input,
 *  bad header row, an empty or repeated column name, more than
 *  max_columns, a UTF-16BE BOM: detail on stderr); CS_EINVAL for bad
 *  options (delimiter or quote not ASCII, CR, LF or equal, max_row_bytes
 *  over 1 GiB); CS_EIO.
 *  @note Each read fills the buffer (1 MiB) unless the input ends, so on
 *  a pipe the reader waits for that much or the end: it is for batch
 *  loads, not for input typed at a terminal. */
CS_NODISCARD int cs_csv_open(int fd, const char *name,
                             const cs_csv_opts_t *opts, cs_csv_t **self_p);

/** Free *self_p and set it to NULL. Safe on NULL. */
void cs_csv_destroy(cs_csv_t **self_p);

/** The next data row in @p row (valid until the next call).
 *  @return CS_OK for a good row; CS_EPROTO for a bad row (row->error,
 *  row->line, row->offset and row->raw are set); CS_ENOENT at the end;
 *  CS_EIO on a read error (detail on stderr). */
CS_NODISCARD int cs_csv_next(cs_csv_t *self, cs_row_t *row);

/** Column names from the header (UTF-8, BOM stripped), and their count. */
const char *const *cs_csv_columns(const cs_csv_t *self, size_t *count);

/** The delimiter in use (given or sniffed). */
int cs_csv_delimiter(const cs_csv_t *self);

/** The encoding in use (given or detected), and whether a BOM was seen. */
cs_csv_encoding_t cs_csv_encoding(const cs_csv_t *self, bool *had_bom);

/** Printable name of an encoding: "utf-8", "windows-1252", ... */
const char *cs_csv_encoding_name(cs_csv_encoding_t encoding);

/** Parse an encoding name as --encoding takes it ("auto", "utf-8",
 *  "windows-1252", "iso-8859-1", "utf-16le", case-insensitive; also
 *  "utf8", "cp1252", "utf16le").
 *  @return CS_OK or CS_EINVAL. */
CS_NODISCARD int cs_csv_encoding_parse(const char *name,
                                       cs_csv_encoding_t *encoding);

/** Where reading goes on after the last row returned (or after the
 *  header): the byte offset (that row's end_offset) and the physical line
 *  there, to save for cs_csv_seek. Either pointer may be NULL. */
void cs_csv_position(const cs_csv_t *self, uint64_t *offset, uint64_t *line);

/** Continue reading at byte @p offset, the start of a row on physical line
 *  @p line (both from an earlier row's end_offset / position), for a
 *  resumed seed. Needs a seekable input. The header, delimiter and
 *  encoding stay as they were found at open.
 *  @return CS_OK; CS_EINVAL if the input cannot seek or the encoding is
 *  UTF-16LE (the caller then skips rows instead); CS_EIO. */
CS_NODISCARD int cs_csv_seek(cs_csv_t *self, uint64_t offset, uint64_t line);

#endif /* CS_CSV_H */
