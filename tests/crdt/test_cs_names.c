/*  test_cs_names - the field-name dictionary.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crdt/cs_names.h"
#include "crdt/cs_record.h"

static uint32_t
s_number(cs_names_t *names, const char *name, size_t position, bool add)
{
    return cs_names_number(names, name, strlen(name), position, add);
}

static void
s_assert_at(const cs_names_t *names, uint64_t number, const char *want)
{
    size_t len = 0;
    const char *name = cs_names_at(names, number, &len);
    assert_non_null(name);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(name, want, len);
}

/* Numbers go to names in order of first use and stay theirs; a lookup
 * without add gives none to a new name. */
static void
test_names_number_in_order_of_first_use(void **state)
{
    (void) state;
    cs_names_t *names = cs_names_new();
    assert_int_equal(s_number(names, "Email", 0, false), CS_NAMES_NONE);
    assert_int_equal(cs_names_count(names), 0);
    assert_int_equal(s_number(names, "Email", 0, true), 0);
    assert_int_equal(s_number(names, "Id", 1, true), 1);
    assert_int_equal(s_number(names, "Email", 5, false), 0);
    assert_int_equal(s_number(names, "Id", 0, true), 1);
    assert_int_equal(s_number(names, "Phone", 0, false), CS_NAMES_NONE);
    assert_int_equal(cs_names_count(names), 2);
    s_assert_at(names, 0, "Email");
    s_assert_at(names, 1, "Id");
    size_t len = 7;
    assert_null(cs_names_at(names, 2, &len));
    assert_null(cs_names_at(names, UINT64_MAX, &len));
    /* bytes, not text: a prefix or a longer name is another name */
    assert_int_equal(s_number(names, "Emai", 0, true), 2);
    assert_int_equal(s_number(names, "Emails", 0, true), 3);
    assert_int_equal(s_number(names, "Email", 0, true), 0);
    cs_names_destroy(&names);
    assert_null(names);
    cs_names_destroy(&names); /* safe on NULL */
}

/* The hint of a place is only a first guess: a different name at the
 * same place is still looked up, and the hint of a forgotten number is
 * not trusted. */
static void
test_names_hint_is_only_a_guess(void **state)
{
    (void) state;
    cs_names_t *names = cs_names_new();
    for (int round = 0; round < 3; round++) {
        assert_int_equal(s_number(names, "a", 0, true), 0);
        assert_int_equal(s_number(names, "b", 0, true), 1);
        assert_int_equal(s_number(names, "c", 64, true), 2); /* same hint */
        assert_int_equal(s_number(names, "a", 64, true), 0);
    }
    cs_names_truncate(names, 2);
    assert_int_equal(s_number(names, "c", 64, false), CS_NAMES_NONE);
    assert_int_equal(s_number(names, "d", 64, true), 2);
    s_assert_at(names, 2, "d");
    cs_names_destroy(&names);
}

/* A loader adds names in order; it is told of invalid and repeated
 * ones. */
static void
test_names_add_refuses_bad_and_repeated_names(void **state)
{
    (void) state;
    cs_names_t *names = cs_names_new();
    assert_int_equal(cs_names_add(names, "Id", 2), CS_OK);
    assert_int_equal(cs_names_add(names, "Id", 2), CS_EINVAL);
    assert_int_equal(cs_names_add(names, "", 0), CS_EINVAL);
    assert_int_equal(cs_names_add(names, "a\0b", 3), CS_EINVAL);
    assert_int_equal(cs_names_add(names, "\xff", 1), CS_EINVAL);
    char long_name[CS_FIELD_NAME_MAX + 2];
    memset(long_name, 'x', sizeof long_name);
    assert_int_equal(cs_names_add(names, long_name, CS_FIELD_NAME_MAX + 1),
                     CS_EINVAL);
    assert_int_equal(cs_names_add(names, long_name, CS_FIELD_NAME_MAX), CS_OK);
    /* and a lookup never numbers an invalid name */
    assert_int_equal(s_number(names, "a\xc3", 0, true), CS_NAMES_NONE);
    assert_int_equal(cs_names_count(names), 2);
    cs_names_destroy(&names);
}

/* The table holds CS_NAMES_MAX names; after that, new names get no
 * number and the old ones keep theirs. Truncating it frees room. */
static void
test_names_stop_at_the_limit(void **state)
{
    (void) state;
    cs_names_t *names = cs_names_new();
    char name[32];
    for (uint32_t n = 0; n < CS_NAMES_MAX; n++) {
        snprintf(name, sizeof name, "f%u", n);
        assert_int_equal(s_number(names, name, n, true), n);
    }
    assert_int_equal(s_number(names, "one more", 0, true), CS_NAMES_NONE);
    assert_int_equal(cs_names_add(names, "one more", 8), CS_ELIMIT);
    for (uint32_t n = 0; n < CS_NAMES_MAX; n += 997) {
        snprintf(name, sizeof name, "f%u", n);
        assert_int_equal(s_number(names, name, n + 1, false), n);
    }
    cs_names_truncate(names, 10);
    assert_int_equal(cs_names_count(names), 10);
    assert_int_equal(s_number(names, "f10", 0, false), CS_NAMES_NONE);
    assert_int_equal(s_number(names, "f9", 3, false), 9);
    assert_int_equal(s_number(names, "one more", 0, true), 10);
    cs_names_destroy(&names);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_number_in_order_of_first_use),
        cmocka_unit_test(test_names_hint_is_only_a_guess),
        cmocka_unit_test(test_names_add_refuses_bad_and_repeated_names),
        cmocka_unit_test(test_names_stop_at_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
