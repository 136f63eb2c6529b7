/*  test_store_origin - the echo a store leaves out (cs_store_changes_to):
 *  the runs of feed seqs that cs_store_apply takes from a peer's feed of
 *  one epoch, their extension and their cap, the end of a long skip, and
 *  the cursors forgotten with a new epoch.
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
#include <unistd.h>

#include "crdt/cs_codec.h"
#include "storage/cs_store.h"

#define S_NODE      UINT64_C(0x1111)
#define S_T0        UINT64_C(1700000000000) /* 2023-11-14, in ms */
#define S_ITEMS_MAX 4096

#include "store_fixture.h"

#define PEER_P  UINT64_C(0x70)
#define PEER_Q  UINT64_C(0x71)
#define EPOCH_P UINT64_C(0xe70)
#define EPOCH_Q UINT64_C(0xe71)

/* Apply one record (@p id: @p name = @p value) from @p peer's feed of
 * @p epoch, stamped @p hlc. */
static void
s_apply_one(s_fix_t *fix, uint64_t peer, uint64_t epoch, const char *id,
            const char *name, const char *value, cs_hlc_t hlc)
{
    cs_record_t *rec = cs_record_new();
    cs_value_t v = cs_value_str(value);
    cs_stamp_t stamp = { .hlc = hlc, .origin = peer };
    assert_int_equal(cs_record_set(rec, name, &v, stamp, 0, NULL), CS_OK);
    cs_store_delta_t delta = { .collection = "c", .id = id, .record = rec };
    cs_store_peer_t cursor = { .epoch = epoch, .cursor = 1, .base = 1 };
    assert_int_equal(cs_store_apply(fix->store, &delta, 1, peer, &cursor, NULL),
                     CS_OK);
    cs_record_destroy(&rec);
}

static void
s_set_local(s_fix_t *fix, const char *id, const char *name, const char *value)
{
    cs_store_field_t field = { .name = name, .value = cs_value_str(value) };
    assert_int_equal(cs_store_set(fix->store, "c", id, &field, 1, NULL), CS_OK);
}

/* cs_store_canonical_fn: decode the delta and collect it (s_collect). */
static bool
s_collect_canonical(void *arg, const char *collection, const char *id,
                    const void *canonical, size_t len)
{
    cs_record_t *rec = NULL;
    assert_int_equal(
        cs_codec_decode_record(canonical, len, CS_CODEC_CANONICAL, &rec),
        CS_OK);
    bool go_on = s_collect(arg, collection, id, rec);
    cs_record_destroy(&rec);
    return go_on;
}

/* The feed after (@p base, @p since] for @p peer of @p epoch (peer 0:
 * for no one) into @p items; @return the last seq covered. */
static uint64_t
s_changes(s_fix_t *fix, uint64_t peer, uint64_t epoch, uint64_t base,
          uint64_t since, s_items_t *items)
{
    const cs_store_puller_t to = { .peer_id = peer, .epoch = epoch };
    uint64_t last_seq = 0, head = 0;
    assert_int_equal(cs_store_changes_to(fix->store, peer ? &to : NULL, base,
                                         since, SIZE_MAX, s_collect_canonical,
                                         items, &last_seq, &head),
                     CS_OK);
    return last_seq;
}

/* Item @p i of @p items is record @p id with @p fields fields. */
static void
s_expect_item(const s_items_t *items, size_t i, const char *id, size_t fields)
{
    assert_true(i < items->n);
    assert_string_equal(items->items[i].id, id);
    assert_int_equal(cs_record_field_count(items->items[i].record), fields);
}

