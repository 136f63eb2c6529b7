/*  test_cs_msg - the sync protocol's wire messages: every type round trips
 *  with edge values, every msgpack width of an integer, array or bin
 *  decodes, and malformed, oversized or hostile frames are refused with
 *  CS_EPROTO, leaving nothing to free.
 *  SPDX-License-Identifier: MIT
 *
 *  Hostile frames are written with a small msgpack writer of our own (the
 *  s_mp_* helpers), whose widths the test chooses, so each one is a valid
 *  frame with exactly one thing wrong. Refused frames are decoded from an
 *  exact-size heap copy, so that a sanitizer sees any read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/cs_msg.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Items of each message's top-level array, version and type included (the
 * table in net/cs_msg.h), written out here so that a change of format
 * shows up as a test failure. PULL and CHANGES had one item less before
 * puller_epoch; frames of that shape must be refused. */
#define S_NOTIFY_ITEMS      4u
#define S_PULL_ITEMS        7u
#define S_CHANGES_ITEMS     9u
#define S_OLD_PULL_ITEMS    6u
#define S_OLD_CHANGES_ITEMS 8u

/* The decoder must bound the delta count before it allocates the table. */
#include "../alloc_watch.h"

/* ---------------- a small msgpack writer, widths chosen ---------------- */

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

/*  @p width 0: positive fixint; 1, 2, 4, 8: uint 8/16/32/64. */
static void
s_mp_uint_w(cs_buf_t *b, uint64_t v, unsigned width)
{
    switch (width) {
    case 0:
        assert_true(v < 0x80);
        s_mp_byte(b, (uint8_t) v);
        return;
    case 1:
        s_mp_byte(b, 0xcc);
        break;
    case 2:
        s_mp_byte(b, 0xcd);
        break;
    case 4:
        s_mp_byte(b, 0xce);
        break;
    default:
        assert_int_equal(width, 8);
        s_mp_byte(b, 0xcf);
        break;
    }
    s_mp_be(b, v, width);
}

/*  In its shortest form. */
static void
s_mp_uint(cs_buf_t *b, uint64_t v)
{
    unsigned width = v < 0x80          ? 0
                     : v <= UINT8_MAX  ? 1
                     : v <= UINT16_MAX ? 2
                     : v <= UINT32_MAX ? 4
                                       : 8;
    s_mp_uint_w(b, v, width);
}

/*  @p width 0: fixarray; 2, 4: array 16/32. */
static void
s_mp_array_w(cs_buf_t *b, uint64_t n, unsigned width)
{
    if (width == 0) {
        assert_true(n < 16);
        s_mp_byte(b, (uint8_t) (0x90 | n));
        return;
    }
    s_mp_byte(b, width == 2 ? 0xdc : 0xdd);
    s_mp_be(b, n, width);
}

static void
s_mp_array(cs_buf_t *b, uint64_t n)
{
    s_mp_array_w(b, n, n < 16 ? 0 : n <= UINT16_MAX ? 2 : 4);
}

/*  @p width 1, 2, 4: bin 8/16/32. The header only; the caller appends. */
static void
s_mp_bin_head(cs_buf_t *b, uint64_t len, unsigned width)
{
    s_mp_byte(b, width == 1 ? 0xc4 : width == 2 ? 0xc5 : 0xc6);
    s_mp_be(b, len, width);
}

static void
s_mp_bin_w(cs_buf_t *b, const void *data, size_t len, unsigned width)
{
    s_mp_bin_head(b, len, width);
    cs_buf_append(b, data, len);
}

/*  The start of a frame: array header (@p items, as given), version, type.
 *  The caller writes the other items. */
static void
s_mp_head(cs_buf_t *b, uint64_t items, uint64_t type)
{
    s_mp_array(b, items);
    s_mp_uint(b, CS_MSG_VERSION);
    s_mp_uint(b, type);
}

/*  A CHANGES up to its delta array: epoch, base, since, last_seq, head and
 *  puller_epoch all @p v (so in order). The caller writes the deltas. */
static void
s_mp_changes_head(cs_buf_t *b, uint64_t v)
{
    s_mp_head(b, S_CHANGES_ITEMS, CS_MSG_CHANGES);
    for (int k = 0; k < 6; k++) {
        s_mp_uint(b, v);
    }
}

/* ---------------- helpers ---------------- */

/*  The first @p len bytes of @p data in an exact-size heap copy (one byte
 *  when empty, so malloc(0) does not matter). */
static uint8_t *
s_copy(const void *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) {
        memcpy(copy, data, len);
    }
    return copy;
}

/*  @p msg holds nothing: all zero, as a refused decode must leave it. */
static void
s_assert_empty(const cs_msg_t *msg)
{
    cs_msg_t zero;
    memset(&zero, 0, sizeof zero);
    assert_int_equal(msg->type, 0);
    assert_null(msg->deltas);
    assert_int_equal(msg->n_deltas, 0);
    assert_memory_equal(msg, &zero, sizeof zero);
}

/*  Decoding the @p len bytes at @p data (from an exact-size copy) is
 *  refused with CS_EPROTO and leaves nothing to free. */
static void
s_assert_refused(const void *data, size_t len)
{
    uint8_t *copy = s_copy(data, len);
    cs_msg_t msg;
    memset(&msg, 0x5a, sizeof msg); /* decode must not trust this */
    assert_int_equal(cs_msg_decode(copy, len, &msg), CS_EPROTO);
    s_assert_empty(&msg);
    free(copy);
}

static void
s_assert_buf_refused(const cs_buf_t *b)
{
    s_assert_refused(b->data, b->len);
}

static void
s_assert_msg_equal(const cs_msg_t *a, const cs_msg_t *b)
{
    assert_int_equal(a->type, b->type);
    assert_true(a->epoch == b->epoch);
    assert_true(a->base == b->base);
    assert_true(a->since == b->since);
    assert_true(a->last_seq == b->last_seq);
    assert_true(a->head == b->head);
    assert_int_equal(a->max_bytes, b->max_bytes);
    assert_true(a->puller_epoch == b->puller_epoch);
    assert_int_equal(a->n_deltas, b->n_deltas);
    for (size_t i = 0; i < a->n_deltas; i++) {
        assert_int_equal(a->deltas[i].len, b->deltas[i].len);
        assert_memory_equal(a->deltas[i].data, b->deltas[i].data,
                            a->deltas[i].len);
    }
}

/*  The fields @p msg's type does not use are 0, as the header promises. */
static void
s_assert_unused_zero(const cs_msg_t *msg)
{
    switch (msg->type) {
    case CS_MSG_NOTIFY:
        assert_true(msg->base == 0 && msg->since == 0 && msg->last_seq == 0);
        assert_true(msg->puller_epoch == 0);
        assert_int_equal(msg->max_bytes, 0);
        break;
    case CS_MSG_PULL:
        assert_true(msg->last_seq == 0 && msg->head == 0);
        break;
    case CS_MSG_CHANGES:
        assert_int_equal(msg->max_bytes, 0);
        return; /* uses the delta table */
    default:
        fail_msg("decoded an unknown type %d", (int) msg->type);
    }
    assert_int_equal(msg->n_deltas, 0);
    assert_null(msg->deltas);
}

/*  Encode @p msg, decode it, and find the same message, its deltas
 *  pointing into the frame. */
