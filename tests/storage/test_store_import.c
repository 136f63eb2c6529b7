/*  test_store_import - the bulk import path of crmsync seed: merge as apply
 *  does, per-key stats, duplicates and unsorted batches, and the resume
 *  checkpoint that commits together with its batch.
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
#define S_SEED      UINT64_C(0x5EED)        /* origin the seed stamps with */
#define S_T0        UINT64_C(1700000000000) /* the store's wall clock, ms */
#define S_DAY       UINT64_C(86400000)      /* ms */
#define S_ITEMS_MAX 4096

#include "store_fixture.h"
#define S_CKPT "seed:contacts.csv"

/* A batch under construction: keys and records it owns. */
typedef struct {
    cs_store_delta_t deltas[S_ITEMS_MAX]; /* what cs_store_import takes */
    char ids[S_ITEMS_MAX][32];            /* id storage */
    size_t n;                             /* used */
} s_batch_t;

/* ---------------- fixture helpers ---------------- */

/* A second store for comparisons, with the fixture's clock. */
static cs_store_t *
s_other_store(s_fix_t *fix, char dir[64], uint64_t node)
{
    s_mkdtemp(dir);
    assert_int_equal(cs_store_create(dir, node), CS_OK);
    cs_store_opts_t opts = s_opts(fix);
    cs_store_t *store = NULL;
    assert_int_equal(cs_store_open(dir, &opts, &store), CS_OK);
    return store;
}

static void
s_other_store_free(cs_store_t **store, const char *dir)
{
    cs_store_destroy(store);
    s_rmdir(dir);
}

/* A seed stamp, @p days_ago days before the store's clock. */
static cs_stamp_t
s_stamp(uint64_t days_ago)
{
    cs_stamp_t stamp = { .hlc = cs_hlc_make(S_T0 - days_ago * S_DAY, 0),
                         .origin = S_SEED };
    return stamp;
}

/* A record of string fields, all stamped @p stamp: name, value, ..., NULL. */
static cs_record_t *
s_row(cs_stamp_t stamp, ...)
{
    cs_record_t *rec = cs_record_new();
    va_list args;
    va_start(args, stamp);
    const char *name;
    while ((name = va_arg(args, const char *)) != NULL) {
        cs_value_t value = cs_value_str(va_arg(args, const char *));
        assert_int_equal(cs_record_set(rec, name, &value, stamp, 0, NULL),
                         CS_OK);
    }
    va_end(args);
    return rec;
}

/* A record holding only a tombstone. */
static cs_record_t *
s_tombstone(cs_stamp_t stamp)
{
    cs_record_t *rec = cs_record_new();
    assert_true(cs_record_delete(rec, stamp, 0));
    return rec;
}

static s_batch_t *
s_batch_new(void)
{
    s_batch_t *batch = calloc(1, sizeof *batch);
    assert_non_null(batch);
    return batch;
}

/* Add a delta that takes @p rec (owned by the batch from now on). */
static void
s_batch_add(s_batch_t *batch, const char *collection, const char *id,
            cs_record_t *rec)
{
    assert_true(batch->n < S_ITEMS_MAX);
    size_t i = batch->n++;
    snprintf(batch->ids[i], sizeof batch->ids[i], "%s", id);
    batch->deltas[i].collection = collection;
    batch->deltas[i].id = batch->ids[i];
    batch->deltas[i].record = rec;
}

static void
s_batch_free(s_batch_t **batch_p)
{
    s_batch_t *batch = *batch_p;
    for (size_t i = 0; i < batch->n; i++) {
        cs_record_t *rec = (cs_record_t *) (uintptr_t) batch->deltas[i].record;
        cs_record_destroy(&rec);
    }
    free(batch);
    *batch_p = NULL;
}

/* The deltas of @p batch in another order: reversed, or shuffled by a
 * fixed-seed generator (the order is part of the test, so no random seed). */
static cs_store_delta_t *
s_reordered(const s_batch_t *batch, bool reverse, uint32_t shuffle_seed)
{
    cs_store_delta_t *out = calloc(batch->n + 1, sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < batch->n; i++) {
        out[i] = batch->deltas[reverse ? batch->n - 1 - i : i];
    }
    uint32_t x = shuffle_seed;
    for (size_t i = batch->n; shuffle_seed && i > 1; i--) {
        x = x * 1664525u + 1013904223u;
        size_t j = (x >> 8) % i;
        cs_store_delta_t tmp = out[i - 1];
        out[i - 1] = out[j];
        out[j] = tmp;
    }
    return out;
}

/* The feed since @p since, as collected deltas. */
static s_items_t
s_feed(cs_store_t *store, uint64_t since)
{
    s_items_t items = s_items_new();
    uint64_t last_seq = 0;
    uint64_t head = 0;
    assert_int_equal(cs_store_changes(store, since, since, SIZE_MAX, s_collect,
                                      &items, &last_seq, &head),
                     CS_OK);
    assert_int_equal(last_seq, head);
    return items;
}

static cs_store_info_t
s_info(cs_store_t *store)
{
    cs_store_info_t info;
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    return info;
}

static void
s_digest(cs_store_t *store, uint8_t digest[CS_STORE_DIGEST_BYTES])
{
    assert_int_equal(cs_store_digest(store, digest, NULL), CS_OK);
}

static void
s_assert_field(cs_store_t *store, const char *collection, const char *id,
               const char *name, const char *expected)
{
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(store, collection, id, &rec), CS_OK);
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, name, &field), CS_OK);
    assert_int_equal(field.value.type, CS_VALUE_STR);
    assert_int_equal(field.value.u.s.len, strlen(expected));
    assert_memory_equal(field.value.u.s.ptr, expected, strlen(expected));
    cs_record_destroy(&rec);
}

static void
s_assert_absent(cs_store_t *store, const char *collection, const char *id)
{
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(store, collection, id, &rec), CS_ENOENT);
}

static void
s_assert_stats(const cs_store_import_stats_t *stats, size_t new_count,
               size_t updated, size_t unchanged, size_t deleted)
{
    assert_int_equal(stats->records_new, new_count);
    assert_int_equal(stats->records_updated, updated);
    assert_int_equal(stats->records_unchanged, unchanged);
    assert_int_equal(stats->records_deleted, deleted);
}

/* Read checkpoint @p name and assert it is the string @p expected. */
static void
s_assert_checkpoint(cs_store_t *store, const char *name, const char *expected)
{
    char buf[CS_STORE_CHECKPOINT_MAX];
    size_t len = 0;
    assert_int_equal(
        cs_store_checkpoint_get(store, name, buf, sizeof buf, &len), CS_OK);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(buf, expected, len);
}

/* A batch of @p n contacts, ids "c0000".., with three fields stamped
 * @p days_ago days back. */
