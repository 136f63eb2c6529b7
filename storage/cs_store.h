/*  cs_store - a node's LMDB environment: records, change feed, peer cursors,
 *  metadata and digests. The only module that includes <lmdb.h>.
 *  SPDX-License-Identifier: MIT
 *
 *  Caveats first (they are LMDB's):
 *  - One cs_store_t per data directory per process, used by one thread at a
 *    time. Other processes may open the same directory at once: LMDB
 *    serialises writers across processes and readers never block.
 *  - Do not use a store after fork(); open it again in the child.
 *  - Durable by default: every write returns only after its transaction is
 *    committed and synced (LMDB's default flags: never its no-sync or
 *    write-map modes).
 *  - Scan and feed callbacks may read the store but must not write to it
 *    (a write could need to grow the map under the open read; asserted).
 *  - Every write to a store opened read-only fails with CS_EINVAL.
 *
 *  Sub-databases: "records" (collection \0 id -> stored record), "feed"
 *  (big-endian seq -> record key; each record once, at its latest seq),
 *  "peers" (big-endian peer id -> epoch, cursor, base; and peer id, epoch,
 *  first seq -> last seq: the runs of our seqs that came from that peer,
 *  see cs_store_changes_to), "meta" (node id, epoch, schema version, feed
 *  head, last HLC).
 *
 *  Every state change takes the next feed seq and moves the record to the
 *  head of the feed, in the same write transaction. Local writes are stamped
 *  by an HLC whose last value is kept in "meta", so timestamps increase
 *  across restarts and across processes writing the same store.
 *
 *  When the map fills up (MDB_MAP_FULL from a put or from the commit), the
 *  store doubles the map up to map_size_max and retries the whole
 *  transaction; past that, the write fails with CS_EFULL and nothing of it
 *  is stored.
 */
#ifndef CS_STORE_H
#define CS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"
#include "crdt/cs_hlc.h"
#include "crdt/cs_names.h"
#include "crdt/cs_record.h"
#include "crdt/cs_value.h"

#define CS_STORE_SCHEMA_VERSION      3u
#define CS_STORE_MAPSIZE_DEFAULT     (UINT64_C(1) << 30) /* 1 GiB */
#define CS_STORE_MAPSIZE_MAX_DEFAULT (UINT64_C(1) << 40) /* 1 TiB */
#define CS_STORE_DIGEST_BYTES        32u
#define CS_STORE_DIGEST_BUCKETS      256u

typedef struct cs_store cs_store_t; /* opaque */

/** Open options; zero means the default. */
typedef struct {
    bool read_only;        /* open read-only (no writes allowed) */
    uint64_t map_size;     /* initial map size, bytes */
    uint64_t map_size_max; /* the map never grows beyond this */
    uint64_t max_drift_ms; /* HLC drift bound for remote stamps */
    /* Wall clock in ms since the epoch; NULL = CLOCK_REALTIME. For tests. */
    uint64_t (*clock)(void *arg);
    void *clock_arg;
} cs_store_opts_t;

/** One field of a local write. */
typedef struct {
    const char *name; /* NUL-terminated field name */
    cs_value_t value; /* borrowed for the duration of the call */
} cs_store_field_t;

/** One remote delta to apply. */
typedef struct {
    const char *collection;    /* NUL-terminated */
    const char *id;            /* NUL-terminated */
    const cs_record_t *record; /* borrowed; its seqs are ignored */
    /* Optional (NULL, 0): the canonical encoding of @c record, as
     * cs_codec_encode_record gives it (cs_delta_t.canonical of a decoded
     * delta), or with names numbered by cs_store_number_names. A record
     * new to the store is then stored from these bytes, not copied and
     * encoded again. */
    const void *canonical;
    size_t canonical_len;
} cs_store_delta_t;

/** How far we have pulled from one peer. */
typedef struct {
    uint64_t epoch;  /* the peer's db epoch the cursor belongs to */
    uint64_t cursor; /* last peer feed seq we have applied */
    uint64_t base;   /* feed position where the current catch-up started
                        (<= cursor; 0 for a cursor stored before base) */
} cs_store_peer_t;

