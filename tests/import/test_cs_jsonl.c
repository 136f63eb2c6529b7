/*  test_cs_jsonl - the JSON Lines reader of seed.
 *  SPDX-License-Identifier: MIT
 *
 *  Reads as an example: open a reader on a file descriptor, call
 *  cs_jsonl_next until CS_ENOENT, take CS_OK rows and put CS_EPROTO rows
 *  (row.error, row.line, row.offset, row.raw) in the rejects file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/cs_jsonl.h"

/* ---------------- helpers ---------------- */

/*  A seekable fd holding @p len bytes at @p data, positioned at 0. The
 *  FILE goes to *@p file (close it to free the fd). */
static int
s_file_fd(const void *data, size_t len, FILE **file)
{
    *file = tmpfile();
    assert_non_null(*file);
    int fd = fileno(*file);
    const char *bytes = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, bytes + done, len - done);
        assert_true(n > 0);
        done += (size_t) n;
    }
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/*  The read end of a pipe a child process writes @p len bytes at @p data
 *  into, @p piece bytes per write(). Reap it with s_pipe_wait. */
static int
s_pipe_fd(const void *data, size_t len, size_t piece, pid_t *child)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        const char *bytes = data;
        size_t done = 0;
        while (done < len) {
            size_t n = len - done < piece ? len - done : piece;
            ssize_t wrote = write(fds[1], bytes + done, n);
            if (wrote < 0 && errno == EINTR) {
                continue;
            }
            if (wrote <= 0) {
                _exit(1);
            }
            done += (size_t) wrote;
        }
        _exit(0);
    }
    close(fds[1]);
    *child = pid;
    return fds[0];
}

static void
s_pipe_wait(int fd, pid_t child)
{
    close(fd);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
}

static cs_jsonl_t *
s_open(int fd, size_t max_line, size_t max_depth, size_t max_keys)
{
    cs_jsonl_opts_t opts = { max_line, max_depth, max_keys };
    cs_jsonl_t *reader = NULL;
    assert_int_equal(cs_jsonl_open(fd, "test.jsonl", &opts, &reader), CS_OK);
    assert_non_null(reader);
    return reader;
}

/*  Index of column @p name in @p row; fails the test if absent. */
static size_t
s_column(const cs_row_t *row, const char *name)
{
    for (size_t i = 0; i < row->count; i++) {
        if (strcmp(row->names[i], name) == 0) {
            return i;
        }
    }
    fail_msg("no column %s", name);
    return 0;
}

static void
s_expect_str(const cs_row_t *row, const char *name, const char *bytes,
             size_t len)
{
    const cs_value_t *value = &row->values[s_column(row, name)];
    assert_int_equal(value->type, CS_VALUE_STR);
    assert_int_equal(value->u.s.len, len);
    if (len > 0) {
        assert_memory_equal(value->u.s.ptr, bytes, len);
    }
}

#define S_EXPECT_STR(row, name, literal) \
    s_expect_str((row), (name), (literal), sizeof(literal) - 1)

static void
s_expect_int(const cs_row_t *row, const char *name, int64_t number)
{
    const cs_value_t *value = &row->values[s_column(row, name)];
    assert_int_equal(value->type, CS_VALUE_INT);
    assert_true(value->u.i == number);
}

static void
s_expect_float(const cs_row_t *row, const char *name, double number)
{
    const cs_value_t *value = &row->values[s_column(row, name)];
    assert_int_equal(value->type, CS_VALUE_FLOAT);
    assert_true(value->u.f == number);
    assert_true(signbit(value->u.f) == signbit(number));
}

/*  One row from @p text (a single line); the reader stays open in
 *  *@p reader until s_one_done. */
typedef struct {
    FILE *file;         /* backing file */
    cs_jsonl_t *reader; /* reader on it */
    cs_row_t row;       /* the row read */
    int rc;             /* what cs_jsonl_next returned */
} s_one_t;

static void
s_one(s_one_t *one, const char *text)
{
    int fd = s_file_fd(text, strlen(text), &one->file);
    one->reader = s_open(fd, 0, 0, 0);
    one->rc = cs_jsonl_next(one->reader, &one->row);
}

static void
s_one_done(s_one_t *one)
{
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(one->reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&one->reader);
    assert_null(one->reader);
    fclose(one->file);
}

/* ---------------- values ---------------- */