static s_batch_t *
s_contacts(size_t n, uint64_t days_ago)
{
    s_batch_t *batch = s_batch_new();
    char id[32];
    char email[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "c%04zu", i);
        snprintf(email, sizeof email, "%s@example.com", id);
        s_batch_add(batch, "contacts", id,
                    s_row(s_stamp(days_ago), "name", id, "email", email,
                          "phone", "+33 1 23 45 67 89", NULL));
    }
    return batch;
}

/* ---------------- new records ---------------- */

static void
test_import_new_records_equals_apply_of_same_data(void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *batch = s_contacts(200, 30);
    s_batch_add(batch, "accounts", "a1",
                s_row(s_stamp(30), "name", "Acme", NULL));
    cs_store_delta_t *shuffled = s_reordered(batch, false, 7);
    cs_store_import_stats_t stats;
    assert_int_equal(
        cs_store_import(fix->store, shuffled, batch->n, NULL, NULL, 0, &stats),
        CS_OK);
    s_assert_stats(&stats, batch->n, 0, 0, 0);
    assert_int_equal(stats.skewed, 0);

    cs_store_info_t info = s_info(fix->store);
    assert_int_equal(info.records, batch->n);
    assert_int_equal(info.feed_head, batch->n);
    /* Old stamps leave the clock at the wall time. */
    assert_int_equal(cs_hlc_wall(info.last_hlc), S_T0);

    /* Each record once in the feed; one batch enters it in key order. */
    s_items_t feed = s_feed(fix->store, 0);
    assert_int_equal(feed.n, batch->n);
    assert_string_equal(feed.items[0].collection, "accounts");
    for (size_t i = 1; i < feed.n; i++) {
        assert_string_equal(feed.items[i].collection, "contacts");
        char id[32];
        snprintf(id, sizeof id, "c%04zu", i - 1);
        assert_string_equal(feed.items[i].id, id);
        assert_true(
            cs_record_equal(feed.items[i].record, batch->deltas[i - 1].record));
    }
    s_items_free(&feed);
    s_assert_field(fix->store, "contacts", "c0123", "email",
                   "c0123@example.com");

    /* The same data through apply gives the same replicated state. */
    char dir[64];
    cs_store_t *other = s_other_store(fix, dir, 2);
    assert_int_equal(
        cs_store_apply(other, batch->deltas, batch->n, 9, NULL, NULL), CS_OK);
    uint8_t imported[CS_STORE_DIGEST_BYTES];
    uint8_t applied[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, imported);
    s_digest(other, applied);
    assert_memory_equal(imported, applied, sizeof imported);
    s_other_store_free(&other, dir);
    free(shuffled);
    s_batch_free(&batch);
}

/* ---------------- appending new records ---------------- */

/* The batch's records as canonical bytes, for cs_store_append_new. */
static cs_store_new_t *
s_as_new(const s_batch_t *batch, cs_buf_t *bytes)
{
    cs_store_new_t *items = calloc(batch->n + 1, sizeof *items);
    size_t *offs = calloc(batch->n + 1, sizeof *offs);
    assert_non_null(items);
    assert_non_null(offs);
    for (size_t i = 0; i < batch->n; i++) {
        offs[i] = bytes->len;
        cs_codec_encode_record(batch->deltas[i].record, CS_CODEC_CANONICAL,
                               bytes);
    }
    for (size_t i = 0; i < batch->n; i++) {
        items[i].id = batch->deltas[i].id;
        items[i].canonical = bytes->data + offs[i];
        items[i].len = (i + 1 < batch->n ? offs[i + 1] : bytes->len) - offs[i];
        items[i].max_hlc = cs_record_max_hlc(batch->deltas[i].record);
    }
    free(offs);
    return items;
}

static void
test_append_new_equals_import_of_same_data(void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *batch = s_contacts(300, 30);
    s_batch_add(batch, "contacts", "d-gone", s_tombstone(s_stamp(2)));
    s_batch_add(batch, "contacts", "e-mixed",
                s_row(s_stamp(5), "a", "1", "b", "2", NULL));
    cs_value_t newer = cs_value_str("3");
    assert_int_equal(
        cs_record_set(
            (cs_record_t *) (uintptr_t) batch->deltas[batch->n - 1].record, "c",
            &newer, s_stamp(1), 0, NULL),
        CS_OK);
    cs_buf_t bytes;
    cs_buf_init(&bytes);
    cs_store_new_t *items = s_as_new(batch, &bytes);
    /* in two calls: the second appends after the first */
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_append_new(fix->store, "contacts", items, 100,
                                         S_CKPT, "one", 3, &stats),
                     CS_OK);
    s_assert_stats(&stats, 100, 0, 0, 0);
    assert_int_equal(cs_store_append_new(fix->store, "contacts", items + 100,
                                         batch->n - 100, S_CKPT, "two", 3,
                                         &stats),
                     CS_OK);
    s_assert_stats(&stats, batch->n - 100, 0, 0, 0);
    s_assert_checkpoint(fix->store, S_CKPT, "two");
    cs_store_info_t info = s_info(fix->store);
    assert_int_equal(info.records, batch->n);
    assert_int_equal(info.feed_head, batch->n);

    /* what is stored, seqs included, is what import stores */
    char dir[64];
    cs_store_t *other = s_other_store(fix, dir, S_NODE);
    assert_int_equal(
        cs_store_import(other, batch->deltas, batch->n, NULL, NULL, 0, &stats),
        CS_OK);
    s_items_t got = s_feed(fix->store, 0);
    s_items_t want = s_feed(other, 0);
    assert_int_equal(got.n, want.n);
    for (size_t i = 0; i < got.n; i++) {
        assert_string_equal(got.items[i].id, want.items[i].id);
        assert_true(cs_record_equal(got.items[i].record, want.items[i].record));
        assert_int_equal(cs_record_max_seq(got.items[i].record),
                         cs_record_max_seq(want.items[i].record));
    }
    s_items_free(&got);
    s_items_free(&want);
    uint8_t appended[CS_STORE_DIGEST_BYTES];
    uint8_t imported[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, appended);
    s_digest(other, imported);
    assert_memory_equal(appended, imported, sizeof appended);
    s_other_store_free(&other, dir);
    free(items);
    cs_buf_fini(&bytes);
    s_batch_free(&batch);
}