/** What an apply did. */
typedef struct {
    size_t records_changed; /* records whose state changed */
    size_t parts_changed;   /* fields + tombstones that changed */
    size_t skewed;          /* stamps beyond max drift (merged anyway) */
} cs_store_apply_stats_t;

/** Store-wide numbers. */
typedef struct {
    uint64_t node_id;   /* this node */
    uint64_t epoch;     /* random id of this environment */
    uint64_t feed_head; /* last feed seq issued */
    uint64_t records;   /* keys in "records", tombstoned ones included */
    uint64_t last_hlc;  /* last HLC issued or adopted */
    uint64_t map_size;  /* current map size, bytes */
} cs_store_info_t;

/** Called for each record by scans. Pointers are valid only during the
 *  call; the callback must not write to the store. Return true to go on,
 *  false to stop. */
typedef bool(cs_store_record_fn)(void *arg, const char *collection,
                                 const char *id, const cs_record_t *record);

/** Create a new store in directory @p dir (which must exist) for node
 *  @p node_id, with a fresh random epoch.
 *  @return CS_OK; CS_EEXIST if @p dir already holds a store; CS_EIO (also
 *  if @p dir does not exist). */
CS_NODISCARD int cs_store_create(const char *dir, uint64_t node_id);

/** Open the store in @p dir. Checks the schema version and clears stale
 *  reader slots left by dead processes. @p opts may be NULL.
 *  @return CS_OK; CS_ENOENT if there is no store; CS_ECORRUPT for a newer,
 *  older (development builds only; re-create the store, there is no
 *  migration) or unknown schema version or a damaged file; CS_EIO. */
CS_NODISCARD int cs_store_open(const char *dir, const cs_store_opts_t *opts,
                               cs_store_t **self_p);

/** Close and free *self_p, set it to NULL. Safe on NULL. */
void cs_store_destroy(cs_store_t **self_p);

/** This node's id, and the environment's epoch. */
uint64_t cs_store_node_id(const cs_store_t *self);
uint64_t cs_store_epoch(const cs_store_t *self);

/** Give the environment a new random epoch, stored at once, and return it
 *  in @p epoch. For a feed that went back in time (the store was restored
 *  from an older copy): peers then restart their cursors on us at 0, as
 *  for a wiped store, instead of skipping the seqs used again. Our own
 *  cursors on peers are forgotten in the same transaction, so we pull
 *  everything again too: what a peer left out for us as its echo
 *  (cs_store_changes_to) under the old epoch may be what the restore
 *  lost.
 *  @return CS_OK; an error of the write. */
CS_NODISCARD int cs_store_renew_epoch(cs_store_t *self, uint64_t *epoch);

/** Store-wide numbers, read in one transaction. */
CS_NODISCARD int cs_store_info(cs_store_t *self, cs_store_info_t *info);

/** Local write: set @p n fields of record (@p collection, @p id) in one
 *  transaction, all stamped with one new HLC from this node. Creates the
 *  record if needed; revives it if deleted. @p hlc_out (may be NULL)
 *  receives the stamp.
 *  @return CS_OK; CS_EINVAL for a bad collection, id, field or value, or n
 *  of 0; CS_ELIMIT if the record would exceed its limits; CS_EFULL; CS_EIO.
 *  On error nothing is written. */
CS_NODISCARD int cs_store_set(cs_store_t *self, const char *collection,
                              const char *id, const cs_store_field_t *fields,
                              size_t n, cs_hlc_t *hlc_out);

/** Local delete of record (@p collection, @p id): writes its tombstone.
 *  @return CS_OK; CS_ENOENT if the record has no visible field here (nothing
 *  is written); CS_EINVAL; CS_EFULL; CS_EIO. */
CS_NODISCARD int cs_store_delete(cs_store_t *self, const char *collection,
                                 const char *id, cs_hlc_t *hlc_out);

/** Read record (@p collection, @p id). *@p rec_out is a new record the
 *  caller owns; it may be deleted (see cs_record_is_deleted).
 *  @return CS_OK, CS_ENOENT, CS_EINVAL, CS_ECORRUPT or CS_EIO. */
CS_NODISCARD int cs_store_get(cs_store_t *self, const char *collection,
                              const char *id, cs_record_t **rec_out);