static void
test_jsonl_every_value_type(void **state)
{
    (void) state;
    s_one_t one;
    s_one(&one, "{\"s\":\"Zo\xc3\xab\",\"i\":42,\"f\":1.5,\"t\":true,"
                "\"F\":false,\"n\":null,\"o\":{\"a\":[1,2]},"
                "\"a\":[1, {\"b\":null}],\"e\":\"\"}\n");
    assert_int_equal(one.rc, CS_OK);
    const cs_row_t *row = &one.row;
    assert_null(row->error);
    assert_null(row->quoted);
    assert_int_equal(row->count, 9);
    const char *order[] = { "s", "i", "f", "t", "F", "n", "o", "a", "e" };
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(row->names[i], order[i]);
    }
    S_EXPECT_STR(row, "s", "Zo\xc3\xab");
    s_expect_int(row, "i", 42);
    s_expect_float(row, "f", 1.5);
    assert_int_equal(row->values[3].type, CS_VALUE_BOOL);
    assert_true(row->values[3].u.b);
    assert_int_equal(row->values[4].type, CS_VALUE_BOOL);
    assert_false(row->values[4].u.b);
    assert_int_equal(row->values[5].type, CS_VALUE_NIL);
    S_EXPECT_STR(row, "o", "{\"a\":[1,2]}");
    S_EXPECT_STR(row, "a", "[1, {\"b\":null}]");
    S_EXPECT_STR(row, "e", "");
    assert_int_equal(row->line, 1);
    assert_int_equal(row->offset, 0);
    assert_int_equal(row->end_offset, row->raw_len + 1);
    assert_int_equal(row->raw[row->raw_len], '\n');
    s_one_done(&one);
}

static void
test_jsonl_int64_bounds(void **state)
{
    (void) state;
    s_one_t one;
    s_one(&one, "{\"max\":9223372036854775807,\"over\":9223372036854775808,"
                "\"min\":-9223372036854775808,"
                "\"under\":-9223372036854775809,"
                "\"huge\":123456789012345678901234567890,"
                "\"zero\":0,\"negzero\":-0,\"small\":-42}");
    assert_int_equal(one.rc, CS_OK);
    s_expect_int(&one.row, "max", INT64_MAX);
    S_EXPECT_STR(&one.row, "over", "9223372036854775808");
    s_expect_int(&one.row, "min", INT64_MIN);
    S_EXPECT_STR(&one.row, "under", "-9223372036854775809");
    S_EXPECT_STR(&one.row, "huge", "123456789012345678901234567890");
    s_expect_int(&one.row, "zero", 0);
    s_expect_int(&one.row, "negzero", 0);
    s_expect_int(&one.row, "small", -42);
    s_one_done(&one);
}

static void
test_jsonl_floats(void **state)
{
    (void) state;
    s_one_t one;
    s_one(&one, "{\"a\":1.5,\"b\":-0.0,\"c\":1e3,\"d\":1E-2,\"e\":0.1,"
                "\"f\":1.5e+300,\"g\":2.0,\"h\":4.9e-324,"
                "\"i\":0.1000000000000000055511151231257827021181583404541015"
                "625000000000000000000000000000001}");
    assert_int_equal(one.rc, CS_OK);
    s_expect_float(&one.row, "a", 1.5);
    s_expect_float(&one.row, "b", -0.0);
    s_expect_float(&one.row, "c", 1000.0);
    s_expect_float(&one.row, "d", 0.01);
    s_expect_float(&one.row, "e", 0.1);
    s_expect_float(&one.row, "f", 1.5e300);
    s_expect_float(&one.row, "g", 2.0);
    s_expect_float(&one.row, "h", 4.9e-324);
    s_expect_float(&one.row, "i", 0.1);
    s_one_done(&one);
}

static void
test_jsonl_string_escapes(void **state)
{
    (void) state;
    s_one_t one;
    s_one(&one, "{\"q\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\","
                "\"e\":\"caf\\u00e9\",\"E\":\"\\u00E9\\u20AC\","
                "\"smile\":\"\\ud83d\\ude00\",\"nul\":\"a\\u0000b\","
                "\"raw\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\","
                "\"k\\u00e9y\":1,\"\\ud83d\\ude00\":2}");
    assert_int_equal(one.rc, CS_OK);
    S_EXPECT_STR(&one.row, "q", "\"\\/\b\f\n\r\t");
    S_EXPECT_STR(&one.row, "e", "caf\xc3\xa9");
    S_EXPECT_STR(&one.row, "E", "\xc3\xa9\xe2\x82\xac");
    S_EXPECT_STR(&one.row, "smile", "\xf0\x9f\x98\x80");
    S_EXPECT_STR(&one.row, "nul", "a\0b");
    S_EXPECT_STR(&one.row, "raw", "\xf0\x9f\x98\x80 \xe2\x82\xac");
    s_expect_int(&one.row, "k\xc3\xa9y", 1);
    s_expect_int(&one.row, "\xf0\x9f\x98\x80", 2);
    s_one_done(&one);
}

/*  Strings are scanned 8 bytes at a time: put each kind of special byte
 *  at every position of a window and check the decoding and the errors. */
