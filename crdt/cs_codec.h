/*  cs_codec - msgpack encoding of records and deltas, with limits.
 *  SPDX-License-Identifier: MIT
 *
 *  Two forms of a record:
 *  - CS_CODEC_CANONICAL: the replicated state only (no local seqs). The same
 *    state always encodes to the same bytes: fields in name order, integers
 *    in their shortest msgpack form, floats always as float64. Digests and
 *    the wire use it.
 *  - CS_CODEC_STORED: the canonical content plus each part's local seq; what
 *    the store keeps in LMDB.
 *
 *  Layout (msgpack): [form, tombstone, default, [field...]]
 *  - tombstone: nil, or [hlc, origin] (stored: [hlc, origin, seq]).
 *  - default: the record-level default stamp. nil if the record has no
 *    fields, else [hlc, origin] (stored: [hlc, origin, seq]). Its stamp is
 *    the one shared by the most fields, ties going to the largest stamp;
 *    its seq, chosen on its own, the seq shared by the most fields, ties
 *    going to the largest. Both depend on the state alone, so one state
 *    still has exactly one canonical encoding.
 *  - field: the parts equal to the default are left out:
 *    canonical  [name, value]               stamp is the default
 *               [name, value, hlc, origin]  stamp differs
 *    stored     [name, value]               stamp and seq are the default
 *               [name, value, seq]          only the seq differs
 *               [name, value, hlc, origin]  only the stamp differs
 *               [name, value, hlc, origin, seq]  both differ
 *  Fields written together (one seeded row, one edit) share a stamp, so
 *  most fields are just [name, value]. A delta is [collection, id,
 *  canonical record].
 *  - name: a str; in the stored form, where a store's name dictionary
 *    (cs_names) gives the name a number, that number instead (a uint).
 *    Functions that take a cs_names_t write every name the dictionary
 *    numbers as its number, and read both spellings.
 *
 *  The decoders take untrusted bytes. Before anything is allocated they walk
 *  the input and check every length and count against the bytes that remain
 *  and against the limits below (msgpack-c 4.0 would otherwise allocate
 *  ~96 GB for the five bytes dd ff ff ff ff). Field names must be strictly
 *  increasing (no duplicates), strings valid UTF-8, and every value within
 *  cs_value/cs_record limits. Only the canonical encoding of what was
 *  decoded is accepted (the decoder encodes again and compares), so an
 *  explicit stamp or seq equal to the default, a default that is not the
 *  most common one, or a default on a record without fields is refused.
 *  Every violation returns CS_EPROTO; nothing aborts. No msgpack type
 *  leaves cs_codec.c.
 */
#ifndef CS_CODEC_H
#define CS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"
#include "crdt/cs_names.h"
#include "crdt/cs_record.h"

/** Largest encoded record or delta, in bytes (8 MiB). */
#define CS_CODEC_RECORD_MAX 8388608u

typedef enum {
    CS_CODEC_CANONICAL = 1, /* replicated state, no seqs */
    CS_CODEC_STORED = 2,    /* plus local seqs */
} cs_codec_form_t;

/** A growable byte buffer; out of memory aborts. */
typedef struct {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
} cs_buf_t;

void cs_buf_init(cs_buf_t *buf);
void cs_buf_fini(cs_buf_t *buf);
/** Forget the contents, keep the allocation. */
void cs_buf_reset(cs_buf_t *buf);
void cs_buf_append(cs_buf_t *buf, const void *data, size_t len);

/** A decoded delta; owns its record. */
typedef struct {
    char collection[CS_COLLECTION_MAX + 1]; /* NUL-terminated */
    char id[CS_ID_MAX + 1];                 /* NUL-terminated */
    cs_record_t *record;                    /* owned; seqs are 0 */
    const uint8_t *canonical; /* the record's canonical encoding: the tail
                                 of the decoded bytes (borrowed from them) */
    size_t canonical_len;     /* its bytes */
} cs_delta_t;

/** Append the encoding of @p rec in @p form to @p out. Cannot fail: the
 *  limits of cs_record (CS_RECORD_FIELDS_MAX, CS_RECORD_BYTES_MAX) keep
 *  every record's encoding within CS_CODEC_RECORD_MAX (out of memory
 *  aborts). Finding the default takes one pass over the fields when they
 *  share one stamp and seq, else a sort of a copy of them. */
void cs_codec_encode_record(const cs_record_t *rec, cs_codec_form_t form,
                            cs_buf_t *out);

/** cs_codec_encode_record in the stored form, names numbered by @p names:
 *  a name without a number gets the next one (unless @p names is full),
 *  which the caller must save with the record. */
void cs_codec_encode_stored(const cs_record_t *rec, cs_names_t *names,
                            cs_buf_t *out);

/** Decode @p len bytes at @p data, which must hold exactly one record in
 *  @p form, every name spelt out. On success *@p rec_out is a new record
 *  the caller owns. @return CS_OK or CS_EPROTO. */
CS_NODISCARD int cs_codec_decode_record(const void *data, size_t len,
                                        cs_codec_form_t form,
                                        cs_record_t **rec_out);

/** cs_codec_decode_record of a record whose names may be numbers of
 *  @p names: a stored record, or a local record in canonical form with
 *  numbered names (cs_codec_encode_fields with numbers). @return CS_OK, or
 *  CS_EPROTO (also for a number @p names lacks). */
CS_NODISCARD int cs_codec_decode_numbered(const void *data, size_t len,
                                          cs_codec_form_t form,
                                          const cs_names_t *names,
                                          cs_record_t **rec_out);

/** The field names of a bulk load, checked once (valid names, strictly
 *  increasing bytewise) for cs_codec_encode_fields. Opaque. */
