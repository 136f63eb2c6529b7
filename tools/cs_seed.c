/*  cs_seed - the bulk seed engine: rows of a legacy export to record
 *  deltas, written into the store in large batches by a writer thread.
 *  SPDX-License-Identifier: MIT
 *
 *  The parser thread (the caller's) owns the reader, the mapping plan and
 *  the id set; it fills a batch with deltas (records it builds), the ids
 *  in the batch's arena, and the rejected rows, then queues the batch. The
 *  writer thread owns the store and the rejects file while it runs: it
 *  writes a batch's rejects, syncs the file, and imports the deltas with
 *  the checkpoint in one transaction. S_BATCHES batches circulate between
 *  the two, so the parser runs at most two batches ahead of the writer.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crdt/cs_codec.h"
#include "crdt/cs_hlc.h"
#include "crdt/cs_record.h"
#include "crdt/cs_value.h"
#include "tools/cs_csv.h"
#include "tools/cs_json.h"
#include "tools/cs_jsonl.h"
#include "tools/cs_row.h"
#include "tools/cs_sdl.h"
#include "tools/cs_seed.h"
#include "tools/cs_sfid.h"
#include "tools/cs_spill.h"
#include "tools/cs_time.h"

#define S_BATCHES         3u                 /* batches in circulation */
#define S_BATCH_BYTES_MAX (8u * 1024 * 1024) /* input bytes per batch */
#define S_RAW_MAX         (64u * 1024)       /* raw bytes kept per reject */
#define S_REASON_MAX      256u               /* bytes of one reason */
#define S_CKPT_MAGIC      "CSSEEDCK"
#define S_CKPT_VERSION    2u
#define S_CKPT_KEY        136u /* where the sorted load's last id starts */
#define S_CKPT_BYTES      (S_CKPT_KEY + CS_ID_MAX)
#define S_CKPT_JSONL      1u /* flag: written for JSON Lines */
#define S_CKPT_SORTED     2u /* flag: the sorted load had begun */
#define S_FINGERPRINT     16u
#define S_PROGRESS_NS     100000000 /* at most 10 reports a second */

/* ---------------- messages ---------------- */

static void s_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
s_err(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("crmsync: seed: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

static void *
s_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        abort();
    }
    return p;
}

/*  @p p reallocated to @p cap items of @p item bytes; out of memory aborts. */
static void *
s_resize(void *p, size_t cap, size_t item)
{
    p = realloc(p, cap * item);
    if (!p) {
        abort();
    }
    return p;
}

static void *
s_grow(void *p, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap) {
        return p;
    }
    size_t next = *cap ? *cap : 64;
    while (next < need) {
        next *= 2;
    }
    *cap = next;
    return s_resize(p, next, item);
}

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---------------- id set ---------------- */

/*  The ids seen so far, as 64-bit keyed hashes (0 marks an empty slot),
 *  and for ids seen more than once the number of earlier rows with them
 *  (saturating). Two tables, open addressing with linear probing, each at
 *  most 70% full: every id's hash in "ids", and only repeated ids, with
 *  their counts, in "dups". A lookup of a new id (a cache miss: 16 MB
 *  for a million ids) touches one cache line of 8 bytes an id. */
typedef struct {
    uint64_t *hashes; /* cap slots */
    uint16_t *counts; /* cap slots, or NULL: the table counts nothing */
    size_t cap;       /* slots, a power of two */
    size_t used;      /* hashes held */
} s_hashtab_t;

typedef struct {
    s_hashtab_t ids;  /* every id */
    s_hashtab_t dups; /* ids seen more than once, counted */
    unsigned char key[crypto_shorthash_KEYBYTES]; /* hash key of this run */
} s_idset_t;

#define S_IDSET_FIRST (1u << 16) /* slots at first */
#define S_IDSET_GUESS (1u << 21) /* most ids s_guess_ids makes room for */
#define S_GUESS_ROWS  4096u      /* rows read before s_guess_ids */
#define S_HUGE        (2u << 20) /* bytes of a huge page */

/*  @p bytes (zeroes if @p zero), on huge pages if there are that many and
 *  the system gives them (transparent huge pages "madvise", the default).
 *  For what is large and used all over: each 4 KiB page costs a TLB miss
 *  on use (the id set's lookups) and a page fault when first touched (a
 *  batch's arena: 2,000 faults a batch; in a virtual machine each one
 *  costs several microseconds). */
static void *
s_big_alloc(size_t bytes, bool zero)
{
    void *p = NULL;
    if (bytes < S_HUGE) {
        p = zero ? calloc(1, bytes) : malloc(bytes);
    } else if (posix_memalign(&p, S_HUGE, bytes) == 0) {
        (void) madvise(p, bytes, MADV_HUGEPAGE); /* advice: may be refused */
        if (zero) {
            memset(p, 0, bytes);
        }
    } else {
        p = NULL;
    }
    if (!p) {
        abort();
    }
    return p;
}

static void
s_hashtab_init(s_hashtab_t *t, size_t cap, bool counted)
{
    t->cap = cap;
    t->used = 0;
    t->hashes = s_big_alloc(cap * sizeof *t->hashes, true);
    t->counts = counted ? s_big_alloc(cap * sizeof *t->counts, true) : NULL;
}

static void
s_hashtab_fini(s_hashtab_t *t)
{
    free(t->hashes);
    free(t->counts);
    memset(t, 0, sizeof *t);
}

static size_t
s_hashtab_home(const s_hashtab_t *t, uint64_t h)
{
    return (size_t) (h ^ (h >> 29)) & (t->cap - 1);
}

/*  The slot holding @p h, or the empty one where it would go. */
static size_t
s_hashtab_slot(const s_hashtab_t *t, uint64_t h)
{
    size_t mask = t->cap - 1;
    size_t i = s_hashtab_home(t, h);
    while (t->hashes[i] != 0 && t->hashes[i] != h) {
        i = (i + 1) & mask;
    }
    return i;
}

/*  Grow to the size that holds @p n hashes in all. */
static void
s_hashtab_reserve(s_hashtab_t *t, size_t n)
{
    size_t cap = t->cap;
    while (n * 10 > cap * 7) {
        cap *= 2;
    }
    if (cap == t->cap) {
        return;
    }
    s_hashtab_t old = *t;
    s_hashtab_init(t, cap, old.counts != NULL);
    for (size_t i = 0; i < old.cap; i++) {
        if (old.hashes[i] != 0) {
            size_t slot = s_hashtab_slot(t, old.hashes[i]);
            t->hashes[slot] = old.hashes[i];
            if (old.counts) {
                t->counts[slot] = old.counts[i];
            }
        }
    }
    t->used = old.used;
    s_hashtab_fini(&old);
}

/*  The slot of @p h, added if it was not there (*@p added). */
static size_t
s_hashtab_add(s_hashtab_t *t, uint64_t h, bool *added)
{
    s_hashtab_reserve(t, t->used + 1);
    size_t slot = s_hashtab_slot(t, h);
    *added = t->hashes[slot] == 0;
    if (*added) {
        t->hashes[slot] = h;
        t->used++;
    }
    return slot;
}

static void
s_idset_init(s_idset_t *self)
{
    memset(self, 0, sizeof *self);
    s_hashtab_init(&self->ids, S_IDSET_FIRST, false);
    s_hashtab_init(&self->dups, 64, true);
    randombytes_buf(self->key, sizeof self->key);
}

static void
s_idset_fini(s_idset_t *self)
{
    s_hashtab_fini(&self->ids);
    s_hashtab_fini(&self->dups);
    memset(self, 0, sizeof *self);
}

static uint64_t
s_idset_hash(const s_idset_t *self, const char *id, size_t len)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *) id, len, self->key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h ? h : 1;
}

/*  Start loading the slot of hash @p h, for an s_idset_add a little
 *  later. */
static void
s_idset_prefetch(const s_idset_t *self, uint64_t h)
{
    __builtin_prefetch(&self->ids.hashes[s_hashtab_home(&self->ids, h)], 1);
}

/*  Make room for @p ids ids in all, at once rather than by doubling (each
 *  doubling moves every id). */
static void
s_idset_reserve(s_idset_t *self, size_t ids)
{
    s_hashtab_reserve(&self->ids, ids);
}

/*  Add one row with id hash @p h. @return how many earlier rows had it. */
static uint16_t
s_idset_add(s_idset_t *self, uint64_t h)
{
    bool added;
    (void) s_hashtab_add(&self->ids, h, &added);
    if (added) {
        return 0;
    }
    size_t slot = s_hashtab_add(&self->dups, h, &added); /* may move counts */
    uint16_t *count = &self->dups.counts[slot];
    if (*count < UINT16_MAX) { /* 0 when just added */
        (*count)++;
    }
    return *count;
}

static bool
s_idset_has(const s_idset_t *self, uint64_t h)
{
    return self->ids.hashes[s_hashtab_slot(&self->ids, h)] != 0;
}

/* ---------------- mapping plan ---------------- */

/*  One field a row feeds: from a column, or a constant. */
typedef struct {
    size_t column;        /* index in the row; SIZE_MAX for a constant */
    const char *field;    /* field name (in plan->strings) */
    const char *constant; /* the constant's value, or NULL */
    bool sf_id;           /* normalise the value as a Salesforce id */
} s_target_t;

/*  How the rows of one header (CSV) or key list (JSONL) map to fields. */
typedef struct {
    s_target_t *targets;       /* in column order, constants last */
    size_t target_count;       /* used */
    size_t target_cap;         /* allocated */
    size_t name_bytes;         /* of the targets' field names */
    size_t id_col;             /* index of the id column */
    size_t ts_col;             /* timestamp column, or SIZE_MAX */
    size_t del_col;            /* deleted column, or SIZE_MAX */
    char **names;              /* copy of the column names (JSONL cache key) */
    size_t name_count;         /* entries in names */
    bool valid;                /* built without error */
    char error[S_REASON_MAX];  /* why not, if !valid */
    cs_codec_fields_t *fields; /* the target names, for encoding rows */
} s_plan_t;

static void
s_plan_fini(s_plan_t *plan)
{
    for (size_t i = 0; i < plan->name_count; i++) {
        free(plan->names[i]);
    }
    free(plan->names);
    free(plan->targets);
    cs_codec_fields_destroy(&plan->fields);
    memset(plan, 0, sizeof *plan);
}

/*  Find column @p want among @p names: the exact name, else the one name
 *  equal ignoring ASCII case. @return its index, SIZE_MAX if none, or
 *  SIZE_MAX - 1 if several match. */
static size_t
s_find_column(const char *const *names, size_t count, const char *want)
{
    size_t found = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(names[i], want) == 0) {
            if (found != SIZE_MAX) {
                return SIZE_MAX - 1;
            }
            found = i;
        }
    }
    if (found != SIZE_MAX) {
        return found;
    }
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(names[i], want) == 0) {
            if (found != SIZE_MAX) {
                return SIZE_MAX - 1;
            }
            found = i;
        }
    }
    return found;
}

/*  True if column @p name holds Salesforce ids for --sf-ids: it ends in
 *  "Id" or "ID" (AccountId, OWNERID), so "Paid" and "Valid" do not. */
static bool
s_is_id_column_name(const char *name)
{
    size_t len = strlen(name);
    return len >= 2 && (name[len - 2] == 'I') &&
           (name[len - 1] == 'd' || name[len - 1] == 'D');
}

