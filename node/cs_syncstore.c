/*  cs_syncstore - the store operations of the sync state machine.
 *  SPDX-License-Identifier: MIT
 *
 *  The buffers of a batch (served or applied) are kept and reused, so they
 *  grow to the largest batch seen and no further: a batch is bounded by
 *  CS_MSG_MAX bytes on the wire.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "node/cs_syncstore.h"

/* The most bytes msgpack puts before a bin's data (bin 32). */
#define S_BIN_HEADER_MAX 5u

struct cs_syncstore {
    cs_store_t *store;          /* borrowed */
    cs_syncstore_send_fn *send; /* the transport's send */
    void *send_arg;             /* its argument */
    /* changes: the batch served last */
    cs_buf_t out;          /* the encoded deltas, back to back */
    size_t *ends;          /* where each delta ends in out */
    cs_msg_bytes_t *table; /* the deltas as handed out */
    size_t n_out;          /* deltas in the batch */
    size_t cap_out;        /* slots in ends and table */
    size_t max_bytes;      /* the cap of the batch being built */
    size_t frame_bytes;    /* its deltas' bytes on the wire so far */
    int out_rc;            /* an error from inside the feed scan */
    /* apply: the batch being merged */
    cs_buf_t names;           /* collection \0 id \0 of each delta */
    size_t *name_offs;        /* where each delta's collection starts */
    cs_record_t **records;    /* decoded records, owned; NULL until a
                                 batch needs the slot, then reused by
                                 every later batch (no malloc per record) */
    cs_store_delta_t *deltas; /* what cs_store_apply gets */
    size_t cap_in;            /* slots in the three above */
};

/* ---------------- constructor, destructor ---------------- */

cs_syncstore_t *
cs_syncstore_new(cs_store_t *store)
{
    assert(store);
    cs_syncstore_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    self->store = store;
    cs_buf_init(&self->out);
    cs_buf_init(&self->names);
    return self;
}

void
cs_syncstore_destroy(cs_syncstore_t **self_p)
{
    assert(self_p);
    cs_syncstore_t *self = *self_p;
    if (self) {
        cs_buf_fini(&self->out);
        free(self->ends);
        free(self->table);
        cs_buf_fini(&self->names);
        free(self->name_offs);
        for (size_t i = 0; i < self->cap_in; i++) {
            cs_record_destroy(&self->records[i]);
        }
        free(self->records);
        free(self->deltas);
        free(self);
        *self_p = NULL;
    }
}

/* ---------------- helpers ---------------- */

/*  Grow *@p array to @p cap items of @p size bytes; out of memory aborts. */
static void *
s_grow(void *array, size_t cap, size_t size)
{
    void *grown = realloc(array, cap * size);
    if (!grown) {
        abort();
    }
    return grown;
}

/* ---------------- operations ---------------- */

static int
s_head(void *arg, uint64_t *epoch, uint64_t *head)
{
    cs_syncstore_t *self = arg;
    cs_store_info_t info;
    int rc = cs_store_info(self->store, &info);
    if (rc == CS_OK) {
        *epoch = info.epoch;
        *head = info.feed_head;
    }
    return rc;
}

static int
s_cursor(void *arg, uint64_t peer, cs_sync_cursor_t *out)
{
    cs_syncstore_t *self = arg;
    assert(out);
    cs_store_peer_t cursor = { 0, 0, 0 };
    int rc = cs_store_peer_get(self->store, peer, &cursor);
    if (rc == CS_ENOENT) {
        memset(&cursor, 0, sizeof cursor);
        rc = CS_OK;
    }
    memset(out, 0, sizeof *out);
    if (rc == CS_OK) {
        out->epoch = cursor.epoch;
        out->base = cursor.base <= cursor.cursor ? cursor.base : 0;
        out->seq = cursor.cursor;
    }
    return rc;
}

/*  Feed scan callback: one record's delta (the parts changed after the
 *  pull's base, canonically encoded) into the batch. */
