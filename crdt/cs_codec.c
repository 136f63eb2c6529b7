/*  cs_codec - msgpack encoding of records and deltas, with limits.
 *  SPDX-License-Identifier: MIT
 *
 *  Encoding writes msgpack directly (see "msgpack writer" below for why
 *  not msgpack-c's packer). Decoding accepts exactly the bytes the encoder
 *  writes, so that decode(encode(x)) == x and encode(decode(b)) == b
 *  always (the fuzz target checks both). The decoder reads the bytes in
 *  place, led by the schema (see "schema" below for why not msgpack-c's
 *  unpacker): every header is checked against the bytes that remain and
 *  must be the shortest for its value or length (s_is_shortest); each
 *  array's length is checked against what the schema allows there before
 *  its elements are read; the msgpack types our formats never use (maps,
 *  ext, float32) are refused. It checks the rest of the canonical form
 *  (fields in name order, the default stamp the encoder would choose, left
 *  out wherever it applies) as it builds the cs_record_t, which is sized
 *  once from the input: allocation is bounded by our limits, not by what
 *  a header claims. Checking the canonical form directly, rather than
 *  encoding the record again and comparing, more than halves the cost of
 *  a decode.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/cs_codec.h"

/* ---------------- buffer ---------------- */

void
cs_buf_init(cs_buf_t *buf)
{
    assert(buf);
    memset(buf, 0, sizeof *buf);
}

void
cs_buf_fini(cs_buf_t *buf)
{
    assert(buf);
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

void
cs_buf_reset(cs_buf_t *buf)
{
    assert(buf);
    buf->len = 0;
}

void
cs_buf_append(cs_buf_t *buf, const void *data, size_t len)
{
    assert(buf);
    if (len == 0) {
        return;
    }
    if (buf->cap - buf->len < len) {
        size_t cap = buf->cap ? buf->cap : 256;
        while (cap - buf->len < len) {
            cap *= 2;
        }
        uint8_t *grown = realloc(buf->data, cap);
        if (!grown) {
            abort();
        }
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
}

/* ---------------- msgpack writer ----------------
 *
 *  Encoding writes msgpack straight into the buffer. msgpack-c's packer
 *  calls a write callback for every header and body, two or three calls
 *  per field, which cost a seed a third of its CPU time; our formats use
 *  eight msgpack types, written below in their shortest form exactly as
 *  msgpack-c chooses it (test_cs_codec checks that msgpack-c reads them
 *  back), and the decoder accepts no other form. */

/*  Room for @p n more bytes at the end of @p buf. */
static uint8_t *
s_room(cs_buf_t *buf, size_t n)
{
    if (buf->cap - buf->len < n) {
        size_t cap = buf->cap ? buf->cap : 256;
        while (cap - buf->len < n) {
            cap *= 2;
        }
        uint8_t *grown = realloc(buf->data, cap);
        if (!grown) {
            abort();
        }
        buf->data = grown;
        buf->cap = cap;
    }
    return buf->data + buf->len;
}

/*  The writers below put one msgpack item at @p p, which has room for it
 *  (S_ITEM_MAX bytes, plus the body of a str or bin), and return the end.
 *  The s_pk_ wrappers make the room in a buffer first; a caller that
 *  knows the size of a whole record makes room once instead (see
 *  cs_codec_encode_fields). */
#define S_ITEM_MAX 9 /* largest msgpack header or scalar: tag + 8 bytes */

/*  A one-byte type tag and @p n big-endian bytes of @p v. */
static uint8_t *
s_wr_tagged(uint8_t *p, uint8_t tag, uint64_t v, size_t n)
{
    p[0] = tag;
    for (size_t i = 0; i < n; i++) {
        p[1 + i] = (uint8_t) (v >> (8 * (n - 1 - i)));
    }
    return p + 1 + n;
}

static uint8_t *
s_wr_uint(uint8_t *p, uint64_t v)
{
    if (v < 0x80) {
        *p = (uint8_t) v; /* positive fixint */
        return p + 1;
    }
    if (v <= UINT8_MAX) {
        return s_wr_tagged(p, 0xcc, v, 1);
    }
    if (v <= UINT16_MAX) {
        return s_wr_tagged(p, 0xcd, v, 2);
    }
    if (v <= UINT32_MAX) {
        return s_wr_tagged(p, 0xce, v, 4);
    }
    return s_wr_tagged(p, 0xcf, v, 8);
}

static uint8_t *
s_wr_int(uint8_t *p, int64_t v)
{
    if (v >= 0) {
        return s_wr_uint(p, (uint64_t) v);
    }
    if (v >= -32) {
        *p = (uint8_t) (int8_t) v; /* negative fixint */
        return p + 1;
    }
    if (v >= INT8_MIN) {
        return s_wr_tagged(p, 0xd0, (uint64_t) v, 1);
    }
    if (v >= INT16_MIN) {
        return s_wr_tagged(p, 0xd1, (uint64_t) v, 2);
    }
    if (v >= INT32_MIN) {
        return s_wr_tagged(p, 0xd2, (uint64_t) v, 4);
    }
    return s_wr_tagged(p, 0xd3, (uint64_t) v, 8);
}

static uint8_t *
s_wr_array(uint8_t *p, size_t n)
{
    if (n < 16) {
        *p = (uint8_t) (0x90 | n);
        return p + 1;
    }
    if (n <= UINT16_MAX) {
        return s_wr_tagged(p, 0xdc, n, 2);
    }
    return s_wr_tagged(p, 0xdd, n, 4);
}

/*  A str (@p bin false) or bin header and its @p n bytes at @p s. */
static uint8_t *
s_wr_bytes(uint8_t *p, const char *s, size_t n, bool bin)
{
    if (!bin && n < 32) {
        *p++ = (uint8_t) (0xa0 | n);
    } else if (n <= UINT8_MAX) {
        p = s_wr_tagged(p, bin ? 0xc4 : 0xd9, n, 1);
    } else if (n <= UINT16_MAX) {
        p = s_wr_tagged(p, bin ? 0xc5 : 0xda, n, 2);
    } else {
        p = s_wr_tagged(p, bin ? 0xc6 : 0xdb, n, 4);
    }
    if (n > 0) {
        memcpy(p, s, n);
    }
    return p + n;
}

/*  Room for the bytes s_wr_value writes for @p v. */
static size_t
s_value_room(const cs_value_t *v)
{
    bool bytes = v->type == CS_VALUE_STR || v->type == CS_VALUE_BIN;
    return S_ITEM_MAX + (bytes ? v->u.s.len : 0);
}

static uint8_t *
s_wr_value(uint8_t *p, const cs_value_t *v)
{
    switch (v->type) {
    case CS_VALUE_NIL:
        *p = 0xc0;
        return p + 1;
    case CS_VALUE_BOOL:
        *p = v->u.b ? 0xc3 : 0xc2;
        return p + 1;
    case CS_VALUE_INT:
        return s_wr_int(p, v->u.i);
    case CS_VALUE_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &v->u.f, sizeof bits);
        return s_wr_tagged(p, 0xcb, bits, 8);
    }
    case CS_VALUE_STR:
        return s_wr_bytes(p, v->u.s.ptr, v->u.s.len, false);
    case CS_VALUE_BIN:
        return s_wr_bytes(p, v->u.s.ptr, v->u.s.len, true);
    }
    assert(!"unknown value type");
    return p;
}