static void s_plan_fail(s_plan_t *plan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
s_plan_fail(s_plan_t *plan, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(plan->error, sizeof plan->error, fmt, args);
    va_end(args);
    plan->valid = false;
}

static void
s_plan_add(s_plan_t *plan, size_t column, const char *field,
           const char *constant, bool sf_id)
{
    plan->targets = s_grow(plan->targets, &plan->target_cap,
                           plan->target_count + 1, sizeof *plan->targets);
    plan->targets[plan->target_count++] =
        (s_target_t){ column, field, constant, sf_id };
}

static int
s_target_order(const void *a, const void *b)
{
    const s_target_t *ta = a;
    const s_target_t *tb = b;
    return strcmp(ta->field, tb->field);
}

/* ---------------- the run ---------------- */

/*  One rejected row, its text in the batch arena. */
typedef struct {
    uint64_t line;     /* physical line the row starts on */
    uint64_t offset;   /* byte offset of the row */
    size_t reason_off; /* reason, NUL-terminated, in the arena */
    size_t raw_off;    /* raw text in the arena */
    size_t raw_len;    /* bytes kept */
    bool raw_cut;      /* the raw text was longer than S_RAW_MAX */
} s_reject_t;

/*  A delta to sort (s_sort_by_id): its id's sort key and its index. */
typedef struct {
    uint64_t key; /* the id's 8 bytes after the batch's common prefix,
                     big-endian, 0 past its end */
    size_t i;     /* the delta */
} s_sortkey_t;

/*  A batch: the deltas of up to batch_rows rows and the rejects among
 *  them, and where the input stands after them. */
typedef struct {
    cs_buf_t arena;              /* ids, raw records and reject texts */
    cs_store_delta_t *deltas;    /* records owned (NULL while raw); ids
                                    point into arena */
    size_t *id_offs;             /* offset of each delta's id in arena */
    uint16_t *id_lens;           /* its length (at most CS_ID_MAX) */
    uint64_t *lines;             /* line of each delta's row */
    uint64_t *offsets;           /* byte offset of each delta's row */
    uint16_t *earlier;           /* rows of the input before with its id */
    size_t *order;               /* writer: deltas sorted by id, then row */
    s_sortkey_t *sort_keys;      /* writer: s_sort_by_id's scratch */
    s_sortkey_t *sort_spare;     /* ... and its radix sort's */
    cs_store_delta_t *to_import; /* writer: the deltas that change something */
    size_t *raw_offs;            /* raw: each record's canonical bytes in
                                    the arena (decoded only if it cannot
                                    simply be appended) */
    cs_store_new_t *news;        /* raw: the same, for appending */
    size_t n;                    /* deltas used */
    size_t cap;                  /* deltas allocated */
    s_reject_t *rejects;         /* rejected rows, in input order */
    size_t reject_count;         /* used */
    size_t reject_cap;           /* allocated */
    size_t rows;                 /* rows of this run the batch covers */
    size_t input_bytes;          /* input bytes they took */
    uint64_t end_offset;         /* input offset after the batch's last row */
    uint64_t last_line;          /* line of the batch's last row */
    uint64_t rows_total;         /* rows read up to here, all runs */
    uint64_t rejected_total;     /* rows rejected by the parser, all runs */
    uint64_t dups_total;         /* duplicates up to here, all runs */
    bool sorted;                 /* a batch of the sorted load, in id order */
    bool rising;                 /* each id is above the one before */
    bool raw;                    /* deltas come as canonical bytes (news),
                                    records are NULL until decoded */
} s_batch_t;

/*  The decoded checkpoint. */
typedef struct {
    uint32_t flags;                     /* S_CKPT_JSONL, S_CKPT_SORTED */
    uint64_t dev;                       /* input identity: device */
    uint64_t ino;                       /* inode */
    uint64_t size;                      /* size in bytes */
    int64_t mtime_ns;                   /* modification time */
    uint8_t fingerprint[S_FINGERPRINT]; /* of the options */
    uint64_t offset;                    /* resume at this byte */
    uint64_t last_line;                 /* line of the last row loaded */
    uint64_t rows;                      /* rows read before it */
    uint64_t rejected;                  /* rows rejected before it */
    uint64_t duplicates;                /* duplicates before it */
    uint64_t rejects_size;              /* bytes of the rejects file then */
    int64_t as_of_ms;                   /* the as-of time used */
    uint64_t writer_rejected;           /* rows the store refused before it */
    size_t key_len;                     /* S_CKPT_SORTED: bytes of key */
    char key[CS_ID_MAX + 1];            /* the last id the sorted load
                                           committed (NUL-terminated) */
} s_ckpt_t;

typedef struct {
    const cs_seed_opts_t *opts;      /* the caller's */
    cs_seed_stats_t *stats;          /* the caller's */
    cs_store_t *store;               /* the writer's while it runs */
    char ckpt_name[80];              /* "seed:" + collection */
    bool write_ckpt;                 /* a seekable, identified input */
    bool fresh;                      /* the collection was empty at the start */
    bool merge_dups;                 /* the id set is not used: duplicates are
                                        counted where the sorted load brings
                                        an id's rows together (s_merge_dups) */
    s_ckpt_t ident;                  /* identity + fingerprint of this run */
    int64_t as_of_ms;                /* stamp without a timestamp column */
    cs_sdl_t *map;                   /* --map, or NULL */
    s_plan_t plan;                   /* the current mapping */
    bool is_csv;                     /* the input is CSV */
    cs_csv_t *csv;                   /* the reader, if CSV */
    cs_jsonl_t *jsonl;               /* the reader, if JSON Lines */
    int fd;                          /* the input */
    s_idset_t ids;                   /* ids seen */
    uint64_t replay_until;           /* rows ending at or before: replay only */
    uint64_t rows_total;             /* rows read, all runs */
    uint64_t rejected_total;         /* rejected by the parser, all runs */
    uint64_t dups_total;             /* duplicates, all runs */
    uint64_t rejected_run;           /* rejected by the parser, this run */
    FILE *rejects;                   /* the rejects file, or NULL */
    uint64_t rejects_size;           /* its size after the last sync */
    uint64_t writer_rejected;        /* rows the store refused, all runs */
    uint64_t writer_rejected_run;    /* the same, this run (atomic) */
    uint64_t writer_dups;            /* writer: duplicates it found */
    cs_value_t *vals;                /* the current row's field values, in
                                        plan order (s_check_fields) */
    char (*norms)[CS_SFID_LONG + 1]; /* normalised Salesforce ids */
    size_t vals_cap;                 /* entries allocated in the three */
    uint64_t parsed_offset;          /* input offset after the last row read */
    uint64_t parsed_line;            /* line of the last row read */
    /* the sorted load (see s_spill_batch) */
    cs_spill_t *spill;              /* runs of batches, or NULL: no sorting */
    bool spilling;                  /* writer: batches go to the spill now */
    char direct_max[CS_ID_MAX + 1]; /* largest id imported before spilling */
    size_t direct_max_len;          /* its length; 0: none */
    bool resume_sorted;             /* resuming an interrupted sorted load */
    char resume_key[CS_ID_MAX + 1]; /* its last committed id */
    size_t resume_key_len;          /* bytes */
    /* the queue */
    pthread_mutex_t mu;              /* guards what follows */
    pthread_cond_t cv;               /* signalled on every change */
    s_batch_t *full[S_BATCHES];      /* queued for the writer, FIFO */
    size_t full_head;                /* first queued */
    size_t full_count;               /* queued */
    s_batch_t *free_list[S_BATCHES]; /* ready for the parser */
    size_t free_count;               /* ready */
    bool closed;                     /* the parser queues no more */
    bool failed;                     /* the writer stopped on an error */
    int writer_rc;                   /* its error */
    s_batch_t batches[S_BATCHES];    /* the storage */
} s_seed_t;

/* ---------------- batches ---------------- */

/*  The arena's bytes at @p off (valid until it next grows). */
static char *
s_arena_at(const s_batch_t *batch, size_t off)
{
    return (char *) batch->arena.data + off;
}

/*  Copy @p len bytes at @p s and a NUL into the arena. @return their
 *  offset. */
static size_t
s_arena_put(s_batch_t *batch, const char *s, size_t len)
{
    size_t off = batch->arena.len;
    cs_buf_append(&batch->arena, s, len);
    cs_buf_append(&batch->arena, "", 1);
    return off;
}

static void
s_batch_reset(s_batch_t *batch)
{
    for (size_t i = 0; i < batch->n; i++) {
        cs_record_t *rec = (cs_record_t *) (uintptr_t) batch->deltas[i].record;
        cs_record_destroy(&rec);
    }
    batch->n = 0;
    batch->rising = true;
    cs_buf_reset(&batch->arena);
    batch->reject_count = 0;
    batch->rows = 0;
    batch->input_bytes = 0;
    batch->sorted = false;
    batch->raw = false;
}

static void
s_batch_fini(s_batch_t *batch)
{
    s_batch_reset(batch);
    cs_buf_fini(&batch->arena);
    free(batch->deltas);
    free(batch->id_offs);
    free(batch->id_lens);
    free(batch->lines);
    free(batch->offsets);
    free(batch->earlier);
    free(batch->order);
    free(batch->sort_keys);
    free(batch->sort_spare);
    free(batch->to_import);
    free(batch->raw_offs);
    free(batch->news);
    free(batch->rejects);
    memset(batch, 0, sizeof *batch);
}

/*  Make room for @p cap rows in the parallel arrays of the batch (one
 *  capacity for them all). */
static void
s_batch_reserve(s_batch_t *batch, size_t cap)
{
    if (cap > batch->cap) {
        batch->deltas = s_resize(batch->deltas, cap, sizeof *batch->deltas);
        batch->id_offs = s_resize(batch->id_offs, cap, sizeof *batch->id_offs);
        batch->id_lens = s_resize(batch->id_lens, cap, sizeof *batch->id_lens);
        batch->lines = s_resize(batch->lines, cap, sizeof *batch->lines);
        batch->offsets = s_resize(batch->offsets, cap, sizeof *batch->offsets);
        batch->earlier = s_resize(batch->earlier, cap, sizeof *batch->earlier);
        batch->order = s_resize(batch->order, cap, sizeof *batch->order);
        batch->sort_keys =
            s_resize(batch->sort_keys, cap, sizeof *batch->sort_keys);
        batch->sort_spare =
            s_resize(batch->sort_spare, cap, sizeof *batch->sort_spare);
        batch->to_import =
            s_resize(batch->to_import, cap, sizeof *batch->to_import);
        batch->raw_offs =
            s_resize(batch->raw_offs, cap, sizeof *batch->raw_offs);
        batch->news = s_resize(batch->news, cap, sizeof *batch->news);
        batch->cap = cap;
    }
}

static void
s_batch_add_delta(s_batch_t *batch, const char *collection, const char *id,
                  size_t id_len, cs_record_t *rec, uint64_t line,
                  uint64_t offset, uint16_t earlier)
{
    if (batch->n == batch->cap) {
        s_batch_reserve(batch, batch->cap ? batch->cap * 2 : 64);
    }
    assert(id_len <= CS_ID_MAX);
    /* compared here, while both ids are in the cache */
    size_t n = batch->n;
    batch->rising = batch->rising &&
                    (n == 0 || cs_spill_key_compare(
                                   s_arena_at(batch, batch->id_offs[n - 1]),
                                   batch->id_lens[n - 1], id, id_len) < 0);
    batch->id_offs[n] = s_arena_put(batch, id, id_len);
    batch->id_lens[n] = (uint16_t) id_len;
    batch->lines[n] = line;
    batch->offsets[n] = offset;
    batch->earlier[n] = earlier;
    batch->deltas[n] = (cs_store_delta_t){ .collection = collection,
                                           .id = NULL,
                                           .record = rec };
    batch->n = n + 1;
}

/*  Add a delta given as canonical bytes: the arena's tail from @p raw_off,
 *  where the caller has just put them (encoding them there saves copying
 *  every record once more). */
static void
s_batch_add_raw(s_batch_t *batch, const char *collection, const char *id,
                size_t id_len, size_t raw_off, cs_hlc_t max_hlc, uint64_t line,
                uint64_t offset, uint16_t earlier)
{
    size_t len = batch->arena.len - raw_off;
    s_batch_add_delta(batch, collection, id, id_len, NULL, line, offset,
                      earlier);
    size_t i = batch->n - 1;
    batch->raw_offs[i] = raw_off;
    batch->news[i].len = len;
    batch->news[i].max_hlc = max_hlc;
    batch->raw = true;
}

static void
s_batch_add_reject(s_batch_t *batch, uint64_t line, uint64_t offset,
                   const char *reason, const char *raw, size_t raw_len)
{
    batch->rejects = s_grow(batch->rejects, &batch->reject_cap,
                            batch->reject_count + 1, sizeof *batch->rejects);
    s_reject_t *rej = &batch->rejects[batch->reject_count++];
    rej->line = line;
    rej->offset = offset;
    rej->reason_off = s_arena_put(batch, reason, strlen(reason));
    rej->raw_cut = raw_len > S_RAW_MAX;
    rej->raw_len = rej->raw_cut ? S_RAW_MAX : raw_len;
    rej->raw_off = s_arena_put(batch, raw ? raw : "", raw ? rej->raw_len : 0);
}

/*  Point each delta's id (and raw bytes) into the arena, now that it no
 *  longer moves. */
static void
s_batch_seal(s_batch_t *batch)
{
    for (size_t i = 0; i < batch->n; i++) {
        batch->deltas[i].id = s_arena_at(batch, batch->id_offs[i]);
        if (batch->raw) {
            batch->news[i].id = batch->deltas[i].id;
            batch->news[i].canonical = s_arena_at(batch, batch->raw_offs[i]);
        }
    }
}

/* ---------------- checkpoint ---------------- */

static void
s_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t) (v >> (8 * i));
    }
}

static uint64_t
s_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void
s_ckpt_encode(const s_ckpt_t *ck, uint8_t out[S_CKPT_BYTES])
{
    memset(out, 0, S_CKPT_BYTES);
    memcpy(out, S_CKPT_MAGIC, 8);
    s_put64(out + 8, (uint64_t) S_CKPT_VERSION | (uint64_t) ck->flags << 32);
    s_put64(out + 16, ck->dev);
    s_put64(out + 24, ck->ino);
    s_put64(out + 32, ck->size);
    s_put64(out + 40, (uint64_t) ck->mtime_ns);
    memcpy(out + 48, ck->fingerprint, S_FINGERPRINT);
    s_put64(out + 64, ck->offset);
    s_put64(out + 72, ck->last_line);
    s_put64(out + 80, ck->rows);
    s_put64(out + 88, ck->rejected);
    s_put64(out + 96, ck->duplicates);
    s_put64(out + 104, ck->rejects_size);
    s_put64(out + 112, (uint64_t) ck->as_of_ms);
    s_put64(out + 120, ck->writer_rejected);
    s_put64(out + 128, ck->key_len);
    memcpy(out + S_CKPT_KEY, ck->key, ck->key_len);
}