static bool
s_changes_add(void *arg, const char *collection, const char *id,
              const void *canonical, size_t len)
{
    cs_syncstore_t *self = arg;
    if (self->n_out == self->cap_out) {
        size_t cap = self->cap_out ? 2 * self->cap_out : 64;
        self->ends = s_grow(self->ends, cap, sizeof *self->ends);
        self->table = s_grow(self->table, cap, sizeof *self->table);
        self->cap_out = cap;
    }
    size_t start = self->out.len;
    int rc = cs_codec_encode_delta_canonical(collection, id, canonical, len,
                                             &self->out);
    if (rc != CS_OK) {
        self->out_rc = CS_ECORRUPT; /* a stored key that is not valid */
        return false;
    }
    self->ends[self->n_out++] = self->out.len;
    self->frame_bytes += self->out.len - start + S_BIN_HEADER_MAX;
    return self->frame_bytes < self->max_bytes &&
           self->n_out < CS_MSG_DELTAS_MAX;
}

static int
s_changes(void *arg, uint64_t peer, uint64_t peer_epoch, uint64_t base,
          uint64_t since, uint32_t max_bytes, cs_msg_t *out)
{
    cs_syncstore_t *self = arg;
    assert(out);
    cs_buf_reset(&self->out);
    self->n_out = 0;
    self->max_bytes = max_bytes;
    self->frame_bytes = 0;
    self->out_rc = CS_OK;
    uint64_t last_seq = 0, head = 0;
    /* s_changes_add counts the frame's bytes and ends the batch: the
     * store need not encode each delta once more to count them */
    const cs_store_puller_t to = { .peer_id = peer, .epoch = peer_epoch };
    int rc = cs_store_changes_to(self->store, &to, base, since, SIZE_MAX,
                                 s_changes_add, self, &last_seq, &head);
    if (rc == CS_OK) {
        rc = self->out_rc;
    }
    if (rc != CS_OK) {
        return rc;
    }
    /* out.data is where it will stay now that the batch is complete */
    size_t start = 0;
    for (size_t i = 0; i < self->n_out; i++) {
        self->table[i].data = self->out.data + start;
        self->table[i].len = self->ends[i] - start;
        start = self->ends[i];
    }
    memset(out, 0, sizeof *out);
    out->type = CS_MSG_CHANGES;
    out->epoch = cs_store_epoch(self->store);
    out->base = base;
    out->since = since;
    out->last_seq = last_seq;
    out->head = head;
    out->n_deltas = self->n_out;
    out->deltas = self->n_out ? self->table : NULL;
    return CS_OK;
}

/*  Decode the @p n deltas of @p changes into self->deltas, their records
 *  into the records of earlier batches. @return CS_OK or CS_EPROTO. */
static int
s_decode(cs_syncstore_t *self, const cs_msg_t *changes)
{
    size_t n = changes->n_deltas;
    if (n > self->cap_in) {
        self->name_offs = s_grow(self->name_offs, n, sizeof *self->name_offs);
        self->records = s_grow(self->records, n, sizeof *self->records);
        self->deltas = s_grow(self->deltas, n, sizeof *self->deltas);
        memset(self->records + self->cap_in, 0,
               (n - self->cap_in) * sizeof *self->records);
        self->cap_in = n;
    }
    cs_buf_reset(&self->names);
    for (size_t i = 0; i < n; i++) {
        if (!self->records[i]) {
            self->records[i] = cs_record_new();
        }
        cs_delta_t delta;
        const cs_msg_bytes_t *bytes = &changes->deltas[i];
        if (cs_codec_decode_delta_in(bytes->data, bytes->len, self->records[i],
                                     &delta) != CS_OK) {
            return CS_EPROTO;
        }
        /* they point into the frame, which outlives the apply */
        self->deltas[i].canonical = delta.canonical;
        self->deltas[i].canonical_len = delta.canonical_len;
        self->name_offs[i] = self->names.len;
        cs_buf_append(&self->names, delta.collection,
                      strlen(delta.collection) + 1);
        cs_buf_append(&self->names, delta.id, strlen(delta.id) + 1);
    }
    /* names.data stays put from here on */
    for (size_t i = 0; i < n; i++) {
        const char *collection =
            (const char *) self->names.data + self->name_offs[i];
        self->deltas[i].collection = collection;
        self->deltas[i].id = collection + strlen(collection) + 1;
        self->deltas[i].record = self->records[i];
    }
    return CS_OK;
}