static void
test_append_new_refuses_what_is_not_new_in_order(void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *batch = s_contacts(10, 30);
    cs_buf_t bytes;
    cs_buf_init(&bytes);
    cs_store_new_t *items = s_as_new(batch, &bytes);
    assert_int_equal(cs_store_append_new(fix->store, "contacts", items + 5, 5,
                                         S_CKPT, "ckpt", 4, NULL),
                     CS_OK);
    /* below the last key; not rising; a repeated key; bad bytes; bad id;
     * a bad collection */
    cs_store_new_t swapped[2] = { items[8], items[7] };
    cs_store_new_t bad = items[9];
    bad.id = "z-new";
    bad.len = 3;
    cs_store_new_t bad_id = items[9];
    bad_id.id = "";
    assert_int_equal(cs_store_append_new(fix->store, "contacts", items, 2,
                                         S_CKPT, "no", 2, NULL),
                     CS_EINVAL);
    assert_int_equal(cs_store_append_new(fix->store, "contacts", swapped, 2,
                                         S_CKPT, "no", 2, NULL),
                     CS_EINVAL);
    assert_int_equal(cs_store_append_new(fix->store, "contacts", items + 9, 1,
                                         S_CKPT, "no", 2, NULL),
                     CS_EINVAL);
    assert_int_equal(cs_store_append_new(fix->store, "contacts", &bad, 1,
                                         S_CKPT, "no", 2, NULL),
                     CS_EINVAL);
    assert_int_equal(cs_store_append_new(fix->store, "contacts", &bad_id, 1,
                                         S_CKPT, "no", 2, NULL),
                     CS_EINVAL);
    assert_int_equal(cs_store_append_new(fix->store, "", items + 9, 1, S_CKPT,
                                         "no", 2, NULL),
                     CS_EINVAL);
    assert_int_equal(s_info(fix->store).records, 5);
    assert_int_equal(s_info(fix->store).feed_head, 5);
    s_assert_checkpoint(fix->store, S_CKPT, "ckpt");
    s_assert_absent(fix->store, "contacts", "c0000");
    free(items);
    cs_buf_fini(&bytes);
    s_batch_free(&batch);
}

/* A bulk load's records with names the store numbered: appended, matched
 * and read back as the same records spelt out would be, by this handle
 * and a reopened one. */
static void
test_append_new_takes_numbered_names(void **state)
{
    s_fix_t *fix = *state;
    const char *names[] = { "Email", "Id", "Name" };
    uint32_t numbers[3], again[3];
    assert_int_equal(cs_store_number_names(fix->store, names, 3, numbers),
                     CS_OK);
    for (size_t i = 0; i < 3; i++) {
        assert_true(numbers[i] < 3);
        assert_true(i == 0 || numbers[i] != numbers[i - 1]);
    }
    const char *bad[] = { "Id", "" };
    assert_int_equal(cs_store_number_names(fix->store, bad, 2, again),
                     CS_EINVAL);
    s_reopen(fix, NULL);
    assert_int_equal(cs_store_number_names(fix->store, names, 3, again), CS_OK);
    assert_memory_equal(again, numbers, sizeof numbers);

    cs_codec_fields_t *numbered = NULL, *spelt = NULL;
    assert_int_equal(cs_codec_fields_new(names, numbers, 3, &numbered), CS_OK);
    assert_int_equal(cs_codec_fields_new(names, NULL, 3, &spelt), CS_OK);
    cs_buf_t fast, slow;
    cs_buf_init(&fast);
    cs_buf_init(&slow);
    const char *ids[] = { "n1", "n2", "n3" };
    cs_store_new_t items[3], plain[3];
    size_t fast_offs[4], slow_offs[4];
    for (size_t i = 0; i < 3; i++) {
        char email[32];
        snprintf(email, sizeof email, "p%zu@example.com", i);
        cs_value_t values[3] = { cs_value_str(email), cs_value_str(ids[i]),
                                 cs_value_str("Name \xc3\xa9") };
        fast_offs[i] = fast.len;
        slow_offs[i] = slow.len;
        assert_int_equal(
            cs_codec_encode_fields(numbered, values, s_stamp(1), &fast), CS_OK);
        assert_int_equal(
            cs_codec_encode_fields(spelt, values, s_stamp(1), &slow), CS_OK);
    }
    fast_offs[3] = fast.len;
    slow_offs[3] = slow.len;
    assert_true(fast.len < slow.len);
    for (size_t i = 0; i < 3; i++) {
        items[i] =
            (cs_store_new_t){ ids[i], fast.data + fast_offs[i],
                              fast_offs[i + 1] - fast_offs[i], s_stamp(1).hlc };
        plain[i] =
            (cs_store_new_t){ ids[i], slow.data + slow_offs[i],
                              slow_offs[i + 1] - slow_offs[i], s_stamp(1).hlc };
    }
    assert_int_equal(cs_store_append_new(fix->store, "contacts", items, 3, NULL,
                                         NULL, 0, NULL),
                     CS_OK);
    bool same = false;
    assert_int_equal(cs_store_matches(fix->store, "contacts", "n2",
                                      items[1].canonical, items[1].len, &same),
                     CS_OK);
    assert_true(same);
    char dir[64];
    cs_store_t *other = s_other_store(fix, dir, S_NODE);
    assert_int_equal(
        cs_store_append_new(other, "contacts", plain, 3, NULL, NULL, 0, NULL),
        CS_OK);
    uint8_t want[CS_STORE_DIGEST_BYTES], got[CS_STORE_DIGEST_BYTES];
    s_digest(other, want);
    s_other_store_free(&other, dir);
    for (int round = 0; round < 2; round++) {
        s_digest(fix->store, got);
        assert_memory_equal(got, want, sizeof got);
        cs_record_t *rec = NULL;
        assert_int_equal(cs_store_get(fix->store, "contacts", "n3", &rec),
                         CS_OK);
        cs_field_t field;
        assert_int_equal(cs_record_get(rec, "Email", &field), CS_OK);
        assert_memory_equal(field.value.u.s.ptr, "p2@example.com", 14);
        cs_record_destroy(&rec);
        s_reopen(fix, NULL);
    }
    /* a number the store never gave is refused */
    uint8_t unknown[] = { 0x94, 0x01, 0xc0, 0x92, 0x01,
                          0x02, 0x91, 0x92, 0x63, 0xc0 };
    cs_store_new_t stray = { "n4", unknown, sizeof unknown, 1 };
    assert_int_equal(cs_store_append_new(fix->store, "contacts", &stray, 1,
                                         NULL, NULL, 0, NULL),
                     CS_EINVAL);
    cs_codec_fields_destroy(&numbered);
    cs_codec_fields_destroy(&spelt);
    cs_buf_fini(&fast);
    cs_buf_fini(&slow);
}

