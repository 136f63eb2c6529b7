/*  test_store_fault - LMDB failures injected at link time
 *  (-Wl,--wrap=mdb_txn_commit,--wrap=mdb_put): a full map grows and the
 *  write is retried, a full map at its maximum is CS_EFULL, an I/O error is
 *  CS_EIO, and in every case nothing of the failed write is stored (for an
 *  import, neither its records nor its checkpoint).
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "storage/cs_store.h"

#define S_NODE UINT64_C(0x2222)

/* ---------------- the wrappers ---------------- */

/* What the next calls of a wrapped function do. */
typedef struct {
    int skip;      /* forward this many calls first */
    int fail_left; /* then fail this many, then forward */
    int code;      /* the LMDB code a failing call returns */
    int failed;    /* calls failed so far */
    int calls;     /* calls seen so far */
} s_fault_t;

static s_fault_t s_commit_fault;
static s_fault_t s_put_fault;

int __real_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);
int __real_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data,
                   unsigned int flags);
int __wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data,
                   unsigned int flags);

/* Fails like LMDB does: a failed commit has aborted the transaction. */
int
__wrap_mdb_txn_commit(MDB_txn *txn)
{
    s_commit_fault.calls++;
    if (s_commit_fault.calls > s_commit_fault.skip &&
        s_commit_fault.fail_left > 0) {
        s_commit_fault.fail_left--;
        s_commit_fault.failed++;
        mdb_txn_abort(txn);
        return s_commit_fault.code;
    }
    return __real_mdb_txn_commit(txn);
}

int
__wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data,
               unsigned int flags)
{
    s_put_fault.calls++;
    if (s_put_fault.calls > s_put_fault.skip && s_put_fault.fail_left > 0) {
        s_put_fault.fail_left--;
        s_put_fault.failed++;
        return s_put_fault.code;
    }
    return __real_mdb_put(txn, dbi, key, data, flags);
}

static void
s_arm(s_fault_t *fault, int fail_count, int code)
{
    fault->skip = 0;
    fault->fail_left = fail_count;
    fault->code = code;
    fault->failed = 0;
    fault->calls = 0;
}

/* ---------------- fixture ---------------- */

typedef struct {
    char dir[64];      /* mkdtemp result */
    cs_store_t *store; /* open store */
} s_fix_t;

static void
s_open(s_fix_t *fix, uint64_t map_size, uint64_t map_size_max)
{
    cs_store_destroy(&fix->store);
    cs_store_opts_t opts = { .map_size = map_size,
                             .map_size_max = map_size_max };
    assert_int_equal(cs_store_open(fix->dir, &opts, &fix->store), CS_OK);
}

static int
s_setup(void **state)
{
    s_fix_t *fix = calloc(1, sizeof *fix);
    assert_non_null(fix);
    strcpy(fix->dir, "/tmp/cs_store_fault.XXXXXX");
    assert_non_null(mkdtemp(fix->dir));
    assert_int_equal(cs_store_create(fix->dir, S_NODE), CS_OK);
    s_open(fix, 1024 * 1024, 64 * 1024 * 1024);
    s_arm(&s_commit_fault, 0, 0);
    s_arm(&s_put_fault, 0, 0);
    *state = fix;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *fix = *state;
    s_arm(&s_commit_fault, 0, 0);
    s_arm(&s_put_fault, 0, 0);
    cs_store_destroy(&fix->store);
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", fix->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", fix->dir);
    unlink(path);
    assert_int_equal(rmdir(fix->dir), 0);
    free(fix);
    return 0;
}

static int
s_put(cs_store_t *store, const char *id, const char *value)
{
    cs_store_field_t field = { .name = "a", .value = cs_value_str(value) };
    return cs_store_set(store, "c", id, &field, 1, NULL);
}

static cs_store_info_t
s_info(cs_store_t *store)
{
    cs_store_info_t info;
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    return info;
}

static void
s_assert_absent(cs_store_t *store, const char *id)
{
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(store, "c", id, &rec), CS_ENOENT);
    assert_null(rec);
}

static void
s_assert_value(cs_store_t *store, const char *id, const char *value)
{
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(store, "c", id, &rec), CS_OK);
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, "a", &field), CS_OK);
    assert_int_equal(field.value.u.s.len, strlen(value));
    assert_memory_equal(field.value.u.s.ptr, value, strlen(value));
    cs_record_destroy(&rec);
}

static bool
s_count_feed(void *arg, const char *collection, const char *id,
             const cs_record_t *record)
{
    (void) collection;
    (void) id;
    (void) record;
    (*(size_t *) arg)++;
    return true;
}