/*  Room for the bytes s_wr_stamp writes. */
#define S_STAMP_ROOM (1 + 3 * S_ITEM_MAX)

/*  [hlc, origin], or [hlc, origin, seq] if @p stored. */
static uint8_t *
s_wr_stamp(uint8_t *p, cs_stamp_t stamp, uint64_t seq, bool stored)
{
    p = s_wr_array(p, stored ? 3 : 2);
    p = s_wr_uint(p, stamp.hlc);
    p = s_wr_uint(p, stamp.origin);
    return stored ? s_wr_uint(p, seq) : p;
}

/*  The buffer's length, now that the writers have filled it up to @p end. */
static void
s_pk_done(cs_buf_t *buf, const uint8_t *end)
{
    buf->len = (size_t) (end - buf->data);
    assert(buf->len <= buf->cap);
}

static void
s_pk_byte(cs_buf_t *buf, uint8_t byte)
{
    *s_room(buf, 1) = byte;
    buf->len++;
}

static void
s_pk_nil(cs_buf_t *buf)
{
    s_pk_byte(buf, 0xc0);
}

static void
s_pk_uint(cs_buf_t *buf, uint64_t v)
{
    s_pk_done(buf, s_wr_uint(s_room(buf, S_ITEM_MAX), v));
}

static void
s_pk_array(cs_buf_t *buf, size_t n)
{
    s_pk_done(buf, s_wr_array(s_room(buf, S_ITEM_MAX), n));
}

static void
s_pk_bytes(cs_buf_t *buf, const char *p, size_t n, bool bin)
{
    s_pk_done(buf, s_wr_bytes(s_room(buf, S_ITEM_MAX + n), p, n, bin));
}

/* ---------------- default stamp ---------------- */

/* What most fields share, so that those fields can leave it out. */
typedef struct {
    cs_stamp_t stamp; /* the most common field stamp */
    uint64_t seq;     /* the most common field seq (stored form only) */
} s_default_t;

static int
s_stamp_order(const void *a, const void *b)
{
    return cs_stamp_compare(*(const cs_stamp_t *) a, *(const cs_stamp_t *) b);
}

/*  The most common of @p count (> 0) stamps, ties going to the largest, so
 *  that the choice depends on the set of stamps alone. Sorts @p stamps. */
static cs_stamp_t
s_most_common(cs_stamp_t *stamps, size_t count)
{
    qsort(stamps, count, sizeof *stamps, s_stamp_order);
    cs_stamp_t best = stamps[0];
    size_t best_run = 0;
    for (size_t start = 0, end; start < count; start = end) {
        end = start + 1;
        while (end < count &&
               cs_stamp_compare(stamps[end], stamps[start]) == 0) {
            end++;
        }
        if (end - start >= best_run) { /* ascending: >= lets larger win */
            best = stamps[start];
            best_run = end - start;
        }
    }
    return best;
}

/*  The default of a record with @p count (> 0) fields. Usually all fields
 *  share one stamp and one seq (they came from one seeded row or one put),
 *  which one pass finds; only records edited since pay for sorting a copy. */
static s_default_t
s_default(const cs_record_t *rec, size_t count, bool stored)
{
    cs_field_t first = cs_record_field_at(rec, 0);
    s_default_t def = { first.stamp, first.seq };
    bool mixed_stamps = false, mixed_seqs = false;
    for (size_t i = 1; i < count; i++) {
        cs_field_t f = cs_record_field_at(rec, i);
        if (cs_stamp_compare(f.stamp, def.stamp) != 0) {
            mixed_stamps = true;
        }
        if (stored && f.seq != def.seq) {
            mixed_seqs = true;
        }
    }
    if (!mixed_stamps && !mixed_seqs) {
        return def;
    }
    cs_stamp_t *scratch = malloc(count * sizeof *scratch);
    if (!scratch) {
        abort();
    }
    if (mixed_stamps) {
        for (size_t i = 0; i < count; i++) {
            scratch[i] = cs_record_field_at(rec, i).stamp;
        }
        def.stamp = s_most_common(scratch, count);
    }
    if (mixed_seqs) {
        /* a seq sorts like the stamp (seq, 0): one routine for both */
        for (size_t i = 0; i < count; i++) {
            scratch[i] = (cs_stamp_t){ cs_record_field_at(rec, i).seq, 0 };
        }
        def.seq = s_most_common(scratch, count).hlc;
    }
    free(scratch);
    return def;
}

/* ---------------- encoding ---------------- */

static void
s_pack_value(cs_buf_t *pk, const cs_value_t *v)
{
    s_pk_done(pk, s_wr_value(s_room(pk, s_value_room(v)), v));
}

static void
s_pack_stamp(cs_buf_t *pk, cs_stamp_t stamp, uint64_t seq, bool stored)
{
    s_pk_done(pk, s_wr_stamp(s_room(pk, S_STAMP_ROOM), stamp, seq, stored));
}

