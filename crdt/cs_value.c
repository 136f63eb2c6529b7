/*  cs_value - scalar values and their total order.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "crdt/cs_value.h"

/*  Bytes of ASCII at the start of @p p (@p len bytes), counted in whole
 *  blocks of 16 (SSE2) or 8; the caller checks the rest byte by byte. */
static size_t
s_ascii_prefix(const unsigned char *p, size_t len)
{
    size_t i = 0;
#ifdef __SSE2__
    for (; len - i >= 16; i += 16) {
        __m128i block =
            _mm_loadu_si128((const __m128i *) (const void *) (p + i));
        if (_mm_movemask_epi8(block) != 0) {
            break;
        }
    }
#endif
    for (; len - i >= 8; i += 8) {
        uint64_t word;
        memcpy(&word, p + i, sizeof word);
        if ((word & UINT64_C(0x8080808080808080)) != 0) {
            break;
        }
    }
    return i;
}

cs_value_t
cs_value_nil(void)
{
    cs_value_t v = { .type = CS_VALUE_NIL };
    return v;
}

cs_value_t
cs_value_bool(bool b)
{
    cs_value_t v = { .type = CS_VALUE_BOOL, .u.b = b };
    return v;
}

cs_value_t
cs_value_int(int64_t i)
{
    cs_value_t v = { .type = CS_VALUE_INT, .u.i = i };
    return v;
}

cs_value_t
cs_value_float(double f)
{
    cs_value_t v = { .type = CS_VALUE_FLOAT, .u.f = f };
    return v;
}

cs_value_t
cs_value_strn(const char *s, size_t len)
{
    cs_value_t v = { .type = CS_VALUE_STR, .u.s = { s, len } };
    return v;
}

cs_value_t
cs_value_str(const char *s)
{
    assert(s);
    return cs_value_strn(s, strlen(s));
}

cs_value_t
cs_value_bin(const void *p, size_t len)
{
    cs_value_t v = { .type = CS_VALUE_BIN, .u.s = { p, len } };
    return v;
}

/*  Map a double to an integer key whose signed order is IEEE-754 totalOrder:
 *  negative numbers have their magnitude bits flipped. */
static int64_t
s_float_key(double f)
{
    int64_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits < 0 ? bits ^ INT64_MAX : bits;
}

static int
s_bytes_compare(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) {
        return c;
    }
    return (alen > blen) - (alen < blen);
}

int
cs_value_compare(const cs_value_t *a, const cs_value_t *b)
{
    assert(a);
    assert(b);
    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }
    switch (a->type) {
    case CS_VALUE_NIL:
        return 0;
    case CS_VALUE_BOOL:
        return (int) a->u.b - (int) b->u.b;
    case CS_VALUE_INT:
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    case CS_VALUE_FLOAT: {
        int64_t ka = s_float_key(a->u.f), kb = s_float_key(b->u.f);
        return (ka > kb) - (ka < kb);
    }
    case CS_VALUE_STR:
    case CS_VALUE_BIN:
        return s_bytes_compare(a->u.s.ptr, a->u.s.len, b->u.s.ptr, b->u.s.len);
    }
    assert(!"unknown value type");
    return 0;
}

bool
cs_utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;
    while (i < len) {
        /* CRM text is mostly ASCII: skip it in blocks, then bytewise up
         * to the next multi-byte character */
        i += s_ascii_prefix(p + i, len - i);
        while (i < len && p[i] < 0x80) {
            i++;
        }
        if (i == len) {
            break;
        }
        unsigned char c = p[i];
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n) {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

bool
cs_value_is_valid(const cs_value_t *v)
{
    assert(v);
    switch (v->type) {
    case CS_VALUE_NIL:
    case CS_VALUE_BOOL:
    case CS_VALUE_INT:
    case CS_VALUE_FLOAT:
        return true;
    case CS_VALUE_STR:
        return v->u.s.len <= CS_VALUE_MAX && (v->u.s.len == 0 || v->u.s.ptr) &&
               cs_utf8_is_valid(v->u.s.ptr, v->u.s.len);
    case CS_VALUE_BIN:
        return v->u.s.len <= CS_VALUE_MAX && (v->u.s.len == 0 || v->u.s.ptr);
    }
    return false;
}