static bool
s_ckpt_decode(const uint8_t *in, size_t len, s_ckpt_t *ck)
{
    if (len != S_CKPT_BYTES || memcmp(in, S_CKPT_MAGIC, 8) != 0 ||
        (uint32_t) s_get64(in + 8) != S_CKPT_VERSION) {
        return false;
    }
    ck->flags = (uint32_t) (s_get64(in + 8) >> 32);
    ck->dev = s_get64(in + 16);
    ck->ino = s_get64(in + 24);
    ck->size = s_get64(in + 32);
    ck->mtime_ns = (int64_t) s_get64(in + 40);
    memcpy(ck->fingerprint, in + 48, S_FINGERPRINT);
    ck->offset = s_get64(in + 64);
    ck->last_line = s_get64(in + 72);
    ck->rows = s_get64(in + 80);
    ck->rejected = s_get64(in + 88);
    ck->duplicates = s_get64(in + 96);
    ck->rejects_size = s_get64(in + 104);
    ck->as_of_ms = (int64_t) s_get64(in + 112);
    ck->writer_rejected = s_get64(in + 120);
    ck->key_len = (size_t) s_get64(in + 128);
    if (ck->key_len > CS_ID_MAX) {
        return false;
    }
    memcpy(ck->key, in + S_CKPT_KEY, ck->key_len);
    ck->key[ck->key_len] = '\0';
    return true;
}

static void
s_fp_str(crypto_generichash_state *st, const char *s)
{
    uint8_t len[8];
    s_put64(len, s ? strlen(s) + 1 : 0);
    crypto_generichash_update(st, len, sizeof len);
    if (s) {
        crypto_generichash_update(st, (const unsigned char *) s, strlen(s));
    }
}

static void
s_fp_u64(crypto_generichash_state *st, uint64_t v)
{
    uint8_t bytes[8];
    s_put64(bytes, v);
    crypto_generichash_update(st, bytes, sizeof bytes);
}

/*  A fingerprint of every option that changes what a row becomes, so that
 *  --resume with other options is refused. @p map_text is the mapping
 *  file's content (NULL if none). */
static void
s_fingerprint(const cs_seed_opts_t *o, const char *map_text, size_t map_len,
              bool is_csv, uint8_t out[S_FINGERPRINT])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, S_FINGERPRINT);
    s_fp_str(&st, "crmsync seed 1");
    s_fp_str(&st, o->collection);
    s_fp_str(&st, o->id_column);
    s_fp_u64(&st, is_csv);
    s_fp_u64(&st, (uint64_t) o->csv.delimiter);
    s_fp_u64(&st, (uint64_t) o->csv.quote);
    s_fp_u64(&st, (uint64_t) o->csv.encoding);
    s_fp_u64(&st, map_text != NULL);
    if (map_text) {
        s_fp_u64(&st, map_len);
        crypto_generichash_update(&st, (const unsigned char *) map_text,
                                  map_len);
    }
    s_fp_u64(&st, o->exclude_count);
    for (size_t i = 0; i < o->exclude_count; i++) {
        s_fp_str(&st, o->exclude[i]);
    }
    s_fp_u64(&st, o->null_count);
    for (size_t i = 0; i < o->null_count; i++) {
        s_fp_str(&st, o->nulls[i]);
    }
    s_fp_u64(&st, o->sf_ids);
    s_fp_str(&st, o->timestamp_column);
    s_fp_str(&st, o->timestamp_format);
    s_fp_u64(&st, o->as_of_set);
    s_fp_u64(&st, (uint64_t) o->as_of_ms);
    s_fp_str(&st, o->deleted_column);
    s_fp_u64(&st, o->delete_missing);
    crypto_generichash_final(&st, out, S_FINGERPRINT);
}

/* ---------------- plans ---------------- */

/*  Build the plan for the columns @p names. @p strict (CSV: the header is
 *  the same for every row) turns mapping problems into errors of the run
 *  and reports map lines that name no column; otherwise (JSONL) a bad
 *  plan rejects the row. */
static void
s_plan_build(s_seed_t *self, const char *const *names, size_t count,
             bool strict, s_plan_t *plan)
{
    const cs_seed_opts_t *o = self->opts;
    s_plan_fini(plan);
    plan->valid = true;
    plan->ts_col = SIZE_MAX;
    plan->del_col = SIZE_MAX;
    plan->names = s_alloc((count ? count : 1) * sizeof *plan->names);
    plan->name_count = count;
    for (size_t i = 0; i < count; i++) {
        plan->names[i] = strdup(names[i]);
        if (!plan->names[i]) {
            abort();
        }
    }
    struct {
        const char *option;
        const char *want;
        size_t *col;
    } special[] = {
        { "--id-column", o->id_column, &plan->id_col },
        { "--timestamp-column", o->timestamp_column, &plan->ts_col },
        { "--deleted-column", o->deleted_column, &plan->del_col },
    };
    for (size_t s = 0; s < sizeof special / sizeof special[0]; s++) {
        if (!special[s].want) {
            continue;
        }
        size_t col = s_find_column(names, count, special[s].want);
        if (col == SIZE_MAX) {
            s_plan_fail(plan, "no %s '%s' (%s)", strict ? "column" : "key",
                        special[s].want, special[s].option);
            return;
        }
        if (col == SIZE_MAX - 1) {
            s_plan_fail(plan, "several columns are named '%s' (%s)",
                        special[s].want, special[s].option);
            return;
        }
        *special[s].col = col;
    }
    for (size_t e = 0; strict && e < o->exclude_count; e++) {
        if (s_find_column(names, count, o->exclude[e]) == SIZE_MAX) {
            s_plan_fail(plan, "no column '%s' to exclude (--exclude)",
                        o->exclude[e]);
            return;
        }
    }
    for (size_t i = 0; i < count; i++) {
        bool excluded = false;
        for (size_t e = 0; e < o->exclude_count && !excluded; e++) {
            excluded = s_find_column(names, count, o->exclude[e]) == i;
        }
        if (excluded) {
            continue;
        }
        bool sf_id =
            o->sf_ids && (i == plan->id_col || s_is_id_column_name(names[i]));
        if (!self->map) {
            /* "_id" is where crmsync export puts the record id, which is
             * not a field: so its output seeds back to the same state */
            if (i != plan->id_col || strcmp(names[i], "_id") != 0) {
                s_plan_add(plan, i, plan->names[i], NULL, sf_id);
            }
            continue;
        }
        const cs_sdl_entry_t *entry = cs_sdl_find(self->map, names[i]);
        for (size_t f = 0; entry && f < entry->field_count; f++) {
            s_plan_add(plan, i, entry->fields[f], NULL, sf_id);
        }
    }
    for (size_t m = 0; self->map && m < cs_sdl_count(self->map); m++) {
        const cs_sdl_entry_t *entry = cs_sdl_entry(self->map, m);
        if (entry->constant) {
            for (size_t f = 0; f < entry->field_count; f++) {
                s_plan_add(plan, SIZE_MAX, entry->fields[f], entry->column,
                           false);
            }
            continue;
        }
        bool present = false;
        for (size_t i = 0; i < count && !present; i++) {
            present = strcasecmp(names[i], entry->column) == 0;
        }
        if (strict && !present) {
            s_err("warning: --map line %zu: no column '%s' in the input; "
                  "ignored",
                  entry->line, entry->column);
        }
    }
    if (plan->target_count > CS_RECORD_FIELDS_MAX) {
        s_plan_fail(plan, "%zu fields, the limit is %u per record",
                    plan->target_count, CS_RECORD_FIELDS_MAX);
        return;
    }
    for (size_t t = 0; t < plan->target_count; t++) {
        const char *field = plan->targets[t].field;
        if (!cs_record_field_name_is_valid(field, strlen(field))) {
            s_plan_fail(plan,
                        "'%.64s' is not a valid field name (empty, or over "
                        "%u bytes): map or exclude that column",
                        field, CS_FIELD_NAME_MAX);
            return;
        }
    }
    /* Fields in name order: records keep them so, and writing them in
     * that order appends instead of inserting. Two sources for one field
     * would make the result depend on which is written last. */
    if (plan->target_count > 0) { /* qsort's base must not be NULL */
        qsort(plan->targets, plan->target_count, sizeof *plan->targets,
              s_target_order);
    }
    for (size_t t = 1; t < plan->target_count; t++) {
        if (strcmp(plan->targets[t - 1].field, plan->targets[t].field) == 0) {
            s_plan_fail(plan,
                        "field '%.64s' would come from two columns: map "
                        "or exclude one",
                        plan->targets[t].field);
            return;
        }
    }
    for (size_t t = 0; t < plan->target_count; t++) {
        const char *constant = plan->targets[t].constant;
        if (constant && strlen(constant) > CS_VALUE_MAX) {
            s_plan_fail(plan, "the constant for field '%.64s' is over %u bytes",
                        plan->targets[t].field, CS_VALUE_MAX);
            return;
        }
    }
    /* the names, checked once, for encoding rows without building records;
     * the header's (built before the writer takes the store) numbered by
     * the store, so rows are written smaller, carried through the sort
     * smaller and stored without a lookup of each name. If the store
     * cannot (a dry run must not write), they are spelt out. */
    const char **fields = s_alloc((plan->target_count + 1) * sizeof *fields);
    uint32_t *numbers = s_alloc((plan->target_count + 1) * sizeof *numbers);
    for (size_t t = 0; t < plan->target_count; t++) {
        fields[t] = plan->targets[t].field;
        plan->name_bytes += strlen(fields[t]);
    }
    bool numbered = strict && !o->dry_run &&
                    cs_store_number_names(self->store, fields,
                                          plan->target_count, numbers) == CS_OK;
    int rc = cs_codec_fields_new(fields, numbered ? numbers : NULL,
                                 plan->target_count, &plan->fields);
    free(numbers);
    free(fields);
    assert(rc == CS_OK); /* checked above: valid, sorted, within the limit */
    (void) rc;
}

/*  The plan for @p row: the CSV header's, or (JSONL) the cached one if the
 *  row has the same keys as the last, else a new one. */
static const s_plan_t *
s_plan_for(s_seed_t *self, const cs_row_t *row)
{
    if (self->is_csv) {
        return &self->plan;
    }
    s_plan_t *plan = &self->plan;
    bool same = plan->names && plan->name_count == row->count;
    for (size_t i = 0; same && i < row->count; i++) {
        same = strcmp(plan->names[i], row->names[i]) == 0;
    }
    if (!same) {
        s_plan_build(self, row->names, row->count, false, plan);
    }
    return plan;
}

/* ---------------- rows ---------------- */

/*  Why a row is bad, built in a buffer. */
typedef struct {
    char text[S_REASON_MAX]; /* the reason */
} s_reason_t;

