/*  cs_spill - an external sort: sorted runs of (key, payload) items in an
 *  unlinked temporary file, read back merged in key order.
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. The seed uses it to write a collection in
 *  key order whatever the order of the input: LMDB then appends to the
 *  last page of its tree (MDB_APPEND) instead of rewriting a random page
 *  for every record, which wrote about 4 KB per row and made the store
 *  twice its size.
 *
 *  Write: cs_spill_add items in key order (bytewise, shorter first, as
 *  LMDB orders keys), cs_spill_end_run after each run. Read:
 *  cs_spill_merge, then cs_spill_next until CS_ENOENT: every item once, in
 *  key order; equal keys come in run order, and in the order they were
 *  added within a run. Memory: one write buffer, then one read buffer per
 *  run (grown only for an item larger than it), 32 MiB in all however many
 *  runs there are (64 KiB each at most, 1 KiB at least). The merge frees
 *  the file's pages as it reads them (where the file system can punch
 *  holes), so the page cache it held is there for the caller's writes,
 *  and disk space returns as the merge goes. The file is unlinked from the
 *  start (O_TMPFILE where the file system has it), so nothing is left
 *  behind by a crash. Not thread-safe; one owner at a time.
 */
#ifndef CS_SPILL_H
#define CS_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"

typedef struct cs_spill cs_spill_t; /* opaque */

/** Largest key and payload of an item, in bytes. */
#define CS_SPILL_KEY_MAX  65535u
#define CS_SPILL_DATA_MAX (64u * 1024 * 1024)

/** An item read back; its bytes stay valid until the next cs_spill_next. */
typedef struct {
    const char *key;  /* not NUL-terminated */
    size_t key_len;   /* bytes */
    const void *data; /* the payload */
    size_t data_len;  /* bytes */
    size_t run;       /* which run it came from, from 0 */
} cs_spill_item_t;

/** The order items come back in: bytewise, a key that is a prefix of
 *  another first (LMDB's default key order). <0, 0, >0. */
int cs_spill_key_compare(const char *a, size_t a_len, const char *b,
                         size_t b_len);

/** A new spill whose file lives (unnamed) in directory @p dir.
 *  @return CS_OK or CS_EIO (the message is on stderr). */
CS_NODISCARD int cs_spill_new(const char *dir, cs_spill_t **self_p);

/** Close and free *self_p; set it to NULL. Safe on NULL. */
void cs_spill_destroy(cs_spill_t **self_p);

/** Add an item to the current run. Its key must not sort before the
 *  previous item's in this run (checked by assert).
 *  @return CS_OK, CS_EINVAL (key or payload too large), CS_EIO. */
CS_NODISCARD int cs_spill_add(cs_spill_t *self, const char *key, size_t key_len,
                              const void *data, size_t data_len);

/** cs_spill_add of the payload @p head then @p body (@p head_len +
 *  @p body_len bytes), given in two parts so that the caller need not
 *  copy them together first. */
CS_NODISCARD int cs_spill_add_parts(cs_spill_t *self, const char *key,
                                    size_t key_len, const void *head,
                                    size_t head_len, const void *body,
                                    size_t body_len);

/** End the current run (an empty run is skipped). @return CS_OK, CS_EIO. */
CS_NODISCARD int cs_spill_end_run(cs_spill_t *self);

/** Items added so far, in all runs. */
uint64_t cs_spill_count(const cs_spill_t *self);

/** Bytes of storage the file holds now (its allocated blocks). */
uint64_t cs_spill_held(const cs_spill_t *self);

/** Start reading back (ends the current run). No more adds after it.
 *  @return CS_OK, CS_EIO. */
CS_NODISCARD int cs_spill_merge(cs_spill_t *self);

/** The next item in key order. @return CS_OK, CS_ENOENT after the last,
 *  CS_EIO (read error), CS_ECORRUPT (the file does not hold what was
 *  written). */
CS_NODISCARD int cs_spill_next(cs_spill_t *self, cs_spill_item_t *item);

#endif /* CS_SPILL_H */
