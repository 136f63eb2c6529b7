/*  cs_datadir - a node's data directory: its CURVE identity (net/cs_keys)
 *  and its store (storage/cs_store), made together and opened together.
 *  SPDX-License-Identifier: MIT
 */
#ifndef CS_DATADIR_H
#define CS_DATADIR_H

#include <stdint.h>

#include "crdt/cs_err.h"
#include "storage/cs_store.h"

/** Initialise @p dir: create it (mode 0700) if missing, make the node's
 *  keypair, derive its node id and create the store. @p node_id (may be
 *  NULL) receives the id.
 *  @return CS_OK; CS_EEXIST if @p dir already holds a node; CS_EINVAL if
 *  @p dir is a file; CS_EIO (detail on stderr). */
CS_NODISCARD int cs_datadir_init(const char *dir, uint64_t *node_id);

/** Give the node whose key pair is in @p dir a new, empty store with a
 *  fresh epoch: for a disk replaced or wiped, keys restored. Its peers see
 *  the new epoch and send it everything again.
 *  @return CS_OK; CS_ENOENT if @p dir has no key pair; CS_EAUTH if it is
 *  unusable; CS_EEXIST if @p dir already has a store; CS_EIO. */
CS_NODISCARD int cs_datadir_renew(const char *dir, uint64_t *node_id);

/** The name of the feed mark in a data directory: the highest feed head
 *  (and its epoch) that the directory's store is known to have committed,
 *  as text "EPOCH_HEX HEAD". */
#define CS_DATADIR_MARK_FILE "feed.mark"

/** Open the store of the node in @p dir, checking that it belongs to the
 *  keypair there. @p opts may be NULL.
 *
 *  Opened for writing, the store is also checked against the feed mark: a
 *  store of the mark's epoch whose feed head is below the mark went back
 *  in time (data.mdb restored from an older copy), and would use feed seqs
 *  again that its peers have already applied, so they would skip the
 *  changes given those seqs. Such a store gets a new epoch
 *  (cs_store_renew_epoch, with a notice on stderr): its peers pull it all
 *  again, as from a wiped store, and it pulls all of theirs (its cursors
 *  go with the old epoch). Then the mark is brought up to date.
 *  @return CS_OK; CS_ENOENT if @p dir is not an initialised data directory;
 *  CS_ECORRUPT if it has keys but no store; CS_EAUTH if keys and store
 *  disagree or the secret key is unusable; CS_EIO if the mark cannot be
 *  written; any code of cs_store_open. */
CS_NODISCARD int cs_datadir_open(const char *dir, const cs_store_opts_t *opts,
                                 cs_store_t **store);

/** Bring the feed mark of @p dir up to @p epoch and @p head, read from its
 *  store after a commit (the node does so as its feed moves). Replaced
 *  atomically, not synced: a mark lost in a crash is only lower, which
 *  makes the check of cs_datadir_open weaker, never wrong.
 *  @return CS_OK; CS_EIO (detail on stderr). */
CS_NODISCARD int cs_datadir_mark(const char *dir, uint64_t epoch,
                                 uint64_t head);

#endif /* CS_DATADIR_H */