static void s_reason(s_reason_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
s_reason(s_reason_t *r, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(r->text, sizeof r->text, fmt, args);
    va_end(args);
}

/*  A short printable copy of a value for a reason. */
static const char *
s_shown(const char *s, size_t len, char *buf, size_t cap)
{
    size_t n = len < cap - 4 ? len : cap - 4;
    while (n > 0 && n < len && ((unsigned char) s[n] & 0xC0) == 0x80) {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = (unsigned char) s[i] < 0x20 ? '?' : s[i];
    }
    if (n < len) {
        memcpy(buf + n, "...", 4);
    } else {
        buf[n] = '\0';
    }
    return buf;
}

/*  The text of a scalar for an id or a timestamp: strings as they are,
 *  integers in decimal (into @p buf). @return false for other types. */
static bool
s_value_text(const cs_value_t *v, char *buf, size_t cap, const char **text,
             size_t *len)
{
    if (v->type == CS_VALUE_STR) {
        *text = v->u.s.ptr ? v->u.s.ptr : "";
        *len = v->u.s.len;
        return true;
    }
    if (v->type == CS_VALUE_INT) {
        int n = snprintf(buf, cap, "%" PRId64, v->u.i);
        *text = buf;
        *len = (size_t) n;
        return true;
    }
    return false;
}

/*  True if value @p v of column @p col is one of the --null spellings. A
 *  quoted CSV field is never nil (as PostgreSQL's COPY: "" stays ""). */
static bool
s_is_null(const s_seed_t *self, const cs_row_t *row, size_t col,
          const cs_value_t *v)
{
    if (v->type != CS_VALUE_STR || (row->quoted && row->quoted[col])) {
        return false;
    }
    for (size_t i = 0; i < self->opts->null_count; i++) {
        const char *null = self->opts->nulls[i];
        size_t len = strlen(null);
        if (len == v->u.s.len &&
            (len == 0 || memcmp(null, v->u.s.ptr, len) == 0)) {
            return true;
        }
    }
    return false;
}

/*  Truthy values of --deleted-column: true, 1, yes (any case). */
static bool
s_is_truthy(const cs_value_t *v)
{
    if (v->type == CS_VALUE_BOOL) {
        return v->u.b;
    }
    if (v->type == CS_VALUE_INT) {
        return v->u.i == 1;
    }
    if (v->type != CS_VALUE_STR) {
        return false;
    }
    const char *s = v->u.s.ptr;
    size_t len = v->u.s.len;
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    return (len == 4 && strncasecmp(s, "true", 4) == 0) ||
           (len == 3 && strncasecmp(s, "yes", 3) == 0) ||
           (len == 1 && s[0] == '1');
}

/*  The value target @p t of @p row writes, with --null and --sf-ids
 *  applied (@p norm holds a normalised id). @return CS_OK, or CS_EPROTO
 *  for a Salesforce id whose suffix does not match. */
static int
s_target_value(const s_seed_t *self, const cs_row_t *row, const s_target_t *t,
               char norm[CS_SFID_LONG + 1], cs_value_t *value)
{
    if (t->constant) {
        *value = cs_value_str(t->constant);
        return CS_OK;
    }
    *value = row->values[t->column];
    if (s_is_null(self, row, t->column, value)) {
        *value = cs_value_nil();
        return CS_OK;
    }
    if (t->sf_id && value->type == CS_VALUE_STR && value->u.s.len > 0) {
        int rc = cs_sfid_normalize(value->u.s.ptr, value->u.s.len, norm);
        if (rc == CS_OK) {
            *value = cs_value_strn(norm, CS_SFID_LONG);
        } else if (rc == CS_EPROTO) {
            return CS_EPROTO;
        }
        /* other shapes are not Salesforce ids: kept as they are */
    }
    return CS_OK;
}

/*  Check the fields of a row before anything is built from it, so that
 *  building cannot fail. @return true if they are fine. */
static bool
s_check_fields(s_seed_t *self, const cs_row_t *row, const s_plan_t *plan,
               s_reason_t *why)
{
    char shown[64];
    size_t bytes = plan->name_bytes;
    if (plan->target_count > self->vals_cap) {
        size_t cap = plan->target_count;
        self->vals = s_resize(self->vals, cap, sizeof *self->vals);
        self->norms = s_resize(self->norms, cap, sizeof *self->norms);
        self->vals_cap = cap;
    }
    for (size_t t = 0; t < plan->target_count; t++) {
        const s_target_t *target = &plan->targets[t];
        cs_value_t *value_p = &self->vals[t];
        const char *column =
            target->constant ? target->field : row->names[target->column];
        if (s_target_value(self, row, target, self->norms[t], value_p) !=
            CS_OK) {
            const cs_value_t *raw = &row->values[target->column];
            s_reason(why,
                     "Salesforce id '%s' in column %s: the last 3 characters "
                     "do not match the case of the first 15",
                     s_shown(raw->u.s.ptr, raw->u.s.len, shown, sizeof shown),
                     column);
            return false;
        }
        /* both readers give valid UTF-8; only lengths need a check */
        const cs_value_t value = *value_p;
        if ((value.type == CS_VALUE_STR || value.type == CS_VALUE_BIN) &&
            value.u.s.len > CS_VALUE_MAX) {
            s_reason(why, "column %s: value over %u bytes or not UTF-8", column,
                     CS_VALUE_MAX);
            return false;
        }
        if (value.type == CS_VALUE_STR || value.type == CS_VALUE_BIN) {
            bytes += value.u.s.len;
        }
    }
    if (bytes > CS_RECORD_BYTES_MAX) {
        s_reason(why,
                 "the row is over the record limit (%u bytes of names and "
                 "values)",
                 CS_RECORD_BYTES_MAX);
        return false;
    }
    return true;
}

/*  Whether a row before the checkpoint, which --resume re-reads, must be
 *  loaded again: an interrupted sorted load committed the ids up to its
 *  last one, in id order, and nothing above it. */
static bool
s_reload(const s_seed_t *self, const char *id, size_t id_len)
{
    return self->resume_sorted &&
           cs_spill_key_compare(id, id_len, self->resume_key,
                                self->resume_key_len) > 0;
}

/*  Turn a good row into a delta in @p batch, or say in @p why why it is
 *  bad. With @p replay (--resume, rows already read) the id set learns the
 *  row, and only a row s_reload names becomes a delta; replayed rows are
 *  not counted again. @return true if the row is good. */
static bool
s_row_to_delta(s_seed_t *self, const cs_row_t *row, bool replay,
               s_batch_t *batch, s_reason_t *why)
{
    const cs_seed_opts_t *o = self->opts;
    char shown[64];
    const s_plan_t *plan = s_plan_for(self, row);
    if (!plan->valid) {
        s_reason(why, "%s", plan->error);
        return false;
    }
    /* the id */
    char id_num[32];
    char sfid[CS_SFID_LONG + 1];
    const char *id = NULL;
    size_t id_len = 0;
    const cs_value_t *idv = &row->values[plan->id_col];
    if (idv->type == CS_VALUE_NIL || s_is_null(self, row, plan->id_col, idv)) {
        s_reason(why, "empty id");
        return false;
    }
    if (!s_value_text(idv, id_num, sizeof id_num, &id, &id_len)) {
        s_reason(why, "the id is not a string or an integer");
        return false;
    }
    if (id_len == 0) {
        s_reason(why, "empty id");
        return false;
    }
    if (o->sf_ids) {
        int rc = cs_sfid_normalize(id, id_len, sfid);
        if (rc == CS_EINVAL) {
            s_reason(why,
                     "id '%s' is not a Salesforce id (15 or 18 letters and "
                     "digits)",
                     s_shown(id, id_len, shown, sizeof shown));
            return false;
        }
        if (rc != CS_OK) {
            s_reason(why,
                     "Salesforce id '%s': the last 3 characters do not match "
                     "the case of the first 15 (case changed?)",
                     s_shown(id, id_len, shown, sizeof shown));
            return false;
        }
        id = sfid;
        id_len = CS_SFID_LONG;
    }
    if (id_len > CS_ID_MAX) {
        s_reason(why, "id over %u bytes (%zu)", CS_ID_MAX, id_len);
        return false;
    }
    if (!cs_record_id_is_valid(id, id_len)) {
        s_reason(why, "id is not valid UTF-8 or holds a NUL");
        return false;
    }
    uint64_t id_hash = 0;
    if (!self->merge_dups) {
        id_hash = s_idset_hash(&self->ids, id, id_len);
        s_idset_prefetch(&self->ids, id_hash); /* used once it is checked */
    }
    /* the time */
    int64_t ms = self->as_of_ms;
    if (plan->ts_col != SIZE_MAX) {
        char ts_num[32];
        const cs_value_t *tv = &row->values[plan->ts_col];
        const char *text = NULL;
        size_t len = 0;
        int rc = CS_EINVAL;
        if (s_value_text(tv, ts_num, sizeof ts_num, &text, &len)) {
            rc = o->timestamp_format
                     ? cs_time_parse_format(text, len, o->timestamp_format, &ms)
                     : cs_time_parse(text, len, &ms);
        }
        if (rc != CS_OK) {
            s_reason(why, "unparsable timestamp '%s' in column %s",
                     text ? s_shown(text, len, shown, sizeof shown) : "",
                     row->names[plan->ts_col]);
            return false;
        }
        if (ms < 0) {
            s_reason(why, "timestamp '%s' is before 1970",
                     s_shown(text, len, shown, sizeof shown));
            return false;
        }
    }
    bool deleted =
        plan->del_col != SIZE_MAX && s_is_truthy(&row->values[plan->del_col]);
    if (!deleted && !s_check_fields(self, row, plan, why)) {
        return false;
    }
    /* the row is good: the id set learns it, and a later row with this id
     * ranks after it (or the sorted load finds how many came before) */
    uint16_t earlier = self->merge_dups ? 0 : s_idset_add(&self->ids, id_hash);
    if (replay && !s_reload(self, id, id_len)) {
        return true;
    }
    if (earlier > 0 && !replay) {
        self->dups_total++;
        self->stats->duplicates++;
    }
    cs_stamp_t stamp = { cs_hlc_make((uint64_t) ms, earlier), CS_SEED_ORIGIN };
    if (!deleted && plan->target_count == 0) {
        return true; /* nothing mapped: nothing to write */
    }
    cs_record_t *rec = NULL;
    if (deleted || o->dry_run) {
        rec = cs_record_new();
    }
    if (deleted) {
        (void) cs_record_delete(rec, stamp, 0);
    }
    if (!o->dry_run) {
        /* the record's bytes, without building it: the writer appends
         * them, or sees they are stored already, and decodes them only if
         * it must merge */
        size_t raw_off = batch->arena.len;
        if (deleted) {
            cs_codec_encode_record(rec, CS_CODEC_CANONICAL, &batch->arena);
            cs_record_destroy(&rec);
        } else {
            int rc = cs_codec_encode_fields(plan->fields, self->vals, stamp,
                                            &batch->arena);
            assert(rc == CS_OK); /* s_check_fields checked every limit */
            (void) rc;
        }
        s_batch_add_raw(batch, o->collection, id, id_len, raw_off, stamp.hlc,
                        row->line, row->offset, earlier);
        return true;
    }
    for (size_t t = 0; !deleted && t < plan->target_count; t++) {
        int rc = cs_record_set(rec, plan->targets[t].field, &self->vals[t],
                               stamp, 0, NULL);
        assert(rc == CS_OK); /* s_check_fields checked every limit */
        (void) rc;
    }
    s_batch_add_delta(batch, o->collection, id, id_len, rec, row->line,
                      row->offset, earlier);
    return true;
}

/* ---------------- writer ---------------- */

static void
s_stats_add(cs_seed_stats_t *stats, const cs_store_import_stats_t *st)
{
    stats->records_new += st->records_new;
    stats->records_updated += st->records_updated;
    stats->records_unchanged += st->records_unchanged;
    stats->records_deleted += st->records_deleted;
    stats->skewed += st->skewed;
}

/*  Write one reject line: {"line":N,"offset":N,"reason":"...","raw":"..."}
 *  plus "raw_base64" when the raw bytes are not valid UTF-8, "id" when
 *  known, "raw_truncated" when cut. */
static void
s_write_reject(FILE *out, uint64_t line, uint64_t offset, const char *reason,
               const char *raw, size_t raw_len, bool raw_cut, const char *id)
{
    fprintf(out,
            "{\"line\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"reason\":", line,
            offset);
    cs_json_write_string(out, reason, strlen(reason));
    if (id) {
        fputs(",\"id\":", out);
        cs_json_write_string(out, id, strlen(id));
    }
    fputs(",\"raw\":", out);
    cs_json_write_string(out, raw, raw_len);
    if (!cs_utf8_is_valid(raw, raw_len)) {
        char *base64 = cs_json_base64(raw, raw_len);
        fprintf(out, ",\"raw_base64\":\"%s\"", base64);
        free(base64);
    }
    if (raw_cut) {
        fputs(",\"raw_truncated\":true", out);
    }
    fputs("}\n", out);
}

/*  Keep the first few rejects for the summary. */
static void
s_sample_reject(cs_seed_stats_t *stats, uint64_t line, const char *reason)
{
    if (stats->sample_count < CS_SEED_SAMPLES) {
        stats->samples[stats->sample_count].line = line;
        snprintf(stats->samples[stats->sample_count].reason,
                 sizeof stats->samples[0].reason, "%s", reason);
        stats->sample_count++;
    }
}

/*  Write the batch's rejects and make them durable before the batch
 *  commits, so the checkpoint's rejects_size never points past what is
 *  on disk. */
static int
s_flush_rejects(s_seed_t *self, const s_batch_t *batch)
{
    for (size_t i = 0; i < batch->reject_count; i++) {
        const s_reject_t *rej = &batch->rejects[i];
        const char *reason = s_arena_at(batch, rej->reason_off);
        s_sample_reject(self->stats, rej->line, reason);
        if (self->rejects) {
            s_write_reject(self->rejects, rej->line, rej->offset, reason,
                           s_arena_at(batch, rej->raw_off), rej->raw_len,
                           rej->raw_cut, NULL);
        }
    }
    if (!self->rejects || batch->reject_count == 0) {
        return CS_OK;
    }
    if (fflush(self->rejects) != 0 || ferror(self->rejects) ||
        fdatasync(fileno(self->rejects)) != 0) {
        s_err("%s: %s", self->opts->rejects_path, strerror(errno));
        return CS_EIO;
    }
    off_t pos = ftello(self->rejects);
    self->rejects_size = pos > 0 ? (uint64_t) pos : 0;
    return CS_OK;
}

static void
s_make_ckpt(const s_seed_t *self, const s_batch_t *batch,
            uint8_t out[S_CKPT_BYTES])
{
    s_ckpt_t ck = self->ident;
    ck.offset = batch->end_offset;
    ck.last_line = batch->last_line;
    ck.rows = batch->rows_total;
    ck.rejected = batch->rejected_total;
    ck.duplicates = batch->dups_total + self->writer_dups;
    ck.rejects_size = self->rejects_size;
    ck.as_of_ms = self->as_of_ms;
    ck.writer_rejected = self->writer_rejected;
    if (batch->sorted && batch->n > 0) {
        /* deltas are in id order: the last id is the largest */
        const char *last = batch->deltas[batch->n - 1].id;
        ck.flags |= S_CKPT_SORTED;
        ck.key_len = batch->id_lens[batch->n - 1];
        memcpy(ck.key, last, ck.key_len + 1);
    }
    s_ckpt_encode(&ck, out);
}

/*  A delta without the fields whose value @p current already shows: a
 *  newer export changes only what changed, and the fields it repeats keep
 *  their stamps. @return a new record, or NULL if nothing was dropped. */
static cs_record_t *
s_prune(const cs_record_t *delta, const cs_record_t *current)
{
    size_t count = cs_record_field_count(delta);
    size_t dropped = 0;
    for (size_t i = 0; i < count; i++) {
        cs_field_t f = cs_record_field_at(delta, i);
        cs_field_t have;
        if (cs_record_get(current, f.name, &have) == CS_OK &&
            cs_value_compare(&have.value, &f.value) == 0) {
            dropped++;
        }
    }
    if (dropped == 0) {
        return NULL;
    }
    cs_record_t *pruned = cs_record_new();
    for (size_t i = 0; i < count; i++) {
        cs_field_t f = cs_record_field_at(delta, i);
        cs_field_t have;
        if (cs_record_get(current, f.name, &have) == CS_OK &&
            cs_value_compare(&have.value, &f.value) == 0) {
            continue;
        }
        int rc = cs_record_set(pruned, f.name, &f.value, f.stamp, 0, NULL);
        assert(rc == CS_OK); /* a subset of a valid record */
        (void) rc;
    }
    cs_stamp_t tomb;
    if (cs_record_tombstone(delta, &tomb, NULL)) {
        (void) cs_record_delete(pruned, tomb, 0);
    }
    return pruned;
}

/*  The batch being sorted, and where its ids' keys end (qsort passes no
 *  argument to the comparison). */
static _Thread_local const s_batch_t *s_sorting;
static _Thread_local size_t s_sorting_past_key;

/*  By key; equal keys whose last byte is not 0 by the ids' bytes after
 *  them (a 0 ends both ids: they are equal); then by input order. */
static int
s_order_by_key(const void *a, const void *b)
{
    const s_sortkey_t *ka = a;
    const s_sortkey_t *kb = b;
    if (ka->key != kb->key) {
        return ka->key < kb->key ? -1 : 1;
    }
    if ((ka->key & 0xff) != 0) {
        const s_batch_t *batch = s_sorting;
        int c = strcmp(batch->deltas[ka->i].id + s_sorting_past_key,
                       batch->deltas[kb->i].id + s_sorting_past_key);
        if (c != 0) {
            return c;
        }
    }
    return (ka->i > kb->i) - (ka->i < kb->i);
}

/*  Sort the @p n keys at @p keys by key, keeping the order of equal
 *  keys: a byte at a time from the last (LSD radix sort), skipping the
 *  bytes all keys share. @p spare holds @p n keys too. */
static void
s_radix_sort(s_sortkey_t *keys, s_sortkey_t *spare, size_t n)
{
    size_t counts[8][256];
    memset(counts, 0, sizeof counts);
    for (size_t i = 0; i < n; i++) {
        for (unsigned d = 0; d < 8; d++) {
            counts[d][(keys[i].key >> (8 * d)) & 0xff]++;
        }
    }
    s_sortkey_t *from = keys, *to = spare;
    for (unsigned d = 0; d < 8; d++) {
        size_t *count = counts[d];
        if (count[(from[0].key >> (8 * d)) & 0xff] == n) {
            continue; /* every key has this byte */
        }
        size_t at = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++) {
            to[count[(from[i].key >> (8 * d)) & 0xff]++] = from[i];
        }
        s_sortkey_t *swap = from;
        from = to;
        to = swap;
    }
    if (from != keys) {
        memcpy(keys, from, n * sizeof *keys);
    }
}

