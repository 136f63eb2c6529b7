/*  cs_value - scalar values and their total order.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <string.h>

#include "crdt/cs_value.h"

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
