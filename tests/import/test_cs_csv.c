/*  test_cs_csv - the CSV reader of crmsync seed.
 *  SPDX-License-Identifier: MIT
 *
 *  Each case writes its input to an unlinked temporary file (or a pipe)
 *  and reads it back with cs_csv. Rows are compared in a compact text form,
 *  one per line:
 *      LINE@OFFSET-END_OFFSET {value|value|...}     a good row
 *      LINE@OFFSET-END_OFFSET !error [raw]          a bad row
 *  with \n, \r, \t, | and \ escaped in values and raw text. This file is
 *  built twice: as is, and with cs_csv.c compiled in with a 16-byte buffer
 *  to start with (test_cs_csv_small_chunks), so that every row crosses
 *  buffer ends and the buffer grows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cs_csv.h"

/* ---------------- helpers ---------------- */

typedef struct {
    char *data; /* text */
    size_t len; /* bytes */
    size_t cap; /* bytes at data */
} s_text_t;

static void
s_add(s_text_t *text, const char *s, size_t n)
{
    if (text->cap - text->len < n + 1) {
        size_t cap = text->cap ? text->cap : 256;
        while (cap - text->len < n + 1) {
            cap *= 2;
        }
        text->data = realloc(text->data, cap);
        assert_non_null(text->data);
        text->cap = cap;
    }
    memcpy(text->data + text->len, s, n);
    text->len += n;
    text->data[text->len] = '\0';
}

static void s_addf(s_text_t *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
s_adds(s_text_t *text, const char *s)
{
    s_add(text, s, strlen(s));
}

static void
s_addf(s_text_t *text, const char *fmt, ...)
{
    char buf[256];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    assert_true(n >= 0 && (size_t) n < sizeof buf);
    s_add(text, buf, (size_t) n);
}

static void
s_add_escaped(s_text_t *text, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\n':
            s_add(text, "\\n", 2);
            break;
        case '\r':
            s_add(text, "\\r", 2);
            break;
        case '\t':
            s_add(text, "\\t", 2);
            break;
        case '|':
            s_add(text, "\\|", 2);
            break;
        case '\\':
            s_add(text, "\\\\", 2);
            break;
        case '\0':
            s_add(text, "\\0", 2);
            break;
        default:
            s_add(text, s + i, 1);
        }
    }
}

/*  An unlinked temporary file holding @p len bytes at @p data, at offset 0. */
static int
s_file(const void *data, size_t len)
{
    char path[] = "/tmp/test_cs_csv.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        assert_true(n > 0);
        p += n;
        left -= (size_t) n;
    }
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

typedef struct {
    int fd;           /* write end */
    const char *data; /* to write */
    size_t len;       /* bytes */
    size_t piece;     /* bytes per write() */
} s_writer_t;

static void *
s_writer_main(void *arg)
{
    s_writer_t *writer = arg;
    size_t done = 0;
    while (done < writer->len) {
        size_t n = writer->len - done;
        n = n < writer->piece ? n : writer->piece;
        ssize_t got = write(writer->fd, writer->data + done, n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        done += (size_t) got;
    }
    close(writer->fd);
    return NULL;
}

/*  A pipe fed by a thread writing @p piece bytes at a time. */
typedef struct {
    pthread_t thread; /* the writer */
    s_writer_t writer;
    int fd; /* read end */
} s_pipe_t;

static void
s_pipe_start(s_pipe_t *pipe_, const void *data, size_t len, size_t piece)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pipe_->fd = fds[0];
    pipe_->writer.fd = fds[1];
    pipe_->writer.data = data;
    pipe_->writer.len = len;
    pipe_->writer.piece = piece;
    assert_int_equal(
        pthread_create(&pipe_->thread, NULL, s_writer_main, &pipe_->writer), 0);
}

static void
s_pipe_finish(s_pipe_t *pipe_)
{
    close(pipe_->fd); /* a writer still blocked gets EPIPE */
    pthread_join(pipe_->thread, NULL);
}

/*  Every remaining row of @p csv in the compact text form. */
static char *
s_rows(cs_csv_t *csv)
{
    s_text_t text = { NULL, 0, 0 };
    s_adds(&text, "");
    while (true) {
        cs_row_t row;
        int rc = cs_csv_next(csv, &row);
        if (rc == CS_ENOENT) {
            break;
        }
        s_addf(&text, "%llu@%llu-%llu ", (unsigned long long) row.line,
               (unsigned long long) row.offset,
               (unsigned long long) row.end_offset);
        if (rc == CS_EPROTO) {
            assert_non_null(row.error);
            assert_int_equal(row.count, 0);
            s_addf(&text, "!%s [", row.error);
            s_add_escaped(&text, row.raw, row.raw_len);
            s_adds(&text, "]\n");
            continue;
        }
        assert_int_equal(rc, CS_OK);
        assert_null(row.error);
        size_t columns = 0;
        cs_csv_columns(csv, &columns);
        assert_int_equal(row.count, columns);
        s_adds(&text, "{");
        for (size_t i = 0; i < row.count; i++) {
            assert_int_equal(row.values[i].type, CS_VALUE_STR);
            if (i > 0) {
                s_adds(&text, "|");
            }
            s_add_escaped(&text, row.values[i].u.s.ptr, row.values[i].u.s.len);
        }
        s_adds(&text, "}\n");
    }
    return text.data;
}

