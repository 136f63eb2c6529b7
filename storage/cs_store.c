/*  cs_store - a node's LMDB environment: records, change feed, peer cursors,
 *  metadata and digests.
 *  SPDX-License-Identifier: MIT
 *
 *  On-disk layout (schema version 3), all integers big-endian:
 *  - "records": collection \0 id -> cs_codec CS_CODEC_STORED record, its
 *               field names numbered by "names".
 *  - "names":   u32 number -> field name: the dictionary of cs_names,
 *               numbers from 0 without gaps, only ever appended to.
 *  - "feed":    u64 seq -> record key. Each record once, at its largest seq
 *               (cs_record_max_seq), so the feed is as long as "records".
 *  - "peers":   u64 peer id -> u64 epoch, u64 cursor, u64 base. Readers
 *               accept a longer value and ignore the rest, so fields can be
 *               appended; a 16-byte value (before base) reads as base 0,
 *               which asks for whole records: safe.
 *  - "meta":    "node_id", "epoch", "schema_version", "feed_head",
 *               "last_hlc" -> u64 each; "ckpt:" name -> an import
 *               checkpoint, opaque, 0 to CS_STORE_CHECKPOINT_MAX bytes
 *               (so a walk over "meta" must not expect u64 values only).
 *
 *  Version 1, written by development builds only, stored a stamp with
 *  every field (version 2: a record-level default stamp); version 2 spelt
 *  out every field name in every record (version 3: "names"). There was no
 *  release with either, so there is no migration: such a store is refused
 *  and must be re-created.
 *
 *  Every transaction begins by loading the names other processes saved
 *  since (s_names_load); a write saves the names it numbered with its
 *  records, and forgets them if it does not commit (s_write).
 *
 *  Every write goes through s_write, which runs a callback inside one write
 *  transaction and, when the map fills up (from a put or from the commit),
 *  grows the map and runs the callback again from the start. Callbacks
 *  therefore keep their results in their context and the public functions
 *  copy them out only after the commit.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "crdt/cs_codec.h"
#include "storage/cs_store.h"

#define S_DB_RECORDS "records"
#define S_DB_FEED    "feed"
#define S_DB_PEERS   "peers"
#define S_DB_META    "meta"
#define S_DB_NAMES   "names"

#define S_META_NODE_ID   "node_id"
#define S_META_EPOCH     "epoch"
#define S_META_SCHEMA    "schema_version"
#define S_META_FEED_HEAD "feed_head"
#define S_META_LAST_HLC  "last_hlc"
#define S_META_CKPT      "ckpt:" /* + name: an import checkpoint */

/* Largest record key: collection \0 id. Well under LMDB's 511 bytes. */
#define S_KEY_MAX        (CS_COLLECTION_MAX + 1u + CS_ID_MAX)
#define S_PEER_VALUE     24u  /* epoch + cursor + base, as written */
#define S_PEER_VALUE_MIN 16u  /* epoch + cursor: base reads as 0 */
#define S_RUN_KEY        24u  /* peer id + epoch + first seq of a run */
#define S_FILE_MODE      0600 /* CRM data: owner only */
#define S_RESIZED_TRIES  8    /* MDB_MAP_RESIZED retries per txn_begin */
#define S_WRITE_TRIES    64   /* map growths per write; doubling needs < 64 */
#define S_CKPT_NAME_MAX  200u /* bytes of an import checkpoint's name */
#define S_SCHEMA_FIRST   1u   /* the first schema version ever written */

struct cs_store {
    MDB_env *env;                 /* the environment of the data dir */
    MDB_dbi records;              /* collection \0 id -> stored record */
    MDB_dbi feed;                 /* big-endian seq -> record key */
    MDB_dbi peers;                /* big-endian peer id -> epoch, cursor;
                                     peer id, epoch, first -> last (runs) */
    MDB_dbi meta;                 /* name -> big-endian u64 */
    MDB_dbi names_dbi;            /* big-endian u32 -> field name */
    cs_names_t *names;            /* what "names" held at our last look,
                                     plus what the open write added;
                                     NULL until the store is open */
    uint64_t node_id;             /* this node, from meta */
    uint64_t epoch;               /* this environment, from meta */
    bool read_only;               /* opened with MDB_RDONLY */
    uint64_t map_size_max;        /* the map never grows beyond this */
    uint64_t max_drift_ms;        /* HLC drift bound for remote stamps */
    uint64_t (*clock)(void *arg); /* wall clock in ms; NULL: realtime */
    void *clock_arg;              /* passed to clock */
    int in_callback;              /* scans now calling back the user */
};

/* One transaction in flight. */
typedef struct {
    cs_store_t *store; /* the store it belongs to */
    MDB_txn *txn;      /* the LMDB transaction */
    int mdb_rc;        /* raw code of the last failed put/del, or 0 */
} s_txn_t;

/* A record key: collection \0 id. */
typedef struct {
    uint8_t data[S_KEY_MAX]; /* the bytes */
    size_t len;              /* bytes used */
} s_key_t;

/* The body of a write transaction; may run more than once (s_write). */
typedef int(s_write_fn)(s_txn_t *t, void *arg);

/* ---------------- helpers ---------------- */

static void s_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
s_log(const char *fmt, ...)
{
    char line[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    /* One write per line, so lines of concurrent processes do not mix. */
    fprintf(stderr, "crmsync: store: %s\n", line);
}

/*  The one place LMDB codes become CS_E* codes. @p what names the failed
 *  operation for the log. MDB_NOTFOUND is an answer, not a failure, and
 *  MDB_MAP_FULL is handled (and logged) by s_write, so neither is logged. */
static int
s_from_mdb(int rc, const char *what)
{
    switch (rc) {
    case MDB_SUCCESS:
        return CS_OK;
    case MDB_NOTFOUND:
        return CS_ENOENT;
    case MDB_MAP_FULL:
        return CS_EFULL;
    case ENOSPC:
        s_log("%s: %s", what, mdb_strerror(rc));
        return CS_EFULL;
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        s_log("%s: %s", what, mdb_strerror(rc));
        return CS_ECORRUPT;
    default:
        s_log("%s: %s", what, mdb_strerror(rc));
        return CS_EIO;
    }
}

/*  Write the low @p n bytes of @p value at @p out, big-endian. */
static void
s_be_put(uint8_t *out, size_t n, uint64_t value)
{
    for (size_t i = n; i-- > 0;) {
        out[i] = (uint8_t) (value & 0xFFu);
        value >>= 8;
    }
}

static void
s_be64_put(uint8_t out[8], uint64_t value)
{
    s_be_put(out, 8, value);
}

static uint64_t
s_be64_get(const uint8_t in[8])
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) {
        value = (value << 8) | in[i];
    }
    return value;
}

static uint64_t
s_wall_ms(const cs_store_t *self)
{
    if (self->clock) {
        return self->clock(self->clock_arg);
    }
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
        return 0; /* the HLC then simply counts on from its last value */
    }
    return (uint64_t) now.tv_sec * 1000u + (uint64_t) now.tv_nsec / 1000000u;
}

static uint64_t
s_page_round(uint64_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t unit = page > 0 ? (uint64_t) page : 4096u;
    if (size > UINT64_MAX - unit) {
        return size - size % unit;
    }
    return (size + unit - 1) / unit * unit;
}

/* ---------------- keys ---------------- */

/*  Build the key of (collection, @p clen bytes) and (id, @p ilen bytes),
 *  both already checked. */
static void
s_key_fill(const char *collection, size_t clen, const char *id, size_t ilen,
           s_key_t *key)
{
    assert(clen <= CS_COLLECTION_MAX && ilen <= CS_ID_MAX);
    memcpy(key->data, collection, clen);
    key->data[clen] = 0;
    memcpy(key->data + clen + 1, id, ilen);
    key->len = clen + 1 + ilen;
}

/*  Build the key of (collection, @p clen bytes, already checked) and id,
 *  checking the id. @return CS_OK or CS_EINVAL. */
static int
s_key_make_in(const char *collection, size_t clen, const char *id, s_key_t *key)
{
    assert(id);
    size_t ilen = strnlen(id, CS_ID_MAX + 1);
    if (!cs_record_id_is_valid(id, ilen)) {
        return CS_EINVAL;
    }
    s_key_fill(collection, clen, id, ilen, key);
    return CS_OK;
}

/*  The bytes of @p collection if it is a valid name, else SIZE_MAX. */
static size_t
s_collection_len(const char *collection)
{
    assert(collection);
    size_t clen = strnlen(collection, CS_COLLECTION_MAX + 1);
    return cs_record_collection_is_valid(collection, clen) ? clen : SIZE_MAX;
}

/*  Build the key of (collection, id), checking both names.
 *  @return CS_OK or CS_EINVAL. */
static int
s_key_make(const char *collection, const char *id, s_key_t *key)
{
    size_t clen = s_collection_len(collection);
    if (clen == SIZE_MAX) {
        return CS_EINVAL;
    }
    return s_key_make_in(collection, clen, id, key);
}

/*  Split a stored key into NUL-terminated collection and id.
 *  @return CS_OK or CS_ECORRUPT. */
static int
s_key_split(const MDB_val *key, char collection[CS_COLLECTION_MAX + 1],
            char id[CS_ID_MAX + 1])
{
    const char *bytes = key->mv_data;
    const char *sep = memchr(bytes, 0, key->mv_size);
    if (!sep) {
        s_log("record key without separator (%zu bytes)", key->mv_size);
        return CS_ECORRUPT;
    }
    size_t clen = (size_t) (sep - bytes);
    size_t ilen = key->mv_size - clen - 1;
    if (clen == 0 || clen > CS_COLLECTION_MAX || ilen == 0 ||
        ilen > CS_ID_MAX || memchr(sep + 1, 0, ilen)) {
        s_log("malformed record key (%zu bytes)", key->mv_size);
        return CS_ECORRUPT;
    }
    memcpy(collection, bytes, clen);
    collection[clen] = 0;
    memcpy(id, sep + 1, ilen);
    id[ilen] = 0;
    return CS_OK;
}

/* ---------------- transactions ---------------- */

static int s_names_load(cs_store_t *self, MDB_txn *txn);

/*  Begin a transaction, and take in the field names saved since the last
 *  (s_names_load). If another process grew the map past ours
 *  (MDB_MAP_RESIZED), adopt its size and try again. */
static int
s_txn_begin(cs_store_t *self, unsigned int flags, MDB_txn **txn)
{
    for (int tries = 0; tries < S_RESIZED_TRIES; tries++) {
        int rc = mdb_txn_begin(self->env, NULL, flags, txn);
        if (rc != MDB_MAP_RESIZED) {
            rc = s_from_mdb(rc, "mdb_txn_begin");
            if (rc == CS_OK && self->names) {
                rc = s_names_load(self, *txn);
                if (rc != CS_OK) {
                    mdb_txn_abort(*txn);
                }
            }
            return rc;
        }
        if (self->in_callback > 0) {
            /* A scan's transaction is open: remapping now is illegal. */
            s_log("map grown by another process during a scan; retry it");
            return CS_EIO;
        }
        /* Legal here: no transaction of ours is active. */
        rc = mdb_env_set_mapsize(self->env, 0);
        if (rc != MDB_SUCCESS) {
            return s_from_mdb(rc, "mdb_env_set_mapsize (adopt)");
        }
        /* The recorded size is the largest any process ever used; keep
         * to our own limit unless the data needs more (LMDB rounds up). */
        MDB_envinfo info;
        rc = mdb_env_info(self->env, &info);
        if (rc == MDB_SUCCESS && info.me_mapsize > self->map_size_max) {
            rc = mdb_env_set_mapsize(self->env, (size_t) self->map_size_max);
        }
        if (rc == MDB_SUCCESS) {
            rc = mdb_env_info(self->env, &info);
        }
        if (rc != MDB_SUCCESS) {
            return s_from_mdb(rc, "mdb_env_set_mapsize (adopt)");
        }
        s_log("map grown by another process; now %zu bytes", info.me_mapsize);
    }
    s_log("mdb_txn_begin: map keeps being resized by another process");
    return CS_EIO;
}