/*  @p names: number the names (stored form only), or NULL. */
static void
s_pack_record(cs_buf_t *pk, const cs_record_t *rec, cs_codec_form_t form,
              cs_names_t *names)
{
    bool stored = form == CS_CODEC_STORED;
    s_pk_array(pk, 4);
    s_pk_uint(pk, (uint64_t) form);
    cs_stamp_t tomb;
    uint64_t tomb_seq;
    if (cs_record_tombstone(rec, &tomb, &tomb_seq)) {
        s_pack_stamp(pk, tomb, tomb_seq, stored);
    } else {
        s_pk_nil(pk);
    }
    size_t count = cs_record_field_count(rec);
    s_default_t def = { { 0, 0 }, 0 };
    if (count > 0) {
        def = s_default(rec, count, stored);
        s_pack_stamp(pk, def.stamp, def.seq, stored);
    } else {
        s_pk_nil(pk);
    }
    s_pk_array(pk, count);
    for (size_t i = 0; i < count; i++) {
        cs_field_t f = cs_record_field_at(rec, i);
        bool own_stamp = cs_stamp_compare(f.stamp, def.stamp) != 0;
        bool own_seq = stored && f.seq != def.seq;
        s_pk_array(pk, 2u + (own_stamp ? 2u : 0u) + (own_seq ? 1u : 0u));
        size_t name_len = strlen(f.name);
        uint32_t number =
            names ? cs_names_number(names, f.name, name_len, i, true)
                  : CS_NAMES_NONE;
        if (number != CS_NAMES_NONE) {
            s_pk_uint(pk, number);
        } else {
            s_pk_bytes(pk, f.name, name_len, false);
        }
        s_pack_value(pk, &f.value);
        if (own_stamp) {
            s_pk_uint(pk, f.stamp.hlc);
            s_pk_uint(pk, f.stamp.origin);
        }
        if (own_seq) {
            s_pk_uint(pk, f.seq);
        }
    }
}

void
cs_codec_encode_record(const cs_record_t *rec, cs_codec_form_t form,
                       cs_buf_t *out)
{
    assert(rec);
    assert(out);
    assert(form == CS_CODEC_CANONICAL || form == CS_CODEC_STORED);
    size_t start = out->len;
    s_pack_record(out, rec, form, NULL);
    assert(out->len - start <= CS_CODEC_RECORD_MAX);
}

void
cs_codec_encode_stored(const cs_record_t *rec, cs_names_t *names, cs_buf_t *out)
{
    assert(rec);
    assert(names);
    assert(out);
    size_t start = out->len;
    s_pack_record(out, rec, CS_CODEC_STORED, names);
    assert(out->len - start <= CS_CODEC_RECORD_MAX);
    (void) start;
}

struct cs_codec_fields {
    size_t n;          /* fields */
    size_t name_bytes; /* their names' bytes, against CS_RECORD_BYTES_MAX */
    cs_buf_t heads;    /* per field: its array header and packed name */
    size_t *offs;      /* where each field's head starts in heads; n + 1 */
};

int
cs_codec_fields_new(const char *const *names, const uint32_t *numbers, size_t n,
                    cs_codec_fields_t **self_p)
{
    assert(names || n == 0);
    assert(self_p);
    *self_p = NULL;
    if (n > CS_RECORD_FIELDS_MAX) {
        return CS_ELIMIT;
    }
    for (size_t i = 0; i < n; i++) {
        if (!cs_record_field_name_is_valid(names[i], strlen(names[i])) ||
            (i > 0 && strcmp(names[i - 1], names[i]) >= 0)) {
            return CS_EINVAL;
        }
    }
    cs_codec_fields_t *self = calloc(1, sizeof *self);
    size_t *offs = malloc((n + 1) * sizeof *offs);
    if (!self || !offs) {
        abort();
    }
    self->n = n;
    self->offs = offs;
    cs_buf_init(&self->heads);
    /* every field has the one stamp: it is the record's default, so no
     * field spells it and each is [name, value] (see s_pack_record) */
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        offs[i] = self->heads.len;
        s_pk_array(&self->heads, 2);
        if (numbers && numbers[i] != CS_NAMES_NONE) {
            s_pk_uint(&self->heads, numbers[i]);
        } else {
            s_pk_bytes(&self->heads, names[i], len, false);
        }
        self->name_bytes += len;
    }
    offs[n] = self->heads.len;
    *self_p = self;
    return CS_OK;
}

void
cs_codec_fields_destroy(cs_codec_fields_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    cs_buf_fini(&(*self_p)->heads);
    free((*self_p)->offs);
    free(*self_p);
    *self_p = NULL;
}

int
cs_codec_encode_fields(const cs_codec_fields_t *fields,
                       const cs_value_t *values, cs_stamp_t stamp,
                       cs_buf_t *out)
{
    assert(fields);
    assert(values || fields->n == 0);
    assert(out);
    /* check the sizes first, so that a refusal writes nothing; the text
     * is the caller's to check (see cs_codec.h) */
    size_t bytes = fields->name_bytes;
    /* [4-array, form, nil, stamp, fields array], then heads and values */
    size_t room = 3 + S_STAMP_ROOM + S_ITEM_MAX + fields->heads.len;
    for (size_t i = 0; i < fields->n; i++) {
        room += s_value_room(&values[i]);
        if (values[i].type == CS_VALUE_STR || values[i].type == CS_VALUE_BIN) {
            if (values[i].u.s.len > CS_VALUE_MAX) {
                return CS_ELIMIT;
            }
            bytes += values[i].u.s.len;
        }
#ifndef __OPTIMIZE__
        /* the caller's promise, checked where speed does not count (the
         * sanitizer and fuzz builds): a full pass over the text here would
         * undo what the promise saves */
        assert(cs_value_is_valid(&values[i]));
#endif
    }
    if (bytes > CS_RECORD_BYTES_MAX) {
        return CS_ELIMIT;
    }
    uint8_t *p = s_room(out, room); /* once for the whole record */
    p = s_wr_array(p, 4);
    p = s_wr_uint(p, CS_CODEC_CANONICAL);
    *p++ = 0xc0; /* no tombstone */
    if (fields->n > 0) {
        p = s_wr_stamp(p, stamp, 0, false);
    } else {
        *p++ = 0xc0;
    }
    p = s_wr_array(p, fields->n);
    for (size_t i = 0; i < fields->n; i++) {
        size_t head = fields->offs[i + 1] - fields->offs[i];
        memcpy(p, fields->heads.data + fields->offs[i], head);
        p = s_wr_value(p + head, &values[i]);
    }
    s_pk_done(out, p);
    return CS_OK;
}

/*  Bytes of the msgpack unsigned integer at @p p (@p avail bytes there),
 *  or 0 if there is none. */
