/*  test_cs_value - field values: constructors, the total order every replica
 *  uses to break ties, the validity limits and the UTF-8 validator.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/cs_value.h"

#include "../utf8_table.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int
s_sign(int x)
{
    return (x > 0) - (x < 0);
}

static double
s_double_from_bits(uint64_t bits)
{
    double f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---------------- constructors ---------------- */

static void
test_value_constructors_set_type_and_payload(void **state)
{
    (void) state;
    assert_int_equal(cs_value_nil().type, CS_VALUE_NIL);

    cs_value_t b = cs_value_bool(true);
    assert_int_equal(b.type, CS_VALUE_BOOL);
    assert_true(b.u.b);

    cs_value_t i = cs_value_int(INT64_MIN);
    assert_int_equal(i.type, CS_VALUE_INT);
    assert_true(i.u.i == INT64_MIN);

    cs_value_t f = cs_value_float(-2.5);
    assert_int_equal(f.type, CS_VALUE_FLOAT);
    assert_true(f.u.f == -2.5);

    const char *text = "Zürich";
    cs_value_t s = cs_value_str(text);
    assert_int_equal(s.type, CS_VALUE_STR);
    assert_ptr_equal(s.u.s.ptr, text); /* a view: borrows, does not copy */
    assert_int_equal(s.u.s.len, strlen(text));

    cs_value_t sn = cs_value_strn("a\0b", 3);
    assert_int_equal(sn.type, CS_VALUE_STR);
    assert_int_equal(sn.u.s.len, 3);

    const unsigned char raw[] = { 0x00, 0xff, 0x10 };
    cs_value_t bin = cs_value_bin(raw, sizeof raw);
    assert_int_equal(bin.type, CS_VALUE_BIN);
    assert_ptr_equal(bin.u.s.ptr, (const void *) raw);
    assert_int_equal(bin.u.s.len, 3);
}

/* ---------------- the total order ---------------- */

/* Values listed in strictly increasing order; compare must agree with the
 * index order for every pair, which makes it total, antisymmetric and
 * transitive on this set. */
static void
test_value_order_is_total_across_and_within_types(void **state)
{
    (void) state;
    const unsigned char bin_a[] = { 0x00 };
    const unsigned char bin_b[] = { 0x00, 0x00 };
    const unsigned char bin_c[] = { 0x7f };
    const unsigned char bin_d[] = { 0xff };
    const cs_value_t ordered[] = {
        cs_value_nil(),
        cs_value_bool(false),
        cs_value_bool(true),
        cs_value_int(INT64_MIN),
        cs_value_int(-1),
        cs_value_int(0),
        cs_value_int(1),
        cs_value_int(INT64_MAX),
        /* IEEE-754 totalOrder: -NaN < -inf < ... < -0 < +0 < ... < +NaN */
        cs_value_float(s_double_from_bits(UINT64_C(0xfff8000000000001))),
        cs_value_float(s_double_from_bits(UINT64_C(0xfff8000000000000))),
        cs_value_float(-INFINITY),
        cs_value_float(-1e308),
        cs_value_float(-1.0),
        cs_value_float(-4.9e-324),
        cs_value_float(-0.0),
        cs_value_float(0.0),
        cs_value_float(4.9e-324),
        cs_value_float(1.0),
        cs_value_float(INFINITY),
        cs_value_float(s_double_from_bits(UINT64_C(0x7ff0000000000001))),
        cs_value_float(s_double_from_bits(UINT64_C(0x7ff8000000000000))),
        cs_value_strn(NULL, 0),
        cs_value_strn("\0", 1),
        cs_value_str("A"),
        cs_value_str("a"),
        cs_value_str("ab"),
        cs_value_str("b"),
        cs_value_str("\xc3\xa9"), /* é: bytes compare unsigned */
        cs_value_bin(NULL, 0),
        cs_value_bin(bin_a, sizeof bin_a),
        cs_value_bin(bin_b, sizeof bin_b),
        cs_value_bin(bin_c, sizeof bin_c),
        cs_value_bin(bin_d, sizeof bin_d),
    };
    size_t n = ARRAY_LEN(ordered);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = (i > j) - (i < j);
            int got = s_sign(cs_value_compare(&ordered[i], &ordered[j]));
            if (got != want) {
                fail_msg("compare(ordered[%zu], ordered[%zu]) = %d, want %d", i,
                         j, got, want);
            }
        }
    }
}