static int
s_get(s_txn_t *t, MDB_dbi dbi, MDB_val *key, MDB_val *value)
{
    return s_from_mdb(mdb_get(t->txn, dbi, key, value), "mdb_get");
}

/*  Put into @p dbi, through @p cursor (on @p dbi) if not NULL. */
static int
s_put_via(s_txn_t *t, MDB_dbi dbi, MDB_cursor *cursor, MDB_val *key,
          MDB_val *value, unsigned int flags)
{
    int rc = cursor ? mdb_cursor_put(cursor, key, value, flags)
                    : mdb_put(t->txn, dbi, key, value, flags);
    if (rc != MDB_SUCCESS) {
        t->mdb_rc = rc;
    }
    return s_from_mdb(rc, cursor ? "mdb_cursor_put" : "mdb_put");
}

static int
s_put(s_txn_t *t, MDB_dbi dbi, MDB_val *key, MDB_val *value, unsigned int flags)
{
    return s_put_via(t, dbi, NULL, key, value, flags);
}

static int
s_del(s_txn_t *t, MDB_dbi dbi, MDB_val *key)
{
    int rc = mdb_del(t->txn, dbi, key, NULL);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        t->mdb_rc = rc;
    }
    return s_from_mdb(rc, "mdb_del");
}

/* ---------------- field names ---------------- */

#define S_NAME_KEY 4u /* big-endian u32 number */

/*  Take in the names saved since we last looked (by another process, or
 *  by our own writes before a reopen): the dictionary only grows, so they
 *  are the entries past ours. A read of an older snapshot may see fewer
 *  entries than we hold; those it sees are ours too. */
static int
s_names_load(cs_store_t *self, MDB_txn *txn)
{
    MDB_stat st;
    int rc = mdb_stat(txn, self->names_dbi, &st);
    if (rc != MDB_SUCCESS) {
        return s_from_mdb(rc, "mdb_stat (names)");
    }
    size_t have = cs_names_count(self->names);
    if (st.ms_entries <= have) {
        return CS_OK;
    }
    MDB_cursor *cursor;
    rc = mdb_cursor_open(txn, self->names_dbi, &cursor);
    if (rc != MDB_SUCCESS) {
        return s_from_mdb(rc, "mdb_cursor_open (names)");
    }
    uint8_t first[S_NAME_KEY];
    s_be_put(first, sizeof first, have);
    MDB_val key = { sizeof first, first }, val;
    rc = mdb_cursor_get(cursor, &key, &val, MDB_SET_RANGE);
    for (size_t n = have; n < st.ms_entries && rc == MDB_SUCCESS; n++) {
        uint8_t want[S_NAME_KEY];
        s_be_put(want, sizeof want, n);
        if (key.mv_size != S_NAME_KEY ||
            memcmp(key.mv_data, want, S_NAME_KEY) != 0 ||
            cs_names_add(self->names, val.mv_data, val.mv_size) != CS_OK) {
            s_log("names: entry %zu is missing, misplaced or not a new "
                  "field name",
                  n);
            mdb_cursor_close(cursor);
            cs_names_truncate(self->names, have);
            return CS_ECORRUPT;
        }
        if (n + 1 < st.ms_entries) {
            rc = mdb_cursor_get(cursor, &key, &val, MDB_NEXT);
        }
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_SUCCESS) {
        cs_names_truncate(self->names, have);
        return rc == MDB_NOTFOUND ? CS_ECORRUPT
                                  : s_from_mdb(rc, "mdb_cursor_get (names)");
    }
    return CS_OK;
}

/*  Save the names the write numbered, those from @p from on. */
static int
s_names_save(s_txn_t *t, size_t from)
{
    cs_names_t *names = t->store->names;
    for (size_t n = from; n < cs_names_count(names); n++) {
        uint8_t number[S_NAME_KEY];
        s_be_put(number, sizeof number, n);
        size_t len;
        const char *name = cs_names_at(names, n, &len);
        MDB_val key = { sizeof number, number };
        MDB_val val = { len, (void *) (uintptr_t) name };
        int rc = s_put(t, t->store->names_dbi, &key, &val, MDB_APPEND);
        if (rc != CS_OK) {
            return rc;
        }
    }
    return CS_OK;
}

/*  Forget the names of a write that did not commit, those from @p from
 *  on: another process may give their numbers to other names. */
static void
s_names_forget(cs_store_t *self, size_t from)
{
    if (self->names) {
        cs_names_truncate(self->names, from);
    }
}

/*  Grow the map for a retry: double it, capped at map_size_max.
 *  @return CS_OK, or CS_EFULL when it is already at the cap. */
static int
s_grow(cs_store_t *self)
{
    MDB_envinfo info;
    int rc = mdb_env_info(self->env, &info);
    if (rc != MDB_SUCCESS) {
        return s_from_mdb(rc, "mdb_env_info");
    }
    uint64_t now = info.me_mapsize;
    if (now >= self->map_size_max) {
        s_log("map full at %llu bytes, the configured maximum",
              (unsigned long long) now);
        return CS_EFULL;
    }
    uint64_t next = now > self->map_size_max / 2 ? self->map_size_max : now * 2;
    if (next > SIZE_MAX) {
        next = s_page_round(SIZE_MAX / 2);
    }
    /* Legal here: s_write has ended its transaction. */
    rc = mdb_env_set_mapsize(self->env, (size_t) next);
    if (rc != MDB_SUCCESS) {
        return s_from_mdb(rc, "mdb_env_set_mapsize (grow)");
    }
    s_log("map full at %llu bytes, grown to %llu", (unsigned long long) now,
          (unsigned long long) next);
    return CS_OK;
}

/*  Run @p fn inside one write transaction and commit it. On MDB_MAP_FULL,
 *  from a put inside @p fn or from the commit, grow the map and run @p fn
 *  again from the start; nothing of a failed attempt is stored. */
/*  LMDB reports a short write, which mostly means a full file system, as
 *  EIO: say how much room is left, so that the message points at it. */
static void
s_log_space(cs_store_t *self)
{
    const char *path = NULL;
    struct statvfs st;
    if (mdb_env_get_path(self->env, &path) != MDB_SUCCESS || !path ||
        statvfs(path, &st) != 0) {
        return;
    }
    uint64_t free_mb = (uint64_t) st.f_bavail * st.f_frsize / 1000000;
    s_log("%s has %llu MB free%s", path, (unsigned long long) free_mb,
          free_mb < 16 ? ": the file system is full, free some space" : "");
}

static int
s_write(cs_store_t *self, s_write_fn *fn, void *arg)
{
    assert(self);
    assert(fn);
    /* A write may remap the map under the open read of a scan. */
    assert(self->in_callback == 0 && "no writes from a scan callback");
    if (self->read_only) {
        s_log("write to a store opened read-only");
        return CS_EINVAL;
    }
    for (int tries = 0; tries < S_WRITE_TRIES; tries++) {
        s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
        int rc = s_txn_begin(self, 0, &t.txn);
        if (rc != CS_OK) {
            return rc;
        }
        size_t names_before = self->names ? cs_names_count(self->names) : 0;
        rc = fn(&t, arg);
        if (rc == CS_OK && self->names) {
            rc = s_names_save(&t, names_before);
        }
        if (rc != CS_OK) {
            mdb_txn_abort(t.txn);
            s_names_forget(self, names_before);
            if (t.mdb_rc != MDB_MAP_FULL) {
                return rc;
            }
        } else {
            /* A failed commit has already aborted the transaction. */
            int mdb_rc = mdb_txn_commit(t.txn);
            if (mdb_rc == MDB_SUCCESS) {
                return CS_OK;
            }
            s_names_forget(self, names_before);
            if (mdb_rc != MDB_MAP_FULL) {
                rc = s_from_mdb(mdb_rc, "mdb_txn_commit");
                if (mdb_rc == EIO) {
                    s_log_space(self);
                }
                return rc;
            }
        }
        rc = s_grow(self);
        if (rc != CS_OK) {
            return rc;
        }
    }
    s_log("write still finds the map full after %d growths", S_WRITE_TRIES);
    return CS_EFULL;
}

/* ---------------- meta, records, feed ---------------- */

static int
s_meta_get(s_txn_t *t, const char *name, uint64_t *value)
{
    MDB_val key = { strlen(name), (void *) (uintptr_t) name };
    MDB_val val;
    int rc = s_get(t, t->store->meta, &key, &val);
    if (rc == CS_ENOENT) {
        s_log("meta: %s missing", name);
        return CS_ECORRUPT;
    }
    if (rc != CS_OK) {
        return rc;
    }
    if (val.mv_size != 8) {
        s_log("meta: %s has %zu bytes, not 8", name, val.mv_size);
        return CS_ECORRUPT;
    }
    *value = s_be64_get(val.mv_data);
    return CS_OK;
}

static int
s_meta_put(s_txn_t *t, const char *name, uint64_t value)
{
    uint8_t bytes[8];
    s_be64_put(bytes, value);
    MDB_val key = { strlen(name), (void *) (uintptr_t) name };
    MDB_val val = { sizeof bytes, bytes };
    return s_put(t, t->store->meta, &key, &val, 0);
}

/*  Decode the stored value @p v of the record at key @p k. */
static int
s_record_decode(const cs_store_t *self, const MDB_val *k, const MDB_val *v,
                cs_record_t **rec_out)
{
    int rc = cs_codec_decode_numbered(v->mv_data, v->mv_size, CS_CODEC_STORED,
                                      self->names, rec_out);
    if (rc != CS_OK) {
        s_log("undecodable record (%zu-byte key, %zu-byte value): %s",
              k->mv_size, v->mv_size, cs_strerror(rc));
        return CS_ECORRUPT;
    }
    return CS_OK;
}

/*  Load the record at @p key into a new *@p rec_out.
 *  @return CS_OK, CS_ENOENT, CS_ECORRUPT or CS_EIO. */
static int
s_record_load(s_txn_t *t, const s_key_t *key, cs_record_t **rec_out)
{
    MDB_val k = { key->len, (void *) (uintptr_t) key->data };
    MDB_val v;
    int rc = s_get(t, t->store->records, &k, &v);
    if (rc != CS_OK) {
        return rc;
    }
    return s_record_decode(t->store, &k, &v, rec_out);
}

/*  Cursors on "records" and "feed" for a run of appends (MDB_APPEND puts
 *  and nothing else in either table): a put through a cursor that the
 *  last append left at the end skips the walk down from the root, as
 *  mdb_load does. The transaction's end closes them. */
typedef struct {
    MDB_cursor *records;
    MDB_cursor *feed;
} s_tail_t;

static int
s_tail_open(s_txn_t *t, s_tail_t *tail)
{
    *tail = (s_tail_t){ NULL, NULL };
    int rc =
        s_from_mdb(mdb_cursor_open(t->txn, t->store->records, &tail->records),
                   "mdb_cursor_open");
    if (rc == CS_OK) {
        rc = s_from_mdb(mdb_cursor_open(t->txn, t->store->feed, &tail->feed),
                        "mdb_cursor_open");
    }
    return rc;
}

/*  Store @p rec, which changed at @p new_seq, and move its feed entry from
 *  @p old_seq (0: it had none) to @p new_seq, the new feed head. @p flags
 *  go to the put into "records": MDB_APPEND when the caller knows the key
 *  sorts after every key there (LMDB checks it: MDB_KEYEXIST otherwise).
 *  @p tail, for appends only, or NULL. */
static int s_record_put(s_txn_t *t, const s_key_t *key, const cs_buf_t *buf,
                        uint64_t old_seq, uint64_t new_seq, unsigned int flags,
                        const s_tail_t *tail);