/* The feed has one entry per record and ends at the head. */
static void
s_assert_feed_consistent(cs_store_t *store)
{
    size_t entries = 0;
    uint64_t last_seq = 0;
    uint64_t head = 0;
    assert_int_equal(cs_store_changes(store, 0, 0, SIZE_MAX, s_count_feed,
                                      &entries, &last_seq, &head),
                     CS_OK);
    cs_store_info_t info = s_info(store);
    assert_int_equal(entries, info.records);
    assert_int_equal(last_seq, info.feed_head);
    assert_int_equal(head, info.feed_head);
}

/* ---------------- tests ---------------- */

static void
test_commit_map_full_grows_map_and_retries(void **state)
{
    s_fix_t *fix = *state;
    assert_int_equal(s_put(fix->store, "1", "one"), CS_OK);
    cs_store_info_t before = s_info(fix->store);
    s_arm(&s_commit_fault, 1, MDB_MAP_FULL);
    assert_int_equal(s_put(fix->store, "2", "two"), CS_OK);
    assert_int_equal(s_commit_fault.failed, 1);
    assert_int_equal(s_commit_fault.calls, 2);
    cs_store_info_t after = s_info(fix->store);
    assert_int_equal(after.map_size, 2 * before.map_size);
    assert_int_equal(after.feed_head, before.feed_head + 1);
    s_assert_value(fix->store, "1", "one");
    s_assert_value(fix->store, "2", "two");
    s_assert_feed_consistent(fix->store);
}

static void
test_put_map_full_grows_map_and_retries(void **state)
{
    s_fix_t *fix = *state;
    cs_store_info_t before = s_info(fix->store);
    s_arm(&s_put_fault, 2, MDB_MAP_FULL);
    assert_int_equal(s_put(fix->store, "1", "one"), CS_OK);
    assert_int_equal(s_put_fault.failed, 2);
    cs_store_info_t after = s_info(fix->store);
    assert_int_equal(after.map_size, 4 * before.map_size);
    assert_int_equal(after.feed_head, 1);
    s_assert_value(fix->store, "1", "one");
    s_assert_feed_consistent(fix->store);
}

static void
test_commit_map_full_at_max_is_efull_and_writes_nothing(void **state)
{
    s_fix_t *fix = *state;
    s_open(fix, 1024 * 1024, 2 * 1024 * 1024);
    assert_int_equal(s_put(fix->store, "1", "one"), CS_OK);
    cs_store_info_t before = s_info(fix->store);
    s_arm(&s_commit_fault, 100, MDB_MAP_FULL);
    assert_int_equal(s_put(fix->store, "2", "two"), CS_EFULL);
    /* One growth to the maximum, one retry, then no more. */
    assert_int_equal(s_commit_fault.failed, 2);
    s_arm(&s_commit_fault, 0, 0);
    cs_store_info_t after = s_info(fix->store);
    assert_int_equal(after.map_size, 2 * 1024 * 1024);
    assert_int_equal(after.feed_head, before.feed_head);
    assert_int_equal(after.last_hlc, before.last_hlc);
    assert_int_equal(after.records, before.records);
    s_assert_absent(fix->store, "2");
    s_assert_value(fix->store, "1", "one");

    /* A remote batch and its cursor fail together too. */
    s_arm(&s_commit_fault, 100, MDB_MAP_FULL);
    cs_record_t *rec = cs_record_new();
    cs_value_t value = cs_value_str("remote");
    cs_stamp_t stamp = { .hlc = cs_hlc_make(1000, 0), .origin = 9 };
    assert_int_equal(cs_record_set(rec, "a", &value, stamp, 0, NULL), CS_OK);
    cs_store_delta_t delta = { .collection = "c", .id = "3", .record = rec };
    cs_store_peer_t cursor = { .epoch = 1, .cursor = 7 };
    assert_int_equal(cs_store_apply(fix->store, &delta, 1, 9, &cursor, NULL),
                     CS_EFULL);
    s_arm(&s_commit_fault, 0, 0);
    cs_store_peer_t peer;
    assert_int_equal(cs_store_peer_get(fix->store, 9, &peer), CS_ENOENT);
    s_assert_absent(fix->store, "3");
    cs_record_destroy(&rec);

    /* The store goes on working once there is room. */
    assert_int_equal(s_put(fix->store, "2", "two"), CS_OK);
    assert_int_equal(s_info(fix->store).feed_head, before.feed_head + 1);
    s_assert_feed_consistent(fix->store);
}