/** Call @p fn for each record of @p collection (NULL: every collection) in
 *  key order, deleted ones included, within one read transaction.
 *  @return CS_OK, CS_EINVAL, CS_ECORRUPT or CS_EIO. */
CS_NODISCARD int cs_store_scan(cs_store_t *self, const char *collection,
                               cs_store_record_fn *fn, void *arg);

/** Count the records of @p collection (NULL: all) that are not deleted.
 *  @return CS_OK, CS_EINVAL, CS_ECORRUPT or CS_EIO. */
CS_NODISCARD int cs_store_count(cs_store_t *self, const char *collection,
                                uint64_t *count);

/** Feed scan: call @p fn with the delta (the parts changed after @p base,
 *  tombstone included) of each record whose feed seq is larger than
 *  @p since (base <= since, asserted), in feed order,
 *  until the deltas' canonical encodings add up to @p max_bytes: the record
 *  that reaches the cap is still given, so a batch may pass it by one
 *  record, and at least one record is always given, so a large record
 *  cannot stall a peer. With @p max_bytes SIZE_MAX there is no cap (and no
 *  deltas are encoded to be counted): @p fn ends the batch by returning
 *  false, as the sync server does with its own count of frame bytes.
 *  *@p last_seq receives the feed seq covered: the seq of the last record
 *  given, or the feed head if the scan reached the end. *@p head receives
 *  the feed head. Each record appears once, at its latest seq: a record
 *  changed at seq 5 and again at seq 100 is not in a batch that covers
 *  (0, 50], so a catch-up of several batches passes its start as @p base
 *  to every batch, and the later batch still carries the field of seq 5.
 *  @return CS_OK, CS_ECORRUPT or CS_EIO. */
CS_NODISCARD int cs_store_changes(cs_store_t *self, uint64_t base,
                                  uint64_t since, size_t max_bytes,
                                  cs_store_record_fn *fn, void *arg,
                                  uint64_t *last_seq, uint64_t *head);

/** The peer a feed scan is for (cs_store_changes_to). */
typedef struct {
    uint64_t peer_id; /* its node id */
    uint64_t epoch;   /* its db epoch now */
} cs_store_puller_t;

/** How much leaving records out may cost cs_store_changes_to in one call
 *  before the scan ends there, as at a full batch: a record left out
 *  unread (all its parts after base are the puller's) counts 1, one read
 *  and then left out counts CS_STORE_SKIP_READ. */
#define CS_STORE_SKIP_MAX  65536u
#define CS_STORE_SKIP_READ 16u

/** Runs of seqs from one peer remembered by cs_store_apply: each apply
 *  from a peer adds one, or extends the last if no other change came in
 *  between. */
#define CS_STORE_ORIGIN_RUNS 1024u

/** Called by cs_store_changes_to with each delta: the canonical encoding
 *  (cs_codec_encode_record) of the record of the parts to send, @p len
 *  bytes at @p canonical, valid during the call only. The callback must
 *  not write to the store. Return true to go on, false to stop. */
typedef bool(cs_store_canonical_fn)(void *arg, const char *collection,
                                    const char *id, const void *canonical,
                                    size_t len);

/** cs_store_changes for the peer @p to (NULL: for no one), giving each
 *  delta encoded (a record whose parts share one seq is converted from its
 *  stored bytes without being decoded: its content is not checked again,
 *  only its shape), less
 *  its own echo: a part whose value this store took from that peer's feed
 *  of that epoch (cs_store_apply with that peer and epoch, and nothing
 *  changed it since) is left out, as the peer has it or a newer one, and a
 *  record left with no part is not given. A batch that left out
 *  CS_STORE_SKIP_MAX worth of records ends there, so a scan of a long
 *  echo stays short. */
CS_NODISCARD int cs_store_changes_to(cs_store_t *self,
                                     const cs_store_puller_t *to, uint64_t base,
                                     uint64_t since, size_t max_bytes,
                                     cs_store_canonical_fn *fn, void *arg,
                                     uint64_t *last_seq, uint64_t *head);