static void
s_assert_round_trip(const cs_msg_t *msg)
{
    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_msg_encode(msg, &buf);
    assert_true(buf.len > 0 && buf.len <= CS_MSG_MAX);
    cs_msg_t back;
    assert_int_equal(cs_msg_decode(buf.data, buf.len, &back), CS_OK);
    s_assert_msg_equal(msg, &back);
    s_assert_unused_zero(&back);
    for (size_t i = 0; i < back.n_deltas; i++) {
        assert_true(back.deltas[i].data > buf.data &&
                    back.deltas[i].data + back.deltas[i].len <=
                        buf.data + buf.len);
    }
    if (back.n_deltas == 0) {
        assert_null(back.deltas);
    }
    cs_msg_fini(&back);
    cs_buf_fini(&buf);
}

static cs_msg_t
s_notify(uint64_t epoch, uint64_t head)
{
    return (cs_msg_t){ .type = CS_MSG_NOTIFY, .epoch = epoch, .head = head };
}

static cs_msg_t
s_pull(uint64_t epoch, uint64_t base, uint64_t since, uint32_t max_bytes,
       uint64_t puller_epoch)
{
    return (cs_msg_t){ .type = CS_MSG_PULL,
                       .epoch = epoch,
                       .base = base,
                       .since = since,
                       .max_bytes = max_bytes,
                       .puller_epoch = puller_epoch };
}

/*  A CHANGES with base 0 (set .base for another). */
static cs_msg_t
s_changes(uint64_t epoch, uint64_t since, uint64_t last_seq, uint64_t head,
          uint64_t puller_epoch, cs_msg_bytes_t *deltas, size_t n_deltas)
{
    return (cs_msg_t){ .type = CS_MSG_CHANGES,
                       .epoch = epoch,
                       .since = since,
                       .last_seq = last_seq,
                       .head = head,
                       .puller_epoch = puller_epoch,
                       .n_deltas = n_deltas,
                       .deltas = deltas };
}

/* Integers at every width boundary of msgpack. */
static const uint64_t s_edges[] = {
    0,
    1,
    0x7f,
    0x80,
    UINT8_MAX,
    UINT8_MAX + 1,
    UINT16_MAX,
    (uint64_t) UINT16_MAX + 1,
    UINT32_MAX,
    (uint64_t) UINT32_MAX + 1,
    UINT64_MAX - 1,
    UINT64_MAX,
};

/* ---------------- round trips ---------------- */

static void
test_notify_round_trips_every_width(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_LEN(s_edges); i++) {
        for (size_t k = 0; k < ARRAY_LEN(s_edges); k++) {
            cs_msg_t msg = s_notify(s_edges[i], s_edges[k]);
            s_assert_round_trip(&msg);
        }
    }
}

static void
test_pull_round_trips_every_width(void **state)
{
    (void) state;
    const uint32_t caps[] = { 0, 1, 0x80, 65536, CS_MSG_BATCH_MAX, UINT32_MAX };
    const size_t n = ARRAY_LEN(s_edges);
    for (size_t i = 0; i < n; i++) {
        uint64_t since = s_edges[n - 1 - i];
        uint64_t base = s_edges[i] < since ? s_edges[i] : since;
        for (size_t k = 0; k < ARRAY_LEN(caps); k++) {
            /* puller_epoch through every edge, as i and k go */
            cs_msg_t msg =
                s_pull(s_edges[i], base, since, caps[k], s_edges[(i + k) % n]);
            s_assert_round_trip(&msg);
        }
        for (size_t k = 0; k < n; k++) {
            cs_msg_t msg = s_pull(s_edges[i], base, since, 100, s_edges[k]);
            s_assert_round_trip(&msg);
        }
    }
    /* a puller_epoch that needs uint64, unlike the other fields */
    cs_msg_t wide = s_pull(3, 1, 2, 4096, UINT64_C(0x0123456789abcdef));
    s_assert_round_trip(&wide);
}

static void
test_changes_round_trip_with_no_one_or_many_deltas(void **state)
{
    (void) state;
    /* none: the decoded table is NULL */
    cs_msg_t none = s_changes(7, 0, 0, 0, 0, NULL, 0);
    s_assert_round_trip(&none);
    cs_msg_t edges = s_changes(UINT64_MAX, UINT32_MAX, (uint64_t) 1 << 32,
                               UINT64_MAX, UINT64_MAX, NULL, 0);
    edges.base = UINT16_MAX;
    s_assert_round_trip(&edges);
    /* puller_epoch in every width, whatever the other positions */
    for (size_t i = 0; i < ARRAY_LEN(s_edges); i++) {
        cs_msg_t msg = s_changes(7, 5, 6, 6, s_edges[i], NULL, 0);
        msg.base = 5;
        s_assert_round_trip(&msg);
    }

    uint8_t one_byte = 0x93;
    cs_msg_bytes_t one = { &one_byte, 1 };
    cs_msg_t single =
        s_changes(1, 2, 3, 4, UINT64_C(0xfedcba9876543210), &one, 1);
    single.base = 1;
    s_assert_round_trip(&single);

    /* 15, 16 (array16), 65536 (array32) deltas of a few bytes */
    const size_t counts[] = { 15, 16, 65535, 65536 };
    static const uint8_t pattern[] = "abcdefgh";
    cs_msg_bytes_t *table = calloc(65536, sizeof *table);
    assert_non_null(table);
    for (size_t i = 0; i < 65536; i++) {
        table[i] = (cs_msg_bytes_t){ pattern + i % 7, 1 + i % 3 };
    }
    for (size_t i = 0; i < ARRAY_LEN(counts); i++) {
        cs_msg_t many =
            s_changes(9, 100, 200, 300, (uint64_t) 1 << 32, table, counts[i]);
        s_assert_round_trip(&many);
    }
    free(table);
}

static void
test_changes_round_trip_every_bin_width(void **state)
{
    (void) state;
    /* bin8 up to 255, bin16 up to 65535, bin32 beyond, up to the limit */
    const size_t sizes[] = { 1, 255, 256, 65535, 65536, CS_CODEC_RECORD_MAX };
    uint8_t *bytes = malloc(CS_CODEC_RECORD_MAX);
    assert_non_null(bytes);
    for (size_t i = 0; i < CS_CODEC_RECORD_MAX; i++) {
        bytes[i] = (uint8_t) (i * 31 + 7);
    }
    cs_msg_bytes_t table[ARRAY_LEN(sizes)];
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        table[i] = (cs_msg_bytes_t){ bytes, sizes[i] };
        cs_msg_t single = s_changes(1, 0, 5, 5, 2, &table[i], 1);
        s_assert_round_trip(&single);
    }
    /* all but the largest in one frame */
    cs_msg_t mixed = s_changes(1, 0, 5, 5, 2, table, ARRAY_LEN(sizes) - 1);
    s_assert_round_trip(&mixed);
    free(bytes);
}