/*  The header's names joined with '|'. */
static char *
s_columns(const cs_csv_t *csv)
{
    s_text_t text = { NULL, 0, 0 };
    size_t count = 0;
    const char *const *names = cs_csv_columns(csv, &count);
    s_adds(&text, "");
    for (size_t i = 0; i < count; i++) {
        if (i > 0) {
            s_adds(&text, "|");
        }
        s_add_escaped(&text, names[i], strlen(names[i]));
    }
    return text.data;
}

/*  Read @p len bytes at @p data (a file) and check the header and rows. */
static void
s_check_n(const char *data, size_t len, const cs_csv_opts_t *opts,
          const char *columns, const char *rows)
{
    int fd = s_file(data, len);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "test.csv", opts, &csv), CS_OK);
    char *got = s_columns(csv);
    assert_string_equal(got, columns);
    free(got);
    got = s_rows(csv);
    assert_string_equal(got, rows);
    free(got);
    cs_row_t row;
    assert_int_equal(cs_csv_next(csv, &row), CS_ENOENT);
    cs_csv_destroy(&csv);
    assert_null(csv);
    close(fd);
}

static void
s_check(const char *data, const cs_csv_opts_t *opts, const char *columns,
        const char *rows)
{
    s_check_n(data, strlen(data), opts, columns, rows);
}

/*  cs_csv_open on @p data must fail with @p expected. */
static void
s_check_open_fails(const char *data, size_t len, const cs_csv_opts_t *opts,
                   int expected)
{
    int fd = s_file(data, len);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "bad.csv", opts, &csv), expected);
    assert_null(csv);
    close(fd);
}

/*  @p utf8 (NUL-terminated) in UTF-16LE, in a new buffer. */
static char *
s_utf16le(const char *utf8, bool bom, size_t *len_out)
{
    size_t in_len = strlen(utf8);
    size_t cap = in_len * 4 + 4;
    char *out = malloc(cap);
    assert_non_null(out);
    char *at = out;
    if (bom) {
        *at++ = (char) 0xFF;
        *at++ = (char) 0xFE;
    }
    iconv_t cd = iconv_open("UTF-16LE", "UTF-8");
    assert_true(cd != (iconv_t) -1);
    char *in = (char *) (uintptr_t) utf8;
    size_t in_left = in_len;
    size_t out_left = cap - (size_t) (at - out);
    assert_true(iconv(cd, &in, &in_left, &at, &out_left) != (size_t) -1);
    iconv_close(cd);
    *len_out = (size_t) (at - out);
    return out;
}

static cs_csv_opts_t
s_opts(cs_csv_encoding_t encoding)
{
    cs_csv_opts_t opts;
    memset(&opts, 0, sizeof opts);
    opts.encoding = encoding;
    return opts;
}

/* ---------------- RFC 4180 ---------------- */

static void
test_csv_rfc4180_fields(void **state)
{
    (void) state;
    s_check("name,city,note\n"
            "Ann,\"Anytown, WW\",\"say \"\"hi\"\"\"\n"
            "\"Bob\",,\"two\nlines\"\n"
            "\"\",\"\"\"\",x\n",
            NULL, "name|city|note",
            "2@15-46 {Ann|Anytown, WW|say \"hi\"}\n"
            "3@46-65 {Bob||two\\nlines}\n"
            "5@65-75 {|\"|x}\n");
}

static void
test_csv_quoted_flags_and_columns(void **state)
{
    (void) state;
    const char *data = "a,b,c\n\"1\",2,\"\"\n";
    int fd = s_file(data, strlen(data));
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "t.csv", NULL, &csv), CS_OK);
    size_t count = 0;
    const char *const *names = cs_csv_columns(csv, &count);
    assert_int_equal(count, 3);
    assert_string_equal(names[2], "c");
    uint64_t offset = 0, line = 0;
    cs_csv_position(csv, &offset, &line);
    assert_int_equal(offset, 6);
    assert_int_equal(line, 2);
    cs_row_t row;
    assert_int_equal(cs_csv_next(csv, &row), CS_OK);
    assert_ptr_equal(row.names, names);
    assert_non_null(row.quoted);
    assert_true(row.quoted[0]);
    assert_false(row.quoted[1]);
    assert_true(row.quoted[2]);
    assert_int_equal(row.values[2].u.s.len, 0);
    assert_int_equal(row.raw_len, 8);
    assert_memory_equal(row.raw, "\"1\",2,\"\"", 8);
    cs_csv_position(csv, &offset, &line);
    assert_int_equal(offset, 15);
    assert_int_equal(line, 3);
    assert_int_equal(cs_csv_next(csv, &row), CS_ENOENT);
    cs_csv_destroy(&csv);
    cs_csv_destroy(&csv); /* harmless twice */
    close(fd);
}

static void
test_csv_crlf_and_lf_rows(void **state)
{
    (void) state;
    s_check("a,b\r\n1,2\r\n3,4\n5,6\r\n", NULL, "a|b",
            "2@5-10 {1|2}\n3@10-14 {3|4}\n4@14-19 {5|6}\n");
    /* CRLF inside quotes is kept as it is */
    s_check("a,b\r\n\"x\r\ny\",2\r\n", NULL, "a|b", "2@5-15 {x\\r\\ny|2}\n");
}

static void
test_csv_lone_cr_inside_quotes(void **state)
{
    (void) state;
    /* a lone CR in quotes is text and a physical line break */
    s_check("a,b\n\"x\ry\",1\n2,3\n", NULL, "a|b",
            "2@4-12 {x\\ry|1}\n4@12-16 {2|3}\n");
}