/** Apply @p n remote deltas and set the cursor of peer @p peer_id to
 *  @p cursor (NULL: leave the cursor alone), all in one transaction:
 *  either all of it is stored or none.
 *  Each changed record takes a new feed seq. With a @p cursor, the seqs
 *  taken are remembered as coming from that peer's feed of epoch
 *  cursor->epoch (for cs_store_changes_to; the latest
 *  CS_STORE_ORIGIN_RUNS runs of seqs per peer, older epochs forgotten). Stamps
 * more than max drift ahead of the wall clock are merged but do not move the
 * local HLC; they are counted in @p stats (may be NULL).
 *  @return CS_OK; CS_EINVAL for a bad key in a delta; CS_ELIMIT; CS_EFULL;
 *  CS_EIO. */
CS_NODISCARD int cs_store_apply(cs_store_t *self,
                                const cs_store_delta_t *deltas, size_t n,
                                uint64_t peer_id, const cs_store_peer_t *cursor,
                                cs_store_apply_stats_t *stats);

/** What an import did to the records it touched. Each distinct key of the
 *  batch counts in exactly one of the four records_* counters, by its state
 *  after the whole batch compared with its state before. */
typedef struct {
    size_t records_new;       /* keys that had no record before (also when
                                 the batch gives them only a tombstone) */
    size_t records_updated;   /* existing records whose state changed and
                                 that are not records_deleted */
    size_t records_unchanged; /* keys whose state the batch did not change */
    size_t records_deleted;   /* records that had visible fields and now
                                 have none (tombstone took effect) */
    size_t skewed;            /* deltas stamped beyond max drift (merged
                                 anyway); counted per delta, as by apply */
} cs_store_import_stats_t;

/** Largest import checkpoint, in bytes. */
#define CS_STORE_CHECKPOINT_MAX 4096u

/** Bulk import (crmsync seed): merge @p n deltas as cs_store_apply does
 *  (stamps as given, local HLC advanced but never past max drift), count
 *  in @p stats (may be NULL) what happened to each record, and store the
 *  opaque @p checkpoint (at most CS_STORE_CHECKPOINT_MAX bytes; NULL to
 *  leave it) under @p name, all in one transaction. The deltas need not be
 *  sorted: they are written in key order. Several deltas for one key are
 *  merged in turn and count once in @p stats.
 *  Each changed record takes one new feed seq, in key order (apply, by
 *  contrast, gives a seq to each changed delta, in batch order).
 *  @p name is 1 to 200 bytes; it may be NULL when @p checkpoint is NULL.
 *  A non-NULL @p checkpoint with @p checkpoint_len 0 stores an empty
 *  checkpoint; a NULL one needs @p checkpoint_len 0 (asserted).
 *  The checkpoint commits with the data: after a crash, the stored
 *  checkpoint is the one given with the last batch that was stored.
 *  Memory: up to two pointers per delta (one to sort), besides LMDB's
 *  dirty pages (about the encoded size of the batch).
 *  @return CS_OK; CS_EINVAL for a bad key, name or checkpoint size, or a
 *  read-only store; CS_ELIMIT; CS_EFULL; CS_ECORRUPT; CS_EIO. On error
 *  nothing is stored, neither records nor checkpoint. */
CS_NODISCARD int cs_store_import(cs_store_t *self,
                                 const cs_store_delta_t *deltas, size_t n,
                                 const char *name, const void *checkpoint,
                                 size_t checkpoint_len,
                                 cs_store_import_stats_t *stats);

/** Whether the record stored under (@p collection, @p id) is exactly the
 *  one whose canonical form is @p canonical (@p len bytes; names may be
 *  numbered by cs_store_number_names), written in one
 *  go (see cs_codec_stored_matches): *@p same. Reads without decoding, so
 *  a re-seeded row that changes nothing costs a lookup and a compare.
 *  @return CS_OK; CS_ENOENT if nothing is stored there; CS_EINVAL for a
 *  bad key; CS_EIO. */
CS_NODISCARD int cs_store_matches(cs_store_t *self, const char *collection,
                                  const char *id, const void *canonical,
                                  size_t len, bool *same);

