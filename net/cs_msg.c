/*  cs_msg - the sync protocol's wire messages: versioned msgpack, decoded
 *  with limits before anything is allocated.
 *  SPDX-License-Identifier: MIT
 *
 *  The encoder writes msgpack directly, every integer, array header and bin
 *  header in its shortest form (as crdt/cs_codec.c does). The decoder is a
 *  small bounded reader over the frame: each header is checked against the
 *  bytes that remain before it is used, and the only allocation, the delta
 *  table of a CHANGES, is sized after its count has been checked against
 *  the bytes that could hold that many deltas. It accepts any msgpack width
 *  for integers, arrays and bins, so encode(decode(frame)) is the shortest
 *  form of the frame, not always the frame itself.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "net/cs_msg.h"

/* Items of each message's top-level array (version and type included). */
#define S_NOTIFY_ITEMS  4u
#define S_PULL_ITEMS    7u
#define S_CHANGES_ITEMS 9u
/* The smallest encoding of a non-empty bin: bin8 tag, length, one byte. */
#define S_DELTA_MIN_BYTES 3u

/* ---------------- msgpack writer ---------------- */

/*  A one-byte type tag and @p n big-endian bytes of @p v. */
static void
s_pk_tagged(cs_buf_t *out, uint8_t tag, uint64_t v, size_t n)
{
    uint8_t bytes[9];
    bytes[0] = tag;
    for (size_t i = 0; i < n; i++) {
        bytes[1 + i] = (uint8_t) (v >> (8 * (n - 1 - i)));
    }
    cs_buf_append(out, bytes, 1 + n);
}

static void
s_pk_uint(cs_buf_t *out, uint64_t v)
{
    if (v < 0x80) {
        uint8_t fixint = (uint8_t) v;
        cs_buf_append(out, &fixint, 1);
    } else if (v <= UINT8_MAX) {
        s_pk_tagged(out, 0xcc, v, 1);
    } else if (v <= UINT16_MAX) {
        s_pk_tagged(out, 0xcd, v, 2);
    } else if (v <= UINT32_MAX) {
        s_pk_tagged(out, 0xce, v, 4);
    } else {
        s_pk_tagged(out, 0xcf, v, 8);
    }
}

static void
s_pk_array(cs_buf_t *out, size_t n)
{
    assert(n <= UINT32_MAX);
    if (n < 16) {
        uint8_t fixarray = (uint8_t) (0x90 | n);
        cs_buf_append(out, &fixarray, 1);
    } else if (n <= UINT16_MAX) {
        s_pk_tagged(out, 0xdc, n, 2);
    } else {
        s_pk_tagged(out, 0xdd, n, 4);
    }
}

static void
s_pk_bin(cs_buf_t *out, const uint8_t *data, size_t len)
{
    assert(len <= UINT32_MAX);
    if (len <= UINT8_MAX) {
        s_pk_tagged(out, 0xc4, len, 1);
    } else if (len <= UINT16_MAX) {
        s_pk_tagged(out, 0xc5, len, 2);
    } else {
        s_pk_tagged(out, 0xc6, len, 4);
    }
    cs_buf_append(out, data, len);
}

/* ---------------- bounded reader ---------------- */

typedef struct {
    const uint8_t *data; /* the frame */
    size_t len;          /* its length */
    size_t pos;          /* bytes read so far */
} s_reader_t;

/*  Read the @p n bytes of a big-endian number that follows a tag. */
static bool
s_rd_be(s_reader_t *rd, size_t n, uint64_t *out)
{
    if (rd->len - rd->pos < n) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | rd->data[rd->pos + i];
    }
    rd->pos += n;
    *out = v;
    return true;
}

/*  Read the tag of the next item, or fail at the end of the frame. */
static bool
s_rd_tag(s_reader_t *rd, uint8_t *tag)
{
    if (rd->pos >= rd->len) {
        return false;
    }
    *tag = rd->data[rd->pos++];
    return true;
}

/*  An unsigned integer in any width (positive fixint, uint 8/16/32/64). */
static bool
s_rd_uint(s_reader_t *rd, uint64_t *out)
{
    uint8_t tag;
    if (!s_rd_tag(rd, &tag)) {
        return false;
    }
    if (tag <= 0x7f) {
        *out = tag;
        return true;
    }
    switch (tag) {
    case 0xcc:
        return s_rd_be(rd, 1, out);
    case 0xcd:
        return s_rd_be(rd, 2, out);
    case 0xce:
        return s_rd_be(rd, 4, out);
    case 0xcf:
        return s_rd_be(rd, 8, out);
    default:
        return false; /* negative, float, or not a number */
    }
}