typedef struct cs_codec_fields cs_codec_fields_t;

/** Check the @p n names and keep them (copied) in a new *@p self_p. With
 *  @p numbers (one per name, or NULL), a name whose number is not
 *  CS_NAMES_NONE is written as that number: records then come out in a
 *  local form, canonical but for numbered names, which only a store whose
 *  dictionary gave those numbers reads (cs_store_number_names).
 *  @return CS_OK; CS_EINVAL for a bad or out-of-order name; CS_ELIMIT for
 *  more than CS_RECORD_FIELDS_MAX. */
CS_NODISCARD int cs_codec_fields_new(const char *const *names,
                                     const uint32_t *numbers, size_t n,
                                     cs_codec_fields_t **self_p);

/** Free *@p self_p and set it to NULL. Safe on NULL. */
void cs_codec_fields_destroy(cs_codec_fields_t **self_p);

/** Append to @p out the canonical form of the record that holds exactly
 *  the fields of @p fields, with @p values (one per name, in order), all
 *  written with @p stamp, and no tombstone: the bytes
 *  cs_codec_encode_record gives for that record (with the names @p fields
 *  numbers, numbered), without building it (a bulk load makes millions).
 *  Each value must be valid but for its size (cs_value_is_valid; asserted
 *  in unoptimised builds only): a bulk load's reader has checked its text
 *  once already, and a second check of every string cost a seed a sixth
 *  of its parsing.
 *  @return CS_OK; CS_ELIMIT for a value over CS_VALUE_MAX or a record past
 *  CS_RECORD_BYTES_MAX; then @p out is as before. */
CS_NODISCARD int cs_codec_encode_fields(const cs_codec_fields_t *fields,
                                        const cs_value_t *values,
                                        cs_stamp_t stamp, cs_buf_t *out);

/** Append to @p out the stored form of the record whose canonical form is
 *  the @p len bytes at @p canonical, every part of it changed at @p seq:
 *  what decoding it, cs_record_set_seq(@p seq) and encoding it stored
 *  (cs_codec_encode_stored with @p names, or cs_codec_encode_record if
 *  NULL) would give, without building the record. For bulk loads of
 *  records new to a store. The input must come from
 *  cs_codec_encode_record or cs_codec_encode_fields (its names may be
 *  numbers of @p names): its shape is checked, its content is not (it is
 *  not for untrusted bytes). @return CS_OK, or CS_EPROTO (then @p out is
 *  as before). */
CS_NODISCARD int cs_codec_stored_from_canonical(const void *canonical,
                                                size_t len, uint64_t seq,
                                                cs_names_t *names,
                                                cs_buf_t *out);

/** True if the stored record @p stored (@p stored_len bytes) is exactly
 *  the record whose canonical form is @p canonical, with one seq for all
 *  its parts: as cs_codec_stored_from_canonical would store it with
 *  @p names (which get no new numbers here). A cheap "nothing to do" test
 *  for a re-seeded row (no decoding); false says nothing (the record may
 *  still hold the same values). @p scratch is working space. Never fails.
 */
bool cs_codec_stored_matches(const void *stored, size_t stored_len,
                             const void *canonical, size_t canonical_len,
                             cs_names_t *names, cs_buf_t *scratch);

/** Append to @p out the canonical form of the stored record at @p stored
 *  (@p len bytes; numbered names are those of @p names, NULL if none) if
 *  one seq is that of all its parts, and give that seq in *@p seq: the
 *  inverse of cs_codec_stored_from_canonical, without building the
 *  record. For a store serving its own records: the shape is checked, the
 *  content is not (cs_codec_decode_numbered checks both).
 *  @return CS_OK; CS_EPROTO if the record has parts at different seqs, has
 *  no part, has a number @p names lack, or is not a stored record of that
 *  shape (then @p out is as before). */
CS_NODISCARD int cs_codec_canonical_from_stored(const void *stored, size_t len,
                                                cs_names_t *names,
                                                uint64_t *seq, cs_buf_t *out);

/** Append the delta (@p collection, @p id, the record whose canonical
 *  encoding is the @p len bytes at @p canonical) to @p out: what
 *  cs_codec_encode_delta gives for that record.
 *  @return CS_OK, or CS_EINVAL for a bad collection or id (then @p out is
 *  as before). */
CS_NODISCARD int cs_codec_encode_delta_canonical(const char *collection,
                                                 const char *id,
                                                 const void *canonical,
                                                 size_t len, cs_buf_t *out);

/** Append the delta (@p collection, @p id, canonical @p rec) to @p out.
 *  @return CS_OK, or CS_EINVAL for a bad collection or id (then @p out is
 *  as before). */
CS_NODISCARD int cs_codec_encode_delta(const char *collection, const char *id,
                                       const cs_record_t *rec, cs_buf_t *out);

/** Decode one delta. On success @p delta owns a new record: release it with
 *  cs_delta_fini. @return CS_OK or CS_EPROTO. */
CS_NODISCARD int cs_codec_decode_delta(const void *data, size_t len,
                                       cs_delta_t *delta);

/** cs_codec_decode_delta into @p record, a record of the caller's, which
 *  is cleared first and keeps its allocation: a receiver decoding batch
 *  after batch reuses its records instead of allocating each one. On
 *  success @p delta->record is @p record, still the caller's: do not
 *  cs_delta_fini @p delta. @return CS_OK or CS_EPROTO. */
CS_NODISCARD int cs_codec_decode_delta_in(const void *data, size_t len,
                                          cs_record_t *record,
                                          cs_delta_t *delta);

/** Free the record of @p delta. Safe to call twice. */
void cs_delta_fini(cs_delta_t *delta);

#endif /* CS_CODEC_H */