static int
s_record_store(s_txn_t *t, const s_key_t *key, const cs_record_t *rec,
               uint64_t old_seq, uint64_t new_seq, unsigned int flags,
               cs_buf_t *buf)
{
    cs_buf_reset(buf);
    cs_codec_encode_stored(rec, t->store->names, buf);
    return s_record_put(t, key, buf, old_seq, new_seq, flags, NULL);
}

/*  s_record_store for a record already encoded (stored form) in @p buf. */
static int
s_record_put(s_txn_t *t, const s_key_t *key, const cs_buf_t *buf,
             uint64_t old_seq, uint64_t new_seq, unsigned int flags,
             const s_tail_t *tail)
{
    assert(new_seq > old_seq);
    assert(flags == 0 || (flags == MDB_APPEND && old_seq == 0));
    assert(!tail || flags == MDB_APPEND);
    cs_store_t *self = t->store;
    MDB_val k = { key->len, (void *) (uintptr_t) key->data };
    MDB_val v = { buf->len, buf->data };
    int rc =
        s_put_via(t, self->records, tail ? tail->records : NULL, &k, &v, flags);
    if (rc != CS_OK) {
        return rc;
    }
    uint8_t seq_bytes[8];
    MDB_val seq_key = { sizeof seq_bytes, seq_bytes };
    if (old_seq != 0) {
        s_be64_put(seq_bytes, old_seq);
        rc = s_del(t, self->feed, &seq_key);
        if (rc == CS_ENOENT) {
            /* The new entry below repairs the feed; say so and go on. */
            s_log("feed entry %llu of a moved record was missing",
                  (unsigned long long) old_seq);
        } else if (rc != CS_OK) {
            return rc;
        }
    }
    s_be64_put(seq_bytes, new_seq);
    rc = s_put_via(t, self->feed, tail ? tail->feed : NULL, &seq_key, &k,
                   MDB_APPEND);
    if (rc != CS_OK && t->mdb_rc == MDB_KEYEXIST) {
        s_log("feed holds an entry at or after seq %llu, past the head",
              (unsigned long long) new_seq);
        return CS_ECORRUPT;
    }
    return rc;
}

/* ---------------- create, open, destroy ---------------- */

static int
s_env_open(cs_store_t *self, const char *dir, uint64_t map_size)
{
    int rc = mdb_env_create(&self->env);
    if (rc != MDB_SUCCESS) {
        self->env = NULL;
        return s_from_mdb(rc, "mdb_env_create");
    }
    rc = mdb_env_set_maxdbs(self->env, 5);
    if (rc == MDB_SUCCESS) {
        if (map_size > SIZE_MAX) {
            map_size = s_page_round(SIZE_MAX / 2);
        }
        rc = mdb_env_set_mapsize(self->env, (size_t) map_size);
    }
    if (rc != MDB_SUCCESS) {
        return s_from_mdb(rc, "mdb_env_set");
    }
    unsigned int flags = MDB_NOTLS | (self->read_only ? MDB_RDONLY : 0u);
    rc = mdb_env_open(self->env, dir, flags, S_FILE_MODE);
    if (rc != MDB_SUCCESS) {
        s_log("cannot open environment in %s", dir);
        return s_from_mdb(rc, "mdb_env_open");
    }
    int dead = 0;
    rc = mdb_reader_check(self->env, &dead);
    if (rc != MDB_SUCCESS) {
        return s_from_mdb(rc, "mdb_reader_check");
    }
    if (dead > 0) {
        s_log("cleared %d stale reader slot(s) in %s", dead, dir);
    }
    return CS_OK;
}

static int
s_dbi_open(s_txn_t *t, const char *name, unsigned int flags, MDB_dbi *dbi)
{
    int rc = mdb_dbi_open(t->txn, name, flags, dbi);
    if (rc == MDB_NOTFOUND) {
        return CS_ENOENT;
    }
    if (rc != MDB_SUCCESS) {
        t->mdb_rc = rc;
    }
    return s_from_mdb(rc, "mdb_dbi_open");
}

/* Open the four sub-dbs; with MDB_CREATE in @p flags, create them. */
static int
s_dbis_open(s_txn_t *t, unsigned int flags)
{
    cs_store_t *self = t->store;
    int rc = s_dbi_open(t, S_DB_META, flags, &self->meta);
    if (rc == CS_ENOENT) {
        return CS_ENOENT; /* not a crmsync store (or its create failed) */
    }
    if (rc == CS_OK) {
        rc = s_dbi_open(t, S_DB_RECORDS, flags, &self->records);
    }
    if (rc == CS_OK) {
        rc = s_dbi_open(t, S_DB_FEED, flags, &self->feed);
    }
    if (rc == CS_OK) {
        rc = s_dbi_open(t, S_DB_PEERS, flags, &self->peers);
    }
    if (rc == CS_ENOENT) {
        s_log("store has meta but lacks a sub-database");
        return CS_ECORRUPT;
    }
    return rc;
}

typedef struct {
    uint64_t node_id; /* in */
    uint64_t epoch;   /* in */
} s_create_t;

static int
s_create_cb(s_txn_t *t, void *arg)
{
    const s_create_t *ctx = arg;
    int rc = s_dbis_open(t, MDB_CREATE);
    if (rc == CS_OK) {
        rc = s_dbi_open(t, S_DB_NAMES, MDB_CREATE, &t->store->names_dbi);
    }
    if (rc != CS_OK) {
        return rc;
    }
    MDB_val key = { strlen(S_META_NODE_ID),
                    (void *) (uintptr_t) S_META_NODE_ID };
    MDB_val val;
    rc = s_get(t, t->store->meta, &key, &val);
    if (rc == CS_OK) {
        return CS_EEXIST;
    }
    if (rc != CS_ENOENT) {
        return rc;
    }
    rc = s_meta_put(t, S_META_SCHEMA, CS_STORE_SCHEMA_VERSION);
    if (rc == CS_OK) {
        rc = s_meta_put(t, S_META_NODE_ID, ctx->node_id);
    }
    if (rc == CS_OK) {
        rc = s_meta_put(t, S_META_EPOCH, ctx->epoch);
    }
    if (rc == CS_OK) {
        rc = s_meta_put(t, S_META_FEED_HEAD, 0);
    }
    if (rc == CS_OK) {
        rc = s_meta_put(t, S_META_LAST_HLC, 0);
    }
    return rc;
}

/* A random epoch other than @p old; never 0, which reads as "no epoch". */
static uint64_t
s_epoch_new(uint64_t old)
{
    uint64_t epoch = 0;
    while (epoch == 0 || epoch == old) {
        randombytes_buf(&epoch, sizeof epoch);
    }
    return epoch;
}

int
cs_store_create(const char *dir, uint64_t node_id)
{
    assert(dir);
    if (sodium_init() < 0) {
        s_log("sodium_init failed");
        return CS_EIO;
    }
    s_create_t ctx = { .node_id = node_id, .epoch = s_epoch_new(0) };
    cs_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    self->map_size_max = CS_STORE_MAPSIZE_MAX_DEFAULT;
    int rc = s_env_open(self, dir, CS_STORE_MAPSIZE_DEFAULT);
    if (rc == CS_OK) {
        rc = s_write(self, s_create_cb, &ctx);
    }
    if (rc == CS_EEXIST) {
        s_log("%s already holds a store", dir);
    }
    cs_store_destroy(&self);
    return rc;
}

/*  Open the sub-dbs and read node id, epoch and schema version, in one
 *  read transaction that is committed so the dbi handles stay open. */
static int
s_open_meta(cs_store_t *self, const char *dir)
{
    s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
    int rc = s_txn_begin(self, MDB_RDONLY, &t.txn);
    if (rc != CS_OK) {
        return rc;
    }
    uint64_t schema = 0;
    rc = s_dbis_open(&t, 0);
    if (rc == CS_ENOENT) {
        s_log("%s holds no crmsync store", dir);
        goto out_abort;
    }
    if (rc != CS_OK) {
        goto out_abort;
    }
    rc = s_meta_get(&t, S_META_SCHEMA, &schema);
    if (rc != CS_OK) {
        goto out_abort;
    }
    if (schema > CS_STORE_SCHEMA_VERSION) {
        s_log("%s has schema version %llu, newer than this build's %u", dir,
              (unsigned long long) schema, CS_STORE_SCHEMA_VERSION);
        rc = CS_ECORRUPT;
        goto out_abort;
    }
    if (schema >= S_SCHEMA_FIRST && schema < CS_STORE_SCHEMA_VERSION) {
        s_log("%s has schema version %llu, written by an earlier development "
              "build (this build: %u); there is no migration: re-create it "
              "(crmsync init on a new directory) and seed it again",
              dir, (unsigned long long) schema, CS_STORE_SCHEMA_VERSION);
        rc = CS_ECORRUPT;
        goto out_abort;
    }
    if (schema != CS_STORE_SCHEMA_VERSION) {
        s_log("%s has unknown schema version %llu (this build: %u)", dir,
              (unsigned long long) schema, CS_STORE_SCHEMA_VERSION);
        rc = CS_ECORRUPT;
        goto out_abort;
    }
    rc = s_meta_get(&t, S_META_NODE_ID, &self->node_id);
    if (rc == CS_OK) {
        rc = s_meta_get(&t, S_META_EPOCH, &self->epoch);
    }
    if (rc == CS_OK) {
        rc = s_dbi_open(&t, S_DB_NAMES, 0, &self->names_dbi);
        if (rc == CS_ENOENT) {
            s_log("store has schema version %u but no \"%s\"",
                  CS_STORE_SCHEMA_VERSION, S_DB_NAMES);
            rc = CS_ECORRUPT;
        }
    }
    if (rc != CS_OK) {
        goto out_abort;
    }
    return s_from_mdb(mdb_txn_commit(t.txn), "mdb_txn_commit (open)");
out_abort:
    mdb_txn_abort(t.txn);
    return rc;
}

int
cs_store_open(const char *dir, const cs_store_opts_t *opts, cs_store_t **self_p)
{
    assert(dir);
    assert(self_p);
    *self_p = NULL;
    const cs_store_opts_t none = { 0 };
    if (!opts) {
        opts = &none;
    }
    if (sodium_init() < 0) {
        s_log("sodium_init failed");
        return CS_EIO;
    }
    /* Never create: mdb_env_open would make a new empty data.mdb. */
    char path[PATH_MAX];
    int len = snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (len < 0 || (size_t) len >= sizeof path) {
        return CS_EINVAL;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return CS_ENOENT;
        }
        s_log("%s: %s", path, strerror(errno));
        return CS_EIO;
    }
    if (st.st_size == 0) {
        return CS_ENOENT; /* LMDB would initialise an empty file */
    }

    cs_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    self->read_only = opts->read_only;
    self->clock = opts->clock;
    self->clock_arg = opts->clock_arg;
    self->max_drift_ms =
        opts->max_drift_ms ? opts->max_drift_ms : CS_HLC_MAX_DRIFT_DEFAULT_MS;
    uint64_t map_size = s_page_round(opts->map_size ? opts->map_size
                                                    : CS_STORE_MAPSIZE_DEFAULT);
    self->map_size_max = s_page_round(
        opts->map_size_max ? opts->map_size_max : CS_STORE_MAPSIZE_MAX_DEFAULT);
    if (map_size > self->map_size_max) {
        map_size = self->map_size_max;
    }
    int rc = s_env_open(self, dir, map_size);
    if (rc == CS_OK) {
        rc = s_open_meta(self, dir);
    }
    if (rc == CS_OK) {
        self->names = cs_names_new(); /* loaded by each transaction */
    }
    if (rc != CS_OK) {
        cs_store_destroy(&self);
        return rc;
    }
    *self_p = self;
    return CS_OK;
}

void
cs_store_destroy(cs_store_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    cs_store_t *self = *self_p;
    if (self->env) {
        mdb_env_close(self->env);
    }
    cs_names_destroy(&self->names);
    free(self);
    *self_p = NULL;
}