/*  Fill batch->order with the deltas sorted by id, then input order.
 *  Exported ids share long prefixes (Salesforce's "0035g0000..."), and a
 *  strcmp per comparison, through two pointers, cost the sorted load's
 *  writer half its time: the ids sort by the 8 bytes after their common
 *  prefix, held beside the index (a radix sort, which keeps input order
 *  among equal keys), and only a run of equal keys whose ids go on past
 *  them is sorted again by the whole id. */
static void
s_sort_by_id(s_batch_t *batch)
{
    size_t n = batch->n;
    if (n == 0) {
        return; /* an empty batch may have no arrays */
    }
    const char *first = batch->deltas[0].id;
    size_t prefix = strlen(first);
    for (size_t i = 1; i < n && prefix > 0; i++) {
        const char *id = batch->deltas[i].id;
        size_t k = 0;
        while (k < prefix && id[k] == first[k]) {
            k++;
        }
        prefix = k;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *rest =
            (const unsigned char *) batch->deltas[i].id + prefix;
        uint64_t key = 0;
        bool ended = false;
        for (size_t k = 0; k < 8; k++) {
            ended = ended || rest[k] == 0;
            key = key << 8 | (ended ? 0u : rest[k]);
        }
        batch->sort_keys[i] = (s_sortkey_t){ key, i };
    }
    s_sortkey_t *keys = batch->sort_keys;
    s_radix_sort(keys, batch->sort_spare, n);
    s_sorting = batch;
    s_sorting_past_key = prefix + 8;
    for (size_t k = 0; k < n;) {
        size_t end = k + 1;
        while (end < n && keys[end].key == keys[k].key) {
            end++;
        }
        if (end - k > 1 && (keys[k].key & 0xff) != 0) {
            qsort(keys + k, end - k, sizeof *keys, s_order_by_key);
        }
        k = end;
    }
    s_sorting = NULL;
    for (size_t k = 0; k < n; k++) {
        batch->order[k] = keys[k].i;
    }
}

/*  A copy of the seeded record @p rec with @p earlier as the logical part
 *  of every stamp: its row was stamped before the sorted load counted the
 *  rows with its id that came before it (merge_dups). */
static cs_record_t *
s_restamp(const cs_record_t *rec, uint16_t earlier)
{
    cs_record_t *out = cs_record_new();
    cs_stamp_t stamp;
    if (cs_record_tombstone(rec, &stamp, NULL)) {
        stamp.hlc = cs_hlc_make(cs_hlc_wall(stamp.hlc), earlier);
        (void) cs_record_delete(out, stamp, 0);
    }
    for (size_t f = 0; f < cs_record_field_count(rec); f++) {
        cs_field_t field = cs_record_field_at(rec, f);
        field.stamp.hlc = cs_hlc_make(cs_hlc_wall(field.stamp.hlc), earlier);
        int rc = cs_record_append(out, field.name, strlen(field.name),
                                  &field.value, field.stamp, 0);
        assert(rc == CS_OK); /* the same fields, in the same order */
        (void) rc;
    }
    return out;
}

/*  Decode the raw records of the group of @p count deltas at
 *  batch->order[@p g] (one id), for merging. A re-seed leaves out a row
 *  that is alone with its id and stored exactly so already (*@p same):
 *  most rows of an incremental export, which then cost a lookup and a
 *  compare instead of a decode, a merge and a prune. */
static int
s_decode_group(s_seed_t *self, s_batch_t *batch, size_t g, size_t count,
               bool *same)
{
    size_t first = batch->order[g];
    *same = false;
    if (!self->fresh && count == 1 && batch->earlier[first] == 0) {
        int rc = cs_store_matches(
            self->store, self->opts->collection, batch->deltas[first].id,
            batch->news[first].canonical, batch->news[first].len, same);
        if (rc != CS_OK && rc != CS_ENOENT) {
            return rc;
        }
        if (*same) {
            return CS_OK;
        }
    }
    for (size_t k = 0; k < count; k++) {
        size_t i = batch->order[g + k];
        cs_record_t *rec = NULL;
        if (cs_codec_decode_numbered(batch->news[i].canonical,
                                     batch->news[i].len, CS_CODEC_CANONICAL,
                                     cs_store_names(self->store),
                                     &rec) != CS_OK) {
            s_err("internal error: a record's bytes do not decode (row at "
                  "line %" PRIu64 ")",
                  batch->lines[i]);
            return CS_ECORRUPT;
        }
        if (self->merge_dups && batch->earlier[i] > 0) {
            cs_record_t *ranked = s_restamp(rec, batch->earlier[i]);
            cs_record_destroy(&rec);
            rec = ranked;
        }
        batch->deltas[i].record = rec;
    }
    return CS_OK;
}

/*  Make the batch act as if its rows were applied one by one, each
 *  against the state the rows before it left: drop from each delta the
 *  fields whose value is already there (see s_prune), so the result does
 *  not depend on where batches begin (a resumed run equals a clean one).
 *  Records the input is the first to write, in a collection that was
 *  empty when the run began, need no lookup. Fills batch->to_import with
 *  the deltas left (*@p n_import of them) and counts in @p st the records
 *  left unchanged; a dry run counts every record in @p st instead. */
static int
s_prepare(s_seed_t *self, s_batch_t *batch, size_t *n_import,
          cs_store_import_stats_t *st)
{
    bool dry = self->opts->dry_run;
    size_t n = batch->n;
    s_sort_by_id(batch);
    *n_import = 0;
    int rc = CS_OK;
    for (size_t g = 0; g < n && rc == CS_OK;) {
        size_t first = batch->order[g];
        size_t count = 1;
        while (g + count < n &&
               strcmp(batch->deltas[batch->order[g + count]].id,
                      batch->deltas[first].id) == 0) {
            count++;
        }
        if (batch->raw) {
            bool same = false;
            rc = s_decode_group(self, batch, g, count, &same);
            if (rc != CS_OK) {
                break;
            }
            if (same) {
                st->records_unchanged++; /* stored as it is already */
                g += count;
                continue;
            }
        }
        const char *id = batch->deltas[first].id;
        bool lookup =
            !self->fresh || batch->earlier[first] > 0 ||
            (self->direct_max_len > 0 &&
             cs_spill_key_compare(id, batch->id_lens[first], self->direct_max,
                                  self->direct_max_len) <= 0);
        if (!lookup && count == 1 && !dry) {
            batch->to_import[(*n_import)++] = batch->deltas[first];
            g += count;
            continue;
        }
        cs_record_t *current = NULL;
        bool existed = false;
        if (lookup) {
            rc = cs_store_get(self->store, self->opts->collection,
                              batch->deltas[first].id, &current);
            if (rc == CS_OK) {
                existed = true;
            } else if (rc == CS_ENOENT) {
                rc = CS_OK;
            } else {
                break;
            }
        }
        if (!current) {
            current = cs_record_new();
        }
        bool was_visible = cs_record_field_count(current) > 0;
        size_t parts = 0;
        for (size_t k = 0; k < count; k++) {
            size_t i = batch->order[g + k];
            cs_store_delta_t *delta = &batch->deltas[i];
            cs_record_t *pruned = s_prune(delta->record, current);
            if (pruned) {
                cs_record_t *old = (cs_record_t *) (uintptr_t) delta->record;
                cs_record_destroy(&old);
                delta->record = pruned;
            }
            if (cs_record_is_empty(delta->record)) {
                continue; /* repeats what is there */
            }
            size_t changed = 0;
            if (cs_record_merge(current, delta->record, 1, &changed) != CS_OK) {
                changed = 1; /* over the limits: the store will say so */
            }
            parts += changed;
            if (!dry && changed > 0) {
                /* what leaves the state as it is need not be written */
                batch->to_import[(*n_import)++] = *delta;
            }
        }
        if (dry || parts == 0) {
            bool is_visible = cs_record_field_count(current) > 0;
            if (parts == 0) {
                st->records_unchanged++;
            } else if (!existed) {
                st->records_new++;
            } else if (was_visible && !is_visible) {
                st->records_deleted++;
            } else {
                st->records_updated++;
            }
        }
        cs_record_destroy(&current);
        g += count;
    }
    return rc;
}

/*  The index in batch->deltas of @p delta, a copy in batch->to_import
 *  (the record pointer tells them apart). */
static size_t
s_row_of(const s_batch_t *batch, const cs_store_delta_t *delta)
{
    for (size_t i = 0; i < batch->n; i++) {
        if (batch->deltas[i].record == delta->record) {
            return i;
        }
    }
    return 0;
}

/*  The store refused the batch as a whole (a record would break its
 *  limits once merged with what is stored). Find the deltas it refuses by
 *  halving the batch, import the rest, reject those, then commit the
 *  checkpoint. Each import is its own transaction; a crash in between is
 *  harmless, since --resume re-imports the batch and merging is
 *  idempotent. */
static int
s_import_bisect(s_seed_t *self, s_batch_t *batch, size_t n)
{
    struct {
        size_t lo; /* first delta */
        size_t hi; /* one past the last */
    } stack[128];
    size_t depth = 0;
    size_t refused = 0;
    int rc = CS_OK;
    /* the whole batch is known to fail: start with its halves */
    if (n > 1) {
        stack[depth].lo = n / 2;
        stack[depth++].hi = n;
        stack[depth].lo = 0;
        stack[depth++].hi = n / 2;
    } else {
        stack[depth].lo = 0;
        stack[depth++].hi = n;
    }
    while (depth > 0 && rc == CS_OK) {
        size_t lo = stack[depth - 1].lo;
        size_t hi = stack[depth - 1].hi;
        depth--;
        cs_store_import_stats_t st;
        rc = cs_store_import(self->store, &batch->to_import[lo], hi - lo, NULL,
                             NULL, 0, &st);
        if (rc == CS_OK) {
            s_stats_add(self->stats, &st);
            continue;
        }
        if (rc != CS_ELIMIT && rc != CS_EINVAL) {
            break;
        }
        rc = CS_OK;
        if (hi - lo > 1 && depth + 2 <= sizeof stack / sizeof stack[0]) {
            size_t mid = lo + (hi - lo) / 2;
            stack[depth].lo = mid;
            stack[depth++].hi = hi;
            stack[depth].lo = lo;
            stack[depth++].hi = mid;
            continue;
        }
        for (size_t i = lo; i < hi; i++) {
            const char *reason =
                "merged with the stored record, the record would be over its "
                "limits (fields or bytes)";
            size_t row = s_row_of(batch, &batch->to_import[i]);
            s_sample_reject(self->stats, batch->lines[row], reason);
            if (self->rejects) {
                s_write_reject(self->rejects, batch->lines[row],
                               batch->offsets[row], reason, "", 0, false,
                               batch->to_import[i].id);
            }
            refused++;
        }
    }
    if (rc != CS_OK) {
        return rc;
    }
    if (refused > 0) {
        self->writer_rejected += refused;
        __atomic_add_fetch(&self->writer_rejected_run, refused,
                           __ATOMIC_RELAXED);
        if (self->rejects) {
            if (fflush(self->rejects) != 0 ||
                fdatasync(fileno(self->rejects)) != 0) {
                s_err("%s: %s", self->opts->rejects_path, strerror(errno));
                return CS_EIO;
            }
            off_t pos = ftello(self->rejects);
            self->rejects_size = pos > 0 ? (uint64_t) pos : 0;
        }
    }
    if (self->write_ckpt) {
        uint8_t ckpt[S_CKPT_BYTES];
        s_make_ckpt(self, batch, ckpt);
        rc = cs_store_import(self->store, NULL, 0, self->ckpt_name, ckpt,
                             sizeof ckpt, NULL);
    }
    return rc;
}