static void
test_jsonl_string_special_bytes_at_every_position(void **state)
{
    (void) state;
    static const struct {
        const char *json;    /* the special part as written */
        const char *decoded; /* what it decodes to, NULL: an error */
    } specials[] = {
        { "\\\"", "\"" },
        { "\\\\", "\\" },
        { "\\n", "\n" },
        { "\xc3\xa9", "\xc3\xa9" },
        { "\\u20ac", "\xe2\x82\xac" },
        { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
        { "\x7f", "\x7f" },
        { "\x1f", NULL },
        { "\x80", NULL },
        { "\xc3(", NULL },
    };
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        for (size_t before = 0; before < 20; before++) {
            for (size_t after = 0; after < 10; after += 3) {
                char line[128];
                char expected[64];
                size_t n = (size_t) sprintf(line, "{\"k\":\"");
                memset(line + n, 'a', before);
                n += before;
                n += (size_t) sprintf(line + n, "%s", specials[k].json);
                memset(line + n, 'b', after);
                n += after;
                sprintf(line + n, "\"}\n");
                s_one_t one;
                s_one(&one, line);
                if (!specials[k].decoded) {
                    assert_int_equal(one.rc, CS_EPROTO);
                    char where[32];
                    snprintf(where, sizeof where, "at byte %zu", 6 + before);
                    assert_non_null(strstr(one.row.error, where));
                    s_one_done(&one);
                    continue;
                }
                assert_int_equal(one.rc, CS_OK);
                size_t m = 0;
                memset(expected, 'a', before);
                m += before;
                m += (size_t) sprintf(expected + m, "%s", specials[k].decoded);
                memset(expected + m, 'b', after);
                m += after;
                s_expect_str(&one.row, "k", expected, m);
                s_one_done(&one);
            }
        }
    }
}

static void
test_jsonl_nested_kept_verbatim(void **state)
{
    (void) state;
    s_one_t one;
    s_one(&one, "{ \"o\" : { \"a\" : [ 1 , \"x\\u0041\" , -2.5e3 ] , "
                "\"\" : { } } , \"l\":[],\"m\":[[[]],{\"k\":[true,false,"
                "null]}], \"s\":\"[not nested]\" }");
    assert_int_equal(one.rc, CS_OK);
    S_EXPECT_STR(&one.row, "o",
                 "{ \"a\" : [ 1 , \"x\\u0041\" , -2.5e3 ] , \"\" : { } }");
    S_EXPECT_STR(&one.row, "l", "[]");
    S_EXPECT_STR(&one.row, "m", "[[[]],{\"k\":[true,false,null]}]");
    S_EXPECT_STR(&one.row, "s", "[not nested]");
    s_one_done(&one);
}

static void
test_jsonl_empty_object_is_a_row_without_columns(void **state)
{
    (void) state;
    s_one_t one;
    s_one(&one, " { } \n");
    assert_int_equal(one.rc, CS_OK);
    assert_int_equal(one.row.count, 0);
    s_one_done(&one);
}

static void
test_jsonl_depth_limit(void **state)
{
    (void) state;
    /* the line's object is level 1: max_depth 3 takes {"a":[[1]]} */
    const char *text = "{\"a\":[[1]]}\n{\"a\":[[[1]]]}\n{\"a\":{\"b\":{}}}\n"
                       "{\"a\":[{\"b\":[]}]}\n";
    FILE *file = NULL;
    cs_jsonl_t *reader = s_open(s_file_fd(text, strlen(text), &file), 0, 3, 0);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "nested deeper than 3 levels");
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_int_equal(row.line, 4);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);

    /* deep nesting up to the default limit of 64 levels (no recursion) */
    char deep[300];
    for (int levels = 63; levels <= 64; levels++) {
        size_t n = (size_t) sprintf(deep, "{\"d\":");
        memset(deep + n, '[', (size_t) levels);
        n += (size_t) levels;
        memset(deep + n, ']', (size_t) levels);
        n += (size_t) levels;
        memcpy(deep + n, "}", 2);
        s_one_t one;
        s_one(&one, deep);
        if (levels == 63) {
            assert_int_equal(one.rc, CS_OK);
            assert_int_equal(one.row.values[0].u.s.len, 2 * 63);
        } else {
            assert_int_equal(one.rc, CS_EPROTO);
            assert_string_equal(one.row.error, "nested deeper than 64 levels");
        }
        s_one_done(&one);
    }
}

/* ---------------- bad rows ---------------- */

typedef struct {
    const char *line;  /* the bad line, without LF */
    size_t len;        /* its length (0: strlen) */
    const char *error; /* expected in row.error */
} s_bad_case_t;