uint64_t
cs_store_node_id(const cs_store_t *self)
{
    assert(self);
    return self->node_id;
}

uint64_t
cs_store_epoch(const cs_store_t *self)
{
    assert(self);
    return self->epoch;
}

/*  Store the new epoch and delete every peer cursor (the 8-byte keys of
 *  "peers"; the runs stay: they are about our seqs, which stay). */
static int
s_renew_epoch_cb(s_txn_t *t, void *arg)
{
    int rc = s_meta_put(t, S_META_EPOCH, *(const uint64_t *) arg);
    MDB_cursor *cursor = NULL;
    if (rc == CS_OK) {
        rc = s_from_mdb(mdb_cursor_open(t->txn, t->store->peers, &cursor),
                        "mdb_cursor_open");
    }
    if (rc != CS_OK) {
        return rc;
    }
    MDB_val key, val;
    int mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_FIRST);
    while (mdb_rc == MDB_SUCCESS) {
        if (key.mv_size == 8) {
            mdb_rc = mdb_cursor_del(cursor, 0);
            if (mdb_rc != MDB_SUCCESS) {
                t->mdb_rc = mdb_rc;
                break;
            }
        }
        mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    return mdb_rc == MDB_NOTFOUND ? CS_OK
                                  : s_from_mdb(mdb_rc, "renew epoch: cursors");
}

int
cs_store_renew_epoch(cs_store_t *self, uint64_t *epoch)
{
    assert(self);
    assert(epoch);
    uint64_t fresh = s_epoch_new(self->epoch);
    int rc = s_write(self, s_renew_epoch_cb, &fresh);
    if (rc == CS_OK) {
        self->epoch = fresh;
        *epoch = fresh;
    }
    return rc;
}

int
cs_store_info(cs_store_t *self, cs_store_info_t *info)
{
    assert(self);
    assert(info);
    memset(info, 0, sizeof *info);
    s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
    int rc = s_txn_begin(self, MDB_RDONLY, &t.txn);
    if (rc != CS_OK) {
        return rc;
    }
    cs_store_info_t out = { .node_id = self->node_id, .epoch = self->epoch };
    rc = s_meta_get(&t, S_META_FEED_HEAD, &out.feed_head);
    if (rc == CS_OK) {
        rc = s_meta_get(&t, S_META_LAST_HLC, &out.last_hlc);
    }
    if (rc != CS_OK) {
        goto out_abort;
    }
    MDB_stat db_stat;
    rc = s_from_mdb(mdb_stat(t.txn, self->records, &db_stat), "mdb_stat");
    if (rc != CS_OK) {
        goto out_abort;
    }
    out.records = db_stat.ms_entries;
    MDB_envinfo env_info;
    rc = s_from_mdb(mdb_env_info(self->env, &env_info), "mdb_env_info");
    if (rc != CS_OK) {
        goto out_abort;
    }
    out.map_size = env_info.me_mapsize;
    *info = out;
out_abort:
    mdb_txn_abort(t.txn);
    return rc;
}

/* ---------------- local writes ---------------- */

/* A local set (fields != NULL) or delete (fields == NULL). */
typedef struct {
    const s_key_t *key;             /* the record */
    const cs_store_field_t *fields; /* NULL for a delete */
    size_t n;                       /* number of fields */
    cs_buf_t *buf;                  /* encoding scratch */
    cs_hlc_t hlc;                   /* out: the stamp issued */
} s_local_t;

static int
s_local_cb(s_txn_t *t, void *arg)
{
    s_local_t *ctx = arg;
    cs_store_t *self = t->store;
    cs_record_t *rec = NULL;
    int rc = s_record_load(t, ctx->key, &rec);
    if (rc == CS_ENOENT && ctx->fields) {
        rec = cs_record_new();
        rc = CS_OK;
    }
    if (rc != CS_OK) {
        goto out_free_rec;
    }
    if (!ctx->fields && cs_record_field_count(rec) == 0) {
        rc = CS_ENOENT; /* nothing visible to delete */
        goto out_free_rec;
    }
    uint64_t head = 0;
    uint64_t last_hlc = 0;
    rc = s_meta_get(t, S_META_FEED_HEAD, &head);
    if (rc == CS_OK) {
        rc = s_meta_get(t, S_META_LAST_HLC, &last_hlc);
    }
    if (rc != CS_OK) {
        goto out_free_rec;
    }
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, last_hlc, self->max_drift_ms);
    cs_stamp_t stamp = { .hlc = cs_hlc_now(&clk, s_wall_ms(self)),
                         .origin = self->node_id };
    uint64_t seq = head + 1;
    uint64_t old_seq = cs_record_max_seq(rec);
    bool changed = false;
    if (ctx->fields) {
        for (size_t i = 0; i < ctx->n; i++) {
            bool field_changed = false;
            rc = cs_record_set(rec, ctx->fields[i].name, &ctx->fields[i].value,
                               stamp, seq, &field_changed);
            if (rc != CS_OK) {
                goto out_free_rec;
            }
            changed = changed || field_changed;
        }
    } else {
        changed = cs_record_delete(rec, stamp, seq);
    }
    /* Unchanged only if a remote stamp beyond max drift already holds
     * every field: LWW says it wins, so the feed stays as it is. */
    if (changed) {
        rc = s_record_store(t, ctx->key, rec, old_seq, seq, 0, ctx->buf);
        if (rc == CS_OK) {
            rc = s_meta_put(t, S_META_FEED_HEAD, seq);
        }
    }
    if (rc == CS_OK) {
        rc = s_meta_put(t, S_META_LAST_HLC, stamp.hlc);
    }
    if (rc == CS_OK) {
        ctx->hlc = stamp.hlc;
    }
out_free_rec:
    cs_record_destroy(&rec);
    return rc;
}

static bool
s_fields_are_valid(const cs_store_field_t *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = fields[i].name;
        if (!name) {
            return false;
        }
        size_t len = strnlen(name, CS_FIELD_NAME_MAX + 1);
        if (!cs_record_field_name_is_valid(name, len)) {
            return false;
        }
        if (!cs_value_is_valid(&fields[i].value)) {
            return false;
        }
        /* One write sets a field once; a repeat would be ambiguous. */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fields[j].name, name) == 0) {
                return false;
            }
        }
    }
    return true;
}

int
cs_store_set(cs_store_t *self, const char *collection, const char *id,
             const cs_store_field_t *fields, size_t n, cs_hlc_t *hlc_out)
{
    assert(self);
    assert(collection);
    assert(id);
    assert(fields || n == 0);
    s_key_t key;
    int rc = s_key_make(collection, id, &key);
    if (rc != CS_OK) {
        return rc;
    }
    if (n == 0) {
        return CS_EINVAL;
    }
    if (n > CS_RECORD_FIELDS_MAX) {
        return CS_ELIMIT;
    }
    if (!s_fields_are_valid(fields, n)) {
        return CS_EINVAL;
    }
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_local_t ctx = { .key = &key, .fields = fields, .n = n, .buf = &buf };
    rc = s_write(self, s_local_cb, &ctx);
    if (rc == CS_OK && hlc_out) {
        *hlc_out = ctx.hlc;
    }
    cs_buf_fini(&buf);
    return rc;
}

int
cs_store_delete(cs_store_t *self, const char *collection, const char *id,
                cs_hlc_t *hlc_out)
{
    assert(self);
    assert(collection);
    assert(id);
    s_key_t key;
    int rc = s_key_make(collection, id, &key);
    if (rc != CS_OK) {
        return rc;
    }
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_local_t ctx = { .key = &key, .fields = NULL, .n = 0, .buf = &buf };
    rc = s_write(self, s_local_cb, &ctx);
    if (rc == CS_OK && hlc_out) {
        *hlc_out = ctx.hlc;
    }
    cs_buf_fini(&buf);
    return rc;
}

/* ---------------- reads ---------------- */

int
cs_store_get(cs_store_t *self, const char *collection, const char *id,
             cs_record_t **rec_out)
{
    assert(self);
    assert(collection);
    assert(id);
    assert(rec_out);
    *rec_out = NULL;
    s_key_t key;
    int rc = s_key_make(collection, id, &key);
    if (rc != CS_OK) {
        return rc;
    }
    s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
    rc = s_txn_begin(self, MDB_RDONLY, &t.txn);
    if (rc != CS_OK) {
        return rc;
    }
    rc = s_record_load(&t, &key, rec_out);
    mdb_txn_abort(t.txn);
    return rc;
}

/*  Walk the records of @p collection (NULL: all) in key order, calling
 *  @p visit with the decoded record until it returns false. */
typedef bool(s_visit_fn)(void *arg, const MDB_val *key, const cs_record_t *rec);

static int
s_records_walk(cs_store_t *self, const char *collection, s_visit_fn *visit,
               void *arg)
{
    uint8_t prefix[CS_COLLECTION_MAX + 1];
    size_t prefix_len = 0;
    if (collection) {
        size_t clen = strnlen(collection, CS_COLLECTION_MAX + 1);
        if (!cs_record_collection_is_valid(collection, clen)) {
            return CS_EINVAL;
        }
        memcpy(prefix, collection, clen);
        prefix[clen] = 0; /* so "con" does not match "contacts" */
        prefix_len = clen + 1;
    }
    s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
    int rc = s_txn_begin(self, MDB_RDONLY, &t.txn);
    if (rc != CS_OK) {
        return rc;
    }
    MDB_cursor *cursor = NULL;
    rc = s_from_mdb(mdb_cursor_open(t.txn, self->records, &cursor),
                    "mdb_cursor_open");
    if (rc != CS_OK) {
        goto out_abort;
    }
    MDB_val key = { prefix_len, prefix };
    MDB_val val;
    int mdb_rc = mdb_cursor_get(cursor, &key, &val,
                                prefix_len ? MDB_SET_RANGE : MDB_FIRST);
    while (mdb_rc == MDB_SUCCESS) {
        if (key.mv_size < prefix_len ||
            memcmp(key.mv_data, prefix, prefix_len) != 0) {
            break;
        }
        cs_record_t *rec = NULL;
        rc = s_record_decode(self, &key, &val, &rec);
        if (rc != CS_OK) {
            goto out_close;
        }
        self->in_callback++;
        bool go_on = visit(arg, &key, rec);
        self->in_callback--;
        cs_record_destroy(&rec);
        if (!go_on) {
            break;
        }
        mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_NEXT);
    }
    if (mdb_rc != MDB_SUCCESS && mdb_rc != MDB_NOTFOUND) {
        rc = s_from_mdb(mdb_rc, "mdb_cursor_get (records)");
    }
out_close:
    mdb_cursor_close(cursor);
out_abort:
    mdb_txn_abort(t.txn);
    return rc;
}

typedef struct {
    cs_store_record_fn *fn; /* the caller's callback */
    void *arg;              /* its argument */
    int rc;                 /* CS_ECORRUPT on a malformed key */
} s_scan_t;

static bool
s_scan_visit(void *arg, const MDB_val *key, const cs_record_t *rec)
{
    s_scan_t *ctx = arg;
    char collection[CS_COLLECTION_MAX + 1];
    char id[CS_ID_MAX + 1];
    ctx->rc = s_key_split(key, collection, id);
    if (ctx->rc != CS_OK) {
        return false;
    }
    return ctx->fn(ctx->arg, collection, id, rec);
}

int
cs_store_scan(cs_store_t *self, const char *collection, cs_store_record_fn *fn,
              void *arg)
{
    assert(self);
    assert(fn);
    s_scan_t ctx = { .fn = fn, .arg = arg, .rc = CS_OK };
    int rc = s_records_walk(self, collection, s_scan_visit, &ctx);
    return rc != CS_OK ? rc : ctx.rc;
}

