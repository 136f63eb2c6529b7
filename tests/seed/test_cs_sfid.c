/*  test_cs_sfid - Salesforce id normalisation (15 -> 18 characters).
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tools/cs_sfid.h"

static void
test_sfid_data_loader_sample_gets_its_suffix(void **state)
{
    (void) state;
    char out[CS_SFID_LONG + 1];
    assert_int_equal(cs_sfid_normalize("001x0000002xLD0", 15, out), CS_OK);
    assert_string_equal(out, "001x0000002xLD0AAM");
    assert_int_equal(cs_sfid_normalize("0019000000B98de", 15, out), CS_OK);
    assert_string_equal(out, "0019000000B98deAAB");
}

static void
test_sfid_suffix_maps_each_chunk_through_the_table(void **state)
{
    (void) state;
    char suffix[3];
    cs_sfid_suffix("000000000000000", suffix);
    assert_memory_equal(suffix, "AAA", 3);
    cs_sfid_suffix("AAAAAAAAAAAAAAA", suffix);
    assert_memory_equal(suffix, "555", 3); /* 31 -> '5' */
    cs_sfid_suffix("A0000000000000Z", suffix);
    assert_memory_equal(suffix, "BAQ", 3); /* bit 0 -> B; bit 4 -> Q */
}

static void
test_sfid_valid_18_is_kept(void **state)
{
    (void) state;
    char out[CS_SFID_LONG + 1];
    assert_int_equal(cs_sfid_normalize("001x0000002xLD0AAM", 18, out), CS_OK);
    assert_string_equal(out, "001x0000002xLD0AAM");
}

static void
test_sfid_18_with_wrong_suffix_is_refused(void **state)
{
    (void) state;
    char out[CS_SFID_LONG + 1];
    /* the case of the first 15 was changed (as a spreadsheet may) */
    assert_int_equal(cs_sfid_normalize("001X0000002XLD0AAM", 18, out),
                     CS_EPROTO);
    assert_int_equal(cs_sfid_normalize("001x0000002xLD0AAX", 18, out),
                     CS_EPROTO);
}

static void
test_sfid_other_shapes_are_not_ids(void **state)
{
    (void) state;
    char out[CS_SFID_LONG + 1];
    assert_int_equal(cs_sfid_normalize("", 0, out), CS_EINVAL);
    assert_int_equal(cs_sfid_normalize("001x0000002xLD", 14, out), CS_EINVAL);
    assert_int_equal(cs_sfid_normalize("001x0000002xLD0A", 16, out), CS_EINVAL);
    assert_int_equal(cs_sfid_normalize("001x0000002-LD0", 15, out), CS_EINVAL);
    assert_false(cs_sfid_is_shaped("001x000"
                                   "\xc3\xa9"
                                   "0002xL",
                                   15));
    assert_true(cs_sfid_is_shaped("001x0000002xLD0", 15));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sfid_data_loader_sample_gets_its_suffix),
        cmocka_unit_test(test_sfid_suffix_maps_each_chunk_through_the_table),
        cmocka_unit_test(test_sfid_valid_18_is_kept),
        cmocka_unit_test(test_sfid_18_with_wrong_suffix_is_refused),
        cmocka_unit_test(test_sfid_other_shapes_are_not_ids),
    };
    return cmocka_run_group_tests_name("tools/cs_sfid", tests, NULL, NULL);
}