/** Give field names numbers in the store's dictionary (cs_names): those
 *  without one get the next, saved in one write; *@p numbers (one per
 *  name) receives each one's number, or CS_NAMES_NONE where the dictionary
 *  is full. A bulk load then writes its records with those numbers
 *  (cs_codec_fields_new), smaller to carry about and cheaper to store, and
 *  gives them to cs_store_import, cs_store_append_new and
 *  cs_store_matches as canonical bytes. Numbers never change.
 *  @return CS_OK; CS_EINVAL for an invalid name or a read-only store;
 *  CS_EFULL; CS_EIO. */
CS_NODISCARD int cs_store_number_names(cs_store_t *self,
                                       const char *const *names, size_t n,
                                       uint32_t *numbers);

/** The store's field-name dictionary as the last transaction saw it: to
 *  decode records with numbered names (cs_codec_decode_numbered). Valid,
 *  in the store's thread, until its next call. */
const cs_names_t *cs_store_names(const cs_store_t *self);

/** A record new to the store, for cs_store_append_new. */
typedef struct {
    const char *id;        /* NUL-terminated */
    const void *canonical; /* cs_codec_encode_record(.., CANONICAL, ..),
                              names maybe numbered (cs_store_number_names) */
    size_t len;            /* bytes at canonical */
    cs_hlc_t max_hlc;      /* cs_record_max_hlc of the record */
} cs_store_new_t;

/** Bulk load of new records in key order: store the @p n records @p items
 *  of @p collection, whose ids strictly increase and all sort after every
 *  key stored, with @p checkpoint as cs_store_import does, in one
 *  transaction. What cs_store_import would do with such a batch (each a
 *  new record, one feed seq each, the clock taking in each max_hlc), but
 *  with no lookup and no merge: the stored form is derived from the
 *  canonical bytes and appended (MDB_APPEND). stats->records_new = @p n.
 *  @return CS_OK; CS_EINVAL for a bad collection or id, ids not rising,
 *  an id not past the last key stored (use cs_store_import then), bad
 *  canonical bytes, or a read-only store; CS_EFULL; CS_ECORRUPT; CS_EIO.
 *  On error nothing is stored. */
CS_NODISCARD int cs_store_append_new(cs_store_t *self, const char *collection,
                                     const cs_store_new_t *items, size_t n,
                                     const char *name, const void *checkpoint,
                                     size_t checkpoint_len,
                                     cs_store_import_stats_t *stats);

/** Read the checkpoint stored under @p name into @p buf (@p cap bytes);
 *  *@p len receives its size, also with CS_ELIMIT (then @p buf is left as
 *  it is), and 0 on other errors. @p buf may be NULL if @p cap is 0.
 *  @return CS_OK; CS_EINVAL for a bad name; CS_ENOENT if there is none;
 *  CS_ELIMIT if @p cap is too small; CS_ECORRUPT; CS_EIO. */
CS_NODISCARD int cs_store_checkpoint_get(cs_store_t *self, const char *name,
                                         void *buf, size_t cap, size_t *len);

/** Remove the checkpoint stored under @p name (no error if absent).
 *  @return CS_OK; CS_EINVAL for a bad name or a read-only store; CS_EFULL;
 *  CS_EIO. */
CS_NODISCARD int cs_store_checkpoint_clear(cs_store_t *self, const char *name);

/** Read the cursor of peer @p peer_id. @return CS_OK or CS_ENOENT. */
CS_NODISCARD int cs_store_peer_get(cs_store_t *self, uint64_t peer_id,
                                   cs_store_peer_t *peer);

/** Store digest: BLAKE2b-256 over the canonical encoding of every record,
 *  keys included. Records fall into CS_STORE_DIGEST_BUCKETS buckets by the
 *  first byte of BLAKE2b(key); each bucket digest hashes its records in key
 *  order, and the store digest hashes the bucket digests in order. Two
 *  stores holding the same replicated state have equal digests whatever
 *  their local seqs. @p buckets may be NULL.
 *  @return CS_OK, CS_ECORRUPT or CS_EIO. */
CS_NODISCARD int cs_store_digest(cs_store_t *self,
                                 uint8_t digest[CS_STORE_DIGEST_BYTES],
                                 uint8_t (*buckets)[CS_STORE_DIGEST_BYTES]);

#endif /* CS_STORE_H */