static void
test_matches_says_stored_exactly_so(void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *batch = s_contacts(3, 30);
    cs_buf_t bytes;
    cs_buf_init(&bytes);
    cs_store_new_t *items = s_as_new(batch, &bytes);
    assert_int_equal(cs_store_append_new(fix->store, "contacts", items, 3, NULL,
                                         NULL, 0, NULL),
                     CS_OK);
    bool same = false;
    assert_int_equal(cs_store_matches(fix->store, "contacts", "c0001",
                                      items[1].canonical, items[1].len, &same),
                     CS_OK);
    assert_true(same);
    /* another record's bytes; an id not stored; a bad id */
    assert_int_equal(cs_store_matches(fix->store, "contacts", "c0001",
                                      items[2].canonical, items[2].len, &same),
                     CS_OK);
    assert_false(same);
    assert_int_equal(cs_store_matches(fix->store, "contacts", "nobody",
                                      items[1].canonical, items[1].len, &same),
                     CS_ENOENT);
    assert_false(same);
    assert_int_equal(cs_store_matches(fix->store, "contacts", "",
                                      items[1].canonical, items[1].len, &same),
                     CS_EINVAL);
    /* a live edit of the same value: a newer stamp, so no longer "so" */
    cs_store_field_t edit = { .name = "name", .value = cs_value_str("c0001") };
    assert_int_equal(
        cs_store_set(fix->store, "contacts", "c0001", &edit, 1, NULL), CS_OK);
    assert_int_equal(cs_store_matches(fix->store, "contacts", "c0001",
                                      items[1].canonical, items[1].len, &same),
                     CS_OK);
    assert_false(same);
    free(items);
    cs_buf_fini(&bytes);
    s_batch_free(&batch);
}

static void
test_import_same_batch_twice_changes_nothing(void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *batch = s_contacts(100, 30);
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_import(fix->store, batch->deltas, batch->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 100, 0, 0, 0);
    uint8_t before[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, before);
    cs_store_info_t info_before = s_info(fix->store);

    fix->now += 1000;
    assert_int_equal(cs_store_import(fix->store, batch->deltas, batch->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 0, 0, 100, 0);
    uint8_t after[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, after);
    assert_memory_equal(before, after, sizeof before);
    cs_store_info_t info_after = s_info(fix->store);
    assert_int_equal(info_after.feed_head, info_before.feed_head);
    assert_int_equal(info_after.records, info_before.records);
    s_items_t feed = s_feed(fix->store, info_before.feed_head);
    assert_int_equal(feed.n, 0);
    s_items_free(&feed);
    s_batch_free(&batch);
}

/* ---------------- newer, older, deleted ---------------- */

static void
test_import_newer_batch_changes_only_what_it_changes(void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *base = s_contacts(10, 30);
    assert_int_equal(
        cs_store_import(fix->store, base->deltas, base->n, NULL, NULL, 0, NULL),
        CS_OK);
    uint64_t head = s_info(fix->store).feed_head;

    /* c0000-c0003: a newer email only. c0004: the whole row again at a newer
     * stamp, same values: under LWW the newer stamps are a change of state,
     * so all three fields travel. c0005-c0009: the old rows, unchanged. */
    s_batch_t *newer = s_batch_new();
    char email[64];
    for (size_t i = 0; i < 4; i++) {
        snprintf(email, sizeof email, "new%zu@example.com", i);
        s_batch_add(newer, "contacts", base->ids[i],
                    s_row(s_stamp(1), "email", email, NULL));
    }
    s_batch_add(newer, "contacts", "c0004",
                s_row(s_stamp(1), "name", "c0004", "email", "c0004@example.com",
                      "phone", "+33 1 23 45 67 89", NULL));
    for (size_t i = 5; i < 10; i++) {
        s_batch_add(newer, "contacts", base->ids[i],
                    cs_record_dup(base->deltas[i].record));
    }
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_import(fix->store, newer->deltas, newer->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 0, 5, 5, 0);
    assert_int_equal(s_info(fix->store).feed_head, head + 5);

    s_items_t feed = s_feed(fix->store, head);
    assert_int_equal(feed.n, 5);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(feed.items[i].id, base->ids[i]);
        assert_int_equal(cs_record_field_count(feed.items[i].record), 1);
        cs_field_t field;
        assert_int_equal(cs_record_get(feed.items[i].record, "email", &field),
                         CS_OK);
        assert_int_equal(field.stamp.hlc, s_stamp(1).hlc);
    }
    assert_string_equal(feed.items[4].id, "c0004");
    assert_int_equal(cs_record_field_count(feed.items[4].record), 3);
    s_items_free(&feed);
    s_assert_field(fix->store, "contacts", "c0002", "email",
                   "new2@example.com");
    s_assert_field(fix->store, "contacts", "c0002", "name", "c0002");
    s_batch_free(&newer);
    s_batch_free(&base);
}

