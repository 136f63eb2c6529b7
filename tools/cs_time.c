/*  cs_time - timestamps of legacy exports to milliseconds since the epoch.
 *  SPDX-License-Identifier: MIT
 *
 *  Civil dates are turned into day numbers with Howard Hinnant's
 *  days_from_civil, so nothing here depends on TZ or on timegm().
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tools/cs_time.h"

#define S_MS_PER_DAY INT64_C(86400000)

int64_t
cs_time_days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400; /* [0, 399] */
    int64_t mp = month > 2 ? (int64_t) month - 3 : (int64_t) month + 9;
    int64_t doy = (153 * mp + 2) / 5 + (int64_t) day - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static bool
s_is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned
s_days_in_month(int64_t year, unsigned month)
{
    static const unsigned days[12] = { 31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31 };
    return month == 2 && s_is_leap(year) ? 29 : days[month - 1];
}

/*  A cursor over the text being parsed. */
typedef struct {
    const char *p;   /* next byte */
    const char *end; /* end of the text */
} s_cur_t;

static bool
s_digits(s_cur_t *cur, size_t count, unsigned *value)
{
    unsigned v = 0;
    for (size_t i = 0; i < count; i++) {
        if (cur->p >= cur->end || *cur->p < '0' || *cur->p > '9') {
            return false;
        }
        v = v * 10 + (unsigned) (*cur->p - '0');
        cur->p++;
    }
    *value = v;
    return true;
}

static bool
s_take(s_cur_t *cur, char c)
{
    if (cur->p < cur->end && *cur->p == c) {
        cur->p++;
        return true;
    }
    return false;
}

static bool
s_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void
s_trim(const char **text, size_t *len)
{
    while (*len > 0 && s_is_blank(**text)) {
        (*text)++;
        (*len)--;
    }
    while (*len > 0 && s_is_blank((*text)[*len - 1])) {
        (*len)--;
    }
}

/*  The zone part: Z, z, +HH, +HHMM or +HH:MM (or -). */
static bool
s_zone(s_cur_t *cur, int64_t *offset_ms)
{
    *offset_ms = 0;
    if (cur->p == cur->end) {
        return true;
    }
    if (s_take(cur, 'Z') || s_take(cur, 'z')) {
        return true;
    }
    int sign = 0;
    if (s_take(cur, '+')) {
        sign = 1;
    } else if (s_take(cur, '-')) {
        sign = -1;
    } else {
        return false;
    }
    unsigned hours = 0;
    unsigned minutes = 0;
    if (!s_digits(cur, 2, &hours)) {
        return false;
    }
    if (cur->p < cur->end) {
        s_take(cur, ':');
        if (!s_digits(cur, 2, &minutes)) {
            return false;
        }
    }
    if (hours > 23 || minutes > 59) {
        return false;
    }
    *offset_ms = sign * (int64_t) (hours * 60 + minutes) * 60000;
    return true;
}

int
cs_time_parse(const char *text, size_t len, int64_t *ms_out)
{
    assert(text || len == 0);
    assert(ms_out);
    s_trim(&text, &len);
    s_cur_t cur = { text, text + len };
    unsigned year = 0;
    unsigned month = 0;
    unsigned day = 0;
    unsigned hour = 0;
    unsigned minute = 0;
    unsigned second = 0;
    unsigned millis = 0;
    int64_t offset_ms = 0;
    if (!s_digits(&cur, 4, &year) || !s_take(&cur, '-') ||
        !s_digits(&cur, 2, &month) || !s_take(&cur, '-') ||
        !s_digits(&cur, 2, &day)) {
        return CS_EINVAL;
    }
    if (month < 1 || month > 12 || day < 1 ||
        day > s_days_in_month(year, month)) {
        return CS_EINVAL;
    }
    if (cur.p < cur.end) {
        if (!s_take(&cur, 'T') && !s_take(&cur, 't') && !s_take(&cur, ' ')) {
            return CS_EINVAL;
        }
        if (!s_digits(&cur, 2, &hour) || !s_take(&cur, ':') ||
            !s_digits(&cur, 2, &minute)) {
            return CS_EINVAL;
        }
        if (s_take(&cur, ':')) {
            if (!s_digits(&cur, 2, &second)) {
                return CS_EINVAL;
            }
            if (s_take(&cur, '.') || s_take(&cur, ',')) {
                size_t digits = 0;
                while (cur.p < cur.end && *cur.p >= '0' && *cur.p <= '9') {
                    if (digits < 3) {
                        millis = millis * 10 + (unsigned) (*cur.p - '0');
                    }
                    digits++;
                    cur.p++;
                }
                if (digits == 0) {
                    return CS_EINVAL;
                }
                for (; digits < 3; digits++) {
                    millis *= 10;
                }
            }
        }
        while (cur.p < cur.end && s_is_blank(*cur.p)) {
            cur.p++; /* "2024-06-10 12:34:56 +0200" */
        }
        if (!s_zone(&cur, &offset_ms) || cur.p != cur.end) {
            return CS_EINVAL;
        }
        if (hour > 23 || minute > 59 || second > 60) {
            return CS_EINVAL;
        }
    }
    int64_t days = cs_time_days_from_civil(year, month, day);
    int64_t ms = days * S_MS_PER_DAY +
                 ((int64_t) hour * 3600 + minute * 60 + second) * 1000 +
                 millis - offset_ms;
    *ms_out = ms;
    return CS_OK;
}

int
cs_time_parse_format(const char *text, size_t len, const char *format,
                     int64_t *ms_out)
{
    assert(text || len == 0);
    assert(format);
    assert(ms_out);
    s_trim(&text, &len);
    char buf[CS_TIME_TEXT_MAX + 1];
    if (len > CS_TIME_TEXT_MAX || memchr(text, '\0', len)) {
        return CS_EINVAL;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_mday = 1;
    tm.tm_year = 70;
    const char *end = strptime(buf, format, &tm);
    if (!end) {
        return CS_EINVAL;
    }
    while (s_is_blank(*end)) {
        end++;
    }
    if (*end != '\0') {
        return CS_EINVAL;
    }
    int64_t year = (int64_t) tm.tm_year + 1900;
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        (unsigned) tm.tm_mday >
            s_days_in_month(year, (unsigned) tm.tm_mon + 1)) {
        return CS_EINVAL;
    }
    int64_t days = cs_time_days_from_civil(year, (unsigned) tm.tm_mon + 1,
                                           (unsigned) tm.tm_mday);
    /* tm_gmtoff is set by %z, and by %s (which fills tm from localtime) */
    int64_t seconds = days * 86400 + (int64_t) tm.tm_hour * 3600 +
                      (int64_t) tm.tm_min * 60 + tm.tm_sec - tm.tm_gmtoff;
    *ms_out = seconds * 1000;
    return CS_OK;
}

char *
cs_time_format(int64_t ms, char *buf, size_t cap)
{
    assert(buf);
    assert(cap >= 32);
    int64_t days = ms / S_MS_PER_DAY;
    int64_t rest = ms % S_MS_PER_DAY;
    if (rest < 0) {
        rest += S_MS_PER_DAY;
        days--;
    }
    /* civil_from_days (Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t year = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    year += month <= 2;
    snprintf(buf, cap, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
             (long long) year, (long long) month, (long long) day,
             (long long) (rest / 3600000), (long long) (rest / 60000 % 60),
             (long long) (rest / 1000 % 60), (long long) (rest % 1000));
    return buf;
}