static void
test_encode_writes_the_shortest_form_and_appends(void **state)
{
    (void) state;
    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_buf_append(&buf, "xy", 2);

    cs_msg_t notify = s_notify(0, UINT64_MAX);
    cs_msg_encode(&notify, &buf);
    const uint8_t want_notify[] = { 'x',  'y',  0x94, 0x01, 0x01,
                                    0x00, 0xcf, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(buf.len, sizeof want_notify);
    assert_memory_equal(buf.data, want_notify, sizeof want_notify);

    cs_buf_reset(&buf);
    cs_msg_t pull = s_pull(0x80, 0x05, 0x100, 0x10000, (uint64_t) 1 << 32);
    cs_msg_encode(&pull, &buf);
    /* [1, 2, epoch, base, since, max_bytes, puller_epoch] */
    const uint8_t want_pull[] = { 0x97, 0x01, 0x02, 0xcc, 0x80, 0x05,
                                  0xcd, 0x01, 0x00, 0xce, 0x00, 0x01,
                                  0x00, 0x00, 0xcf, 0x00, 0x00, 0x00,
                                  0x01, 0x00, 0x00, 0x00, 0x00 };
    assert_int_equal(buf.len, sizeof want_pull);
    assert_memory_equal(buf.data, want_pull, sizeof want_pull);

    cs_buf_reset(&buf);
    cs_msg_bytes_t delta = { (const uint8_t *) "ab", 2 };
    cs_msg_t changes = s_changes(1, 2, 3, 4, 0xcafe, &delta, 1);
    cs_msg_encode(&changes, &buf);
    /* [1, 3, epoch, base, since, last_seq, head, puller_epoch, [delta]] */
    const uint8_t want_changes[] = { 0x99, 0x01, 0x03, 0x01, 0x00, 0x02,
                                     0x03, 0x04, 0xcd, 0xca, 0xfe, 0x91,
                                     0xc4, 0x02, 'a',  'b' };
    assert_int_equal(buf.len, sizeof want_changes);
    assert_memory_equal(buf.data, want_changes, sizeof want_changes);
    cs_buf_fini(&buf);
}

/*  A NOTIFY [1, 1, 5, 300] with its integers written at @p width (the
 *  version and type at width @p head_width), its array at @p array_width. */
static void
s_notify_widths(cs_buf_t *b, unsigned head_width, unsigned width,
                unsigned array_width)
{
    s_mp_array_w(b, 4, array_width);
    s_mp_uint_w(b, 1, head_width);
    s_mp_uint_w(b, CS_MSG_NOTIFY, head_width);
    s_mp_uint_w(b, 5, width);
    s_mp_uint_w(b, 300, width < 2 ? 2 : width);
}

static void
test_every_integer_array_and_bin_width_decodes(void **state)
{
    (void) state;
    const unsigned uint_widths[] = { 0, 1, 2, 4, 8 };
    const unsigned array_widths[] = { 0, 2, 4 };
    cs_msg_t want = s_notify(5, 300);
    cs_buf_t shortest;
    cs_buf_init(&shortest);
    cs_msg_encode(&want, &shortest);

    cs_buf_t buf;
    cs_buf_init(&buf);
    for (size_t h = 0; h < ARRAY_LEN(uint_widths); h++) {
        for (size_t w = 0; w < ARRAY_LEN(uint_widths); w++) {
            for (size_t a = 0; a < ARRAY_LEN(array_widths); a++) {
                cs_buf_reset(&buf);
                s_notify_widths(&buf, uint_widths[h], uint_widths[w],
                                array_widths[a]);
                cs_msg_t got;
                assert_int_equal(cs_msg_decode(buf.data, buf.len, &got), CS_OK);
                s_assert_msg_equal(&want, &got);
                /* encoding it again gives the shortest form */
                cs_buf_t again;
                cs_buf_init(&again);
                cs_msg_encode(&got, &again);
                assert_int_equal(again.len, shortest.len);
                assert_memory_equal(again.data, shortest.data, again.len);
                cs_buf_fini(&again);
                cs_msg_fini(&got);
            }
        }
    }

    /* a PULL's fields in several widths, max_bytes and puller_epoch in
     * uint64: a small value in a wide form, and a value that needs it */
    const uint64_t puller_epochs[] = { 6, UINT64_C(0x8000000000000001) };
    for (size_t i = 0; i < ARRAY_LEN(puller_epochs); i++) {
        cs_buf_reset(&buf);
        s_mp_head(&buf, S_PULL_ITEMS, CS_MSG_PULL);
        s_mp_uint_w(&buf, 0, 8);
        s_mp_uint_w(&buf, 1, 2);
        s_mp_uint_w(&buf, 1, 4);
        s_mp_uint_w(&buf, UINT32_MAX, 8);
        s_mp_uint_w(&buf, puller_epochs[i], 8);
        cs_msg_t pull;
        assert_int_equal(cs_msg_decode(buf.data, buf.len, &pull), CS_OK);
        cs_msg_t want_pull = s_pull(0, 1, 1, UINT32_MAX, puller_epochs[i]);
        s_assert_msg_equal(&want_pull, &pull);
        cs_msg_fini(&pull);
    }

    /* a CHANGES' fields in several widths (puller_epoch in uint64), one
     * 2-byte delta under each bin width, the delta array under each array
     * width */
    for (unsigned bin_width = 1; bin_width <= 4; bin_width *= 2) {
        for (size_t a = 0; a < ARRAY_LEN(array_widths); a++) {
            uint64_t puller_epoch = puller_epochs[a % 2];
            cs_buf_reset(&buf);
            s_mp_head(&buf, S_CHANGES_ITEMS, CS_MSG_CHANGES);
            s_mp_uint_w(&buf, 1, 8);
            s_mp_uint_w(&buf, 0, 1);
            s_mp_uint_w(&buf, 2, 4);
            s_mp_uint_w(&buf, 3, 2);
            s_mp_uint_w(&buf, 4, 1);
            s_mp_uint_w(&buf, puller_epoch, 8);
            s_mp_array_w(&buf, 1, array_widths[a]);
            s_mp_bin_w(&buf, "ok", 2, bin_width);
            cs_msg_t changes;
            assert_int_equal(cs_msg_decode(buf.data, buf.len, &changes), CS_OK);
            cs_msg_bytes_t delta = { (const uint8_t *) "ok", 2 };
            cs_msg_t want_changes =
                s_changes(1, 2, 3, 4, puller_epoch, &delta, 1);
            s_assert_msg_equal(&want_changes, &changes);
            assert_ptr_equal(changes.deltas[0].data, buf.data + buf.len - 2);
            cs_msg_fini(&changes);
        }
    }
    cs_buf_fini(&buf);
    cs_buf_fini(&shortest);
}

static void
test_fini_is_safe_twice_and_type_names(void **state)
{
    (void) state;
    cs_msg_bytes_t delta = { (const uint8_t *) "d", 1 };
    cs_msg_t src = s_changes(1, 0, 1, 1, 1, &delta, 1);
    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_msg_encode(&src, &buf);
    cs_msg_t msg;
    assert_int_equal(cs_msg_decode(buf.data, buf.len, &msg), CS_OK);
    assert_non_null(msg.deltas);
    cs_msg_fini(&msg);
    s_assert_empty(&msg);
    cs_msg_fini(&msg);
    s_assert_empty(&msg);
    cs_buf_fini(&buf);

    assert_string_equal(cs_msg_type_name(CS_MSG_NOTIFY), "NOTIFY");
    assert_string_equal(cs_msg_type_name(CS_MSG_PULL), "PULL");
    assert_string_equal(cs_msg_type_name(CS_MSG_CHANGES), "CHANGES");
    assert_string_equal(cs_msg_type_name(0), "?");
    assert_string_equal(cs_msg_type_name(4), "?");
    assert_string_equal(cs_msg_type_name(-1), "?");
}

/* ---------------- refusals ---------------- */

/*  Valid frames of each type, for the refusal loops, in @p frames[0..n). */
static size_t
s_valid_frames(cs_buf_t *frames, size_t max)
{
    static const uint8_t bytes[300] = { 1, 2, 3 };
    cs_msg_bytes_t deltas[] = {
        { bytes, 1 }, { bytes, 255 }, { bytes, 256 }, { bytes, 3 }
    };
    cs_msg_t msgs[] = {
        s_notify(0, 0),
        s_notify(UINT64_MAX, 0x1234),
        s_pull(0, 0, 0, 0, 0),
        s_pull(0x7f, 0x80, UINT32_MAX, UINT32_MAX, UINT64_MAX),
        s_changes(0, 0, 0, 0, 0, NULL, 0),
        s_changes(UINT64_MAX, 1, 200, 70000, (uint64_t) 1 << 40, deltas,
                  ARRAY_LEN(deltas)),
    };
    assert_true(max >= ARRAY_LEN(msgs) + 1);
    for (size_t i = 0; i < ARRAY_LEN(msgs); i++) {
        cs_buf_init(&frames[i]);
        cs_msg_encode(&msgs[i], &frames[i]);
    }
    /* and one in the widest forms */
    cs_buf_t *wide = &frames[ARRAY_LEN(msgs)];
    cs_buf_init(wide);
    s_mp_array_w(wide, S_CHANGES_ITEMS, 4);
    s_mp_uint_w(wide, 1, 8);
    s_mp_uint_w(wide, CS_MSG_CHANGES, 8);
    for (int i = 0; i < 6; i++) {
        s_mp_uint_w(wide, 42, 8);
    }
    s_mp_array_w(wide, 2, 4);
    s_mp_bin_w(wide, "abc", 3, 4);
    s_mp_bin_w(wide, "d", 1, 2);
    return ARRAY_LEN(msgs) + 1;
}

static void
s_frames_fini(cs_buf_t *frames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cs_buf_fini(&frames[i]);
    }
}