static bool
s_count_visit(void *arg, const MDB_val *key, const cs_record_t *rec)
{
    (void) key;
    uint64_t *count = arg;
    if (!cs_record_is_deleted(rec) && !cs_record_is_empty(rec)) {
        (*count)++;
    }
    return true;
}

int
cs_store_count(cs_store_t *self, const char *collection, uint64_t *count)
{
    assert(self);
    assert(count);
    uint64_t found = 0;
    int rc = s_records_walk(self, collection, s_count_visit, &found);
    *count = rc == CS_OK ? found : 0;
    return rc;
}

/* ---------------- origins: our seqs that a peer gave us ---------------- */

/*  A run of our feed seqs [first, last], all taken in cs_store_apply by
 *  the deltas of one peer's feed of one epoch. Stored in "peers" under the
 *  24-byte key peer id | epoch | first (a cursor's key is the 8-byte peer
 *  id alone, which sorts before), value last. */
typedef struct {
    uint64_t first, last;
} s_run_t;

static void
s_run_key(uint8_t key[S_RUN_KEY], uint64_t peer, uint64_t epoch, uint64_t first)
{
    s_be64_put(key, peer);
    s_be64_put(key + 8, epoch);
    s_be64_put(key + 16, first);
}

/*  Whether @p key (with @p val) is a run of @p peer, and if so which. */
static bool
s_run_read(const MDB_val *key, const MDB_val *val, uint64_t peer,
           uint64_t *epoch, s_run_t *run)
{
    if (key->mv_size != S_RUN_KEY || val->mv_size != 8 ||
        s_be64_get(key->mv_data) != peer) {
        return false;
    }
    const uint8_t *k = key->mv_data;
    *epoch = s_be64_get(k + 8);
    run->first = s_be64_get(k + 16);
    run->last = s_be64_get(val->mv_data);
    return true;
}

/*  Open *@p cursor on "peers" and put it on the first run of @p peer of
 *  @p epoch or after (epoch 0: its first run), *@p mdb_rc saying whether
 *  there is one (MDB_SUCCESS: @p key and @p val hold it). */
static int
s_runs_seek(s_txn_t *t, uint64_t peer, uint64_t epoch, MDB_cursor **cursor,
            MDB_val *key, MDB_val *val, int *mdb_rc)
{
    int rc = s_from_mdb(mdb_cursor_open(t->txn, t->store->peers, cursor),
                        "mdb_cursor_open");
    if (rc != CS_OK) {
        return rc;
    }
    uint8_t from[S_RUN_KEY];
    s_run_key(from, peer, epoch, 0);
    *key = (MDB_val){ sizeof from, from };
    *mdb_rc = mdb_cursor_get(*cursor, key, val, MDB_SET_RANGE);
    return CS_OK;
}

/*  Remember that our seqs [@p first, @p last] came from @p peer's feed of
 *  @p epoch: extend its last run if that ends at first - 1, else add one.
 *  Runs of its other epochs are deleted, and its oldest runs past
 *  CS_STORE_ORIGIN_RUNS. One pass over the peer's runs (a few hundred
 *  entries at most) per apply. */
static int
s_runs_add(s_txn_t *t, uint64_t peer, uint64_t epoch, uint64_t first,
           uint64_t last)
{
    MDB_cursor *cursor = NULL;
    MDB_val key, val;
    int mdb_rc;
    int rc = s_runs_seek(t, peer, 0, &cursor, &key, &val, &mdb_rc);
    if (rc != CS_OK) {
        return rc;
    }
    size_t count = 0; /* runs of this epoch */
    s_run_t newest = { 0, 0 };
    for (; mdb_rc == MDB_SUCCESS;
         mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_NEXT)) {
        uint64_t run_epoch;
        s_run_t run;
        if (!s_run_read(&key, &val, peer, &run_epoch, &run)) {
            break; /* past this peer's runs */
        }
        if (run_epoch == epoch) {
            count++;
            newest = run;
        } else if ((mdb_rc = mdb_cursor_del(cursor, 0)) != MDB_SUCCESS) {
            break;
        }
    }
    mdb_cursor_close(cursor);
    if (mdb_rc != MDB_SUCCESS && mdb_rc != MDB_NOTFOUND) {
        t->mdb_rc = mdb_rc;
        return s_from_mdb(mdb_rc, "origin runs");
    }
    uint8_t k[S_RUN_KEY];
    uint8_t v[8];
    bool extend = count > 0 && newest.last + 1 == first;
    s_run_key(k, peer, epoch, extend ? newest.first : first);
    s_be64_put(v, last);
    key = (MDB_val){ sizeof k, k };
    val = (MDB_val){ sizeof v, v };
    rc = s_put(t, t->store->peers, &key, &val, 0);
    count += extend ? 0 : 1;
    /* Past the cap: drop the oldest; the peer is then served them again,
     * which costs bytes, never data. */
    if (rc == CS_OK && count > CS_STORE_ORIGIN_RUNS) {
        rc = s_runs_seek(t, peer, epoch, &cursor, &key, &val, &mdb_rc);
        if (rc != CS_OK) {
            return rc;
        }
        for (; count > CS_STORE_ORIGIN_RUNS && mdb_rc == MDB_SUCCESS; count--) {
            mdb_rc = mdb_cursor_del(cursor, 0);
            if (mdb_rc == MDB_SUCCESS) {
                mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_GET_CURRENT);
            }
        }
        mdb_cursor_close(cursor);
        if (mdb_rc != MDB_SUCCESS) {
            t->mdb_rc = mdb_rc;
            rc = s_from_mdb(mdb_rc, "origin runs (prune)");
        }
    }
    return rc;
}

/* The runs of one peer and epoch that end after a base, for a feed scan. */
typedef struct {
    s_run_t *runs; /* sorted by first; they do not overlap */
    size_t n;
    uint64_t whole_to; /* every seq in (base, whole_to] is in a run */
} s_runs_t;

/*  Load into @p out the runs of (@p peer, @p epoch) that end after
 *  @p base. */
static int
s_runs_load(s_txn_t *t, uint64_t peer, uint64_t epoch, uint64_t base,
            s_runs_t *out)
{
    memset(out, 0, sizeof *out);
    out->whole_to = base;
    MDB_cursor *cursor = NULL;
    MDB_val key, val;
    int mdb_rc;
    int rc = s_runs_seek(t, peer, epoch, &cursor, &key, &val, &mdb_rc);
    if (rc != CS_OK) {
        return rc;
    }
    size_t cap = 0;
    for (; mdb_rc == MDB_SUCCESS;
         mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_NEXT)) {
        uint64_t run_epoch;
        s_run_t run;
        if (!s_run_read(&key, &val, peer, &run_epoch, &run) ||
            run_epoch != epoch) {
            break;
        }
        if (run.last <= base || run.first > run.last) {
            continue;
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            out->runs = realloc(out->runs, cap * sizeof *out->runs);
            if (!out->runs) {
                abort();
            }
        }
        out->runs[out->n++] = run;
        if (run.first <= out->whole_to + 1) {
            out->whole_to = run.last;
        }
    }
    mdb_cursor_close(cursor);
    if (mdb_rc != MDB_SUCCESS && mdb_rc != MDB_NOTFOUND) {
        free(out->runs);
        memset(out, 0, sizeof *out);
        return s_from_mdb(mdb_rc, "origin runs");
    }
    return CS_OK;
}

/*  cs_record_seq_fn: whether @p seq is in one of the runs at @p arg. */
static bool
s_runs_have(void *arg, uint64_t seq)
{
    const s_runs_t *runs = arg;
    size_t lo = 0, hi = runs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (runs->runs[mid].last < seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < runs->n && runs->runs[lo].first <= seq;
}

/* ---------------- change feed ---------------- */

/*  The stored bytes of the record that the feed entry at @p seq names
 *  (its key @p key) into @p stored. A missing record is a corrupt feed. */
static int
s_feed_stored(s_txn_t *t, const MDB_val *key, uint64_t seq, MDB_val *stored)
{
    MDB_val k = *key;
    int rc = s_get(t, t->store->records, &k, stored);
    if (rc == CS_ENOENT) {
        s_log("feed entry %llu names a missing record",
              (unsigned long long) seq);
        return CS_ECORRUPT;
    }
    return rc;
}

/*  The delta of the record stored as @p stored under @p key: its parts
 *  after @p base less those at seqs of @p runs. *@p delta is NULL if that
 *  leaves nothing. */
static int
s_feed_delta(const cs_store_t *self, const MDB_val *key, const MDB_val *stored,
             uint64_t base, s_runs_t *runs, cs_record_t **delta)
{
    *delta = NULL;
    cs_record_t *rec = NULL;
    int rc = s_record_decode(self, key, stored, &rec);
    if (rc != CS_OK) {
        return rc;
    }
    if (runs->n == 0 && !cs_record_is_empty(rec) &&
        cs_record_min_seq(rec) > base) {
        *delta = rec; /* every part changed after base: no copy */
        return CS_OK;
    }
    *delta =
        cs_record_delta_except(rec, base, runs->n ? s_runs_have : NULL, runs);
    cs_record_destroy(&rec);
    if (cs_record_is_empty(*delta)) {
        cs_record_destroy(delta);
    }
    return CS_OK;
}

/*  s_feed_delta as a canonical encoding, into @p buf (reset first);
 *  *@p have is false if nothing is left. A record whose parts share one
 *  seq (written in one go: most of them) is converted from its stored
 *  bytes, not decoded and encoded again. */
static int
s_feed_canonical(cs_store_t *self, const MDB_val *key, const MDB_val *stored,
                 uint64_t base, s_runs_t *runs, cs_buf_t *buf, bool *have)
{
    *have = false;
    cs_buf_reset(buf);
    uint64_t at = 0;
    if (cs_codec_canonical_from_stored(stored->mv_data, stored->mv_size,
                                       self->names, &at, buf) == CS_OK) {
        /* one seq: all of it is after base (it is the feed seq), and
         * either all of it or none is the puller's */
        *have = at > base && !(runs->n && s_runs_have(runs, at));
        return CS_OK;
    }
    cs_record_t *delta = NULL;
    int rc = s_feed_delta(self, key, stored, base, runs, &delta);
    if (rc == CS_OK && delta) {
        cs_codec_encode_record(delta, CS_CODEC_CANONICAL, buf);
        *have = true;
    }
    cs_record_destroy(&delta);
    return rc;
}

/*  cs_store_changes (@p record_fn) and cs_store_changes_to
 *  (@p canonical_fn): exactly one of them is given. */
static int
s_changes(cs_store_t *self, const cs_store_puller_t *to, uint64_t base,
          uint64_t since, size_t max_bytes, cs_store_record_fn *record_fn,
          cs_store_canonical_fn *canonical_fn, void *arg, uint64_t *last_seq,
          uint64_t *head)
{
    assert(self);
    assert(base <= since);
    assert(!record_fn != !canonical_fn);
    assert(last_seq);
    assert(head);
    s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
    int rc = s_txn_begin(self, MDB_RDONLY, &t.txn);
    if (rc != CS_OK) {
        return rc;
    }
    cs_buf_t buf;
    cs_buf_init(&buf);
    MDB_cursor *cursor = NULL;
    s_runs_t runs = { .runs = NULL, .n = 0, .whole_to = 0 };
    uint64_t feed_head = 0;
    rc = s_meta_get(&t, S_META_FEED_HEAD, &feed_head);
    if (rc != CS_OK) {
        goto out_abort;
    }
    uint64_t covered = feed_head; /* if the scan reaches the end */
    if (since >= feed_head) {
        goto out_done;
    }
    if (to) {
        rc = s_runs_load(&t, to->peer_id, to->epoch, base, &runs);
        if (rc != CS_OK) {
            goto out_abort;
        }
    }
    rc = s_from_mdb(mdb_cursor_open(t.txn, self->feed, &cursor),
                    "mdb_cursor_open");
    if (rc != CS_OK) {
        goto out_abort;
    }
    uint8_t from[8];
    s_be64_put(from, since + 1);
    MDB_val key = { sizeof from, from };
    MDB_val val;
    size_t total = 0;
    size_t skipped = 0;
    int mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_SET_RANGE);
    for (; mdb_rc == MDB_SUCCESS;
         mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_NEXT)) {
        if (key.mv_size != 8 || val.mv_size > S_KEY_MAX) {
            s_log("malformed feed entry");
            rc = CS_ECORRUPT;
            goto out_close;
        }
        uint64_t seq = s_be64_get(key.mv_data);
        char collection[CS_COLLECTION_MAX + 1];
        char id[CS_ID_MAX + 1];
        cs_record_t *delta = NULL;
        bool have = false;
        /* up to whole_to, every part after base is at a seq of to's runs */
        if (seq > runs.whole_to) {
            MDB_val stored;
            rc = s_key_split(&val, collection, id);
            if (rc == CS_OK) {
                rc = s_feed_stored(&t, &val, seq, &stored);
            }
            if (rc == CS_OK) {
                rc = canonical_fn ? s_feed_canonical(self, &val, &stored, base,
                                                     &runs, &buf, &have)
                                  : s_feed_delta(self, &val, &stored, base,
                                                 &runs, &delta);
            }
            if (rc != CS_OK) {
                goto out_close;
            }
            have = have || delta;
        }
        if (!have) { /* the puller's echo */
            skipped += seq > runs.whole_to ? CS_STORE_SKIP_READ : 1;
            if (skipped >= CS_STORE_SKIP_MAX) {
                covered = seq;
                break;
            }
            continue;
        }
        if (delta && max_bytes != SIZE_MAX) { /* no cap: nothing to count */
            cs_buf_reset(&buf);
            cs_codec_encode_record(delta, CS_CODEC_CANONICAL, &buf);
        }
        total += buf.len;
        self->in_callback++;
        bool go_on = delta
                         ? record_fn(arg, collection, id, delta)
                         : canonical_fn(arg, collection, id, buf.data, buf.len);
        self->in_callback--;
        cs_record_destroy(&delta);
        if (!go_on || total >= max_bytes) {
            covered = seq;
            break;
        }
    }
    if (mdb_rc != MDB_SUCCESS && mdb_rc != MDB_NOTFOUND) {
        rc = s_from_mdb(mdb_rc, "mdb_cursor_get (feed)");
    }
