/*  store_fixture - a store in its own temporary directory with an injected
 *  clock, and a collector of scanned or fed records, for the cmocka tests
 *  of storage/. Include after defining S_NODE (the node id), S_T0 (the
 *  clock's start, ms) and S_ITEMS_MAX (records a collector holds).
 *  SPDX-License-Identifier: MIT
 */
#ifndef CS_TEST_STORE_FIXTURE_H
#define CS_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crdt/cs_codec.h"
#include "storage/cs_store.h"

/* A store in its own temporary directory, with an injected clock. */
typedef struct {
    char dir[64];      /* mkdtemp result */
    uint64_t now;      /* wall clock seen by the store, ms */
    cs_store_t *store; /* open store, or NULL */
} s_fix_t;

static inline uint64_t
s_clock(void *arg)
{
    return *(const uint64_t *) arg;
}

static inline void
s_mkdtemp(char dir[64])
{
    strcpy(dir, "/tmp/cs_store_test.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static inline void
s_rmdir(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

static inline cs_store_opts_t
s_opts(s_fix_t *fix)
{
    cs_store_opts_t opts = { .clock = s_clock, .clock_arg = &fix->now };
    return opts;
}

static inline void
s_reopen(s_fix_t *fix, const cs_store_opts_t *opts)
{
    cs_store_destroy(&fix->store);
    cs_store_opts_t defaults = s_opts(fix);
    assert_int_equal(
        cs_store_open(fix->dir, opts ? opts : &defaults, &fix->store), CS_OK);
}

static inline int
s_setup(void **state)
{
    s_fix_t *fix = calloc(1, sizeof *fix);
    assert_non_null(fix);
    s_mkdtemp(fix->dir);
    fix->now = S_T0;
    assert_int_equal(cs_store_create(fix->dir, S_NODE), CS_OK);
    s_reopen(fix, NULL);
    *state = fix;
    return 0;
}

static inline int
s_teardown(void **state)
{
    s_fix_t *fix = *state;
    cs_store_destroy(&fix->store);
    s_rmdir(fix->dir);
    free(fix);
    return 0;
}

/* Records collected from a scan or feed read. */
typedef struct {
    char collection[CS_COLLECTION_MAX + 1]; /* key part */
    char id[CS_ID_MAX + 1];                 /* key part */
    cs_record_t *record;                    /* owned copy */
    size_t bytes;                           /* canonical encoding size */
} s_item_t;

typedef struct {
    s_item_t *items; /* S_ITEMS_MAX slots */
    size_t n;        /* used */
    size_t stop_at;  /* return false after this many (0: never) */
} s_items_t;

static inline s_items_t
s_items_new(void)
{
    s_items_t items = { .items = calloc(S_ITEMS_MAX, sizeof(s_item_t)) };
    assert_non_null(items.items);
    return items;
}

static inline void
s_items_free(s_items_t *items)
{
    for (size_t i = 0; i < items->n; i++) {
        cs_record_destroy(&items->items[i].record);
    }
    free(items->items);
    items->items = NULL;
    items->n = 0;
}

static inline bool
s_collect(void *arg, const char *collection, const char *id,
          const cs_record_t *record)
{
    s_items_t *items = arg;
    assert_true(items->n < S_ITEMS_MAX);
    s_item_t *item = &items->items[items->n++];
    snprintf(item->collection, sizeof item->collection, "%s", collection);
    snprintf(item->id, sizeof item->id, "%s", id);
    item->record = cs_record_dup(record);
    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_codec_encode_record(record, CS_CODEC_CANONICAL, &buf);
    item->bytes = buf.len;
    cs_buf_fini(&buf);
    return items->stop_at == 0 || items->n < items->stop_at;
}

#endif /* CS_TEST_STORE_FIXTURE_H */