static size_t
s_uint_size(const uint8_t *p, size_t avail)
{
    size_t n = 0;
    if (avail > 0) {
        switch (p[0]) {
        case 0xcc:
            n = 2;
            break;
        case 0xcd:
            n = 3;
            break;
        case 0xce:
            n = 5;
            break;
        case 0xcf:
            n = 9;
            break;
        default:
            n = p[0] < 0x80 ? 1 : 0;
        }
    }
    return n <= avail ? n : 0;
}

/*  Copy the nil or [hlc, origin] at @p in[*pos] to @p out, as nil or
 *  [hlc, origin, seq]. */
static bool
s_stamp_with_seq(const uint8_t *in, size_t len, size_t *pos, uint64_t seq,
                 cs_buf_t *out)
{
    if (*pos < len && in[*pos] == 0xc0) {
        s_pk_nil(out);
        (*pos)++;
        return true;
    }
    if (*pos >= len || in[*pos] != 0x92) {
        return false;
    }
    size_t at = *pos + 1;
    size_t hlc = s_uint_size(in + at, len - at);
    size_t origin = hlc ? s_uint_size(in + at + hlc, len - at - hlc) : 0;
    if (!origin) {
        return false;
    }
    s_pk_array(out, 3);
    cs_buf_append(out, in + at, hlc + origin);
    s_pk_uint(out, seq);
    *pos = at + hlc + origin;
    return true;
}

static bool s_header(const uint8_t *p, size_t avail, size_t *head,
                     uint64_t *payload, uint64_t *items);
static bool s_as_uint(uint8_t tag, const uint8_t *at, uint64_t n,
                      uint64_t *out);

/*  Whether the msgpack type byte @p t starts an array. */
static bool
s_is_array_tag(uint8_t t)
{
    return (t >= 0x90 && t <= 0x9f) || t == 0xdc || t == 0xdd;
}

/*  Whether the msgpack type byte @p t starts a str. */
static bool
s_is_str_tag(uint8_t t)
{
    return (t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb);
}

/*  How the field name @p item (@p head + @p payload bytes: a str, or a
 *  number of @p names, which has @p known names), the @p position-th of
 *  its record, goes out: as a number if @p numbered and @p names give it
 *  one (a new one if @p add), else spelt out. @return S_NAME_KEEP if as
 *  it is written, S_NAME_NUMBER (*@p number) or S_NAME_SPELL (*@p name,
 *  *@p len) if otherwise, or S_NAME_BAD for a number without @p names or
 *  not in them. */
enum { S_NAME_BAD, S_NAME_KEEP, S_NAME_NUMBER, S_NAME_SPELL };

static int
s_name_out(const uint8_t *item, size_t head, size_t payload, cs_names_t *names,
           size_t known, bool numbered, bool add, size_t position,
           uint32_t *number, const char **name, size_t *len)
{
    if (s_is_str_tag(item[0])) {
        *number = names && numbered
                      ? cs_names_number(names, (const char *) item + head,
                                        payload, position, add)
                      : CS_NAMES_NONE;
        return *number == CS_NAMES_NONE ? S_NAME_KEEP : S_NAME_NUMBER;
    }
    uint64_t n;
    if (!names || !s_as_uint(item[0], item + head, payload, &n) || n >= known) {
        return S_NAME_BAD;
    }
    if (numbered) {
        return S_NAME_KEEP;
    }
    *name = cs_names_at(names, n, len);
    return S_NAME_SPELL;
}

/*  The bytes of the scalar at @p p (@p avail there), or 0 if it is not
 *  one or does not fit: s_header, with the types of most values first. */
static size_t
s_scalar_size(const uint8_t *p, size_t avail)
{
    size_t size;
    if (p[0] >= 0xa0 && p[0] <= 0xbf) {
        size = 1u + (p[0] & 0x1fu); /* fixstr */
    } else if (p[0] < 0x80 || p[0] >= 0xe0 || p[0] == 0xc0) {
        size = 1; /* fixint, nil */
    } else if (p[0] == 0xd9 && avail >= 2) {
        size = 2u + p[1]; /* str8 */
    } else {
        size_t head;
        uint64_t payload, nested;
        if (s_is_array_tag(p[0]) ||
            !s_header(p, avail, &head, &payload, &nested) ||
            payload > avail - head) {
            return 0;
        }
        size = head + (size_t) payload;
    }
    return size <= avail ? size : 0;
}

/*  Copy to @p out the array of fields at @p in[pos], which runs to the end
 *  (@p len), its count in *@p count: fields that spell no seq of their own
 *  ([name, value] or [name, value, hlc, origin]), values scalars. Names go
 *  out as s_name_out says; the bytes between names that change are copied
 *  in one piece. The shape is checked, the content is not.
 *  @return false (then @p out is as before) if the shape is not so. */
static bool
s_copy_fields(const uint8_t *in, size_t len, size_t pos, cs_names_t *names,
              bool numbered, bool add, cs_buf_t *out, uint64_t *count)
{
    size_t head;
    uint64_t payload;
    if (pos >= len || !s_is_array_tag(in[pos]) ||
        !s_header(in + pos, len - pos, &head, &payload, count) ||
        *count > CS_RECORD_FIELDS_MAX) {
        return false;
    }
    /* a number takes at most one byte more than a name of one byte; a name
     * spelt out at most CS_FIELD_NAME_MAX + 2 bytes more than its number */
    size_t grow = numbered ? 1 : CS_FIELD_NAME_MAX + 2;
    uint8_t *p = s_room(out, len - pos + (size_t) *count * grow);
    size_t copied = pos; /* in[copied..at) is still to copy */
    size_t at = pos + head;
    size_t known = names ? cs_names_count(names) : 0; /* numbers given */
    for (uint64_t f = 0; f < *count; f++) {
        if (numbered && len - at > 2 && in[at] == 0x92 && in[at + 1] < known &&
            in[at + 1] < 0x80) {
            /* the usual field, [a number already given, value], kept as
             * it is: only the value's size is needed */
            size_t size = s_scalar_size(in + at + 2, len - at - 2);
            if (size == 0) {
                return false;
            }
            at += 2 + size;
            continue;
        }
        if (at >= len || (in[at] != 0x92 && in[at] != 0x94)) {
            return false;
        }
        size_t items = in[at++] & 0x0fu;
        for (size_t i = 0; i < items; i++) {
            size_t size = at < len ? s_scalar_size(in + at, len - at) : 0;
            if (size == 0) {
                return false; /* values are scalars */
            }
            if (i == 0) {
                uint32_t number = 0;
                const char *name = NULL;
                size_t name_len = 0;
                /* a str's header is 1, 2, 3 or 5 bytes, a uint's 1 */
                uint8_t t = in[at];
                head = t == 0xd9 ? 2 : t == 0xda ? 3 : t == 0xdb ? 5 : 1;
                int how = s_name_out(in + at, head, size - head, names, known,
                                     numbered, add, (size_t) f, &number, &name,
                                     &name_len);
                if (how == S_NAME_BAD) {
                    return false;
                }
                if (how == S_NAME_NUMBER && number >= known) {
                    known = (size_t) number + 1; /* just added */
                }
                if (how != S_NAME_KEEP) {
                    memcpy(p, in + copied, at - copied);
                    p += at - copied;
                    p = how == S_NAME_NUMBER
                            ? s_wr_uint(p, number)
                            : s_wr_bytes(p, name, name_len, false);
                    copied = at + size;
                }
            }
            at += size;
        }
    }
    if (at != len) {
        return false;
    }
    memcpy(p, in + copied, at - copied);
    s_pk_done(out, p + (at - copied));
    return true;
}