static void
test_every_truncation_is_refused(void **state)
{
    (void) state;
    cs_buf_t frames[8];
    size_t n = s_valid_frames(frames, ARRAY_LEN(frames));
    for (size_t i = 0; i < n; i++) {
        cs_msg_t msg;
        assert_int_equal(cs_msg_decode(frames[i].data, frames[i].len, &msg),
                         CS_OK);
        cs_msg_fini(&msg);
        for (size_t len = 0; len < frames[i].len; len++) {
            s_assert_refused(frames[i].data, len);
        }
    }
    s_frames_fini(frames, n);
}

static void
test_trailing_bytes_are_refused(void **state)
{
    (void) state;
    cs_buf_t frames[8];
    size_t n = s_valid_frames(frames, ARRAY_LEN(frames));
    const uint8_t tails[] = { 0x00, 0x01, 0xc0, 0x90 };
    for (size_t i = 0; i < n; i++) {
        for (size_t t = 0; t < ARRAY_LEN(tails); t++) {
            cs_buf_t longer;
            cs_buf_init(&longer);
            cs_buf_append(&longer, frames[i].data, frames[i].len);
            cs_buf_append(&longer, &tails[t], 1);
            s_assert_buf_refused(&longer);
            /* a whole second message after the first */
            cs_buf_append(&longer, frames[i].data, frames[i].len);
            s_assert_buf_refused(&longer);
            cs_buf_fini(&longer);
        }
    }
    s_frames_fini(frames, n);
}

static void
test_other_versions_and_unknown_types_are_refused(void **state)
{
    (void) state;
    const uint64_t versions[] = { 0, 2, 0x7f, 0x101, UINT64_MAX };
    cs_buf_t b;
    cs_buf_init(&b);
    for (size_t i = 0; i < ARRAY_LEN(versions); i++) {
        cs_buf_reset(&b);
        s_mp_array(&b, 4);
        s_mp_uint(&b, versions[i]);
        s_mp_uint(&b, CS_MSG_NOTIFY);
        s_mp_uint(&b, 1);
        s_mp_uint(&b, 1);
        s_assert_buf_refused(&b);
    }
    /* version 1 with a uint64 of 2^32 + 1 is not 1 either */
    cs_buf_reset(&b);
    s_mp_array(&b, 4);
    s_mp_uint_w(&b, ((uint64_t) 1 << 32) | 1, 8);
    s_mp_uint(&b, CS_MSG_NOTIFY);
    s_mp_uint(&b, 1);
    s_mp_uint(&b, 1);
    s_assert_buf_refused(&b);

    /* unknown types, with every item count from NOTIFY's to CHANGES', so
     * each known shape (and the old ones) is among them */
    const uint64_t types[] = { 0,         4,     5,
                               0x7f,      0x103, ((uint64_t) 1 << 32) | 1,
                               UINT64_MAX };
    for (size_t i = 0; i < ARRAY_LEN(types); i++) {
        for (uint64_t items = S_NOTIFY_ITEMS; items <= S_CHANGES_ITEMS;
             items++) {
            cs_buf_reset(&b);
            s_mp_head(&b, items, types[i]);
            for (uint64_t k = 2; k < items; k++) {
                if (k == items - 1 && items >= S_OLD_CHANGES_ITEMS) {
                    s_mp_array(&b, 0); /* CHANGES-shaped: no deltas */
                } else {
                    s_mp_uint(&b, 1);
                }
            }
            s_assert_buf_refused(&b);
        }
    }
    cs_buf_fini(&b);
}

static void
test_wrong_item_counts_are_refused(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    /* the right items under a header that claims one more or one less */
    const struct {
        uint64_t type;
        uint64_t items;
    } shapes[] = { { CS_MSG_NOTIFY, S_NOTIFY_ITEMS },
                   { CS_MSG_PULL, S_PULL_ITEMS } };
    for (size_t i = 0; i < ARRAY_LEN(shapes); i++) {
        for (uint64_t claim = 0; claim <= S_CHANGES_ITEMS + 1; claim++) {
            cs_buf_reset(&b);
            s_mp_array(&b, claim);
            s_mp_uint(&b, 1);
            s_mp_uint(&b, shapes[i].type);
            for (uint64_t k = 2; k < shapes[i].items; k++) {
                s_mp_uint(&b, k);
            }
            if (claim == shapes[i].items) {
                cs_msg_t msg;
                assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_OK);
                cs_msg_fini(&msg);
                continue;
            }
            s_assert_buf_refused(&b);
        }
        /* as many items as the header claims, one too many or too few */
        for (int extra = -1; extra <= 1; extra += 2) {
            uint64_t items = shapes[i].items + (uint64_t) extra;
            cs_buf_reset(&b);
            s_mp_array(&b, items); /* no base added: items as given */
            s_mp_uint(&b, 1);
            s_mp_uint(&b, shapes[i].type);
            for (uint64_t k = 2; k < items; k++) {
                s_mp_uint(&b, k);
            }
            s_assert_buf_refused(&b);
        }
    }
    /* CHANGES with 8 (no delta array) or 10 items (one more after it) */
    cs_buf_reset(&b);
    s_mp_head(&b, S_CHANGES_ITEMS - 1, CS_MSG_CHANGES);
    for (int k = 0; k < 6; k++) {
        s_mp_uint(&b, 1);
    }
    s_assert_buf_refused(&b);
    cs_buf_reset(&b);
    s_mp_head(&b, S_CHANGES_ITEMS + 1, CS_MSG_CHANGES);
    for (int k = 0; k < 6; k++) {
        s_mp_uint(&b, 1);
    }
    s_mp_array(&b, 0);
    s_mp_uint(&b, 1);
    s_assert_buf_refused(&b);
    /* the delta array claims more or fewer than follow */
    for (uint64_t claim = 0; claim <= 4; claim++) {
        cs_buf_reset(&b);
        s_mp_changes_head(&b, 1);
        s_mp_array(&b, claim);
        s_mp_bin_w(&b, "a", 1, 1);
        s_mp_bin_w(&b, "b", 1, 1);
        if (claim == 2) {
            cs_msg_t msg;
            assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_OK);
            assert_int_equal(msg.n_deltas, 2);
            cs_msg_fini(&msg);
            continue;
        }
        s_assert_buf_refused(&b);
    }
    /* arrays too short to hold a version and a type */
    const uint8_t short_arrays[][3] = { { 0x90 },
                                        { 0x91, 0x01 },
                                        { 0x92, 0x01, 0x01 } };
    for (size_t i = 0; i < ARRAY_LEN(short_arrays); i++) {
        s_assert_refused(short_arrays[i], i + 1);
    }
    cs_buf_fini(&b);
}