static const s_bad_case_t s_bad_cases[] = {
    { "[1,2]", 0, "not a JSON object" },
    { "\"text\"", 0, "not a JSON object" },
    { "42", 0, "not a JSON object" },
    { "null", 0, "not a JSON object" },
    { "x{\"a\":1}", 0, "not a JSON object" },
    { "{\"a\":1", 0, "expected ',' or '}' at byte 6" },
    { "{\"a\" 1}", 0, "expected ':' at byte 5" },
    { "{\"a\":1,}", 0, "expected a key (a string) at byte 7" },
    { "{a:1}", 0, "expected a key (a string) at byte 1" },
    { "{\"a\":}", 0, "expected a value at byte 5" },
    { "{\"a\":tru}", 0, "expected a value at byte 5" },
    { "{\"a\":True}", 0, "expected a value at byte 5" },
    { "{\"a\":NaN}", 0, "expected a value at byte 5" },
    { "{\"a\":'x'}", 0, "expected a value at byte 5" },
    { "{\"a\":1} x", 0, "text after the object at byte 8" },
    { "{\"a\":1}{\"b\":2}", 0, "text after the object at byte 7" },
    { "{\"a\":\"open}", 0, "unterminated string (opened at byte 5)" },
    { "{\"a\":\"x\\qy\"}", 0, "bad escape at byte 7" },
    { "{\"a\":\"\\u12g4\"}", 0, "bad hex digit" },
    { "{\"a\":\"\\ud800\"}", 0, "lone high surrogate" },
    { "{\"a\":\"\\ud800\\u0041\"}", 0, "lone high surrogate" },
    { "{\"a\":\"\\udc00x\"}", 0, "lone low surrogate" },
    { "{\"a\":\"tab\there\"}", 0, "control character 0x09" },
    { "{\"a\":\"nul\0here\"}", 16, "control character 0x00" },
    { "{\"a\":\"\xff\"}", 0, "invalid UTF-8 at byte 6" },
    { "{\"a\":\"\xc3\"}", 0, "invalid UTF-8 at byte 6" },
    { "{\"a\":\"\xed\xa0\x80\"}", 0, "invalid UTF-8 at byte 6" },
    { "{\"a\":\"\xc0\xaf\"}", 0, "invalid UTF-8 at byte 6" },
    { "{\"\xff\":1}", 0, "invalid UTF-8 at byte 2" },
    { "{\"a\":1\xff}", 0, "expected ',' or '}' at byte 6" },
    { "{\"a\":01}", 0, "leading zero" },
    { "{\"a\":-}", 0, "expected a digit at byte 6" },
    { "{\"a\":1.}", 0, "expected a digit after '.'" },
    { "{\"a\":.5}", 0, "expected a value at byte 5" },
    { "{\"a\":+1}", 0, "expected a value at byte 5" },
    { "{\"a\":1e}", 0, "expected a digit in the exponent" },
    { "{\"a\":1e999}", 0, "number out of the double range" },
    { "{\"a\":-1e999}", 0, "number out of the double range" },
    { "{\"a\":1,\"a\":2}", 0, "duplicate key a" },
    { "{\"name\":1,\"x\":2,\"n\\u0061me\":3}", 0, "duplicate key name" },
    { "{\"\":1}", 0, "bad key: empty" },
    { "{\"a\\u0000b\":1}", 0, "bad key: holds \\u0000" },
    { "{\"a\":[1,2}", 0, "expected ',' or ']' at byte 9" },
    { "{\"a\":[1,]}", 0, "expected a value at byte 8" },
    { "{\"a\":{\"b\"}}", 0, "expected ':' at byte 9" },
    { "{\"a\":{1:2}}", 0, "expected a key (a string) at byte 6" },
    { "{\"a\":{\"b\":1,}}", 0, "expected a key (a string) at byte 12" },
    { "{\"a\":[\"\\x\"]}", 0, "bad escape" },
    { "{\"a\":[\"\xff\"]}", 0, "invalid UTF-8" },
    { "{\"a\":[01]}", 0, "leading zero" },
    { "{\"a\":[1e999]}", 0, NULL }, /* valid nested JSON: kept as text */
    { "{\"a\":[nul]}", 0, "expected a value at byte 6" },
    { "{\"a\":[1]]}", 0, "expected ',' or '}' at byte 8" },
    { "{\"a\":[", 0, "expected a value at byte 6" },
    { "\xef\xbb\xbf{\"a\":1}", 0, "not a JSON object" }, /* BOM not first */
    { "{", 0, "expected a key (a string) at byte 1" },
    { "{\"a\":", 0, "expected a value at byte 5" },
    { "{\"a\":{\"\\q\":1}}", 0, "bad escape at byte 7" },
    { "}", 0, "not a JSON object" },
};

/*  Each bad line, followed by a good one: the bad one is a CS_EPROTO row
 *  with the right error, line, offsets and raw text, and the good one after
 *  it still loads. */
