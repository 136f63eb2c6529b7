/*  fuzz_codec_decode - untrusted bytes into the record and delta decoders.
 *  SPDX-License-Identifier: MIT
 *
 *  The input is decoded as a canonical record, a stored record and a delta.
 *  Every decoder must return CS_OK or CS_EPROTO and never crash, leak or
 *  allocate what a header merely claims. Whatever decodes must be one
 *  msgpack object to msgpack-c (the oracle of the format) and canonical:
 *  encoding it again gives back the input, byte for byte. It must survive
 *  a round trip: encode it again (canonical, and stored for stored input),
 *  decode that, and get the same state back (and the same seqs), or abort.
 *  A delta decoded into a record that held another one gives the same.
 *  The stored-to-canonical shortcut of the serving path also runs on every
 *  input; on one that decodes, what it converts must be the record's
 *  canonical bytes. Both run again with a small name dictionary (S_NAMES),
 *  so numbers read as names: what decodes survives a numbered round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "crdt/cs_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The dictionary inputs see: numbers 0 to 3 (a number past it is refused). */
static const char *const S_NAMES[] = { "Id", "a", "b", "LastName" };

static void
s_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static bool
s_same_seqs(const cs_record_t *a, const cs_record_t *b)
{
    if (cs_record_field_count(a) != cs_record_field_count(b)) {
        return false;
    }
    for (size_t i = 0; i < cs_record_field_count(a); i++) {
        if (cs_record_field_at(a, i).seq != cs_record_field_at(b, i).seq) {
            return false;
        }
    }
    uint64_t seq_a = 0, seq_b = 0;
    return cs_record_tombstone(a, NULL, &seq_a) ==
               cs_record_tombstone(b, NULL, &seq_b) &&
           seq_a == seq_b;
}

/* What a decoder accepted: one msgpack object to msgpack-c, and the bytes
 * @p again (the encoding of what it decoded). */
static void
s_accepted(const uint8_t *data, size_t size, const cs_buf_t *again)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    s_check(msgpack_unpack_next(&unpacked, (const char *) data, size,
                                &offset) == MSGPACK_UNPACK_SUCCESS &&
            offset == size);
    msgpack_unpacked_destroy(&unpacked);
    s_check(again->len == size && memcmp(again->data, data, size) == 0);
}

/* decode(encode(rec)) == rec in @p form; seqs too for the stored form. */
static void
s_round_trip(const cs_record_t *rec, cs_codec_form_t form)
{
    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_codec_encode_record(rec, form, &buf);
    cs_record_t *back = NULL;
    s_check(cs_codec_decode_record(buf.data, buf.len, form, &back) == CS_OK);
    s_check(cs_record_equal(rec, back));
    if (form == CS_CODEC_STORED) {
        s_check(s_same_seqs(rec, back));
    }
    /* the canonical bytes are a fixed point */
    cs_buf_t again;
    cs_buf_init(&again);
    cs_codec_encode_record(back, form, &again);
    s_check(again.len == buf.len && memcmp(again.data, buf.data, buf.len) == 0);
    cs_buf_fini(&again);
    cs_record_destroy(&back);
    cs_buf_fini(&buf);
}

/* The serving shortcut on @p data (a stored record, or anything; numbered
 * names those of @p names, if given): when it converts a record that
 * decodes (@p rec), it gives that record's canonical bytes, and converts
 * back to @p data with the seq it gave (without @p names: with them, a name
 * spelt out in @p data may go back numbered). */
static void
s_canonical_from_stored(const uint8_t *data, size_t size,
                        const cs_record_t *rec, cs_names_t *names)
{
    cs_buf_t out;
    cs_buf_init(&out);
    uint64_t seq = 0;
    int rc = cs_codec_canonical_from_stored(data, size, names, &seq, &out);
    s_check(rc == CS_OK || rc == CS_EPROTO);
    s_check(rc == CS_OK || out.len == 0);
    if (rc == CS_OK && rec) {
        s_check(cs_record_min_seq(rec) == seq && cs_record_max_seq(rec) == seq);
        cs_buf_t want;
        cs_buf_init(&want);
        cs_codec_encode_record(rec, CS_CODEC_CANONICAL, &want);
        s_check(want.len == out.len &&
                memcmp(want.data, out.data, out.len) == 0);
        cs_buf_reset(&want);
        s_check(cs_codec_stored_from_canonical(out.data, out.len, seq, names,
                                               &want) == CS_OK);
        s_check(names ||
                (want.len == size && memcmp(want.data, data, size) == 0));
        cs_buf_fini(&want);
    }
    cs_buf_fini(&out);
}