static void
test_csv_lone_cr_outside_quotes_is_text(void **state)
{
    (void) state;
    s_check("a,b\n1\r2,3\n4,5\n", NULL, "a|b",
            "2@4-10 {1\\r2|3}\n4@10-14 {4|5}\n");
}

static void
test_csv_cr_row_ends_when_header_uses_them(void **state)
{
    (void) state;
    s_check("a,b\r1,2\r\"x\ny\",3\r4,5", NULL, "a|b",
            "2@4-8 {1|2}\n3@8-16 {x\\ny|3}\n5@16-19 {4|5}\n");
}

static void
test_csv_blank_lines_skipped(void **state)
{
    (void) state;
    s_check("\n\r\na,b\n\n1,2\r\n\r\n\n3,4\n\n", NULL, "a|b",
            "5@8-13 {1|2}\n8@16-20 {3|4}\n");
    /* a line of spaces is a row (here with the wrong column count) */
    s_check("a,b\n \n1,2\n", NULL, "a|b",
            "2@4-6 !wrong column count (1, header has 2) [ ]\n"
            "3@6-10 {1|2}\n");
    /* one column: an empty line is skipped, "" is an empty value */
    s_check("a\n\n\"\"\nx\n", NULL, "a", "3@3-6 {}\n4@6-8 {x}\n");
}

static void
test_csv_end_of_input(void **state)
{
    (void) state;
    s_check("a,b\n1,2", NULL, "a|b", "2@4-7 {1|2}\n");
    s_check("a,b\n1,", NULL, "a|b", "2@4-6 {1|}\n");
    s_check("a,b\n1,\"2\"", NULL, "a|b", "2@4-9 {1|2}\n");
    s_check("a,b\n1,\"2\"\r\n", NULL, "a|b", "2@4-11 {1|2}\n");
    s_check("a,b\n", NULL, "a|b", "");
    s_check("a,b", NULL, "a|b", "");
}

static void
test_csv_lenient_quotes(void **state)
{
    (void) state;
    /* a quote inside an unquoted field is a character; so is one after
     * leading spaces; spaces after a closing quote are dropped */
    s_check("a,b\nab\"c,d\n \"x\",y\n\"p\"  ,\"q\"\t\n", NULL, "a|b",
            "2@4-11 {ab\"c|d}\n3@11-18 { \"x\"|y}\n4@18-29 {p|q}\n");
}

static void
test_csv_custom_quote(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_AUTO);
    opts.quote = '\'';
    s_check("a,b\n'x,''y''',\"z\"\n", &opts, "a|b", "2@4-18 {x,'y'|\"z\"}\n");
}

/* ---------------- BOM, delimiters ---------------- */

static void
test_csv_utf8_bom_stripped(void **state)
{
    (void) state;
    const char *data = "\xEF\xBB\xBFId,Name\n1,Caf\xC3\xA9\n";
    int fd = s_file(data, strlen(data));
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "bom.csv", NULL, &csv), CS_OK);
    bool had_bom = false;
    assert_int_equal(cs_csv_encoding(csv, &had_bom), CS_CSV_ENC_UTF8);
    assert_true(had_bom);
    char *got = s_columns(csv);
    assert_string_equal(got, "Id|Name");
    free(got);
    got = s_rows(csv);
    assert_string_equal(got, "2@11-19 {1|Caf\xC3\xA9}\n");
    free(got);
    cs_csv_destroy(&csv);
    close(fd);
}

static void
s_check_sniff(const char *data, int expected)
{
    int fd = s_file(data, strlen(data));
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "sniff.csv", NULL, &csv), CS_OK);
    assert_int_equal(cs_csv_delimiter(csv), expected);
    cs_csv_destroy(&csv);
    close(fd);
}

static void
test_csv_delimiter_sniffed(void **state)
{
    (void) state;
    s_check_sniff("a,b,c\n1,2,3\n", ',');
    s_check_sniff("a;b;c\n1;2,5;3\n", ';');
    s_check_sniff("a\tb\tc\n1\t2\t3\n", '\t');
    s_check_sniff("a|b|c\n1|2|3\n", '|');
    s_check_sniff("abc\n1\n", ',');           /* none: ',' */
    s_check_sniff("a;b,c\n", ',');            /* ties in order , ; TAB | */
    s_check_sniff("a\tb|c\n", '\t');          /* TAB before | */
    s_check_sniff("\"x,y,z\";b\n1;2\n", ';'); /* quoted ones do not count */
    s_check_sniff("\"a\nb,c,d\";e\n1;2\n", ';');
    /* European Excel export */
    s_check("Name;Betrag\n\"M\xC3\xBCller; Hans\";\"1,50\"\n", NULL,
            "Name|Betrag", "2@12-35 {M\xC3\xBCller; Hans|1,50}\n");
}

static void
test_csv_delimiter_given(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_AUTO);
    opts.delimiter = '|';
    s_check("a,b|c\n1,2|3\n", &opts, "a,b|c", "2@6-12 {1,2|3}\n");
    opts.delimiter = '\t';
    s_check("a\tb\n,\t;\n", &opts, "a|b", "2@4-8 {,|;}\n");
}

/* ---------------- encodings ---------------- */

static void
test_csv_windows_1252(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_WINDOWS_1252);
    /* \x93Caf\xE9\x94 \x80 is "Café" € */
    s_check("name,price\n\x93"
            "Caf\xE9\x94 \x80,\"1\x80\"\n",
            &opts, "name|price",
            "2@11-25 {\xE2\x80\x9C"
            "Caf\xC3\xA9\xE2\x80\x9D \xE2\x82\xAC|1\xE2\x82\xAC}\n");
    /* header names are converted too */
    s_check("Stra\xDF"
            "e\nx\n",
            &opts,
            "Stra\xC3\x9F"
            "e",
            "2@7-9 {x}\n");
}

