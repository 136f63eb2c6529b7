/*  test_cs_err - the one error space: every code has its own text.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "crdt/cs_err.h"

static void
test_err_every_code_has_a_distinct_text(void **state)
{
    (void) state;
    const int codes[] = {
        CS_OK,     CS_EINVAL,   CS_ENOENT, CS_EPROTO, CS_EAUTH,
        CS_EFULL,  CS_ECORRUPT, CS_EIO,    CS_EAGAIN, CS_ECLOSED,
        CS_EEXIST, CS_EDRIFT,   CS_ELIMIT,
    };
    const size_t count = sizeof codes / sizeof codes[0];
    const char *unknown = cs_strerror(1);
    assert_non_null(unknown);
    for (size_t i = 0; i < count; i++) {
        const char *text = cs_strerror(codes[i]);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
        assert_string_not_equal(text, unknown);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(text, cs_strerror(codes[j]));
        }
    }
}

static void
test_err_codes_are_negative_and_ok_is_zero(void **state)
{
    (void) state;
    assert_int_equal(CS_OK, 0);
    assert_true(CS_EINVAL < 0);
    assert_true(CS_ELIMIT < 0);
    assert_true(CS_EDRIFT < 0);
}

static void
test_err_unknown_codes_still_get_a_text(void **state)
{
    (void) state;
    const int strange[] = { 1, -1, -999, -2000, 12345 };
    for (size_t i = 0; i < sizeof strange / sizeof strange[0]; i++) {
        assert_non_null(cs_strerror(strange[i]));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_every_code_has_a_distinct_text),
        cmocka_unit_test(test_err_codes_are_negative_and_ok_is_zero),
        cmocka_unit_test(test_err_unknown_codes_still_get_a_text),
    };
    return cmocka_run_group_tests_name("crdt/cs_err", tests, NULL, NULL);
}