/*  cs_codec_stored_from_canonical, giving names new numbers only if
 *  @p add. */
static int
s_stored_from_canonical(const void *canonical, size_t len, uint64_t seq,
                        cs_names_t *names, bool add, cs_buf_t *out)
{
    /* canonical [1, tomb, default, fields] -> stored [2, tomb + seq,
     * default + seq, fields]: with one seq for every part, the stored
     * default seq is that seq and no field spells its own, so the fields
     * differ only in how their names are written */
    const uint8_t *in = canonical;
    size_t start = out->len;
    size_t pos = 2;
    uint64_t count;
    if (len < 2 || in[0] != 0x94 || in[1] != CS_CODEC_CANONICAL) {
        return CS_EPROTO;
    }
    s_pk_array(out, 4);
    s_pk_uint(out, CS_CODEC_STORED);
    if (!s_stamp_with_seq(in, len, &pos, seq, out) ||
        !s_stamp_with_seq(in, len, &pos, seq, out) ||
        !s_copy_fields(in, len, pos, names, true, add, out, &count)) {
        out->len = start;
        return CS_EPROTO;
    }
    return CS_OK;
}

int
cs_codec_stored_from_canonical(const void *canonical, size_t len, uint64_t seq,
                               cs_names_t *names, cs_buf_t *out)
{
    assert(canonical || len == 0);
    assert(out);
    return s_stored_from_canonical(canonical, len, seq, names, true, out);
}

static uint64_t s_be(const uint8_t *p, size_t n);

/*  The seq of the first nil-or-[hlc, origin, seq] at @p in[*pos] into
 *  *@p seq (left alone for nil); moves *@p pos past it. */
static bool
s_skip_stored_stamp(const uint8_t *in, size_t len, size_t *pos, uint64_t *seq)
{
    if (*pos < len && in[*pos] == 0xc0) {
        (*pos)++;
        return true;
    }
    if (*pos >= len || in[*pos] != 0x93) {
        return false;
    }
    size_t at = *pos + 1;
    for (int part = 0; part < 3; part++) {
        size_t n = s_uint_size(in + at, len - at);
        if (n == 0) {
            return false;
        }
        if (part == 2) {
            *seq = n == 1 ? in[at] : s_be(in + at + 1, n - 1);
        }
        at += n;
    }
    *pos = at;
    return true;
}

bool
cs_codec_stored_matches(const void *stored, size_t stored_len,
                        const void *canonical, size_t canonical_len,
                        cs_names_t *names, cs_buf_t *scratch)
{
    assert(stored || stored_len == 0);
    assert(canonical || canonical_len == 0);
    assert(scratch);
    /* the one seq it could have been stored with: the default's, or the
     * tombstone's when there are no fields */
    const uint8_t *in = stored;
    size_t pos = 2;
    uint64_t seq = 0;
    if (stored_len < 2 || in[0] != 0x94 || in[1] != CS_CODEC_STORED ||
        !s_skip_stored_stamp(in, stored_len, &pos, &seq) ||
        !s_skip_stored_stamp(in, stored_len, &pos, &seq)) {
        return false;
    }
    cs_buf_reset(scratch);
    return s_stored_from_canonical(canonical, canonical_len, seq, names, false,
                                   scratch) == CS_OK &&
           scratch->len == stored_len &&
           memcmp(scratch->data, stored, stored_len) == 0;
}

/*  The head of a delta, [3-array, collection, id], to @p out.
 *  @return false for a bad collection or id (then @p out is as before). */
static bool
s_pack_delta_head(const char *collection, const char *id, cs_buf_t *out)
{
    assert(collection);
    assert(id);
    assert(out);
    size_t collection_len = strlen(collection), id_len = strlen(id);
    if (!cs_record_collection_is_valid(collection, collection_len) ||
        !cs_record_id_is_valid(id, id_len)) {
        return false;
    }
    s_pk_array(out, 3);
    s_pk_bytes(out, collection, collection_len, false);
    s_pk_bytes(out, id, id_len, false);
    return true;
}

/*  Copy the nil or [hlc, origin, seq] at @p in[*pos] to @p out as nil or
 *  [hlc, origin]; *@p has says which, *@p seq gets the seq. */
static bool
s_stamp_without_seq(const uint8_t *in, size_t len, size_t *pos, bool *has,
                    uint64_t *seq, cs_buf_t *out)
{
    size_t at = *pos;
    *has = at < len && in[at] != 0xc0;
    if (!s_skip_stored_stamp(in, len, pos, seq)) {
        return false;
    }
    if (!*has) {
        s_pk_nil(out);
        return true;
    }
    size_t hlc = s_uint_size(in + at + 1, len - at - 1);
    size_t origin = s_uint_size(in + at + 1 + hlc, len - at - 1 - hlc);
    s_pk_array(out, 2);
    cs_buf_append(out, in + at + 1, hlc + origin);
    return true;
}