/*  Decoding @p b succeeds: a control for a refusal that differs from it
 *  in one thing. */
static void
s_assert_buf_decodes(const cs_buf_t *b)
{
    cs_msg_t msg;
    assert_int_equal(cs_msg_decode(b->data, b->len, &msg), CS_OK);
    cs_msg_fini(&msg);
}

static void
test_old_shapes_without_puller_epoch_are_refused(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    /* PULL [1, 2, epoch, base, since, max_bytes]: valid before
     * puller_epoch, under its old count or under the new one */
    const uint64_t counts[] = { S_OLD_PULL_ITEMS, S_PULL_ITEMS };
    for (size_t i = 0; i < ARRAY_LEN(counts); i++) {
        cs_buf_reset(&b);
        s_mp_head(&b, counts[i], CS_MSG_PULL);
        s_mp_uint(&b, 9);
        s_mp_uint(&b, 1);
        s_mp_uint(&b, 2);
        s_mp_uint(&b, 4096);
        s_assert_buf_refused(&b);
    }
    /* with puller_epoch and the new count, the same decodes */
    s_mp_uint(&b, 8);
    s_assert_buf_decodes(&b);

    /* CHANGES [1, 3, epoch, base, since, last_seq, head, [delta]]: under
     * its old count, under the new one (the delta array where
     * puller_epoch belongs), and with puller_epoch after the delta array */
    const uint64_t changes_counts[] = { S_OLD_CHANGES_ITEMS, S_CHANGES_ITEMS };
    for (size_t i = 0; i < ARRAY_LEN(changes_counts) + 1; i++) {
        bool epoch_last = i == ARRAY_LEN(changes_counts);
        cs_buf_reset(&b);
        s_mp_head(&b, epoch_last ? S_CHANGES_ITEMS : changes_counts[i],
                  CS_MSG_CHANGES);
        for (uint64_t k = 1; k <= 5; k++) {
            s_mp_uint(&b, k); /* epoch 1, base 2 ... head 5 */
        }
        s_mp_array(&b, 1);
        s_mp_bin_w(&b, "d", 1, 1);
        if (epoch_last) {
            s_mp_uint(&b, 8);
        }
        s_assert_buf_refused(&b);
    }
    /* with puller_epoch before the delta array, the same decodes */
    cs_buf_reset(&b);
    s_mp_head(&b, S_CHANGES_ITEMS, CS_MSG_CHANGES);
    for (uint64_t k = 1; k <= 5; k++) {
        s_mp_uint(&b, k);
    }
    s_mp_uint(&b, 8);
    s_mp_array(&b, 1);
    s_mp_bin_w(&b, "d", 1, 1);
    cs_msg_t msg;
    assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_OK);
    assert_true(msg.head == 5 && msg.puller_epoch == 8);
    assert_int_equal(msg.n_deltas, 1);
    cs_msg_fini(&msg);
    cs_buf_fini(&b);
}

/* The integer items s_frame_with_item can replace. */
typedef enum {
    S_AT_NOTIFY_EPOCH,
    S_AT_PULL_PULLER_EPOCH,
    S_AT_CHANGES_PULLER_EPOCH,
} s_slot_t;

/*  A valid frame except that the item at @p slot is the raw @p item (@p len
 *  bytes). */
static void
s_frame_with_item(cs_buf_t *b, s_slot_t slot, const uint8_t *item, size_t len)
{
    cs_buf_reset(b);
    switch (slot) {
    case S_AT_NOTIFY_EPOCH:
        s_mp_head(b, S_NOTIFY_ITEMS, CS_MSG_NOTIFY);
        cs_buf_append(b, item, len);
        s_mp_uint(b, 9);
        break;
    case S_AT_PULL_PULLER_EPOCH: /* the last item */
        s_mp_head(b, S_PULL_ITEMS, CS_MSG_PULL);
        s_mp_uint(b, 3);
        s_mp_uint(b, 1);
        s_mp_uint(b, 2);
        s_mp_uint(b, 4096);
        cs_buf_append(b, item, len);
        break;
    case S_AT_CHANGES_PULLER_EPOCH: /* before the delta array */
        s_mp_head(b, S_CHANGES_ITEMS, CS_MSG_CHANGES);
        for (uint64_t k = 1; k <= 5; k++) {
            s_mp_uint(b, k);
        }
        cs_buf_append(b, item, len);
        s_mp_array(b, 1);
        s_mp_bin_w(b, "d", 1, 1);
        break;
    }
}

/*  The frame of s_frame_with_item(@p slot, @p item) is refused, though the
 *  same frame with a uint there decodes. */
static void
s_assert_item_refused(const char *what, s_slot_t slot, const uint8_t *item,
                      size_t len)
{
    (void) what; /* names the case in a debugger */
    cs_buf_t b;
    cs_buf_init(&b);
    const uint8_t five = 0x05;
    s_frame_with_item(&b, slot, &five, 1);
    s_assert_buf_decodes(&b);
    s_frame_with_item(&b, slot, item, len);
    s_assert_buf_refused(&b);
    cs_buf_fini(&b);
}

static void
test_signed_and_non_integer_fields_are_refused(void **state)
{
    (void) state;
    /* signed ints, even with non-negative values */
    const uint8_t neg_fixint[] = { 0xff };
    const uint8_t int8_pos[] = { 0xd0, 0x05 };
    const uint8_t int8_neg[] = { 0xd0, 0x80 };
    const uint8_t int16_pos[] = { 0xd1, 0x00, 0x05 };
    const uint8_t int32_pos[] = { 0xd2, 0x00, 0x00, 0x00, 0x05 };
    const uint8_t int64_pos[] = { 0xd3, 0, 0, 0, 0, 0, 0, 0, 5 };
    /* other types */
    const uint8_t nil[] = { 0xc0 };
    const uint8_t bool_true[] = { 0xc3 };
    const uint8_t float32[] = { 0xca, 0x40, 0xa0, 0x00, 0x00 };
    const uint8_t float64[] = { 0xcb, 0x40, 0x14, 0, 0, 0, 0, 0, 0 };
    const uint8_t fixstr[] = { 0xa1, '5' };
    const uint8_t bin8[] = { 0xc4, 0x01, 0x05 };
    const uint8_t fixarray[] = { 0x91, 0x05 };
    const uint8_t fixmap[] = { 0x81, 0x05, 0x05 };
    const uint8_t fixext1[] = { 0xd4, 0x01, 0x05 };
    const uint8_t reserved[] = { 0xc1 };
    const struct {
        const char *what;
        const uint8_t *item;
        size_t len;
    } cases[] = {
        { "negative fixint", neg_fixint, sizeof neg_fixint },
        { "int8 5", int8_pos, sizeof int8_pos },
        { "int8 -128", int8_neg, sizeof int8_neg },
        { "int16 5", int16_pos, sizeof int16_pos },
        { "int32 5", int32_pos, sizeof int32_pos },
        { "int64 5", int64_pos, sizeof int64_pos },
        { "nil", nil, sizeof nil },
        { "true", bool_true, sizeof bool_true },
        { "float32 5.0", float32, sizeof float32 },
        { "float64 5.0", float64, sizeof float64 },
        { "str \"5\"", fixstr, sizeof fixstr },
        { "bin", bin8, sizeof bin8 },
        { "array [5]", fixarray, sizeof fixarray },
        { "map {5: 5}", fixmap, sizeof fixmap },
        { "fixext1", fixext1, sizeof fixext1 },
        { "reserved 0xc1", reserved, sizeof reserved },
    };
    /* as a NOTIFY's epoch, and as the puller_epoch of a PULL or CHANGES */
    const s_slot_t slots[] = { S_AT_NOTIFY_EPOCH, S_AT_PULL_PULLER_EPOCH,
                               S_AT_CHANGES_PULLER_EPOCH };
    for (size_t k = 0; k < ARRAY_LEN(slots); k++) {
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            s_assert_item_refused(cases[i].what, slots[k], cases[i].item,
                                  cases[i].len);
        }
    }

    /* signed version and type */
    const uint8_t signed_version[] = { 0x94, 0xd0, 0x01, 0x01, 0x00, 0x00 };
    const uint8_t signed_type[] = { 0x94, 0x01, 0xd0, 0x01, 0x00, 0x00 };
    s_assert_refused(signed_version, sizeof signed_version);
    s_assert_refused(signed_type, sizeof signed_type);
    /* a signed max_bytes in a PULL (with a uint, it decodes) */
    const uint8_t signed_cap[] = { 0x97, 0x01, 0x02, 0x00, 0x00,
                                   0x00, 0xd0, 0x10, 0x00 };
    s_assert_refused(signed_cap, sizeof signed_cap);
    const uint8_t unsigned_cap[] = { 0x97, 0x01, 0x02, 0x00, 0x00,
                                     0x00, 0xcc, 0x10, 0x00 };
    cs_msg_t msg;
    assert_int_equal(cs_msg_decode(unsigned_cap, sizeof unsigned_cap, &msg),
                     CS_OK);
    assert_int_equal(msg.max_bytes, 0x10);
    cs_msg_fini(&msg);
}

