/*  cs_record - a CRM record as an LWW-map CRDT.
 *  SPDX-License-Identifier: MIT
 *
 *  A record maps field names to (value, stamp, seq) and may carry a record
 *  tombstone (stamp, seq). A stamp is (hlc, origin): the hybrid logical
 *  timestamp of the write and the 64-bit id of the node that made it.
 *  Stamps order by hlc, then origin, so the order is total across replicas.
 *
 *  - Merge is per field: the larger stamp wins; equal stamps (one writer
 *    stamping two values, e.g. two seeds with the same as-of time) are
 *    broken by cs_value_compare, the larger value winning. Merge is
 *    commutative, associative and idempotent.
 *  - Delete sets the tombstone. A field is visible only if its stamp is
 *    larger than the tombstone's; fields at or below it are dropped, so a
 *    deleted record keeps no old values. A later write revives the record.
 *  - seq is the local change-feed position at which a field or the
 *    tombstone last changed on this node. It is local bookkeeping, not part
 *    of the replicated state: cs_record_equal and the canonical encoding
 *    ignore it. "Delta since S" is every part whose seq is larger than S.
 *
 *  The record does not know its own key (collection, id); the store does.
 *  Not thread-safe; one owner at a time.
 */
#ifndef CS_RECORD_H
#define CS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"
#include "crdt/cs_hlc.h"
#include "crdt/cs_value.h"

/* Limits. The LMDB key "collection\0id" must stay under LMDB's 511 bytes. */
#define CS_COLLECTION_MAX    64u   /* bytes, UTF-8, no NUL, not empty */
#define CS_ID_MAX            256u  /* bytes, UTF-8, no NUL, not empty */
#define CS_FIELD_NAME_MAX    128u  /* bytes, UTF-8, no NUL, not empty */
#define CS_RECORD_FIELDS_MAX 1024u /* fields per record */
/* Bytes of field names plus string/binary values in one record (4 MiB).
 * With the per-field overhead it keeps every valid record well inside
 * CS_CODEC_RECORD_MAX, so a record that exists can always be encoded. */
#define CS_RECORD_BYTES_MAX 4194304u

typedef struct cs_record cs_record_t; /* opaque */

/** Who wrote what when: the order of writes to one field. */
typedef struct {
    cs_hlc_t hlc;    /* hybrid logical timestamp of the write */
    uint64_t origin; /* node id of the writer */
} cs_stamp_t;

/** Borrowed view of one field, valid until the record is next changed or
 *  destroyed. */
typedef struct {
    const char *name; /* NUL-terminated */
    cs_value_t value; /* strings/binaries point into the record */
    cs_stamp_t stamp; /* the winning write */
    uint64_t seq;     /* local feed seq of the last change */
} cs_field_t;

/** Compare two stamps: <0, 0, >0. */
int cs_stamp_compare(cs_stamp_t a, cs_stamp_t b);

/** True if @p s (NUL-free, @p len bytes) is a valid collection name, record
 *  id or field name: not empty, within its limit, UTF-8, no NUL. */
bool cs_record_collection_is_valid(const char *s, size_t len);
bool cs_record_id_is_valid(const char *s, size_t len);
bool cs_record_field_name_is_valid(const char *s, size_t len);

/** An empty record (no fields, no tombstone). Never NULL: OOM aborts. */
cs_record_t *cs_record_new(void);

/** Free *self_p and set it to NULL. Safe on NULL and on *self_p NULL. */
void cs_record_destroy(cs_record_t **self_p);

/** A deep copy, seqs included. */
cs_record_t *cs_record_dup(const cs_record_t *self);

/** Write @p value to field @p name with @p stamp, LWW: it takes effect only
 *  if @p stamp beats the field's current stamp (equal stamps: the larger
 *  value wins) and the tombstone. On effect the field's seq becomes @p seq.
 *  @p changed (may be NULL) says whether the state changed.
 *  @return CS_OK; CS_EINVAL if the name or value breaks the limits;
 *  CS_ELIMIT if the write would take the record past CS_RECORD_FIELDS_MAX
 *  or CS_RECORD_BYTES_MAX. The record is unchanged on error. */
CS_NODISCARD int cs_record_set(cs_record_t *self, const char *name,
                               const cs_value_t *value, cs_stamp_t stamp,
                               uint64_t seq, bool *changed);