static void
test_csv_windows_1252_undefined_byte_is_bad(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_WINDOWS_1252);
    s_check("a\nx\x81y\nok\n", &opts, "a",
            "2@2-6 !invalid byte 0x81 for windows-1252 [x\x81y]\n"
            "3@6-9 {ok}\n");
}

static void
test_csv_iso_8859_1(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_ISO_8859_1);
    /* C1 controls stay C1 controls: 0x93 is U+0093, not a quote mark */
    s_check("a\n\x93\xE9\x81\n", &opts, "a",
            "2@2-6 {\xC2\x93\xC3\xA9\xC2\x81}\n");
}

static void
test_csv_utf16le_with_bom(void **state)
{
    (void) state;
    size_t len = 0;
    char *data =
        s_utf16le("Name,Note\r\n\"M\xC3\xBCller\",\"\xE2\x82\xAC 5\r\nok\"\r\n"
                  "\xF0\x9F\x98\x80,x\r\n",
                  true, &len);
    int fd = s_file(data, len);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "u16.csv", NULL, &csv), CS_OK);
    bool had_bom = false;
    assert_int_equal(cs_csv_encoding(csv, &had_bom), CS_CSV_ENC_UTF16LE);
    assert_true(had_bom);
    /* offsets count bytes of the UTF-8 text */
    char *got = s_rows(csv);
    assert_string_equal(got, "2@11-34 {M\xC3\xBC"
                             "ller|\xE2\x82\xAC 5\\r\\nok}\n"
                             "4@34-42 {\xF0\x9F\x98\x80|x}\n");
    free(got);
    assert_int_equal(cs_csv_seek(csv, 11, 2), CS_EINVAL);
    cs_csv_destroy(&csv);
    close(fd);
    free(data);

    /* given, without a BOM */
    data = s_utf16le("a\nb\xC3\xA9\n", false, &len);
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_UTF16LE);
    s_check_n(data, len, &opts, "a", "2@2-6 {b\xC3\xA9}\n");
    free(data);
}

static void
test_csv_utf16le_bad_units_are_bad_rows(void **state)
{
    (void) state;
    /* a, LF, then a lone low surrogate DC00, LF, then ok LF, then an odd
     * last byte */
    static const char data[] = "\xFF\xFE"
                               "a\0\n\0"
                               "\x00\xDC\n\0"
                               "o\0k\0\n\0"
                               "x";
    s_check_n(data, sizeof data - 1, NULL, "a",
              "2@2-4 !invalid UTF-16LE [\xFF]\n"
              "3@4-7 {ok}\n"
              "4@7-8 !invalid UTF-16LE [\xFF]\n");
    /* U+0000 is a NUL byte */
    static const char nul[] = "\xFF\xFE"
                              "a\0\n\0"
                              "\0\0\n\0";
    s_check_n(nul, sizeof nul - 1, NULL, "a", "2@2-4 !NUL byte [\\0]\n");
}

static void
test_csv_utf16be_refused(void **state)
{
    (void) state;
    s_check_open_fails("\xFE\xFF\0a\0\n", 6, NULL, CS_EPROTO);
}

static void
test_csv_auto_detects_utf8(void **state)
{
    (void) state;
    const char *data = "a,b\nCaf\xC3\xA9,\xE2\x82\xAC\n";
    int fd = s_file(data, strlen(data));
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "u8.csv", NULL, &csv), CS_OK);
    bool had_bom = true;
    assert_int_equal(cs_csv_encoding(csv, &had_bom), CS_CSV_ENC_UTF8);
    assert_false(had_bom);
    char *got = s_rows(csv);
    assert_string_equal(got, "2@4-14 {Caf\xC3\xA9|\xE2\x82\xAC}\n");
    free(got);
    cs_csv_destroy(&csv);
    close(fd);
}

/*  @p rows rows "N,ascii" then one with a Windows-1252 é: invalid UTF-8
 *  far beyond the first MiB. */
static char *
s_late_1252(size_t rows, size_t *len_out)
{
    s_text_t text = { NULL, 0, 0 };
    s_adds(&text, "id,name\n");
    for (size_t i = 0; i < rows; i++) {
        s_addf(&text, "%zu,Ren\xC3\xA9 number %zu of many\n", i, i);
    }
    s_adds(&text, "last,Ren\xE9\n");
    *len_out = text.len;
    return text.data;
}

static void
test_csv_auto_detects_windows_1252_in_a_whole_file(void **state)
{
    (void) state;
    size_t len = 0;
    char *data = s_late_1252(60000, &len);
    assert_true(len > 1024 * 1024 + 100000);
    int fd = s_file(data, len);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "late.csv", NULL, &csv), CS_OK);
    assert_int_equal(cs_csv_encoding(csv, NULL), CS_CSV_ENC_WINDOWS_1252);
    /* the file offset was not moved by the scan: the first row comes */
    cs_row_t row;
    assert_int_equal(cs_csv_next(csv, &row), CS_OK);
    assert_int_equal(row.line, 2);
    /* C3 A9 read as Windows-1252 */
    assert_int_equal(row.values[1].u.s.len, 24);
    assert_memory_equal(row.values[1].u.s.ptr, "Ren\xC3\x83\xC2\xA9", 7);
    size_t rows = 1;
    int rc;
    while ((rc = cs_csv_next(csv, &row)) == CS_OK) {
        rows++;
    }
    assert_int_equal(rc, CS_ENOENT);
    assert_int_equal(rows, 60001);
    cs_csv_destroy(&csv);
    close(fd);
    free(data);
}