/* ---------------- the sorted load ----------------
 *
 *  Records written in id order go to the end of LMDB's tree (MDB_APPEND)
 *  and fill its pages. In random order each one rewrites a page somewhere
 *  in the tree: about 4 KB written per row, and a store twice the size.
 *  So, into a collection without visible records (and not for a dry run),
 *  the writer imports batches as they come only while the input is in id
 *  order. From the first batch that is not, it sorts each batch and
 *  spills it as a run (tools/cs_spill); once the input is read,
 *  s_load_sorted merges the runs and feeds the writer batches in id order.
 *  Those commit a checkpoint with the last id they hold: --resume re-reads
 *  the input and loads again only the rows above it (s_reload). */

/* Bytes before the canonical record in a spilled item. */
#define S_SPILLED_HEAD 26u /* line, offset, max hlc, earlier */

/*  True if the batch's ids, in input order, rise and all lie above what
 *  was imported directly: importing it appends to the tree. */
static bool
s_batch_in_order(const s_seed_t *self, const s_batch_t *batch)
{
    return batch->rising &&
           (batch->n == 0 || self->direct_max_len == 0 ||
            cs_spill_key_compare(batch->deltas[0].id, batch->id_lens[0],
                                 self->direct_max, self->direct_max_len) > 0);
}

/*  Say what to do when the sort file cannot be written. @return @p rc. */
static int
s_spill_failed(const s_seed_t *self, int rc)
{
    if (rc == CS_EIO) {
        s_err("sorting the input needs free space in %s, about the size of "
              "the records; nothing of the unordered part was written. Free "
              "some space, or seed with --no-sort (slower, no extra space)",
              self->opts->spill_dir);
    }
    return rc;
}

/*  Sort the batch by id and write it to the spill as one run. */
static int
s_spill_batch(s_seed_t *self, s_batch_t *batch)
{
    s_sort_by_id(batch);
    for (size_t k = 0; k < batch->n; k++) {
        size_t i = batch->order[k];
        uint8_t head[S_SPILLED_HEAD];
        s_put64(head, batch->lines[i]);
        s_put64(head + 8, batch->offsets[i]);
        s_put64(head + 16, batch->news[i].max_hlc);
        memcpy(head + 24, &batch->earlier[i], 2);
        const char *id = batch->deltas[i].id;
        int rc = cs_spill_add_parts(self->spill, id, batch->id_lens[i], head,
                                    sizeof head, batch->news[i].canonical,
                                    batch->news[i].len);
        if (rc != CS_OK) {
            return s_spill_failed(self, rc);
        }
    }
    return s_spill_failed(self, cs_spill_end_run(self->spill));
}

/*  True if the batch's records are all new and alone (no earlier row with
 *  the id) in a collection the run found empty: with their ids in order
 *  (s_batch_in_order) they can be appended as they are. */
static bool
s_all_new(const s_seed_t *self, const s_batch_t *batch)
{
    if (!self->fresh || batch->n == 0) {
        return false;
    }
    for (size_t i = 0; i < batch->n; i++) {
        if (batch->earlier[i] > 0) {
            return false;
        }
    }
    return true;
}

/*  Append the sorted batch's new records with the checkpoint. */
static int
s_append_batch(s_seed_t *self, s_batch_t *batch)
{
    uint8_t ckpt[S_CKPT_BYTES];
    s_make_ckpt(self, batch, ckpt);
    cs_store_import_stats_t st;
    int rc =
        cs_store_append_new(self->store, self->opts->collection, batch->news,
                            batch->n, self->write_ckpt ? self->ckpt_name : NULL,
                            self->write_ckpt ? ckpt : NULL,
                            self->write_ckpt ? sizeof ckpt : 0, &st);
    if (rc == CS_OK) {
        s_stats_add(self->stats, &st);
    }
    return rc;
}

/*  With merge_dups, a row of the sorted load whose id the in-order part
 *  before it wrote ranks after that row (that part's ids were unique): one
 *  earlier row more for each row of the id. The batch is in id order and
 *  an id's rows follow its first, the one with no earlier row. */
static int
s_count_direct(s_seed_t *self, s_batch_t *batch)
{
    for (size_t i = 0; i < batch->n;) {
        size_t count = 1;
        while (i + count < batch->n && batch->earlier[i + count] > 0) {
            count++;
        }
        const char *id = batch->deltas[i].id;
        if (cs_spill_key_compare(id, batch->id_lens[i], self->direct_max,
                                 self->direct_max_len) > 0) {
            break; /* so are the ids after it */
        }
        cs_record_t *stored = NULL;
        int rc = cs_store_get(self->store, self->opts->collection, id, &stored);
        if (rc == CS_OK) {
            cs_record_destroy(&stored);
            for (size_t k = i; k < i + count; k++) {
                if (batch->earlier[k] < UINT16_MAX) {
                    batch->earlier[k]++;
                }
            }
            self->writer_dups++;
        } else if (rc != CS_ENOENT) {
            return rc;
        }
        i += count;
    }
    return CS_OK;
}

static int s_merge_batch(s_seed_t *self, s_batch_t *batch);

static int
s_write_batch(s_seed_t *self, s_batch_t *batch)
{
    s_batch_seal(batch);
    int rc = s_flush_rejects(self, batch);
    if (rc != CS_OK) {
        return rc;
    }
    if (self->merge_dups && batch->sorted && self->direct_max_len > 0) {
        rc = s_count_direct(self, batch);
        if (rc != CS_OK) {
            return rc;
        }
    }
    bool direct = self->spill && !batch->sorted;
    if (direct && !self->spilling && !s_batch_in_order(self, batch)) {
        self->spilling = true; /* from here on, batches are sorted first */
    }
    if (direct && self->spilling) {
        return s_spill_batch(self, batch);
    }
    /* (a direct batch that got here is in order) */
    rc = batch->raw && s_all_new(self, batch) &&
                 (direct || s_batch_in_order(self, batch))
             ? s_append_batch(self, batch)
             : CS_EINVAL;
    if (rc == CS_EINVAL) {
        /* not all new records in order (or the store holds a key past one
         * of them): merge (s_prepare decodes raw records as it goes) */
        rc = s_merge_batch(self, batch);
    }
    if (rc == CS_OK && direct && batch->n > 0) {
        /* ids rose through the batch: the last is the largest so far */
        const char *last = batch->deltas[batch->n - 1].id;
        self->direct_max_len = batch->id_lens[batch->n - 1];
        memcpy(self->direct_max, last, self->direct_max_len + 1);
    }
    return rc;
}

/*  Merge the batch's records into the store: the path for anything but
 *  new records in order. */
static int
s_merge_batch(s_seed_t *self, s_batch_t *batch)
{
    size_t n_import = 0;
    cs_store_import_stats_t pre = { 0 };
    int rc = s_prepare(self, batch, &n_import, &pre);
    if (rc != CS_OK) {
        return rc;
    }
    s_stats_add(self->stats, &pre);
    if (self->opts->dry_run) {
        return CS_OK;
    }
    uint8_t ckpt[S_CKPT_BYTES];
    s_make_ckpt(self, batch, ckpt);
    cs_store_import_stats_t st;
    rc = cs_store_import(self->store, batch->to_import, n_import,
                         self->write_ckpt ? self->ckpt_name : NULL,
                         self->write_ckpt ? ckpt : NULL,
                         self->write_ckpt ? sizeof ckpt : 0, &st);
    if (rc == CS_ELIMIT || rc == CS_EINVAL) {
        return s_import_bisect(self, batch, n_import);
    }
    if (rc == CS_OK) {
        s_stats_add(self->stats, &st);
    }
    return rc;
}

static void *
s_writer_main(void *arg)
{
    s_seed_t *self = arg;
    while (true) {
        pthread_mutex_lock(&self->mu);
        while (self->full_count == 0 && !self->closed) {
            pthread_cond_wait(&self->cv, &self->mu);
        }
        if (self->full_count == 0) {
            pthread_mutex_unlock(&self->mu);
            break;
        }
        s_batch_t *batch = self->full[self->full_head];
        self->full_head = (self->full_head + 1) % S_BATCHES;
        self->full_count--;
        pthread_mutex_unlock(&self->mu);

        int rc = s_write_batch(self, batch);

        pthread_mutex_lock(&self->mu);
        self->free_list[self->free_count++] = batch;
        if (rc != CS_OK) {
            self->failed = true;
            self->writer_rc = rc;
        }
        pthread_cond_broadcast(&self->cv);
        pthread_mutex_unlock(&self->mu);
        if (rc != CS_OK) {
            break;
        }
    }
    return NULL;
}

/*  A free batch for the parser, or NULL if the writer failed. */
static s_batch_t *
s_take_free(s_seed_t *self)
{
    pthread_mutex_lock(&self->mu);
    while (self->free_count == 0 && !self->failed) {
        pthread_cond_wait(&self->cv, &self->mu);
    }
    s_batch_t *batch = NULL;
    if (!self->failed) {
        batch = self->free_list[--self->free_count];
    }
    pthread_mutex_unlock(&self->mu);
    if (batch) {
        s_batch_reset(batch);
    }
    return batch;
}

/*  Queue @p batch for the writer with the run's totals so far; if the
 *  writer failed, give it back instead. @return false if it failed. */
static bool
s_queue(s_seed_t *self, s_batch_t *batch)
{
    batch->rows_total = self->rows_total;
    batch->rejected_total = self->rejected_total;
    batch->dups_total = self->dups_total;
    pthread_mutex_lock(&self->mu);
    bool ok = !self->failed;
    if (ok) {
        self->full[(self->full_head + self->full_count) % S_BATCHES] = batch;
        self->full_count++;
    } else {
        self->free_list[self->free_count++] = batch;
    }
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
    return ok;
}

static void
s_close_queue(s_seed_t *self)
{
    pthread_mutex_lock(&self->mu);
    self->closed = true;
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
}

/* ---------------- input ---------------- */

static int
s_next_row(s_seed_t *self, cs_row_t *row)
{
    return self->is_csv ? cs_csv_next(self->csv, row)
                        : cs_jsonl_next(self->jsonl, row);
}

static bool
s_has_suffix(const char *s, const char *suffix)
{
    size_t len = strlen(s);
    size_t slen = strlen(suffix);
    return len >= slen && strcasecmp(s + len - slen, suffix) == 0;
}

int
cs_seed_format_parse(const char *word, cs_seed_format_t *format)
{
    assert(word);
    assert(format);
    if (strcmp(word, "csv") == 0) {
        *format = CS_SEED_FORMAT_CSV;
    } else if (strcmp(word, "jsonl") == 0 || strcmp(word, "ndjson") == 0) {
        *format = CS_SEED_FORMAT_JSONL;
    } else {
        return CS_EINVAL;
    }
    return CS_OK;
}

cs_seed_format_t
cs_seed_format_of(cs_seed_format_t format, const char *path)
{
    assert(path);
    if (format != CS_SEED_FORMAT_AUTO) {
        return format;
    }
    return strcmp(path, "-") != 0 && (s_has_suffix(path, ".jsonl") ||
                                      s_has_suffix(path, ".ndjson"))
               ? CS_SEED_FORMAT_JSONL
               : CS_SEED_FORMAT_CSV;
}

const char *
cs_seed_format_name(cs_seed_format_t format)
{
    switch (format) {
    case CS_SEED_FORMAT_CSV:
        return "csv";
    case CS_SEED_FORMAT_JSONL:
        return "jsonl";
    case CS_SEED_FORMAT_AUTO:
        break;
    }
    return "auto";
}

/*  Read the --map file (at most CS_SDL_TEXT_MAX bytes) into a new buffer. */
static int
s_read_map(const char *path, char **text, size_t *len)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        s_err("%s: %s", path, strerror(errno));
        return CS_EINVAL;
    }
    char *buf = s_alloc(CS_SDL_TEXT_MAX + 1);
    size_t n = fread(buf, 1, CS_SDL_TEXT_MAX + 1, in);
    bool failed = ferror(in) != 0;
    fclose(in);
    if (failed || n > CS_SDL_TEXT_MAX) {
        s_err("%s: %s", path,
              failed ? "read error" : "mapping file over 1 MiB");
        free(buf);
        return CS_EINVAL;
    }
    *text = buf;
    *len = n;
    return CS_OK;
}

static void
s_report(s_seed_t *self, double start, uint64_t bytes, bool replaying,
         bool done)
{
    if (!self->opts->progress) {
        return;
    }
    cs_seed_progress_t p = {
        .rows = self->stats->rows_read,
        .bytes = bytes,
        .bytes_total = self->ident.size,
        .rejected =
            self->rejected_run +
            __atomic_load_n(&self->writer_rejected_run, __ATOMIC_RELAXED),
        .seconds = s_now() - start,
        .replaying = replaying,
        .done = done,
    };
    self->opts->progress(self->opts->progress_arg, &p);
}

