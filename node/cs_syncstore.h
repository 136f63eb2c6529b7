/*  cs_syncstore - the narrow interface through which the sync state
 *  machine (net/cs_sync) reaches a node's store (storage/cs_store): the
 *  head, cursor, changes and apply operations of cs_sync_ops_t.
 *  SPDX-License-Identifier: MIT
 *
 *  - head: cs_store_info. cursor: cs_store_peer_get (none: 0, 0, 0).
 *  - changes: cs_store_changes_to picks the records (those whose feed seq
 *    is past since) and gives each one's delta, the parts changed after
 *    base (the start of the puller's catch-up, see cs_sync.h) less those
 *    the puller gave us itself (its echo), canonically encoded; it becomes
 *    a delta (cs_codec_encode_delta_canonical) in a buffer the syncstore
 *    owns, valid until the next call. The batch ends where the encoded
 *    deltas (with their msgpack bin headers) reach max_bytes, or at
 *    CS_MSG_DELTAS_MAX deltas, so that long keys on small records cannot
 *    make a frame pass CS_MSG_MAX. That count is the only cap: the store
 *    is asked for none of its own (SIZE_MAX).
 *  - apply: every delta decoded (cs_codec_decode_delta; one bad delta
 *    refuses the whole batch with CS_EPROTO), then cs_store_apply with the
 *    next cursor (epoch, seq, base), in one transaction. If the batch
 *    fails with CS_ELIMIT (a merge would pass a record limit: possible
 *    when two sites' edits of one record add up), the deltas are applied
 *    one by one, those over the limit are skipped and counted in refused,
 *    and the cursor is then committed on its own: a crash in between only
 *    makes the batch be pulled and merged again, which changes nothing
 *    (merge is idempotent).
 */
#ifndef CS_SYNCSTORE_H
#define CS_SYNCSTORE_H

#include "crdt/cs_err.h"
#include "net/cs_sync.h"
#include "storage/cs_store.h"

typedef struct cs_syncstore cs_syncstore_t; /* opaque */

/** A syncstore over @p store (borrowed: it must outlive the syncstore).
 *  Never returns NULL: out of memory aborts. */
cs_syncstore_t *cs_syncstore_new(cs_store_t *store);

/** Free *self_p and set it to NULL. Safe on NULL. */
void cs_syncstore_destroy(cs_syncstore_t **self_p);

/** The send of a cs_sync_ops_t, with its own argument. */
typedef int(cs_syncstore_send_fn)(void *arg, uint64_t peer,
                                  const cs_msg_t *msg);

/** Fill all of @p ops: arg (this syncstore), head, cursor, changes and
 *  apply reach the store, and send calls @p send with @p send_arg (the
 *  transport). Since ops->arg is the syncstore, a send set by the caller
 *  could not find its transport; hence the pair here. */
void cs_syncstore_ops(cs_syncstore_t *self, cs_syncstore_send_fn *send,
                      void *send_arg, cs_sync_ops_t *ops);

#endif /* CS_SYNCSTORE_H */