static void
test_import_older_batch_loses(void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *base = s_contacts(20, 10);
    assert_int_equal(
        cs_store_import(fix->store, base->deltas, base->n, NULL, NULL, 0, NULL),
        CS_OK);
    uint8_t before[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, before);
    uint64_t head = s_info(fix->store).feed_head;

    s_batch_t *older = s_batch_new();
    for (size_t i = 0; i < 20; i++) {
        s_batch_add(
            older, "contacts", base->ids[i],
            s_row(s_stamp(20), "name", "stale", "email", "stale", NULL));
    }
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_import(fix->store, older->deltas, older->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 0, 0, 20, 0);
    uint8_t after[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(s_info(fix->store).feed_head, head);
    s_assert_field(fix->store, "contacts", "c0007", "name", "c0007");
    s_batch_free(&older);
    s_batch_free(&base);
}

static void
test_import_tombstones_count_deleted_only_when_something_was_visible(
    void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *base = s_batch_new();
    s_batch_add(base, "c", "visible", s_row(s_stamp(10), "a", "x", NULL));
    s_batch_add(base, "c", "gone", s_row(s_stamp(10), "a", "x", NULL));
    s_batch_add(base, "c", "gone", s_tombstone(s_stamp(9)));
    s_batch_add(base, "c", "kept", s_row(s_stamp(5), "a", "x", NULL));
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_import(fix->store, base->deltas, base->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 3, 0, 0, 0);
    uint64_t count = 0;
    assert_int_equal(cs_store_count(fix->store, "c", &count), CS_OK);
    assert_int_equal(count, 2);

    s_batch_t *dels = s_batch_new();
    /* Hides the only visible field: deleted. */
    s_batch_add(dels, "c", "visible", s_tombstone(s_stamp(8)));
    /* Already deleted; a later tombstone changes state, shows nothing. */
    s_batch_add(dels, "c", "gone", s_tombstone(s_stamp(8)));
    /* Older than the fields: recorded, but the record stays visible. */
    s_batch_add(dels, "c", "kept", s_tombstone(s_stamp(7)));
    /* No record before: a tombstone-only record is new. */
    s_batch_add(dels, "c", "never", s_tombstone(s_stamp(8)));
    assert_int_equal(cs_store_import(fix->store, dels->deltas, dels->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 1, 2, 0, 1);
    assert_int_equal(cs_store_count(fix->store, "c", &count), CS_OK);
    assert_int_equal(count, 1);
    s_assert_field(fix->store, "c", "kept", "a", "x");
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(fix->store, "c", "never", &rec), CS_OK);
    assert_true(cs_record_is_deleted(rec));
    cs_record_destroy(&rec);

    /* The same tombstones again: nothing to do. */
    assert_int_equal(cs_store_import(fix->store, dels->deltas, dels->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 0, 0, 4, 0);
    s_batch_free(&dels);
    s_batch_free(&base);
}

/* ---------------- duplicates and order ---------------- */

static void
test_import_duplicate_keys_merge_in_turn_and_count_once(void **state)
{
    s_fix_t *fix = *state;
    /* Five deltas for one key: the result is a=3 (newest), b hidden by the
     * tombstone, c="y" (equal stamps: the larger value wins). */
    cs_stamp_t t1 = s_stamp(4);
    cs_stamp_t t2 = s_stamp(3);
    cs_stamp_t t3 = s_stamp(2);
    cs_stamp_t t4 = s_stamp(1);
    s_batch_t *batch = s_batch_new();
    s_batch_add(batch, "c", "dup", s_row(t1, "a", "1", "c", "x", NULL));
    s_batch_add(batch, "c", "dup", s_row(t4, "a", "3", "c", "x", NULL));
    s_batch_add(batch, "c", "dup", s_row(t2, "b", "2", "c", "w", NULL));
    s_batch_add(batch, "c", "dup", s_tombstone(t3));
    s_batch_add(batch, "c", "dup", s_row(t4, "c", "y", NULL));
    s_batch_add(batch, "c", "other", s_row(t1, "a", "o", NULL));
    size_t n = batch->n;

    uint8_t first[CS_STORE_DIGEST_BYTES];
    for (uint32_t order = 0; order < 12; order++) {
        char dir[64];
        cs_store_t *store = s_other_store(fix, dir, 2);
        cs_store_delta_t *deltas = s_reordered(batch, order == 1, order * 97u);
        cs_store_import_stats_t stats;
        assert_int_equal(
            cs_store_import(store, deltas, n, NULL, NULL, 0, &stats), CS_OK);
        s_assert_stats(&stats, 2, 0, 0, 0);
        assert_int_equal(s_info(store).feed_head, 2);
        cs_record_t *rec = NULL;
        assert_int_equal(cs_store_get(store, "c", "dup", &rec), CS_OK);
        assert_int_equal(cs_record_field_count(rec), 2);
        cs_field_t field;
        assert_int_equal(cs_record_get(rec, "a", &field), CS_OK);
        assert_memory_equal(field.value.u.s.ptr, "3", 1);
        assert_int_equal(cs_record_get(rec, "b", &field), CS_ENOENT);
        assert_int_equal(cs_record_get(rec, "c", &field), CS_OK);
        assert_memory_equal(field.value.u.s.ptr, "y", 1);
        assert_true(cs_record_tombstone(rec, NULL, NULL));
        cs_record_destroy(&rec);
        uint8_t digest[CS_STORE_DIGEST_BYTES];
        s_digest(store, digest);
        if (order == 0) {
            memcpy(first, digest, sizeof first);
        }
        assert_memory_equal(first, digest, sizeof first);
        free(deltas);
        s_other_store_free(&store, dir);
    }

    /* Into an existing visible record: a tombstone and a later field in
     * one batch leave it visible, so it is updated, once. */
    s_batch_t *base = s_batch_new();
    s_batch_add(base, "c", "live", s_row(t1, "a", "old", NULL));
    assert_int_equal(
        cs_store_import(fix->store, base->deltas, base->n, NULL, NULL, 0, NULL),
        CS_OK);
    s_batch_t *again = s_batch_new();
    s_batch_add(again, "c", "live", s_tombstone(t2));
    s_batch_add(again, "c", "live", s_row(t3, "b", "new", NULL));
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_import(fix->store, again->deltas, again->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 0, 1, 0, 0);
    assert_int_equal(s_info(fix->store).feed_head, 2);
    s_items_t feed = s_feed(fix->store, 1);
    assert_int_equal(feed.n, 1);
    s_items_free(&feed);
    s_batch_free(&again);
    s_batch_free(&base);
    s_batch_free(&batch);
}

/* Key order as LMDB sees it, built independently of the store: the bytes
 * of "collection \0 id", compared bytewise, a prefix first. For qsort. */
static int
s_by_key(const void *a, const void *b)
{
    const cs_store_delta_t *da = a;
    const cs_store_delta_t *db = b;
    unsigned char ka[CS_COLLECTION_MAX + 1 + CS_ID_MAX];
    unsigned char kb[CS_COLLECTION_MAX + 1 + CS_ID_MAX];
    size_t la = (size_t) snprintf((char *) ka, sizeof ka, "%s", da->collection);
    size_t lb = (size_t) snprintf((char *) kb, sizeof kb, "%s", db->collection);
    la += 1 + (size_t) snprintf((char *) ka + la + 1, sizeof ka - la - 1, "%s",
                                da->id);
    lb += 1 + (size_t) snprintf((char *) kb + lb + 1, sizeof kb - lb - 1, "%s",
                                db->id);
    int c = memcmp(ka, kb, la < lb ? la : lb);
    return c != 0 ? c : (la > lb) - (la < lb);
}

static void
test_import_unsorted_batch_gives_same_store_as_sorted(void **state)
{
    s_fix_t *fix = *state;
    /* Keys that probe the byte order: a collection that is a prefix of
     * another, ids that are prefixes, high (UTF-8) bytes. */
    static const char *const collections[] = { "con", "contacts", "co", "cons",
                                               "\xc3\xa9vents" };
    static const char *const ids[] = { "1", "10", "9", "Z",
                                       "a", "a0", "z", "\xc3\xa9t\xc3\xa9" };
    s_batch_t *batch = s_batch_new();
    for (size_t c = 0; c < 5; c++) {
        for (size_t i = 0; i < 8; i++) {
            s_batch_add(
                batch, collections[c], ids[i],
                s_row(s_stamp(3 + i), "k", collections[c], "i", ids[i], NULL));
        }
    }
    /* Older values for some keys, so the batch holds duplicates. */
    for (size_t i = 0; i < 8; i += 3) {
        s_batch_add(batch, "contacts", ids[i],
                    s_row(s_stamp(20), "k", "older", NULL));
    }
    const size_t distinct = 40;

    /* 0: sorted, into an empty store (every key appended). 1: reversed.
     * 2: shuffled, into a store that already holds keys before, between
     * and after the batch's (some keys looked up, the rest appended).
     * 3: shuffled, one delta per import. */
    enum { S_ROUTES = 4 };
    uint8_t digests[S_ROUTES][CS_STORE_DIGEST_BYTES];
    for (size_t route = 0; route < S_ROUTES; route++) {
        char dir[64];
        cs_store_t *store = s_other_store(fix, dir, 2);
        cs_store_delta_t *deltas =
            s_reordered(batch, route == 1, route >= 2 ? 11 : 0);
        if (route == 0) {
            qsort(deltas, batch->n, sizeof *deltas, s_by_key);
        }
        size_t pre = 0;
        if (route == 2) {
            s_batch_t *early = s_batch_new();
            s_batch_add(early, "a", "first", s_row(s_stamp(3), "k", "a", NULL));
            s_batch_add(early, "contacts", "5",
                        s_row(s_stamp(3), "k", "mid", NULL));
            s_batch_add(early, "cons", "a",
                        s_row(s_stamp(7), "k", "cons", "i", "a", NULL));
            s_batch_add(early, "b", "x", s_row(s_stamp(3), "k", "b", NULL));
            pre = early->n;
            assert_int_equal(cs_store_import(store, early->deltas, early->n,
                                             NULL, NULL, 0, NULL),
                             CS_OK);
            s_batch_free(&early);
        }
        cs_store_import_stats_t stats;
        if (route == 3) {
            for (size_t i = 0; i < batch->n; i++) {
                assert_int_equal(cs_store_import(store, &deltas[i], 1, NULL,
                                                 NULL, 0, &stats),
                                 CS_OK);
            }
        } else {
            assert_int_equal(
                cs_store_import(store, deltas, batch->n, NULL, NULL, 0, &stats),
                CS_OK);
            /* "cons" \0 "a" was there with the same state. */
            size_t same = route == 2 ? 1 : 0;
            s_assert_stats(&stats, distinct - same, 0, same, 0);
        }
        free(deltas);
        if (route == 2) {
            /* Take the extra keys out of the comparison again. */
            s_batch_t *drop = s_batch_new();
            s_batch_add(drop, "a", "first", s_tombstone(s_stamp(2)));
            s_batch_add(drop, "contacts", "5", s_tombstone(s_stamp(2)));
            s_batch_add(drop, "b", "x", s_tombstone(s_stamp(2)));
            assert_int_equal(cs_store_import(store, drop->deltas, drop->n, NULL,
                                             NULL, 0, &stats),
                             CS_OK);
            s_assert_stats(&stats, 0, 0, 0, 3);
            s_batch_free(&drop);
            uint64_t count = 0;
            assert_int_equal(cs_store_count(store, NULL, &count), CS_OK);
            assert_int_equal(count, distinct);
            assert_int_equal(s_info(store).records, distinct + pre - 1);
        } else {
            assert_int_equal(s_info(store).records, distinct);
        }
        /* Every record is where a lookup finds it, with the newest value. */
        for (size_t c = 0; c < 5; c++) {
            for (size_t i = 0; i < 8; i++) {
                s_assert_field(store, collections[c], ids[i], "k",
                               collections[c]);
            }
        }
        s_items_t scan = s_items_new();
        assert_int_equal(cs_store_scan(store, "contacts", s_collect, &scan),
                         CS_OK);
        assert_int_equal(scan.n, route == 2 ? 9 : 8);
        s_items_free(&scan);
        if (route == 2) {
            /* Drop the tombstoned extra keys from the digest too: compare
             * on a fresh store holding what this one replicates. */
            char dir2[64];
            cs_store_t *copy = s_other_store(fix, dir2, 3);
            s_items_t all = s_items_new();
            assert_int_equal(cs_store_scan(store, NULL, s_collect, &all),
                             CS_OK);
            for (size_t i = 0; i < all.n; i++) {
                if (cs_record_is_deleted(all.items[i].record)) {
                    continue;
                }
                cs_store_delta_t delta = { .collection =
                                               all.items[i].collection,
                                           .id = all.items[i].id,
                                           .record = all.items[i].record };
                assert_int_equal(
                    cs_store_import(copy, &delta, 1, NULL, NULL, 0, NULL),
                    CS_OK);
            }
            s_items_free(&all);
            s_digest(copy, digests[route]);
            s_other_store_free(&copy, dir2);
        } else {
            s_digest(store, digests[route]);
        }
        s_other_store_free(&store, dir);
    }
    for (size_t route = 1; route < S_ROUTES; route++) {
        assert_memory_equal(digests[0], digests[route], sizeof digests[0]);
    }
    s_batch_free(&batch);
}

/* ---------------- checkpoints ---------------- */

static void
test_import_checkpoint_round_trip_and_clear(void **state)
{
    s_fix_t *fix = *state;
    char buf[CS_STORE_CHECKPOINT_MAX + 1];
    size_t len = 99;
    assert_int_equal(
        cs_store_checkpoint_get(fix->store, S_CKPT, buf, sizeof buf, &len),
        CS_ENOENT);
    assert_int_equal(len, 0);

    s_batch_t *batch = s_contacts(3, 5);
    const char *ckpt = "offset=1234567;line=42;sha=ab12";
    assert_int_equal(cs_store_import(fix->store, batch->deltas, batch->n,
                                     S_CKPT, ckpt, strlen(ckpt), NULL),
                     CS_OK);
    s_assert_checkpoint(fix->store, S_CKPT, ckpt);
    /* Store-wide metadata still reads (checkpoints share "meta"). */
    assert_int_equal(s_info(fix->store).feed_head, 3);

    /* Too small a buffer: CS_ELIMIT, with the size to ask for. */
    memset(buf, 'Q', sizeof buf);
    assert_int_equal(cs_store_checkpoint_get(fix->store, S_CKPT, buf, 10, &len),
                     CS_ELIMIT);
    assert_int_equal(len, strlen(ckpt));
    assert_int_equal(buf[0], 'Q');
    assert_int_equal(cs_store_checkpoint_get(fix->store, S_CKPT, NULL, 0, &len),
                     CS_ELIMIT);
    assert_int_equal(len, strlen(ckpt));

    /* NULL leaves it; an empty one is stored as empty. */
    assert_int_equal(cs_store_import(fix->store, batch->deltas, batch->n,
                                     S_CKPT, NULL, 0, NULL),
                     CS_OK);
    assert_int_equal(cs_store_import(fix->store, batch->deltas, batch->n, NULL,
                                     NULL, 0, NULL),
                     CS_OK);
    s_assert_checkpoint(fix->store, S_CKPT, ckpt);
    assert_int_equal(cs_store_import(fix->store, NULL, 0, "other", "", 0, NULL),
                     CS_OK);
    assert_int_equal(
        cs_store_checkpoint_get(fix->store, "other", NULL, 0, &len), CS_OK);
    assert_int_equal(len, 0);
    s_assert_checkpoint(fix->store, S_CKPT, ckpt);

    /* The largest checkpoint; one byte more is refused with its batch. */
    static char big[CS_STORE_CHECKPOINT_MAX + 1];
    memset(big, 'b', sizeof big);
    assert_int_equal(cs_store_import(fix->store, NULL, 0, S_CKPT, big,
                                     CS_STORE_CHECKPOINT_MAX, NULL),
                     CS_OK);
    assert_int_equal(
        cs_store_checkpoint_get(fix->store, S_CKPT, buf, sizeof buf, &len),
        CS_OK);
    assert_int_equal(len, CS_STORE_CHECKPOINT_MAX);
    assert_memory_equal(buf, big, CS_STORE_CHECKPOINT_MAX);
    s_batch_t *more = s_contacts(5, 5);
    assert_int_equal(cs_store_import(fix->store, more->deltas, more->n, S_CKPT,
                                     big, sizeof big, NULL),
                     CS_EINVAL);
    s_assert_absent(fix->store, "contacts", "c0004");

    /* Names: 1 to 200 bytes, required with a checkpoint. */
    char name[202];
    memset(name, 'n', sizeof name);
    name[200] = 0;
    assert_int_equal(cs_store_import(fix->store, NULL, 0, name, "x", 1, NULL),
                     CS_OK);
    s_assert_checkpoint(fix->store, name, "x");
    name[200] = 'n';
    name[201] = 0;
    assert_int_equal(cs_store_import(fix->store, NULL, 0, name, "x", 1, NULL),
                     CS_EINVAL);
    assert_int_equal(
        cs_store_checkpoint_get(fix->store, name, buf, sizeof buf, &len),
        CS_EINVAL);
    assert_int_equal(cs_store_checkpoint_clear(fix->store, name), CS_EINVAL);
    assert_int_equal(cs_store_import(fix->store, NULL, 0, "", "x", 1, NULL),
                     CS_EINVAL);
    assert_int_equal(cs_store_import(fix->store, NULL, 0, NULL, "x", 1, NULL),
                     CS_EINVAL);
    assert_int_equal(cs_store_checkpoint_get(fix->store, "", buf, 1, &len),
                     CS_EINVAL);
    assert_int_equal(cs_store_checkpoint_clear(fix->store, NULL), CS_EINVAL);
    name[200] = 0;

    /* Clearing one leaves the others; clearing twice is fine. */
    assert_int_equal(cs_store_checkpoint_clear(fix->store, S_CKPT), CS_OK);
    assert_int_equal(
        cs_store_checkpoint_get(fix->store, S_CKPT, buf, sizeof buf, &len),
        CS_ENOENT);
    assert_int_equal(cs_store_checkpoint_clear(fix->store, S_CKPT), CS_OK);
    assert_int_equal(
        cs_store_checkpoint_get(fix->store, "other", NULL, 0, &len), CS_OK);

    /* Checkpoints survive a reopen, and a read-only store refuses writes. */
    cs_store_opts_t opts = s_opts(fix);
    opts.read_only = true;
    s_reopen(fix, &opts);
    s_assert_checkpoint(fix->store, name, "x");
    assert_int_equal(cs_store_checkpoint_clear(fix->store, name), CS_EINVAL);
    assert_int_equal(
        cs_store_import(fix->store, more->deltas, more->n, NULL, NULL, 0, NULL),
        CS_EINVAL);
    s_batch_free(&more);
    s_batch_free(&batch);
}

/* A record at the field limit, and a delta that would take it past. */
static void
s_fill_record(cs_store_t *store, const char *id)
{
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
    assert_int_equal(
        cs_store_set(store, "contacts", id, fields, CS_RECORD_FIELDS_MAX, NULL),
        CS_OK);
    free(fields);
    free(names);
}

static void
test_import_failed_batch_keeps_old_checkpoint_and_records(void **state)
{
    s_fix_t *fix = *state;
    s_fill_record(fix->store, "full");
    s_batch_t *first = s_contacts(10, 5);
    assert_int_equal(cs_store_import(fix->store, first->deltas, first->n,
                                     S_CKPT, "batch 1", 7, NULL),
                     CS_OK);
    cs_store_info_t before = s_info(fix->store);
    uint8_t digest_before[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, digest_before);

    /* Batch 2: new keys before and after "full", a change to an existing
     * one, and a delta that takes "full" past the field limit. */
    s_batch_t *second = s_batch_new();
    s_batch_add(second, "contacts", "a-new", s_row(s_stamp(1), "a", "x", NULL));
    s_batch_add(second, "contacts", "c0003",
                s_row(s_stamp(1), "email", "changed", NULL));
    s_batch_add(second, "contacts", "full",
                s_row(s_stamp(1), "zzz", "one too many", NULL));
    s_batch_add(second, "contacts", "z-new", s_row(s_stamp(1), "a", "x", NULL));
    cs_store_import_stats_t stats = { .records_new = 99 };
    assert_int_equal(cs_store_import(fix->store, second->deltas, second->n,
                                     S_CKPT, "batch 2", 7, &stats),
                     CS_ELIMIT);
    s_assert_stats(&stats, 0, 0, 0, 0);

    /* A bad key anywhere in the batch: the same. */
    s_batch_t *bad = s_batch_new();
    s_batch_add(bad, "contacts", "b-new", s_row(s_stamp(1), "a", "x", NULL));
    s_batch_add(bad, "contacts", "", s_row(s_stamp(1), "a", "x", NULL));
    assert_int_equal(cs_store_import(fix->store, bad->deltas, bad->n, S_CKPT,
                                     "batch 2", 7, &stats),
                     CS_EINVAL);
    bad->deltas[1].collection = "bad\xff";
    bad->deltas[1].id = "1";
    assert_int_equal(cs_store_import(fix->store, bad->deltas, bad->n, S_CKPT,
                                     "batch 2", 7, &stats),
                     CS_EINVAL);

    s_assert_checkpoint(fix->store, S_CKPT, "batch 1");
    s_assert_absent(fix->store, "contacts", "a-new");
    s_assert_absent(fix->store, "contacts", "z-new");
    s_assert_absent(fix->store, "contacts", "b-new");
    s_assert_field(fix->store, "contacts", "c0003", "email",
                   "c0003@example.com");
    cs_store_info_t after = s_info(fix->store);
    assert_int_equal(after.feed_head, before.feed_head);
    assert_int_equal(after.last_hlc, before.last_hlc);
    assert_int_equal(after.records, before.records);
    uint8_t digest_after[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, digest_after);
    assert_memory_equal(digest_before, digest_after, sizeof digest_before);

    /* Without the bad delta the batch goes in, checkpoint with it. */
    const cs_record_t *over = second->deltas[2].record;
    second->deltas[2] = second->deltas[3];
    second->deltas[3].record = over; /* so s_batch_free frees each once */
    assert_int_equal(cs_store_import(fix->store, second->deltas, 3, S_CKPT,
                                     "batch 2", 7, &stats),
                     CS_OK);
    s_assert_stats(&stats, 2, 1, 0, 0);
    s_assert_checkpoint(fix->store, S_CKPT, "batch 2");
    s_assert_field(fix->store, "contacts", "c0003", "email", "changed");
    s_batch_free(&bad);
    s_batch_free(&second);
    s_batch_free(&first);
}

/* ---------------- map size, live writes, clock ---------------- */

static void
test_import_too_large_for_map_is_efull_and_stores_nothing(void **state)
{
    s_fix_t *fix = *state;
    cs_store_opts_t opts = s_opts(fix);
    opts.map_size = UINT64_C(64) * 1024;
    opts.map_size_max = UINT64_C(512) * 1024;
    s_reopen(fix, &opts);
    s_batch_t *small = s_contacts(10, 5);
    assert_int_equal(cs_store_import(fix->store, small->deltas, small->n,
                                     S_CKPT, "small", 5, NULL),
                     CS_OK);
    cs_store_info_t before = s_info(fix->store);

    /* About 1 MiB of values: more than the map may ever hold. */
    s_batch_t *large = s_batch_new();
    static char value[1025];
    memset(value, 'v', sizeof value - 1);
    char id[32];
    for (size_t i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "big%04zu", i);
        s_batch_add(large, "contacts", id,
                    s_row(s_stamp(5), "blob", value, NULL));
    }
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_import(fix->store, large->deltas, large->n,
                                     S_CKPT, "large", 5, &stats),
                     CS_EFULL);
    s_assert_stats(&stats, 0, 0, 0, 0);
    s_assert_checkpoint(fix->store, S_CKPT, "small");
    s_assert_absent(fix->store, "contacts", "big0000");
    cs_store_info_t after = s_info(fix->store);
    assert_int_equal(after.feed_head, before.feed_head);
    assert_int_equal(after.records, before.records);
    assert_int_equal(after.map_size, opts.map_size_max);

    /* A part of it fits after the map grew: the retries from the start
     * count each record once. */
    cs_store_destroy(&fix->store);
    opts.map_size_max = UINT64_C(8) * 1024 * 1024;
    s_reopen(fix, &opts);
    assert_int_equal(cs_store_import(fix->store, large->deltas, 300, S_CKPT,
                                     "part", 4, &stats),
                     CS_OK);
    s_assert_stats(&stats, 300, 0, 0, 0);
    assert_true(s_info(fix->store).map_size > opts.map_size);
    assert_int_equal(s_info(fix->store).feed_head, before.feed_head + 300);
    s_assert_checkpoint(fix->store, S_CKPT, "part");
    s_assert_field(fix->store, "contacts", "big0299", "blob", value);
    s_batch_free(&large);
    s_batch_free(&small);
}