int
cs_codec_canonical_from_stored(const void *stored, size_t len,
                               cs_names_t *names, uint64_t *seq, cs_buf_t *out)
{
    assert(stored || len == 0);
    assert(seq);
    assert(out);
    /* stored [2, tomb + seq, default + seq, fields] with one seq for all
     * and no field spelling its own -> canonical [1, tomb, default,
     * fields]: the default stamp is chosen the same way in both forms, so
     * the fields differ only in how their names are written */
    const uint8_t *in = stored;
    size_t start = out->len;
    size_t pos = 2;
    bool has_tomb = false, has_default = false;
    uint64_t tomb_seq = 0, default_seq = 0;
    if (len < 2 || in[0] != 0x94 || in[1] != CS_CODEC_STORED) {
        return CS_EPROTO;
    }
    s_pk_array(out, 4);
    s_pk_uint(out, CS_CODEC_CANONICAL);
    if (!s_stamp_without_seq(in, len, &pos, &has_tomb, &tomb_seq, out) ||
        !s_stamp_without_seq(in, len, &pos, &has_default, &default_seq, out)) {
        out->len = start;
        return CS_EPROTO;
    }
    uint64_t fields = 0;
    if (!s_copy_fields(in, len, pos, names, false, false, out, &fields) ||
        has_default != (fields > 0) || (!has_tomb && !has_default) ||
        (has_tomb && has_default && tomb_seq != default_seq)) {
        out->len = start;
        return CS_EPROTO;
    }
    *seq = has_default ? default_seq : tomb_seq;
    return CS_OK;
}

int
cs_codec_encode_delta(const char *collection, const char *id,
                      const cs_record_t *rec, cs_buf_t *out)
{
    assert(rec);
    size_t start = out->len;
    if (!s_pack_delta_head(collection, id, out)) {
        return CS_EINVAL;
    }
    s_pack_record(out, rec, CS_CODEC_CANONICAL, NULL);
    assert(out->len - start <= CS_CODEC_RECORD_MAX);
    (void) start;
    return CS_OK;
}

int
cs_codec_encode_delta_canonical(const char *collection, const char *id,
                                const void *canonical, size_t len,
                                cs_buf_t *out)
{
    assert(canonical || len == 0);
    if (!s_pack_delta_head(collection, id, out)) {
        return CS_EINVAL;
    }
    cs_buf_append(out, canonical, len);
    return CS_OK;
}

/* ---------------- bounded walk ---------------- */

static uint64_t
s_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*  Size of the object header at @p p (at least 1 byte is there), and what
 *  follows it: @p payload bytes (str/bin/numbers) or @p items elements.
 *  @return false for types our formats never use, or a header that does
 *  not fit in @p avail bytes. */
static bool
s_header(const uint8_t *p, size_t avail, size_t *head, uint64_t *payload,
         uint64_t *items)
{
    uint8_t t = p[0];
    size_t len_bytes = 0;
    *head = 1;
    *payload = 0;
    *items = 0;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
        return true; /* fixint, nil, bool */
    }
    if (t >= 0xa0 && t <= 0xbf) {
        *payload = t & 0x1f; /* fixstr */
        return true;
    }
    if (t >= 0x90 && t <= 0x9f) {
        *items = t & 0x0f; /* fixarray */
        return true;
    }
    switch (t) {
    case 0xcc:
    case 0xd0:
        *payload = 1;
        return true; /* u8, i8 */
    case 0xcd:
    case 0xd1:
        *payload = 2;
        return true; /* u16, i16 */
    case 0xce:
    case 0xd2:
    case 0xca:
        *payload = 4;
        return true;
    case 0xcf:
    case 0xd3:
    case 0xcb:
        *payload = 8;
        return true;
    case 0xd9:
    case 0xc4:
        len_bytes = 1;
        break; /* str8, bin8 */
    case 0xda:
    case 0xc5:
    case 0xdc:
        len_bytes = 2;
        break;
    case 0xdb:
    case 0xc6:
    case 0xdd:
        len_bytes = 4;
        break;
    default:
        return false; /* maps, ext, reserved */
    }
    if (avail < 1 + len_bytes) {
        return false;
    }
    *head = 1 + len_bytes;
    uint64_t n = s_be(p + 1, len_bytes);
    if (t == 0xdc || t == 0xdd) {
        *items = n;
    } else {
        *payload = n;
    }
    return true;
}

/*  Whether the object at @p p, whose header gave @p payload and @p items
 *  (s_header) and whose payload is there, is written as the encoder writes
 *  it: the shortest header for its value or length (s_wr_uint, s_wr_int,
 *  s_wr_array, s_wr_bytes; a non-negative int is a uint), and no float32.
 */
static bool
s_is_shortest(const uint8_t *p, uint64_t payload, uint64_t items)
{
    switch (p[0]) {
    case 0xcc:
        return p[1] > 0x7f;
    case 0xcd:
        return s_be(p + 1, 2) > UINT8_MAX;
    case 0xce:
        return s_be(p + 1, 4) > UINT16_MAX;
    case 0xcf:
        return s_be(p + 1, 8) > UINT32_MAX;
    case 0xd0: /* int8..int64: negative, and below the next smaller type */
        return p[1] >= 0x80 && p[1] < 0xe0;
    case 0xd1:
        return s_be(p + 1, 2) >= 0x8000 && s_be(p + 1, 2) < 0xff80;
    case 0xd2:
        return s_be(p + 1, 4) >= 0x80000000u && s_be(p + 1, 4) < 0xffff8000u;
    case 0xd3:
        return s_be(p + 1, 8) >= 0x8000000000000000u &&
               s_be(p + 1, 8) < 0xffffffff80000000u;
    case 0xca:
        return false; /* doubles are always float64 */
    case 0xd9:
        return payload >= 32; /* shorter strs are fixstr; bin has no fix */
    case 0xda:
    case 0xc5:
        return payload > UINT8_MAX;
    case 0xdb:
    case 0xc6:
        return payload > UINT16_MAX;
    case 0xdc:
        return items >= 16;
    case 0xdd:
        return items > UINT16_MAX;
    default:
        return true;
    }
}

/* ---------------- schema ----------------
 *
 *  A reader over the input in place, allocating nothing, led by the
 *  schema: msgpack-c's msgpack_unpack_next allocates an 8 KiB zone and an
 *  object tree for each call and reads each header once more after our
 *  limit checks; with the re-encoding that was a third of a catch-up's CPU
 *  time at the receiving node, and a third of that remains (bench_sync.sh
 *  --perf shows it). msgpack-c stays the oracle of the format:
 *  test_cs_codec and fuzz_codec_decode check that it reads whatever we
 *  accept. */