static void
test_jsonl_bad_rows_then_good_rows(void **state)
{
    (void) state;
    size_t cases = sizeof s_bad_cases / sizeof s_bad_cases[0];
    size_t cap = (size_t) 64 * 1024;
    char *input = malloc(cap);
    assert_non_null(input);
    size_t len = 0;
    for (size_t i = 0; i < cases; i++) {
        size_t n = s_bad_cases[i].len ? s_bad_cases[i].len
                                      : strlen(s_bad_cases[i].line);
        memcpy(input + len, s_bad_cases[i].line, n);
        len += n;
        len += (size_t) snprintf(input + len, cap - len, "\n{\"ok\":%zu}\n", i);
        assert_true(len < cap - 256);
    }
    FILE *file = NULL;
    cs_jsonl_t *reader = s_open(s_file_fd(input, len, &file), 0, 0, 0);
    uint64_t offset = 0;
    for (size_t i = 0; i < cases; i++) {
        const s_bad_case_t *bad = &s_bad_cases[i];
        size_t n = bad->len ? bad->len : strlen(bad->line);
        cs_row_t row;
        int rc = cs_jsonl_next(reader, &row);
        if (bad->error) {
            if (rc != CS_EPROTO || !strstr(row.error, bad->error)) {
                fail_msg("case %zu: rc %d, error '%s', expected '%s'", i, rc,
                         row.error ? row.error : "(null)", bad->error);
            }
            assert_int_equal(row.count, 0);
        } else {
            assert_int_equal(rc, CS_OK);
            assert_null(row.error);
        }
        assert_int_equal(row.line, 2 * i + 1);
        assert_int_equal(row.offset, offset);
        assert_int_equal(row.end_offset, offset + n + 1);
        assert_int_equal(row.raw_len, n);
        assert_memory_equal(row.raw, bad->line, n);
        offset = row.end_offset;

        rc = cs_jsonl_next(reader, &row);
        assert_int_equal(rc, CS_OK);
        assert_int_equal(row.line, 2 * i + 2);
        assert_int_equal(row.offset, offset);
        assert_int_equal(row.count, 1);
        s_expect_int(&row, "ok", (int64_t) i);
        offset = row.end_offset;
    }
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    assert_int_equal(offset, len);
    cs_jsonl_destroy(&reader);
    fclose(file);
    free(input);
}

static void
test_jsonl_max_keys_and_many_duplicates(void **state)
{
    (void) state;
    size_t cap = (size_t) 200 * 1024;
    char *input = malloc(cap);
    assert_non_null(input);
    /* 4096 keys: fine; 4097: too many; a duplicate late in a wide row */
    size_t len = 0;
    for (int round = 0; round < 3; round++) {
        int keys = round == 1 ? 4097 : 4096;
        input[len++] = '{';
        for (int k = 0; k < keys; k++) {
            int name = round == 2 && k == 4000 ? 17 : k;
            len += (size_t) snprintf(input + len, cap - len, "%s\"k%d\":%d",
                                     k ? "," : "", name, k);
        }
        input[len++] = '}';
        input[len++] = '\n';
    }
    FILE *file = NULL;
    cs_jsonl_t *reader = s_open(s_file_fd(input, len, &file), 0, 0, 0);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.count, 4096);
    assert_string_equal(row.names[4095], "k4095");
    s_expect_int(&row, "k4095", 4095);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "more than 4096 keys");
    assert_int_equal(row.line, 2);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "duplicate key k17");
    assert_int_equal(row.line, 3);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);
    free(input);
}

static void
test_jsonl_duplicate_key_message_is_shortened(void **state)
{
    (void) state;
    char line[400];
    char name[101];
    memset(name, 'x', 100);
    name[0] = '\\'; /* "\n" as an escape: shown as '?' */
    name[1] = 'n';
    name[100] = '\0';
    snprintf(line, sizeof line, "{\"%s\":1,\"%s\":2}", name, name);
    s_one_t one;
    s_one(&one, line);
    assert_int_equal(one.rc, CS_EPROTO);
    char expected[100] = "duplicate key ?";
    memset(expected + 15, 'x', 47);
    memcpy(expected + 62, "...", 4);
    assert_string_equal(one.row.error, expected);
    s_one_done(&one);
}

static void
test_jsonl_duplicate_key_message_cuts_on_a_character(void **state)
{
    (void) state;
    /* 47 ASCII bytes then euro signs: the cut at 48 bytes falls inside the
       first one, which is left out whole */
    char name[64];
    memset(name, 'k', 47);
    memcpy(name + 47, "\xe2\x82\xac\xe2\x82\xac", 7);
    char line[200];
    snprintf(line, sizeof line, "{\"%s\":1,\"%s\":2}", name, name);
    s_one_t one;
    s_one(&one, line);
    assert_int_equal(one.rc, CS_EPROTO);
    char expected[100] = "duplicate key ";
    memset(expected + 14, 'k', 47);
    memcpy(expected + 61, "...", 4);
    assert_string_equal(one.row.error, expected);
    s_one_done(&one);
}

static void
test_jsonl_small_max_keys(void **state)
{
    (void) state;
    const char *text = "{\"a\":1,\"b\":2}\n{\"a\":1,\"b\":2,\"c\":3}\n{}\n";
    FILE *file = NULL;
    cs_jsonl_t *reader = s_open(s_file_fd(text, strlen(text), &file), 0, 0, 2);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.count, 2);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "more than 2 keys");
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.count, 0);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);
}