static void
test_value_type_decides_before_payload(void **state)
{
    (void) state;
    cs_value_t big_int = cs_value_int(INT64_MAX);
    cs_value_t small_float = cs_value_float(-INFINITY);
    assert_true(cs_value_compare(&big_int, &small_float) < 0);

    cs_value_t str = cs_value_str("\xff");
    cs_value_t bin = cs_value_bin("", 0);
    assert_true(cs_value_compare(&str, &bin) < 0);

    cs_value_t t = cs_value_bool(true);
    cs_value_t i = cs_value_int(INT64_MIN);
    assert_true(cs_value_compare(&t, &i) < 0);

    /* same bytes, different type: not identical */
    cs_value_t s1 = cs_value_strn("x", 1);
    cs_value_t b1 = cs_value_bin("x", 1);
    assert_true(cs_value_compare(&s1, &b1) < 0);
    assert_true(cs_value_compare(&b1, &s1) > 0);
}

static void
test_value_int_compare_does_not_overflow(void **state)
{
    (void) state;
    cs_value_t lo = cs_value_int(INT64_MIN);
    cs_value_t hi = cs_value_int(INT64_MAX);
    assert_true(cs_value_compare(&lo, &hi) < 0);
    assert_true(cs_value_compare(&hi, &lo) > 0);
    assert_int_equal(cs_value_compare(&hi, &hi), 0);
}

static void
test_value_nan_equals_itself_and_negative_zero_differs(void **state)
{
    (void) state;
    cs_value_t nan1 = cs_value_float(NAN);
    cs_value_t nan2 = cs_value_float(NAN);
    /* NaN != NaN in C, but the value order must be reflexive */
    assert_int_equal(cs_value_compare(&nan1, &nan2), 0);

    cs_value_t neg_zero = cs_value_float(-0.0);
    cs_value_t pos_zero = cs_value_float(0.0);
    /* -0.0 == 0.0 in C, but they are different values */
    assert_true(cs_value_compare(&neg_zero, &pos_zero) < 0);
    assert_true(cs_value_compare(&pos_zero, &neg_zero) > 0);

    /* NaNs with different payloads are different values */
    cs_value_t nan_payload =
        cs_value_float(s_double_from_bits(UINT64_C(0x7ff8000000000001)));
    cs_value_t nan_quiet =
        cs_value_float(s_double_from_bits(UINT64_C(0x7ff8000000000000)));
    assert_true(cs_value_compare(&nan_quiet, &nan_payload) < 0);
    cs_value_t inf = cs_value_float(INFINITY);
    assert_true(cs_value_compare(&inf, &nan_quiet) < 0);
}

static void
test_value_strings_compare_bytewise_then_by_length(void **state)
{
    (void) state;
    cs_value_t a = cs_value_strn("a\0b", 3);
    cs_value_t c = cs_value_strn("a\0c", 3);
    cs_value_t prefix = cs_value_strn("a\0", 2);
    assert_true(cs_value_compare(&a, &c) < 0);
    assert_true(cs_value_compare(&prefix, &a) < 0);

    /* an empty view with or without a pointer is the same value */
    cs_value_t empty_null = cs_value_strn(NULL, 0);
    cs_value_t empty_ptr = cs_value_str("");
    assert_int_equal(cs_value_compare(&empty_null, &empty_ptr), 0);

    /* identical content in different buffers compares equal */
    char buf1[] = "Müller";
    char buf2[] = "Müller";
    cs_value_t m1 = cs_value_str(buf1);
    cs_value_t m2 = cs_value_str(buf2);
    assert_int_equal(cs_value_compare(&m1, &m2), 0);

    /* bytes compare unsigned: 0xff sorts after 'z' */
    cs_value_t hi = cs_value_bin("\xff", 1);
    cs_value_t lo = cs_value_bin("z", 1);
    assert_true(cs_value_compare(&lo, &hi) < 0);
}

/* ---------------- validity ---------------- */