/*  An array header in any width: its item count. */
static bool
s_rd_array(s_reader_t *rd, uint64_t *items)
{
    uint8_t tag;
    if (!s_rd_tag(rd, &tag)) {
        return false;
    }
    if (tag >= 0x90 && tag <= 0x9f) {
        *items = tag & 0x0fu;
        return true;
    }
    switch (tag) {
    case 0xdc:
        return s_rd_be(rd, 2, items);
    case 0xdd:
        return s_rd_be(rd, 4, items);
    default:
        return false;
    }
}

/*  A bin item in any width (str is refused), pointing into the frame. */
static bool
s_rd_bin(s_reader_t *rd, cs_msg_bytes_t *out)
{
    uint8_t tag;
    if (!s_rd_tag(rd, &tag)) {
        return false;
    }
    uint64_t len = 0;
    bool ok;
    switch (tag) {
    case 0xc4:
        ok = s_rd_be(rd, 1, &len);
        break;
    case 0xc5:
        ok = s_rd_be(rd, 2, &len);
        break;
    case 0xc6:
        ok = s_rd_be(rd, 4, &len);
        break;
    default:
        return false;
    }
    if (!ok || len > rd->len - rd->pos) {
        return false;
    }
    out->data = rd->data + rd->pos;
    out->len = (size_t) len;
    rd->pos += (size_t) len;
    return true;
}

/*  The delta array of a CHANGES. The table is allocated only once its
 *  count is known to fit both the limit and the bytes that remain. */
static bool
s_rd_deltas(s_reader_t *rd, cs_msg_t *msg)
{
    uint64_t count;
    if (!s_rd_array(rd, &count) || count > CS_MSG_DELTAS_MAX ||
        count > (rd->len - rd->pos) / S_DELTA_MIN_BYTES) {
        return false;
    }
    if (count == 0) {
        return true;
    }
    msg->deltas = calloc((size_t) count, sizeof *msg->deltas);
    if (!msg->deltas) {
        abort();
    }
    msg->n_deltas = (size_t) count;
    for (size_t i = 0; i < msg->n_deltas; i++) {
        cs_msg_bytes_t *delta = &msg->deltas[i];
        if (!s_rd_bin(rd, delta) || delta->len == 0 ||
            delta->len > CS_CODEC_RECORD_MAX) {
            return false;
        }
    }
    return true;
}

/*  Everything after the version and the type, per @p msg->type. */
static bool
s_rd_body(s_reader_t *rd, cs_msg_t *msg)
{
    switch (msg->type) {
    case CS_MSG_NOTIFY:
        return s_rd_uint(rd, &msg->epoch) && s_rd_uint(rd, &msg->head);
    case CS_MSG_PULL: {
        uint64_t max_bytes;
        if (!s_rd_uint(rd, &msg->epoch) || !s_rd_uint(rd, &msg->base) ||
            !s_rd_uint(rd, &msg->since) || !s_rd_uint(rd, &max_bytes) ||
            !s_rd_uint(rd, &msg->puller_epoch) || max_bytes > UINT32_MAX ||
            msg->base > msg->since) {
            return false;
        }
        msg->max_bytes = (uint32_t) max_bytes;
        return true;
    }
    case CS_MSG_CHANGES:
        return s_rd_uint(rd, &msg->epoch) && s_rd_uint(rd, &msg->base) &&
               s_rd_uint(rd, &msg->since) && s_rd_uint(rd, &msg->last_seq) &&
               s_rd_uint(rd, &msg->head) && s_rd_uint(rd, &msg->puller_epoch) &&
               msg->base <= msg->since && msg->since <= msg->last_seq &&
               msg->last_seq <= msg->head && s_rd_deltas(rd, msg);
    }
    return false;
}

/*  The whole frame: header, a known type with its item count, its body,
 *  and nothing after it. */
