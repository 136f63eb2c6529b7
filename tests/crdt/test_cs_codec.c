/*  test_cs_codec - msgpack encoding of records and deltas: both forms round
 *  trip, the canonical bytes are fixed by the state alone, and the decoders
 *  refuse every malformed, oversized or hostile input with CS_EPROTO.
 *  SPDX-License-Identifier: MIT
 *
 *  Hostile inputs are written with a small msgpack writer of our own (the
 *  s_mp_* helpers), so each one is a valid record with exactly one thing
 *  wrong, and the same builder without the mutation must decode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include "crdt/cs_codec.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NODE_A       UINT64_C(0x0a0a0a0a0a0a0a0a)
#define NODE_B       UINT64_C(0x0b0b0b0b0b0b0b0b)
#define T0           UINT64_C(1700000000000)

/* ---------------- allocation guard ---------------- */
#include "../alloc_watch.h"

#define ALLOC_BOUND ((size_t) 256 << 20) /* largest request we tolerate */

/* ---------------- a small msgpack writer ---------------- */

static void
s_mp_byte(cs_buf_t *b, uint8_t byte)
{
    cs_buf_append(b, &byte, 1);
}

static void
s_mp_be(cs_buf_t *b, uint64_t v, unsigned bytes)
{
    for (unsigned i = bytes; i > 0; i--) {
        s_mp_byte(b, (uint8_t) (v >> (8 * (i - 1))));
    }
}

static void
s_mp_raw(cs_buf_t *b, const char *hex)
{
    /* "dd ff ff ff ff" -> 5 bytes */
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned int byte = 0;
        assert_int_equal(sscanf(hex, "%2x", &byte), 1);
        s_mp_byte(b, (uint8_t) byte);
        hex += 2;
    }
}

static void
s_mp_nil(cs_buf_t *b)
{
    s_mp_byte(b, 0xc0);
}

static void
s_mp_array(cs_buf_t *b, uint32_t n)
{
    if (n < 16) {
        s_mp_byte(b, (uint8_t) (0x90 | n));
    } else if (n <= 0xffff) {
        s_mp_byte(b, 0xdc);
        s_mp_be(b, n, 2);
    } else {
        s_mp_byte(b, 0xdd);
        s_mp_be(b, n, 4);
    }
}

static void
s_mp_uint(cs_buf_t *b, uint64_t v)
{
    if (v < 128) {
        s_mp_byte(b, (uint8_t) v);
    } else if (v <= 0xff) {
        s_mp_byte(b, 0xcc);
        s_mp_be(b, v, 1);
    } else if (v <= 0xffff) {
        s_mp_byte(b, 0xcd);
        s_mp_be(b, v, 2);
    } else if (v <= 0xffffffff) {
        s_mp_byte(b, 0xce);
        s_mp_be(b, v, 4);
    } else {
        s_mp_byte(b, 0xcf);
        s_mp_be(b, v, 8);
    }
}

static void
s_mp_int(cs_buf_t *b, int64_t v)
{
    if (v >= 0) {
        s_mp_uint(b, (uint64_t) v);
    } else if (v >= -32) {
        s_mp_byte(b, (uint8_t) (0xe0 | (v + 32)));
    } else if (v >= INT8_MIN) {
        s_mp_byte(b, 0xd0);
        s_mp_be(b, (uint64_t) v, 1);
    } else if (v >= INT16_MIN) {
        s_mp_byte(b, 0xd1);
        s_mp_be(b, (uint64_t) v, 2);
    } else if (v >= INT32_MIN) {
        s_mp_byte(b, 0xd2);
        s_mp_be(b, (uint64_t) v, 4);
    } else {
        s_mp_byte(b, 0xd3);
        s_mp_be(b, (uint64_t) v, 8);
    }
}

static void
s_mp_str(cs_buf_t *b, const char *s, size_t len)
{
    if (len < 32) {
        s_mp_byte(b, (uint8_t) (0xa0 | len));
    } else if (len <= 0xff) {
        s_mp_byte(b, 0xd9);
        s_mp_be(b, len, 1);
    } else if (len <= 0xffff) {
        s_mp_byte(b, 0xda);
        s_mp_be(b, len, 2);
    } else {
        s_mp_byte(b, 0xdb);
        s_mp_be(b, len, 4);
    }
    cs_buf_append(b, s, len);
}

static void
s_mp_cstr(cs_buf_t *b, const char *s)
{
    s_mp_str(b, s, strlen(s));
}

static void
s_mp_bin(cs_buf_t *b, const void *p, size_t len)
{
    if (len <= 0xff) {
        s_mp_byte(b, 0xc4);
        s_mp_be(b, len, 1);
    } else if (len <= 0xffff) {
        s_mp_byte(b, 0xc5);
        s_mp_be(b, len, 2);
    } else {
        s_mp_byte(b, 0xc6);
        s_mp_be(b, len, 4);
    }
    cs_buf_append(b, p, len);
}

/* ---------------- helpers ---------------- */

static cs_stamp_t
s_at(uint64_t ms, uint64_t origin)
{
    cs_stamp_t stamp = { cs_hlc_make(T0 + ms, 0), origin };
    return stamp;
}

static void
s_set(cs_record_t *rec, const char *name, cs_value_t value, cs_stamp_t stamp,
      uint64_t seq)
{
    assert_int_equal(cs_record_set(rec, name, &value, stamp, seq, NULL), CS_OK);
}

/* A record with a tombstone and one field of every value type. */
static cs_record_t *
s_sample_record(void)
{
    static const unsigned char blob[] = { 0x00, 0xff, 0x00, 0x7f };
    cs_record_t *rec = cs_record_new();
    assert_true(cs_record_delete(rec, s_at(1, NODE_B), 3));
    s_set(rec, "active", cs_value_bool(true), s_at(2, NODE_A), 4);
    s_set(rec, "avatar", cs_value_bin(blob, sizeof blob), s_at(3, NODE_A), 5);
    s_set(rec, "balance", cs_value_float(-1234.5), s_at(4, NODE_B), 6);
    s_set(rec, "city", cs_value_str("Z\xc3\xbcrich"), s_at(5, NODE_A), 7);
    s_set(rec, "fax", cs_value_nil(), s_at(6, NODE_B), 8);
    s_set(rec, "score", cs_value_int(-42), s_at(7, NODE_A), 9);
    s_set(rec, "visits", cs_value_int(INT64_MAX), s_at(8, NODE_A), 10);
    return rec;
}

/* Decode from an exact-size heap copy, so ASan sees any read past the end. */
static int
s_decode(const void *data, size_t len, cs_codec_form_t form,
         cs_record_t **rec_out)
{
    void *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) {
        memcpy(copy, data, len);
    }
    int rc = cs_codec_decode_record(copy, len, form, rec_out);
    free(copy);
    return rc;
}

static int
s_decode_delta(const void *data, size_t len, cs_delta_t *delta)
{
    void *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) {
        memcpy(copy, data, len);
    }
    int rc = cs_codec_decode_delta(copy, len, delta);
    free(copy);
    return rc;
}

static void
s_expect_eproto(const void *data, size_t len, cs_codec_form_t form,
                const char *what)
{
    cs_record_t *rec = NULL;
    int rc = s_decode(data, len, form, &rec);
    if (rc != CS_EPROTO) {
        cs_record_destroy(&rec);
        fail_msg("%s (form %d, %zu bytes): got %d (%s), want CS_EPROTO", what,
                 (int) form, len, rc, cs_strerror(rc));
    }
    if (rec != NULL) {
        fail_msg("%s (form %d): failed decode set *rec_out", what, (int) form);
    }
}

static void
s_expect_delta_eproto(const void *data, size_t len, const char *what)
{
    cs_delta_t delta;
    memset(&delta, 0, sizeof delta);
    int rc = s_decode_delta(data, len, &delta);
    if (rc != CS_EPROTO) {
        cs_delta_fini(&delta);
        fail_msg("delta %s (%zu bytes): got %d (%s), want CS_EPROTO", what, len,
                 rc, cs_strerror(rc));
    }
    if (delta.record != NULL) {
        fail_msg("delta %s: failed decode left a record", what);
    }
}

/* Every seq in @p a equals the one in @p b (the states are equal). */
static void
s_assert_same_seqs(const cs_record_t *a, const cs_record_t *b)
{
    assert_int_equal(cs_record_field_count(a), cs_record_field_count(b));
    for (size_t i = 0; i < cs_record_field_count(a); i++) {
        assert_int_equal(cs_record_field_at(a, i).seq,
                         cs_record_field_at(b, i).seq);
    }
    uint64_t seq_a = 0, seq_b = 0;
    assert_int_equal(cs_record_tombstone(a, NULL, &seq_a),
                     cs_record_tombstone(b, NULL, &seq_b));
    assert_int_equal(seq_a, seq_b);
}

static void
s_assert_all_seqs(const cs_record_t *rec, uint64_t seq)
{
    for (size_t i = 0; i < cs_record_field_count(rec); i++) {
        assert_int_equal(cs_record_field_at(rec, i).seq, seq);
    }
    uint64_t tomb_seq = 0;
    if (cs_record_tombstone(rec, NULL, &tomb_seq)) {
        assert_int_equal(tomb_seq, seq);
    }
}

static void
s_encode(const cs_record_t *rec, cs_codec_form_t form, cs_buf_t *out)
{
    cs_buf_reset(out);
    cs_codec_encode_record(rec, form, out);
}

static void
s_assert_bytes(const cs_buf_t *buf, const char *hex)
{
    cs_buf_t want;
    cs_buf_init(&want);
    s_mp_raw(&want, hex);
    if (buf->len != want.len || memcmp(buf->data, want.data, want.len) != 0) {
        char got[512] = "";
        for (size_t i = 0; i < buf->len && i < 160; i++) {
            snprintf(got + strlen(got), sizeof got - strlen(got), "%02x ",
                     buf->data[i]);
        }
        cs_buf_fini(&want);
        fail_msg("bytes differ:\n want %s\n got  %s", hex, got);
    }
    cs_buf_fini(&want);
}

/* ---------------- cs_buf ---------------- */

static void
test_buf_appends_resets_and_frees(void **state)
{
    (void) state;
    cs_buf_t buf;
    cs_buf_init(&buf);
    assert_null(buf.data);
    assert_int_equal(buf.len, 0);

    cs_buf_append(&buf, "abc", 3);
    cs_buf_append(&buf, "", 0);
    cs_buf_append(&buf, "de", 2);
    assert_int_equal(buf.len, 5);
    assert_true(buf.cap >= 5);
    assert_memory_equal(buf.data, "abcde", 5);

    /* grow well past any initial capacity */
    for (int i = 0; i < 100000; i++) {
        cs_buf_append(&buf, "x", 1);
    }
    assert_int_equal(buf.len, 100005);
    assert_int_equal(buf.data[100004], 'x');

    size_t cap = buf.cap;
    cs_buf_reset(&buf);
    assert_int_equal(buf.len, 0);
    assert_int_equal(buf.cap, cap);
    cs_buf_fini(&buf);
}

/* ---------------- canonical bytes ---------------- */