/*  A file large enough to be scanned in two halves at once: all of it
 *  three-byte characters but for the header and newlines, so the middle
 *  mostly falls inside one (the header's length moves it: three of them);
 *  and one Windows-1252 byte in either half, or none. */
static void
test_csv_auto_scans_a_large_file_in_halves(void **state)
{
    (void) state;
    const char *headers[] = { "a\n", "ab\n", "abc\n" };
    for (size_t bad = 0; bad < 3; bad++) {
        for (size_t h = 0; h < 3; h++) {
            s_text_t text = { NULL, 0, 0 };
            s_adds(&text, headers[h]);
            size_t row = 0;
            while (text.len < (18u << 20)) {
                for (int k = 0; k < 30; k++) {
                    s_adds(&text, "\xE2\x82\xAC");
                }
                /* bad 1: a byte in the first half; bad 2: in the second */
                if ((bad == 1 && row == 60000) || (bad == 2 && row == 190000)) {
                    s_adds(&text, "\xE9");
                }
                s_adds(&text, "\n");
                row++;
            }
            int fd = s_file(text.data, text.len);
            cs_csv_t *csv = NULL;
            assert_int_equal(cs_csv_open(fd, "big.csv", NULL, &csv), CS_OK);
            assert_int_equal(cs_csv_encoding(csv, NULL),
                             bad ? CS_CSV_ENC_WINDOWS_1252 : CS_CSV_ENC_UTF8);
            cs_csv_destroy(&csv);
            close(fd);
            free(text.data);
        }
    }
}

static void
test_csv_auto_on_a_pipe_judges_the_first_mib(void **state)
{
    (void) state;
    size_t len = 0;
    char *data = s_late_1252(60000, &len);
    s_pipe_t feed;
    s_pipe_start(&feed, data, len, 65536);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(feed.fd, "-", NULL, &csv), CS_OK);
    assert_int_equal(cs_csv_encoding(csv, NULL), CS_CSV_ENC_UTF8);
    cs_row_t row;
    size_t good = 0;
    int rc;
    while ((rc = cs_csv_next(csv, &row)) == CS_OK) {
        good++;
    }
    assert_int_equal(good, 60000);
    assert_int_equal(rc, CS_EPROTO);
    assert_string_equal(row.error, "invalid UTF-8");
    assert_int_equal(row.line, 60002);
    assert_int_equal(row.end_offset, len);
    assert_int_equal(cs_csv_next(csv, &row), CS_ENOENT);
    /* a pipe cannot seek */
    assert_int_equal(cs_csv_seek(csv, 0, 1), CS_EINVAL);
    cs_csv_destroy(&csv);
    s_pipe_finish(&feed);
    free(data);
}

static void
test_csv_given_utf8_reports_invalid_bytes(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_UTF8);
    s_check("a,b\nCaf\xE9,1\n\xED\xA0\x80,2\n\xC0\xAF,3\nok,4\n", &opts, "a|b",
            "2@4-11 !invalid UTF-8 [Caf\xE9,1]\n"
            "3@11-17 !invalid UTF-8 [\xED\xA0\x80,2]\n"
            "4@17-22 !invalid UTF-8 [\xC0\xAF,3]\n"
            "5@22-27 {ok|4}\n");
}

/* ---------------- bad rows ---------------- */

static void
test_csv_unbalanced_quote_costs_one_line(void **state)
{
    (void) state;
    s_check("a,b\n1,\"open\n2,3\n4,5\n", NULL, "a|b",
            "2@4-12 !unbalanced quote [1,\"open]\n"
            "3@12-16 {2|3}\n4@16-20 {4|5}\n");
    /* CRLF: the raw text has no line end */
    s_check("a,b\r\n\"x,1\r\n2,3\r\n", NULL, "a|b",
            "2@5-11 !unbalanced quote [\"x,1]\n3@11-16 {2|3}\n");
    /* on the last line */
    s_check("a,b\n1,2\n3,\"4", NULL, "a|b",
            "2@4-8 {1|2}\n3@8-12 !unbalanced quote [3,\"4]\n");
}

static void
test_csv_quote_open_past_the_row_limit(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_AUTO);
    opts.max_row_bytes = 32;
    s_text_t text = { NULL, 0, 0 };
    s_adds(&text, "a,b\n1,\"x\n");
    for (int i = 0; i < 10; i++) {
        s_adds(&text, "2,3456789\n");
    }
    s_check(text.data, &opts, "a|b",
            "2@4-9 !unbalanced quote (open past the row limit) [1,\"x]\n"
            "3@9-19 {2|3456789}\n4@19-29 {2|3456789}\n"
            "5@29-39 {2|3456789}\n6@39-49 {2|3456789}\n"
            "7@49-59 {2|3456789}\n8@59-69 {2|3456789}\n"
            "9@69-79 {2|3456789}\n10@79-89 {2|3456789}\n"
            "11@89-99 {2|3456789}\n12@99-109 {2|3456789}\n");
    free(text.data);
}