/** Make the record empty (no fields, no tombstone), keeping what it has
 *  allocated, for a caller that builds record after record. */
void cs_record_clear(cs_record_t *self);

/** Make room for @p fields fields and @p bytes bytes of names (with their
 *  NULs) and string/binary values, so that adding that much allocates
 *  nothing more. */
void cs_record_reserve(cs_record_t *self, size_t fields, size_t bytes);

/** Add field @p name (@p name_len bytes, NUL-free) after the last field:
 *  how a decoder builds a record from an encoding, which lists its fields
 *  in name order and none at or below the tombstone.
 *  @return CS_OK; CS_EINVAL if the name or value breaks the limits, the
 *  name does not sort after every field's, or @p stamp is buried by the
 *  tombstone; CS_ELIMIT as cs_record_set. The record is unchanged on
 *  error. */
CS_NODISCARD int cs_record_append(cs_record_t *self, const char *name,
                                  size_t name_len, const cs_value_t *value,
                                  cs_stamp_t stamp, uint64_t seq);

/** Delete the record with @p stamp: the tombstone moves up to @p stamp if
 *  that is larger, and fields at or below the tombstone are dropped.
 *  @return true if the state changed. */
bool cs_record_delete(cs_record_t *self, cs_stamp_t stamp, uint64_t seq);

/** Merge @p other into @p self (LWW per field, tombstone as above). Every
 *  part of @p self that changes gets @p seq. @p changed (may be NULL)
 *  receives the number of parts (fields + tombstone) that changed.
 *  @return CS_OK, or CS_ELIMIT if the result would exceed
 *  CS_RECORD_FIELDS_MAX or CS_RECORD_BYTES_MAX; then @p self is unchanged.
 *  (Two replicas that add different large fields at once can reach that;
 *  the caller decides what to do with such a delta.) */
CS_NODISCARD int cs_record_merge(cs_record_t *self, const cs_record_t *other,
                                 uint64_t seq, size_t *changed);

/** A new record holding the parts of @p self whose seq is larger than
 *  @p since, with their seqs. Empty if nothing changed since then. */
cs_record_t *cs_record_delta_since(const cs_record_t *self, uint64_t since);

/** Whether a part stored at local @p seq is to be left out of a delta. */
typedef bool(cs_record_seq_fn)(void *arg, uint64_t seq);

/** cs_record_delta_since without the parts for which @p skip (may be NULL:
 *  none) is true. */
cs_record_t *cs_record_delta_except(const cs_record_t *self, uint64_t since,
                                    cs_record_seq_fn *skip, void *arg);

/** Number of fields (all are visible: hidden ones are dropped). */
size_t cs_record_field_count(const cs_record_t *self);

/** Field number @p index in name order (bytewise); index < field_count. */
cs_field_t cs_record_field_at(const cs_record_t *self, size_t index);

/** Look up field @p name. @return CS_OK or CS_ENOENT. */
CS_NODISCARD int cs_record_get(const cs_record_t *self, const char *name,
                               cs_field_t *field);

/** True if the record has a tombstone; fills @p stamp and @p seq if given. */
bool cs_record_tombstone(const cs_record_t *self, cs_stamp_t *stamp,
                         uint64_t *seq);

/** True if the record has no visible field but a tombstone. */
bool cs_record_is_deleted(const cs_record_t *self);

/** True if the record has neither fields nor tombstone. */
bool cs_record_is_empty(const cs_record_t *self);

/** Bytes of field names and string/binary values, as CS_RECORD_BYTES_MAX
 *  counts them. */
size_t cs_record_bytes(const cs_record_t *self);

/** Largest seq among the fields and the tombstone (0 if empty): the
 *  record's position in the local change feed. */
uint64_t cs_record_max_seq(const cs_record_t *self);

/** Smallest local seq among the parts (fields and tombstone); UINT64_MAX
 *  for an empty record. */
uint64_t cs_record_min_seq(const cs_record_t *self);

/** Largest hlc among the fields and the tombstone (0 if empty). */
cs_hlc_t cs_record_max_hlc(const cs_record_t *self);

/** Set every seq in the record to @p seq. */
void cs_record_set_seq(cs_record_t *self, uint64_t seq);

/** True if both hold the same replicated state (seqs are ignored). */
bool cs_record_equal(const cs_record_t *a, const cs_record_t *b);

#endif /* CS_RECORD_H */