static void
test_import_live_write_after_seed_survives_reimport(void **state)
{
    s_fix_t *fix = *state;
    s_batch_t *batch = s_contacts(5, 30);
    assert_int_equal(cs_store_import(fix->store, batch->deltas, batch->n, NULL,
                                     NULL, 0, NULL),
                     CS_OK);
    /* A user edits a seeded record at the node: stamped now, newer than
     * the export's stamps. */
    fix->now += 60000;
    cs_store_field_t field = { .name = "email",
                               .value = cs_value_str("ada@new.example") };
    assert_int_equal(
        cs_store_set(fix->store, "contacts", "c0002", &field, 1, NULL), CS_OK);
    assert_int_equal(cs_store_delete(fix->store, "contacts", "c0004", NULL),
                     CS_OK);
    uint8_t before[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, before);
    uint64_t head = s_info(fix->store).feed_head;

    /* Seeding the same export again changes nothing. */
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_import(fix->store, batch->deltas, batch->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    s_assert_stats(&stats, 0, 0, 5, 0);
    s_assert_field(fix->store, "contacts", "c0002", "email", "ada@new.example");
    s_assert_field(fix->store, "contacts", "c0002", "name", "c0002");
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(fix->store, "contacts", "c0004", &rec),
                     CS_OK);
    assert_true(cs_record_is_deleted(rec));
    cs_record_destroy(&rec);
    uint8_t after[CS_STORE_DIGEST_BYTES];
    s_digest(fix->store, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(s_info(fix->store).feed_head, head);
    s_batch_free(&batch);
}

static void
test_import_counts_skew_and_keeps_local_clock(void **state)
{
    s_fix_t *fix = *state;
    cs_store_opts_t opts = s_opts(fix);
    opts.max_drift_ms = 60000;
    s_reopen(fix, &opts);
    cs_stamp_t future = { .hlc = cs_hlc_make(S_T0 + UINT64_C(3600000), 0),
                          .origin = S_SEED };
    cs_stamp_t near = { .hlc = cs_hlc_make(S_T0 + UINT64_C(30000), 0),
                        .origin = S_SEED };
    s_batch_t *batch = s_batch_new();
    s_batch_add(batch, "c", "ahead", s_row(future, "a", "x", NULL));
    s_batch_add(batch, "c", "ahead", s_row(future, "b", "y", NULL));
    s_batch_add(batch, "c", "near", s_row(near, "a", "x", NULL));
    cs_store_import_stats_t stats;
    assert_int_equal(cs_store_import(fix->store, batch->deltas, batch->n, NULL,
                                     NULL, 0, &stats),
                     CS_OK);
    assert_int_equal(stats.skewed, 2); /* per delta, as apply counts */
    s_assert_stats(&stats, 2, 0, 0, 0);
    s_assert_field(fix->store, "c", "ahead", "b", "y");
    /* The near stamp is adopted; the far one does not drag the clock. */
    cs_store_info_t info = s_info(fix->store);
    assert_true(info.last_hlc > near.hlc);
    assert_true(info.last_hlc < future.hlc);
    s_batch_free(&batch);
}

int
main(void)
{
#define S_TEST(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_import_new_records_equals_apply_of_same_data),
        S_TEST(test_append_new_equals_import_of_same_data),
        S_TEST(test_append_new_refuses_what_is_not_new_in_order),
        S_TEST(test_append_new_takes_numbered_names),
        S_TEST(test_matches_says_stored_exactly_so),
        S_TEST(test_import_same_batch_twice_changes_nothing),
        S_TEST(test_import_newer_batch_changes_only_what_it_changes),
        S_TEST(test_import_older_batch_loses),
        S_TEST(
            test_import_tombstones_count_deleted_only_when_something_was_visible),
        S_TEST(test_import_duplicate_keys_merge_in_turn_and_count_once),
        S_TEST(test_import_unsorted_batch_gives_same_store_as_sorted),
        S_TEST(test_import_checkpoint_round_trip_and_clear),
        S_TEST(test_import_failed_batch_keeps_old_checkpoint_and_records),
        S_TEST(test_import_too_large_for_map_is_efull_and_stores_nothing),
        S_TEST(test_import_live_write_after_seed_survives_reimport),
        S_TEST(test_import_counts_skew_and_keeps_local_clock),
    };
#undef S_TEST
    return cmocka_run_group_tests_name("storage/import", tests, NULL, NULL);
}
