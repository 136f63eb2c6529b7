/*  test_cs_store - the LMDB store: create/open, local writes, the change
 *  feed, remote apply with peer cursors, digests, scans and a full map.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "crdt/cs_codec.h"
#include "storage/cs_store.h"

#define S_NODE      UINT64_C(0x1111)
#define S_T0        UINT64_C(1700000000000) /* 2023-11-14, in ms */
#define S_ITEMS_MAX 2048

#include "store_fixture.h"

/* ---------------- fixture helpers ---------------- */

static int
s_put(cs_store_t *store, const char *collection, const char *id,
      const char *name, const char *value)
{
    cs_store_field_t field = { .name = name, .value = cs_value_str(value) };
    return cs_store_set(store, collection, id, &field, 1, NULL);
}

/* Assert that field @p name of @p rec is the string @p expected. */
static void
s_assert_field(const cs_record_t *rec, const char *name, const char *expected)
{
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, name, &field), CS_OK);
    assert_int_equal(field.value.type, CS_VALUE_STR);
    assert_int_equal(field.value.u.s.len, strlen(expected));
    assert_memory_equal(field.value.u.s.ptr, expected, strlen(expected));
}

static void
s_assert_stored(cs_store_t *store, const char *collection, const char *id,
                const char *name, const char *expected)
{
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(store, collection, id, &rec), CS_OK);
    s_assert_field(rec, name, expected);
    cs_record_destroy(&rec);
}

static uint64_t
s_head(cs_store_t *store)
{
    cs_store_info_t info;
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    return info.feed_head;
}


/* A remote record with one string field stamped (hlc, origin). */
static cs_record_t *
s_remote(const char *name, const char *value, cs_hlc_t hlc, uint64_t origin)
{
    cs_record_t *rec = cs_record_new();
    cs_value_t v = cs_value_str(value);
    cs_stamp_t stamp = { .hlc = hlc, .origin = origin };
    assert_int_equal(cs_record_set(rec, name, &v, stamp, 0, NULL), CS_OK);
    return rec;
}

/* ---------------- create and open ---------------- */

static void
test_store_create_then_open_reads_node_id_and_epoch(void **state)
{
    s_fix_t *fix = *state;
    assert_int_equal(cs_store_node_id(fix->store), S_NODE);
    assert_int_not_equal(cs_store_epoch(fix->store), 0);
    cs_store_info_t info;
    assert_int_equal(cs_store_info(fix->store, &info), CS_OK);
    assert_int_equal(info.node_id, S_NODE);
    assert_int_equal(info.epoch, cs_store_epoch(fix->store));
    assert_int_equal(info.feed_head, 0);
    assert_int_equal(info.records, 0);
    assert_int_equal(info.last_hlc, 0);
    assert_true(info.map_size > 0);
}

static void
test_store_create_on_existing_store_is_eexist(void **state)
{
    s_fix_t *fix = *state;
    uint64_t epoch = cs_store_epoch(fix->store);
    cs_store_destroy(&fix->store);
    assert_int_equal(cs_store_create(fix->dir, 42), CS_EEXIST);
    s_reopen(fix, NULL);
    assert_int_equal(cs_store_node_id(fix->store), S_NODE);
    assert_int_equal(cs_store_epoch(fix->store), epoch);
}

static void
test_store_epochs_differ_between_stores(void **state)
{
    s_fix_t *fix = *state;
    char dir[64];
    s_mkdtemp(dir);
    assert_int_equal(cs_store_create(dir, S_NODE), CS_OK);
    cs_store_t *other = NULL;
    assert_int_equal(cs_store_open(dir, NULL, &other), CS_OK);
    assert_int_not_equal(cs_store_epoch(other), cs_store_epoch(fix->store));
    cs_store_destroy(&other);
    s_rmdir(dir);
}

static void
test_store_open_without_store_is_enoent_and_creates_nothing(void **state)
{
    (void) state;
    char dir[64];
    s_mkdtemp(dir);
    cs_store_t *store = NULL;
    assert_int_equal(cs_store_open(dir, NULL, &store), CS_ENOENT);
    assert_null(store);
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(cs_store_open(path, NULL, &store), CS_ENOENT);
    s_rmdir(dir);
}

static void
s_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, len, file), len);
    assert_int_equal(fclose(file), 0);
}

static void
test_store_open_of_empty_or_garbage_file_fails_without_creating(void **state)
{
    (void) state;
    char dir[64];
    s_mkdtemp(dir);
    cs_store_t *store = NULL;
    s_write_file(dir, "data.mdb", "", 0);
    assert_int_equal(cs_store_open(dir, NULL, &store), CS_ENOENT);
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);

    static uint8_t garbage[16384];
    for (size_t i = 0; i < sizeof garbage; i++) {
        garbage[i] = (uint8_t) (i * 131u + 7u);
    }
    s_write_file(dir, "data.mdb", garbage, sizeof garbage);
    assert_int_equal(cs_store_open(dir, NULL, &store), CS_ECORRUPT);
    assert_null(store);
    s_rmdir(dir);
}

/* Put (@p key, @p val) into sub-database @p db of the store in @p dir
 * with a raw LMDB env, behind the store's back. */
static void
s_raw_put(const char *dir, const char *db, const void *key, size_t key_len,
          const void *val, size_t val_len)
{
    MDB_env *env = NULL;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    MDB_txn *txn = NULL;
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    MDB_dbi dbi;
    assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
    MDB_val k = { key_len, (void *) (uintptr_t) key };
    MDB_val v = { val_len, (void *) (uintptr_t) val };
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* @p value big-endian into @p out[8], as the store writes integers. */
static void
s_be64(uint8_t out[8], uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t) (value & 0xFF);
        value >>= 8;
    }
}

/* Write @p version into meta "schema_version". */
static void
s_write_schema(const char *dir, uint64_t version)
{
    uint8_t bytes[8];
    s_be64(bytes, version);
    s_raw_put(dir, "meta", "schema_version", strlen("schema_version"), bytes,
              sizeof bytes);
}

static void
test_store_open_rejects_newer_older_or_unknown_schema(void **state)
{
    s_fix_t *fix = *state;
    cs_store_destroy(&fix->store);
    cs_store_opts_t opts = s_opts(fix);

    s_write_schema(fix->dir, CS_STORE_SCHEMA_VERSION + 1);
    assert_int_equal(cs_store_open(fix->dir, &opts, &fix->store), CS_ECORRUPT);
    assert_null(fix->store);

    /* version 1 (a stamp on every field) came from development builds
     * only: refused, to be re-created, not migrated */
    s_write_schema(fix->dir, 1);
    assert_int_equal(cs_store_open(fix->dir, &opts, &fix->store), CS_ECORRUPT);
    assert_null(fix->store);

    s_write_schema(fix->dir, 0);
    assert_int_equal(cs_store_open(fix->dir, &opts, &fix->store), CS_ECORRUPT);

    s_write_schema(fix->dir, CS_STORE_SCHEMA_VERSION);
    assert_int_equal(cs_store_open(fix->dir, &opts, &fix->store), CS_OK);
}