out_close:
    mdb_cursor_close(cursor);
out_done:
    if (rc == CS_OK) {
        *last_seq = covered;
        *head = feed_head;
    }
out_abort:
    mdb_txn_abort(t.txn);
    cs_buf_fini(&buf);
    free(runs.runs);
    return rc;
}

int
cs_store_changes(cs_store_t *self, uint64_t base, uint64_t since,
                 size_t max_bytes, cs_store_record_fn *fn, void *arg,
                 uint64_t *last_seq, uint64_t *head)
{
    assert(fn);
    return s_changes(self, NULL, base, since, max_bytes, fn, NULL, arg,
                     last_seq, head);
}

int
cs_store_changes_to(cs_store_t *self, const cs_store_puller_t *to,
                    uint64_t base, uint64_t since, size_t max_bytes,
                    cs_store_canonical_fn *fn, void *arg, uint64_t *last_seq,
                    uint64_t *head)
{
    assert(fn);
    return s_changes(self, to, base, since, max_bytes, NULL, fn, arg, last_seq,
                     head);
}

typedef struct {
    const char *const *names; /* in */
    size_t n;                 /* in */
    uint32_t *numbers;        /* out, one per name */
} s_number_t;

static int
s_number_cb(s_txn_t *t, void *arg)
{
    s_number_t *ctx = arg;
    for (size_t i = 0; i < ctx->n; i++) {
        ctx->numbers[i] = cs_names_number(t->store->names, ctx->names[i],
                                          strlen(ctx->names[i]), i, true);
    }
    return CS_OK; /* s_write saves the new ones */
}

int
cs_store_number_names(cs_store_t *self, const char *const *names, size_t n,
                      uint32_t *numbers)
{
    assert(self);
    assert(names || n == 0);
    assert(numbers || n == 0);
    for (size_t i = 0; i < n; i++) {
        if (!cs_record_field_name_is_valid(names[i], strlen(names[i]))) {
            return CS_EINVAL;
        }
    }
    s_number_t ctx = { names, n, numbers };
    return s_write(self, s_number_cb, &ctx);
}

const cs_names_t *
cs_store_names(const cs_store_t *self)
{
    assert(self);
    return self->names;
}

int
cs_store_matches(cs_store_t *self, const char *collection, const char *id,
                 const void *canonical, size_t len, bool *same)
{
    assert(self);
    assert(collection);
    assert(id);
    assert(canonical || len == 0);
    assert(same);
    *same = false;
    s_key_t key;
    int rc = s_key_make(collection, id, &key);
    if (rc != CS_OK) {
        return rc;
    }
    s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
    rc = s_txn_begin(self, MDB_RDONLY, &t.txn);
    if (rc != CS_OK) {
        return rc;
    }
    MDB_val k = { key.len, key.data };
    MDB_val v;
    rc = s_get(&t, self->records, &k, &v);
    if (rc == CS_OK) {
        cs_buf_t scratch;
        cs_buf_init(&scratch);
        *same = cs_codec_stored_matches(v.mv_data, v.mv_size, canonical, len,
                                        self->names, &scratch);
        cs_buf_fini(&scratch);
    }
    mdb_txn_abort(t.txn);
    return rc;
}

/* ---------------- merging remote deltas ---------------- */

/*  The merge logic shared by cs_store_apply and cs_store_import: one
 *  s_merge_t per write transaction (s_merge_begin, s_merge_key for each
 *  record, s_merge_end), so both merge, stamp the clock and move the feed
 *  the same way. */

/* The merges of one write transaction. */
typedef struct {
    cs_hlc_clock_t clk; /* local HLC, advanced by each remote stamp */
    uint64_t last_hlc;  /* its value in meta when the transaction began */
    uint64_t wall_ms;   /* wall clock, read once per transaction */
    uint64_t old_head;  /* feed head when the transaction began */
    uint64_t head;      /* feed head now: bumped by each changed record */
    size_t skewed;      /* remote stamps beyond max drift so far */
    cs_buf_t *buf;      /* encoding scratch, reused for every record */
} s_merge_t;

/* What merging a group of deltas did to one record. */
typedef struct {
    bool existed;     /* a record was stored under the key before */
    bool was_visible; /* it had a visible field before */
    bool is_visible;  /* it has one after */
    size_t parts;     /* fields + tombstones that changed */
} s_merged_t;

/*  Read the feed head and the last HLC for the merges to come. */
static int
s_merge_begin(s_txn_t *t, s_merge_t *m, cs_buf_t *buf)
{
    cs_store_t *self = t->store;
    memset(m, 0, sizeof *m);
    m->buf = buf;
    int rc = s_meta_get(t, S_META_FEED_HEAD, &m->old_head);
    if (rc == CS_OK) {
        rc = s_meta_get(t, S_META_LAST_HLC, &m->last_hlc);
    }
    if (rc != CS_OK) {
        return rc;
    }
    m->head = m->old_head;
    cs_hlc_clock_init(&m->clk, m->last_hlc, self->max_drift_ms);
    m->wall_ms = s_wall_ms(self);
    return CS_OK;
}

/*  Take in the stamps of @p remote on the local clock; count a skew. */
static void
s_merge_clock(s_merge_t *m, const cs_record_t *remote)
{
    cs_hlc_t remote_hlc = cs_record_max_hlc(remote);
    cs_hlc_t received;
    if (remote_hlc != 0 && cs_hlc_update(&m->clk, remote_hlc, m->wall_ms,
                                         &received) == CS_EDRIFT) {
        m->skewed++;
    }
}

/*  s_merge_key for one delta with its canonical bytes, whose key holds no
 *  record: what merging it into an empty record would store, stored from
 *  those bytes (every part at the next feed seq). */
static int
s_merge_new(s_txn_t *t, s_merge_t *m, const s_key_t *key,
            const cs_store_delta_t *delta, bool append, s_merged_t *out)
{
    const cs_record_t *remote = delta->record;
    s_merge_clock(m, remote);
    out->parts = cs_record_field_count(remote) +
                 (cs_record_tombstone(remote, NULL, NULL) ? 1u : 0u);
    out->is_visible = cs_record_field_count(remote) > 0;
    if (out->parts == 0) {
        return CS_OK;
    }
    uint64_t seq = m->head + 1;
    cs_buf_reset(m->buf);
    int rc = cs_codec_stored_from_canonical(
        delta->canonical, delta->canonical_len, seq, t->store->names, m->buf);
    if (rc != CS_OK) {
        s_log("a delta's canonical bytes do not fit its record");
        return CS_EINVAL;
    }
    rc = s_record_put(t, key, m->buf, 0, seq, append ? MDB_APPEND : 0, NULL);
    if (rc == CS_OK) {
        m->head = seq;
    }
    return rc;
}

/*  Merge the @p count deltas at @p group, all for record @p key, in turn
 *  into the stored record, and take in their stamps on the local clock. A
 *  record that changed is stored once, under the next feed seq. With
 *  @p append the caller knows that @p key sorts after every key in
 *  "records": it is not looked up, and is appended. */
static int
s_merge_key(s_txn_t *t, s_merge_t *m, const s_key_t *key,
            const cs_store_delta_t *const *group, size_t count, bool append,
            s_merged_t *out)
{
    memset(out, 0, sizeof *out);
    cs_record_t *rec = NULL;
    int rc = append ? CS_ENOENT : s_record_load(t, key, &rec);
    if (rc == CS_ENOENT && count == 1 && group[0]->canonical) {
        return s_merge_new(t, m, key, group[0], append, out);
    }
    if (rc == CS_OK) {
        out->existed = true;
    } else if (rc == CS_ENOENT) {
        rec = cs_record_new();
        rc = CS_OK;
    } else {
        goto out_free_rec;
    }
    out->was_visible = cs_record_field_count(rec) > 0;
    uint64_t old_seq = cs_record_max_seq(rec);
    uint64_t seq = m->head + 1;
    for (size_t i = 0; i < count; i++) {
        const cs_record_t *remote = group[i]->record;
        s_merge_clock(m, remote);
        size_t parts = 0;
        rc = cs_record_merge(rec, remote, seq, &parts);
        if (rc != CS_OK) {
            goto out_free_rec;
        }
        out->parts += parts;
    }
    out->is_visible = cs_record_field_count(rec) > 0;
    if (out->parts > 0) {
        rc = s_record_store(t, key, rec, old_seq, seq, append ? MDB_APPEND : 0,
                            m->buf);
        if (rc == CS_OK) {
            m->head = seq;
        }
    }
out_free_rec:
    cs_record_destroy(&rec);
    return rc;
}

/*  Write back the feed head and the HLC if the merges moved them. */
static int
s_merge_end(s_txn_t *t, const s_merge_t *m)
{
    int rc = CS_OK;
    if (m->head != m->old_head) {
        rc = s_meta_put(t, S_META_FEED_HEAD, m->head);
    }
    if (rc == CS_OK && m->clk.last != m->last_hlc) {
        rc = s_meta_put(t, S_META_LAST_HLC, m->clk.last);
    }
    return rc;
}

/*  LMDB's default key order: bytewise, then the shorter first. */
static int
s_key_compare(const s_key_t *a, const s_key_t *b)
{
    size_t len = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, len);
    if (c != 0) {
        return c;
    }
    return (a->len > b->len) - (a->len < b->len);
}

/*  The last key in "records" into @p last; *@p found is false when there
 *  is none. */