typedef struct {
    const uint8_t *p; /* the input */
    size_t len;       /* its bytes */
    size_t pos;       /* the next object */
} s_rd_t;

/*  The next object's type byte in *@p tag and its payload (@p n bytes at
 *  *@p at; for an array, *@p n is its element count and the elements come
 *  next); moves past the header and the payload. False if the header, or
 *  the payload, does not fit in the input, or if the header is not the
 *  shortest. */
static bool
s_rd_next(s_rd_t *rd, uint8_t *tag, const uint8_t **at, uint64_t *n)
{
    size_t head;
    uint64_t payload, items;
    if (rd->pos >= rd->len ||
        !s_header(rd->p + rd->pos, rd->len - rd->pos, &head, &payload,
                  &items) ||
        payload > rd->len - rd->pos - head ||
        !s_is_shortest(rd->p + rd->pos, payload, items)) {
        return false;
    }
    *tag = rd->p[rd->pos];
    *at = rd->p + rd->pos + head;
    *n = s_is_array_tag(*tag) ? items : payload;
    rd->pos += head + (size_t) payload;
    return true;
}

/*  Skip a nil if one is next. */
static bool
s_rd_nil(s_rd_t *rd)
{
    if (rd->pos < rd->len && rd->p[rd->pos] == 0xc0) {
        rd->pos++;
        return true;
    }
    return false;
}

static bool
s_rd_array(s_rd_t *rd, uint64_t *items)
{
    uint8_t tag;
    const uint8_t *at;
    return s_rd_next(rd, &tag, &at, items) && s_is_array_tag(tag);
}

/*  The value of a positive fixint or uint8..uint64 object (type byte
 *  @p tag, payload @p n bytes at @p at) into *@p out; false for any other
 *  type. */
static bool
s_as_uint(uint8_t tag, const uint8_t *at, uint64_t n, uint64_t *out)
{
    if (tag < 0x80) {
        *out = tag;
        return true;
    }
    if (tag >= 0xcc && tag <= 0xcf) {
        *out = s_be(at, (size_t) n);
        return true;
    }
    return false;
}

static bool
s_rd_uint(s_rd_t *rd, uint64_t *out)
{
    uint8_t tag;
    const uint8_t *at;
    uint64_t n;
    return s_rd_next(rd, &tag, &at, &n) && s_as_uint(tag, at, n, out);
}

static bool
s_rd_str(s_rd_t *rd, const char **str, size_t *len)
{
    uint8_t tag;
    const uint8_t *at;
    uint64_t n;
    if (!s_rd_next(rd, &tag, &at, &n) || !s_is_str_tag(tag)) {
        return false;
    }
    *str = (const char *) at;
    *len = (size_t) n;
    return true;
}

/*  A field's name: a str, or where @p names are given, a number of
 *  theirs. */
static bool
s_rd_field_name(s_rd_t *rd, const cs_names_t *names, const char **name,
                size_t *len)
{
    uint64_t number;
    if (names && rd->pos < rd->len && !s_is_str_tag(rd->p[rd->pos])) {
        return s_rd_uint(rd, &number) &&
               (*name = cs_names_at(names, number, len)) != NULL;
    }
    return s_rd_str(rd, name, len);
}

/*  A copy of a str as a NUL-terminated name, if it is valid. */
static bool
s_rd_name(s_rd_t *rd, bool (*valid)(const char *, size_t), char *out,
          size_t out_size)
{
    const char *str;
    size_t len;
    if (!s_rd_str(rd, &str, &len) || len >= out_size || !valid(str, len)) {
        return false;
    }
    memcpy(out, str, len);
    out[len] = '\0';
    return true;
}

/*  The @p n big-endian bytes at @p p as a two's complement integer. */
static int64_t
s_be_signed(const uint8_t *p, size_t n)
{
    uint64_t v = s_be(p, n);
    if (n < 8 && (v >> (8 * n - 1)) != 0) {
        v |= UINT64_MAX << (8 * n); /* sign-extend */
    }
    return v <= INT64_MAX ? (int64_t) v : -(int64_t) ~v - 1;
}

/*  A value; a str's or bin's bytes stay in the input. Checked by
 *  cs_record_append (UTF-8, size). */