static void
test_store_read_only_open_reads_but_refuses_writes(void **state)
{
    s_fix_t *fix = *state;
    assert_int_equal(s_put(fix->store, "contacts", "1", "name", "Ada"), CS_OK);
    cs_store_opts_t opts = s_opts(fix);
    opts.read_only = true;
    s_reopen(fix, &opts);
    s_assert_stored(fix->store, "contacts", "1", "name", "Ada");
    assert_int_equal(s_put(fix->store, "contacts", "2", "name", "Bob"),
                     CS_EINVAL);
    assert_int_equal(cs_store_delete(fix->store, "contacts", "1", NULL),
                     CS_EINVAL);
    assert_int_equal(s_head(fix->store), 1);
}

/* ---------------- local writes ---------------- */

static void
test_store_set_get_delete_revive(void **state)
{
    s_fix_t *fix = *state;
    cs_store_field_t fields[] = {
        { .name = "name", .value = cs_value_str("Ada") },
        { .name = "age", .value = cs_value_int(36) },
    };
    cs_hlc_t set_hlc = 0;
    assert_int_equal(
        cs_store_set(fix->store, "contacts", "c1", fields, 2, &set_hlc), CS_OK);
    assert_int_equal(cs_hlc_wall(set_hlc), S_T0);

    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(fix->store, "contacts", "c1", &rec), CS_OK);
    assert_int_equal(cs_record_field_count(rec), 2);
    s_assert_field(rec, "name", "Ada");
    cs_field_t age;
    assert_int_equal(cs_record_get(rec, "age", &age), CS_OK);
    assert_int_equal(age.value.u.i, 36);
    assert_int_equal(age.stamp.hlc, set_hlc);
    assert_int_equal(age.stamp.origin, S_NODE);
    assert_int_equal(age.seq, 1);
    cs_record_destroy(&rec);
    assert_int_equal(cs_store_get(fix->store, "contacts", "c2", &rec),
                     CS_ENOENT);
    assert_null(rec);

    cs_hlc_t del_hlc = 0;
    assert_int_equal(cs_store_delete(fix->store, "contacts", "c1", &del_hlc),
                     CS_OK);
    assert_true(del_hlc > set_hlc);
    assert_int_equal(cs_store_get(fix->store, "contacts", "c1", &rec), CS_OK);
    assert_true(cs_record_is_deleted(rec));
    assert_int_equal(cs_record_field_count(rec), 0);
    cs_record_destroy(&rec);
    uint64_t count = 99;
    assert_int_equal(cs_store_count(fix->store, "contacts", &count), CS_OK);
    assert_int_equal(count, 0);

    /* A write after the delete revives the record with the new field only. */
    assert_int_equal(s_put(fix->store, "contacts", "c1", "name", "Ada L."),
                     CS_OK);
    assert_int_equal(cs_store_get(fix->store, "contacts", "c1", &rec), CS_OK);
    assert_false(cs_record_is_deleted(rec));
    assert_int_equal(cs_record_field_count(rec), 1);
    s_assert_field(rec, "name", "Ada L.");
    cs_record_destroy(&rec);
    assert_int_equal(cs_store_count(fix->store, "contacts", &count), CS_OK);
    assert_int_equal(count, 1);
    assert_int_equal(s_head(fix->store), 3);
}

static void
test_store_delete_of_invisible_record_is_enoent_and_writes_nothing(void **state)
{
    s_fix_t *fix = *state;
    assert_int_equal(cs_store_delete(fix->store, "contacts", "nope", NULL),
                     CS_ENOENT);
    assert_int_equal(s_put(fix->store, "contacts", "c1", "name", "Ada"), CS_OK);
    assert_int_equal(cs_store_delete(fix->store, "contacts", "c1", NULL),
                     CS_OK);
    cs_store_info_t before;
    assert_int_equal(cs_store_info(fix->store, &before), CS_OK);
    fix->now += 1000;
    assert_int_equal(cs_store_delete(fix->store, "contacts", "c1", NULL),
                     CS_ENOENT);
    cs_store_info_t after;
    assert_int_equal(cs_store_info(fix->store, &after), CS_OK);
    assert_int_equal(after.feed_head, before.feed_head);
    assert_int_equal(after.last_hlc, before.last_hlc);
}

static void
test_store_set_rejects_bad_input_before_writing(void **state)
{
    s_fix_t *fix = *state;
    cs_store_t *store = fix->store;
    char long_id[CS_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal(s_put(store, "", "1", "a", "v"), CS_EINVAL);
    assert_int_equal(s_put(store, "c", "", "a", "v"), CS_EINVAL);
    assert_int_equal(s_put(store, "c", long_id, "a", "v"), CS_EINVAL);
    assert_int_equal(s_put(store, "c", "\xff", "a", "v"), CS_EINVAL);
    assert_int_equal(s_put(store, "c", "1", "", "v"), CS_EINVAL);
    assert_int_equal(s_put(store, "c", "1", "a", "\xc0\x80"), CS_EINVAL);
    cs_store_field_t twice[] = {
        { .name = "a", .value = cs_value_int(1) },
        { .name = "a", .value = cs_value_int(2) },
    };
    assert_int_equal(cs_store_set(store, "c", "1", twice, 2, NULL), CS_EINVAL);
    assert_int_equal(cs_store_set(store, "c", "1", twice, 0, NULL), CS_EINVAL);
    cs_store_field_t nameless = { .name = NULL, .value = cs_value_nil() };
    assert_int_equal(cs_store_set(store, "c", "1", &nameless, 1, NULL),
                     CS_EINVAL);
    assert_int_equal(cs_store_delete(store, "", "1", NULL), CS_EINVAL);
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(store, "c", "", &rec), CS_EINVAL);
    uint64_t count = 0;
    assert_int_equal(cs_store_count(store, "", &count), CS_EINVAL);
    cs_store_info_t info;
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    assert_int_equal(info.feed_head, 0);
    assert_int_equal(info.records, 0);
    assert_int_equal(info.last_hlc, 0);
}

static void
test_store_hlc_increases_across_reopen_with_clock_set_back(void **state)
{
    s_fix_t *fix = *state;
    cs_hlc_t first = 0;
    cs_store_field_t field = { .name = "n", .value = cs_value_int(1) };
    assert_int_equal(cs_store_set(fix->store, "c", "1", &field, 1, &first),
                     CS_OK);
    cs_store_destroy(&fix->store);
    fix->now = S_T0 - UINT64_C(3600000); /* the wall clock jumps back an hour */
    s_reopen(fix, NULL);
    cs_hlc_t second = 0;
    cs_hlc_t third = 0;
    assert_int_equal(cs_store_set(fix->store, "c", "2", &field, 1, &second),
                     CS_OK);
    assert_int_equal(cs_store_set(fix->store, "c", "1", &field, 1, &third),
                     CS_OK);
    assert_true(second > first);
    assert_true(third > second);
    cs_store_info_t info;
    assert_int_equal(cs_store_info(fix->store, &info), CS_OK);
    assert_int_equal(info.last_hlc, third);
    /* The write after the jump still wins over the one before it. */
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(fix->store, "c", "1", &rec), CS_OK);
    cs_field_t got;
    assert_int_equal(cs_record_get(rec, "n", &got), CS_OK);
    assert_int_equal(got.stamp.hlc, third);
    cs_record_destroy(&rec);
}

/* ---------------- change feed ---------------- */