static int
s_records_last(s_txn_t *t, s_key_t *last, bool *found)
{
    *found = false;
    MDB_cursor *cursor = NULL;
    int rc = s_from_mdb(mdb_cursor_open(t->txn, t->store->records, &cursor),
                        "mdb_cursor_open");
    if (rc != CS_OK) {
        return rc;
    }
    MDB_val key;
    MDB_val val;
    int mdb_rc = mdb_cursor_get(cursor, &key, &val, MDB_LAST);
    if (mdb_rc == MDB_SUCCESS && key.mv_size > S_KEY_MAX) {
        s_log("record key of %zu bytes", key.mv_size);
        rc = CS_ECORRUPT;
    } else if (mdb_rc == MDB_SUCCESS) {
        memcpy(last->data, key.mv_data, key.mv_size);
        last->len = key.mv_size;
        *found = true;
    } else if (mdb_rc != MDB_NOTFOUND) {
        rc = s_from_mdb(mdb_rc, "mdb_cursor_get (records, last)");
    }
    mdb_cursor_close(cursor);
    return rc;
}

/* ---------------- remote changes and peers ---------------- */

typedef struct {
    const cs_store_delta_t *deltas; /* the batch */
    const s_key_t *keys;            /* their keys, checked */
    size_t n;                       /* batch length */
    uint64_t peer_id;               /* whose cursor */
    const cs_store_peer_t *cursor;  /* the new cursor, or NULL */
    cs_buf_t *buf;                  /* encoding scratch */
    cs_store_apply_stats_t stats;   /* out; reset by each attempt */
} s_apply_t;

static int
s_apply_cb(s_txn_t *t, void *arg)
{
    s_apply_t *ctx = arg;
    cs_store_t *self = t->store;
    memset(&ctx->stats, 0, sizeof ctx->stats);
    s_merge_t m;
    int rc = s_merge_begin(t, &m, ctx->buf);
    if (rc != CS_OK) {
        return rc;
    }
    /* Keys after the last one in "records" are absent: they need no lookup
     * and are appended, which fills LMDB pages instead of splitting them.
     * A catch-up receives a peer's records mostly in key order. */
    s_key_t first_last;
    bool has_last = false;
    rc = s_records_last(t, &first_last, &has_last);
    if (rc != CS_OK) {
        return rc;
    }
    const s_key_t *last = &first_last;
    /* One delta at a time, in the given order: each changed one takes its
     * own feed seq, even when a key repeats. */
    for (size_t i = 0; i < ctx->n; i++) {
        const cs_store_delta_t *delta = &ctx->deltas[i];
        bool append = !has_last || s_key_compare(&ctx->keys[i], last) > 0;
        s_merged_t merged;
        rc = s_merge_key(t, &m, &ctx->keys[i], &delta, 1, append, &merged);
        if (rc != CS_OK) {
            return rc;
        }
        if (append && merged.parts > 0) {
            last = &ctx->keys[i]; /* stored: the last key now */
            has_last = true;
        }
        if (merged.parts > 0) {
            ctx->stats.records_changed++;
            ctx->stats.parts_changed += merged.parts;
        }
    }
    ctx->stats.skewed = m.skewed;
    rc = s_merge_end(t, &m);
    if (rc == CS_OK && ctx->cursor && m.head > m.old_head) {
        rc = s_runs_add(t, ctx->peer_id, ctx->cursor->epoch, m.old_head + 1,
                        m.head);
    }
    if (rc == CS_OK && ctx->cursor) {
        uint8_t id_bytes[8];
        uint8_t value[S_PEER_VALUE];
        s_be64_put(id_bytes, ctx->peer_id);
        s_be64_put(value, ctx->cursor->epoch);
        s_be64_put(value + 8, ctx->cursor->cursor);
        s_be64_put(value + 16, ctx->cursor->base);
        MDB_val key = { sizeof id_bytes, id_bytes };
        MDB_val val = { sizeof value, value };
        rc = s_put(t, self->peers, &key, &val, 0);
    }
    return rc;
}

int
cs_store_apply(cs_store_t *self, const cs_store_delta_t *deltas, size_t n,
               uint64_t peer_id, const cs_store_peer_t *cursor,
               cs_store_apply_stats_t *stats)
{
    assert(self);
    assert(deltas || n == 0);
    if (stats) {
        memset(stats, 0, sizeof *stats);
    }
    s_key_t *keys = n ? calloc(n, sizeof *keys) : NULL;
    if (n && !keys) {
        abort();
    }
    int rc = CS_OK;
    for (size_t i = 0; i < n && rc == CS_OK; i++) {
        assert(deltas[i].record);
        if (!deltas[i].collection || !deltas[i].id) {
            rc = CS_EINVAL;
        } else {
            rc = s_key_make(deltas[i].collection, deltas[i].id, &keys[i]);
        }
    }
    if (rc != CS_OK) {
        goto out_free_keys;
    }
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_apply_t ctx = { .deltas = deltas,
                      .keys = keys,
                      .n = n,
                      .peer_id = peer_id,
                      .cursor = cursor,
                      .buf = &buf };
    rc = s_write(self, s_apply_cb, &ctx);
    cs_buf_fini(&buf);
    if (rc != CS_OK) {
        goto out_free_keys;
    }
    if (ctx.stats.skewed > 0) {
        s_log("peer %016llx: %zu remote stamp(s) more than %llu ms ahead; "
              "merged without moving the local clock",
              (unsigned long long) peer_id, ctx.stats.skewed,
              (unsigned long long) self->max_drift_ms);
    }
    if (stats) {
        *stats = ctx.stats;
    }
out_free_keys:
    free(keys);
    return rc;
}

/* ---------------- bulk import and checkpoints ---------------- */

/* The meta key of a checkpoint: S_META_CKPT + name. */
typedef struct {
    uint8_t data[sizeof S_META_CKPT - 1 + S_CKPT_NAME_MAX]; /* bytes */
    size_t len;                                             /* used */
} s_ckpt_key_t;

/*  Build the meta key of checkpoint @p name (1 to S_CKPT_NAME_MAX bytes).
 *  @return CS_OK or CS_EINVAL. */
static int
s_ckpt_key_make(const char *name, s_ckpt_key_t *key)
{
    if (!name) {
        return CS_EINVAL;
    }
    size_t len = strnlen(name, S_CKPT_NAME_MAX + 1);
    if (len == 0 || len > S_CKPT_NAME_MAX) {
        return CS_EINVAL;
    }
    size_t prefix_len = sizeof S_META_CKPT - 1;
    memcpy(key->data, S_META_CKPT, prefix_len);
    memcpy(key->data + prefix_len, name, len);
    key->len = prefix_len + len;
    return CS_OK;
}

/*  Order two deltas (pointed to by @p a and @p b) by key, as LMDB orders
 *  "collection \0 id" (bytewise, a prefix first). Comparing collections
 *  and then ids with strcmp gives that order, since the NUL that ends a
 *  collection sorts before any byte of a longer one. Equal keys keep their
 *  order in the batch. For qsort. */
static int
s_delta_order(const void *a, const void *b)
{
    const cs_store_delta_t *da = *(const cs_store_delta_t *const *) a;
    const cs_store_delta_t *db = *(const cs_store_delta_t *const *) b;
    int c = strcmp(da->collection, db->collection);
    if (c == 0) {
        c = strcmp(da->id, db->id);
    }
    if (c == 0) {
        c = (da > db) - (da < db);
    }
    return c;
}

static bool
s_delta_same_key(const cs_store_delta_t *a, const cs_store_delta_t *b)
{
    return strcmp(a->id, b->id) == 0 &&
           strcmp(a->collection, b->collection) == 0;
}

/* A checkpoint to store with a batch. */
typedef struct {
    s_ckpt_key_t key; /* where it goes */
    const void *data; /* NULL: leave the stored one as it is */
    size_t len;       /* its bytes */
} s_ckpt_t;

/*  Check @p name and @p len and fill @p ckpt. @return CS_OK or CS_EINVAL. */
static int
s_ckpt_make(const char *name, const void *data, size_t len, s_ckpt_t *ckpt)
{
    assert(data || len == 0);
    memset(ckpt, 0, sizeof *ckpt);
    if (data || name) {
        int rc = s_ckpt_key_make(name, &ckpt->key);
        if (rc != CS_OK) {
            return rc;
        }
    }
    if (len > CS_STORE_CHECKPOINT_MAX) {
        return CS_EINVAL;
    }
    ckpt->data = data;
    ckpt->len = len;
    return CS_OK;
}

static int
s_ckpt_put(s_txn_t *t, const s_ckpt_t *ckpt)
{
    if (!ckpt->data) {
        return CS_OK;
    }
    MDB_val key = { ckpt->key.len, (void *) (uintptr_t) ckpt->key.data };
    MDB_val val = { ckpt->len, (void *) (uintptr_t) ckpt->data };
    return s_put(t, t->store->meta, &key, &val, 0);
}

typedef struct {
    const cs_store_delta_t *const *sorted; /* the batch, in key order */
    size_t n;                              /* batch length */
    s_ckpt_t ckpt;                         /* stored with the batch */
    cs_buf_t *buf;                         /* encoding scratch */
    cs_store_import_stats_t stats;         /* out; reset by each attempt */
} s_import_t;

/*  Count what merging a batch's deltas for one key did to its record. */
static void
s_import_count(cs_store_import_stats_t *stats, const s_merged_t *merged)
{
    if (merged->parts == 0) {
        stats->records_unchanged++;
    } else if (!merged->existed) {
        stats->records_new++;
    } else if (merged->was_visible && !merged->is_visible) {
        stats->records_deleted++;
    } else {
        stats->records_updated++;
    }
}

static int
s_import_cb(s_txn_t *t, void *arg)
{
    s_import_t *ctx = arg;
    memset(&ctx->stats, 0, sizeof ctx->stats);
    s_merge_t m;
    int rc = s_merge_begin(t, &m, ctx->buf);
    if (rc != CS_OK) {
        return rc;
    }
    /* Keys after the last one in "records" are absent: they need no lookup
     * and can be appended, which fills LMDB pages instead of splitting
     * them. The batch is sorted, so once past the last key we stay past. */
    s_key_t last;
    bool has_last = false;
    rc = s_records_last(t, &last, &has_last);
    if (rc != CS_OK) {
        return rc;
    }
    bool append = !has_last;
    size_t i = 0;
    while (i < ctx->n) {
        size_t count = 1;
        while (i + count < ctx->n &&
               s_delta_same_key(ctx->sorted[i], ctx->sorted[i + count])) {
            count++;
        }
        /* Checked by cs_store_import before the transaction. */
        const cs_store_delta_t *delta = ctx->sorted[i];
        s_key_t key;
        s_key_fill(delta->collection, strlen(delta->collection), delta->id,
                   strlen(delta->id), &key);
        if (!append) {
            append = s_key_compare(&key, &last) > 0;
        }
        s_merged_t merged;
        rc = s_merge_key(t, &m, &key, ctx->sorted + i, count, append, &merged);
        if (rc != CS_OK) {
            return rc;
        }
        s_import_count(&ctx->stats, &merged);
        i += count;
    }
    ctx->stats.skewed = m.skewed;
    rc = s_merge_end(t, &m);
    if (rc == CS_OK) {
        rc = s_ckpt_put(t, &ctx->ckpt);
    }
    return rc;
}

