/*  utf8_table - the reference for tests of cs_utf8_is_valid: the
 *  well-formed byte sequences of the Unicode Standard (chapter 3, table
 *  3-7), matched row by row, as unlike the code under test as can be.
 *  SPDX-License-Identifier: MIT
 */
#ifndef CS_TEST_UTF8_TABLE_H
#define CS_TEST_UTF8_TABLE_H

#include <stdbool.h>
#include <stddef.h>

/*  The length of the well-formed sequence at @p p (@p n bytes left), or 0. */
static inline size_t
utf8_table_step(const unsigned char *p, size_t n)
{
    static const struct {
        unsigned char lo[4], hi[4];
        size_t len;
    } rows[] = {
        { { 0x00 }, { 0x7F }, 1 },
        { { 0xC2, 0x80 }, { 0xDF, 0xBF }, 2 },
        { { 0xE0, 0xA0, 0x80 }, { 0xE0, 0xBF, 0xBF }, 3 },
        { { 0xE1, 0x80, 0x80 }, { 0xEC, 0xBF, 0xBF }, 3 },
        { { 0xED, 0x80, 0x80 }, { 0xED, 0x9F, 0xBF }, 3 },
        { { 0xEE, 0x80, 0x80 }, { 0xEF, 0xBF, 0xBF }, 3 },
        { { 0xF0, 0x90, 0x80, 0x80 }, { 0xF0, 0xBF, 0xBF, 0xBF }, 4 },
        { { 0xF1, 0x80, 0x80, 0x80 }, { 0xF3, 0xBF, 0xBF, 0xBF }, 4 },
        { { 0xF4, 0x80, 0x80, 0x80 }, { 0xF4, 0x8F, 0xBF, 0xBF }, 4 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        size_t k = 0;
        while (k < rows[r].len && k < n && p[k] >= rows[r].lo[k] &&
               p[k] <= rows[r].hi[k]) {
            k++;
        }
        if (k == rows[r].len) {
            return k;
        }
    }
    return 0;
}

/*  True if all @p n bytes at @p p are well-formed UTF-8. */
static inline bool
utf8_table_valid(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t step = utf8_table_step(p + i, n - i);
        if (step == 0) {
            return false;
        }
        i += step;
    }
    return true;
}

#endif /* CS_TEST_UTF8_TABLE_H */