static void
test_store_feed_holds_each_record_once_at_its_latest_seq(void **state)
{
    s_fix_t *fix = *state;
    assert_int_equal(s_put(fix->store, "c", "other", "a", "x"), CS_OK);
    char value[16];
    for (int i = 0; i < 100; i++) {
        snprintf(value, sizeof value, "v%d", i);
        assert_int_equal(s_put(fix->store, "c", "hot", "a", value), CS_OK);
    }
    assert_int_equal(s_head(fix->store), 101);
    s_items_t items = s_items_new();
    uint64_t last_seq = 0;
    uint64_t head = 0;
    assert_int_equal(cs_store_changes(fix->store, 0, 0, SIZE_MAX, s_collect,
                                      &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 2);
    assert_string_equal(items.items[0].id, "other");
    assert_int_equal(cs_record_max_seq(items.items[0].record), 1);
    assert_string_equal(items.items[1].id, "hot");
    assert_int_equal(cs_record_max_seq(items.items[1].record), 101);
    s_assert_field(items.items[1].record, "a", "v99");
    assert_int_equal(last_seq, 101);
    assert_int_equal(head, 101);
    cs_store_info_t info;
    assert_int_equal(cs_store_info(fix->store, &info), CS_OK);
    assert_int_equal(info.records, 2);
    s_items_free(&items);
}

static void
test_store_changes_since_ships_only_parts_changed_after_it(void **state)
{
    s_fix_t *fix = *state;
    cs_store_field_t fields[] = {
        { .name = "a", .value = cs_value_str("1") },
        { .name = "b", .value = cs_value_str("2") },
        { .name = "c", .value = cs_value_str("3") },
    };
    assert_int_equal(cs_store_set(fix->store, "c", "r1", fields, 3, NULL),
                     CS_OK);
    assert_int_equal(s_put(fix->store, "c", "r2", "x", "9"), CS_OK);
    uint64_t since = s_head(fix->store);
    fix->now++;
    assert_int_equal(s_put(fix->store, "c", "r1", "b", "22"), CS_OK);

    s_items_t items = s_items_new();
    uint64_t last_seq = 0;
    uint64_t head = 0;
    assert_int_equal(cs_store_changes(fix->store, since, since, SIZE_MAX,
                                      s_collect, &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 1);
    assert_string_equal(items.items[0].collection, "c");
    assert_string_equal(items.items[0].id, "r1");
    assert_int_equal(cs_record_field_count(items.items[0].record), 1);
    s_assert_field(items.items[0].record, "b", "22");
    assert_false(cs_record_tombstone(items.items[0].record, NULL, NULL));
    assert_int_equal(last_seq, 3);
    assert_int_equal(head, 3);
    s_items_free(&items);

    /* A delete ships as its tombstone alone. */
    since = 3;
    assert_int_equal(cs_store_delete(fix->store, "c", "r2", NULL), CS_OK);
    items = s_items_new();
    assert_int_equal(cs_store_changes(fix->store, since, since, SIZE_MAX,
                                      s_collect, &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 1);
    assert_string_equal(items.items[0].id, "r2");
    assert_int_equal(cs_record_field_count(items.items[0].record), 0);
    assert_true(cs_record_tombstone(items.items[0].record, NULL, NULL));
    s_items_free(&items);

    /* From 0 every record comes whole, in feed order. */
    items = s_items_new();
    assert_int_equal(cs_store_changes(fix->store, 0, 0, SIZE_MAX, s_collect,
                                      &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 2);
    assert_string_equal(items.items[0].id, "r1");
    assert_int_equal(cs_record_field_count(items.items[0].record), 3);
    assert_string_equal(items.items[1].id, "r2");
    assert_int_equal(last_seq, 4);
    assert_int_equal(head, 4);
    s_items_free(&items);
}

static void
test_store_changes_caps_bytes_but_returns_at_least_one(void **state)
{
    s_fix_t *fix = *state;
    char value[101];
    memset(value, 'v', 100);
    value[100] = 0;
    char id[16];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "r%02d", i);
        assert_int_equal(s_put(fix->store, "c", id, "a", value), CS_OK);
    }
    uint64_t last_seq = 0;
    uint64_t head = 0;

    /* A cap smaller than any record still yields one. */
    s_items_t items = s_items_new();
    assert_int_equal(cs_store_changes(fix->store, 0, 0, 1, s_collect, &items,
                                      &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 1);
    assert_int_equal(last_seq, 1);
    assert_int_equal(head, 10);
    s_items_free(&items);
    items = s_items_new();
    assert_int_equal(cs_store_changes(fix->store, 4, 4, 0, s_collect, &items,
                                      &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 1);
    assert_string_equal(items.items[0].id, "r04");
    assert_int_equal(last_seq, 5);
    s_items_free(&items);

    /* A middle cap: stop at the first record that reaches it. */
    size_t cap = 350;
    items = s_items_new();
    assert_int_equal(cs_store_changes(fix->store, 0, 0, cap, s_collect, &items,
                                      &last_seq, &head),
                     CS_OK);
    assert_true(items.n > 1);
    assert_true(items.n < 10);
    size_t total = 0;
    for (size_t i = 0; i < items.n; i++) {
        total += items.items[i].bytes;
    }
    assert_true(total >= cap);
    assert_true(total - items.items[items.n - 1].bytes < cap);
    assert_int_equal(last_seq, items.n);
    s_items_free(&items);

    /* Pulling on from last_seq covers the rest exactly once. */
    uint64_t since = 0;
    size_t seen = 0;
    for (int round = 0; round < 20 && since < 10; round++) {
        items = s_items_new();
        assert_int_equal(cs_store_changes(fix->store, since, since, cap,
                                          s_collect, &items, &last_seq, &head),
                         CS_OK);
        seen += items.n;
        assert_true(last_seq > since);
        since = last_seq;
        s_items_free(&items);
    }
    assert_int_equal(seen, 10);
    assert_int_equal(since, 10);

    /* Nothing new: no records, last_seq is the head. */
    items = s_items_new();
    assert_int_equal(cs_store_changes(fix->store, 10, 10, cap, s_collect,
                                      &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 0);
    assert_int_equal(last_seq, 10);
    assert_int_equal(head, 10);
    s_items_free(&items);

    /* The callback can stop the scan. */
    items = s_items_new();
    items.stop_at = 2;
    assert_int_equal(cs_store_changes(fix->store, 0, 0, SIZE_MAX, s_collect,
                                      &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 2);
    assert_int_equal(last_seq, 2);
    s_items_free(&items);
}

/* ---------------- remote apply ---------------- */

static void
test_store_apply_commits_batch_and_cursor_together(void **state)
{
    s_fix_t *fix = *state;
    cs_hlc_t remote_hlc = cs_hlc_make(S_T0 - 5000, 3);
    cs_record_t *r1 = s_remote("name", "Ada", remote_hlc, 77);
    cs_record_t *r2 = s_remote("name", "Bob", remote_hlc + 1, 77);
    cs_store_delta_t deltas[] = {
        { .collection = "contacts", .id = "1", .record = r1 },
        { .collection = "contacts", .id = "2", .record = r2 },
    };
    cs_store_peer_t peer = { 0 };
    assert_int_equal(cs_store_peer_get(fix->store, 77, &peer), CS_ENOENT);
    cs_store_peer_t cursor = { .epoch = 5, .cursor = 42 };
    cs_store_apply_stats_t stats;
    assert_int_equal(cs_store_apply(fix->store, deltas, 2, 77, &cursor, &stats),
                     CS_OK);
    assert_int_equal(stats.records_changed, 2);
    assert_int_equal(stats.parts_changed, 2);
    assert_int_equal(stats.skewed, 0);
    assert_int_equal(cs_store_peer_get(fix->store, 77, &peer), CS_OK);
    assert_int_equal(peer.epoch, 5);
    assert_int_equal(peer.cursor, 42);
    s_assert_stored(fix->store, "contacts", "1", "name", "Ada");
    s_assert_stored(fix->store, "contacts", "2", "name", "Bob");
    cs_store_info_t info;
    assert_int_equal(cs_store_info(fix->store, &info), CS_OK);
    assert_int_equal(info.feed_head, 2);
    /* The remote stamps are in the past: our clock is at its wall time. */
    assert_int_equal(cs_hlc_wall(info.last_hlc), S_T0);

    /* Applied changes enter our feed, so they travel on. */
    s_items_t items = s_items_new();
    uint64_t last_seq = 0;
    uint64_t head = 0;
    assert_int_equal(cs_store_changes(fix->store, 0, 0, SIZE_MAX, s_collect,
                                      &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 2);
    assert_true(cs_record_equal(items.items[0].record, r1));
    assert_true(cs_record_equal(items.items[1].record, r2));
    s_items_free(&items);

    /* Re-applying changes nothing but still moves the cursor. */
    cursor.cursor = 43;
    assert_int_equal(cs_store_apply(fix->store, deltas, 2, 77, &cursor, &stats),
                     CS_OK);
    assert_int_equal(stats.records_changed, 0);
    assert_int_equal(stats.parts_changed, 0);
    assert_int_equal(s_head(fix->store), 2);
    assert_int_equal(cs_store_peer_get(fix->store, 77, &peer), CS_OK);
    assert_int_equal(peer.cursor, 43);

    /* A newer remote write moves only the record it changes. */
    cs_record_t *r1b = s_remote("name", "Ada L.", remote_hlc + 10, 78);
    cs_store_delta_t newer = { .collection = "contacts",
                               .id = "1",
                               .record = r1b };
    cursor.cursor = 44;
    assert_int_equal(cs_store_apply(fix->store, &newer, 1, 78, &cursor, NULL),
                     CS_OK);
    assert_int_equal(s_head(fix->store), 3);
    s_assert_stored(fix->store, "contacts", "1", "name", "Ada L.");
    assert_int_equal(cs_store_peer_get(fix->store, 77, &peer), CS_OK);
    assert_int_equal(peer.cursor, 43);
    cs_record_destroy(&r1);
    cs_record_destroy(&r2);
    cs_record_destroy(&r1b);
}

/* A batch mostly in key order, as a catch-up receives it: keys past the
 * last stored one are appended, the others merged, a key repeated in the
 * batch merges with its first write, and every record reads back. */
static void
test_store_apply_appends_keys_past_the_last_and_merges_the_rest(void **state)
{
    s_fix_t *fix = *state;
    cs_hlc_t hlc = cs_hlc_make(S_T0 - 5000, 0);
    assert_int_equal(s_put(fix->store, "contacts", "m", "name", "Mia"), CS_OK);
    cs_record_t *recs[] = {
        s_remote("name", "Ann", hlc, 77),      /* "a": before the last */
        s_remote("name", "Mo", hlc + 1, 77),   /* "m": the last, older */
        s_remote("name", "Nia", hlc, 77),      /* "n": appended */
        s_remote("name", "Ole", hlc, 77),      /* "o": appended */
        s_remote("city", "Oslo", hlc + 2, 77), /* "o" again: merged */
        s_remote("name", "Pia", hlc, 77),      /* "p": appended */
        s_remote("name", "Ola", hlc + 3, 77),  /* "o" once more, newer */
    };
    const char *ids[] = { "a", "m", "n", "o", "o", "p", "o" };
    cs_store_delta_t deltas[7];
    for (size_t i = 0; i < 7; i++) {
        deltas[i] = (cs_store_delta_t){ .collection = "contacts",
                                        .id = ids[i],
                                        .record = recs[i] };
    }
    cs_store_apply_stats_t stats;
    assert_int_equal(cs_store_apply(fix->store, deltas, 7, 77, NULL, &stats),
                     CS_OK);
    assert_int_equal(stats.records_changed, 6); /* "m" keeps its newer name */
    s_assert_stored(fix->store, "contacts", "a", "name", "Ann");
    s_assert_stored(fix->store, "contacts", "m", "name", "Mia");
    s_assert_stored(fix->store, "contacts", "n", "name", "Nia");
    s_assert_stored(fix->store, "contacts", "o", "name", "Ola");
    s_assert_stored(fix->store, "contacts", "o", "city", "Oslo");
    s_assert_stored(fix->store, "contacts", "p", "name", "Pia");
    assert_int_equal(s_head(fix->store), 1 + 6);
    uint64_t count = 0;
    assert_int_equal(cs_store_count(fix->store, "contacts", &count), CS_OK);
    assert_int_equal(count, 5);
    for (size_t i = 0; i < 7; i++) {
        cs_record_destroy(&recs[i]);
    }
}

static void
test_store_apply_with_invalid_last_delta_applies_nothing(void **state)
{
    s_fix_t *fix = *state;
    cs_hlc_t remote_hlc = cs_hlc_make(S_T0 - 5000, 0);
    cs_record_t *good = s_remote("name", "Ada", remote_hlc, 77);
    cs_store_peer_t cursor = { .epoch = 5, .cursor = 10 };
    cs_store_delta_t first = { .collection = "contacts",
                               .id = "0",
                               .record = good };
    assert_int_equal(cs_store_apply(fix->store, &first, 1, 77, &cursor, NULL),
                     CS_OK);
    cs_store_info_t before;
    assert_int_equal(cs_store_info(fix->store, &before), CS_OK);

    /* A bad key in the last delta. */
    cs_store_delta_t bad_key[] = {
        { .collection = "contacts", .id = "1", .record = good },
        { .collection = "contacts", .id = "", .record = good },
    };
    cs_store_peer_t next = { .epoch = 5, .cursor = 20 };
    cs_store_apply_stats_t stats;
    assert_int_equal(cs_store_apply(fix->store, bad_key, 2, 77, &next, &stats),
                     CS_EINVAL);

    /* A merge over the field limit in the last delta. */
    cs_store_field_t *fields =
        calloc(CS_RECORD_FIELDS_MAX, sizeof(cs_store_field_t));
    char(*names)[8] = calloc(CS_RECORD_FIELDS_MAX, sizeof *names);
    assert_non_null(fields);
    assert_non_null(names);
    for (size_t i = 0; i < CS_RECORD_FIELDS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "f%04zu", i);
        fields[i].name = names[i];
        fields[i].value = cs_value_int((int64_t) i);
    }
    assert_int_equal(cs_store_set(fix->store, "contacts", "full", fields,
                                  CS_RECORD_FIELDS_MAX, NULL),
                     CS_OK);
    assert_int_equal(cs_store_info(fix->store, &before), CS_OK);
    cs_record_t *extra = s_remote("zzz", "one too many", remote_hlc, 77);
    cs_store_delta_t over_limit[] = {
        { .collection = "contacts", .id = "1", .record = good },
        { .collection = "contacts", .id = "full", .record = extra },
    };
    assert_int_equal(
        cs_store_apply(fix->store, over_limit, 2, 77, &next, &stats),
        CS_ELIMIT);
    assert_int_equal(stats.records_changed, 0);

    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(fix->store, "contacts", "1", &rec),
                     CS_ENOENT);
    cs_store_peer_t peer;
    assert_int_equal(cs_store_peer_get(fix->store, 77, &peer), CS_OK);
    assert_int_equal(peer.cursor, 10);
    cs_store_info_t after;
    assert_int_equal(cs_store_info(fix->store, &after), CS_OK);
    assert_int_equal(after.feed_head, before.feed_head);
    assert_int_equal(after.last_hlc, before.last_hlc);
    assert_int_equal(after.records, before.records);
    assert_int_equal(cs_store_get(fix->store, "contacts", "full", &rec), CS_OK);
    assert_int_equal(cs_record_field_count(rec), CS_RECORD_FIELDS_MAX);
    cs_record_destroy(&rec);
    cs_record_destroy(&extra);
    cs_record_destroy(&good);
    free(fields);
    free(names);
}

static void
test_store_apply_counts_drift_and_keeps_local_clock(void **state)
{
    s_fix_t *fix = *state;
    cs_store_opts_t opts = s_opts(fix);
    opts.max_drift_ms = 60000;
    s_reopen(fix, &opts);
    assert_int_equal(s_put(fix->store, "c", "local", "a", "x"), CS_OK);

    cs_hlc_t future = cs_hlc_make(S_T0 + UINT64_C(3600000), 0);
    cs_record_t *ahead = s_remote("a", "from the future", future, 99);
    cs_store_delta_t delta = { .collection = "c", .id = "r", .record = ahead };
    cs_store_apply_stats_t stats;
    assert_int_equal(cs_store_apply(fix->store, &delta, 1, 99, NULL, &stats),
                     CS_OK);
    assert_int_equal(stats.skewed, 1);
    assert_int_equal(stats.records_changed, 1);
    /* Merged anyway ... */
    s_assert_stored(fix->store, "c", "r", "a", "from the future");
    /* ... but our clock stays near our wall time. */
    cs_store_info_t info;
    assert_int_equal(cs_store_info(fix->store, &info), CS_OK);
    assert_true(info.last_hlc < future);
    assert_int_equal(cs_hlc_wall(info.last_hlc), S_T0);
    cs_hlc_t local = 0;
    cs_store_field_t field = { .name = "a", .value = cs_value_str("y") };
    assert_int_equal(cs_store_set(fix->store, "c", "local", &field, 1, &local),
                     CS_OK);
    assert_int_equal(cs_hlc_wall(local), S_T0);

    /* A stamp within the drift bound is adopted. */
    cs_hlc_t near = cs_hlc_make(S_T0 + UINT64_C(30000), 7);
    cs_record_t *close_by = s_remote("a", "soon", near, 98);
    delta.id = "s";
    delta.record = close_by;
    assert_int_equal(cs_store_apply(fix->store, &delta, 1, 98, NULL, &stats),
                     CS_OK);
    assert_int_equal(stats.skewed, 0);
    assert_int_equal(cs_store_info(fix->store, &info), CS_OK);
    assert_true(info.last_hlc > near);
    assert_int_equal(cs_store_set(fix->store, "c", "local", &field, 1, &local),
                     CS_OK);
    assert_true(local > near);
    cs_record_destroy(&ahead);
    cs_record_destroy(&close_by);
}

/* ---------------- digest ---------------- */

static void
s_digest(cs_store_t *store, uint8_t digest[CS_STORE_DIGEST_BYTES],
         uint8_t (*buckets)[CS_STORE_DIGEST_BYTES])
{
    assert_int_equal(cs_store_digest(store, digest, buckets), CS_OK);
}

/* Apply @p items to @p store, one delta per call if @p one_by_one, in
 * reverse order if @p reverse. */
static void
s_apply_items(cs_store_t *store, const s_items_t *items, bool one_by_one,
              bool reverse)
{
    cs_store_delta_t *deltas = calloc(items->n + 1, sizeof *deltas);
    assert_non_null(deltas);
    for (size_t i = 0; i < items->n; i++) {
        const s_item_t *item = &items->items[reverse ? items->n - 1 - i : i];
        deltas[i].collection = item->collection;
        deltas[i].id = item->id;
        deltas[i].record = item->record;
    }
    if (one_by_one) {
        for (size_t i = 0; i < items->n; i++) {
            assert_int_equal(
                cs_store_apply(store, &deltas[i], 1, 1, NULL, NULL), CS_OK);
        }
    } else {
        assert_int_equal(cs_store_apply(store, deltas, items->n, 1, NULL, NULL),
                         CS_OK);
    }
    free(deltas);
}

static void
s_open_peer(s_fix_t *fix, const char *dir, uint64_t node, cs_store_t **out)
{
    assert_int_equal(cs_store_create(dir, node), CS_OK);
    cs_store_opts_t opts = s_opts(fix);
    assert_int_equal(cs_store_open(dir, &opts, out), CS_OK);
}

static void
test_store_digest_equal_for_same_state_by_different_routes(void **state)
{
    s_fix_t *fix = *state;
    cs_store_t *a = fix->store;
    assert_int_equal(s_put(a, "contacts", "1", "name", "Ada"), CS_OK);
    assert_int_equal(s_put(a, "contacts", "2", "name", "Bob"), CS_OK);
    assert_int_equal(s_put(a, "deals", "9", "stage", "won"), CS_OK);
    s_items_t early = s_items_new();
    uint64_t last_seq = 0;
    uint64_t head = 0;
    assert_int_equal(cs_store_changes(a, 0, 0, SIZE_MAX, s_collect, &early,
                                      &last_seq, &head),
                     CS_OK);
    fix->now += 10;
    assert_int_equal(s_put(a, "contacts", "1", "name", "Ada L."), CS_OK);
    assert_int_equal(cs_store_delete(a, "contacts", "2", NULL), CS_OK);
    assert_int_equal(s_put(a, "accounts", "7", "name", "Acme"), CS_OK);
    s_items_t late = s_items_new();
    assert_int_equal(
        cs_store_changes(a, 0, 0, SIZE_MAX, s_collect, &late, &last_seq, &head),
        CS_OK);

    char dir_b[64];
    char dir_c[64];
    s_mkdtemp(dir_b);
    s_mkdtemp(dir_c);
    cs_store_t *b = NULL;
    cs_store_t *c = NULL;
    s_open_peer(fix, dir_b, 2, &b);
    s_open_peer(fix, dir_c, 3, &c);
    /* b: the final state in one batch. */
    s_apply_items(b, &late, false, false);
    /* c: the early state, then the final one backwards, one at a time,
     * then the early state again (stale, duplicated). */
    s_apply_items(c, &early, false, true);
    s_apply_items(c, &late, true, true);
    s_apply_items(c, &early, true, false);

    assert_int_not_equal(s_head(a), s_head(b));
    assert_int_not_equal(s_head(b), s_head(c));
    uint8_t da[CS_STORE_DIGEST_BYTES];
    uint8_t db[CS_STORE_DIGEST_BYTES];
    uint8_t dc[CS_STORE_DIGEST_BYTES];
    s_digest(a, da, NULL);
    s_digest(b, db, NULL);
    s_digest(c, dc, NULL);
    assert_memory_equal(da, db, sizeof da);
    assert_memory_equal(da, dc, sizeof da);

    cs_store_destroy(&b);
    cs_store_destroy(&c);
    s_rmdir(dir_b);
    s_rmdir(dir_c);
    s_items_free(&early);
    s_items_free(&late);
}

/* A delta with its canonical bytes, new to the store, is stored from them:
 * the same state, seqs and stats as the merge of the record gives; a key
 * already stored takes the merge whatever the bytes. */
static void
test_store_apply_from_canonical_bytes_stores_what_a_merge_would(void **state)
{
    s_fix_t *fix = *state;
    cs_store_t *a = fix->store;
    cs_store_field_t two[] = { { .name = "name", .value = cs_value_str("Bo") },
                               { .name = "age", .value = cs_value_int(7) } };
    assert_int_equal(s_put(a, "contacts", "1", "name", "Ada"), CS_OK);
    assert_int_equal(cs_store_set(a, "contacts", "2", two, 2, NULL), CS_OK);
    fix->now += 5;
    assert_int_equal(s_put(a, "contacts", "2", "email", "bo@x.org"), CS_OK);
    assert_int_equal(s_put(a, "deals", "3", "stage", "won"), CS_OK);
    assert_int_equal(cs_store_delete(a, "deals", "3", NULL), CS_OK);
    s_items_t items = s_items_new();
    uint64_t last_seq = 0, head = 0;
    assert_int_equal(cs_store_changes(a, 0, 0, SIZE_MAX, s_collect, &items,
                                      &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 3);
    cs_buf_t canon[3];
    cs_store_delta_t plain[3], fast[3];
    for (size_t i = 0; i < items.n; i++) {
        cs_buf_init(&canon[i]);
        cs_codec_encode_record(items.items[i].record, CS_CODEC_CANONICAL,
                               &canon[i]);
        plain[i] = (cs_store_delta_t){ .collection = items.items[i].collection,
                                       .id = items.items[i].id,
                                       .record = items.items[i].record };
        fast[i] = plain[i];
        fast[i].canonical = canon[i].data;
        fast[i].canonical_len = canon[i].len;
    }
    char dirs[2][64];
    cs_store_t *b = NULL, *c = NULL;
    s_mkdtemp(dirs[0]);
    s_mkdtemp(dirs[1]);
    s_open_peer(fix, dirs[0], 0xB, &b);
    s_open_peer(fix, dirs[1], 0xC, &c);
    cs_store_peer_t cursor = { .epoch = 9, .cursor = head, .base = head };
    cs_store_apply_stats_t sb, sc;
    assert_int_equal(cs_store_apply(b, plain, 3, S_NODE, &cursor, &sb), CS_OK);
    assert_int_equal(cs_store_apply(c, fast, 3, S_NODE, &cursor, &sc), CS_OK);
    assert_int_equal(sb.records_changed, 3);
    assert_int_equal(sc.records_changed, sb.records_changed);
    assert_int_equal(sc.parts_changed, sb.parts_changed);
    assert_int_equal(s_head(c), s_head(b));
    uint8_t da[CS_STORE_DIGEST_BYTES], db[CS_STORE_DIGEST_BYTES],
        dc[CS_STORE_DIGEST_BYTES];
    s_digest(a, da, NULL);
    s_digest(b, db, NULL);
    s_digest(c, dc, NULL);
    assert_memory_equal(db, da, sizeof da);
    assert_memory_equal(dc, da, sizeof da);
    /* same stored form, seqs included */
    for (size_t i = 0; i < items.n; i++) {
        cs_record_t *rb = NULL, *rc = NULL;
        assert_int_equal(cs_store_get(b, plain[i].collection, plain[i].id, &rb),
                         CS_OK);
        assert_int_equal(cs_store_get(c, fast[i].collection, fast[i].id, &rc),
                         CS_OK);
        cs_buf_t eb, ec;
        cs_buf_init(&eb);
        cs_buf_init(&ec);
        cs_codec_encode_record(rb, CS_CODEC_STORED, &eb);
        cs_codec_encode_record(rc, CS_CODEC_STORED, &ec);
        assert_int_equal(ec.len, eb.len);
        assert_memory_equal(ec.data, eb.data, eb.len);
        cs_buf_fini(&eb);
        cs_buf_fini(&ec);
        cs_record_destroy(&rb);
        cs_record_destroy(&rc);
    }
    /* again: every key is stored now, nothing changes */
    assert_int_equal(cs_store_apply(c, fast, 3, S_NODE, &cursor, &sc), CS_OK);
    assert_int_equal(sc.records_changed, 0);
    s_digest(c, dc, NULL);
    assert_memory_equal(dc, da, sizeof da);
    cs_store_destroy(&b);
    cs_store_destroy(&c);
    s_rmdir(dirs[0]);
    s_rmdir(dirs[1]);
    for (size_t i = 0; i < items.n; i++) {
        cs_buf_fini(&canon[i]);
    }
    s_items_free(&items);
}

static void
test_store_digest_differs_when_state_differs_and_buckets_add_up(void **state)
{
    s_fix_t *fix = *state;
    static uint8_t before[CS_STORE_DIGEST_BUCKETS][CS_STORE_DIGEST_BYTES];
    static uint8_t after[CS_STORE_DIGEST_BUCKETS][CS_STORE_DIGEST_BYTES];
    uint8_t digest_empty[CS_STORE_DIGEST_BYTES];
    uint8_t digest_before[CS_STORE_DIGEST_BYTES];
    uint8_t digest_after[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, digest_empty, NULL);

    char id[16];
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "%d", i);
        assert_int_equal(s_put(fix->store, "contacts", id, "n", id), CS_OK);
    }
    s_digest(fix->store, digest_before, before);
    assert_memory_not_equal(digest_empty, digest_before, CS_STORE_DIGEST_BYTES);
    uint8_t top[CS_STORE_DIGEST_BYTES];
    assert_int_equal(sodium_init() < 0, 0);
    crypto_generichash(top, sizeof top, &before[0][0], sizeof before, NULL, 0);
    assert_memory_equal(top, digest_before, sizeof top);

    /* Digests do not depend on when they are taken. */
    s_digest(fix->store, digest_after, after);
    assert_memory_equal(digest_before, digest_after, CS_STORE_DIGEST_BYTES);

    /* One changed record changes exactly one bucket. */
    fix->now += 5;
    assert_int_equal(s_put(fix->store, "contacts", "7", "n", "seven"), CS_OK);
    s_digest(fix->store, digest_after, after);
    assert_memory_not_equal(digest_before, digest_after, CS_STORE_DIGEST_BYTES);
    int differing = 0;
    for (size_t i = 0; i < CS_STORE_DIGEST_BUCKETS; i++) {
        differing += memcmp(before[i], after[i], CS_STORE_DIGEST_BYTES) != 0;
    }
    assert_int_equal(differing, 1);
    crypto_generichash(top, sizeof top, &after[0][0], sizeof after, NULL, 0);
    assert_memory_equal(top, digest_after, sizeof top);

    /* A deletion is state too. */
    memcpy(digest_before, digest_after, sizeof digest_before);
    assert_int_equal(cs_store_delete(fix->store, "contacts", "3", NULL), CS_OK);
    s_digest(fix->store, digest_after, NULL);
    assert_memory_not_equal(digest_before, digest_after, CS_STORE_DIGEST_BYTES);
}

/* ---------------- scan and count ---------------- */

/* A scan callback may read the store (but never write it). */
static bool
s_reread(void *arg, const char *collection, const char *id,
         const cs_record_t *record)
{
    cs_store_t *store = arg;
    cs_record_t *again = NULL;
    assert_int_equal(cs_store_get(store, collection, id, &again), CS_OK);
    assert_true(cs_record_equal(record, again));
    cs_record_destroy(&again);
    return true;
}

static void
test_store_scan_and_count_match_whole_collection_names(void **state)
{
    s_fix_t *fix = *state;
    cs_store_t *store = fix->store;
    assert_int_equal(s_put(store, "con", "1", "a", "x"), CS_OK);
    assert_int_equal(s_put(store, "con", "2", "a", "x"), CS_OK);
    assert_int_equal(s_put(store, "contacts", "1", "a", "x"), CS_OK);
    assert_int_equal(s_put(store, "contacts", "2", "a", "x"), CS_OK);
    assert_int_equal(s_put(store, "contacts", "3", "a", "x"), CS_OK);
    assert_int_equal(s_put(store, "co", "1", "a", "x"), CS_OK);
    assert_int_equal(s_put(store, "cons", "1", "a", "x"), CS_OK);
    assert_int_equal(cs_store_delete(store, "contacts", "2", NULL), CS_OK);

    uint64_t count = 0;
    assert_int_equal(cs_store_count(store, "con", &count), CS_OK);
    assert_int_equal(count, 2);
    assert_int_equal(cs_store_count(store, "contacts", &count), CS_OK);
    assert_int_equal(count, 2);
    assert_int_equal(cs_store_count(store, "co", &count), CS_OK);
    assert_int_equal(count, 1);
    assert_int_equal(cs_store_count(store, "deals", &count), CS_OK);
    assert_int_equal(count, 0);
    assert_int_equal(cs_store_count(store, NULL, &count), CS_OK);
    assert_int_equal(count, 6);

    s_items_t items = s_items_new();
    assert_int_equal(cs_store_scan(store, "con", s_collect, &items), CS_OK);
    assert_int_equal(items.n, 2);
    assert_string_equal(items.items[0].collection, "con");
    assert_string_equal(items.items[0].id, "1");
    assert_string_equal(items.items[1].collection, "con");
    assert_string_equal(items.items[1].id, "2");
    s_items_free(&items);

    /* Deleted records are scanned, in key order. */
    items = s_items_new();
    assert_int_equal(cs_store_scan(store, "contacts", s_collect, &items),
                     CS_OK);
    assert_int_equal(items.n, 3);
    assert_string_equal(items.items[1].id, "2");
    assert_true(cs_record_is_deleted(items.items[1].record));
    s_items_free(&items);

    items = s_items_new();
    assert_int_equal(cs_store_scan(store, NULL, s_collect, &items), CS_OK);
    assert_int_equal(items.n, 7);
    assert_string_equal(items.items[0].collection, "co");
    assert_string_equal(items.items[6].collection, "contacts");
    s_items_free(&items);

    items = s_items_new();
    items.stop_at = 1;
    assert_int_equal(cs_store_scan(store, NULL, s_collect, &items), CS_OK);
    assert_int_equal(items.n, 1);
    s_items_free(&items);

    assert_int_equal(cs_store_scan(store, NULL, s_reread, store), CS_OK);
}

/* ---------------- map size ---------------- */

/* A write that fails forgets the field names it numbered: the next write
 * numbers its own from where the saved ones end, and a reopened store
 * (or another process) reads them. */
static void
test_store_failed_write_forgets_its_names(void **state)
{
    s_fix_t *fix = *state;
    cs_store_opts_t opts = s_opts(fix);
    opts.map_size = UINT64_C(256) * 1024;
    opts.map_size_max = UINT64_C(256) * 1024;
    s_reopen(fix, &opts);
    assert_int_equal(s_put(fix->store, "c", "first", "Id", "1"), CS_OK);
    static char big[300 * 1024];
    memset(big, 'b', sizeof big - 1);
    assert_int_equal(s_put(fix->store, "c", "big", "Lost", big), CS_EFULL);
    assert_int_equal(s_put(fix->store, "c", "second", "Kept", "2"), CS_OK);
    for (int round = 0; round < 2; round++) {
        s_assert_stored(fix->store, "c", "first", "Id", "1");
        s_assert_stored(fix->store, "c", "second", "Kept", "2");
        s_reopen(fix, &opts);
    }
}

static void
test_store_full_map_keeps_acknowledged_writes(void **state)
{
    s_fix_t *fix = *state;
    cs_store_opts_t opts = s_opts(fix);
    opts.map_size = UINT64_C(256) * 1024;
    opts.map_size_max = UINT64_C(256) * 1024;
    s_reopen(fix, &opts);
    char value[2049];
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = 0;
    char id[16];
    int acked = 0;
    int rc = CS_OK;
    while (acked < 1000) {
        snprintf(id, sizeof id, "r%04d", acked);
        value[0] = (char) ('a' + acked % 26);
        rc = s_put(fix->store, "c", id, "a", value);
        if (rc != CS_OK) {
            break;
        }
        acked++;
    }
    assert_int_equal(rc, CS_EFULL);
    assert_true(acked > 10);

    /* Still readable; every acknowledged write is there, the failed one is
     * not, and so it stays after a reopen. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < acked; i++) {
            snprintf(id, sizeof id, "r%04d", i);
            value[0] = (char) ('a' + i % 26);
            s_assert_stored(fix->store, "c", id, "a", value);
        }
        snprintf(id, sizeof id, "r%04d", acked);
        cs_record_t *rec = NULL;
        assert_int_equal(cs_store_get(fix->store, "c", id, &rec), CS_ENOENT);
        uint64_t count = 0;
        assert_int_equal(cs_store_count(fix->store, "c", &count), CS_OK);
        assert_int_equal(count, (uint64_t) acked);
        assert_int_equal(s_head(fix->store), (uint64_t) acked);
        s_reopen(fix, &opts);
    }
    assert_int_equal(s_put(fix->store, "c", id, "a", value), CS_EFULL);

    /* A larger limit lets writing go on. */
    opts.map_size_max = UINT64_C(4) * 1024 * 1024;
    s_reopen(fix, &opts);
    assert_int_equal(s_put(fix->store, "c", id, "a", value), CS_OK);
    assert_int_equal(s_head(fix->store), (uint64_t) acked + 1);
}

static void
test_store_small_map_grows_up_to_max(void **state)
{
    s_fix_t *fix = *state;
    cs_store_opts_t opts = s_opts(fix);
    opts.map_size = UINT64_C(128) * 1024;
    opts.map_size_max = UINT64_C(64) * 1024 * 1024;
    s_reopen(fix, &opts);
    cs_store_info_t info;
    assert_int_equal(cs_store_info(fix->store, &info), CS_OK);
    uint64_t initial = info.map_size;
    static char value[8193];
    memset(value, 'v', sizeof value - 1);
    char id[16];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "r%04d", i);
        assert_int_equal(s_put(fix->store, "c", id, "a", value), CS_OK);
    }
    assert_int_equal(cs_store_info(fix->store, &info), CS_OK);
    assert_true(info.map_size >= 16 * initial);
    assert_true(info.map_size <= opts.map_size_max);
    assert_int_equal(info.records, 200);
    assert_int_equal(info.feed_head, 200);
    uint64_t count = 0;
    assert_int_equal(cs_store_count(fix->store, NULL, &count), CS_OK);
    assert_int_equal(count, 200);
}

static void
test_store_changes_from_base_before_since_keep_older_fields(void **state)
{
    s_fix_t *fix = *state;
    /* r0's name at seq 1, fillers at 2 to 4, r0's phone at 5: r0 is in
     * the feed at 5 only. A catch-up that began at 0 and has applied up to
     * 3 must still get r0's name. */
    assert_int_equal(s_put(fix->store, "c", "r0", "name", "Ada"), CS_OK);
    char id[8];
    for (int i = 1; i <= 3; i++) {
        fix->now++;
        snprintf(id, sizeof id, "r%d", i);
        assert_int_equal(s_put(fix->store, "c", id, "name", "filler"), CS_OK);
    }
    fix->now++;
    assert_int_equal(s_put(fix->store, "c", "r0", "phone", "555"), CS_OK);
    s_items_t items = s_items_new();
    uint64_t last_seq = 0;
    uint64_t head = 0;
    assert_int_equal(cs_store_changes(fix->store, 0, 3, SIZE_MAX, s_collect,
                                      &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 2); /* r3 at 4, r0 at 5 */
    assert_string_equal(items.items[0].id, "r3");
    assert_string_equal(items.items[1].id, "r0");
    assert_int_equal(cs_record_field_count(items.items[1].record), 2);
    s_assert_field(items.items[1].record, "name", "Ada");
    s_assert_field(items.items[1].record, "phone", "555");
    assert_int_equal(last_seq, 5);
    assert_int_equal(head, 5);
    s_items_free(&items);
    /* from base 3: the phone alone (what lost the name before) */
    items = s_items_new();
    assert_int_equal(cs_store_changes(fix->store, 3, 3, SIZE_MAX, s_collect,
                                      &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(items.n, 2);
    assert_int_equal(cs_record_field_count(items.items[1].record), 1);
    s_assert_field(items.items[1].record, "phone", "555");
    s_items_free(&items);
}

/* Write a 16-byte cursor (epoch, cursor: the value before base) for
 * @p peer_id. */
static void
s_write_old_cursor(const char *dir, uint64_t peer_id, uint64_t epoch,
                   uint64_t cursor)
{
    uint8_t id_bytes[8], value[16];
    s_be64(id_bytes, peer_id);
    s_be64(value, epoch);
    s_be64(value + 8, cursor);
    s_raw_put(dir, "peers", id_bytes, sizeof id_bytes, value, sizeof value);
}

static void
test_store_peer_cursor_keeps_base_and_old_values_read_base_zero(void **state)
{
    s_fix_t *fix = *state;
    cs_store_peer_t cursor = { .epoch = 5, .cursor = 40, .base = 20 };
    assert_int_equal(cs_store_apply(fix->store, NULL, 0, 77, &cursor, NULL),
                     CS_OK);
    cs_store_peer_t peer;
    assert_int_equal(cs_store_peer_get(fix->store, 77, &peer), CS_OK);
    assert_int_equal(peer.epoch, 5);
    assert_int_equal(peer.cursor, 40);
    assert_int_equal(peer.base, 20);
    /* a value written before base existed: base 0 (whole records, safe) */
    cs_store_destroy(&fix->store);
    s_write_old_cursor(fix->dir, 78, 6, 50);
    cs_store_opts_t opts = s_opts(fix);
    assert_int_equal(cs_store_open(fix->dir, &opts, &fix->store), CS_OK);
    peer.base = 99;
    assert_int_equal(cs_store_peer_get(fix->store, 78, &peer), CS_OK);
    assert_int_equal(peer.epoch, 6);
    assert_int_equal(peer.cursor, 50);
    assert_int_equal(peer.base, 0);
    assert_int_equal(cs_store_peer_get(fix->store, 77, &peer), CS_OK);
    assert_int_equal(peer.base, 20);
}

static void
test_store_peer_cursor_of_unknown_peer_is_enoent(void **state)
{
    s_fix_t *fix = *state;
    cs_store_peer_t peer;
    assert_int_equal(cs_store_peer_get(fix->store, 12345, &peer), CS_ENOENT);
    cs_store_peer_t cursor = { .epoch = UINT64_MAX, .cursor = UINT64_MAX - 1 };
    assert_int_equal(cs_store_apply(fix->store, NULL, 0, 12345, &cursor, NULL),
                     CS_OK);
    assert_int_equal(cs_store_peer_get(fix->store, 12345, &peer), CS_OK);
    assert_true(peer.epoch == UINT64_MAX);
    assert_true(peer.cursor == UINT64_MAX - 1);
    assert_int_equal(s_head(fix->store), 0);
}

#define S_TEST(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_store_create_then_open_reads_node_id_and_epoch),
        S_TEST(test_store_create_on_existing_store_is_eexist),
        S_TEST(test_store_epochs_differ_between_stores),
        S_TEST(test_store_open_without_store_is_enoent_and_creates_nothing),
        S_TEST(test_store_open_of_empty_or_garbage_file_fails_without_creating),
        S_TEST(test_store_open_rejects_newer_older_or_unknown_schema),
        S_TEST(test_store_read_only_open_reads_but_refuses_writes),
        S_TEST(test_store_set_get_delete_revive),
        S_TEST(
            test_store_delete_of_invisible_record_is_enoent_and_writes_nothing),
        S_TEST(test_store_set_rejects_bad_input_before_writing),
        S_TEST(test_store_hlc_increases_across_reopen_with_clock_set_back),
        S_TEST(test_store_feed_holds_each_record_once_at_its_latest_seq),
        S_TEST(test_store_changes_since_ships_only_parts_changed_after_it),
        S_TEST(test_store_changes_caps_bytes_but_returns_at_least_one),
        S_TEST(test_store_apply_commits_batch_and_cursor_together),
        S_TEST(test_store_apply_appends_keys_past_the_last_and_merges_the_rest),
        S_TEST(test_store_apply_with_invalid_last_delta_applies_nothing),
        S_TEST(test_store_apply_counts_drift_and_keeps_local_clock),
        S_TEST(test_store_digest_equal_for_same_state_by_different_routes),
        S_TEST(test_store_apply_from_canonical_bytes_stores_what_a_merge_would),
        S_TEST(test_store_digest_differs_when_state_differs_and_buckets_add_up),
        S_TEST(test_store_scan_and_count_match_whole_collection_names),
        S_TEST(test_store_failed_write_forgets_its_names),
        S_TEST(test_store_full_map_keeps_acknowledged_writes),
        S_TEST(test_store_small_map_grows_up_to_max),
        S_TEST(test_store_peer_cursor_of_unknown_peer_is_enoent),
        S_TEST(test_store_changes_from_base_before_since_keep_older_fields),
        S_TEST(test_store_peer_cursor_keeps_base_and_old_values_read_base_zero),
    };
    return cmocka_run_group_tests_name("storage/cs_store", tests, NULL, NULL);
}