static bool
s_rd_value(s_rd_t *rd, cs_value_t *v)
{
    uint8_t tag;
    const uint8_t *at;
    uint64_t n;
    if (!s_rd_next(rd, &tag, &at, &n)) {
        return false;
    }
    uint64_t u;
    if (s_as_uint(tag, at, n, &u)) {
        if (u > INT64_MAX) {
            return false;
        }
        *v = cs_value_int((int64_t) u);
    } else if (tag >= 0xe0) {
        *v = cs_value_int((int8_t) (tag - 0x100));
    } else if (s_is_str_tag(tag)) {
        *v = cs_value_strn((const char *) at, (size_t) n);
    } else if (tag >= 0xc4 && tag <= 0xc6) {
        *v = cs_value_bin(at, (size_t) n);
    } else if (tag >= 0xd0 && tag <= 0xd3) {
        *v = cs_value_int(s_be_signed(at, (size_t) n));
    } else if (tag == 0xcb) {
        uint64_t bits = s_be(at, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        *v = cs_value_float(d);
    } else if (tag == 0xc0) {
        *v = cs_value_nil();
    } else if (tag == 0xc2 || tag == 0xc3) {
        *v = cs_value_bool(tag == 0xc3);
    } else {
        return false; /* an array */
    }
    return true;
}

/*  A tombstone or default: [hlc, origin], stored [hlc, origin, seq]. */
static bool
s_rd_stamp(s_rd_t *rd, bool stored, cs_stamp_t *stamp, uint64_t *seq)
{
    uint64_t items;
    *seq = 0;
    return s_rd_array(rd, &items) && items == (stored ? 3u : 2u) &&
           s_rd_uint(rd, &stamp->hlc) && s_rd_uint(rd, &stamp->origin) &&
           (!stored || s_rd_uint(rd, seq));
}

/*  Build a record from the one at @p rd, and check the canonical form
 *  above the headers: fields in name order, none under the tombstone, a
 *  field's own stamp or seq only where it differs from the default, and
 *  the default the one s_default chooses. */
static bool
s_to_record(s_rd_t *rd, cs_codec_form_t form, const cs_names_t *names,
            cs_record_t *rec)
{
    bool stored = form == CS_CODEC_STORED;
    uint64_t items, tag;
    if (!s_rd_array(rd, &items) || items != 4 || !s_rd_uint(rd, &tag) ||
        tag != (uint64_t) form) {
        return false;
    }
    if (!s_rd_nil(rd)) {
        cs_stamp_t stamp;
        uint64_t seq;
        if (!s_rd_stamp(rd, stored, &stamp, &seq)) {
            return false;
        }
        cs_record_delete(rec, stamp, seq);
    }
    /* a default exactly when there are fields to take it */
    bool has_default = !s_rd_nil(rd);
    cs_stamp_t default_stamp = { 0, 0 };
    uint64_t default_seq = 0, count;
    if ((has_default &&
         !s_rd_stamp(rd, stored, &default_stamp, &default_seq)) ||
        !s_rd_array(rd, &count) || count > CS_RECORD_FIELDS_MAX ||
        count > (rd->len - rd->pos) / 3 || /* a field takes 3 bytes or more */
        (count > 0) != has_default) {
        return false;
    }
    /* the bytes that remain bound its names and values */
    cs_record_reserve(rec, (size_t) count, rd->len - rd->pos);
    bool own_parts = false; /* a field has its own stamp or seq */
    for (uint64_t i = 0; i < count; i++) {
        /* the length says which parts are there: 4 or 5 items carry a
         * stamp; in the stored form 3 or 5 carry a seq */
        if (!s_rd_array(rd, &items)) {
            return false;
        }
        bool own_stamp = items == 4 || (stored && items == 5);
        bool own_seq = stored && (items == 3 || items == 5);
        if (items != 2u + (own_stamp ? 2u : 0u) + (own_seq ? 1u : 0u)) {
            return false;
        }
        own_parts = own_parts || own_stamp || own_seq;
        const char *name;
        size_t name_len;
        cs_value_t value;
        cs_stamp_t stamp = default_stamp;
        uint64_t seq = default_seq;
        if (!s_rd_field_name(rd, names, &name, &name_len) ||
            !s_rd_value(rd, &value) ||
            (own_stamp &&
             (!s_rd_uint(rd, &stamp.hlc) || !s_rd_uint(rd, &stamp.origin) ||
              cs_stamp_compare(stamp, default_stamp) == 0)) ||
            (own_seq && (!s_rd_uint(rd, &seq) || seq == default_seq))) {
            return false;
        }
        /* checks the name, its order, the value and the tombstone */
        if (cs_record_append(rec, name, name_len, &value, stamp, seq) !=
            CS_OK) {
            return false;
        }
    }
    if (!own_parts) {
        return true; /* no fields, or all share the default */
    }
    s_default_t def = s_default(rec, (size_t) count, stored);
    return cs_stamp_compare(def.stamp, default_stamp) == 0 &&
           def.seq == default_seq;
}

/*  The shared frame of both decoders: the input is one object, read to
 *  its end. */
typedef bool(s_convert_fn)(s_rd_t *rd, void *arg);

static int
s_decode(const void *data, size_t len, s_convert_fn *convert, void *arg)
{
    if (!data || len == 0 || len > CS_CODEC_RECORD_MAX) {
        return CS_EPROTO;
    }
    s_rd_t rd = { .p = data, .len = len, .pos = 0 };
    return convert(&rd, arg) && rd.pos == len ? CS_OK : CS_EPROTO;
}

typedef struct {
    cs_codec_form_t form;    /* expected form */
    const cs_names_t *names; /* of numbered names, or NULL */
    cs_record_t *record;     /* built here */
} s_record_arg_t;

static bool
s_convert_record(s_rd_t *rd, void *arg)
{
    s_record_arg_t *self = arg;
    return s_to_record(rd, self->form, self->names, self->record);
}

static int
s_decode_record(const void *data, size_t len, cs_codec_form_t form,
                const cs_names_t *names, cs_record_t **rec_out)
{
    s_record_arg_t arg = { form, names, cs_record_new() };
    int rc = s_decode(data, len, s_convert_record, &arg);
    if (rc != CS_OK) {
        cs_record_destroy(&arg.record);
    }
    *rec_out = arg.record;
    return rc;
}

int
cs_codec_decode_record(const void *data, size_t len, cs_codec_form_t form,
                       cs_record_t **rec_out)
{
    assert(rec_out);
    assert(form == CS_CODEC_CANONICAL || form == CS_CODEC_STORED);
    return s_decode_record(data, len, form, NULL, rec_out);
}

int
cs_codec_decode_numbered(const void *data, size_t len, cs_codec_form_t form,
                         const cs_names_t *names, cs_record_t **rec_out)
{
    assert(names);
    assert(rec_out);
    assert(form == CS_CODEC_CANONICAL || form == CS_CODEC_STORED);
    return s_decode_record(data, len, form, names, rec_out);
}

static bool
s_convert_delta(s_rd_t *rd, void *arg)
{
    cs_delta_t *delta = arg;
    uint64_t items;
    if (!s_rd_array(rd, &items) || items != 3 ||
        !s_rd_name(rd, cs_record_collection_is_valid, delta->collection,
                   sizeof delta->collection) ||
        !s_rd_name(rd, cs_record_id_is_valid, delta->id, sizeof delta->id)) {
        return false;
    }
    delta->canonical = rd->p + rd->pos; /* the record is the rest */
    delta->canonical_len = rd->len - rd->pos;
    return s_to_record(rd, CS_CODEC_CANONICAL, NULL, delta->record);
}

int
cs_codec_decode_delta_in(const void *data, size_t len, cs_record_t *record,
                         cs_delta_t *delta)
{
    assert(record);
    assert(delta);
    memset(delta, 0, sizeof *delta);
    cs_record_clear(record);
    delta->record = record;
    int rc = s_decode(data, len, s_convert_delta, delta);
    if (rc != CS_OK) {
        memset(delta, 0, sizeof *delta);
    }
    return rc;
}

int
cs_codec_decode_delta(const void *data, size_t len, cs_delta_t *delta)
{
    assert(delta);
    cs_record_t *record = cs_record_new();
    int rc = cs_codec_decode_delta_in(data, len, record, delta);
    if (rc != CS_OK) {
        cs_record_destroy(&record);
    }
    return rc;
}

void
cs_delta_fini(cs_delta_t *delta)
{
    assert(delta);
    cs_record_destroy(&delta->record);
    delta->canonical = NULL;
    delta->canonical_len = 0;
}