static void
test_codec_empty_record_has_fixed_bytes(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_encode(rec, CS_CODEC_CANONICAL, &buf);
    s_assert_bytes(&buf, "94 01 c0 c0 90");
    s_encode(rec, CS_CODEC_STORED, &buf);
    s_assert_bytes(&buf, "94 02 c0 c0 90");
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_layout_matches_the_header(void **state)
{
    (void) state;
    /* tombstone (hlc 3, origin 2, seq 9); a = 1 and b = 1.5, both at
     * (hlc 0x10000, origin 7) with seqs 5 and 6: the stamp is the default
     * and no field carries it. The seqs tie, so the larger, 6, is the
     * default seq and only a carries its own. */
    cs_record_t *rec = cs_record_new();
    cs_stamp_t tomb = { 3, 2 };
    cs_stamp_t write = { cs_hlc_make(1, 0), 7 };
    assert_true(cs_record_delete(rec, tomb, 9));
    s_set(rec, "b", cs_value_float(1.5), write, 6);
    s_set(rec, "a", cs_value_int(1), write, 5);

    cs_buf_t buf;
    cs_buf_init(&buf);
    s_encode(rec, CS_CODEC_CANONICAL, &buf);
    s_assert_bytes(&buf, "94 01 92 03 02 92 ce 00 01 00 00 07 92"
                         " 92 a1 61 01"
                         " 92 a1 62 cb 3f f8 00 00 00 00 00 00");
    s_encode(rec, CS_CODEC_STORED, &buf);
    s_assert_bytes(&buf, "94 02 93 03 02 09 93 ce 00 01 00 00 07 06 92"
                         " 93 a1 61 01 05"
                         " 92 a1 62 cb 3f f8 00 00 00 00 00 00");
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_scalars_use_shortest_ints_and_float64(void **state)
{
    (void) state;
    const struct {
        cs_value_t value; /* the field value */
        const char *hex;  /* its expected msgpack bytes */
    } cases[] = {
        { cs_value_int(0), "00" },
        { cs_value_int(127), "7f" },
        { cs_value_int(128), "cc 80" },
        { cs_value_int(255), "cc ff" },
        { cs_value_int(256), "cd 01 00" },
        { cs_value_int(65535), "cd ff ff" },
        { cs_value_int(65536), "ce 00 01 00 00" },
        { cs_value_int(INT64_C(4294967296)), "cf 00 00 00 01 00 00 00 00" },
        { cs_value_int(INT64_MAX), "cf 7f ff ff ff ff ff ff ff" },
        { cs_value_int(-1), "ff" },
        { cs_value_int(-32), "e0" },
        { cs_value_int(-33), "d0 df" },
        { cs_value_int(-128), "d0 80" },
        { cs_value_int(-129), "d1 ff 7f" },
        { cs_value_int(-32769), "d2 ff ff 7f ff" },
        { cs_value_int(INT64_MIN), "d3 80 00 00 00 00 00 00 00" },
        { cs_value_float(0.0), "cb 00 00 00 00 00 00 00 00" },
        { cs_value_float(-0.0), "cb 80 00 00 00 00 00 00 00" },
        { cs_value_float(1.0), "cb 3f f0 00 00 00 00 00 00" },
        { cs_value_float(INFINITY), "cb 7f f0 00 00 00 00 00 00" },
        { cs_value_nil(), "c0" },
        { cs_value_bool(false), "c2" },
        { cs_value_bool(true), "c3" },
        { cs_value_str(""), "a0" },
        { cs_value_str("hi"), "a2 68 69" },
        { cs_value_bin(NULL, 0), "c4 00" },
        { cs_value_bin("\x00\xff", 2), "c4 02 00 ff" },
    };
    cs_buf_t buf;
    cs_buf_init(&buf);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cs_record_t *rec = cs_record_new();
        cs_stamp_t stamp = { 1, 1 };
        s_set(rec, "v", cases[i].value, stamp, 1);
        s_encode(rec, CS_CODEC_CANONICAL, &buf);
        char want[128];
        snprintf(want, sizeof want, "94 01 c0 92 01 01 91 92 a1 76 %s",
                 cases[i].hex);
        s_assert_bytes(&buf, want);
        cs_record_destroy(&rec);
    }
    /* stamps too: the largest hlc and origin take 9 bytes each */
    cs_record_t *rec = cs_record_new();
    cs_stamp_t big = { UINT64_MAX, UINT64_MAX };
    s_set(rec, "v", cs_value_nil(), big, 1);
    s_encode(rec, CS_CODEC_CANONICAL, &buf);
    s_assert_bytes(&buf, "94 01 c0 92"
                         " cf ff ff ff ff ff ff ff ff"
                         " cf ff ff ff ff ff ff ff ff"
                         " 91 92 a1 76 c0");
    cs_record_destroy(&rec);
    cs_buf_fini(&buf);
}

/*  msgpack-c reads @p buf (a whole record) as one object, in
 *  @p unpacked (its strings point into @p buf). */
static void
s_msgpack_c_reads(const cs_buf_t *buf, msgpack_unpacked *unpacked)
{
    size_t offset = 0;
    assert_int_equal(msgpack_unpack_next(unpacked, (const char *) buf->data,
                                         buf->len, &offset),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(offset, buf->len);
}

/*  Every part of a record spelled with a longer header than the shortest:
 *  msgpack-c reads it as the same object as the canonical bytes, and our
 *  decoder, which accepts exactly one encoding per record, refuses it. */
static void
test_codec_decode_refuses_longer_spellings_msgpack_c_reads(void **state)
{
    (void) state;
/* a record [1, nil, [1, 1], [["v", VALUE]]] */
#define RECORD_HEX "%s %s c0 92 %s 01 %s %s %s %s"
    const struct {
        const char *what;
        const char *parts[7]; /* top array, form, hlc, fields, field,
                                 name, value */
    } cases[] = {
        { "canonical", { "94", "01", "01", "91", "92", "a1 76", "05" } },
        { "top array16",
          { "dc 00 04", "01", "01", "91", "92", "a1 76", "05" } },
        { "form u8", { "94", "cc 01", "01", "91", "92", "a1 76", "05" } },
        { "hlc u16", { "94", "01", "cd 00 01", "91", "92", "a1 76", "05" } },
        { "fields array32",
          { "94", "01", "01", "dd 00 00 00 01", "92", "a1 76", "05" } },
        { "field array16",
          { "94", "01", "01", "91", "dc 00 02", "a1 76", "05" } },
        { "name str8", { "94", "01", "01", "91", "92", "d9 01 76", "05" } },
        { "5 as u64",
          { "94", "01", "01", "91", "92", "a1 76",
            "cf 00 00 00 00 00 00 00 05" } },
        { "5 as int8", { "94", "01", "01", "91", "92", "a1 76", "d0 05" } },
        { "-5 as int8", { "94", "01", "01", "91", "92", "a1 76", "d0 fb" } },
        { "-100 as int16",
          { "94", "01", "01", "91", "92", "a1 76", "d1 ff 9c" } },
        { "-200 as int32",
          { "94", "01", "01", "91", "92", "a1 76", "d2 ff ff ff 38" } },
        { "-40000 as int64",
          { "94", "01", "01", "91", "92", "a1 76",
            "d3 ff ff ff ff ff ff 63 c0" } },
        { "1.5 as float32",
          { "94", "01", "01", "91", "92", "a1 76", "ca 3f c0 00 00" } },
        { "\"ab\" as str16",
          { "94", "01", "01", "91", "92", "a1 76", "da 00 02 61 62" } },
        { "bin as bin32",
          { "94", "01", "01", "91", "92", "a1 76", "c6 00 00 00 01 ff" } },
    };
    /* the canonical spelling of each value above, in order */
    const char *shortest[] = { "05",
                               "05",
                               "05",
                               "05",
                               "05",
                               "05",
                               "05",
                               "05",
                               "05",
                               "fb",
                               "d0 9c",
                               "d1 ff 38",
                               "d2 ff ff 63 c0",
                               "cb 3f f8 00 00 00 00 00 00",
                               "a2 61 62",
                               "c4 01 ff" };
    assert_int_equal(ARRAY_LEN(shortest), ARRAY_LEN(cases));
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *const *p = cases[i].parts;
        char hex[256], want_hex[256];
        snprintf(hex, sizeof hex, RECORD_HEX, p[0], p[1], p[2], p[3], p[4],
                 p[5], p[6]);
        snprintf(want_hex, sizeof want_hex, RECORD_HEX, "94", "01", "01", "91",
                 "92", "a1 76", shortest[i]);
        cs_buf_t buf, want;
        cs_buf_init(&buf);
        cs_buf_init(&want);
        s_mp_raw(&buf, hex);
        s_mp_raw(&want, want_hex);
        msgpack_unpacked buf_u, want_u;
        msgpack_unpacked_init(&buf_u);
        msgpack_unpacked_init(&want_u);
        s_msgpack_c_reads(&buf, &buf_u);
        s_msgpack_c_reads(&want, &want_u);
        /* (msgpack-c gives float32 a type of its own, the value is 1.5) */
        msgpack_object *value =
            &buf_u.data.via.array.ptr[3].via.array.ptr[0].via.array.ptr[1];
        if (value->type == MSGPACK_OBJECT_FLOAT32) {
            value->type = MSGPACK_OBJECT_FLOAT64;
        }
        if (!msgpack_object_equal(buf_u.data, want_u.data)) {
            fail_msg("%s: msgpack-c reads another object", cases[i].what);
        }
        msgpack_unpacked_destroy(&buf_u);
        msgpack_unpacked_destroy(&want_u);

        if (strcmp(hex, want_hex) != 0) {
            s_expect_eproto(buf.data, buf.len, CS_CODEC_CANONICAL,
                            cases[i].what);
        }
        /* the shortest spelling decodes, to the bytes it came from */
        cs_record_t *rec = NULL;
        assert_int_equal(
            s_decode(want.data, want.len, CS_CODEC_CANONICAL, &rec), CS_OK);
        s_encode(rec, CS_CODEC_CANONICAL, &buf);
        s_assert_bytes(&buf, want_hex);
        cs_record_destroy(&rec);
        cs_buf_fini(&want);
        cs_buf_fini(&buf);
    }
#undef RECORD_HEX
}

static void
test_codec_canonical_bytes_ignore_insertion_order_and_seqs(void **state)
{
    (void) state;
    /* the same state reached three ways: different order, overwritten
     * values, merges, dropped fields and different seqs */
    cs_record_t *x = cs_record_new();
    s_set(x, "name", cs_value_str("Ada"), s_at(5, NODE_A), 1);
    s_set(x, "email", cs_value_str("ada@example.org"), s_at(6, NODE_B), 2);
    s_set(x, "age", cs_value_int(36), s_at(7, NODE_A), 3);

    cs_record_t *y = cs_record_new();
    s_set(y, "age", cs_value_int(35), s_at(4, NODE_A), 10);
    s_set(y, "gone", cs_value_str("dropped"), s_at(1, NODE_A), 11);
    s_set(y, "age", cs_value_int(36), s_at(7, NODE_A), 12);
    s_set(y, "email", cs_value_str("ada@example.org"), s_at(6, NODE_B), 13);
    s_set(y, "name", cs_value_str("Ada"), s_at(5, NODE_A), 14);
    assert_true(cs_record_delete(y, s_at(2, NODE_A), 15));
    cs_record_t *z = cs_record_new();
    assert_true(cs_record_delete(z, s_at(2, NODE_A), 1));
    assert_int_equal(cs_record_merge(z, x, 2, NULL), CS_OK);
    assert_true(cs_record_delete(x, s_at(2, NODE_A), 4));

    cs_buf_t bx, by, bz;
    cs_buf_init(&bx);
    cs_buf_init(&by);
    cs_buf_init(&bz);
    s_encode(x, CS_CODEC_CANONICAL, &bx);
    s_encode(y, CS_CODEC_CANONICAL, &by);
    s_encode(z, CS_CODEC_CANONICAL, &bz);
    assert_int_equal(bx.len, by.len);
    assert_memory_equal(bx.data, by.data, bx.len);
    assert_int_equal(bx.len, bz.len);
    assert_memory_equal(bx.data, bz.data, bx.len);

    /* the stored forms differ: they carry the seqs */
    s_encode(x, CS_CODEC_STORED, &bx);
    s_encode(y, CS_CODEC_STORED, &by);
    assert_true(bx.len != by.len || memcmp(bx.data, by.data, bx.len) != 0);
    /* until the seqs agree too */
    cs_record_set_seq(x, 77);
    cs_record_set_seq(y, 77);
    s_encode(x, CS_CODEC_STORED, &bx);
    s_encode(y, CS_CODEC_STORED, &by);
    assert_int_equal(bx.len, by.len);
    assert_memory_equal(bx.data, by.data, bx.len);

    cs_buf_fini(&bx);
    cs_buf_fini(&by);
    cs_buf_fini(&bz);
    cs_record_destroy(&x);
    cs_record_destroy(&y);
    cs_record_destroy(&z);
}

static void
test_codec_encode_appends_to_the_buffer(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_buf_append(&buf, "key", 3);
    cs_codec_encode_record(rec, CS_CODEC_CANONICAL, &buf);
    assert_memory_equal(buf.data, "key", 3);
    cs_record_t *back = NULL;
    assert_int_equal(
        s_decode(buf.data + 3, buf.len - 3, CS_CODEC_CANONICAL, &back), CS_OK);
    assert_true(cs_record_equal(rec, back));
    cs_record_destroy(&back);
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

/* ---------------- round trips ---------------- */

static void
test_codec_canonical_round_trip_keeps_state_and_drops_seqs(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_encode(rec, CS_CODEC_CANONICAL, &buf);
    cs_record_t *back = NULL;
    assert_int_equal(s_decode(buf.data, buf.len, CS_CODEC_CANONICAL, &back),
                     CS_OK);
    assert_non_null(back);
    assert_true(cs_record_equal(rec, back));
    s_assert_all_seqs(back, 0);
    assert_int_equal(cs_record_max_seq(back), 0);

    /* and it encodes to the same bytes again */
    cs_buf_t again;
    cs_buf_init(&again);
    s_encode(back, CS_CODEC_CANONICAL, &again);
    assert_int_equal(again.len, buf.len);
    assert_memory_equal(again.data, buf.data, buf.len);
    cs_buf_fini(&again);
    cs_buf_fini(&buf);
    cs_record_destroy(&back);
    cs_record_destroy(&rec);
}

static void
test_codec_stored_round_trip_keeps_seqs(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_encode(rec, CS_CODEC_STORED, &buf);
    cs_record_t *back = NULL;
    assert_int_equal(s_decode(buf.data, buf.len, CS_CODEC_STORED, &back),
                     CS_OK);
    assert_true(cs_record_equal(rec, back));
    s_assert_same_seqs(rec, back);
    assert_int_equal(cs_record_max_seq(back), 10);
    cs_buf_fini(&buf);
    cs_record_destroy(&back);
    cs_record_destroy(&rec);
}

static void
test_codec_round_trip_keeps_exact_values(void **state)
{
    (void) state;
    double nan_payload;
    uint64_t nan_bits = UINT64_C(0x7ff80000deadbeef);
    memcpy(&nan_payload, &nan_bits, sizeof nan_payload);
    const cs_value_t values[] = {
        cs_value_float(-0.0),
        cs_value_float(nan_payload),
        cs_value_float(4.9e-324),
        cs_value_float(-INFINITY),
        cs_value_int(INT64_MIN),
        cs_value_int(-1),
        cs_value_int(128),
        cs_value_str(""),
        cs_value_strn("a\0b", 3),
        cs_value_bin(NULL, 0),
        cs_value_bin("\0\0\0", 3),
        cs_value_bool(false),
        cs_value_str("\xf0\x9f\x98\x80"),
    };
    cs_buf_t buf;
    cs_buf_init(&buf);
    for (size_t i = 0; i < ARRAY_LEN(values); i++) {
        for (int form = CS_CODEC_CANONICAL; form <= CS_CODEC_STORED; form++) {
            cs_record_t *rec = cs_record_new();
            s_set(rec, "v", values[i], s_at(1, NODE_A), 3);
            s_encode(rec, (cs_codec_form_t) form, &buf);
            cs_record_t *back = NULL;
            assert_int_equal(
                s_decode(buf.data, buf.len, (cs_codec_form_t) form, &back),
                CS_OK);
            cs_field_t field;
            assert_int_equal(cs_record_get(back, "v", &field), CS_OK);
            if (cs_value_compare(&field.value, &values[i]) != 0) {
                fail_msg("value %zu changed in a form %d round trip", i, form);
            }
            cs_record_destroy(&back);
            cs_record_destroy(&rec);
        }
    }
    cs_buf_fini(&buf);
}

static void
test_codec_round_trip_at_every_limit(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    char name[CS_FIELD_NAME_MAX + 1];
    /* 1023 short fields, a longest name, and a largest string and binary */
    for (unsigned n = 0; n < CS_RECORD_FIELDS_MAX - 3; n++) {
        snprintf(name, sizeof name, "f%04u", n);
        s_set(rec, name, cs_value_int(n), s_at(n, NODE_A), n + 1);
    }
    memset(name, 'z', CS_FIELD_NAME_MAX);
    name[CS_FIELD_NAME_MAX] = '\0';
    s_set(rec, name, cs_value_int(1), s_at(1, NODE_B), 2000);
    char *big = malloc(CS_VALUE_MAX);
    assert_non_null(big);
    memset(big, 'y', CS_VALUE_MAX);
    s_set(rec, "g-str", cs_value_strn(big, CS_VALUE_MAX), s_at(2, NODE_B),
          2001);
    s_set(rec, "g-bin", cs_value_bin(big, CS_VALUE_MAX), s_at(2, NODE_B), 2002);
    free(big);
    assert_int_equal(cs_record_field_count(rec), CS_RECORD_FIELDS_MAX);

    cs_buf_t buf;
    cs_buf_init(&buf);
    for (int form = CS_CODEC_CANONICAL; form <= CS_CODEC_STORED; form++) {
        s_encode(rec, (cs_codec_form_t) form, &buf);
        cs_record_t *back = NULL;
        assert_int_equal(
            s_decode(buf.data, buf.len, (cs_codec_form_t) form, &back), CS_OK);
        assert_true(cs_record_equal(rec, back));
        if (form == CS_CODEC_STORED) {
            s_assert_same_seqs(rec, back);
        }
        cs_record_destroy(&back);
    }
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_largest_possible_record_fits_the_size_limit(void **state)
{
    (void) state;
    /* Fill CS_RECORD_BYTES_MAX with large values, then every other field
     * slot with the costliest small field (9-byte integers, and a 9-byte
     * stamp and seq of its own: no two fields share one, so only one can
     * use the default): the worst case the codec limit must hold. */
    cs_record_t *rec = cs_record_new();
    char *big = malloc(CS_VALUE_MAX);
    assert_non_null(big);
    memset(big, 'q', CS_VALUE_MAX);
    uint64_t next = UINT64_MAX; /* counts down: a new stamp and seq each */
    size_t small_fields = CS_RECORD_FIELDS_MAX - 4;
    size_t small_bytes = small_fields * 4; /* names "nXXX", hex */
    size_t left = CS_RECORD_BYTES_MAX - small_bytes;
    for (int n = 0; n < 4; n++) {
        char name[8];
        snprintf(name, sizeof name, "v%d", n);
        size_t len = left - strlen(name) < CS_VALUE_MAX ? left - strlen(name)
                                                        : CS_VALUE_MAX;
        cs_value_t v = cs_value_bin(big, len);
        cs_stamp_t far = { next, next };
        assert_int_equal(cs_record_set(rec, name, &v, far, next, NULL), CS_OK);
        left -= strlen(name) + len;
        next--;
    }
    for (size_t n = 0; n < small_fields; n++) {
        char name[8];
        snprintf(name, sizeof name, "n%03zx", n);
        cs_value_t v = cs_value_int(INT64_MIN);
        cs_stamp_t far = { next, next };
        assert_int_equal(cs_record_set(rec, name, &v, far, next, NULL), CS_OK);
        next--;
    }
    assert_int_equal(cs_record_bytes(rec), CS_RECORD_BYTES_MAX);
    assert_int_equal(cs_record_field_count(rec), CS_RECORD_FIELDS_MAX);

    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_codec_encode_record(rec, CS_CODEC_STORED, &buf);
    assert_true(buf.len <= CS_CODEC_RECORD_MAX);
    cs_record_t *back = NULL;
    assert_int_equal(
        cs_codec_decode_record(buf.data, buf.len, CS_CODEC_STORED, &back),
        CS_OK);
    assert_true(cs_record_equal(rec, back));
    cs_buf_reset(&buf);
    assert_int_equal(cs_codec_encode_delta("contacts", "1", rec, &buf), CS_OK);
    assert_true(buf.len <= CS_CODEC_RECORD_MAX);
    cs_buf_fini(&buf);
    cs_record_destroy(&back);
    cs_record_destroy(&rec);
    free(big);
}

static void
test_codec_decode_reads_a_hand_built_record(void **state)
{
    (void) state;
    /* written by another implementation: the layout is the contract. The
     * default is (200, NODE_A) with seq 41; each field leaves out what it
     * shares with it, so its length says what it carries. */
    cs_buf_t b;
    cs_buf_init(&b);
    s_mp_array(&b, 4);
    s_mp_uint(&b, CS_CODEC_STORED);
    s_mp_array(&b, 3); /* tombstone */
    s_mp_uint(&b, 100);
    s_mp_uint(&b, NODE_B);
    s_mp_uint(&b, 40);
    s_mp_array(&b, 3); /* default */
    s_mp_uint(&b, 200);
    s_mp_uint(&b, NODE_A);
    s_mp_uint(&b, 41);
    s_mp_array(&b, 5);
    s_mp_array(&b, 2); /* default stamp and seq */
    s_mp_cstr(&b, "first");
    s_mp_int(&b, -300);
    s_mp_array(&b, 2);
    s_mp_cstr(&b, "fourth");
    s_mp_nil(&b);
    s_mp_array(&b, 5); /* its own stamp and seq */
    s_mp_cstr(&b, "second");
    s_mp_bin(&b, "\x01\x02", 2);
    s_mp_uint(&b, 300);
    s_mp_uint(&b, 5);
    s_mp_uint(&b, 42);
    s_mp_array(&b, 3); /* default stamp, its own seq */
    s_mp_cstr(&b, "third");
    s_mp_cstr(&b, "3");
    s_mp_uint(&b, 43);
    s_mp_array(&b, 4); /* its own stamp, default seq */
    s_mp_cstr(&b, "zeta");
    s_mp_uint(&b, 6);
    s_mp_uint(&b, 150);
    s_mp_uint(&b, NODE_B);

    cs_record_t *rec = NULL;
    assert_int_equal(s_decode(b.data, b.len, CS_CODEC_STORED, &rec), CS_OK);
    cs_stamp_t tomb;
    uint64_t seq = 0;
    assert_true(cs_record_tombstone(rec, &tomb, &seq));
    assert_int_equal(tomb.hlc, 100);
    assert_int_equal(tomb.origin, NODE_B);
    assert_int_equal(seq, 40);
    assert_int_equal(cs_record_field_count(rec), 5);
    const struct {
        const char *name; /* field */
        uint64_t hlc;     /* its stamp */
        uint64_t origin;  /* its stamp */
        uint64_t seq;     /* its seq */
    } want[] = {
        { "first", 200, NODE_A, 41 }, { "fourth", 200, NODE_A, 41 },
        { "second", 300, 5, 42 },     { "third", 200, NODE_A, 43 },
        { "zeta", 150, NODE_B, 41 },
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        cs_field_t field;
        assert_int_equal(cs_record_get(rec, want[i].name, &field), CS_OK);
        assert_int_equal(field.stamp.hlc, want[i].hlc);
        assert_int_equal(field.stamp.origin, want[i].origin);
        assert_int_equal(field.seq, want[i].seq);
    }
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, "first", &field), CS_OK);
    assert_int_equal(field.value.type, CS_VALUE_INT);
    assert_true(field.value.u.i == -300);
    assert_int_equal(cs_record_get(rec, "second", &field), CS_OK);
    assert_int_equal(field.value.type, CS_VALUE_BIN);
    assert_int_equal(field.value.u.s.len, 2);
    assert_memory_equal(field.value.u.s.ptr, "\x01\x02", 2);
    assert_int_equal(cs_record_max_seq(rec), 43);

    /* the canonical form of the same state: no seqs, so "third" is short */
    cs_buf_t canonical;
    cs_buf_init(&canonical);
    s_encode(rec, CS_CODEC_CANONICAL, &canonical);
    s_assert_bytes(&canonical, "94 01 92 64 cf 0b 0b 0b 0b 0b 0b 0b 0b"
                               " 92 cc c8 cf 0a 0a 0a 0a 0a 0a 0a 0a 95"
                               " 92 a5 66 69 72 73 74 d1 fe d4"
                               " 92 a6 66 6f 75 72 74 68 c0"
                               " 94 a6 73 65 63 6f 6e 64 c4 02 01 02"
                               " cd 01 2c 05"
                               " 92 a5 74 68 69 72 64 a1 33"
                               " 94 a4 7a 65 74 61 06"
                               " cc 96 cf 0b 0b 0b 0b 0b 0b 0b 0b");
    cs_buf_fini(&canonical);
    cs_record_destroy(&rec);
    cs_buf_fini(&b);
}

static cs_stamp_t
s_stamp(uint64_t hlc, uint64_t origin)
{
    cs_stamp_t stamp = { hlc, origin };
    return stamp;
}

static void
test_codec_fields_sharing_one_stamp_are_all_short(void **state)
{
    (void) state;
    /* one import: every field has the same stamp and seq */
    cs_record_t *rec = cs_record_new();
    s_set(rec, "a", cs_value_int(1), s_stamp(5, 1), 3);
    s_set(rec, "b", cs_value_int(2), s_stamp(5, 1), 3);
    s_set(rec, "c", cs_value_int(3), s_stamp(5, 1), 3);
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_encode(rec, CS_CODEC_CANONICAL, &buf);
    s_assert_bytes(&buf, "94 01 c0 92 05 01 93"
                         " 92 a1 61 01 92 a1 62 02 92 a1 63 03");
    s_encode(rec, CS_CODEC_STORED, &buf);
    s_assert_bytes(&buf, "94 02 c0 93 05 01 03 93"
                         " 92 a1 61 01 92 a1 62 02 92 a1 63 03");
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_stored_fields_take_one_of_four_lengths(void **state)
{
    (void) state;
    /* default stamp (5, 1) and seq 3; b differs in its seq, c in its
     * stamp, d in both */
    cs_record_t *rec = cs_record_new();
    s_set(rec, "a", cs_value_int(1), s_stamp(5, 1), 3);
    s_set(rec, "b", cs_value_int(2), s_stamp(5, 1), 8);
    s_set(rec, "c", cs_value_int(3), s_stamp(6, 1), 3);
    s_set(rec, "d", cs_value_int(4), s_stamp(4, 2), 9);
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_encode(rec, CS_CODEC_STORED, &buf);
    s_assert_bytes(&buf, "94 02 c0 93 05 01 03 94"
                         " 92 a1 61 01"
                         " 93 a1 62 02 08"
                         " 94 a1 63 03 06 01"
                         " 95 a1 64 04 04 02 09");
    cs_record_t *back = NULL;
    assert_int_equal(s_decode(buf.data, buf.len, CS_CODEC_STORED, &back),
                     CS_OK);
    assert_true(cs_record_equal(rec, back));
    s_assert_same_seqs(rec, back);
    cs_record_destroy(&back);

    /* canonical: the seqs are gone, only the stamps matter */
    s_encode(rec, CS_CODEC_CANONICAL, &buf);
    s_assert_bytes(&buf, "94 01 c0 92 05 01 94"
                         " 92 a1 61 01"
                         " 92 a1 62 02"
                         " 94 a1 63 03 06 01"
                         " 94 a1 64 04 04 02");
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_default_is_the_most_common_stamp(void **state)
{
    (void) state;
    /* a seeded record with one field edited later: the 15 seeded fields
     * keep the short form, not the edited field with the largest stamp */
    cs_record_t *rec = cs_record_new();
    cs_stamp_t seeded = { cs_hlc_make(T0, 0), NODE_A };
    cs_stamp_t edited = { cs_hlc_make(T0 + 60000, 0), NODE_B };
    for (int n = 0; n < 15; n++) {
        char name[8];
        snprintf(name, sizeof name, "f%02d", n);
        s_set(rec, name, cs_value_int(n), seeded, 1);
    }
    s_set(rec, "f07", cs_value_str("new"), edited, 2);

    cs_buf_t want, buf;
    cs_buf_init(&want);
    cs_buf_init(&buf);
    for (int form = CS_CODEC_CANONICAL; form <= CS_CODEC_STORED; form++) {
        bool stored = form == CS_CODEC_STORED;
        cs_buf_reset(&want);
        s_mp_array(&want, 4);
        s_mp_uint(&want, (uint64_t) form);
        s_mp_nil(&want);
        s_mp_array(&want, stored ? 3 : 2);
        s_mp_uint(&want, seeded.hlc);
        s_mp_uint(&want, seeded.origin);
        if (stored) {
            s_mp_uint(&want, 1);
        }
        s_mp_array(&want, 15);
        for (int n = 0; n < 15; n++) {
            char name[8];
            snprintf(name, sizeof name, "f%02d", n);
            if (n != 7) {
                s_mp_array(&want, 2);
                s_mp_cstr(&want, name);
                s_mp_int(&want, n);
                continue;
            }
            s_mp_array(&want, stored ? 5 : 4);
            s_mp_cstr(&want, name);
            s_mp_cstr(&want, "new");
            s_mp_uint(&want, edited.hlc);
            s_mp_uint(&want, edited.origin);
            if (stored) {
                s_mp_uint(&want, 2);
            }
        }
        s_encode(rec, (cs_codec_form_t) form, &buf);
        assert_int_equal(buf.len, want.len);
        assert_memory_equal(buf.data, want.data, want.len);
    }
    cs_buf_fini(&want);
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);

    /* two at (5, 2), one at (6, 1): the count decides, not the order */
    rec = cs_record_new();
    s_set(rec, "a", cs_value_int(1), s_stamp(5, 2), 1);
    s_set(rec, "b", cs_value_int(2), s_stamp(6, 1), 1);
    s_set(rec, "c", cs_value_int(3), s_stamp(5, 2), 1);
    cs_buf_init(&buf);
    s_encode(rec, CS_CODEC_CANONICAL, &buf);
    s_assert_bytes(&buf, "94 01 c0 92 05 02 93"
                         " 92 a1 61 01 94 a1 62 02 06 01 92 a1 63 03");
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_default_ties_go_to_the_larger_stamp(void **state)
{
    (void) state;
    const struct {
        cs_stamp_t a, b, c, d; /* stamps of fields a..d */
        const char *hex;       /* canonical bytes */
    } cases[] = {
        /* two and two: the larger hlc wins, whatever the origins */
        { { 6, 1 },
          { 5, 9 },
          { 6, 1 },
          { 5, 9 },
          "94 01 c0 92 06 01 94 92 a1 61 01 94 a1 62 02 05 09"
          " 92 a1 63 03 94 a1 64 04 05 09" },
        /* equal hlcs: the larger origin wins */
        { { 5, 1 },
          { 5, 2 },
          { 5, 2 },
          { 5, 1 },
          "94 01 c0 92 05 02 94 94 a1 61 01 05 01 92 a1 62 02"
          " 92 a1 63 03 94 a1 64 04 05 01" },
        /* all four differ: the largest is the default */
        { { 3, 1 },
          { 7, 1 },
          { 4, 1 },
          { 7, 0 },
          "94 01 c0 92 07 01 94 94 a1 61 01 03 01 92 a1 62 02"
          " 94 a1 63 03 04 01 94 a1 64 04 07 00" },
    };
    cs_buf_t buf;
    cs_buf_init(&buf);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cs_record_t *rec = cs_record_new();
        s_set(rec, "a", cs_value_int(1), cases[i].a, 1);
        s_set(rec, "b", cs_value_int(2), cases[i].b, 1);
        s_set(rec, "c", cs_value_int(3), cases[i].c, 1);
        s_set(rec, "d", cs_value_int(4), cases[i].d, 1);
        s_encode(rec, CS_CODEC_CANONICAL, &buf);
        s_assert_bytes(&buf, cases[i].hex);
        cs_record_t *back = NULL;
        assert_int_equal(s_decode(buf.data, buf.len, CS_CODEC_CANONICAL, &back),
                         CS_OK);
        assert_true(cs_record_equal(rec, back));
        cs_record_destroy(&back);
        cs_record_destroy(&rec);
    }

    /* the stored default seq is chosen the same way, on its own: seqs
     * 4, 9, 4, 9 tie and 9 wins, though the stamp default is (6, 1) */
    cs_record_t *rec = cs_record_new();
    s_set(rec, "a", cs_value_int(1), s_stamp(6, 1), 4);
    s_set(rec, "b", cs_value_int(2), s_stamp(5, 9), 9);
    s_set(rec, "c", cs_value_int(3), s_stamp(6, 1), 4);
    s_set(rec, "d", cs_value_int(4), s_stamp(5, 9), 9);
    s_encode(rec, CS_CODEC_STORED, &buf);
    s_assert_bytes(&buf, "94 02 c0 93 06 01 09 94 93 a1 61 01 04"
                         " 94 a1 62 02 05 09 93 a1 63 03 04 94 a1 64 04 05 09");
    cs_record_destroy(&rec);
    cs_buf_fini(&buf);
}

static void
test_codec_decode_accepts_only_the_chosen_default(void **state)
{
    (void) state;
    /* Hand-built records, each next to the one canonical spelling of the
     * same state, so every refusal is about the default alone. */
    const struct {
        cs_codec_form_t form; /* to decode as */
        int rc;               /* expected */
        const char *what;     /* for the failure message */
        const char *hex;      /* the bytes */
    } cases[] = {
        { CS_CODEC_CANONICAL, CS_OK, "a and b share the default",
          "94 01 c0 92 05 01 92 92 a1 61 01 92 a1 62 02" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "explicit stamp equal to the default",
          "94 01 c0 92 05 01 92 92 a1 61 01 94 a1 62 02 05 01" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "both explicit, equal to the default",
          "94 01 c0 92 05 01 92 94 a1 61 01 05 01 94 a1 62 02 05 01" },
        { CS_CODEC_CANONICAL, CS_OK, "two at (5, 1), one at (6, 1)",
          "94 01 c0 92 05 01 93 92 a1 61 01 92 a1 62 02"
          " 94 a1 63 03 06 01" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "default not the most common stamp",
          "94 01 c0 92 06 01 93 94 a1 61 01 05 01 94 a1 62 02 05 01"
          " 92 a1 63 03" },
        { CS_CODEC_CANONICAL, CS_OK, "a tie, the larger stamp the default",
          "94 01 c0 92 06 01 92 94 a1 61 01 05 01 92 a1 62 02" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "a tie, the smaller stamp the default",
          "94 01 c0 92 05 01 92 92 a1 61 01 94 a1 62 02 06 01" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "a default no field uses",
          "94 01 c0 92 07 01 92 94 a1 61 01 05 01 94 a1 62 02 06 01" },
        { CS_CODEC_CANONICAL, CS_OK, "no fields, nil default",
          "94 01 92 03 02 c0 90" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "no fields, a default",
          "94 01 92 03 02 92 05 01 90" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "no fields nor tombstone, a default",
          "94 01 c0 92 05 01 90" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "fields, nil default",
          "94 01 c0 c0 91 92 a1 61 01" },
        { CS_CODEC_CANONICAL, CS_EPROTO, "fields, nil default, own stamps",
          "94 01 c0 c0 91 94 a1 61 01 05 01" },
        { CS_CODEC_STORED, CS_OK, "stored: a and b share the default",
          "94 02 c0 93 05 01 03 92 92 a1 61 01 92 a1 62 02" },
        { CS_CODEC_STORED, CS_EPROTO, "stored: explicit seq equal to default",
          "94 02 c0 93 05 01 03 92 92 a1 61 01 93 a1 62 02 03" },
        { CS_CODEC_STORED, CS_EPROTO, "stored: explicit stamp equal to default",
          "94 02 c0 93 05 01 03 92 92 a1 61 01 94 a1 62 02 05 01" },
        { CS_CODEC_STORED, CS_EPROTO, "stored: stamp and seq equal to default",
          "94 02 c0 93 05 01 03 92 92 a1 61 01 95 a1 62 02 05 01 03" },
        { CS_CODEC_STORED, CS_OK, "stored: two at seq 3, one at seq 8",
          "94 02 c0 93 05 01 03 93 92 a1 61 01 92 a1 62 02 93 a1 63 03 08" },
        { CS_CODEC_STORED, CS_EPROTO, "stored: default not the most common seq",
          "94 02 c0 93 05 01 08 93 93 a1 61 01 03 93 a1 62 02 03"
          " 92 a1 63 03" },
        { CS_CODEC_STORED, CS_EPROTO, "stored: a seq tie, the smaller default",
          "94 02 c0 93 05 01 03 92 92 a1 61 01 93 a1 62 02 08" },
        { CS_CODEC_STORED, CS_OK, "stored: a seq tie, the larger default",
          "94 02 c0 93 05 01 08 92 93 a1 61 01 03 92 a1 62 02" },
        { CS_CODEC_STORED, CS_EPROTO, "stored: no fields, a default",
          "94 02 c0 93 05 01 03 90" },
        { CS_CODEC_STORED, CS_EPROTO, "stored: fields, nil default",
          "94 02 c0 c0 91 95 a1 61 01 05 01 03" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cs_buf_t b;
        cs_buf_init(&b);
        s_mp_raw(&b, cases[i].hex);
        cs_record_t *rec = NULL;
        int rc = s_decode(b.data, b.len, cases[i].form, &rec);
        if (rc != cases[i].rc) {
            fail_msg("%s: got %d (%s), want %d", cases[i].what, rc,
                     cs_strerror(rc), cases[i].rc);
        }
        assert_true((rec != NULL) == (rc == CS_OK));
        cs_record_destroy(&rec);
        cs_buf_fini(&b);
    }
}

static void
test_codec_decode_rejects_wrong_array_lengths(void **state)
{
    (void) state;
    const struct {
        cs_codec_form_t form; /* to decode as */
        const char *what;     /* for the failure message */
        const char *hex;      /* the bytes */
    } cases[] = {
        { CS_CODEC_CANONICAL, "the layout of schema 1 (no default)",
          "93 01 c0 91 94 a1 61 01 05 01" },
        { CS_CODEC_STORED, "stored, the layout of schema 1 (no default)",
          "93 02 c0 91 95 a1 61 01 05 01 03" },
        { CS_CODEC_CANONICAL, "a fifth item after the fields",
          "95 01 c0 92 05 01 91 92 a1 61 01 c0" },
        { CS_CODEC_CANONICAL, "a default of one item",
          "94 01 c0 91 05 91 92 a1 61 01" },
        { CS_CODEC_CANONICAL, "a canonical default with a seq",
          "94 01 c0 93 05 01 03 91 92 a1 61 01" },
        { CS_CODEC_STORED, "a stored default without its seq",
          "94 02 c0 92 05 01 91 92 a1 61 01" },
        { CS_CODEC_STORED, "a stored default with an extra item",
          "94 02 c0 94 05 01 03 00 91 92 a1 61 01" },
        { CS_CODEC_CANONICAL, "a default that is an integer",
          "94 01 c0 05 91 92 a1 61 01" },
        { CS_CODEC_CANONICAL, "a default hlc that is a string",
          "94 01 c0 92 a1 35 01 91 92 a1 61 01" },
        { CS_CODEC_STORED, "a default seq that is negative",
          "94 02 c0 93 05 01 ff 91 92 a1 61 01" },
        { CS_CODEC_CANONICAL, "an empty field", "94 01 c0 92 05 01 91 90" },
        { CS_CODEC_STORED, "stored, an empty field",
          "94 02 c0 93 05 01 03 91 90" },
        { CS_CODEC_CANONICAL, "a field of its name only",
          "94 01 c0 92 05 01 91 91 a1 61" },
        { CS_CODEC_STORED, "stored, a field of its name only",
          "94 02 c0 93 05 01 03 91 91 a1 61" },
        { CS_CODEC_CANONICAL, "a field with an hlc but no origin",
          "94 01 c0 92 05 01 91 93 a1 61 01 06" },
        { CS_CODEC_CANONICAL, "a canonical field with a seq",
          "94 01 c0 92 05 01 91 95 a1 61 01 06 01 03" },
        { CS_CODEC_STORED, "stored, a field of six items",
          "94 02 c0 93 05 01 03 91 96 a1 61 01 06 01 03 00" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cs_buf_t b;
        cs_buf_init(&b);
        s_mp_raw(&b, cases[i].hex);
        s_expect_eproto(b.data, b.len, cases[i].form, cases[i].what);
        cs_buf_fini(&b);
    }
}

/* ---------------- hostile records ---------------- */

/* One thing wrong with an otherwise valid record. */
typedef enum {
    M_NONE,
    M_TOP_NOT_ARRAY,
    M_TOP_MAP,
    M_TOP_ARRAY_3,
    M_TOP_ARRAY_5,
    M_TOP_ARRAY_HUGE,
    M_FORM_ZERO,
    M_FORM_THREE,
    M_FORM_OTHER,
    M_FORM_STR,
    M_FORM_NEG,
    M_FORM_NIL,
    M_TOMB_INT,
    M_TOMB_EMPTY,
    M_TOMB_SHORT,
    M_TOMB_LONG,
    M_TOMB_MAP,
    M_TOMB_HLC_STR,
    M_TOMB_HLC_NEG,
    M_TOMB_ORIGIN_BOOL,
    M_TOMB_ARRAY_HUGE,
    M_DEFAULT_NIL,
    M_DEFAULT_INT,
    M_DEFAULT_EMPTY,
    M_DEFAULT_SHORT,
    M_DEFAULT_LONG,
    M_DEFAULT_MAP,
    M_DEFAULT_HLC_STR,
    M_DEFAULT_ORIGIN_NEG,
    M_DEFAULT_SEQ_NIL,
    M_DEFAULT_ARRAY_HUGE,
    M_DEFAULT_NOT_MOST_COMMON,
    M_DEFAULT_SEQ_NOT_MOST_COMMON,
    M_STAMP_IS_DEFAULT,
    M_SEQ_IS_DEFAULT,
    M_FIELDS_NIL,
    M_FIELDS_MAP,
    M_FIELDS_STR,
    M_FIELDS_COUNT_PLUS_ONE,
    M_FIELDS_COUNT_HUGE,
    M_FIELDS_COUNT_16BIT,
    M_FIELD_NOT_ARRAY,
    M_FIELD_EMPTY,
    M_FIELD_NAME_ONLY,
    M_FIELD_SHORT,
    M_FIELD_LONG,
    M_FIELD_ARRAY_HUGE,
    M_NAME_INT,
    M_NAME_BIN,
    M_NAME_NIL,
    M_NAME_EMPTY,
    M_NAME_TOO_LONG,
    M_NAME_BAD_UTF8,
    M_NAME_SURROGATE,
    M_NAME_NUL,
    M_NAME_LEN_HUGE,
    M_NAME_LEN_PAST_END,
    M_NAMES_UNSORTED,
    M_NAMES_DUPLICATE,
    M_NAMES_BYTEWISE_UNSORTED,
    M_VALUE_EMPTY_ARRAY,
    M_VALUE_ARRAY,
    M_VALUE_MAP,
    M_VALUE_NESTED,
    M_VALUE_FIXEXT,
    M_VALUE_TIMESTAMP,
    M_VALUE_EXT8,
    M_VALUE_BAD_UTF8,
    M_VALUE_OVERLONG,
    M_VALUE_TRUNCATED_UTF8,
    M_VALUE_STR_TOO_LONG,
    M_VALUE_BIN_TOO_LONG,
    M_VALUE_STR_LEN_HUGE,
    M_VALUE_BIN_LEN_HUGE,
    M_VALUE_ARRAY_HUGE,
    M_VALUE_MAP_HUGE,
    M_VALUE_RESERVED_BYTE,
    M_HLC_STR,
    M_HLC_NEG,
    M_HLC_NIL,
    M_HLC_FLOAT,
    M_HLC_BOOL,
    M_ORIGIN_NEG,
    M_ORIGIN_FLOAT,
    M_ORIGIN_BIN,
    M_SEQ_STR,
    M_SEQ_NEG,
    M_SEQ_NIL,
    M_TRAILING_NIL,
    M_TRAILING_RECORD,
    M_COUNT
} mutation_t;

static const char *s_mutation_names[M_COUNT] = {
    [M_NONE] = "valid",
    [M_TOP_NOT_ARRAY] = "top level is an integer",
    [M_TOP_MAP] = "top level is a map",
    [M_TOP_ARRAY_3] = "top array of 3",
    [M_TOP_ARRAY_5] = "top array of 5",
    [M_TOP_ARRAY_HUGE] = "top array claims 2^32-1 items",
    [M_FORM_ZERO] = "form tag 0",
    [M_FORM_THREE] = "form tag 3",
    [M_FORM_OTHER] = "the other form's tag",
    [M_FORM_STR] = "form tag as a string",
    [M_FORM_NEG] = "form tag -1",
    [M_FORM_NIL] = "form tag nil",
    [M_TOMB_INT] = "tombstone is an integer",
    [M_TOMB_EMPTY] = "tombstone is an empty array",
    [M_TOMB_SHORT] = "tombstone lacks an item",
    [M_TOMB_LONG] = "tombstone has an extra item",
    [M_TOMB_MAP] = "tombstone is a map",
    [M_TOMB_HLC_STR] = "tombstone hlc is a string",
    [M_TOMB_HLC_NEG] = "tombstone hlc is negative",
    [M_TOMB_ORIGIN_BOOL] = "tombstone origin is a bool",
    [M_TOMB_ARRAY_HUGE] = "tombstone array claims 2^32-1 items",
    [M_DEFAULT_NIL] = "default is nil, with fields",
    [M_DEFAULT_INT] = "default is an integer",
    [M_DEFAULT_EMPTY] = "default is an empty array",
    [M_DEFAULT_SHORT] = "default lacks an item",
    [M_DEFAULT_LONG] = "default has an extra item",
    [M_DEFAULT_MAP] = "default is a map",
    [M_DEFAULT_HLC_STR] = "default hlc is a string",
    [M_DEFAULT_ORIGIN_NEG] = "default origin is negative",
    [M_DEFAULT_SEQ_NIL] = "default seq is nil",
    [M_DEFAULT_ARRAY_HUGE] = "default array claims 2^32-1 items",
    [M_DEFAULT_NOT_MOST_COMMON] = "default is a stamp only one field has",
    [M_DEFAULT_SEQ_NOT_MOST_COMMON] = "default seq only one field has",
    [M_STAMP_IS_DEFAULT] = "a field spells out the default stamp",
    [M_SEQ_IS_DEFAULT] = "a field spells out the default seq",
    [M_FIELDS_NIL] = "fields is nil",
    [M_FIELDS_MAP] = "fields is a map",
    [M_FIELDS_STR] = "fields is a string",
    [M_FIELDS_COUNT_PLUS_ONE] = "fields array claims one more than present",
    [M_FIELDS_COUNT_HUGE] = "fields array claims 2^32-1 items",
    [M_FIELDS_COUNT_16BIT] = "fields array claims 65535 items",
    [M_FIELD_NOT_ARRAY] = "a field is a string",
    [M_FIELD_EMPTY] = "a field is an empty array",
    [M_FIELD_NAME_ONLY] = "a field has its name only",
    [M_FIELD_SHORT] = "a field lacks its origin",
    [M_FIELD_LONG] = "a field has an extra item",
    [M_FIELD_ARRAY_HUGE] = "a field array claims 2^32-1 items",
    [M_NAME_INT] = "a field name is an integer",
    [M_NAME_BIN] = "a field name is binary",
    [M_NAME_NIL] = "a field name is nil",
    [M_NAME_EMPTY] = "a field name is empty",
    [M_NAME_TOO_LONG] = "a field name of 129 bytes",
    [M_NAME_BAD_UTF8] = "a field name with an overlong NUL",
    [M_NAME_SURROGATE] = "a field name with a surrogate",
    [M_NAME_NUL] = "a field name with a NUL byte",
    [M_NAME_LEN_HUGE] = "a field name claims 2^32-1 bytes",
    [M_NAME_LEN_PAST_END] = "a field name claims 256 bytes",
    [M_NAMES_UNSORTED] = "field names out of order",
    [M_NAMES_DUPLICATE] = "a duplicate field name",
    [M_NAMES_BYTEWISE_UNSORTED] = "field names out of bytewise order",
    [M_VALUE_EMPTY_ARRAY] = "a value is an empty array",
    [M_VALUE_ARRAY] = "a value is an array",
    [M_VALUE_MAP] = "a value is a map",
    [M_VALUE_NESTED] = "a value nests arrays 6 deep",
    [M_VALUE_FIXEXT] = "a value is a fixext",
    [M_VALUE_TIMESTAMP] = "a value is a timestamp ext",
    [M_VALUE_EXT8] = "a value is an ext8",
    [M_VALUE_BAD_UTF8] = "a string value is not UTF-8",
    [M_VALUE_OVERLONG] = "a string value has an overlong",
    [M_VALUE_TRUNCATED_UTF8] = "a string value ends mid-character",
    [M_VALUE_STR_TOO_LONG] = "a string value of 1 MiB + 1",
    [M_VALUE_BIN_TOO_LONG] = "a binary value of 1 MiB + 1",
    [M_VALUE_STR_LEN_HUGE] = "a string value claims 2^32-1 bytes",
    [M_VALUE_BIN_LEN_HUGE] = "a binary value claims 2^32-1 bytes",
    [M_VALUE_ARRAY_HUGE] = "a value array claims 2^32-1 items",
    [M_VALUE_MAP_HUGE] = "a value map claims 2^32-1 pairs",
    [M_VALUE_RESERVED_BYTE] = "a value is the reserved byte c1",
    [M_HLC_STR] = "a field hlc is a string",
    [M_HLC_NEG] = "a field hlc is negative",
    [M_HLC_NIL] = "a field hlc is nil",
    [M_HLC_FLOAT] = "a field hlc is a float",
    [M_HLC_BOOL] = "a field hlc is a bool",
    [M_ORIGIN_NEG] = "a field origin is negative",
    [M_ORIGIN_FLOAT] = "a field origin is a float",
    [M_ORIGIN_BIN] = "a field origin is binary",
    [M_SEQ_STR] = "a field seq is a string",
    [M_SEQ_NEG] = "a field seq is negative",
    [M_SEQ_NIL] = "a field seq is nil",
    [M_TRAILING_NIL] = "a nil after the record",
    [M_TRAILING_RECORD] = "a second record after the record",
};

static bool
s_mutation_is_stored_only(mutation_t m)
{
    return m == M_SEQ_STR || m == M_SEQ_NEG || m == M_SEQ_NIL ||
           m == M_DEFAULT_SEQ_NIL || m == M_DEFAULT_SEQ_NOT_MOST_COMMON ||
           m == M_SEQ_IS_DEFAULT;
}

/* In the stored form a field of 4 items is [name, value, hlc, origin]
 * (the seq is the default's), so one without its origin is valid there. */
static bool
s_mutation_is_canonical_only(mutation_t m)
{
    return m == M_FIELD_SHORT;
}

/* The record the builder writes: alpha and gamma at the default stamp and
 * seq, beta (the one mutated) with a stamp and seq of its own. */
#define S_DEFAULT_HLC    cs_hlc_make(T0, 2)
#define S_DEFAULT_ORIGIN NODE_B
#define S_DEFAULT_SEQ    7u
#define S_BETA_HLC       cs_hlc_make(T0, 1)
#define S_BETA_ORIGIN    NODE_A
#define S_BETA_SEQ       9u

/* The middle field "beta" (the one mutated): [name, value, hlc, origin],
 * stored [name, value, hlc, origin, seq]. */
static void
s_write_beta(cs_buf_t *b, cs_codec_form_t form, mutation_t m)
{
    bool stored = form == CS_CODEC_STORED;
    /* the default mutations move beta's stamp or seq into the default */
    bool own_stamp = m != M_DEFAULT_NOT_MOST_COMMON;
    bool own_seq = stored && m != M_DEFAULT_SEQ_NOT_MOST_COMMON;
    uint32_t items = 2u + (own_stamp ? 2u : 0u) + (own_seq ? 1u : 0u);
    switch ((int) m) {
    case M_FIELD_NOT_ARRAY:
        s_mp_cstr(b, "beta");
        return;
    case M_FIELD_EMPTY:
        s_mp_array(b, 0);
        return;
    case M_FIELD_NAME_ONLY:
        s_mp_array(b, 1);
        s_mp_cstr(b, "beta");
        return;
    case M_FIELD_SHORT:
        items--;
        break;
    case M_FIELD_LONG:
        items++;
        break;
    case M_FIELD_ARRAY_HUGE:
        s_mp_raw(b, "dd ff ff ff ff");
        items = 0; /* the rest follows as if nothing happened */
        break;
    default:
        break;
    }
    if (m != M_FIELD_ARRAY_HUGE) {
        s_mp_array(b, items);
    }

    /* name */
    char long_name[CS_FIELD_NAME_MAX + 1];
    switch ((int) m) {
    case M_NAME_INT:
        s_mp_uint(b, 7);
        break;
    case M_NAME_BIN:
        s_mp_bin(b, "beta", 4);
        break;
    case M_NAME_NIL:
        s_mp_nil(b);
        break;
    case M_NAME_TOO_LONG:
        memset(long_name, 'b', sizeof long_name);
        s_mp_str(b, long_name, sizeof long_name);
        break;
    case M_NAME_BAD_UTF8:
        s_mp_str(b, "beta\xc0\x80", 6);
        break;
    case M_NAME_SURROGATE:
        s_mp_str(b, "beta\xed\xb0\x80", 7);
        break;
    case M_NAME_NUL:
        s_mp_str(b, "be\0ta", 5);
        break;
    case M_NAME_LEN_HUGE:
        s_mp_raw(b, "db ff ff ff ff");
        cs_buf_append(b, "beta", 4);
        break;
    case M_NAME_LEN_PAST_END:
        s_mp_raw(b, "da 01 00");
        cs_buf_append(b, "beta", 4);
        break;
    case M_NAMES_UNSORTED:
        s_mp_cstr(b, "zeta"); /* after "gamma" would be right */
        break;
    case M_NAMES_DUPLICATE:
        s_mp_cstr(b, "alpha");
        break;
    case M_NAMES_BYTEWISE_UNSORTED:
        s_mp_cstr(b, "Beta"); /* 'B' sorts before 'a' */
        break;
    default:
        s_mp_cstr(b, "beta");
        break;
    }

    /* value */
    char *big = NULL;
    switch ((int) m) {
    case M_VALUE_EMPTY_ARRAY:
        s_mp_array(b, 0);
        break;
    case M_VALUE_ARRAY:
        s_mp_array(b, 1);
        s_mp_uint(b, 1);
        break;
    case M_VALUE_MAP:
        s_mp_raw(b, "81 a1 6b 01");
        break;
    case M_VALUE_NESTED:
        s_mp_raw(b, "91 91 91 91 91 91 c0");
        break;
    case M_VALUE_FIXEXT:
        s_mp_raw(b, "d4 01 00");
        break;
    case M_VALUE_TIMESTAMP:
        s_mp_raw(b, "d6 ff 00 00 00 01");
        break;
    case M_VALUE_EXT8:
        s_mp_raw(b, "c7 02 05 00 00");
        break;
    case M_VALUE_BAD_UTF8:
        s_mp_str(b, "caf\xe9", 4);
        break;
    case M_VALUE_OVERLONG:
        s_mp_str(b, "\xe0\x80\xaf", 3);
        break;
    case M_VALUE_TRUNCATED_UTF8:
        s_mp_str(b, "caf\xc3", 4);
        break;
    case M_VALUE_STR_TOO_LONG:
    case M_VALUE_BIN_TOO_LONG:
        big = malloc(CS_VALUE_MAX + 1);
        assert_non_null(big);
        memset(big, 'v', CS_VALUE_MAX + 1);
        if (m == M_VALUE_STR_TOO_LONG) {
            s_mp_str(b, big, CS_VALUE_MAX + 1);
        } else {
            s_mp_bin(b, big, CS_VALUE_MAX + 1);
        }
        free(big);
        break;
    case M_VALUE_STR_LEN_HUGE:
        s_mp_raw(b, "db ff ff ff ff 78");
        break;
    case M_VALUE_BIN_LEN_HUGE:
        s_mp_raw(b, "c6 ff ff ff ff 78");
        break;
    case M_VALUE_ARRAY_HUGE:
        s_mp_raw(b, "dd ff ff ff ff 01");
        break;
    case M_VALUE_MAP_HUGE:
        s_mp_raw(b, "df ff ff ff ff 01 01");
        break;
    case M_VALUE_RESERVED_BYTE:
        s_mp_raw(b, "c1");
        break;
    default:
        s_mp_int(b, -7);
        break;
    }
    if (m == M_FIELD_SHORT) {
        s_mp_uint(b, S_BETA_HLC); /* hlc only: origin missing */
        return;
    }

    /* hlc */
    switch ((int) m) {
    case M_DEFAULT_NOT_MOST_COMMON:
        break; /* beta's stamp is the default */
    case M_HLC_STR:
        s_mp_cstr(b, "123");
        break;
    case M_HLC_NEG:
        s_mp_int(b, -5);
        break;
    case M_HLC_NIL:
        s_mp_nil(b);
        break;
    case M_HLC_FLOAT:
        s_mp_raw(b, "cb 40 00 00 00 00 00 00 00");
        break;
    case M_HLC_BOOL:
        s_mp_raw(b, "c3");
        break;
    case M_STAMP_IS_DEFAULT:
        s_mp_uint(b, S_DEFAULT_HLC);
        break;
    default:
        s_mp_uint(b, S_BETA_HLC);
        break;
    }

    /* origin */
    switch ((int) m) {
    case M_DEFAULT_NOT_MOST_COMMON:
        break;
    case M_ORIGIN_NEG:
        s_mp_int(b, -1);
        break;
    case M_ORIGIN_FLOAT:
        s_mp_raw(b, "ca 3f 80 00 00");
        break;
    case M_ORIGIN_BIN:
        s_mp_bin(b, "\x01", 1);
        break;
    case M_STAMP_IS_DEFAULT:
        s_mp_uint(b, S_DEFAULT_ORIGIN);
        break;
    default:
        s_mp_uint(b, S_BETA_ORIGIN);
        break;
    }

    /* seq (stored form only) */
    if (own_seq) {
        switch ((int) m) {
        case M_SEQ_STR:
            s_mp_cstr(b, "9");
            break;
        case M_SEQ_NEG:
            s_mp_int(b, -9);
            break;
        case M_SEQ_NIL:
            s_mp_nil(b);
            break;
        case M_SEQ_IS_DEFAULT:
            s_mp_uint(b, S_DEFAULT_SEQ);
            break;
        default:
            s_mp_uint(b, S_BETA_SEQ);
            break;
        }
    }
    if (m == M_FIELD_LONG) {
        s_mp_uint(b, 0);
    }
}

/* alpha or gamma: [name, "x"] at the default stamp and seq, unless a
 * mutation moved the default to beta's stamp or seq. */
static void
s_write_simple_field(cs_buf_t *b, cs_codec_form_t form, const char *name,
                     mutation_t m)
{
    bool own_stamp = m == M_DEFAULT_NOT_MOST_COMMON;
    bool own_seq =
        form == CS_CODEC_STORED && m == M_DEFAULT_SEQ_NOT_MOST_COMMON;
    s_mp_array(b, 2u + (own_stamp ? 2u : 0u) + (own_seq ? 1u : 0u));
    s_mp_cstr(b, name);
    s_mp_cstr(b, "x");
    if (own_stamp) {
        s_mp_uint(b, S_DEFAULT_HLC);
        s_mp_uint(b, S_DEFAULT_ORIGIN);
    }
    if (own_seq) {
        s_mp_uint(b, S_DEFAULT_SEQ);
    }
}

/* The default of the builder's record: [hlc, origin], stored [hlc, origin,
 * seq], with mutation @p m. */
static void
s_write_default(cs_buf_t *b, cs_codec_form_t form, mutation_t m)
{
    bool stored = form == CS_CODEC_STORED;
    uint32_t items = stored ? 3 : 2;
    uint64_t hlc = S_DEFAULT_HLC, origin = S_DEFAULT_ORIGIN;
    uint64_t seq = S_DEFAULT_SEQ;
    switch ((int) m) {
    case M_DEFAULT_NIL:
        s_mp_nil(b);
        return;
    case M_DEFAULT_INT:
        s_mp_uint(b, hlc);
        return;
    case M_DEFAULT_EMPTY:
        s_mp_array(b, 0);
        return;
    case M_DEFAULT_SHORT:
        items--;
        break;
    case M_DEFAULT_LONG:
        items++;
        break;
    case M_DEFAULT_MAP:
        s_mp_raw(b, "81"); /* one pair: hlc -> origin */
        s_mp_uint(b, hlc);
        s_mp_uint(b, origin);
        return;
    case M_DEFAULT_ARRAY_HUGE:
        s_mp_raw(b, "dd ff ff ff ff");
        items = 0; /* the items follow as if nothing happened */
        break;
    case M_DEFAULT_NOT_MOST_COMMON:
        hlc = S_BETA_HLC;
        origin = S_BETA_ORIGIN;
        break;
    case M_DEFAULT_SEQ_NOT_MOST_COMMON:
        seq = S_BETA_SEQ;
        break;
    default:
        break;
    }
    if (m != M_DEFAULT_ARRAY_HUGE) {
        s_mp_array(b, items);
    }
    if (m == M_DEFAULT_HLC_STR) {
        s_mp_cstr(b, "1");
    } else {
        s_mp_uint(b, hlc);
    }
    if (m == M_DEFAULT_SHORT && !stored) {
        return; /* the origin is missing */
    }
    if (m == M_DEFAULT_ORIGIN_NEG) {
        s_mp_int(b, -2);
    } else {
        s_mp_uint(b, origin);
    }
    if (stored && m != M_DEFAULT_SHORT) {
        if (m == M_DEFAULT_SEQ_NIL) {
            s_mp_nil(b);
        } else {
            s_mp_uint(b, seq);
        }
    }
    if (m == M_DEFAULT_LONG) {
        s_mp_uint(b, 0);
    }
}

/* A record [form, tombstone, default, [alpha, beta, gamma]] with mutation
 * @p m. */
static void
s_build_record(cs_buf_t *b, cs_codec_form_t form, mutation_t m)
{
    bool stored = form == CS_CODEC_STORED;
    switch ((int) m) {
    case M_TOP_NOT_ARRAY:
        s_mp_uint(b, 3);
        return;
    case M_TOP_MAP:
        s_mp_raw(b, "83");
        break;
    case M_TOP_ARRAY_3:
        s_mp_array(b, 3);
        break;
    case M_TOP_ARRAY_5:
        s_mp_array(b, 5);
        break;
    case M_TOP_ARRAY_HUGE:
        s_mp_raw(b, "dd ff ff ff ff");
        break;
    default:
        s_mp_array(b, 4);
        break;
    }

    switch ((int) m) {
    case M_FORM_ZERO:
        s_mp_uint(b, 0);
        break;
    case M_FORM_THREE:
        s_mp_uint(b, 3);
        break;
    case M_FORM_OTHER:
        s_mp_uint(b, stored ? CS_CODEC_CANONICAL : CS_CODEC_STORED);
        break;
    case M_FORM_STR:
        s_mp_cstr(b, stored ? "2" : "1");
        break;
    case M_FORM_NEG:
        s_mp_int(b, -1);
        break;
    case M_FORM_NIL:
        s_mp_nil(b);
        break;
    default:
        s_mp_uint(b, form);
        break;
    }

    /* tombstone: (T0 - 1 ms, NODE_B, seq 2), below every field */
    uint64_t tomb_hlc = cs_hlc_make(T0 - 1, 0);
    uint32_t tomb_items = stored ? 3 : 2;
    switch ((int) m) {
    case M_TOMB_INT:
        s_mp_uint(b, tomb_hlc);
        break;
    case M_TOMB_EMPTY:
        s_mp_array(b, 0);
        break;
    case M_TOMB_MAP:
        s_mp_raw(b, "81");
        s_mp_uint(b, tomb_hlc);
        s_mp_uint(b, NODE_B);
        break;
    case M_TOMB_SHORT:
        s_mp_array(b, tomb_items - 1);
        s_mp_uint(b, tomb_hlc);
        if (stored) {
            s_mp_uint(b, NODE_B);
        }
        break;
    case M_TOMB_LONG:
        s_mp_array(b, tomb_items + 1);
        s_mp_uint(b, tomb_hlc);
        s_mp_uint(b, NODE_B);
        s_mp_uint(b, 2);
        if (stored) {
            s_mp_uint(b, 2);
        }
        break;
    case M_TOMB_ARRAY_HUGE:
        s_mp_raw(b, "dd ff ff ff ff");
        s_mp_uint(b, tomb_hlc);
        s_mp_uint(b, NODE_B);
        if (stored) {
            s_mp_uint(b, 2);
        }
        break;
    default:
        s_mp_array(b, tomb_items);
        if (m == M_TOMB_HLC_STR) {
            s_mp_cstr(b, "1");
        } else if (m == M_TOMB_HLC_NEG) {
            s_mp_int(b, -1);
        } else {
            s_mp_uint(b, tomb_hlc);
        }
        if (m == M_TOMB_ORIGIN_BOOL) {
            s_mp_raw(b, "c2");
        } else {
            s_mp_uint(b, NODE_B);
        }
        if (stored) {
            s_mp_uint(b, 2);
        }
        break;
    }

    s_write_default(b, form, m);

    switch ((int) m) {
    case M_FIELDS_NIL:
        s_mp_nil(b);
        return;
    case M_FIELDS_MAP:
        s_mp_raw(b, "83");
        break;
    case M_FIELDS_STR:
        s_mp_cstr(b, "fields");
        return;
    case M_FIELDS_COUNT_PLUS_ONE:
        s_mp_array(b, 4);
        break;
    case M_FIELDS_COUNT_HUGE:
        s_mp_raw(b, "dd ff ff ff ff");
        break;
    case M_FIELDS_COUNT_16BIT:
        s_mp_raw(b, "dc ff ff");
        break;
    default:
        s_mp_array(b, 3);
        break;
    }
    s_write_simple_field(b, form, m == M_NAME_EMPTY ? "" : "alpha", m);
    s_write_beta(b, form, m);
    s_write_simple_field(b, form, "gamma", m);

    if (m == M_TRAILING_NIL) {
        s_mp_nil(b);
    } else if (m == M_TRAILING_RECORD) {
        s_mp_raw(b, stored ? "94 02 c0 c0 90" : "94 01 c0 c0 90");
    }
}

static void
test_codec_decode_accepts_the_unmutated_builder(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    for (int form = CS_CODEC_CANONICAL; form <= CS_CODEC_STORED; form++) {
        cs_buf_reset(&b);
        s_build_record(&b, (cs_codec_form_t) form, M_NONE);
        cs_record_t *rec = NULL;
        assert_int_equal(s_decode(b.data, b.len, (cs_codec_form_t) form, &rec),
                         CS_OK);
        assert_int_equal(cs_record_field_count(rec), 3);
        cs_field_t field;
        assert_int_equal(cs_record_get(rec, "beta", &field), CS_OK);
        assert_true(field.value.type == CS_VALUE_INT && field.value.u.i == -7);
        assert_int_equal(field.stamp.hlc, S_BETA_HLC);
        assert_int_equal(field.stamp.origin, S_BETA_ORIGIN);
        assert_int_equal(field.seq, form == CS_CODEC_STORED ? S_BETA_SEQ : 0);
        assert_int_equal(cs_record_get(rec, "gamma", &field), CS_OK);
        assert_int_equal(field.stamp.hlc, S_DEFAULT_HLC);
        assert_int_equal(field.stamp.origin, S_DEFAULT_ORIGIN);
        assert_int_equal(field.seq,
                         form == CS_CODEC_STORED ? S_DEFAULT_SEQ : 0);
        cs_stamp_t tomb;
        assert_true(cs_record_tombstone(rec, &tomb, NULL));
        assert_int_equal(tomb.hlc, cs_hlc_make(T0 - 1, 0));
        cs_record_destroy(&rec);
    }
    cs_buf_fini(&b);
}

static void
test_codec_decode_rejects_every_single_defect(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    for (int m = M_NONE + 1; m < M_COUNT; m++) {
        for (int form = CS_CODEC_CANONICAL; form <= CS_CODEC_STORED; form++) {
            if ((form == CS_CODEC_CANONICAL &&
                 s_mutation_is_stored_only((mutation_t) m)) ||
                (form == CS_CODEC_STORED &&
                 s_mutation_is_canonical_only((mutation_t) m))) {
                continue;
            }
            cs_buf_reset(&b);
            s_build_record(&b, (cs_codec_form_t) form, (mutation_t) m);
            s_expect_eproto(b.data, b.len, (cs_codec_form_t) form,
                            s_mutation_names[m]);
        }
    }
    cs_buf_fini(&b);
}

static void
test_codec_decode_rejects_the_other_form(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_encode(rec, CS_CODEC_STORED, &buf);
    s_expect_eproto(buf.data, buf.len, CS_CODEC_CANONICAL,
                    "stored bytes read as canonical");
    s_encode(rec, CS_CODEC_CANONICAL, &buf);
    s_expect_eproto(buf.data, buf.len, CS_CODEC_STORED,
                    "canonical bytes read as stored");
    /* even the empty record, whose layouts agree but for the tag */
    cs_record_t *empty = cs_record_new();
    s_encode(empty, CS_CODEC_STORED, &buf);
    s_expect_eproto(buf.data, buf.len, CS_CODEC_CANONICAL,
                    "empty stored bytes read as canonical");
    cs_record_destroy(&empty);
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_decode_rejects_every_truncation(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    for (int form = CS_CODEC_CANONICAL; form <= CS_CODEC_STORED; form++) {
        s_encode(rec, (cs_codec_form_t) form, &buf);
        for (size_t len = 0; len < buf.len; len++) {
            char what[64];
            snprintf(what, sizeof what, "prefix of %zu/%zu bytes", len,
                     buf.len);
            s_expect_eproto(buf.data, len, (cs_codec_form_t) form, what);
        }
    }
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_decode_rejects_trailing_bytes(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    for (int form = CS_CODEC_CANONICAL; form <= CS_CODEC_STORED; form++) {
        s_encode(rec, (cs_codec_form_t) form, &buf);
        cs_buf_append(&buf, "\x00", 1);
        s_expect_eproto(buf.data, buf.len, (cs_codec_form_t) form,
                        "one trailing zero byte");
        buf.len--;
        cs_buf_t twice;
        cs_buf_init(&twice);
        cs_buf_append(&twice, buf.data, buf.len);
        cs_buf_append(&twice, buf.data, buf.len);
        s_expect_eproto(twice.data, twice.len, (cs_codec_form_t) form,
                        "the record twice");
        cs_buf_fini(&twice);
    }
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

static void
test_codec_decode_rejects_more_than_1024_fields(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    for (int form = CS_CODEC_CANONICAL; form <= CS_CODEC_STORED; form++) {
        for (unsigned count = CS_RECORD_FIELDS_MAX;
             count <= CS_RECORD_FIELDS_MAX + 1; count++) {
            cs_buf_reset(&b);
            s_mp_array(&b, 4);
            s_mp_uint(&b, (uint64_t) form);
            s_mp_nil(&b);
            s_write_default(&b, (cs_codec_form_t) form, M_NONE);
            s_mp_array(&b, count);
            for (unsigned n = 0; n < count; n++) {
                char name[16];
                snprintf(name, sizeof name, "f%05u", n);
                s_write_simple_field(&b, (cs_codec_form_t) form, name, M_NONE);
            }
            cs_record_t *rec = NULL;
            int rc = s_decode(b.data, b.len, (cs_codec_form_t) form, &rec);
            if (count <= CS_RECORD_FIELDS_MAX) {
                assert_int_equal(rc, CS_OK);
                assert_int_equal(cs_record_field_count(rec), count);
                cs_record_destroy(&rec);
            } else {
                assert_int_equal(rc, CS_EPROTO);
                assert_null(rec);
            }
        }
    }
    cs_buf_fini(&b);
}

static void
test_codec_decode_rejects_input_over_record_max(void **state)
{
    (void) state;
    /* nine valid 1 MiB binaries: each value is fine, the whole is not */
    char *big = malloc(CS_VALUE_MAX);
    assert_non_null(big);
    memset(big, 'w', CS_VALUE_MAX);
    cs_buf_t b;
    cs_buf_init(&b);
    s_mp_array(&b, 4);
    s_mp_uint(&b, CS_CODEC_CANONICAL);
    s_mp_nil(&b);
    s_mp_array(&b, 2); /* default (1, 1) */
    s_mp_uint(&b, 1);
    s_mp_uint(&b, 1);
    s_mp_array(&b, 9);
    for (int n = 0; n < 9; n++) {
        char name[16];
        snprintf(name, sizeof name, "v%d", n);
        s_mp_array(&b, 2);
        s_mp_cstr(&b, name);
        s_mp_bin(&b, big, CS_VALUE_MAX);
    }
    free(big);
    assert_true(b.len > CS_CODEC_RECORD_MAX);
    s_expect_eproto(b.data, b.len, CS_CODEC_CANONICAL, "a 9 MiB record");
    cs_buf_fini(&b);
}

static void
test_codec_decode_rejects_deep_nesting_without_recursing(void **state)
{
    (void) state;
    /* 100,000 nested one-item arrays: a recursive decoder would blow its
     * stack long before it found out */
    size_t depth = 100000;
    cs_buf_t b;
    cs_buf_init(&b);
    for (size_t i = 0; i < depth; i++) {
        s_mp_byte(&b, 0x91);
    }
    s_mp_nil(&b);
    s_expect_eproto(b.data, b.len, CS_CODEC_CANONICAL, "deep nesting");
    s_expect_eproto(b.data, b.len, CS_CODEC_STORED, "deep nesting");
    s_expect_delta_eproto(b.data, b.len, "deep nesting");

    /* the same, inside the value of an otherwise valid field */
    cs_buf_reset(&b);
    s_mp_raw(&b, "94 01 c0 92 01 01 91 92 a1 76");
    for (size_t i = 0; i < depth; i++) {
        s_mp_byte(&b, 0x91);
    }
    s_mp_raw(&b, "c0");
    s_expect_eproto(b.data, b.len, CS_CODEC_CANONICAL, "deep value");
    cs_buf_fini(&b);
}

static double
s_seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - start->tv_sec) +
           (double) (now.tv_nsec - start->tv_nsec) / 1e9;
}

static void
test_codec_decode_bombs_fail_fast_without_large_allocation(void **state)
{
    (void) state;
    /* five bytes that claim gigabytes: msgpack-c alone would try to
     * allocate ~96 GB for the first */
    const char *bombs[] = {
        "dd ff ff ff ff", /* array32 of 2^32-1 */
        "df ff ff ff ff", /* map32 of 2^32-1 pairs */
        "db ff ff ff ff", /* str32 of 4 GiB */
        "c6 ff ff ff ff", /* bin32 of 4 GiB */
        "dc ff ff",       /* array16 of 65535 */
        "de ff ff",       /* map16 of 65535 pairs */
        "c5 ff ff",       /* bin16 of 65535 */
        "94 01 c0 92 01 01 dd ff ff ff ff",
        "94 01 c0 dd ff ff ff ff", /* the default */
        "94 01 c0 92 01 01 91 92 db ff ff ff ff",
        "94 01 c0 92 01 01 91 92 a1 76 c6 ff ff ff ff",
        "94 01 c0 92 01 01 91 92 a1 76 dd ff ff ff ff",
        "94 01 c0 92 01 01 91 92 a1 76 df ff ff ff ff",
        "94 dd ff ff ff ff",
        "94 db ff ff ff ff",
        "c7 ff 01",          /* ext8 of 255 */
        "c9 ff ff ff ff 01", /* ext32 of 4 GiB */
    };
    cs_buf_t b;
    cs_buf_init(&b);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    s_alloc_watch_reset();
    for (size_t i = 0; i < ARRAY_LEN(bombs); i++) {
        cs_buf_reset(&b);
        s_mp_raw(&b, bombs[i]);
        s_expect_eproto(b.data, b.len, CS_CODEC_CANONICAL, bombs[i]);
        s_expect_eproto(b.data, b.len, CS_CODEC_STORED, bombs[i]);
        s_expect_delta_eproto(b.data, b.len, bombs[i]);
        /* also behind a valid delta head */
        cs_buf_reset(&b);
        s_mp_raw(&b, "93 a1 63 a1 69");
        s_mp_raw(&b, bombs[i]);
        s_expect_delta_eproto(b.data, b.len, bombs[i]);
    }
    size_t largest = s_alloc_largest();
    double seconds = s_seconds_since(&start);
    cs_buf_fini(&b);
#if defined(CS_TEST_SANITIZED_MALLOC)
    print_message("bombs: %.4f s (allocation bound enforced by ASan)\n",
                  seconds);
#else
    print_message("bombs: %.4f s, largest single allocation %zu bytes\n",
                  seconds, largest);
#endif
    if (largest > ALLOC_BOUND) {
        fail_msg("a bomb made the decoder ask for %zu bytes", largest);
    }
    assert_true(seconds < 2.0);
}

/* ---------------- deltas ---------------- */

static void
test_codec_delta_round_trip(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    assert_int_equal(
        cs_codec_encode_delta("contacts", "0035g00000ABCDEFAA", rec, &buf),
        CS_OK);

    cs_delta_t delta;
    memset(&delta, 0, sizeof delta);
    assert_int_equal(s_decode_delta(buf.data, buf.len, &delta), CS_OK);
    assert_string_equal(delta.collection, "contacts");
    assert_string_equal(delta.id, "0035g00000ABCDEFAA");
    assert_non_null(delta.record);
    assert_true(cs_record_equal(delta.record, rec));
    s_assert_all_seqs(delta.record, 0);
    cs_delta_fini(&delta);
    assert_null(delta.record);
    cs_delta_fini(&delta); /* safe twice */
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

/* One record takes delta after delta: each decode clears it first, so it
 * holds exactly the last delta's record, whatever came before; a delta
 * that fails leaves it to the next one. */
static void
test_codec_delta_decode_in_reuses_the_callers_record(void **state)
{
    (void) state;
    cs_record_t *big = s_sample_record();
    cs_record_t *small = cs_record_new();
    cs_stamp_t stamp = { 7, 7 };
    s_set(small, "a", cs_value_str("x"), stamp, 0);
    cs_record_t *dead = cs_record_new();
    cs_record_delete(dead, stamp, 0);
    cs_buf_t bufs[3];
    const cs_record_t *recs[] = { big, small, dead };
    cs_record_t *into = cs_record_new();
    for (size_t i = 0; i < 3; i++) {
        cs_buf_init(&bufs[i]);
        assert_int_equal(
            cs_codec_encode_delta("contacts", "1", recs[i], &bufs[i]), CS_OK);
        cs_delta_t delta;
        assert_int_equal(
            cs_codec_decode_delta_in(bufs[i].data, bufs[i].len, into, &delta),
            CS_OK);
        assert_ptr_equal(delta.record, into);
        assert_true(cs_record_equal(into, recs[i]));
        assert_int_equal(delta.canonical_len,
                         bufs[i].len -
                             (size_t) (delta.canonical - bufs[i].data));
    }
    cs_delta_t delta;
    assert_int_equal(
        cs_codec_decode_delta_in(bufs[0].data, bufs[0].len - 1, into, &delta),
        CS_EPROTO);
    assert_null(delta.record);
    assert_int_equal(
        cs_codec_decode_delta_in(bufs[1].data, bufs[1].len, into, &delta),
        CS_OK);
    assert_true(cs_record_equal(into, small));
    for (size_t i = 0; i < 3; i++) {
        cs_buf_fini(&bufs[i]);
    }
    cs_record_destroy(&into);
    cs_record_destroy(&dead);
    cs_record_destroy(&small);
    cs_record_destroy(&big);
}

static void
test_codec_delta_is_collection_id_and_canonical_record(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t delta, want;
    cs_buf_init(&delta);
    cs_buf_init(&want);
    assert_int_equal(cs_codec_encode_delta("deals", "D-1", rec, &delta), CS_OK);
    s_mp_array(&want, 3);
    s_mp_cstr(&want, "deals");
    s_mp_cstr(&want, "D-1");
    cs_codec_encode_record(rec, CS_CODEC_CANONICAL, &want);
    assert_int_equal(delta.len, want.len);
    assert_memory_equal(delta.data, want.data, want.len);
    cs_buf_fini(&delta);
    cs_buf_fini(&want);
    cs_record_destroy(&rec);
}

/* A collection and an id of the largest lengths. */
static void
s_longest_keys(char collection[CS_COLLECTION_MAX + 1], char id[CS_ID_MAX + 1])
{
    memset(collection, 'c', CS_COLLECTION_MAX);
    collection[CS_COLLECTION_MAX] = '\0';
    memset(id, 'i', CS_ID_MAX);
    id[CS_ID_MAX] = '\0';
}

static void
test_codec_delta_keys_at_their_limits_round_trip(void **state)
{
    (void) state;
    char collection[CS_COLLECTION_MAX + 1];
    char id[CS_ID_MAX + 1];
    s_longest_keys(collection, id);
    id[0] = '\xc3'; /* UTF-8 is fine */
    id[1] = '\xa9';
    cs_record_t *rec = cs_record_new();
    assert_true(cs_record_delete(rec, s_at(1, NODE_A), 1));
    cs_buf_t buf;
    cs_buf_init(&buf);
    assert_int_equal(cs_codec_encode_delta(collection, id, rec, &buf), CS_OK);
    cs_delta_t delta;
    memset(&delta, 0, sizeof delta);
    assert_int_equal(s_decode_delta(buf.data, buf.len, &delta), CS_OK);
    assert_string_equal(delta.collection, collection);
    assert_string_equal(delta.id, id);
    assert_true(cs_record_is_deleted(delta.record));
    cs_delta_fini(&delta);
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

/* A decoded delta points at its record's canonical bytes in the input,
 * whatever the width of the key strings' headers before them. */
static void
test_codec_delta_decode_points_at_its_canonical_record(void **state)
{
    (void) state;
    char long_collection[CS_COLLECTION_MAX + 1];
    char long_id[CS_ID_MAX + 1];
    s_longest_keys(long_collection, long_id);
    const char *keys[][2] = { { "deals", "D-1" },
                              { long_collection, "x" },
                              { "c", long_id } };
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf, want;
    cs_buf_init(&want);
    cs_codec_encode_record(rec, CS_CODEC_CANONICAL, &want);
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        cs_buf_init(&buf);
        assert_int_equal(
            cs_codec_encode_delta(keys[k][0], keys[k][1], rec, &buf), CS_OK);
        cs_delta_t delta;
        assert_int_equal(cs_codec_decode_delta(buf.data, buf.len, &delta),
                         CS_OK);
        assert_ptr_equal(delta.canonical, buf.data + buf.len - want.len);
        assert_int_equal(delta.canonical_len, want.len);
        assert_memory_equal(delta.canonical, want.data, want.len);
        cs_delta_fini(&delta);
        assert_null(delta.canonical);
        assert_int_equal(delta.canonical_len, 0);
        cs_buf_fini(&buf);
    }
    cs_buf_fini(&want);
    cs_record_destroy(&rec);
}

static void
test_codec_delta_encode_rejects_bad_collection_or_id(void **state)
{
    (void) state;
    char long_collection[CS_COLLECTION_MAX + 2];
    char long_id[CS_ID_MAX + 2];
    memset(long_collection, 'c', sizeof long_collection - 1);
    long_collection[sizeof long_collection - 1] = '\0';
    memset(long_id, 'i', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const struct {
        const char *collection; /* input */
        const char *id;         /* input */
    } bad[] = {
        { "", "1" },
        { "contacts", "" },
        { long_collection, "1" },
        { "contacts", long_id },
        { "con\xc0\x80tacts", "1" },
        { "contacts", "\xed\xa0\x80" },
        { "contacts", "caf\xe9" },
    };
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_buf_append(&buf, "kept", 4);
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int rc = cs_codec_encode_delta(bad[i].collection, bad[i].id, rec, &buf);
        if (rc != CS_EINVAL) {
            fail_msg("bad key %zu: got %d, want CS_EINVAL", i, rc);
        }
        assert_int_equal(buf.len, 4);
    }
    assert_memory_equal(buf.data, "kept", 4);
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

/* One thing wrong with an otherwise valid delta. */
typedef enum {
    D_NONE,
    D_ARRAY_2,
    D_ARRAY_4,
    D_COLLECTION_INT,
    D_COLLECTION_EMPTY,
    D_COLLECTION_TOO_LONG,
    D_COLLECTION_OVERLONG,
    D_COLLECTION_NUL,
    D_COLLECTION_BIN,
    D_COLLECTION_LEN_HUGE,
    D_ID_NIL,
    D_ID_EMPTY,
    D_ID_TOO_LONG,
    D_ID_SURROGATE,
    D_ID_NUL,
    D_ID_INT,
    D_RECORD_STORED,
    D_RECORD_UNKNOWN_FORM,
    D_RECORD_AS_BIN,
    D_RECORD_SHORT_FIELD,
    D_RECORD_OLD_LAYOUT,
    D_RECORD_NIL_DEFAULT,
    D_RECORD_NIL,
    D_RECORD_FIELDS_HUGE,
    D_TRAILING_NIL,
    D_COUNT
} delta_defect_t;

static const char *s_delta_defect_names[D_COUNT] = {
    [D_NONE] = "valid",
    [D_ARRAY_2] = "array of 2 holding 3 items",
    [D_ARRAY_4] = "array of 4",
    [D_COLLECTION_INT] = "collection is an integer",
    [D_COLLECTION_EMPTY] = "collection is empty",
    [D_COLLECTION_TOO_LONG] = "collection of 65 bytes",
    [D_COLLECTION_OVERLONG] = "collection with an overlong",
    [D_COLLECTION_NUL] = "collection with a NUL byte",
    [D_COLLECTION_BIN] = "collection is binary",
    [D_COLLECTION_LEN_HUGE] = "collection claims 2^32-1 bytes",
    [D_ID_NIL] = "id is nil",
    [D_ID_EMPTY] = "id is empty",
    [D_ID_TOO_LONG] = "id of 257 bytes",
    [D_ID_SURROGATE] = "id with a surrogate",
    [D_ID_NUL] = "id with a NUL byte",
    [D_ID_INT] = "id is an integer",
    [D_RECORD_STORED] = "record in the stored form",
    [D_RECORD_UNKNOWN_FORM] = "record with form tag 3",
    [D_RECORD_AS_BIN] = "record wrapped in a binary",
    [D_RECORD_SHORT_FIELD] = "record whose field lacks its value",
    [D_RECORD_OLD_LAYOUT] = "record in the layout of schema 1",
    [D_RECORD_NIL_DEFAULT] = "record with fields and a nil default",
    [D_RECORD_NIL] = "record is nil",
    [D_RECORD_FIELDS_HUGE] = "record fields claim 2^32-1 items",
    [D_TRAILING_NIL] = "a nil after the delta",
};

/* ["contacts", "0035g00000ABCDEFAA", [1, nil, [1, 1], [["v", 1]]]] with
 * defect @p d. */
static void
s_build_delta(cs_buf_t *b, delta_defect_t d)
{
    char long_key[CS_ID_MAX + 1];
    memset(long_key, 'k', sizeof long_key);
    cs_buf_reset(b);
    s_mp_array(b, d == D_ARRAY_2 ? 2 : d == D_ARRAY_4 ? 4 : 3);

    switch ((int) d) {
    case D_COLLECTION_INT:
        s_mp_uint(b, 1);
        break;
    case D_COLLECTION_EMPTY:
        s_mp_cstr(b, "");
        break;
    case D_COLLECTION_TOO_LONG:
        s_mp_str(b, long_key, CS_COLLECTION_MAX + 1);
        break;
    case D_COLLECTION_OVERLONG:
        s_mp_str(b, "con\xc0\x80", 5);
        break;
    case D_COLLECTION_NUL:
        s_mp_str(b, "con\0tacts", 9);
        break;
    case D_COLLECTION_BIN:
        s_mp_bin(b, "contacts", 8);
        break;
    case D_COLLECTION_LEN_HUGE:
        s_mp_raw(b, "db ff ff ff ff");
        break;
    default:
        s_mp_cstr(b, "contacts");
        break;
    }

    switch ((int) d) {
    case D_ID_NIL:
        s_mp_nil(b);
        break;
    case D_ID_EMPTY:
        s_mp_cstr(b, "");
        break;
    case D_ID_TOO_LONG:
        s_mp_str(b, long_key, CS_ID_MAX + 1);
        break;
    case D_ID_SURROGATE:
        s_mp_str(b, "\xed\xa0\x80", 3);
        break;
    case D_ID_NUL:
        s_mp_str(b, "a\0b", 3);
        break;
    case D_ID_INT:
        s_mp_int(b, -12);
        break;
    default:
        s_mp_cstr(b, "0035g00000ABCDEFAA");
        break;
    }

    switch ((int) d) {
    case D_RECORD_STORED:
        s_mp_raw(b, "94 02 c0 c0 90");
        break;
    case D_RECORD_UNKNOWN_FORM:
        s_mp_raw(b, "94 03 c0 c0 90");
        break;
    case D_RECORD_AS_BIN:
        s_mp_bin(b, "\x94\x01\xc0\xc0\x90", 5);
        break;
    case D_RECORD_SHORT_FIELD:
        s_mp_raw(b, "94 01 c0 92 01 01 91 91 a1 76");
        break;
    case D_RECORD_OLD_LAYOUT:
        s_mp_raw(b, "93 01 c0 91 94 a1 76 01 01 01");
        break;
    case D_RECORD_NIL_DEFAULT:
        s_mp_raw(b, "94 01 c0 c0 91 92 a1 76 01");
        break;
    case D_RECORD_NIL:
        s_mp_nil(b);
        break;
    case D_RECORD_FIELDS_HUGE:
        s_mp_raw(b, "94 01 c0 92 01 01 dd ff ff ff ff");
        break;
    default:
        s_mp_raw(b, "94 01 c0 92 01 01 91 92 a1 76 01");
        break;
    }

    if (d == D_ARRAY_4 || d == D_TRAILING_NIL) {
        s_mp_nil(b);
    }
}

static void
test_codec_delta_decode_rejects_every_single_defect(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    s_build_delta(&b, D_NONE);
    cs_delta_t delta;
    memset(&delta, 0, sizeof delta);
    assert_int_equal(s_decode_delta(b.data, b.len, &delta), CS_OK);
    assert_string_equal(delta.collection, "contacts");
    assert_string_equal(delta.id, "0035g00000ABCDEFAA");
    assert_int_equal(cs_record_field_count(delta.record), 1);
    cs_delta_fini(&delta);

    for (int d = D_NONE + 1; d < D_COUNT; d++) {
        s_build_delta(&b, (delta_defect_t) d);
        s_expect_delta_eproto(b.data, b.len, s_delta_defect_names[d]);
    }
    /* every prefix of the valid delta */
    s_build_delta(&b, D_NONE);
    for (size_t len = 0; len < b.len; len++) {
        char what[64];
        snprintf(what, sizeof what, "prefix %zu/%zu", len, b.len);
        s_expect_delta_eproto(b.data, len, what);
    }
    cs_buf_fini(&b);
}

/* The bulk-load encoder refuses what no record can hold, writing nothing. */
static void
test_codec_encode_fields_refuses_bad_fields(void **state)
{
    (void) state;
    cs_stamp_t stamp = { 5, 6 };
    cs_buf_t out;
    cs_buf_init(&out);
    const char *sorted[] = { "a", "b" };
    const char *unsorted[] = { "b", "a" };
    const char *repeated[] = { "a", "a" };
    const char *empty[] = { "", "b" };
    static const char *many[CS_RECORD_FIELDS_MAX + 1];
    cs_value_t ok[] = { cs_value_str("x"), cs_value_int(-7) };
    char *big = calloc(CS_VALUE_MAX + 1, 1);
    assert_non_null(big);
    memset(big, 'x', CS_VALUE_MAX + 1);
    cs_value_t too_big[] = { cs_value_strn(big, CS_VALUE_MAX + 1),
                             cs_value_nil() };
    cs_codec_fields_t *fields = NULL;
    assert_int_equal(cs_codec_fields_new(unsorted, NULL, 2, &fields),
                     CS_EINVAL);
    assert_int_equal(cs_codec_fields_new(repeated, NULL, 2, &fields),
                     CS_EINVAL);
    assert_int_equal(cs_codec_fields_new(empty, NULL, 2, &fields), CS_EINVAL);
    assert_int_equal(
        cs_codec_fields_new(many, NULL, CS_RECORD_FIELDS_MAX + 1, &fields),
        CS_ELIMIT);
    assert_null(fields);
    assert_int_equal(cs_codec_fields_new(sorted, NULL, 2, &fields), CS_OK);
    assert_int_equal(cs_codec_encode_fields(fields, too_big, stamp, &out),
                     CS_ELIMIT);
    assert_int_equal(out.len, 0);
    free(big);
    assert_int_equal(cs_codec_encode_fields(fields, ok, stamp, &out), CS_OK);
    cs_codec_fields_destroy(&fields);
    cs_codec_fields_destroy(&fields); /* safe twice */
    /* no fields: the empty record */
    cs_buf_reset(&out);
    assert_int_equal(cs_codec_fields_new(NULL, NULL, 0, &fields), CS_OK);
    assert_int_equal(cs_codec_encode_fields(fields, NULL, stamp, &out), CS_OK);
    cs_codec_fields_destroy(&fields);
    cs_record_t *rec = NULL;
    assert_int_equal(
        cs_codec_decode_record(out.data, out.len, CS_CODEC_CANONICAL, &rec),
        CS_OK);
    assert_true(cs_record_is_empty(rec));
    cs_record_destroy(&rec);
    cs_buf_fini(&out);
}

/* The bulk-load shortcut refuses what is not a canonical record and
 * leaves the buffer as it was. */
static void
test_codec_stored_from_canonical_refuses_other_shapes(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    cs_value_t v = cs_value_str("x");
    cs_stamp_t stamp = { 300, 70000 };
    assert_int_equal(cs_record_set(rec, "a", &v, stamp, 0, NULL), CS_OK);
    cs_buf_t canon, stored, out;
    cs_buf_init(&canon);
    cs_buf_init(&stored);
    cs_buf_init(&out);
    cs_codec_encode_record(rec, CS_CODEC_CANONICAL, &canon);
    cs_codec_encode_record(rec, CS_CODEC_STORED, &stored);
    cs_buf_append(&out, "keep", 4);
    /* the stored form, every truncation before the fields, an empty input */
    assert_int_equal(
        cs_codec_stored_from_canonical(stored.data, stored.len, 1, NULL, &out),
        CS_EPROTO);
    for (size_t len = 0; len <= 9; len++) {
        assert_int_equal(
            cs_codec_stored_from_canonical(canon.data, len, 1, NULL, &out),
            CS_EPROTO);
    }
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "keep", 4);
    /* and the whole one converts */
    assert_int_equal(
        cs_codec_stored_from_canonical(canon.data, canon.len, 200, NULL, &out),
        CS_OK);
    cs_record_set_seq(rec, 200);
    cs_buf_reset(&stored);
    cs_codec_encode_record(rec, CS_CODEC_STORED, &stored);
    assert_int_equal(out.len, 4 + stored.len);
    assert_memory_equal(out.data + 4, stored.data, stored.len);
    cs_buf_fini(&canon);
    cs_buf_fini(&stored);
    cs_buf_fini(&out);
    cs_record_destroy(&rec);
}

/* Bulk-load bytes whose names are already numbers convert as the record
 * would encode, while a number past the dictionary or a value that is not
 * a scalar is refused. */
static void
test_codec_stored_from_canonical_keeps_numbered_names(void **state)
{
    (void) state;
    const char *spelt[] = { "Email", "Id", "Name" };
    const uint32_t numbers[] = { 0, 1, 2 };
    cs_names_t *names = cs_names_new();
    cs_names_t *short_names = cs_names_new();
    for (uint32_t n = 0; n < 3; n++) {
        assert_int_equal(cs_names_add(names, spelt[n], strlen(spelt[n])),
                         CS_OK);
        if (n < 2) {
            assert_int_equal(
                cs_names_add(short_names, spelt[n], strlen(spelt[n])), CS_OK);
        }
    }
    cs_codec_fields_t *fields = NULL;
    assert_int_equal(cs_codec_fields_new(spelt, numbers, 3, &fields), CS_OK);
    cs_value_t values[] = { cs_value_str("a@b.c"), cs_value_str("X1"),
                            cs_value_nil() };
    cs_stamp_t stamp = { 300, 70000 };
    cs_buf_t canon, want, out;
    cs_buf_init(&canon);
    cs_buf_init(&want);
    cs_buf_init(&out);
    assert_int_equal(cs_codec_encode_fields(fields, values, stamp, &canon),
                     CS_OK);
    assert_int_equal(
        cs_codec_stored_from_canonical(canon.data, canon.len, 9, names, &out),
        CS_OK);
    cs_record_t *rec = cs_record_new();
    for (size_t k = 0; k < 3; k++) {
        s_set(rec, spelt[k], values[k], stamp, 9);
    }
    cs_codec_encode_stored(rec, names, &want);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.data, want.data, want.len);
    /* the third number is past a dictionary of two */
    cs_buf_reset(&out);
    assert_int_equal(cs_codec_stored_from_canonical(canon.data, canon.len, 9,
                                                    short_names, &out),
                     CS_EPROTO);
    assert_int_equal(out.len, 0);
    /* "a@b.c" made an array of five small integers */
    const uint8_t field[] = { 0x92, 0x00, 0xa5 };
    size_t at = 0;
    while (at + sizeof field <= canon.len &&
           memcmp(canon.data + at, field, sizeof field) != 0) {
        at++;
    }
    assert_true(at + sizeof field <= canon.len);
    canon.data[at + 2] = 0x95;
    assert_int_equal(
        cs_codec_stored_from_canonical(canon.data, canon.len, 9, names, &out),
        CS_EPROTO);
    assert_int_equal(out.len, 0);
    cs_record_destroy(&rec);
    cs_codec_fields_destroy(&fields);
    cs_names_destroy(&short_names);
    cs_names_destroy(&names);
    cs_buf_fini(&canon);
    cs_buf_fini(&want);
    cs_buf_fini(&out);
}

static void
test_codec_delta_decode_rejects_truncated_real_deltas(void **state)
{
    (void) state;
    cs_record_t *rec = s_sample_record();
    cs_buf_t buf;
    cs_buf_init(&buf);
    assert_int_equal(cs_codec_encode_delta("accounts", "A-77", rec, &buf),
                     CS_OK);
    for (size_t len = 0; len < buf.len; len++) {
        s_expect_delta_eproto(buf.data, len, "truncated delta");
    }
    /* a bare record is not a delta, nor a delta a record */
    cs_buf_t bare;
    cs_buf_init(&bare);
    s_encode(rec, CS_CODEC_CANONICAL, &bare);
    s_expect_delta_eproto(bare.data, bare.len, "a bare record");
    s_expect_eproto(buf.data, buf.len, CS_CODEC_CANONICAL, "a delta");
    cs_buf_fini(&bare);
    cs_buf_fini(&buf);
    cs_record_destroy(&rec);
}

/* The serving shortcut gives the canonical form of a stored record whose
 * parts share one seq, with that seq; for any other it refuses and
 * leaves the buffer as it was. */
static void
test_codec_canonical_from_stored_inverts_stored_from_canonical(void **state)
{
    (void) state;
    cs_record_t *mixed = s_sample_record(); /* seqs 3 to 10 */
    cs_record_t *shapes[4] = { cs_record_dup(mixed), cs_record_new(),
                               cs_record_new(), cs_record_new() };
    assert_true(cs_record_delete(shapes[1], s_at(9, NODE_A), 1));
    s_set(shapes[2], "a", cs_value_str("x"), s_at(300, 70000), 1);
    /* a tombstone, and fields past it of two stamps */
    assert_true(cs_record_delete(shapes[3], s_at(1, NODE_B), 1));
    s_set(shapes[3], "a", cs_value_int(1), s_at(2, NODE_A), 1);
    s_set(shapes[3], "b", cs_value_int(2), s_at(2, NODE_A), 1);
    s_set(shapes[3], "c", cs_value_int(3), s_at(5, NODE_B), 1);
    cs_buf_t stored, want, out, back;
    cs_buf_init(&stored);
    cs_buf_init(&want);
    cs_buf_init(&out);
    cs_buf_init(&back);
    for (size_t k = 0; k < 4; k++) {
        cs_record_set_seq(shapes[k], 4000000000u + k);
        cs_buf_reset(&stored);
        cs_buf_reset(&want);
        cs_buf_reset(&out);
        cs_buf_reset(&back);
        cs_codec_encode_record(shapes[k], CS_CODEC_STORED, &stored);
        cs_codec_encode_record(shapes[k], CS_CODEC_CANONICAL, &want);
        uint64_t seq = 0;
        cs_buf_append(&out, "keep", 4);
        assert_int_equal(cs_codec_canonical_from_stored(stored.data, stored.len,
                                                        NULL, &seq, &out),
                         CS_OK);
        assert_int_equal(seq, 4000000000u + k);
        assert_int_equal(out.len, 4 + want.len);
        assert_memory_equal(out.data + 4, want.data, want.len);
        assert_int_equal(cs_codec_stored_from_canonical(out.data + 4, want.len,
                                                        seq, NULL, &back),
                         CS_OK);
        assert_int_equal(back.len, stored.len);
        assert_memory_equal(back.data, stored.data, stored.len);
        /* every truncation is refused */
        for (size_t len = 0; len < stored.len; len++) {
            cs_buf_reset(&out);
            assert_int_equal(cs_codec_canonical_from_stored(stored.data, len,
                                                            NULL, &seq, &out),
                             CS_EPROTO);
            assert_int_equal(out.len, 0);
        }
    }
    /* parts at several seqs, a canonical record, an empty record */
    cs_record_t *empty = cs_record_new();
    const cs_record_t *refused[] = { mixed, shapes[2], empty };
    for (size_t k = 0; k < 3; k++) {
        cs_buf_reset(&stored);
        cs_buf_reset(&out);
        cs_codec_encode_record(
            refused[k], k == 1 ? CS_CODEC_CANONICAL : CS_CODEC_STORED, &stored);
        uint64_t seq = 77;
        assert_int_equal(cs_codec_canonical_from_stored(stored.data, stored.len,
                                                        NULL, &seq, &out),
                         CS_EPROTO);
        assert_int_equal(out.len, 0);
        assert_int_equal(seq, 77);
    }
    /* a tombstone at another seq than the fields' */
    cs_record_t *late = cs_record_dup(shapes[3]);
    cs_record_set_seq(late, 5);
    assert_true(cs_record_delete(late, s_at(1, NODE_B + 1), 6)); /* newer */
    cs_buf_reset(&stored);
    cs_codec_encode_record(late, CS_CODEC_STORED, &stored);
    uint64_t seq = 0;
    assert_int_equal(cs_codec_canonical_from_stored(stored.data, stored.len,
                                                    NULL, &seq, &out),
                     CS_EPROTO);
    /* a delta from canonical bytes is the delta of the record */
    cs_buf_reset(&want);
    cs_buf_reset(&out);
    assert_int_equal(cs_codec_encode_delta("c", "1", mixed, &want), CS_OK);
    cs_buf_reset(&back);
    cs_codec_encode_record(mixed, CS_CODEC_CANONICAL, &back);
    assert_int_equal(
        cs_codec_encode_delta_canonical("c", "1", back.data, back.len, &out),
        CS_OK);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.data, want.data, want.len);
    assert_int_equal(
        cs_codec_encode_delta_canonical("", "1", back.data, back.len, &out),
        CS_EINVAL);
    assert_int_equal(out.len, want.len);
    cs_record_destroy(&late);
    cs_record_destroy(&empty);
    for (size_t k = 0; k < 4; k++) {
        cs_record_destroy(&shapes[k]);
    }
    cs_record_destroy(&mixed);
    cs_buf_fini(&stored);
    cs_buf_fini(&want);
    cs_buf_fini(&out);
    cs_buf_fini(&back);
}

/* The stored form with a name dictionary writes each name as its number
 * (new names get the next ones), reads both spellings, and refuses a
 * number the dictionary lacks; a full dictionary leaves new names spelt
 * out. */
static void
test_codec_stored_numbers_names(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set(rec, "Id", cs_value_str("0035g00000ABCDEFAA"), s_at(1, NODE_A), 5);
    s_set(rec, "Email", cs_value_str("a@b.c"), s_at(1, NODE_A), 5);
    s_set(rec, "Phone", cs_value_nil(), s_at(2, NODE_B), 5);
    cs_names_t *names = cs_names_new();
    cs_buf_t spelt, numbered, canon, out;
    cs_buf_init(&spelt);
    cs_buf_init(&numbered);
    cs_buf_init(&canon);
    cs_buf_init(&out);
    cs_codec_encode_record(rec, CS_CODEC_STORED, &spelt);
    cs_codec_encode_record(rec, CS_CODEC_CANONICAL, &canon);
    cs_codec_encode_stored(rec, names, &numbered);
    /* in name order: Email 0, Id 1, Phone 2; one byte each instead of
     * 1 + 5, 1 + 2 and 1 + 5 */
    assert_int_equal(cs_names_count(names), 3);
    size_t len;
    assert_memory_equal(cs_names_at(names, 0, &len), "Email", 5);
    assert_memory_equal(cs_names_at(names, 2, &len), "Phone", 5);
    assert_int_equal(numbered.len + 12, spelt.len);
    cs_record_t *back = NULL;
    for (int k = 0; k < 2; k++) {
        const cs_buf_t *in = k ? &spelt : &numbered;
        assert_int_equal(cs_codec_decode_numbered(
                             in->data, in->len, CS_CODEC_STORED, names, &back),
                         CS_OK);
        assert_true(cs_record_equal(back, rec));
        assert_int_equal(cs_record_max_seq(back), 5);
        cs_record_destroy(&back);
    }
    /* a number without the dictionary, or past it */
    assert_int_equal(cs_codec_decode_record(numbered.data, numbered.len,
                                            CS_CODEC_STORED, &back),
                     CS_EPROTO);
    cs_names_t *short_names = cs_names_new();
    assert_int_equal(cs_names_add(short_names, "Email", 5), CS_OK);
    assert_int_equal(cs_names_add(short_names, "Id", 2), CS_OK);
    assert_int_equal(cs_codec_decode_numbered(numbered.data, numbered.len,
                                              CS_CODEC_STORED, short_names,
                                              &back),
                     CS_EPROTO);
    assert_null(back);
    uint64_t seq = 0;
    cs_buf_append(&out, "keep", 4);
    assert_int_equal(cs_codec_canonical_from_stored(numbered.data, numbered.len,
                                                    short_names, &seq, &out),
                     CS_EPROTO);
    assert_int_equal(out.len, 4);
    /* the shortcuts: numbered bytes from and to the canonical ones */
    cs_buf_reset(&out);
    assert_int_equal(cs_codec_canonical_from_stored(numbered.data, numbered.len,
                                                    names, &seq, &out),
                     CS_OK);
    assert_int_equal(seq, 5);
    assert_int_equal(out.len, canon.len);
    assert_memory_equal(out.data, canon.data, canon.len);
    cs_buf_reset(&out);
    assert_int_equal(
        cs_codec_stored_from_canonical(canon.data, canon.len, 5, names, &out),
        CS_OK);
    assert_int_equal(out.len, numbered.len);
    assert_memory_equal(out.data, numbered.data, numbered.len);
    /* matching numbers no name: with a dictionary that lacks them, the
     * numbered bytes do not match, and it stays as it was */
    assert_true(cs_codec_stored_matches(numbered.data, numbered.len, canon.data,
                                        canon.len, names, &out));
    assert_false(cs_codec_stored_matches(
        numbered.data, numbered.len, canon.data, canon.len, short_names, &out));
    assert_int_equal(cs_names_count(short_names), 2);
    /* a full dictionary spells new names out */
    cs_names_t *full = cs_names_new();
    char name[32];
    for (uint32_t n = 0; n < CS_NAMES_MAX; n++) {
        snprintf(name, sizeof name, "f%u", n);
        assert_int_equal(cs_names_add(full, name, strlen(name)), CS_OK);
    }
    cs_buf_reset(&out);
    cs_codec_encode_stored(rec, full, &out);
    assert_int_equal(out.len, spelt.len);
    assert_memory_equal(out.data, spelt.data, spelt.len);
    cs_names_destroy(&full);
    cs_names_destroy(&short_names);
    cs_names_destroy(&names);
    cs_buf_fini(&spelt);
    cs_buf_fini(&numbered);
    cs_buf_fini(&canon);
    cs_buf_fini(&out);
    cs_record_destroy(&rec);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_appends_resets_and_frees),
        cmocka_unit_test(test_codec_empty_record_has_fixed_bytes),
        cmocka_unit_test(test_codec_layout_matches_the_header),
        cmocka_unit_test(test_codec_scalars_use_shortest_ints_and_float64),
        cmocka_unit_test(
            test_codec_decode_refuses_longer_spellings_msgpack_c_reads),
        cmocka_unit_test(
            test_codec_canonical_bytes_ignore_insertion_order_and_seqs),
        cmocka_unit_test(test_codec_encode_appends_to_the_buffer),
        cmocka_unit_test(
            test_codec_canonical_round_trip_keeps_state_and_drops_seqs),
        cmocka_unit_test(test_codec_stored_round_trip_keeps_seqs),
        cmocka_unit_test(test_codec_round_trip_keeps_exact_values),
        cmocka_unit_test(test_codec_round_trip_at_every_limit),
        cmocka_unit_test(
            test_codec_largest_possible_record_fits_the_size_limit),
        cmocka_unit_test(test_codec_decode_reads_a_hand_built_record),
        cmocka_unit_test(test_codec_fields_sharing_one_stamp_are_all_short),
        cmocka_unit_test(test_codec_stored_fields_take_one_of_four_lengths),
        cmocka_unit_test(test_codec_default_is_the_most_common_stamp),
        cmocka_unit_test(test_codec_default_ties_go_to_the_larger_stamp),
        cmocka_unit_test(test_codec_decode_accepts_only_the_chosen_default),
        cmocka_unit_test(test_codec_decode_rejects_wrong_array_lengths),
        cmocka_unit_test(test_codec_decode_accepts_the_unmutated_builder),
        cmocka_unit_test(test_codec_decode_rejects_every_single_defect),
        cmocka_unit_test(test_codec_decode_rejects_the_other_form),
        cmocka_unit_test(test_codec_decode_rejects_every_truncation),
        cmocka_unit_test(test_codec_decode_rejects_trailing_bytes),
        cmocka_unit_test(test_codec_decode_rejects_more_than_1024_fields),
        cmocka_unit_test(test_codec_decode_rejects_input_over_record_max),
        cmocka_unit_test(
            test_codec_decode_rejects_deep_nesting_without_recursing),
        cmocka_unit_test(
            test_codec_decode_bombs_fail_fast_without_large_allocation),
        cmocka_unit_test(test_codec_delta_round_trip),
        cmocka_unit_test(
            test_codec_delta_is_collection_id_and_canonical_record),
        cmocka_unit_test(test_codec_delta_decode_in_reuses_the_callers_record),
        cmocka_unit_test(test_codec_delta_keys_at_their_limits_round_trip),
        cmocka_unit_test(
            test_codec_delta_decode_points_at_its_canonical_record),
        cmocka_unit_test(test_codec_delta_encode_rejects_bad_collection_or_id),
        cmocka_unit_test(test_codec_delta_decode_rejects_every_single_defect),
        cmocka_unit_test(test_codec_delta_decode_rejects_truncated_real_deltas),
        cmocka_unit_test(test_codec_stored_from_canonical_refuses_other_shapes),
        cmocka_unit_test(test_codec_stored_from_canonical_keeps_numbered_names),
        cmocka_unit_test(test_codec_stored_numbers_names),
        cmocka_unit_test(
            test_codec_canonical_from_stored_inverts_stored_from_canonical),
        cmocka_unit_test(test_codec_encode_fields_refuses_bad_fields),
    };
    return cmocka_run_group_tests_name("crdt/cs_codec", tests, NULL, NULL);
}
