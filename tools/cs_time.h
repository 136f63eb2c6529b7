/*  cs_time - the timestamps of legacy exports, as milliseconds since the
 *  Unix epoch (UTC).
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. Without a pattern these forms are taken
 *  (ISO 8601 and what CRM exports write; "Z" or an offset, else UTC):
 *
 *      2024-06-10T12:34:56Z             2024-06-10T12:34:56.789+02:00
 *      2024-06-10T12:34:56.000+0000     2024-06-10 12:34:56
 *      2024-06-10 12:34                 2024-06-10
 *
 *  A fraction of a second may have any number of digits (milliseconds are
 *  kept, the rest is cut). Seconds may be 60 (a leap second: it counts as
 *  the next minute's first second). Leading and trailing blanks are
 *  ignored.
 */
#ifndef CS_TIME_H
#define CS_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"

/** Longest timestamp text taken, in bytes. */
#define CS_TIME_TEXT_MAX 128u

/** Parse @p len bytes at @p text in one of the forms above.
 *  @return CS_OK with *@p ms_out set (negative before 1970); CS_EINVAL if
 *  the text is not one of them or names an impossible date or time. */
CS_NODISCARD int cs_time_parse(const char *text, size_t len, int64_t *ms_out);

/** Parse @p len bytes at @p text with the strptime(3) pattern @p format
 *  (glibc: %z takes an offset, %s seconds since the epoch; without %z or
 *  %s the time is UTC). The whole text must match, blanks aside.
 *  @return CS_OK or CS_EINVAL. */
CS_NODISCARD int cs_time_parse_format(const char *text, size_t len,
                                      const char *format, int64_t *ms_out);

/** Days from 1970-01-01 to the civil date @p year-@p month-@p day
 *  (proleptic Gregorian; month 1-12). */
int64_t cs_time_days_from_civil(int64_t year, unsigned month, unsigned day);

/** Write @p ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into @p buf (at least 32
 *  bytes). @return @p buf. */
char *cs_time_format(int64_t ms, char *buf, size_t cap);

#endif /* CS_TIME_H */