static void
test_commit_eio_is_eio_and_store_stays_consistent(void **state)
{
    s_fix_t *fix = *state;
    assert_int_equal(s_put(fix->store, "1", "one"), CS_OK);
    cs_store_info_t before = s_info(fix->store);
    s_arm(&s_commit_fault, 1, EIO);
    assert_int_equal(s_put(fix->store, "1", "uno"), CS_EIO);
    assert_int_equal(s_commit_fault.calls, 1);
    s_arm(&s_commit_fault, 1, EIO);
    assert_int_equal(cs_store_delete(fix->store, "c", "1", NULL), CS_EIO);
    s_arm(&s_commit_fault, 1, ENOSPC);
    assert_int_equal(s_put(fix->store, "2", "two"), CS_EFULL);
    assert_int_equal(s_commit_fault.calls, 1);
    s_arm(&s_commit_fault, 0, 0);

    cs_store_info_t after = s_info(fix->store);
    assert_int_equal(after.feed_head, before.feed_head);
    assert_int_equal(after.last_hlc, before.last_hlc);
    assert_int_equal(after.map_size, before.map_size);
    s_assert_value(fix->store, "1", "one");
    s_assert_absent(fix->store, "2");
    s_assert_feed_consistent(fix->store);

    /* The next write takes the next seq as if nothing had happened. */
    assert_int_equal(s_put(fix->store, "1", "uno"), CS_OK);
    assert_int_equal(s_info(fix->store).feed_head, before.feed_head + 1);
    s_assert_value(fix->store, "1", "uno");
    s_assert_feed_consistent(fix->store);
}

static void
test_put_eio_anywhere_in_apply_stores_nothing(void **state)
{
    s_fix_t *fix = *state;
    cs_value_t value = cs_value_str("old");
    cs_stamp_t stamp = { .hlc = cs_hlc_make(1000, 0), .origin = 9 };
    cs_record_t *old = cs_record_new();
    assert_int_equal(cs_record_set(old, "a", &value, stamp, 0, NULL), CS_OK);
    cs_store_delta_t deltas[] = {
        { .collection = "c", .id = "1", .record = old },
        { .collection = "c", .id = "2", .record = old },
    };
    cs_store_peer_t cursor = { .epoch = 1, .cursor = 7 };
    assert_int_equal(cs_store_apply(fix->store, deltas, 2, 9, &cursor, NULL),
                     CS_OK);

    value = cs_value_str("new");
    stamp.hlc++;
    cs_record_t *newer = cs_record_new();
    assert_int_equal(cs_record_set(newer, "a", &value, stamp, 0, NULL), CS_OK);
    deltas[0].record = newer;
    deltas[1].record = newer;
    cursor.cursor = 8;
    cs_store_info_t before = s_info(fix->store);

    /* Count the puts of one apply, then fail each of them in turn. */
    int puts = 0;
    for (int skip = 0;; skip++) {
        s_arm(&s_put_fault, 1, EIO);
        s_put_fault.skip = skip;
        int rc = cs_store_apply(fix->store, deltas, 2, 9, &cursor, NULL);
        if (s_put_fault.failed == 0) {
            /* Every put went through: the last round applied it all. */
            assert_int_equal(rc, CS_OK);
            puts = skip;
            break;
        }
        assert_int_equal(rc, CS_EIO);
        assert_true(skip < 100);
        cs_store_info_t now = s_info(fix->store);
        assert_int_equal(now.feed_head, before.feed_head);
        assert_int_equal(now.last_hlc, before.last_hlc);
        s_assert_value(fix->store, "1", "old");
        s_assert_value(fix->store, "2", "old");
        cs_store_peer_t peer;
        assert_int_equal(cs_store_peer_get(fix->store, 9, &peer), CS_OK);
        assert_int_equal(peer.cursor, 7);
    }
    /* Two records (record + feed entry each), head, clock, the run of
     * seqs from peer 9 (extended) and the cursor. */
    assert_int_equal(puts, 8);
    s_arm(&s_put_fault, 0, 0);
    s_assert_value(fix->store, "1", "new");
    s_assert_value(fix->store, "2", "new");
    cs_store_peer_t peer;
    assert_int_equal(cs_store_peer_get(fix->store, 9, &peer), CS_OK);
    assert_int_equal(peer.cursor, 8);
    assert_int_equal(s_info(fix->store).feed_head, before.feed_head + 2);
    s_assert_feed_consistent(fix->store);
    cs_record_destroy(&old);
    cs_record_destroy(&newer);
}

static void
s_assert_checkpoint(cs_store_t *store, const char *expected)
{
    char buf[64];
    size_t len = 0;
    assert_int_equal(
        cs_store_checkpoint_get(store, "seed", buf, sizeof buf, &len), CS_OK);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(buf, expected, len);
}