/* ---------------- lines ---------------- */

static void
test_jsonl_blank_lines_crlf_and_bom(void **state)
{
    (void) state;
    const char text[] = "\xef\xbb\xbf{\"a\":1}\r\n"
                        "\r\n"
                        "   \t \n"
                        "\n"
                        "{\"b\":\"x\\r\\n\"}\r\n"
                        "  {\"c\":3}  \t\r\n"
                        "\t\n";
    FILE *file = NULL;
    cs_jsonl_t *reader =
        s_open(s_file_fd(text, sizeof text - 1, &file), 0, 0, 0);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.line, 1);
    assert_int_equal(row.offset, 3); /* just past the BOM */
    assert_int_equal(row.end_offset, 3 + 9);
    assert_int_equal(row.raw_len, 7);
    assert_memory_equal(row.raw, "{\"a\":1}", 7);
    s_expect_int(&row, "a", 1);

    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.line, 5);
    assert_int_equal(row.offset, 12 + 2 + 6 + 1);
    S_EXPECT_STR(&row, "b", "x\r\n");
    assert_int_equal(row.raw_len, strlen("{\"b\":\"x\\r\\n\"}"));

    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.line, 6);
    assert_int_equal(row.raw_len, strlen("  {\"c\":3}  \t"));
    s_expect_int(&row, "c", 3);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);
}

static void
test_jsonl_last_line_without_newline(void **state)
{
    (void) state;
    const char text[] = "{\"a\":1}\n{\"b\":2}";
    FILE *file = NULL;
    cs_jsonl_t *reader =
        s_open(s_file_fd(text, sizeof text - 1, &file), 0, 0, 0);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.line, 2);
    assert_int_equal(row.offset, 8);
    assert_int_equal(row.end_offset, sizeof text - 1);
    s_expect_int(&row, "b", 2);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);
}

static void
test_jsonl_empty_and_blank_inputs_have_no_rows(void **state)
{
    (void) state;
    const char *inputs[] = { "",     "\n",           "\r\n\r\n",
                             "  \t", "\xef\xbb\xbf", "\xef\xbb\xbf\n \n" };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        s_one_t one;
        s_one(&one, inputs[i]);
        assert_int_equal(one.rc, CS_ENOENT);
        s_one_done(&one);
    }
}

/*  Lines of 1 to 60 bytes, numbered: {"n":N,"p":"xxx"}. */
static char *
s_make_lines(size_t count, size_t *len_out)
{
    size_t cap = count * 80 + 1;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        size_t pad = (i * 7919) % 40;
        len +=
            (size_t) snprintf(text + len, cap - len, "{\"n\":%zu,\"p\":\"", i);
        memset(text + len, 'x', pad);
        len += pad;
        len += (size_t) snprintf(text + len, cap - len, "\"}%s",
                                 i % 3 == 0 ? "\r\n" : "\n");
    }
    *len_out = len;
    return text;
}

static void
s_read_lines(cs_jsonl_t *reader, size_t count, size_t total)
{
    cs_row_t row;
    uint64_t offset = 0;
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
        assert_int_equal(row.line, i + 1);
        assert_int_equal(row.offset, offset);
        s_expect_int(&row, "n", (int64_t) i);
        size_t pad = (i * 7919) % 40;
        assert_int_equal(row.values[1].u.s.len, pad);
        offset = row.end_offset;
    }
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    assert_int_equal(offset, total);
}

static void
test_jsonl_lines_span_read_chunks(void **state)
{
    (void) state;
    /* a small max_line_bytes makes a small buffer: every line crosses a
       read boundary somewhere */
    size_t len = 0;
    char *text = s_make_lines(2000, &len);
    FILE *file = NULL;
    cs_jsonl_t *reader = s_open(s_file_fd(text, len, &file), 64, 0, 0);
    s_read_lines(reader, 2000, len);
    cs_jsonl_destroy(&reader);
    fclose(file);
    free(text);

    /* default limits: 3 MiB of lines cross the 1 MiB chunks */
    text = s_make_lines(100000, &len);
    assert_true(len > (size_t) 3 * 1024 * 1024);
    reader = s_open(s_file_fd(text, len, &file), 0, 0, 0);
    s_read_lines(reader, 100000, len);
    cs_jsonl_destroy(&reader);
    fclose(file);
    free(text);
}