static void
test_origin_changes_to_leaves_out_the_pullers_own_parts(void **state)
{
    s_fix_t *fix = *state;
    cs_hlc_t hlc = cs_hlc_make(S_T0 - 1000, 0);
    s_apply_one(fix, PEER_P, EPOCH_P, "r1", "name", "Ada", hlc); /* seq 1 */
    s_apply_one(fix, PEER_P, EPOCH_P, "r2", "name", "Bob", hlc); /* seq 2 */
    s_set_local(fix, "r1", "email", "ada@example.com");          /* seq 3 */
    s_apply_one(fix, PEER_Q, EPOCH_Q, "r3", "name", "Cy", hlc);  /* seq 4 */
    s_apply_one(fix, PEER_P, EPOCH_P, "r4", "name", "Dee", hlc); /* seq 5 */

    /* P: r1 without the name it sent, r3; not r2 or r4 */
    s_items_t items = s_items_new();
    assert_int_equal(s_changes(fix, PEER_P, EPOCH_P, 0, 0, &items), 5);
    assert_int_equal(items.n, 2);
    s_expect_item(&items, 0, "r1", 1);
    cs_field_t field;
    assert_int_equal(cs_record_get(items.items[0].record, "email", &field),
                     CS_OK);
    s_expect_item(&items, 1, "r3", 1);
    s_items_free(&items);

    /* the same from base 2: only seqs 3 and 4 */
    items = s_items_new();
    assert_int_equal(s_changes(fix, PEER_P, EPOCH_P, 2, 2, &items), 5);
    assert_int_equal(items.n, 2);
    s_expect_item(&items, 0, "r1", 1);
    s_expect_item(&items, 1, "r3", 1);
    s_items_free(&items);

    /* P under another epoch, and no one: everything */
    uint64_t epochs[] = { EPOCH_Q, 0 };
    for (size_t e = 0; e < 2; e++) {
        items = s_items_new();
        assert_int_equal(
            s_changes(fix, epochs[e] ? PEER_P : 0, epochs[e], 0, 0, &items), 5);
        assert_int_equal(items.n, 4);
        s_expect_item(&items, 0, "r2", 1);
        s_expect_item(&items, 1, "r1", 2);
        s_items_free(&items);
    }

    /* Q: all but r3 */
    items = s_items_new();
    s_changes(fix, PEER_Q, EPOCH_Q, 0, 0, &items);
    assert_int_equal(items.n, 3);
    s_expect_item(&items, 0, "r2", 1);
    s_expect_item(&items, 1, "r1", 2);
    s_expect_item(&items, 2, "r4", 1);
    s_items_free(&items);

    /* a newer value from Q for what P sent: P gets it */
    s_apply_one(fix, PEER_Q, EPOCH_Q, "r2", "name", "Bob L.", hlc + 1);
    items = s_items_new();
    assert_int_equal(s_changes(fix, PEER_P, EPOCH_P, 0, 0, &items), 6);
    assert_int_equal(items.n, 3);
    s_expect_item(&items, 2, "r2", 1);
    s_items_free(&items);
}

static void
test_origin_runs_extend_and_are_capped(void **state)
{
    s_fix_t *fix = *state;
    cs_hlc_t hlc = cs_hlc_make(S_T0 - 1000, 0);
    char id[32];
    /* Back to back applies extend one run: the fast path covers them. */
    s_apply_one(fix, PEER_P, EPOCH_P, "a0", "n", "v", hlc);
    s_apply_one(fix, PEER_P, EPOCH_P, "a1", "n", "v", hlc);
    /* Then one run per apply, each after a local write: one more than
     * the cap, so the oldest (a0, a1) is forgotten. */
    for (unsigned i = 0; i < CS_STORE_ORIGIN_RUNS; i++) {
        snprintf(id, sizeof id, "l%04u", i);
        s_set_local(fix, id, "n", "v");
        snprintf(id, sizeof id, "p%04u", i);
        s_apply_one(fix, PEER_P, EPOCH_P, id, "n", "v", hlc);
    }
    s_items_t items = s_items_new();
    s_changes(fix, PEER_P, EPOCH_P, 0, 0, &items);
    assert_int_equal(items.n, 2 + CS_STORE_ORIGIN_RUNS);
    s_expect_item(&items, 0, "a0", 1);
    s_expect_item(&items, 1, "a1", 1);
    for (unsigned i = 0; i < CS_STORE_ORIGIN_RUNS; i++) {
        snprintf(id, sizeof id, "l%04u", i);
        assert_string_equal(items.items[2 + i].id, id);
    }
    s_items_free(&items);

    /* An apply from P's next epoch forgets the runs of the last one. */
    s_apply_one(fix, PEER_P, EPOCH_Q, "q", "n", "v", hlc);
    items = s_items_new();
    s_changes(fix, PEER_P, EPOCH_P, 0, 0, &items);
    assert_int_equal(items.n, 3 + 2 * CS_STORE_ORIGIN_RUNS);
    s_items_free(&items);
    items = s_items_new();
    s_changes(fix, PEER_P, EPOCH_Q, 0, 0, &items);
    assert_int_equal(items.n, 2 + 2 * CS_STORE_ORIGIN_RUNS);
    s_items_free(&items);
}