int
cs_store_import(cs_store_t *self, const cs_store_delta_t *deltas, size_t n,
                const char *name, const void *checkpoint, size_t checkpoint_len,
                cs_store_import_stats_t *stats)
{
    assert(self);
    assert(deltas || n == 0);
    if (stats) {
        memset(stats, 0, sizeof *stats);
    }
    s_ckpt_t ckpt;
    int rc = s_ckpt_make(name, checkpoint, checkpoint_len, &ckpt);
    if (rc != CS_OK) {
        return rc;
    }
    /* Sort pointers, not deltas: the batch is the caller's, and a pointer
     * is all the write loop needs. Exports are often in id order already,
     * so check before sorting. */
    const cs_store_delta_t **sorted = n ? malloc(n * sizeof *sorted) : NULL;
    if (n && !sorted) {
        abort();
    }
    bool in_order = true;
    for (size_t i = 0; i < n && rc == CS_OK; i++) {
        assert(deltas[i].record);
        s_key_t key;
        if (!deltas[i].collection || !deltas[i].id) {
            rc = CS_EINVAL;
        } else {
            rc = s_key_make(deltas[i].collection, deltas[i].id, &key);
        }
        sorted[i] = &deltas[i];
        if (rc == CS_OK && i > 0 && in_order) {
            in_order = s_delta_order(&sorted[i - 1], &sorted[i]) < 0;
        }
    }
    if (rc != CS_OK) {
        goto out_free_sorted;
    }
    if (!in_order) {
        qsort(sorted, n, sizeof *sorted, s_delta_order);
    }
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_import_t ctx = { .sorted = sorted, .n = n, .ckpt = ckpt, .buf = &buf };
    rc = s_write(self, s_import_cb, &ctx);
    cs_buf_fini(&buf);
    if (rc != CS_OK) {
        goto out_free_sorted;
    }
    if (ctx.stats.skewed > 0) {
        s_log("import: %zu stamp(s) more than %llu ms ahead; merged without "
              "moving the local clock",
              ctx.stats.skewed, (unsigned long long) self->max_drift_ms);
    }
    if (stats) {
        *stats = ctx.stats;
    }
out_free_sorted:
    free(sorted);
    return rc;
}

typedef struct {
    const char *collection;        /* of every item */
    const cs_store_new_t *items;   /* the batch, in key order */
    size_t n;                      /* batch length */
    s_ckpt_t ckpt;                 /* stored with the batch */
    cs_buf_t *buf;                 /* encoding scratch */
    cs_store_import_stats_t stats; /* out; reset by each attempt */
} s_append_t;

static int
s_append_cb(s_txn_t *t, void *arg)
{
    s_append_t *ctx = arg;
    memset(&ctx->stats, 0, sizeof ctx->stats);
    s_merge_t m;
    int rc = s_merge_begin(t, &m, ctx->buf);
    if (rc != CS_OK) {
        return rc;
    }
    s_key_t keys[2]; /* the previous key and this one, in turn */
    bool has_prev = false;
    rc = s_records_last(t, &keys[1], &has_prev);
    s_tail_t tail;
    if (rc == CS_OK) {
        rc = s_tail_open(t, &tail);
    }
    size_t clen = s_collection_len(ctx->collection);
    if (rc == CS_OK && clen == SIZE_MAX) {
        rc = CS_EINVAL;
    }
    for (size_t i = 0; i < ctx->n && rc == CS_OK; i++) {
        const cs_store_new_t *item = &ctx->items[i];
        s_key_t *key = &keys[i % 2], *prev = &keys[(i + 1) % 2];
        rc = s_key_make_in(ctx->collection, clen, item->id, key);
        if (rc != CS_OK) {
            break;
        }
        if (has_prev && s_key_compare(key, prev) <= 0) {
            rc = CS_EINVAL; /* not new, or not in order: nothing is stored */
            break;
        }
        has_prev = true;
        cs_hlc_t received;
        if (item->max_hlc != 0 &&
            cs_hlc_update(&m.clk, item->max_hlc, m.wall_ms, &received) ==
                CS_EDRIFT) {
            m.skewed++;
        }
        uint64_t seq = m.head + 1;
        cs_buf_reset(m.buf);
        if (cs_codec_stored_from_canonical(item->canonical, item->len, seq,
                                           t->store->names, m.buf) != CS_OK) {
            rc = CS_EINVAL;
            break;
        }
        rc = s_record_put(t, key, m.buf, 0, seq, MDB_APPEND, &tail);
        if (rc == CS_OK) {
            m.head = seq;
            ctx->stats.records_new++;
        }
    }
    if (rc != CS_OK) {
        return rc;
    }
    ctx->stats.skewed = m.skewed;
    rc = s_merge_end(t, &m);
    if (rc == CS_OK) {
        rc = s_ckpt_put(t, &ctx->ckpt);
    }
    return rc;
}

int
cs_store_append_new(cs_store_t *self, const char *collection,
                    const cs_store_new_t *items, size_t n, const char *name,
                    const void *checkpoint, size_t checkpoint_len,
                    cs_store_import_stats_t *stats)
{
    assert(self);
    assert(collection);
    assert(items || n == 0);
    if (stats) {
        memset(stats, 0, sizeof *stats);
    }
    s_ckpt_t ckpt;
    int rc = s_ckpt_make(name, checkpoint, checkpoint_len, &ckpt);
    if (rc != CS_OK) {
        return rc;
    }
    cs_buf_t buf;
    cs_buf_init(&buf);
    s_append_t ctx = { .collection = collection,
                       .items = items,
                       .n = n,
                       .ckpt = ckpt,
                       .buf = &buf };
    rc = s_write(self, s_append_cb, &ctx);
    cs_buf_fini(&buf);
    if (rc != CS_OK) {
        return rc;
    }
    if (ctx.stats.skewed > 0) {
        s_log("append: %zu stamp(s) more than %llu ms ahead; stored without "
              "moving the local clock",
              ctx.stats.skewed, (unsigned long long) self->max_drift_ms);
    }
    if (stats) {
        *stats = ctx.stats;
    }
    return CS_OK;
}

int
cs_store_checkpoint_get(cs_store_t *self, const char *name, void *buf,
                        size_t cap, size_t *len)
{
    assert(self);
    assert(buf || cap == 0);
    assert(len);
    *len = 0;
    s_ckpt_key_t ckpt_key;
    int rc = s_ckpt_key_make(name, &ckpt_key);
    if (rc != CS_OK) {
        return rc;
    }
    s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
    rc = s_txn_begin(self, MDB_RDONLY, &t.txn);
    if (rc != CS_OK) {
        return rc;
    }
    MDB_val key = { ckpt_key.len, ckpt_key.data };
    MDB_val val;
    rc = s_get(&t, self->meta, &key, &val);
    if (rc == CS_OK && val.mv_size > CS_STORE_CHECKPOINT_MAX) {
        s_log("checkpoint %s has %zu bytes, more than %u", name, val.mv_size,
              CS_STORE_CHECKPOINT_MAX);
        rc = CS_ECORRUPT;
    }
    if (rc == CS_OK) {
        *len = val.mv_size;
        if (val.mv_size > cap) {
            rc = CS_ELIMIT;
        } else if (val.mv_size > 0) {
            memcpy(buf, val.mv_data, val.mv_size);
        }
    }
    mdb_txn_abort(t.txn);
    return rc;
}

static int
s_ckpt_clear_cb(s_txn_t *t, void *arg)
{
    const s_ckpt_key_t *ckpt_key = arg;
    MDB_val key = { ckpt_key->len, (void *) (uintptr_t) ckpt_key->data };
    int rc = s_del(t, t->store->meta, &key);
    return rc == CS_ENOENT ? CS_OK : rc;
}

int
cs_store_checkpoint_clear(cs_store_t *self, const char *name)
{
    assert(self);
    s_ckpt_key_t ckpt_key;
    int rc = s_ckpt_key_make(name, &ckpt_key);
    if (rc != CS_OK) {
        return rc;
    }
    return s_write(self, s_ckpt_clear_cb, &ckpt_key);
}

int
cs_store_peer_get(cs_store_t *self, uint64_t peer_id, cs_store_peer_t *peer)
{
    assert(self);
    assert(peer);
    s_txn_t t = { .store = self, .txn = NULL, .mdb_rc = 0 };
    int rc = s_txn_begin(self, MDB_RDONLY, &t.txn);
    if (rc != CS_OK) {
        return rc;
    }
    uint8_t id_bytes[8];
    s_be64_put(id_bytes, peer_id);
    MDB_val key = { sizeof id_bytes, id_bytes };
    MDB_val val;
    rc = s_get(&t, self->peers, &key, &val);
    if (rc == CS_OK && val.mv_size < S_PEER_VALUE_MIN) {
        s_log("peer %016llx: cursor of %zu bytes", (unsigned long long) peer_id,
              val.mv_size);
        rc = CS_ECORRUPT;
    }
    if (rc == CS_OK) {
        const uint8_t *bytes = val.mv_data;
        peer->epoch = s_be64_get(bytes);
        peer->cursor = s_be64_get(bytes + 8);
        peer->base = val.mv_size >= S_PEER_VALUE ? s_be64_get(bytes + 16) : 0;
    }
    mdb_txn_abort(t.txn);
    return rc;
}

/* ---------------- digest ---------------- */

typedef struct {
    crypto_generichash_state *states; /* one per bucket */
    cs_buf_t buf;                     /* canonical encoding scratch */
    int rc;                           /* first failure */
} s_digest_t;

static bool
s_digest_visit(void *arg, const MDB_val *key, const cs_record_t *rec)
{
    s_digest_t *ctx = arg;
    uint8_t key_hash[crypto_generichash_BYTES];
    crypto_generichash(key_hash, sizeof key_hash, key->mv_data, key->mv_size,
                       NULL, 0);
    cs_buf_reset(&ctx->buf);
    cs_codec_encode_record(rec, CS_CODEC_CANONICAL, &ctx->buf);
    /* Length-prefixed, so (key, record) pairs cannot run into each other. */
    crypto_generichash_state *state = &ctx->states[key_hash[0]];
    uint8_t len_bytes[4];
    s_be_put(len_bytes, 4, key->mv_size);
    crypto_generichash_update(state, len_bytes, sizeof len_bytes);
    crypto_generichash_update(state, key->mv_data, key->mv_size);
    s_be_put(len_bytes, 4, ctx->buf.len);
    crypto_generichash_update(state, len_bytes, sizeof len_bytes);
    crypto_generichash_update(state, ctx->buf.data, ctx->buf.len);
    return true;
}

int
cs_store_digest(cs_store_t *self, uint8_t digest[CS_STORE_DIGEST_BYTES],
                uint8_t (*buckets)[CS_STORE_DIGEST_BYTES])
{
    assert(self);
    assert(digest);
    _Static_assert(CS_STORE_DIGEST_BUCKETS == 256, "bucket = 1 hash byte");
    _Static_assert(CS_STORE_DIGEST_BYTES <= crypto_generichash_BYTES_MAX,
                   "digest size");
    s_digest_t ctx = { .states = NULL, .rc = CS_OK };
    size_t states_size =
        CS_STORE_DIGEST_BUCKETS * sizeof(crypto_generichash_state);
    ctx.states = aligned_alloc(64, states_size);
    uint8_t(*all)[CS_STORE_DIGEST_BYTES] =
        calloc(CS_STORE_DIGEST_BUCKETS, sizeof *all);
    if (!ctx.states || !all) {
        abort();
    }
    cs_buf_init(&ctx.buf);
    for (size_t i = 0; i < CS_STORE_DIGEST_BUCKETS; i++) {
        crypto_generichash_init(&ctx.states[i], NULL, 0, CS_STORE_DIGEST_BYTES);
    }
    int rc = s_records_walk(self, NULL, s_digest_visit, &ctx);
    if (rc == CS_OK) {
        rc = ctx.rc;
    }
    if (rc != CS_OK) {
        goto out_free;
    }
    for (size_t i = 0; i < CS_STORE_DIGEST_BUCKETS; i++) {
        crypto_generichash_final(&ctx.states[i], all[i], CS_STORE_DIGEST_BYTES);
    }
    crypto_generichash(digest, CS_STORE_DIGEST_BYTES, &all[0][0],
                       (size_t) CS_STORE_DIGEST_BUCKETS * sizeof *all, NULL, 0);
    if (buckets) {
        memcpy(buckets, all, CS_STORE_DIGEST_BUCKETS * sizeof *all);
    }
out_free:
    cs_buf_fini(&ctx.buf);
    free(all);
    free(ctx.states);
    return rc;
}
