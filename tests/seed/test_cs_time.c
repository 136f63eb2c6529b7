/*  test_cs_time - the timestamps of legacy exports.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cs_time.h"

/* 2024-06-10T12:34:56Z */
#define T0 INT64_C(1718022896000)

static int64_t
s_parse(const char *text)
{
    int64_t ms = -1;
    assert_int_equal(cs_time_parse(text, strlen(text), &ms), CS_OK);
    return ms;
}

static void
s_bad(const char *text)
{
    int64_t ms = 0;
    assert_int_equal(cs_time_parse(text, strlen(text), &ms), CS_EINVAL);
}

static void
test_time_iso_8601_forms(void **state)
{
    (void) state;
    assert_int_equal(s_parse("2024-06-10T12:34:56Z"), T0);
    assert_int_equal(s_parse("2024-06-10t12:34:56z"), T0);
    assert_int_equal(s_parse("2024-06-10T12:34:56.789Z"), T0 + 789);
    assert_int_equal(s_parse("2024-06-10T12:34:56.7Z"), T0 + 700);
    assert_int_equal(s_parse("2024-06-10T12:34:56.123456789Z"), T0 + 123);
    assert_int_equal(s_parse("2024-06-10T14:34:56+02:00"), T0);
    assert_int_equal(s_parse("2024-06-10T14:34:56.000+0200"), T0);
    assert_int_equal(s_parse("2024-06-10T10:34:56-02"), T0);
    assert_int_equal(s_parse("  2024-06-10T12:34:56Z "), T0);
}

static void
test_time_sql_and_date_only_are_utc(void **state)
{
    (void) state;
    assert_int_equal(s_parse("2024-06-10 12:34:56"), T0);
    assert_int_equal(s_parse("2024-06-10 12:34"), T0 - 56000);
    assert_int_equal(s_parse("2024-06-10"),
                     T0 - (12 * 3600 + 34 * 60 + 56) * 1000);
    assert_int_equal(s_parse("1970-01-01"), 0);
    assert_int_equal(s_parse("1969-12-31T23:59:59Z"), -1000);
    assert_int_equal(s_parse("2000-02-29"), INT64_C(951782400000));
}

static void
test_time_bad_text_is_refused(void **state)
{
    (void) state;
    s_bad("");
    s_bad("yesterday");
    s_bad("2024-13-01");
    s_bad("2023-02-29");
    s_bad("2024-06-31");
    s_bad("2024-06-10T25:00:00Z");
    s_bad("2024-06-10T12:60:00Z");
    s_bad("2024-06-10T12:34:56+25:00");
    s_bad("2024-06-10T12:34:56Zjunk");
    s_bad("2024-06-10T12:34:56.Z");
    s_bad("06/10/2024");
    s_bad("2024-6-10");
}

static void
test_time_strptime_patterns(void **state)
{
    (void) state;
    int64_t ms = 0;
    const char *us = "06/10/2024 12:34:56";
    assert_int_equal(
        cs_time_parse_format(us, strlen(us), "%m/%d/%Y %H:%M:%S", &ms), CS_OK);
    assert_int_equal(ms, T0);
    const char *zoned = "10.06.2024 14:34 +0200";
    assert_int_equal(
        cs_time_parse_format(zoned, strlen(zoned), "%d.%m.%Y %H:%M %z", &ms),
        CS_OK);
    assert_int_equal(ms, T0 - 56000);
    const char *epoch = "1718022896";
    assert_int_equal(cs_time_parse_format(epoch, strlen(epoch), "%s", &ms),
                     CS_OK);
    assert_int_equal(ms, T0);
    const char *trailing = "06/10/2024 junk";
    assert_int_equal(
        cs_time_parse_format(trailing, strlen(trailing), "%m/%d/%Y", &ms),
        CS_EINVAL);
    const char *impossible = "02/30/2024";
    assert_int_equal(
        cs_time_parse_format(impossible, strlen(impossible), "%m/%d/%Y", &ms),
        CS_EINVAL);
}

static void
test_time_format_round_trips(void **state)
{
    (void) state;
    char buf[40];
    assert_string_equal(cs_time_format(T0 + 789, buf, sizeof buf),
                        "2024-06-10T12:34:56.789Z");
    assert_string_equal(cs_time_format(0, buf, sizeof buf),
                        "1970-01-01T00:00:00.000Z");
    for (int64_t ms = -86400000; ms < INT64_C(5000000000000);
         ms += INT64_C(12345678901)) {
        cs_time_format(ms, buf, sizeof buf);
        assert_int_equal(s_parse(buf), ms);
    }
}

int
main(void)
{
    setenv("TZ", "America/New_York", 1); /* nothing may depend on it */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_iso_8601_forms),
        cmocka_unit_test(test_time_sql_and_date_only_are_utc),
        cmocka_unit_test(test_time_bad_text_is_refused),
        cmocka_unit_test(test_time_strptime_patterns),
        cmocka_unit_test(test_time_format_round_trips),
    };
    return cmocka_run_group_tests_name("tools/cs_time", tests, NULL, NULL);
}