static void
test_put_fault_anywhere_in_import_stores_nothing(void **state)
{
    s_fix_t *fix = *state;
    cs_value_t value = cs_value_str("old");
    cs_stamp_t stamp = { .hlc = cs_hlc_make(1000, 0), .origin = 9 };
    cs_record_t *old = cs_record_new();
    assert_int_equal(cs_record_set(old, "a", &value, stamp, 0, NULL), CS_OK);
    cs_store_delta_t first[] = {
        { .collection = "c", .id = "1", .record = old },
        { .collection = "c", .id = "3", .record = old },
    };
    assert_int_equal(
        cs_store_import(fix->store, first, 2, "seed", "old", 3, NULL), CS_OK);

    value = cs_value_str("new");
    stamp.hlc++;
    cs_record_t *newer = cs_record_new();
    assert_int_equal(cs_record_set(newer, "a", &value, stamp, 0, NULL), CS_OK);
    /* Unsorted; 1 and 3 exist, 2 is looked up, 4 and 5 are appended. */
    cs_store_delta_t batch[] = {
        { .collection = "c", .id = "5", .record = newer },
        { .collection = "c", .id = "3", .record = newer },
        { .collection = "c", .id = "2", .record = newer },
        { .collection = "c", .id = "1", .record = newer },
        { .collection = "c", .id = "4", .record = newer },
    };
    cs_store_info_t before = s_info(fix->store);

    /* Count the puts of one import, then fail each of them in turn. */
    int puts = 0;
    cs_store_import_stats_t stats;
    for (int skip = 0;; skip++) {
        s_arm(&s_put_fault, 1, EIO);
        s_put_fault.skip = skip;
        int rc =
            cs_store_import(fix->store, batch, 5, "seed", "new", 3, &stats);
        if (s_put_fault.failed == 0) {
            assert_int_equal(rc, CS_OK);
            puts = skip;
            break;
        }
        assert_int_equal(rc, CS_EIO);
        assert_true(skip < 100);
        cs_store_info_t now = s_info(fix->store);
        assert_int_equal(now.feed_head, before.feed_head);
        assert_int_equal(now.last_hlc, before.last_hlc);
        assert_int_equal(now.records, 2);
        s_assert_value(fix->store, "1", "old");
        s_assert_value(fix->store, "3", "old");
        s_assert_absent(fix->store, "2");
        s_assert_absent(fix->store, "5");
        s_assert_checkpoint(fix->store, "old");
    }
    /* Five records (record + feed entry each), head, clock, checkpoint. */
    assert_int_equal(puts, 13);
    assert_int_equal(stats.records_new, 3);
    assert_int_equal(stats.records_updated, 2);
    s_assert_checkpoint(fix->store, "new");
    assert_int_equal(s_info(fix->store).feed_head, before.feed_head + 5);
    s_assert_feed_consistent(fix->store);

    /* A full map in the middle of the batch: grown, retried from the
     * start, each record counted once. */
    stamp.hlc++;
    value = cs_value_str("newest");
    cs_record_t *newest = cs_record_new();
    assert_int_equal(cs_record_set(newest, "a", &value, stamp, 0, NULL), CS_OK);
    cs_store_delta_t more[] = {
        { .collection = "c", .id = "7", .record = newest },
        { .collection = "c", .id = "1", .record = newest },
        { .collection = "c", .id = "6", .record = newest },
    };
    before = s_info(fix->store);
    s_arm(&s_put_fault, 1, MDB_MAP_FULL);
    s_put_fault.skip = 3;
    assert_int_equal(
        cs_store_import(fix->store, more, 3, "seed", "newest", 6, &stats),
        CS_OK);
    assert_int_equal(s_put_fault.failed, 1);
    assert_int_equal(stats.records_new, 2);
    assert_int_equal(stats.records_updated, 1);
    assert_int_equal(stats.records_unchanged, 0);
    cs_store_info_t after = s_info(fix->store);
    assert_int_equal(after.map_size, 2 * before.map_size);
    assert_int_equal(after.feed_head, before.feed_head + 3);
    s_assert_value(fix->store, "1", "newest");
    s_assert_value(fix->store, "6", "newest");
    s_assert_checkpoint(fix->store, "newest");
    s_assert_feed_consistent(fix->store);
    cs_record_destroy(&old);
    cs_record_destroy(&newer);
    cs_record_destroy(&newest);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_commit_map_full_grows_map_and_retries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_put_map_full_grows_map_and_retries,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_commit_map_full_at_max_is_efull_and_writes_nothing, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            test_commit_eio_is_eio_and_store_stays_consistent, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            test_put_eio_anywhere_in_apply_stores_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_put_fault_anywhere_in_import_stores_nothing, s_setup,
            s_teardown),
    };
    return cmocka_run_group_tests_name("storage/fault", tests, NULL, NULL);
}
