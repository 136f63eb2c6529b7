/*  fuzz_jsonl_reader - untrusted bytes through the JSON Lines reader.
 *  SPDX-License-Identifier: MIT
 *
 *  The first byte picks small limits (line length, depth, keys); the rest
 *  is the input file, given to cs_jsonl through a memfd. Every row is read.
 *  The reader must never crash, leak or hang, and its rows must hold up:
 *  rows move forward through the input, raw text is the input's bytes,
 *  good rows have valid UTF-8 strings and distinct non-empty keys. Then the
 *  reader seeks to the end of one row, as a resumed seed does, and must
 *  give the same rows again from there.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/cs_jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What is compared between the first pass and the resumed one. */
typedef struct {
    int rc;              /* cs_jsonl_next's return */
    uint64_t line;       /* row.line */
    uint64_t offset;     /* row.offset */
    uint64_t end_offset; /* row.end_offset */
    uint32_t error_hash; /* of row.error, 0 for none */
} s_seen_t;

static void
s_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static uint32_t
s_hash(const char *text)
{
    uint32_t hash = 2166136261u;
    for (; text && *text; text++) {
        hash = (hash ^ (unsigned char) *text) * 16777619u;
    }
    return hash | 1u;
}

static void
s_check_row(const cs_row_t *row, int rc, const uint8_t *input, size_t size,
            uint64_t previous_end)
{
    s_check(row->quoted == NULL);
    s_check(row->offset >= previous_end);
    s_check(row->end_offset > row->offset);
    s_check(row->end_offset <= size);
    s_check(row->offset + row->raw_len <= size);
    s_check(row->raw_len == 0 ||
            memcmp(row->raw, input + row->offset, row->raw_len) == 0);
    if (rc != CS_OK) {
        s_check(row->error != NULL && row->error[0] != '\0');
        s_check(row->count == 0);
        return;
    }
    s_check(row->error == NULL);
    for (size_t i = 0; i < row->count; i++) {
        size_t len = strlen(row->names[i]);
        s_check(len > 0 && cs_utf8_is_valid(row->names[i], len));
        for (size_t k = 0; k < i; k++) {
            s_check(strcmp(row->names[i], row->names[k]) != 0);
        }
        const cs_value_t *value = &row->values[i];
        s_check(value->type != CS_VALUE_BIN);
        if (value->type == CS_VALUE_STR) {
            s_check(cs_utf8_is_valid(value->u.s.ptr, value->u.s.len));
        }
    }
}

/*  Read every row; remember up to @p cap of them in @p seen. */
static size_t
s_read_all(cs_jsonl_t *reader, const uint8_t *input, size_t size,
           uint64_t start, s_seen_t *seen, size_t cap)
{
    size_t count = 0;
    uint64_t end = start;
    while (true) {
        cs_row_t row;
        int rc = cs_jsonl_next(reader, &row);
        if (rc == CS_ENOENT) {
            break;
        }
        s_check(rc == CS_OK || rc == CS_EPROTO);
        s_check_row(&row, rc, input, size, end);
        end = row.end_offset;
        if (count < cap) {
            seen[count] = (s_seen_t){ rc, row.line, row.offset, row.end_offset,
                                      s_hash(row.error) };
        }
        count++;
    }
    return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    static const size_t lines[] = { 4096, 8, 64, 300 };
    static const size_t depths[] = { 0, 1, 2, 5 };
    static const size_t keys[] = { 0, 1, 3, 50 };
    cs_jsonl_opts_t opts = { lines[data[0] & 3], depths[data[0] >> 2 & 3],
                             keys[data[0] >> 4 & 3] };
    size_t resume_at = data[0] >> 6; /* resume after row 0..3 */
    const uint8_t *input = data + 1;
    size_t input_size = size - 1;

    int fd = memfd_create("fuzz_jsonl", MFD_CLOEXEC);
    s_check(fd >= 0);
    size_t done = 0;
    while (done < input_size) {
        ssize_t n = write(fd, input + done, input_size - done);
        s_check(n > 0);
        done += (size_t) n;
    }
    s_check(lseek(fd, 0, SEEK_SET) == 0);

    enum { SEEN_MAX = 256 };
    s_seen_t *first = calloc(SEEN_MAX, sizeof *first);
    s_seen_t *again = calloc(SEEN_MAX, sizeof *again);
    s_check(first && again);
    cs_jsonl_t *reader = NULL;
    s_check(cs_jsonl_open(fd, "fuzz", &opts, &reader) == CS_OK);
    size_t count = s_read_all(reader, input, input_size, 0, first, SEEN_MAX);
    if (count > resume_at && count <= SEEN_MAX) {
        const s_seen_t *from = &first[resume_at];
        s_check(cs_jsonl_seek(reader, from->end_offset, from->line + 1) ==
                CS_OK);
        size_t rest = s_read_all(reader, input, input_size, from->end_offset,
                                 again, SEEN_MAX);
        s_check(rest == count - resume_at - 1);
        for (size_t i = 0; i < rest; i++) {
            const s_seen_t *a = &first[resume_at + 1 + i];
            const s_seen_t *b = &again[i];
            s_check(a->rc == b->rc && a->line == b->line &&
                    a->offset == b->offset && a->end_offset == b->end_offset &&
                    a->error_hash == b->error_hash);
        }
    }
    cs_jsonl_destroy(&reader);
    free(first);
    free(again);
    close(fd);
    return 0;
}
