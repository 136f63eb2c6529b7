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

static void
test_utf8_accepts_every_encoding_length_and_boundary(void **state)
{
    (void) state;
    const utf8_case_t good[] = {
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
        U8("Gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac \xf0\x9f\x98\x80",
           "mixed text"),
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        if (!cs_utf8_is_valid(good[i].bytes, good[i].len)) {
            fail_msg("rejected valid UTF-8: %s", good[i].what);
        }
    }
    assert_true(cs_utf8_is_valid(NULL, 0));
}

static void
test_utf8_rejects_overlongs_surrogates_and_beyond_max(void **state)
{
    (void) state;
    const utf8_case_t bad[] = {
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
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (cs_utf8_is_valid(bad[i].bytes, bad[i].len)) {
            fail_msg("accepted invalid UTF-8: %s", bad[i].what);
        }
    }
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
    };
    return cmocka_run_group_tests_name("crdt/cs_value", tests, NULL, NULL);
}