static void
test_jsonl_reads_a_pipe_in_small_writes(void **state)
{
    (void) state;
    size_t len = 0;
    char *text = s_make_lines(3000, &len);
    pid_t child = 0;
    int fd = s_pipe_fd(text, len, 7, &child);
    cs_jsonl_t *reader = s_open(fd, 0, 0, 0);
    s_read_lines(reader, 3000, len);
    assert_int_equal(cs_jsonl_seek(reader, 0, 1), CS_EINVAL);
    cs_jsonl_destroy(&reader);
    s_pipe_wait(fd, child);

    fd = s_pipe_fd(text, len, 5, &child);
    reader = s_open(fd, 70, 0, 0);
    s_read_lines(reader, 3000, len);
    cs_jsonl_destroy(&reader);
    s_pipe_wait(fd, child);
    free(text);
}

static void
test_jsonl_line_at_the_length_limit(void **state)
{
    (void) state;
    /* max_line_bytes counts the line without its LF or CRLF */
    const char text[] = "{\"a\":\"12345678\"}\r\n"  /* 16 bytes: fine */
                        "{\"a\":\"123456789\"}\n"   /* 17: over */
                        "{\"a\":\"1234567\"}  \r\n" /* 17: over */
                        "{\"a\":\"12345678\"}";     /* 16 at EOF: fine */
    FILE *file = NULL;
    cs_jsonl_t *reader =
        s_open(s_file_fd(text, sizeof text - 1, &file), 16, 0, 0);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "line over 16 bytes");
    assert_int_equal(row.line, 2);
    assert_int_equal(row.offset, 18);
    assert_int_equal(row.end_offset, 18 + 18);
    assert_memory_equal(row.raw, "{\"a\":\"123456789\"}", row.raw_len);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "line over 16 bytes");
    assert_int_equal(row.line, 3);
    assert_int_equal(row.offset, 36);
    assert_int_equal(row.end_offset, 36 + 19);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.line, 4);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);

    /* one byte over a limit of 8 KiB: the raw text is cut to 4 KiB */
    char *big = malloc(8192 + 16);
    assert_non_null(big);
    memset(big, ' ', 8193);
    memcpy(big + 8193, "\n{}\n", 4);
    reader = s_open(s_file_fd(big, 8197, &file), 8192, 0, 0);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "line over 8192 bytes");
    assert_int_equal(row.raw_len, 4096);
    assert_int_equal(row.end_offset, 8194);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.line, 2);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);
    free(big);
}

/*  A 40 MiB line through a pipe with max_line_bytes 64 KiB: skipped without
 *  being buffered, its first 4 KiB kept as raw, and the next line loads. */
static void
test_jsonl_over_long_line_skipped_in_bounded_memory(void **state)
{
    (void) state;
    size_t long_len = (size_t) 40 << 20;
    size_t len = long_len + 64;
    char *text = malloc(len);
    assert_non_null(text);
    size_t n = (size_t) sprintf(text, "{\"a\":1}\n{\"big\":\"");
    memset(text + n, 'y', long_len);
    n += long_len;
    n += (size_t) sprintf(text + n, "\"}\n{\"b\":2}\n");
    uint64_t long_start = 8;
    uint64_t long_end = n - strlen("{\"b\":2}\n");

    pid_t child = 0;
    int fd = s_pipe_fd(text, n, 1u << 20, &child);
    cs_jsonl_t *reader = s_open(fd, (size_t) 64 << 10, 0, 0);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "line over 65536 bytes");
    assert_int_equal(row.line, 2);
    assert_int_equal(row.offset, long_start);
    assert_int_equal(row.end_offset, long_end);
    assert_int_equal(row.raw_len, 4096);
    assert_memory_equal(row.raw, "{\"big\":\"yyyy", 12);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.line, 3);
    assert_int_equal(row.offset, long_end);
    s_expect_int(&row, "b", 2);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    s_pipe_wait(fd, child);

    /* the same over the default 16 MiB limit, and as the last line */
    n = (size_t) sprintf(text, "{\"big\":\"");
    memset(text + n, 'z', (size_t) 17 << 20);
    n += (size_t) 17 << 20;
    fd = s_pipe_fd(text, n, 1u << 16, &child);
    reader = s_open(fd, 0, 0, 0);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_string_equal(row.error, "line over 16777216 bytes");
    assert_int_equal(row.offset, 0);
    assert_int_equal(row.end_offset, n);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    s_pipe_wait(fd, child);
    free(text);
}

static void
test_jsonl_long_line_within_the_limit_grows_the_buffer(void **state)
{
    (void) state;
    /* a 3 MiB string: past the 1 MiB starting buffer, within 16 MiB */
    size_t big = (size_t) 3 << 20;
    char *text = malloc(big + 64);
    assert_non_null(text);
    size_t n = (size_t) sprintf(text, "{\"a\":1}\n{\"big\":\"");
    memset(text + n, 'q', big);
    n += big;
    n += (size_t) sprintf(text + n, "\",\"n\":[1]}\n{\"b\":2}\n");
    FILE *file = NULL;
    cs_jsonl_t *reader = s_open(s_file_fd(text, n, &file), 0, 0, 0);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.values[0].u.s.len, big);
    S_EXPECT_STR(&row, "n", "[1]");
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    s_expect_int(&row, "b", 2);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);
    free(text);
}

