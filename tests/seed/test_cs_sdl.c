/*  test_cs_sdl - Salesforce Data Loader mapping files.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tools/cs_sdl.h"

static cs_sdl_t *
s_parse(const char *text)
{
    cs_sdl_t *sdl = NULL;
    char err[128];
    assert_int_equal(cs_sdl_parse(text, strlen(text), &sdl, err, sizeof err),
                     CS_OK);
    assert_non_null(sdl);
    return sdl;
}

static void
test_sdl_data_loader_sample(void **state)
{
    (void) state;
    cs_sdl_t *sdl = s_parse("#Mapping values\n"
                            "#Thu May 26 16:19:33 GMT 2005\n"
                            "BILLINGCITY=BillingCity\r\n"
                            "SYSTEMMODSTAMP=\n"
                            "\"4-205817\"=Account\n"
                            "OWNER\\:USERNAME=Owner\\:Username\n"
                            "  ! another comment\n"
                            "\n");
    assert_int_equal(cs_sdl_count(sdl), 4);
    const cs_sdl_entry_t *city = cs_sdl_find(sdl, "billingcity");
    assert_non_null(city);
    assert_string_equal(city->column, "BILLINGCITY");
    assert_int_equal(city->field_count, 1);
    assert_string_equal(city->fields[0], "BillingCity");
    assert_int_equal(city->line, 3);
    const cs_sdl_entry_t *dropped = cs_sdl_find(sdl, "SystemModstamp");
    assert_non_null(dropped);
    assert_int_equal(dropped->field_count, 0);
    const cs_sdl_entry_t *constant = cs_sdl_entry(sdl, 2);
    assert_true(constant->constant);
    assert_string_equal(constant->column, "4-205817");
    assert_string_equal(constant->fields[0], "Account");
    assert_null(cs_sdl_find(sdl, "4-205817")); /* constants are not columns */
    const cs_sdl_entry_t *owner = cs_sdl_find(sdl, "Owner:UserName");
    assert_non_null(owner);
    assert_string_equal(owner->fields[0], "Owner:Username");
    cs_sdl_destroy(&sdl);
    assert_null(sdl);
}

static void
test_sdl_separators_comments_and_lists(void **state)
{
    (void) state;
    cs_sdl_t *sdl = s_parse("Name = FirstName , LastName   # two fields\n"
                            "Phone:MobilePhone\n"
                            "Note=Hash\\#Tag\n"
                            "Street=Mailing\\ Street\\,1\n"
                            "Unicode=Caf\\u00e9\n"
                            "Long=Con\\\n"
                            "    tinued\n");
    const cs_sdl_entry_t *name = cs_sdl_find(sdl, "NAME");
    assert_int_equal(name->field_count, 2);
    assert_string_equal(name->fields[0], "FirstName");
    assert_string_equal(name->fields[1], "LastName");
    assert_string_equal(cs_sdl_find(sdl, "phone")->fields[0], "MobilePhone");
    assert_string_equal(cs_sdl_find(sdl, "note")->fields[0], "Hash#Tag");
    assert_string_equal(cs_sdl_find(sdl, "street")->fields[0],
                        "Mailing Street,1");
    assert_string_equal(cs_sdl_find(sdl, "unicode")->fields[0], "Caf\xc3\xa9");
    assert_string_equal(cs_sdl_find(sdl, "long")->fields[0], "Continued");
    cs_sdl_destroy(&sdl);
}

static void
test_sdl_later_line_wins(void **state)
{
    (void) state;
    cs_sdl_t *sdl = s_parse("Email=Email\nEMAIL=WorkEmail\n");
    assert_int_equal(cs_sdl_count(sdl), 1);
    assert_string_equal(cs_sdl_find(sdl, "email")->fields[0], "WorkEmail");
    assert_int_equal(cs_sdl_find(sdl, "email")->line, 2);
    cs_sdl_destroy(&sdl);
}

static void
test_sdl_bad_lines_say_where(void **state)
{
    (void) state;
    cs_sdl_t *sdl = NULL;
    char err[128];
    const char *no_eq = "A=B\nJustAColumn\n";
    assert_int_equal(cs_sdl_parse(no_eq, strlen(no_eq), &sdl, err, sizeof err),
                     CS_EINVAL);
    assert_null(sdl);
    assert_non_null(strstr(err, "line 2"));
    const char *bad_u = "A=\\u12G4\n";
    assert_int_equal(cs_sdl_parse(bad_u, strlen(bad_u), &sdl, err, sizeof err),
                     CS_EINVAL);
    const char *empty_key = "=Field\n";
    assert_int_equal(
        cs_sdl_parse(empty_key, strlen(empty_key), &sdl, err, sizeof err),
        CS_EINVAL);
    const char *latin1 = "Caf\xe9=Cafe\n";
    assert_int_equal(
        cs_sdl_parse(latin1, strlen(latin1), &sdl, err, sizeof err), CS_EINVAL);
    assert_non_null(strstr(err, "UTF-8"));
}

static void
test_sdl_empty_file_maps_nothing(void **state)
{
    (void) state;
    cs_sdl_t *sdl = s_parse("# nothing\n");
    assert_int_equal(cs_sdl_count(sdl), 0);
    assert_null(cs_sdl_find(sdl, "Id"));
    cs_sdl_destroy(&sdl);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdl_data_loader_sample),
        cmocka_unit_test(test_sdl_separators_comments_and_lists),
        cmocka_unit_test(test_sdl_later_line_wins),
        cmocka_unit_test(test_sdl_bad_lines_say_where),
        cmocka_unit_test(test_sdl_empty_file_maps_nothing),
    };
    return cmocka_run_group_tests_name("tools/cs_sdl", tests, NULL, NULL);
}