static void
test_wrong_nested_types_are_refused(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    const uint8_t *delta = (const uint8_t *) "delta";

    /* a delta as str (fixstr, str8) instead of bin */
    for (int str8 = 0; str8 <= 1; str8++) {
        cs_buf_reset(&b);
        s_mp_changes_head(&b, 1);
        s_mp_array(&b, 1);
        if (str8) {
            s_mp_byte(&b, 0xd9);
            s_mp_byte(&b, 5);
        } else {
            s_mp_byte(&b, 0xa5);
        }
        cs_buf_append(&b, delta, 5);
        s_assert_buf_refused(&b);
    }
    /* a delta as an array, a uint, nil, or ext */
    const uint8_t bad_items[][3] = {
        { 0x91, 0x01 }, { 0x05 }, { 0xc0 }, { 0xd4, 0x00, 0x01 }
    };
    const size_t bad_lens[] = { 2, 1, 1, 3 };
    for (size_t i = 0; i < ARRAY_LEN(bad_items); i++) {
        cs_buf_reset(&b);
        s_mp_changes_head(&b, 1);
        s_mp_array(&b, 2);
        s_mp_bin_w(&b, "ok", 2, 1);
        cs_buf_append(&b, bad_items[i], bad_lens[i]);
        s_assert_buf_refused(&b);
    }
    /* the delta list as a bin, a map, a uint or nil instead of an array */
    const uint8_t bad_lists[][3] = {
        { 0xc4, 0x01, 0x01 }, { 0x81, 0x01, 0x01 }, { 0x00 }, { 0xc0 }
    };
    const size_t bad_list_lens[] = { 3, 3, 1, 1 };
    for (size_t i = 0; i < ARRAY_LEN(bad_lists); i++) {
        cs_buf_reset(&b);
        s_mp_changes_head(&b, 1);
        cs_buf_append(&b, bad_lists[i], bad_list_lens[i]);
        s_assert_buf_refused(&b);
    }
    /* an array where a NOTIFY's head belongs */
    cs_buf_reset(&b);
    s_mp_head(&b, S_NOTIFY_ITEMS, CS_MSG_NOTIFY);
    s_mp_uint(&b, 1);
    s_mp_array(&b, 1);
    s_mp_uint(&b, 1);
    s_assert_buf_refused(&b);
    cs_buf_fini(&b);
}

static void
test_a_map_instead_of_an_array_is_refused(void **state)
{
    (void) state;
    /* [1, 1, 0, 0] as fixmap {1: 1, 0: 0}, map16 and map32 headers with
     * the same items, and the bare items without any header */
    const uint8_t fixmap[] = { 0x82, 0x01, 0x01, 0x00, 0x00 };
    const uint8_t map16[] = { 0xde, 0x00, 0x02, 0x01, 0x01, 0x00, 0x00 };
    const uint8_t map32[] = { 0xdf, 0x00, 0x00, 0x00, 0x02,
                              0x01, 0x01, 0x00, 0x00 };
    const uint8_t bare[] = { 0x01, 0x01, 0x00, 0x00 };
    s_assert_refused(fixmap, sizeof fixmap);
    s_assert_refused(map16, sizeof map16);
    s_assert_refused(map32, sizeof map32);
    s_assert_refused(bare, sizeof bare);
    /* also a fixmap of 4 pairs, the array's item count */
    const uint8_t fixmap4[] = { 0x84, 0x01, 0x01, 0x00, 0x00,
                                0x00, 0x00, 0x00, 0x00 };
    s_assert_refused(fixmap4, sizeof fixmap4);
}

static void
test_out_of_order_positions_are_refused(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    /* puller_epoch takes no part in the order: below, between or above
     * the positions, the verdict is the same */
    const uint64_t puller_epochs[] = { 0, 3, UINT64_MAX };
    /* PULL [1, 2, epoch, base, since, max_bytes, puller_epoch]:
     * base > since */
    const uint64_t pulls[][2] = { { 5, 4 }, { 1, 0 }, { 6, 6 } };
    for (size_t i = 0; i < ARRAY_LEN(pulls) * ARRAY_LEN(puller_epochs); i++) {
        const uint64_t *pull = pulls[i / ARRAY_LEN(puller_epochs)];
        uint64_t puller_epoch = puller_epochs[i % ARRAY_LEN(puller_epochs)];
        cs_buf_reset(&b);
        s_mp_array(&b, S_PULL_ITEMS);
        s_mp_uint(&b, 1);
        s_mp_uint(&b, CS_MSG_PULL);
        s_mp_uint(&b, 9);
        s_mp_uint(&b, pull[0]);
        s_mp_uint(&b, pull[1]);
        s_mp_uint(&b, 100);
        s_mp_uint(&b, puller_epoch);
        if (pull[0] <= pull[1]) {
            cs_msg_t msg;
            assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_OK);
            assert_int_equal(msg.base, pull[0]);
            assert_int_equal(msg.since, pull[1]);
            assert_true(msg.puller_epoch == puller_epoch);
            cs_msg_fini(&msg);
        } else {
            s_assert_buf_refused(&b);
        }
    }
    /* CHANGES [1, 3, epoch, base, since, last_seq, head, puller_epoch, []] */
    const struct {
        uint64_t base, since, last_seq, head;
        bool ok;
    } changes[] = {
        { 0, 0, 0, 0, true },  { 2, 5, 7, 9, true },
        { 5, 5, 5, 5, true },  { 6, 5, 7, 9, false }, /* base > since */
        { 2, 5, 4, 9, false },                        /* last < since */
        { 2, 5, 7, 6, false },                        /* head < last */
    };
    for (size_t i = 0; i < ARRAY_LEN(changes) * ARRAY_LEN(puller_epochs); i++) {
        size_t c = i / ARRAY_LEN(puller_epochs);
        uint64_t puller_epoch = puller_epochs[i % ARRAY_LEN(puller_epochs)];
        cs_buf_reset(&b);
        s_mp_array(&b, S_CHANGES_ITEMS);
        s_mp_uint(&b, 1);
        s_mp_uint(&b, CS_MSG_CHANGES);
        s_mp_uint(&b, 9);
        s_mp_uint(&b, changes[c].base);
        s_mp_uint(&b, changes[c].since);
        s_mp_uint(&b, changes[c].last_seq);
        s_mp_uint(&b, changes[c].head);
        s_mp_uint(&b, puller_epoch);
        s_mp_array(&b, 0);
        if (changes[c].ok) {
            cs_msg_t msg;
            assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_OK);
            assert_int_equal(msg.base, changes[c].base);
            assert_int_equal(msg.last_seq, changes[c].last_seq);
            assert_true(msg.puller_epoch == puller_epoch);
            cs_msg_fini(&msg);
        } else {
            s_assert_buf_refused(&b);
        }
    }
    cs_buf_fini(&b);
}