static void
test_csv_row_over_the_limit(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_AUTO);
    opts.max_row_bytes = 8;
    /* 8 bytes is fine, 9 is not; a long line is cut and dropped */
    s_check("a,b\n1234,678\n1234,6789\n1,2\n12345678901234567890,1\r\n"
            "\"x\n\",123456\n3,4\n",
            &opts, "a|b",
            "2@4-13 {1234|678}\n"
            "3@13-23 !row over the limit [1234,6789]\n"
            "4@23-27 {1|2}\n"
            "5@27-51 !row over the limit [12345678]\n"
            /* the quoted line break is inside the first 8 bytes, so the
             * row is cut at it; its second line then opens a quote that
             * stays open past the limit */
            "6@51-54 !row over the limit [\"x]\n"
            "7@54-63 !unbalanced quote (open past the row limit) "
            "[\",123456]\n"
            "8@63-67 {3|4}\n");
}

static void
test_csv_wrong_column_count(void **state)
{
    (void) state;
    s_check("a,b,c\n1,2\n1,2,3,4\n,,\n", NULL, "a|b|c",
            "2@6-10 !wrong column count (2, header has 3) [1,2]\n"
            "3@10-18 !wrong column count (4, header has 3) [1,2,3,4]\n"
            "4@18-21 {||}\n");
    /* many more fields than the header: counted, not stored */
    s_text_t text = { NULL, 0, 0 };
    s_adds(&text, "a\n");
    for (int i = 0; i < 5000; i++) {
        s_adds(&text, ",");
    }
    s_adds(&text, "\nz\n");
    int fd = s_file(text.data, text.len);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "wide.csv", NULL, &csv), CS_OK);
    cs_row_t row;
    assert_int_equal(cs_csv_next(csv, &row), CS_EPROTO);
    assert_string_equal(row.error, "wrong column count (5001, header has 1)");
    assert_int_equal(cs_csv_next(csv, &row), CS_OK);
    assert_memory_equal(row.values[0].u.s.ptr, "z", 1);
    cs_csv_destroy(&csv);
    close(fd);
    free(text.data);
}

static void
test_csv_nul_byte(void **state)
{
    (void) state;
    static const char data[] = "a,b\n1,x\0y\n\"p\0\",q\n2,3\n";
    s_check_n(data, sizeof data - 1, NULL, "a|b",
              "2@4-10 !NUL byte [1,x\\0y]\n"
              "3@10-17 !NUL byte [\"p\\0\",q]\n"
              "4@17-21 {2|3}\n");
}

static void
test_csv_field_over_the_limit(void **state)
{
    (void) state;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_AUTO);
    opts.max_field_bytes = 4;
    s_check("a,b\n1234,\"12\"\"4\"\n1,12345\n\xC3\xA9\xC3\xA9,1\n"
            "\xC3\xA9\xC3\xA9\xC3\xA9,1\n",
            &opts, "a|b",
            "2@4-17 {1234|12\"4}\n"
            "3@17-25 !field 2 over the limit (5 bytes, limit 4) [1,12345]\n"
            "4@25-32 {\xC3\xA9\xC3\xA9|1}\n"
            "5@32-41 !field 1 over the limit (6 bytes, limit 4) "
            "[\xC3\xA9\xC3\xA9\xC3\xA9,1]\n");
    /* the limit applies to the UTF-8 value: é is 2 bytes */
    opts.encoding = CS_CSV_ENC_WINDOWS_1252;
    s_check("a\n\xE9\xE9\n\xE9\xE9\xE9\n", &opts, "a",
            "2@2-5 {\xC3\xA9\xC3\xA9}\n"
            "3@5-9 !field 1 over the limit (6 bytes, limit 4) "
            "[\xE9\xE9\xE9]\n");
}

static void
test_csv_text_after_closing_quote(void **state)
{
    (void) state;
    s_check("a,b\n\"ab\"c,d\n\"x\"\"y\"z\"\n1,2\n", NULL, "a|b",
            "2@4-12 !text after closing quote [\"ab\"c,d]\n"
            "3@12-21 !text after closing quote [\"x\"\"y\"z\"]\n"
            "4@21-25 {1|2}\n");
}

/* ---------------- the header ---------------- */

static void
test_csv_header_errors(void **state)
{
    (void) state;
    s_check_open_fails("", 0, NULL, CS_EPROTO);
    s_check_open_fails("\xEF\xBB\xBF", 3, NULL, CS_EPROTO);
    s_check_open_fails("\n\r\n\n", 4, NULL, CS_EPROTO);
    s_check_open_fails("a,b,a\n1,2,3\n", 12, NULL, CS_EPROTO);
    s_check_open_fails("a,,c\n1,2,3\n", 11, NULL, CS_EPROTO);
    s_check_open_fails("a,\"b\n", 5, NULL, CS_EPROTO);
    s_check_open_fails("a,b\0\n", 5, NULL, CS_EPROTO);
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_UTF8);
    s_check_open_fails("a,\xE9\n", 5, &opts, CS_EPROTO);
    opts.max_columns = 2;
    s_check_open_fails("a,b,c\n", 6, &opts, CS_EPROTO);
    opts.max_columns = 3;
    s_check("a,b,c\n1,2,3\n", &opts, "a|b|c", "2@6-12 {1|2|3}\n");
    /* names are kept as they are: spaces, quotes resolved, case */
    s_check("\" Id \",id,\"a,b\"\n1,2,3\n", NULL, " Id |id|a,b",
            "2@16-22 {1|2|3}\n");
}