static void
test_value_is_valid_checks_size_limit_and_utf8(void **state)
{
    (void) state;
    cs_value_t scalars[] = {
        cs_value_nil(),      cs_value_bool(false),   cs_value_int(-5),
        cs_value_float(NAN), cs_value_strn(NULL, 0), cs_value_bin(NULL, 0),
    };
    for (size_t i = 0; i < ARRAY_LEN(scalars); i++) {
        assert_true(cs_value_is_valid(&scalars[i]));
    }

    char *big = malloc(CS_VALUE_MAX + 1);
    assert_non_null(big);
    memset(big, 'x', CS_VALUE_MAX + 1);
    cs_value_t s_max = cs_value_strn(big, CS_VALUE_MAX);
    cs_value_t s_over = cs_value_strn(big, CS_VALUE_MAX + 1);
    cs_value_t b_max = cs_value_bin(big, CS_VALUE_MAX);
    cs_value_t b_over = cs_value_bin(big, CS_VALUE_MAX + 1);
    assert_true(cs_value_is_valid(&s_max));
    assert_false(cs_value_is_valid(&s_over));
    assert_true(cs_value_is_valid(&b_max));
    assert_false(cs_value_is_valid(&b_over));
    free(big);

    /* strings must be UTF-8, binaries need not be */
    cs_value_t bad_str = cs_value_strn("\xc0\x80", 2);
    cs_value_t bad_bytes = cs_value_bin("\xc0\x80", 2);
    assert_false(cs_value_is_valid(&bad_str));
    assert_true(cs_value_is_valid(&bad_bytes));

    /* NUL is a valid code point inside a value */
    cs_value_t with_nul = cs_value_strn("a\0b", 3);
    assert_true(cs_value_is_valid(&with_nul));
}

/* ---------------- UTF-8 ---------------- */

typedef struct {
    const char *bytes; /* test input */
    size_t len;        /* its length */
    const char *what;  /* why it is (in)valid */
} utf8_case_t;

#define U8(lit, what)              \
    {                              \
        lit, sizeof(lit) - 1, what \
    }

static const utf8_case_t s_good[] = {
    U8("", "empty"),
    U8("plain ascii", "ascii"),
    U8("\x00", "NUL"),
    U8("a\x00z", "embedded NUL"),
    U8("\x7f", "U+007F"),
    U8("\xc2\x80", "U+0080"),
    U8("\xdf\xbf", "U+07FF"),
    U8("\xe0\xa0\x80", "U+0800"),
    U8("\xed\x9f\xbf", "U+D7FF, just below the surrogates"),
    U8("\xee\x80\x80", "U+E000, just above the surrogates"),
    U8("\xef\xbf\xbf", "U+FFFF"),
    U8("\xf0\x90\x80\x80", "U+10000"),
    U8("\xf4\x8f\xbf\xbf", "U+10FFFF"),
    U8("Gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac \xf0\x9f\x98\x80", "mixed text"),
};

static const utf8_case_t s_bad[] = {
    /* overlong encodings */
    U8("\xc0\x80", "overlong NUL (2 bytes)"),
    U8("\xc1\xbf", "overlong U+007F (2 bytes)"),
    U8("\xe0\x80\x80", "overlong NUL (3 bytes)"),
    U8("\xe0\x9f\xbf", "overlong U+07FF (3 bytes)"),
    U8("\xf0\x80\x80\x80", "overlong NUL (4 bytes)"),
    U8("\xf0\x8f\xbf\xbf", "overlong U+FFFF (4 bytes)"),
    /* UTF-16 surrogates */
    U8("\xed\xa0\x80", "U+D800"),
    U8("\xed\xbf\xbf", "U+DFFF"),
    U8("\xed\xa0\xbd\xed\xb8\x80", "CESU-8 surrogate pair"),
    /* beyond U+10FFFF and bytes never used */
    U8("\xf4\x90\x80\x80", "U+110000"),
    U8("\xf5\x80\x80\x80", "lead byte F5"),
    U8("\xf7\xbf\xbf\xbf", "U+1FFFFF"),
    U8("\xf8\x88\x80\x80\x80", "5-byte form"),
    U8("\xfc\x84\x80\x80\x80\x80", "6-byte form"),
    U8("\xfe", "byte FE"),
    U8("\xff", "byte FF"),
    /* broken sequences */
    U8("\x80", "lone continuation byte"),
    U8("a\xbf", "continuation byte after ascii"),
    U8("\xc3\x28", "2-byte lead then ascii"),
    U8("\xe2\x28\xa1", "3-byte lead, bad 2nd byte"),
    U8("\xe2\x82\x28", "3-byte lead, bad 3rd byte"),
    U8("\xf0\x28\x8c\xbc", "4-byte lead, bad 2nd byte"),
    U8("\xf0\x90\x28\xbc", "4-byte lead, bad 3rd byte"),
    U8("\xf0\x90\x8c\x28", "4-byte lead, bad 4th byte"),
    U8("\xc3\xa9\xa9", "extra continuation byte"),
    /* truncated at the end */
    U8("\xc3", "truncated 2-byte"),
    U8("abc\xe2\x82", "truncated 3-byte"),
    U8("\xe2", "3-byte lead only"),
    U8("\xf0\x9f\x98", "truncated 4-byte"),
    U8("\xf0\x9f", "truncated 4-byte after 2"),
    U8("\xf0", "4-byte lead only"),
};

