/*  fuzz_csv_reader - untrusted bytes through the seed's CSV reader.
 *  SPDX-License-Identifier: MIT
 *
 *  The first byte chooses the dialect and how the bytes arrive:
 *    bits 0-2  encoding: auto, utf-8, windows-1252, iso-8859-1, utf-16le
 *              (5-7: auto)
 *    bits 3-4  delimiter: sniffed, ',', ';', TAB
 *    bit 5     quote: '"' or '\''
 *    bit 6     a pipe (inputs up to 60000 bytes) instead of a memfd
 *    bit 7     tiny limits (row 64, field 16, columns 8) instead of small
 *              ones (row 64 KiB, field 4 KiB, columns 256)
 *  The rest is the file. Every row must be reported as good or bad, never
 *  an I/O error; a good row has the header's column count and values that
 *  are valid UTF-8 within max_field_bytes; every row moves the offset
 *  forward (so the reader cannot loop), lines never go back. On a memfd,
 *  seeking back to after the first row must give the same rows again.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crdt/cs_value.h"
#include "tools/cs_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_PIPE_MAX 60000u /* below the pipe buffer: write() never blocks */
#define S_ROWS_MAX 4096u  /* rows whose positions are compared on reread */

static void
s_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static int
s_input_fd(const uint8_t *data, size_t size, bool use_pipe)
{
    if (use_pipe && size <= S_PIPE_MAX) {
        int fds[2];
        s_check(pipe(fds) == 0);
        s_check(size == 0 || write(fds[1], data, size) == (ssize_t) size);
        close(fds[1]);
        return fds[0];
    }
    int fd = memfd_create("fuzz_csv_reader", MFD_CLOEXEC);
    s_check(fd >= 0);
    s_check(size == 0 || write(fd, data, size) == (ssize_t) size);
    s_check(lseek(fd, 0, SEEK_SET) == 0);
    return fd;
}

/*  Read every row, checking each. Fills @p ends with the rows' end
 *  offsets (up to S_ROWS_MAX). @return rows read. */
static size_t
s_read_all(cs_csv_t *csv, const cs_csv_opts_t *opts, size_t input_size,
           uint64_t *ends)
{
    size_t columns = 0;
    const char *const *names = cs_csv_columns(csv, &columns);
    s_check(columns >= 1 && columns <= opts->max_columns);
    for (size_t i = 0; i < columns; i++) {
        s_check(names[i][0] != '\0');
        s_check(cs_utf8_is_valid(names[i], strlen(names[i])));
    }
    uint64_t last_end = 0, last_line = 0;
    cs_csv_position(csv, &last_end, &last_line);
    size_t rows = 0;
    while (true) {
        cs_row_t row;
        int rc = cs_csv_next(csv, &row);
        if (rc == CS_ENOENT) {
            break;
        }
        s_check(rc == CS_OK || rc == CS_EPROTO);
        s_check(row.offset >= last_end && row.end_offset > row.offset);
        s_check(row.line >= last_line);
        s_check(row.raw_len <= row.end_offset - row.offset);
        /* UTF-16LE turns into at most 3/2 as many UTF-8 bytes */
        s_check(row.end_offset <= 2 * (uint64_t) input_size);
        if (rc == CS_OK) {
            s_check(row.error == NULL && row.count == columns);
            s_check(row.names == names);
            for (size_t i = 0; i < row.count; i++) {
                const cs_value_t *value = &row.values[i];
                s_check(value->type == CS_VALUE_STR);
                s_check(value->u.s.len <= opts->max_field_bytes);
                s_check(cs_utf8_is_valid(value->u.s.ptr, value->u.s.len));
                s_check(memchr(value->u.s.ptr, '\0', value->u.s.len) == NULL);
            }
        } else {
            s_check(row.error != NULL && row.count == 0);
        }
        uint64_t at = 0, line = 0;
        cs_csv_position(csv, &at, &line);
        s_check(at == row.end_offset && line >= row.line);
        if (rows < S_ROWS_MAX) {
            ends[rows] = row.end_offset;
        }
        rows++;
        last_end = row.end_offset;
        last_line = line;
        s_check(rows <= input_size + 1);
    }
    return rows;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cs_csv_encoding_t encodings[8] = {
        CS_CSV_ENC_AUTO,       CS_CSV_ENC_UTF8,    CS_CSV_ENC_WINDOWS_1252,
        CS_CSV_ENC_ISO_8859_1, CS_CSV_ENC_UTF16LE, CS_CSV_ENC_AUTO,
        CS_CSV_ENC_AUTO,       CS_CSV_ENC_AUTO,
    };
    static const int delimiters[4] = { 0, ',', ';', '\t' };
    if (size == 0) {
        return 0;
    }
    uint8_t mode = data[0];
    data++;
    size--;
    cs_csv_opts_t opts;
    memset(&opts, 0, sizeof opts);
    opts.encoding = encodings[mode & 7];
    opts.delimiter = delimiters[(mode >> 3) & 3];
    opts.quote = mode & 0x20 ? '\'' : '"';
    bool tiny = mode & 0x80;
    opts.max_row_bytes = tiny ? 64 : 64 * 1024;
    opts.max_field_bytes = tiny ? 16 : 4096;
    opts.max_columns = tiny ? 8 : 256;
    bool use_pipe = mode & 0x40;

    int fd = s_input_fd(data, size, use_pipe);
    cs_csv_t *csv = NULL;
    int rc = cs_csv_open(fd, "fuzz.csv", &opts, &csv);
    s_check(rc == CS_OK || rc == CS_EPROTO);
    if (rc != CS_OK) {
        s_check(csv == NULL);
        close(fd);
        return 0;
    }
    uint64_t *ends = malloc(S_ROWS_MAX * sizeof *ends);
    s_check(ends != NULL);
    size_t rows = s_read_all(csv, &opts, size, ends);

    bool can_seek = cs_csv_encoding(csv, NULL) != CS_CSV_ENC_UTF16LE &&
                    !(use_pipe && size <= S_PIPE_MAX);
    if (rows >= 1 && rows <= S_ROWS_MAX) {
        /* resume after the first row: the same rows must follow */
        uint64_t *again = malloc(S_ROWS_MAX * sizeof *again);
        s_check(again != NULL);
        int seek_rc = cs_csv_seek(csv, ends[0], 2);
        s_check(seek_rc == (can_seek ? CS_OK : CS_EINVAL));
        if (seek_rc == CS_OK) {
            size_t more = s_read_all(csv, &opts, size, again);
            s_check(more == rows - 1);
            s_check(memcmp(again, ends + 1, more * sizeof *again) == 0);
        }
        free(again);
    }
    free(ends);
    cs_csv_destroy(&csv);
    s_check(csv == NULL);
    close(fd);
    return 0;
}