static void
s_record(const uint8_t *data, size_t size, cs_codec_form_t form)
{
    cs_record_t *rec = NULL;
    int rc = cs_codec_decode_record(data, size, form, &rec);
    s_check(rc == CS_OK || rc == CS_EPROTO);
    if (form == CS_CODEC_STORED) {
        s_canonical_from_stored(data, size, rc == CS_OK ? rec : NULL, NULL);
    }
    if (rc != CS_OK) {
        s_check(rec == NULL);
        return;
    }
    cs_buf_t again;
    cs_buf_init(&again);
    cs_codec_encode_record(rec, form, &again);
    s_accepted(data, size, &again);
    cs_buf_fini(&again);
    s_round_trip(rec, CS_CODEC_CANONICAL);
    if (form == CS_CODEC_STORED) {
        s_round_trip(rec, CS_CODEC_STORED);
    }
    cs_record_destroy(&rec);
}

static void
s_delta(const uint8_t *data, size_t size)
{
    cs_delta_t delta;
    memset(&delta, 0, sizeof delta);
    int rc = cs_codec_decode_delta(data, size, &delta);
    s_check(rc == CS_OK || rc == CS_EPROTO);
    /* into a record that held another one: the same answer */
    cs_record_t *used = cs_record_new();
    cs_stamp_t stamp = { 1, 1 };
    cs_record_delete(used, stamp, 1);
    cs_value_t value = cs_value_str("left over");
    stamp.hlc = 2;
    s_check(cs_record_set(used, "zz", &value, stamp, 2, NULL) == CS_OK);
    cs_delta_t in;
    s_check(cs_codec_decode_delta_in(data, size, used, &in) == rc);
    s_check(rc != CS_OK || cs_record_equal(used, delta.record));
    cs_record_destroy(&used);
    if (rc != CS_OK) {
        s_check(delta.record == NULL);
        return;
    }
    s_check(cs_record_collection_is_valid(delta.collection,
                                          strlen(delta.collection)));
    s_check(cs_record_id_is_valid(delta.id, strlen(delta.id)));
    s_round_trip(delta.record, CS_CODEC_CANONICAL);

    cs_buf_t buf;
    cs_buf_init(&buf);
    s_check(cs_codec_encode_delta(delta.collection, delta.id, delta.record,
                                  &buf) == CS_OK);
    s_accepted(data, size, &buf);
    cs_delta_t back;
    memset(&back, 0, sizeof back);
    s_check(cs_codec_decode_delta(buf.data, buf.len, &back) == CS_OK);
    s_check(strcmp(back.collection, delta.collection) == 0);
    s_check(strcmp(back.id, delta.id) == 0);
    s_check(cs_record_equal(back.record, delta.record));
    cs_delta_fini(&back);
    cs_buf_fini(&buf);
    cs_delta_fini(&delta);
}

/* @p data as a stored record with numbered names: what decodes encodes
 * and decodes again to the same record and seqs. */
static void
s_numbered(const uint8_t *data, size_t size)
{
    cs_names_t *names = cs_names_new();
    for (size_t i = 0; i < sizeof S_NAMES / sizeof S_NAMES[0]; i++) {
        s_check(cs_names_add(names, S_NAMES[i], strlen(S_NAMES[i])) == CS_OK);
    }
    cs_record_t *rec = NULL;
    int rc = cs_codec_decode_numbered(data, size, CS_CODEC_STORED, names, &rec);
    s_check(rc == CS_OK || rc == CS_EPROTO);
    s_canonical_from_stored(data, size, rc == CS_OK ? rec : NULL, names);
    if (rc == CS_OK) {
        cs_buf_t buf;
        cs_buf_init(&buf);
        cs_codec_encode_stored(rec, names, &buf);
        cs_record_t *back = NULL;
        s_check(cs_codec_decode_numbered(buf.data, buf.len, CS_CODEC_STORED,
                                         names, &back) == CS_OK);
        s_check(cs_record_equal(rec, back) && s_same_seqs(rec, back));
        cs_record_destroy(&back);
        cs_buf_fini(&buf);
    }
    cs_record_destroy(&rec);
    cs_names_destroy(&names);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_record(data, size, CS_CODEC_CANONICAL);
    s_record(data, size, CS_CODEC_STORED);
    s_numbered(data, size);
    s_delta(data, size);
    return 0;
}