static bool
s_should_stop(s_seed_t *self)
{
    const cs_seed_opts_t *o = self->opts;
    if (o->stop && *o->stop) {
        self->stats->interrupted = true;
        return true;
    }
    uint64_t rejected =
        self->rejected_run +
        __atomic_load_n(&self->writer_rejected_run, __ATOMIC_RELAXED);
    if (o->max_errors > 0 && rejected >= o->max_errors) {
        self->stats->stopped_max_errors = true;
        return true;
    }
    return false;
}

/*  Queue a full batch (s_queue). @return the next batch to fill, or NULL
 *  if the writer failed. */
static s_batch_t *
s_hand_over(s_seed_t *self, s_batch_t *batch)
{
    return s_queue(self, batch) ? s_take_free(self) : NULL;
}

/*  Queue the last batch if it holds anything; else give it back. */
static void
s_hand_last(s_seed_t *self, s_batch_t *batch)
{
    if (batch->rows > 0 || batch->n > 0) {
        (void) s_queue(self, batch);
        return;
    }
    pthread_mutex_lock(&self->mu);
    self->free_list[self->free_count++] = batch;
    pthread_mutex_unlock(&self->mu);
}

/*  After the first @p rows (@p bytes of a file of known size), make room
 *  in the id set for the ids the whole file likely holds, at once rather
 *  than by doubling: each doubling moves every id. */
static void
s_guess_ids(s_seed_t *self, uint64_t rows, uint64_t bytes)
{
    if (self->merge_dups || bytes == 0 || self->ident.size <= bytes) {
        return;
    }
    double guess =
        1.05 * (double) rows * (double) self->ident.size / (double) bytes;
    s_idset_reserve(&self->ids,
                    guess < S_IDSET_GUESS ? (size_t) guess : S_IDSET_GUESS);
}

/*  The parser loop: read every row, fill and queue batches. @return CS_OK
 *  or the reader's error. */
static int
s_parse(s_seed_t *self, double start)
{
    const cs_seed_opts_t *o = self->opts;
    size_t batch_rows =
        o->batch_rows ? o->batch_rows : CS_SEED_BATCH_ROWS_DEFAULT;
    s_batch_t *batch = s_take_free(self);
    if (!batch) {
        return CS_OK;
    }
    cs_row_t row;
    s_reason_t why;
    int rc = CS_OK;
    uint64_t bytes = 0;
    double next_report = 0;
    size_t tick = 0;
    bool replaying = self->replay_until > 0;
    while (true) {
        if (s_should_stop(self)) {
            break;
        }
        rc = s_next_row(self, &row);
        if (rc == CS_ENOENT) {
            rc = CS_OK;
            self->stats->complete = true;
            break;
        }
        if (rc != CS_OK && rc != CS_EPROTO) {
            break;
        }
        bytes = row.end_offset;
        if (++tick == S_GUESS_ROWS) {
            s_guess_ids(self, tick, bytes);
        }
        if (tick % 256 == 0) {
            double now = s_now();
            if (now >= next_report) {
                s_report(self, start, bytes, replaying, false);
                next_report = now + S_PROGRESS_NS / 1e9;
            }
        }
        self->parsed_offset = row.end_offset;
        self->parsed_line = row.line;
        if (replaying && row.end_offset <= self->replay_until) {
            if (rc == CS_OK && s_row_to_delta(self, &row, true, batch, &why) &&
                batch->n >= batch_rows) {
                batch->end_offset = row.end_offset;
                batch->last_line = row.line;
                batch = s_hand_over(self, batch);
                if (!batch) {
                    break;
                }
            }
            continue;
        }
        replaying = false;
        self->stats->rows_read++;
        self->rows_total++;
        bool good = false;
        if (rc == CS_OK) {
            good = s_row_to_delta(self, &row, false, batch, &why);
        } else {
            s_reason(&why, "%s", row.error ? row.error : "bad row");
        }
        rc = CS_OK;
        if (!good) {
            s_batch_add_reject(batch, row.line, row.offset, why.text, row.raw,
                               row.raw_len);
            self->rejected_run++;
            self->rejected_total++;
        }
        batch->rows++;
        batch->input_bytes += row.raw_len;
        batch->end_offset = row.end_offset;
        batch->last_line = row.line;
        if (batch->n >= batch_rows || batch->input_bytes >= S_BATCH_BYTES_MAX ||
            batch->arena.len >= S_BATCH_BYTES_MAX) {
            batch = s_hand_over(self, batch);
            if (!batch) {
                break;
            }
        }
    }
    if (batch) {
        s_hand_last(self, batch);
    }
    self->stats->bytes = bytes;
    s_report(self, start, bytes, false, true);
    return rc;
}

/*  With merge_dups, how many rows before this one (the next of the
 *  sorted load, @p same id as the batch's last) had its id: the runs
 *  come back merged by id, then in input order, so an id's rows are
 *  together and in input order, and the count is the last row's plus one.
 *  Rows the in-order part before the sort wrote are added by the writer
 *  (s_count_direct). */
static uint16_t
s_merge_dups(s_seed_t *self, const s_batch_t *batch, bool same)
{
    if (!same) {
        return 0;
    }
    uint16_t before = batch->earlier[batch->n - 1];
    self->dups_total++;
    self->stats->duplicates++;
    return before < UINT16_MAX ? (uint16_t) (before + 1) : before;
}

/*  The second half of the sorted load: merge the spilled runs and hand
 *  the writer batches in id order, never splitting an id's rows across
 *  two batches (s_prepare merges them in input order). */
static int
s_load_sorted(s_seed_t *self, double start)
{
    const cs_seed_opts_t *o = self->opts;
    size_t batch_rows =
        o->batch_rows ? o->batch_rows : CS_SEED_BATCH_ROWS_DEFAULT;
    int rc = cs_spill_merge(self->spill);
    s_batch_t *batch = rc == CS_OK ? s_take_free(self) : NULL;
    if (!batch) {
        return rc; /* the merge failed, or the writer did */
    }
    uint64_t loaded = 0;
    double next_report = 0;
    cs_spill_item_t item;
    while ((rc = cs_spill_next(self->spill, &item)) == CS_OK) {
        size_t n = batch->n;
        /* the batch's last id again: a duplicate, kept in this batch */
        bool same = n > 0 && cs_spill_key_compare(
                                 item.key, item.key_len,
                                 s_arena_at(batch, batch->id_offs[n - 1]),
                                 batch->id_lens[n - 1]) == 0;
        if (n >= batch_rows || batch->arena.len >= S_BATCH_BYTES_MAX) {
            if (!same) {
                /* only a signal stops this part: --max-errors counts
                 * the rows read, and they all were */
                if (o->stop && *o->stop) {
                    self->stats->interrupted = true;
                    break;
                }
                batch = s_hand_over(self, batch);
                if (!batch) {
                    break;
                }
                double now = s_now();
                if (o->progress && now >= next_report) {
                    cs_seed_progress_t p = {
                        .rows = self->stats->rows_read,
                        .bytes = self->parsed_offset,
                        .bytes_total = self->ident.size,
                        .loaded = loaded,
                        .to_load = cs_spill_count(self->spill),
                        .seconds = now - start,
                    };
                    o->progress(o->progress_arg, &p);
                    next_report = now + S_PROGRESS_NS / 1e9;
                }
            }
        }
        if (item.data_len <= S_SPILLED_HEAD || item.key_len > CS_ID_MAX) {
            s_err("the spill file does not hold what was written to it");
            rc = CS_ECORRUPT;
            break;
        }
        const uint8_t *head = item.data;
        uint16_t earlier;
        memcpy(&earlier, head + 24, sizeof earlier);
        if (self->merge_dups) {
            earlier = s_merge_dups(self, batch, same);
        }
        size_t raw_off = batch->arena.len;
        cs_buf_append(&batch->arena, head + S_SPILLED_HEAD,
                      item.data_len - S_SPILLED_HEAD);
        s_batch_add_raw(batch, o->collection, item.key, item.key_len, raw_off,
                        s_get64(head + 16), s_get64(head), s_get64(head + 8),
                        earlier);
        batch->sorted = true;
        batch->end_offset = self->parsed_offset;
        batch->last_line = self->parsed_line;
        loaded++;
    }
    if (rc == CS_ENOENT) {
        rc = CS_OK;
    }
    if (batch) {
        if (rc != CS_OK) {
            s_batch_reset(batch); /* nothing more is written */
        }
        s_hand_last(self, batch);
    }
    return rc;
}

/* ---------------- --delete-missing ---------------- */

typedef struct {
    s_seed_t *seed;        /* the run */
    char **ids;            /* ids to tombstone, owned */
    size_t count;          /* used */
    size_t cap;            /* allocated */
    cs_stamp_t stamp;      /* the tombstone's stamp */
    uint64_t would_delete; /* dry run: visible records it would hide */
} s_missing_t;

static bool
s_missing_visit(void *arg, const char *collection, const char *id,
                const cs_record_t *record)
{
    (void) collection;
    s_missing_t *m = arg;
    if (cs_record_field_count(record) == 0) {
        return true; /* nothing visible to delete */
    }
    if (s_idset_has(&m->seed->ids,
                    s_idset_hash(&m->seed->ids, id, strlen(id)))) {
        return true;
    }
    if (m->seed->opts->dry_run) {
        cs_record_t *copy = cs_record_dup(record);
        (void) cs_record_delete(copy, m->stamp, 0);
        if (cs_record_field_count(copy) == 0) {
            m->would_delete++;
        }
        cs_record_destroy(&copy);
        return true;
    }
    m->ids = s_grow(m->ids, &m->cap, m->count + 1, sizeof *m->ids);
    m->ids[m->count] = strdup(id);
    if (!m->ids[m->count]) {
        abort();
    }
    m->count++;
    return true;
}

static int
s_delete_missing(s_seed_t *self)
{
    const cs_seed_opts_t *o = self->opts;
    s_missing_t m = { .seed = self };
    m.stamp = (cs_stamp_t){ cs_hlc_make((uint64_t) self->as_of_ms, 0),
                            CS_SEED_ORIGIN };
    int rc = cs_store_scan(self->store, o->collection, s_missing_visit, &m);
    if (rc != CS_OK) {
        s_err("--delete-missing: scanning %s: %s", o->collection,
              cs_strerror(rc));
        goto out_free;
    }
    if (o->dry_run) {
        self->stats->records_deleted += m.would_delete;
        self->stats->missing_deleted += m.would_delete;
        goto out_free;
    }
    size_t chunk = o->batch_rows ? o->batch_rows : CS_SEED_BATCH_ROWS_DEFAULT;
    cs_store_delta_t *deltas = s_alloc(chunk * sizeof *deltas);
    for (size_t done = 0; done < m.count && rc == CS_OK; done += chunk) {
        size_t n = m.count - done < chunk ? m.count - done : chunk;
        for (size_t i = 0; i < n; i++) {
            cs_record_t *tomb = cs_record_new();
            (void) cs_record_delete(tomb, m.stamp, 0);
            deltas[i] = (cs_store_delta_t){ .collection = o->collection,
                                            .id = m.ids[done + i],
                                            .record = tomb };
        }
        cs_store_import_stats_t st;
        rc = cs_store_import(self->store, deltas, n, NULL, NULL, 0, &st);
        for (size_t i = 0; i < n; i++) {
            cs_record_t *tomb = (cs_record_t *) (uintptr_t) deltas[i].record;
            cs_record_destroy(&tomb);
        }
        if (rc != CS_OK) {
            s_err("--delete-missing: %s", cs_strerror(rc));
            break;
        }
        self->stats->records_deleted += st.records_deleted;
        self->stats->missing_deleted += st.records_deleted;
        self->stats->records_updated += st.records_updated;
    }
    free(deltas);
out_free:
    for (size_t i = 0; i < m.count; i++) {
        free(m.ids[i]);
    }
    free(m.ids);
    return rc;
}

/* ---------------- the run ---------------- */