static void
test_csv_bad_options(void **state)
{
    (void) state;
    cs_csv_t *csv = NULL;
    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_AUTO);
    opts.delimiter = '"';
    assert_int_equal(cs_csv_open(0, "x", &opts, &csv), CS_EINVAL);
    opts.delimiter = '\n';
    assert_int_equal(cs_csv_open(0, "x", &opts, &csv), CS_EINVAL);
    opts.delimiter = 0xE9;
    assert_int_equal(cs_csv_open(0, "x", &opts, &csv), CS_EINVAL);
    opts.delimiter = 0;
    opts.quote = '\r';
    assert_int_equal(cs_csv_open(0, "x", &opts, &csv), CS_EINVAL);
    opts.quote = 0;
    opts.encoding = (cs_csv_encoding_t) 99;
    assert_int_equal(cs_csv_open(0, "x", &opts, &csv), CS_EINVAL);
    opts.encoding = CS_CSV_ENC_AUTO;
    assert_int_equal(cs_csv_open(-1, "x", &opts, &csv), CS_EINVAL);
    assert_null(csv);
}

static void
test_csv_encoding_names(void **state)
{
    (void) state;
    cs_csv_encoding_t encoding = CS_CSV_ENC_AUTO;
    assert_int_equal(cs_csv_encoding_parse("UTF-8", &encoding), CS_OK);
    assert_int_equal(encoding, CS_CSV_ENC_UTF8);
    assert_int_equal(cs_csv_encoding_parse("Windows-1252", &encoding), CS_OK);
    assert_int_equal(encoding, CS_CSV_ENC_WINDOWS_1252);
    assert_int_equal(cs_csv_encoding_parse("iso-8859-1", &encoding), CS_OK);
    assert_int_equal(encoding, CS_CSV_ENC_ISO_8859_1);
    assert_int_equal(cs_csv_encoding_parse("utf-16le", &encoding), CS_OK);
    assert_int_equal(encoding, CS_CSV_ENC_UTF16LE);
    assert_int_equal(cs_csv_encoding_parse("auto", &encoding), CS_OK);
    assert_int_equal(encoding, CS_CSV_ENC_AUTO);
    assert_int_equal(cs_csv_encoding_parse("ebcdic", &encoding), CS_EINVAL);
    assert_int_equal(cs_csv_encoding_parse(NULL, &encoding), CS_EINVAL);
    for (int e = CS_CSV_ENC_AUTO; e <= CS_CSV_ENC_UTF16LE; e++) {
        cs_csv_encoding_t back = CS_CSV_ENC_AUTO;
        const char *name = cs_csv_encoding_name((cs_csv_encoding_t) e);
        assert_int_equal(cs_csv_encoding_parse(name, &back), CS_OK);
        assert_int_equal(back, e);
    }
}

/* ---------------- streaming ---------------- */

/*  A few thousand messy rows: quoted delimiters, "" and line breaks. */
static char *
s_messy(size_t rows, size_t *len_out)
{
    s_text_t text = { NULL, 0, 0 };
    s_adds(&text, "\xEF\xBB\xBFid,name,note\r\n");
    for (size_t i = 0; i < rows; i++) {
        switch (i % 5) {
        case 0:
            s_addf(&text, "%zu,plain %zu,x\r\n", i, i);
            break;
        case 1:
            s_addf(&text,
                   "%zu,\"Doe, J\xC3\xA9r\xC3\xB4me\",\"a\r\nb\"\"c\"\r\n", i);
            break;
        case 2:
            s_addf(&text, "%zu,\"\",\"%0*d\"\r\n", i, (int) (i % 97), 0);
            break;
        case 3:
            s_addf(&text, "%zu,bad \"quote,\"x\"\"y\"\r\n\r\n", i);
            break;
        default:
            s_addf(&text, "%zu,too,many,fields\r\n", i);
            break;
        }
    }
    *len_out = text.len;
    return text.data;
}

static void
test_csv_rows_across_reads_from_a_pipe(void **state)
{
    (void) state;
    size_t len = 0;
    char *data = s_messy(3000, &len);
    int fd = s_file(data, len);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "messy.csv", NULL, &csv), CS_OK);
    char *from_file = s_rows(csv);
    cs_csv_destroy(&csv);
    close(fd);
    assert_non_null(strstr(from_file, "!wrong column count"));
    assert_non_null(strstr(from_file, "a\\r\\nb\"c"));

    static const size_t pieces[] = { 1, 7, 4096, 65536 };
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        s_pipe_t feed;
        s_pipe_start(&feed, data, len, pieces[k]);
        assert_int_equal(cs_csv_open(feed.fd, "-", NULL, &csv), CS_OK);
        char *from_pipe = s_rows(csv);
        assert_string_equal(from_pipe, from_file);
        free(from_pipe);
        cs_csv_destroy(&csv);
        s_pipe_finish(&feed);
    }
    free(from_file);
    free(data);
}

static void
test_csv_big_field_within_the_limit(void **state)
{
    (void) state;
    size_t big = 3 * 1024 * 1024;
    s_text_t text = { NULL, 0, 0 };
    s_adds(&text, "id,blob\n1,\"");
    char *chunk = malloc(big);
    assert_non_null(chunk);
    for (size_t i = 0; i < big; i++) {
        chunk[i] = (char) ('a' + i % 26);
    }
    chunk[1000] = '\n';
    chunk[2000] = ',';
    s_add(&text, chunk, big);
    s_adds(&text, "\"\n2,small\n");

    cs_csv_opts_t opts = s_opts(CS_CSV_ENC_AUTO);
    opts.max_field_bytes = 4 * 1024 * 1024;
    int fd = s_file(text.data, text.len);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "big.csv", &opts, &csv), CS_OK);
    cs_row_t row;
    assert_int_equal(cs_csv_next(csv, &row), CS_OK);
    assert_int_equal(row.values[1].u.s.len, big);
    assert_memory_equal(row.values[1].u.s.ptr, chunk, big);
    assert_int_equal(cs_csv_next(csv, &row), CS_OK);
    assert_int_equal(row.line, 4);
    assert_memory_equal(row.values[1].u.s.ptr, "small", 5);
    assert_int_equal(cs_csv_next(csv, &row), CS_ENOENT);
    cs_csv_destroy(&csv);
    close(fd);

    /* with the default limit (1 MiB) the same row is bad, the next good */
    fd = s_file(text.data, text.len);
    assert_int_equal(cs_csv_open(fd, "big.csv", NULL, &csv), CS_OK);
    assert_int_equal(cs_csv_next(csv, &row), CS_EPROTO);
    assert_string_equal(row.error,
                        "field 2 over the limit (3145728 bytes, limit "
                        "1048576)");
    assert_int_equal(cs_csv_next(csv, &row), CS_OK);
    assert_int_equal(row.line, 4);
    cs_csv_destroy(&csv);
    close(fd);
    free(chunk);
    free(text.data);
}