/*  The batch hit a record limit: merge the deltas one by one, skipping
 *  those over it, then commit the cursor on its own. */
static int
s_apply_each(cs_syncstore_t *self, uint64_t peer, size_t n,
             const cs_store_peer_t *cursor, cs_sync_applied_t *res)
{
    for (size_t i = 0; i < n; i++) {
        cs_store_apply_stats_t stats;
        int rc = cs_store_apply(self->store, &self->deltas[i], 1, peer, NULL,
                                &stats);
        if (rc == CS_ELIMIT) {
            res->refused++;
            continue;
        }
        if (rc != CS_OK) {
            return rc;
        }
        res->records_changed += stats.records_changed;
        res->skewed += stats.skewed;
    }
    return cs_store_apply(self->store, NULL, 0, peer, cursor, NULL);
}

static int
s_apply(void *arg, uint64_t peer, const cs_msg_t *changes,
        cs_sync_cursor_t next, cs_sync_applied_t *res)
{
    cs_syncstore_t *self = arg;
    assert(changes);
    assert(changes->type == CS_MSG_CHANGES);
    assert(changes->deltas || changes->n_deltas == 0);
    assert(res);
    memset(res, 0, sizeof *res);
    size_t n = changes->n_deltas;
    int rc = s_decode(self, changes);
    if (rc != CS_OK) {
        return rc;
    }
    cs_store_peer_t cursor = { .epoch = next.epoch,
                               .cursor = next.seq,
                               .base = next.base };
    cs_store_apply_stats_t stats;
    rc = cs_store_apply(self->store, self->deltas, n, peer, &cursor, &stats);
    if (rc == CS_OK) {
        res->records_changed = stats.records_changed;
        res->skewed = stats.skewed;
    } else if (rc == CS_ELIMIT) {
        rc = s_apply_each(self, peer, n, &cursor, res);
    }
    if (rc == CS_EINVAL) {
        rc = CS_EPROTO; /* a key the decoder let through, refused by the
                           store: the peer's data all the same */
    }
    if (rc == CS_OK) {
        res->deltas = n;
    } else {
        memset(res, 0, sizeof *res);
    }
    return rc;
}

static int
s_renew_epoch(void *arg, uint64_t *epoch)
{
    cs_syncstore_t *self = arg;
    int rc = cs_store_renew_epoch(self->store, epoch);
    if (rc == CS_OK) {
        zsys_warning("a peer has applied our change feed past its head: "
                     "this store was restored from an older copy; new epoch "
                     "%016" PRIx64 ", so every peer pulls it all again",
                     *epoch);
    }
    return rc;
}

/*  The send of cs_sync_ops_t: ops->arg is the syncstore. */
static int
s_send(void *arg, uint64_t peer, const cs_msg_t *msg)
{
    cs_syncstore_t *self = arg;
    return self->send(self->send_arg, peer, msg);
}

void
cs_syncstore_ops(cs_syncstore_t *self, cs_syncstore_send_fn *send,
                 void *send_arg, cs_sync_ops_t *ops)
{
    assert(self);
    assert(send);
    assert(ops);
    self->send = send;
    self->send_arg = send_arg;
    memset(ops, 0, sizeof *ops);
    ops->arg = self;
    ops->head = s_head;
    ops->cursor = s_cursor;
    ops->changes = s_changes;
    ops->apply = s_apply;
    ops->renew_epoch = s_renew_epoch;
    ops->send = s_send;
}