/* Apply @p n records c/00000000... from P's feed of EPOCH_P, one batch. */
static void
s_apply_many(s_fix_t *fix, size_t n)
{
    cs_record_t *rec = cs_record_new();
    cs_value_t v = cs_value_str("v");
    cs_stamp_t stamp = { .hlc = cs_hlc_make(S_T0 - 1000, 0), .origin = PEER_P };
    assert_int_equal(cs_record_set(rec, "n", &v, stamp, 0, NULL), CS_OK);
    cs_store_delta_t *deltas = calloc(n, sizeof *deltas);
    char(*ids)[24] = calloc(n, sizeof *ids);
    assert_non_null(deltas);
    assert_non_null(ids);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "%08zu", i);
        deltas[i] = (cs_store_delta_t){ .collection = "c",
                                        .id = ids[i],
                                        .record = rec };
    }
    cs_store_peer_t cursor = { .epoch = EPOCH_P, .cursor = 1, .base = 1 };
    assert_int_equal(
        cs_store_apply(fix->store, deltas, n, PEER_P, &cursor, NULL), CS_OK);
    free(ids);
    free(deltas);
    cs_record_destroy(&rec);
}

/* Records left out unread (the run covers all after base) end a batch
 * after CS_STORE_SKIP_MAX of them. */
static void
test_origin_long_echo_ends_the_batch_at_skip_max(void **state)
{
    s_fix_t *fix = *state;
    size_t n = CS_STORE_SKIP_MAX + 10;
    s_apply_many(fix, n);
    s_set_local(fix, "local", "n", "v");
    s_items_t items = s_items_new();
    assert_int_equal(s_changes(fix, PEER_P, EPOCH_P, 0, 0, &items),
                     CS_STORE_SKIP_MAX);
    assert_int_equal(items.n, 0);
    assert_int_equal(
        s_changes(fix, PEER_P, EPOCH_P, 0, CS_STORE_SKIP_MAX, &items), n + 1);
    assert_int_equal(items.n, 1);
    s_expect_item(&items, 0, "local", 1);
    s_items_free(&items);
}

/* Records read and then left out (a run that starts after base + 1 does
 * not cover them unread) cost CS_STORE_SKIP_READ each. */
static void
test_origin_echo_read_then_left_out_ends_the_batch_sooner(void **state)
{
    s_fix_t *fix = *state;
    size_t reads = CS_STORE_SKIP_MAX / CS_STORE_SKIP_READ;
    s_set_local(fix, "first", "n", "v"); /* seq 1 */
    s_apply_many(fix, reads + 10);       /* seqs 2 .. reads + 11 */
    s_items_t items = s_items_new();
    assert_int_equal(s_changes(fix, PEER_P, EPOCH_P, 0, 0, &items), 1 + reads);
    assert_int_equal(items.n, 1);
    s_expect_item(&items, 0, "first", 1);
    assert_int_equal(s_changes(fix, PEER_P, EPOCH_P, 0, 1 + reads, &items),
                     reads + 11);
    assert_int_equal(items.n, 1);
    s_items_free(&items);
}

static void
test_origin_new_epoch_forgets_our_cursors_keeps_runs(void **state)
{
    s_fix_t *fix = *state;
    s_apply_one(fix, PEER_P, EPOCH_P, "r1", "n", "v",
                cs_hlc_make(S_T0 - 1000, 0));
    cs_store_peer_t cursor;
    assert_int_equal(cs_store_peer_get(fix->store, PEER_P, &cursor), CS_OK);
    uint64_t old = cs_store_epoch(fix->store), epoch = 0;
    assert_int_equal(cs_store_renew_epoch(fix->store, &epoch), CS_OK);
    assert_int_not_equal(epoch, old);
    s_reopen(fix, NULL);
    assert_int_equal(cs_store_epoch(fix->store), epoch);
    assert_int_equal(cs_store_peer_get(fix->store, PEER_P, &cursor), CS_ENOENT);
    /* our seqs did not change: r1 is still P's */
    s_items_t items = s_items_new();
    assert_int_equal(s_changes(fix, PEER_P, EPOCH_P, 0, 0, &items), 1);
    assert_int_equal(items.n, 0);
    s_items_free(&items);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_origin_changes_to_leaves_out_the_pullers_own_parts, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_origin_runs_extend_and_are_capped,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_origin_long_echo_ends_the_batch_at_skip_max, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            test_origin_echo_read_then_left_out_ends_the_batch_sooner, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            test_origin_new_epoch_forgets_our_cursors_keeps_runs, s_setup,
            s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