/*  Open the input and the reader, and fill in its identity. */
static int
s_open_input(s_seed_t *self)
{
    const cs_seed_opts_t *o = self->opts;
    bool use_stdin = strcmp(o->input, "-") == 0;
    self->fd = use_stdin ? STDIN_FILENO : open(o->input, O_RDONLY | O_CLOEXEC);
    if (self->fd < 0) {
        s_err("%s: %s", o->input, strerror(errno));
        return CS_EIO;
    }
    struct stat st;
    if (fstat(self->fd, &st) != 0) {
        s_err("%s: %s", o->input, strerror(errno));
        return CS_EIO;
    }
    bool regular = S_ISREG(st.st_mode);
    if (regular) {
        self->ident.dev = (uint64_t) st.st_dev;
        self->ident.ino = (uint64_t) st.st_ino;
        self->ident.size = (uint64_t) st.st_size;
        self->ident.mtime_ns =
            (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        (void) posix_fadvise(self->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    self->write_ckpt = regular && !use_stdin && !o->dry_run;
    cs_seed_format_t format = cs_seed_format_of(o->format, o->input);
    self->stats->format = format;
    self->is_csv = format == CS_SEED_FORMAT_CSV;
    self->ident.flags = self->is_csv ? 0 : S_CKPT_JSONL;
    const char *name = use_stdin ? "standard input" : o->input;
    int rc = self->is_csv ? cs_csv_open(self->fd, name, &o->csv, &self->csv)
                          : cs_jsonl_open(self->fd, name, NULL, &self->jsonl);
    if (rc != CS_OK) {
        if (rc == CS_EPROTO) {
            s_err("%s: no usable header row", name);
        } else if (rc != CS_EIO) {
            s_err("%s: %s", name, cs_strerror(rc));
        }
        return rc;
    }
    if (self->is_csv) {
        bool bom = false;
        self->stats->encoding =
            cs_csv_encoding_name(cs_csv_encoding(self->csv, &bom));
        self->stats->delimiter = cs_csv_delimiter(self->csv);
    }
    /* the as-of time */
    if (o->as_of_set) {
        self->as_of_ms = o->as_of_ms;
        self->stats->as_of_source = CS_SEED_AS_OF_OPTION;
    } else if (regular) {
        self->as_of_ms = self->ident.mtime_ns / 1000000;
        self->stats->as_of_source = CS_SEED_AS_OF_MTIME;
    } else if (o->timestamp_column && !o->delete_missing) {
        self->stats->as_of_source = CS_SEED_AS_OF_NONE;
    } else {
        s_err("%s is not a regular file, so it has no modification time: "
              "give --as-of TIME%s",
              name, o->delete_missing ? "" : " or --timestamp-column COL");
        return CS_EINVAL;
    }
    if (self->as_of_ms < 0) {
        s_err("the as-of time is before 1970");
        return CS_EINVAL;
    }
    self->stats->as_of_ms = self->as_of_ms;
    return CS_OK;
}

/*  Read, check and apply the checkpoint for --resume; note one left by an
 *  interrupted run otherwise. */
static int
s_load_checkpoint(s_seed_t *self, s_ckpt_t *ck, bool *have)
{
    const cs_seed_opts_t *o = self->opts;
    *have = false;
    if (o->dry_run) {
        return CS_OK;
    }
    uint8_t buf[CS_STORE_CHECKPOINT_MAX];
    size_t len = 0;
    int rc = cs_store_checkpoint_get(self->store, self->ckpt_name, buf,
                                     sizeof buf, &len);
    if (rc == CS_ENOENT) {
        return CS_OK;
    }
    if (rc != CS_OK && rc != CS_ELIMIT) {
        s_err("reading the checkpoint: %s", cs_strerror(rc));
        return rc;
    }
    self->stats->checkpoint_found = true;
    if (!o->resume) {
        return CS_OK;
    }
    if (rc == CS_ELIMIT || !s_ckpt_decode(buf, len, ck)) {
        s_err("the checkpoint of collection %s was written by another "
              "version of crmsync: run without --resume to start over",
              o->collection);
        return CS_EINVAL;
    }
    if (ck->dev != self->ident.dev || ck->ino != self->ident.ino ||
        ck->size != self->ident.size || ck->mtime_ns != self->ident.mtime_ns) {
        s_err("cannot resume: the interrupted seed of collection %s read "
              "another input (or %s changed since: size, time or inode "
              "differ); run without --resume to start over",
              o->collection, o->input);
        return CS_EINVAL;
    }
    if ((ck->flags & S_CKPT_JSONL) != (self->ident.flags & S_CKPT_JSONL) ||
        memcmp(ck->fingerprint, self->ident.fingerprint, S_FINGERPRINT) != 0) {
        s_err("cannot resume: the interrupted seed of collection %s was "
              "started with other options (mapping, columns, --null, "
              "--sf-ids, times or format); give the same options, or run "
              "without --resume to start over",
              o->collection);
        return CS_EINVAL;
    }
    if (ck->offset > self->ident.size) {
        s_err("cannot resume: the checkpoint points past the end of %s",
              o->input);
        return CS_EINVAL;
    }
    *have = true;
    return CS_OK;
}

static int
s_open_rejects(s_seed_t *self, const s_ckpt_t *ck, bool resuming)
{
    const char *path = self->opts->rejects_path;
    if (!path) {
        return CS_OK;
    }
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (resuming ? 0 : O_TRUNC);
    int fd = open(path, flags, 0666);
    if (fd < 0) {
        s_err("%s: %s", path, strerror(errno));
        return CS_EIO;
    }
    if (resuming) {
        /* drop what the interrupted run wrote after its last commit */
        struct stat st;
        if (fstat(fd, &st) == 0 && (uint64_t) st.st_size > ck->rejects_size &&
            ftruncate(fd, (off_t) ck->rejects_size) != 0) {
            s_err("%s: %s", path, strerror(errno));
            close(fd);
            return CS_EIO;
        }
        if (lseek(fd, 0, SEEK_END) < 0) {
            s_err("%s: %s", path, strerror(errno));
            close(fd);
            return CS_EIO;
        }
    }
    self->rejects = fdopen(fd, "w");
    if (!self->rejects) {
        s_err("%s: %s", path, strerror(errno));
        close(fd);
        return CS_EIO;
    }
    off_t pos = ftello(self->rejects);
    self->rejects_size = pos > 0 ? (uint64_t) pos : 0;
    return CS_OK;
}

/*  Scan callback: stop at the first record with a visible field. */
static bool
s_find_visible(void *arg, const char *collection, const char *id,
               const cs_record_t *record)
{
    (void) collection;
    (void) id;
    bool *found = arg;
    *found = cs_record_field_count(record) > 0;
    return !*found;
}

/*  Start the writer thread, with the stop signals blocked: they go to the
 *  parser. */
static int
s_start_writer(s_seed_t *self, pthread_t *writer)
{
    sigset_t block;
    sigset_t old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int prc = pthread_create(writer, NULL, s_writer_main, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        s_err("cannot start the writer thread: %s", strerror(prc));
        return CS_EIO;
    }
    return CS_OK;
}

int
cs_seed_run(cs_store_t *store, const cs_seed_opts_t *opts,
            cs_seed_stats_t *stats)
{
    assert(store);
    assert(opts);
    assert(stats);
    assert(opts->collection && opts->id_column && opts->input);
    memset(stats, 0, sizeof *stats);
    double start = s_now();
    s_seed_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    self->opts = opts;
    self->stats = stats;
    self->store = store;
    self->fd = -1;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    size_t rows = CS_SEED_BATCH_ROWS_DEFAULT;
    if (opts->batch_rows && opts->batch_rows < rows) {
        rows = opts->batch_rows;
    }
    for (size_t i = 0; i < S_BATCHES; i++) {
        /* the arena fills to S_BATCH_BYTES_MAX and a row more (it grows
         * past this only for a row larger than the rest) */
        cs_buf_t *arena = &self->batches[i].arena;
        arena->cap = S_BATCH_BYTES_MAX + S_HUGE;
        arena->data = s_big_alloc(arena->cap, false);
        /* and its arrays as long as a batch of the default size (more
         * rows grow them: a larger --batch-size, an id's rows that the
         * sorted load keeps together) */
        s_batch_reserve(&self->batches[i], rows);
        self->free_list[self->free_count++] = &self->batches[i];
    }
    s_idset_init(&self->ids);
    snprintf(self->ckpt_name, sizeof self->ckpt_name, "seed:%s",
             opts->collection);
    char *map_text = NULL;
    size_t map_len = 0;
    bool writer_started = false;
    pthread_t writer;
    int rc = CS_OK;

    if (opts->map_path) {
        char err[256];
        rc = s_read_map(opts->map_path, &map_text, &map_len);
        if (rc == CS_OK) {
            rc = cs_sdl_parse(map_text, map_len, &self->map, err, sizeof err);
            if (rc != CS_OK) {
                s_err("%s: %s", opts->map_path, err);
                rc = CS_EINVAL;
            }
        }
        if (rc != CS_OK) {
            goto out;
        }
    }
    rc = s_open_input(self);
    if (rc != CS_OK) {
        goto out;
    }
    s_fingerprint(opts, map_text, map_len, self->is_csv,
                  self->ident.fingerprint);
    if (opts->resume && !self->write_ckpt) {
        s_err("--resume needs the input as a regular file (standard input "
              "or a pipe cannot be resumed)");
        rc = CS_EINVAL;
        goto out;
    }
    s_ckpt_t ck;
    memset(&ck, 0, sizeof ck);
    bool have_ckpt = false;
    rc = s_load_checkpoint(self, &ck, &have_ckpt);
    if (rc != CS_OK) {
        goto out;
    }
    if (have_ckpt) {
        stats->resumed = true;
        stats->resumed_offset = ck.offset;
        stats->resumed_line = ck.last_line;
        stats->earlier_rows = ck.rows;
        stats->earlier_rejected = ck.rejected + ck.writer_rejected;
        stats->earlier_duplicates = ck.duplicates;
        self->replay_until = ck.offset;
        self->rows_total = ck.rows;
        self->rejected_total = ck.rejected;
        self->dups_total = ck.duplicates;
        self->writer_rejected = ck.writer_rejected;
        if (ck.flags & S_CKPT_SORTED) {
            self->resume_sorted = true;
            self->resume_key_len = ck.key_len;
            memcpy(self->resume_key, ck.key, ck.key_len + 1);
        }
        if (!opts->as_of_set && ck.as_of_ms != self->as_of_ms) {
            self->as_of_ms = ck.as_of_ms;
            stats->as_of_ms = ck.as_of_ms;
            stats->as_of_source = CS_SEED_AS_OF_CHECKPOINT;
        }
    }
    bool any_visible = false;
    rc = cs_store_scan(store, opts->collection, s_find_visible, &any_visible);
    if (rc != CS_OK) {
        s_err("reading the store: %s", cs_strerror(rc));
        goto out;
    }
    self->fresh = !any_visible;
    if (!opts->dry_run && opts->spill_dir &&
        (self->fresh || self->resume_sorted)) {
        rc = cs_spill_new(opts->spill_dir, &self->spill);
        if (rc != CS_OK) {
            goto out;
        }
    }
    rc = s_open_rejects(self, &ck, have_ckpt);
    if (rc != CS_OK) {
        goto out;
    }
    if (self->is_csv) {
        size_t count = 0;
        const char *const *names = cs_csv_columns(self->csv, &count);
        s_plan_build(self, names, count, true, &self->plan);
        if (!self->plan.valid) {
            s_err("%s: %s", opts->input, self->plan.error);
            rc = CS_EINVAL;
            goto out;
        }
    }
    /* A first seed that can sort counts an id's earlier rows where the
     * sorted load brings them together, and needs no id set (16 bytes or
     * more an id, the parser's costliest lookup). The id set stays where a
     * row must be ranked as it is read (nothing to sort: --no-sort, a
     * collection with records, a dry run), where --delete-missing asks it
     * which ids the file held, on --resume (it replays rows into it), and
     * where a row may map no field (JSON Lines with --map or --exclude, a
     * CSV header with nothing mapped): such a row writes nothing for the
     * sorted load to count, yet it counts as an earlier row. */
    self->merge_dups =
        self->spill && self->fresh && !have_ckpt && !opts->delete_missing &&
        (self->is_csv ? self->plan.target_count > 0
                      : !opts->map_path && opts->exclude_count == 0);

    rc = s_start_writer(self, &writer);
    if (rc != CS_OK) {
        goto out;
    }
    writer_started = true;
    int parse_rc = s_parse(self, start);
    s_close_queue(self);
    pthread_join(writer, NULL);
    writer_started = false;
    if (self->spilling && !self->failed && parse_rc == CS_OK &&
        !stats->interrupted) {
        /* the input was not in id order: load the sorted runs (after
         * --max-errors too, so the rows before the stop are in) */
        stats->sorted = true;
        self->closed = false;
        rc = s_start_writer(self, &writer);
        if (rc != CS_OK) {
            goto out;
        }
        writer_started = true;
        parse_rc = s_load_sorted(self, start);
        s_close_queue(self);
        pthread_join(writer, NULL);
        writer_started = false;
        stats->duplicates += self->writer_dups;
        if (stats->interrupted || stats->stopped_max_errors) {
            stats->complete = false; /* read, but not all written */
        }
    }
    stats->rejected = self->rejected_run + self->writer_rejected_run;
    if (self->failed) {
        rc = self->writer_rc;
        if (rc != CS_EIO) {
            s_err("writing to the store: %s", cs_strerror(rc));
        }
        goto out;
    }
    if (parse_rc != CS_OK) {
        rc = parse_rc;
        goto out;
    }
    bool finished =
        stats->complete && !stats->interrupted && !stats->stopped_max_errors;
    if (finished && opts->delete_missing) {
        rc = s_delete_missing(self);
        if (rc != CS_OK) {
            goto out;
        }
    }
    if (finished && !opts->dry_run) {
        rc = cs_store_checkpoint_clear(store, self->ckpt_name);
        if (rc != CS_OK) {
            s_err("clearing the checkpoint: %s", cs_strerror(rc));
            goto out;
        }
    }
out:
    if (writer_started) {
        s_close_queue(self);
        pthread_join(writer, NULL);
    }
    if (self->rejects) {
        if (fclose(self->rejects) != 0 && rc == CS_OK) {
            s_err("%s: %s", opts->rejects_path, strerror(errno));
            rc = CS_EIO;
        }
    }
    stats->rejected = self->rejected_run + self->writer_rejected_run;
    cs_spill_destroy(&self->spill);
    free(self->vals);
    free(self->norms);
    cs_csv_destroy(&self->csv);
    cs_jsonl_destroy(&self->jsonl);
    if (self->fd >= 0 && self->fd != STDIN_FILENO) {
        close(self->fd);
    }
    for (size_t i = 0; i < S_BATCHES; i++) {
        s_batch_fini(&self->batches[i]);
    }
    s_plan_fini(&self->plan);
    cs_sdl_destroy(&self->map);
    free(map_text);
    s_idset_fini(&self->ids);
    pthread_cond_destroy(&self->cv);
    pthread_mutex_destroy(&self->mu);
    free(self);
    stats->seconds = s_now() - start;
    return rc;
}