static void
test_max_bytes_over_32_bits_is_refused(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    const uint64_t caps[] = { (uint64_t) UINT32_MAX + 1, UINT64_MAX };
    for (size_t i = 0; i < ARRAY_LEN(caps); i++) {
        cs_buf_reset(&b);
        s_mp_head(&b, S_PULL_ITEMS, CS_MSG_PULL);
        s_mp_uint(&b, 0);
        s_mp_uint(&b, 0);
        s_mp_uint(&b, 0);
        s_mp_uint(&b, caps[i]);
        s_mp_uint(&b, 0);
        s_assert_buf_refused(&b);
    }
    /* the largest that fits, in the same width, decodes; puller_epoch,
     * the item after it, has no such limit */
    cs_buf_reset(&b);
    s_mp_head(&b, S_PULL_ITEMS, CS_MSG_PULL);
    s_mp_uint(&b, 0);
    s_mp_uint(&b, 0);
    s_mp_uint(&b, 0);
    s_mp_uint_w(&b, UINT32_MAX, 8);
    s_mp_uint(&b, UINT64_MAX);
    cs_msg_t msg;
    assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_OK);
    assert_int_equal(msg.max_bytes, UINT32_MAX);
    assert_true(msg.puller_epoch == UINT64_MAX);
    cs_msg_fini(&msg);
    cs_buf_fini(&b);
}

static void
test_empty_and_oversized_deltas_are_refused(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    /* an empty delta in each bin width, alone or after a good one */
    for (unsigned width = 1; width <= 4; width *= 2) {
        for (int after = 0; after <= 1; after++) {
            cs_buf_reset(&b);
            s_mp_changes_head(&b, 1);
            s_mp_array(&b, after ? 2u : 1u);
            if (after) {
                s_mp_bin_w(&b, "x", 1, 1);
            }
            s_mp_bin_head(&b, 0, width);
            s_assert_buf_refused(&b);
        }
    }

    /* one byte over CS_CODEC_RECORD_MAX is refused, the limit itself not */
    uint8_t *big = calloc(CS_CODEC_RECORD_MAX + 1, 1);
    assert_non_null(big);
    for (size_t extra = 0; extra <= 1; extra++) {
        cs_buf_reset(&b);
        s_mp_changes_head(&b, 1);
        s_mp_array(&b, 1);
        s_mp_bin_w(&b, big, CS_CODEC_RECORD_MAX + extra, 4);
        if (extra) {
            s_assert_buf_refused(&b);
        } else {
            cs_msg_t msg;
            assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_OK);
            assert_int_equal(msg.deltas[0].len, CS_CODEC_RECORD_MAX);
            cs_msg_fini(&msg);
        }
    }
    /* a bin32 header that claims more than the frame holds */
    cs_buf_reset(&b);
    s_mp_changes_head(&b, 1);
    s_mp_array(&b, 1);
    s_mp_bin_head(&b, UINT32_MAX, 4);
    cs_buf_append(&b, "abc", 3);
    s_assert_buf_refused(&b);
    free(big);
    cs_buf_fini(&b);
}

/*  A CHANGES frame whose deltas have the sizes @p sizes (bin32 each). */
static void
s_changes_frame(cs_buf_t *b, const uint8_t *bytes, const size_t *sizes,
                size_t n)
{
    cs_buf_reset(b);
    s_mp_changes_head(b, 1);
    s_mp_array(b, n);
    for (size_t i = 0; i < n; i++) {
        s_mp_bin_w(b, bytes, sizes[i], 4);
    }
}

static void
test_frames_over_the_maximum_are_refused(void **state)
{
    (void) state;
    uint8_t *bytes = calloc(CS_CODEC_RECORD_MAX, 1);
    assert_non_null(bytes);
    cs_buf_t b;
    cs_buf_init(&b);
    /* two deltas at the limit and a third that fills the frame to exactly
     * CS_MSG_MAX bytes (decodes), then one byte more (refused) */
    size_t sizes[3] = { CS_CODEC_RECORD_MAX, CS_CODEC_RECORD_MAX, 1 };
    s_changes_frame(&b, bytes, sizes, 3);
    assert_true(b.len < CS_MSG_MAX);
    sizes[2] += CS_MSG_MAX - b.len;
    s_changes_frame(&b, bytes, sizes, 3);
    assert_int_equal(b.len, CS_MSG_MAX);
    cs_msg_t msg;
    assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_OK);
    assert_int_equal(msg.n_deltas, 3);
    cs_msg_fini(&msg);

    sizes[2]++;
    s_changes_frame(&b, bytes, sizes, 3);
    assert_int_equal(b.len, CS_MSG_MAX + 1);
    assert_int_equal(cs_msg_decode(b.data, b.len, &msg), CS_EPROTO);
    s_assert_empty(&msg);

    cs_buf_fini(&b);
    free(bytes);
}

static void
test_delta_count_bombs_are_refused_before_allocating(void **state)
{
    (void) state;
    cs_buf_t b;
    cs_buf_init(&b);
    /* CHANGES whose array32 claims 2^32 - 1, CS_MSG_DELTAS_MAX, or 2
     * deltas, followed by nothing or one short delta */
    const uint64_t claims[] = { UINT32_MAX, CS_MSG_DELTAS_MAX + 1,
                                CS_MSG_DELTAS_MAX, 70000, 2 };
    for (size_t i = 0; i < ARRAY_LEN(claims); i++) {
        for (int tail = 0; tail <= 1; tail++) {
            cs_buf_reset(&b);
            s_mp_changes_head(&b, 0);
            s_mp_array_w(&b, claims[i], 4);
            if (tail) {
                s_mp_bin_w(&b, "z", 1, 1);
            }
            assert_true(b.len <= 17); /* far too short for 2 deltas more */
            uint8_t *copy = s_copy(b.data, b.len);
            cs_msg_t msg;
            s_alloc_watch_reset();
            assert_int_equal(cs_msg_decode(copy, b.len, &msg), CS_EPROTO);
            assert_true(s_alloc_largest() < 4096);
            s_assert_empty(&msg);
            free(copy);
        }
    }

    /* exactly CS_MSG_DELTAS_MAX one-byte deltas decode; one more does not,
     * though the frame (3 MB) is well within CS_MSG_MAX */
    for (uint64_t count = CS_MSG_DELTAS_MAX; count <= CS_MSG_DELTAS_MAX + 1;
         count++) {
        cs_buf_reset(&b);
        s_mp_changes_head(&b, 0);
        s_mp_array(&b, count);
        for (uint64_t i = 0; i < count; i++) {
            s_mp_bin_w(&b, "q", 1, 1);
        }
        assert_true(b.len < CS_MSG_MAX);
        cs_msg_t msg;
        s_alloc_watch_reset();
        int rc = cs_msg_decode(b.data, b.len, &msg);
        if (count == CS_MSG_DELTAS_MAX) {
            assert_int_equal(rc, CS_OK);
            assert_int_equal(msg.n_deltas, CS_MSG_DELTAS_MAX);
            assert_memory_equal(msg.deltas[CS_MSG_DELTAS_MAX - 1].data, "q", 1);
            cs_msg_fini(&msg);
        } else {
            assert_int_equal(rc, CS_EPROTO);
            assert_true(s_alloc_largest() < 4096);
            s_assert_empty(&msg);
        }
    }
    cs_buf_fini(&b);
}