static void
test_csv_seek_resumes_with_the_same_rows(void **state)
{
    (void) state;
    size_t len = 0;
    char *data = s_messy(500, &len);
    int fd = s_file(data, len);
    cs_csv_t *csv = NULL;
    assert_int_equal(cs_csv_open(fd, "messy.csv", NULL, &csv), CS_OK);
    char *all = s_rows(csv);
    cs_csv_destroy(&csv);

    /* stop after row k, note the position, resume with a new reader */
    static const size_t stops[] = { 0, 1, 3, 4, 17, 250, 499 };
    for (size_t s = 0; s < sizeof stops / sizeof stops[0]; s++) {
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(cs_csv_open(fd, "messy.csv", NULL, &csv), CS_OK);
        s_text_t head = { NULL, 0, 0 };
        s_add(&head, "", 0);
        for (size_t k = 0; k < stops[s]; k++) {
            cs_row_t row;
            int rc = cs_csv_next(csv, &row);
            assert_true(rc == CS_OK || rc == CS_EPROTO);
        }
        uint64_t offset = 0, line = 0;
        cs_csv_position(csv, &offset, &line);
        char *first = s_rows(csv);
        cs_csv_destroy(&csv);

        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(cs_csv_open(fd, "messy.csv", NULL, &csv), CS_OK);
        assert_int_equal(cs_csv_seek(csv, offset, line), CS_OK);
        char *resumed = s_rows(csv);
        assert_string_equal(resumed, first);
        /* and the rest is the tail of the full read */
        size_t all_len = strlen(all), rest_len = strlen(resumed);
        assert_true(rest_len <= all_len);
        assert_string_equal(all + all_len - rest_len, resumed);
        free(first);
        free(resumed);
        free(head.data);
        cs_csv_destroy(&csv);
    }
    close(fd);
    free(all);
    free(data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_rfc4180_fields),
        cmocka_unit_test(test_csv_quoted_flags_and_columns),
        cmocka_unit_test(test_csv_crlf_and_lf_rows),
        cmocka_unit_test(test_csv_lone_cr_inside_quotes),
        cmocka_unit_test(test_csv_lone_cr_outside_quotes_is_text),
        cmocka_unit_test(test_csv_cr_row_ends_when_header_uses_them),
        cmocka_unit_test(test_csv_blank_lines_skipped),
        cmocka_unit_test(test_csv_end_of_input),
        cmocka_unit_test(test_csv_lenient_quotes),
        cmocka_unit_test(test_csv_custom_quote),
        cmocka_unit_test(test_csv_utf8_bom_stripped),
        cmocka_unit_test(test_csv_delimiter_sniffed),
        cmocka_unit_test(test_csv_delimiter_given),
        cmocka_unit_test(test_csv_windows_1252),
        cmocka_unit_test(test_csv_windows_1252_undefined_byte_is_bad),
        cmocka_unit_test(test_csv_iso_8859_1),
        cmocka_unit_test(test_csv_utf16le_with_bom),
        cmocka_unit_test(test_csv_utf16le_bad_units_are_bad_rows),
        cmocka_unit_test(test_csv_utf16be_refused),
        cmocka_unit_test(test_csv_auto_detects_utf8),
        cmocka_unit_test(test_csv_auto_detects_windows_1252_in_a_whole_file),
        cmocka_unit_test(test_csv_auto_scans_a_large_file_in_halves),
        cmocka_unit_test(test_csv_auto_on_a_pipe_judges_the_first_mib),
        cmocka_unit_test(test_csv_given_utf8_reports_invalid_bytes),
        cmocka_unit_test(test_csv_unbalanced_quote_costs_one_line),
        cmocka_unit_test(test_csv_quote_open_past_the_row_limit),
        cmocka_unit_test(test_csv_row_over_the_limit),
        cmocka_unit_test(test_csv_wrong_column_count),
        cmocka_unit_test(test_csv_nul_byte),
        cmocka_unit_test(test_csv_field_over_the_limit),
        cmocka_unit_test(test_csv_text_after_closing_quote),
        cmocka_unit_test(test_csv_header_errors),
        cmocka_unit_test(test_csv_bad_options),
        cmocka_unit_test(test_csv_encoding_names),
        cmocka_unit_test(test_csv_rows_across_reads_from_a_pipe),
        cmocka_unit_test(test_csv_big_field_within_the_limit),
        cmocka_unit_test(test_csv_seek_resumes_with_the_same_rows),
    };
    return cmocka_run_group_tests_name("tools/cs_csv", tests, NULL, NULL);
}