static void
test_utf8_accepts_every_encoding_length_and_boundary(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_LEN(s_good); i++) {
        if (!cs_utf8_is_valid(s_good[i].bytes, s_good[i].len)) {
            fail_msg("rejected valid UTF-8: %s", s_good[i].what);
        }
    }
    assert_true(cs_utf8_is_valid(NULL, 0));
}

static void
test_utf8_rejects_overlongs_surrogates_and_beyond_max(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_LEN(s_bad); i++) {
        if (cs_utf8_is_valid(s_bad[i].bytes, s_bad[i].len)) {
            fail_msg("accepted invalid UTF-8: %s", s_bad[i].what);
        }
    }
}

/*  cs_utf8_valid_prefix stops before the first bad character, and says
 *  whether the input merely ended inside one. */
static void
test_utf8_valid_prefix_places_the_error(void **state)
{
    (void) state;
    const struct {
        const char *bytes;
        size_t len, prefix;
        bool cut;
    } cases[] = {
        { "plain", 5, 5, false },          { "ab\xe2\x82\xac", 5, 5, false },
        { "ab\xe2\x82", 4, 2, true },      /* euro cut short */
        { "ab\xf0\x9f\x98", 5, 2, true },  /* emoji cut short */
        { "ab\xe2\x28\xac", 5, 2, false }, /* bad second byte */
        { "ab\xed\xa0", 4, 2, false },     /* surrogate, even cut */
        { "\xc3\xa9\x80", 3, 2, false },   /* stray continuation */
        { "x\xc3", 2, 1, true },           { "x\xff", 2, 1, false },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        bool cut = !cases[i].cut;
        size_t prefix =
            cs_utf8_valid_prefix(cases[i].bytes, cases[i].len, &cut);
        if (prefix != cases[i].prefix || cut != cases[i].cut) {
            fail_msg("case %zu: prefix %zu cut %d, want %zu %d", i, prefix, cut,
                     cases[i].prefix, cases[i].cut);
        }
        assert_int_equal(cs_utf8_is_valid(cases[i].bytes, cases[i].len),
                         prefix == cases[i].len);
    }
}

/*  cs_utf8_ascii_span counts the ASCII before the first high byte, in
 *  blocks of 16 and 8 and byte by byte: a high byte at every place of
 *  inputs of every length up to past two blocks, and none at all. */
static void
test_utf8_ascii_span_stops_at_the_first_high_byte(void **state)
{
    (void) state;
    char buf[40];
    for (size_t len = 0; len <= sizeof buf; len++) {
        memset(buf, 'a', sizeof buf);
        assert_int_equal(cs_utf8_ascii_span(buf, len), len);
        for (size_t at = 0; at < len; at++) {
            memset(buf, 0x7f, sizeof buf);
            buf[at] = (char) (at % 2 ? 0x80 : 0xff);
            if (at + 1 < len) {
                buf[at + 1] = (char) 0xc3; /* a later one changes nothing */
            }
            assert_int_equal(cs_utf8_ascii_span(buf, len), at);
        }
    }
}

/*  Inputs of 64 bytes or more are checked in blocks of 32 (with AVX2):
 *  every case, in ASCII at every offset across two block boundaries, and
 *  at the very end of the input, must get the same verdict. */
static void
test_utf8_verdict_is_the_same_anywhere_in_a_long_input(void **state)
{
    (void) state;
    char buf[160];
    for (size_t set = 0; set < 2; set++) {
        const utf8_case_t *cases = set == 0 ? s_good : s_bad;
        size_t count = set == 0 ? ARRAY_LEN(s_good) : ARRAY_LEN(s_bad);
        for (size_t i = 0; i < count; i++) {
            for (size_t at = 0; at <= 70; at++) {
                memset(buf, 'x', sizeof buf);
                memcpy(buf + at, cases[i].bytes, cases[i].len);
                size_t ends[] = { sizeof buf, at + cases[i].len };
                for (size_t e = 0; e < ARRAY_LEN(ends); e++) {
                    if (ends[e] < 64) {
                        continue; /* short: the byte loop, tested above */
                    }
                    if (cs_utf8_is_valid(buf, ends[e]) != (set == 0)) {
                        fail_msg("%s at offset %zu of %zu bytes: %s",
                                 cases[i].what, at, ends[e],
                                 set == 0 ? "rejected" : "accepted");
                    }
                }
            }
        }
    }
}