static void
test_empty_input_is_refused(void **state)
{
    (void) state;
    cs_msg_t msg;
    assert_int_equal(cs_msg_decode(NULL, 0, &msg), CS_EPROTO);
    s_assert_empty(&msg);
    s_assert_refused("", 0);
}

/* ---------------- random mutations ---------------- */

static uint64_t s_rng_state; /* splitmix64 */

static uint64_t
s_rand(void)
{
    uint64_t z = (s_rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static size_t
s_rand_below(size_t n)
{
    return n ? (size_t) (s_rand() % n) : 0;
}

/* Bytes that change a msgpack header's meaning. */
static const uint8_t s_tags[] = { 0x00, 0x01, 0x03, 0x7f, 0x80, 0x90, 0x91,
                                  0x94, 0x97, 0x9f, 0xa1, 0xc0, 0xc4, 0xc5,
                                  0xc6, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3,
                                  0xd9, 0xdc, 0xdd, 0xde, 0xff };

/*  Apply one random edit to @p b. */
static void
s_mutate(cs_buf_t *b)
{
    size_t at = s_rand_below(b->len);
    switch (s_rand_below(7)) {
    case 0: /* flip a bit */
        if (b->len) {
            b->data[at] ^= (uint8_t) (1u << s_rand_below(8));
        }
        break;
    case 1: /* a random byte */
        if (b->len) {
            b->data[at] = (uint8_t) s_rand();
        }
        break;
    case 2: /* a header byte */
        if (b->len) {
            b->data[at] = s_tags[s_rand_below(ARRAY_LEN(s_tags))];
        }
        break;
    case 3: /* insert a byte */
        cs_buf_append(b, "", 1);
        memmove(b->data + at + 1, b->data + at, b->len - 1 - at);
        b->data[at] = s_tags[s_rand_below(ARRAY_LEN(s_tags))];
        break;
    case 4: /* delete a byte */
        if (b->len) {
            memmove(b->data + at, b->data + at + 1, b->len - at - 1);
            b->len--;
        }
        break;
    case 5: /* truncate */
        b->len = at;
        break;
    default: /* small-number edits of a length or count byte */
        if (b->len) {
            b->data[at] = (uint8_t) (b->data[at] + 1 - 2 * (s_rand() & 1));
        }
        break;
    }
}

/*  The invariant for every accepted frame @p data: the decoder takes any
 *  width, so encode(decode(b)) is not always b. Instead, with
 *  e1 = encode(decode(b)): decode(e1) == decode(b), encode(decode(e1)) ==
 *  e1 (the shortest form is a fixed point), and e1 is no longer than b. */
static void
s_assert_canonical_round_trip(const uint8_t *data, size_t len,
                              const cs_msg_t *msg)
{
    s_assert_unused_zero(msg);
    cs_buf_t e1, e2;
    cs_buf_init(&e1);
    cs_buf_init(&e2);
    cs_msg_encode(msg, &e1);
    assert_true(e1.len <= len);
    cs_msg_t back;
    assert_int_equal(cs_msg_decode(e1.data, e1.len, &back), CS_OK);
    s_assert_msg_equal(msg, &back);
    cs_msg_encode(&back, &e2);
    assert_int_equal(e2.len, e1.len);
    assert_memory_equal(e2.data, e1.data, e1.len);
    if (e1.len == len) {
        assert_memory_equal(e1.data, data, len); /* shortest already */
    }
    cs_msg_fini(&back);
    cs_buf_fini(&e2);
    cs_buf_fini(&e1);
}

#define S_MUTATION_ROUNDS  20000
#define S_MUTATION_SECONDS 60

static void
test_mutated_frames_decode_consistently_or_are_refused(void **state)
{
    (void) state;
    const char *env_seed = getenv("CS_TEST_SEED");
    uint64_t seed = env_seed ? strtoull(env_seed, NULL, 10) : 20240601;
    printf("test_cs_msg: seed=%" PRIu64 " (set CS_TEST_SEED to replay)\n",
           seed);
    s_rng_state = seed;

    cs_buf_t frames[8];
    size_t n = s_valid_frames(frames, ARRAY_LEN(frames));
    cs_buf_t b;
    cs_buf_init(&b);
    size_t accepted = 0, refused = 0;
    time_t started = time(NULL);
    for (int round = 0; round < S_MUTATION_ROUNDS; round++) {
        if (time(NULL) - started > S_MUTATION_SECONDS) {
            break; /* a slow machine: fewer rounds, same checks */
        }
        const cs_buf_t *base = &frames[s_rand_below(n)];
        cs_buf_reset(&b);
        cs_buf_append(&b, base->data, base->len);
        size_t edits = 1 + s_rand_below(3);
        for (size_t e = 0; e < edits; e++) {
            s_mutate(&b);
        }
        uint8_t *copy = s_copy(b.data, b.len);
        cs_msg_t msg;
        int rc = cs_msg_decode(copy, b.len, &msg);
        if (rc == CS_OK) {
            accepted++;
            s_assert_canonical_round_trip(copy, b.len, &msg);
            cs_msg_fini(&msg);
        } else {
            refused++;
            assert_int_equal(rc, CS_EPROTO);
            s_assert_empty(&msg);
        }
        free(copy);
    }
    printf("test_cs_msg: %zu mutated frames accepted, %zu refused\n", accepted,
           refused);
    /* both paths ran (the header-byte edits keep many frames valid) */
    assert_true(accepted > 0);
    assert_true(refused > 0);
    cs_buf_fini(&b);
    s_frames_fini(frames, n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_round_trips_every_width),
        cmocka_unit_test(test_pull_round_trips_every_width),
        cmocka_unit_test(test_changes_round_trip_with_no_one_or_many_deltas),
        cmocka_unit_test(test_changes_round_trip_every_bin_width),
        cmocka_unit_test(test_encode_writes_the_shortest_form_and_appends),
        cmocka_unit_test(test_every_integer_array_and_bin_width_decodes),
        cmocka_unit_test(test_fini_is_safe_twice_and_type_names),
        cmocka_unit_test(test_every_truncation_is_refused),
        cmocka_unit_test(test_trailing_bytes_are_refused),
        cmocka_unit_test(test_other_versions_and_unknown_types_are_refused),
        cmocka_unit_test(test_wrong_item_counts_are_refused),
        cmocka_unit_test(test_old_shapes_without_puller_epoch_are_refused),
        cmocka_unit_test(test_signed_and_non_integer_fields_are_refused),
        cmocka_unit_test(test_wrong_nested_types_are_refused),
        cmocka_unit_test(test_a_map_instead_of_an_array_is_refused),
        cmocka_unit_test(test_max_bytes_over_32_bits_is_refused),
        cmocka_unit_test(test_out_of_order_positions_are_refused),
        cmocka_unit_test(test_empty_and_oversized_deltas_are_refused),
        cmocka_unit_test(test_frames_over_the_maximum_are_refused),
        cmocka_unit_test(test_delta_count_bombs_are_refused_before_allocating),
        cmocka_unit_test(test_empty_input_is_refused),
        cmocka_unit_test(
            test_mutated_frames_decode_consistently_or_are_refused),
    };
    return cmocka_run_group_tests_name("net/cs_msg", tests, NULL, NULL);
}