/* ---------------- resume ---------------- */

static void
test_jsonl_seek_resumes_at_a_row(void **state)
{
    (void) state;
    const char text[] = "\xef\xbb\xbf{\"n\":1}\n"
                        "\n"
                        "{\"n\":2}\r\n"
                        "bad\n"
                        "{\"n\":3}\n";
    FILE *file = NULL;
    cs_jsonl_t *reader =
        s_open(s_file_fd(text, sizeof text - 1, &file), 0, 0, 0);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    s_expect_int(&row, "n", 2);
    uint64_t resume_offset = row.end_offset;
    uint64_t resume_line = row.line + 1;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    uint64_t bad_offset = row.offset;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);

    /* a resumed seed continues just past the last committed row */
    assert_int_equal(cs_jsonl_seek(reader, resume_offset, resume_line), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_EPROTO);
    assert_int_equal(row.line, 4);
    assert_int_equal(row.offset, bad_offset);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.line, 5);
    s_expect_int(&row, "n", 3);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);

    /* back to the start: the BOM is stripped again */
    assert_int_equal(cs_jsonl_seek(reader, 0, 1), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    assert_int_equal(row.offset, 3);
    s_expect_int(&row, "n", 1);
    assert_int_equal(cs_jsonl_seek(reader, 0, 0), CS_EINVAL);
    assert_int_equal(cs_jsonl_seek(reader, UINT64_MAX, 1), CS_EINVAL);
    /* past the end: no rows */
    assert_int_equal(cs_jsonl_seek(reader, 10000, 99), CS_OK);
    assert_int_equal(cs_jsonl_next(reader, &row), CS_ENOENT);
    cs_jsonl_destroy(&reader);
    fclose(file);
}

/* ---------------- open ---------------- */

static void
test_jsonl_open_rejects_bad_arguments(void **state)
{
    (void) state;
    cs_jsonl_t *reader = NULL;
    assert_int_equal(cs_jsonl_open(-1, "x", NULL, &reader), CS_EINVAL);
    assert_null(reader);
    cs_jsonl_opts_t opts = { (size_t) 4 << 30, 0, 0 };
    assert_int_equal(cs_jsonl_open(0, "x", &opts, &reader), CS_EINVAL);
    assert_null(reader);

    /* reading a directory fails at open, with the reason on stderr */
    int fd = open(".", O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(cs_jsonl_open(fd, "dir", NULL, &reader), CS_EIO);
    assert_null(reader);
    close(fd);

    cs_jsonl_destroy(&reader); /* safe on NULL */

    /* NULL options mean the defaults */
    FILE *file = NULL;
    fd = s_file_fd("{\"a\":1}", 7, &file);
    assert_int_equal(cs_jsonl_open(fd, NULL, NULL, &reader), CS_OK);
    cs_row_t row;
    assert_int_equal(cs_jsonl_next(reader, &row), CS_OK);
    cs_jsonl_destroy(&reader);
    fclose(file);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_every_value_type),
        cmocka_unit_test(test_jsonl_int64_bounds),
        cmocka_unit_test(test_jsonl_floats),
        cmocka_unit_test(test_jsonl_string_escapes),
        cmocka_unit_test(test_jsonl_string_special_bytes_at_every_position),
        cmocka_unit_test(test_jsonl_nested_kept_verbatim),
        cmocka_unit_test(test_jsonl_empty_object_is_a_row_without_columns),
        cmocka_unit_test(test_jsonl_depth_limit),
        cmocka_unit_test(test_jsonl_bad_rows_then_good_rows),
        cmocka_unit_test(test_jsonl_max_keys_and_many_duplicates),
        cmocka_unit_test(test_jsonl_duplicate_key_message_is_shortened),
        cmocka_unit_test(test_jsonl_duplicate_key_message_cuts_on_a_character),
        cmocka_unit_test(test_jsonl_small_max_keys),
        cmocka_unit_test(test_jsonl_blank_lines_crlf_and_bom),
        cmocka_unit_test(test_jsonl_last_line_without_newline),
        cmocka_unit_test(test_jsonl_empty_and_blank_inputs_have_no_rows),
        cmocka_unit_test(test_jsonl_lines_span_read_chunks),
        cmocka_unit_test(test_jsonl_reads_a_pipe_in_small_writes),
        cmocka_unit_test(test_jsonl_line_at_the_length_limit),
        cmocka_unit_test(test_jsonl_over_long_line_skipped_in_bounded_memory),
        cmocka_unit_test(
            test_jsonl_long_line_within_the_limit_grows_the_buffer),
        cmocka_unit_test(test_jsonl_seek_resumes_at_a_row),
        cmocka_unit_test(test_jsonl_open_rejects_bad_arguments),
    };
    return cmocka_run_group_tests_name("tools/cs_jsonl", tests, NULL, NULL);
}