static uint64_t
s_xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/*  Random text, mostly well-formed with a few bytes changed, of every
 *  length up to 300: the verdict is the table's. */
static void
test_utf8_agrees_with_the_unicode_table_on_random_text(void **state)
{
    (void) state;
    static const char *const pieces[] = { "a",
                                          "Z ",
                                          "\xc3\xa9",
                                          "\xc5\x81",
                                          "\xe2\x82\xac",
                                          "\xed\x9f\xbf",
                                          "\xf0\x9f\x98\x80",
                                          "\xf4\x8f\xbf\xbf" };
    unsigned char buf[300];
    uint64_t x = 0x9E3779B97F4A7C15u; /* xorshift64: the same run every time */
    size_t rejected = 0;
    for (size_t round = 0; round < 20000; round++) {
        size_t len = round % (sizeof buf + 1);
        size_t n = 0;
        while (n < len) {
            const char *piece = pieces[s_xorshift(&x) % ARRAY_LEN(pieces)];
            for (size_t k = 0; piece[k] && n < len; k++) {
                buf[n++] = (unsigned char) piece[k];
            }
        }
        for (size_t flips = (x >> 8) % 3; flips > 0 && len > 0; flips--) {
            buf[s_xorshift(&x) % len] = (unsigned char) (x >> 32);
        }
        bool want = utf8_table_valid(buf, len);
        rejected += !want;
        if (cs_utf8_is_valid((const char *) buf, len) != want) {
            fail_msg("round %zu, %zu bytes: %s", round, len,
                     want ? "rejected" : "accepted");
        }
    }
    /* both verdicts were tried, many times */
    assert_true(rejected > 2000 && rejected < 18000);
}

static void
test_utf8_never_reads_past_len(void **state)
{
    (void) state;
    /* the bytes after len would complete the sequence: the validator must
     * judge only the first len bytes */
    const char euro[] = "\xe2\x82\xac";
    assert_true(cs_utf8_is_valid(euro, 3));
    assert_false(cs_utf8_is_valid(euro, 2));
    assert_false(cs_utf8_is_valid(euro, 1));
    assert_true(cs_utf8_is_valid(euro, 0));

    /* a heap copy without slack, so ASan sees any read past the end */
    const char *tails[] = { "\xc3", "\xe2\x82", "\xf0\x9f\x98" };
    for (size_t i = 0; i < ARRAY_LEN(tails); i++) {
        size_t len = strlen(tails[i]);
        char *exact = malloc(len);
        assert_non_null(exact);
        memcpy(exact, tails[i], len);
        assert_false(cs_utf8_is_valid(exact, len));
        free(exact);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_constructors_set_type_and_payload),
        cmocka_unit_test(test_value_order_is_total_across_and_within_types),
        cmocka_unit_test(test_value_type_decides_before_payload),
        cmocka_unit_test(test_value_int_compare_does_not_overflow),
        cmocka_unit_test(
            test_value_nan_equals_itself_and_negative_zero_differs),
        cmocka_unit_test(test_value_strings_compare_bytewise_then_by_length),
        cmocka_unit_test(test_value_is_valid_checks_size_limit_and_utf8),
        cmocka_unit_test(test_utf8_accepts_every_encoding_length_and_boundary),
        cmocka_unit_test(test_utf8_rejects_overlongs_surrogates_and_beyond_max),
        cmocka_unit_test(test_utf8_never_reads_past_len),
        cmocka_unit_test(test_utf8_valid_prefix_places_the_error),
        cmocka_unit_test(test_utf8_ascii_span_stops_at_the_first_high_byte),
        cmocka_unit_test(
            test_utf8_verdict_is_the_same_anywhere_in_a_long_input),
        cmocka_unit_test(
            test_utf8_agrees_with_the_unicode_table_on_random_text),
    };
    return cmocka_run_group_tests_name("crdt/cs_value", tests, NULL, NULL);
}
