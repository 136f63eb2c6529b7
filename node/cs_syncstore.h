/*  cs_syncstore - the narrow interface through which the sync state
 *  machine (net/cs_sync) reaches a node's store (storage/cs_store): the
 *  head, cursor, changes and apply operations of cs_sync_ops_t.
 *  SPDX-License-Identifier: MIT
 *
 *  - changes: cs_store_changes, each delta encoded with
 *    cs_codec_encode_delta into a buffer the syncstore owns; valid until
 *    the next call.
 *  - apply: every delta decoded (cs_codec_decode_delta; one bad delta
 *    refuses the whole batch with CS_EPROTO), then cs_store_apply with the
 *    cursor, in one transaction. If the batch fails with CS_ELIMIT (a
 *    merge would pass a record limit: possible when two sites' edits of
 *    one record add up), the deltas are applied one by one, those over the
 *    limit are skipped and counted in refused, and the cursor is then
 *    committed on its own: a crash in between only makes the batch be
 *    pulled and merged again, which changes nothing (merge is idempotent).
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

/** Fill the store operations of @p ops (arg, head, cursor, changes,
 *  apply); the caller sets send. */
void cs_syncstore_ops(cs_syncstore_t *self, cs_sync_ops_t *ops);

#endif /* CS_SYNCSTORE_H */