static bool
s_rd_msg(s_reader_t *rd, cs_msg_t *msg)
{
    uint64_t items, version, type;
    if (!s_rd_array(rd, &items) || !s_rd_uint(rd, &version) ||
        version != CS_MSG_VERSION || !s_rd_uint(rd, &type)) {
        return false;
    }
    uint64_t expected;
    switch (type) {
    case CS_MSG_NOTIFY:
        expected = S_NOTIFY_ITEMS;
        break;
    case CS_MSG_PULL:
        expected = S_PULL_ITEMS;
        break;
    case CS_MSG_CHANGES:
        expected = S_CHANGES_ITEMS;
        break;
    default:
        return false;
    }
    if (items != expected) {
        return false;
    }
    msg->type = (cs_msg_type_t) type;
    return s_rd_body(rd, msg) && rd->pos == rd->len;
}

/* ---------------- public API ---------------- */

/*  Abort unless @p msg is a known type within the limits, its frame no
 *  larger than CS_MSG_MAX. */
static void
s_assert_valid(const cs_msg_t *msg)
{
    switch (msg->type) {
    case CS_MSG_NOTIFY:
    case CS_MSG_PULL:
        return;
    case CS_MSG_CHANGES:
        break;
    default:
        assert(!"cs_msg_encode: unknown message type");
        return;
    }
    assert(msg->n_deltas <= CS_MSG_DELTAS_MAX);
    assert(msg->n_deltas == 0 || msg->deltas);
    /* at most: array, version, type, six uint64, array32 header */
    uint64_t total = 1 + 1 + 1 + 6 * 9 + 5;
    for (size_t i = 0; i < msg->n_deltas; i++) {
        const cs_msg_bytes_t *delta = &msg->deltas[i];
        assert(delta->data);
        assert(delta->len > 0 && delta->len <= CS_CODEC_RECORD_MAX);
        total += 5 + delta->len; /* < 2^44 for the largest table */
    }
    assert(total <= CS_MSG_MAX);
    (void) total;
}

void
cs_msg_encode(const cs_msg_t *msg, cs_buf_t *out)
{
    assert(msg);
    assert(out);
    s_assert_valid(msg);
    switch (msg->type) {
    case CS_MSG_NOTIFY:
        s_pk_array(out, S_NOTIFY_ITEMS);
        s_pk_uint(out, CS_MSG_VERSION);
        s_pk_uint(out, CS_MSG_NOTIFY);
        s_pk_uint(out, msg->epoch);
        s_pk_uint(out, msg->head);
        break;
    case CS_MSG_PULL:
        s_pk_array(out, S_PULL_ITEMS);
        s_pk_uint(out, CS_MSG_VERSION);
        s_pk_uint(out, CS_MSG_PULL);
        s_pk_uint(out, msg->epoch);
        s_pk_uint(out, msg->base);
        s_pk_uint(out, msg->since);
        s_pk_uint(out, msg->max_bytes);
        s_pk_uint(out, msg->puller_epoch);
        break;
    case CS_MSG_CHANGES:
        s_pk_array(out, S_CHANGES_ITEMS);
        s_pk_uint(out, CS_MSG_VERSION);
        s_pk_uint(out, CS_MSG_CHANGES);
        s_pk_uint(out, msg->epoch);
        s_pk_uint(out, msg->base);
        s_pk_uint(out, msg->since);
        s_pk_uint(out, msg->last_seq);
        s_pk_uint(out, msg->head);
        s_pk_uint(out, msg->puller_epoch);
        s_pk_array(out, msg->n_deltas);
        for (size_t i = 0; i < msg->n_deltas; i++) {
            s_pk_bin(out, msg->deltas[i].data, msg->deltas[i].len);
        }
        break;
    }
}

int
cs_msg_decode(const void *data, size_t len, cs_msg_t *msg)
{
    assert(data || len == 0);
    assert(msg);
    memset(msg, 0, sizeof *msg);
    if (len == 0 || len > CS_MSG_MAX) {
        return CS_EPROTO;
    }
    s_reader_t rd = { .data = data, .len = len, .pos = 0 };
    if (!s_rd_msg(&rd, msg)) {
        cs_msg_fini(msg);
        return CS_EPROTO;
    }
    return CS_OK;
}

void
cs_msg_fini(cs_msg_t *msg)
{
    assert(msg);
    free(msg->deltas);
    memset(msg, 0, sizeof *msg);
}

const char *
cs_msg_type_name(int type)
{
    switch (type) {
    case CS_MSG_NOTIFY:
        return "NOTIFY";
    case CS_MSG_PULL:
        return "PULL";
    case CS_MSG_CHANGES:
        return "CHANGES";
    default:
        return "?";
    }
}
