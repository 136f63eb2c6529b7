/*  test_cs_syncstore - the store operations of cs_sync over two real
 *  stores: head and cursor, a pull of several batches carried from one to
 *  the other, the batch cap, a bad delta, a batch over a record limit, and
 *  the send trampoline.
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

#include "node/cs_syncstore.h"

#define NODE_A UINT64_C(0xa1)
#define NODE_B UINT64_C(0xb2)
#define T0     UINT64_C(1700000000000)

/* A store in its own temporary directory, with its syncstore. */
typedef struct {
    char dir[64];
    uint64_t now; /* its clock */
    cs_store_t *store;
    cs_syncstore_t *ss;
    cs_sync_ops_t ops;
} s_side_t;

typedef struct {
    s_side_t a, b;
    int sends;          /* calls of s_send */
    uint64_t sent_peer; /* its last peer */
} s_fix_t;

static uint64_t
s_clock(void *arg)
{
    return *(const uint64_t *) arg;
}

static int
s_send(void *arg, uint64_t peer, const cs_msg_t *msg)
{
    s_fix_t *fix = arg;
    (void) msg;
    fix->sends++;
    fix->sent_peer = peer;
    return CS_EAGAIN;
}

static void
s_side_open(s_fix_t *fix, s_side_t *side, uint64_t node)
{
    strcpy(side->dir, "/tmp/cs_syncstore_test.XXXXXX");
    assert_non_null(mkdtemp(side->dir));
    side->now = T0;
    assert_int_equal(cs_store_create(side->dir, node), CS_OK);
    cs_store_opts_t opts = { .clock = s_clock, .clock_arg = &side->now };
    assert_int_equal(cs_store_open(side->dir, &opts, &side->store), CS_OK);
    side->ss = cs_syncstore_new(side->store);
    cs_syncstore_ops(side->ss, s_send, fix, &side->ops);
}

static void
s_side_close(s_side_t *side)
{
    cs_syncstore_destroy(&side->ss);
    assert_null(side->ss);
    cs_syncstore_destroy(&side->ss);
    cs_store_destroy(&side->store);
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", side->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", side->dir);
    unlink(path);
    assert_int_equal(rmdir(side->dir), 0);
}

static int
s_setup(void **state)
{
    s_fix_t *fix = calloc(1, sizeof *fix);
    assert_non_null(fix);
    s_side_open(fix, &fix->a, NODE_A);
    s_side_open(fix, &fix->b, NODE_B);
    *state = fix;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *fix = *state;
    s_side_close(&fix->a);
    s_side_close(&fix->b);
    free(fix);
    return 0;
}

static void
s_set(s_side_t *side, const char *id, const char *name, const char *value)
{
    side->now++;
    cs_store_field_t field = { .name = name, .value = cs_value_str(value) };
    assert_int_equal(cs_store_set(side->store, "contacts", id, &field, 1, NULL),
                     CS_OK);
}

static void
s_digest(s_side_t *side, uint8_t digest[CS_STORE_DIGEST_BYTES])
{
    assert_int_equal(cs_store_digest(side->store, digest, NULL), CS_OK);
}

/* Serve into @p msg a pull by @p to from @p from (to's echo left out). */
static int
s_serve(s_side_t *from, s_side_t *to, uint64_t base, uint64_t since,
        uint32_t max_bytes, cs_msg_t *msg)
{
    return from->ops.changes(from->ops.arg, cs_store_node_id(to->store),
                             cs_store_epoch(to->store), base, since, max_bytes,
                             msg);
}

/* The cursor cs_sync commits with @p msg (see cs_sync.h). */
static cs_sync_cursor_t
s_next(const cs_msg_t *msg)
{
    cs_sync_cursor_t next = { msg->epoch, msg->base, msg->last_seq };
    if (msg->last_seq == msg->head) {
        next.base = msg->last_seq;
    }
    return next;
}

/* Pull everything from @p from into @p to, batch by batch of at most
 * @p max_bytes, as cs_sync would; @return the batches taken. */
static size_t
s_pull_all(s_side_t *to, uint64_t from_id, s_side_t *from, uint32_t max_bytes)
{
    cs_sync_cursor_t cur;
    assert_int_equal(to->ops.cursor(to->ops.arg, from_id, &cur), CS_OK);
    size_t batches = 0;
    for (;;) {
        assert_true(batches < 1000);
        cs_msg_t msg;
        bool ours = cur.epoch == cs_store_epoch(from->store);
        uint64_t base = ours ? cur.base : 0;
        uint64_t since = ours ? cur.seq : 0;
        assert_int_equal(s_serve(from, to, base, since, max_bytes, &msg),
                         CS_OK);
        assert_int_equal(msg.type, CS_MSG_CHANGES);
        assert_int_equal(msg.base, base);
        assert_int_equal(msg.since, since);
        cs_sync_applied_t res;
        cs_sync_cursor_t next = s_next(&msg);
        assert_int_equal(to->ops.apply(to->ops.arg, from_id, &msg, next, &res),
                         CS_OK);
        assert_int_equal(res.deltas, msg.n_deltas);
        batches++;
        assert_int_equal(to->ops.cursor(to->ops.arg, from_id, &cur), CS_OK);
        assert_int_equal(cur.epoch, next.epoch);
        assert_int_equal(cur.base, next.base);
        assert_int_equal(cur.seq, next.seq);
        if (msg.last_seq >= msg.head) {
            return batches;
        }
    }
}

/* ---------------- tests ---------------- */

static void
test_syncstore_head_and_cursor(void **state)
{
    s_fix_t *fix = *state;
    uint64_t epoch = 0, head = 1;
    assert_int_equal(fix->a.ops.head(fix->a.ops.arg, &epoch, &head), CS_OK);
    assert_int_equal(epoch, cs_store_epoch(fix->a.store));
    assert_int_equal(head, 0);
    s_set(&fix->a, "c1", "name", "Ada");
    s_set(&fix->a, "c2", "name", "Bob");
    assert_int_equal(fix->a.ops.head(fix->a.ops.arg, &epoch, &head), CS_OK);
    assert_int_equal(head, 2);
    cs_sync_cursor_t cur = { 7, 7, 7 };
    assert_int_equal(fix->a.ops.cursor(fix->a.ops.arg, NODE_B, &cur), CS_OK);
    assert_int_equal(cur.epoch, 0);
    assert_int_equal(cur.base, 0);
    assert_int_equal(cur.seq, 0);
}

static void
test_syncstore_changes_then_apply_converge(void **state)
{
    s_fix_t *fix = *state;
    s_set(&fix->b, "c1", "name", "Ada");
    s_set(&fix->b, "c2", "name", "Bob");
    s_set(&fix->b, "c1", "email", "ada@example.com");
    cs_msg_t msg;
    assert_int_equal(s_serve(&fix->b, &fix->a, 0, 0, 1u << 20, &msg), CS_OK);
    assert_int_equal(msg.epoch, cs_store_epoch(fix->b.store));
    assert_int_equal(msg.since, 0);
    assert_int_equal(msg.last_seq, 3);
    assert_int_equal(msg.head, 3);
    assert_int_equal(msg.n_deltas, 2); /* c1 once, at its latest seq */
    cs_delta_t delta;
    assert_int_equal(
        cs_codec_decode_delta(msg.deltas[0].data, msg.deltas[0].len, &delta),
        CS_OK);
    assert_string_equal(delta.collection, "contacts");
    assert_string_equal(delta.id, "c2");
    cs_delta_fini(&delta);
    cs_sync_applied_t res;
    assert_int_equal(
        fix->a.ops.apply(fix->a.ops.arg, NODE_B, &msg, s_next(&msg), &res),
        CS_OK);
    assert_int_equal(res.deltas, 2);
    assert_int_equal(res.records_changed, 2);
    assert_int_equal(res.refused, 0);
    cs_store_peer_t cursor;
    assert_int_equal(cs_store_peer_get(fix->a.store, NODE_B, &cursor), CS_OK);
    assert_int_equal(cursor.epoch, cs_store_epoch(fix->b.store));
    assert_int_equal(cursor.cursor, 3);
    uint8_t da[CS_STORE_DIGEST_BYTES], db[CS_STORE_DIGEST_BYTES];
    s_digest(&fix->a, da);
    s_digest(&fix->b, db);
    assert_memory_equal(da, db, sizeof da);
    /* applied again, it changes nothing */
    assert_int_equal(
        fix->a.ops.apply(fix->a.ops.arg, NODE_B, &msg, s_next(&msg), &res),
        CS_OK);
    assert_int_equal(res.records_changed, 0);
    /* nothing after the head */
    assert_int_equal(s_serve(&fix->b, &fix->a, 3, 3, 1u << 20, &msg), CS_OK);
    assert_int_equal(msg.n_deltas, 0);
    assert_null(msg.deltas);
    assert_int_equal(msg.last_seq, 3);
}

static void
test_syncstore_batches_keep_fields_changed_before_the_cut(void **state)
{
    s_fix_t *fix = *state;
    /* r0 first, then filler, then r0 again: r0 moves to the feed's end
     * with a part at seq 1 and a part at the head */
    s_set(&fix->b, "r0", "name", "first");
    char id[16];
    for (int i = 1; i <= 30; i++) {
        snprintf(id, sizeof id, "r%d", i);
        s_set(&fix->b, id, "name", "filler");
    }
    s_set(&fix->b, "r0", "phone", "555");
    size_t batches = s_pull_all(&fix->a, NODE_B, &fix->b, 100);
    assert_true(batches > 3);
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(fix->a.store, "contacts", "r0", &rec), CS_OK);
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, "name", &field), CS_OK);
    assert_int_equal(cs_record_get(rec, "phone", &field), CS_OK);
    cs_record_destroy(&rec);
    uint8_t da[CS_STORE_DIGEST_BYTES], db[CS_STORE_DIGEST_BYTES];
    s_digest(&fix->a, da);
    s_digest(&fix->b, db);
    assert_memory_equal(da, db, sizeof da);
    /* edits after the cursor: only those records come */
    s_set(&fix->b, "r7", "email", "r7@example.com");
    cs_msg_t msg;
    assert_int_equal(s_serve(&fix->b, &fix->a, 32, 32, 1u << 20, &msg), CS_OK);
    assert_int_equal(msg.n_deltas, 1);
    assert_int_equal(msg.last_seq, 33);
    /* a real delta: only the field changed after base, not the name */
    cs_delta_t delta;
    assert_int_equal(
        cs_codec_decode_delta(msg.deltas[0].data, msg.deltas[0].len, &delta),
        CS_OK);
    assert_string_equal(delta.id, "r7");
    assert_int_equal(cs_record_get(delta.record, "email", &field), CS_OK);
    assert_int_equal(cs_record_get(delta.record, "name", &field), CS_ENOENT);
    cs_delta_fini(&delta);
}

static void
test_syncstore_batch_cap_counts_keys(void **state)
{
    s_fix_t *fix = *state;
    /* long ids, tiny records: the keys are most of the bytes */
    char id[CS_ID_MAX + 1];
    for (int i = 0; i < 40; i++) {
        memset(id, 'k', CS_ID_MAX);
        snprintf(id + CS_ID_MAX - 4, 5, "%04d", i);
        s_set(&fix->b, id, "n", "v");
    }
    const uint32_t cap = 1000;
    cs_msg_t msg;
    assert_int_equal(s_serve(&fix->b, &fix->a, 0, 0, cap, &msg), CS_OK);
    assert_true(msg.n_deltas > 1);
    assert_true(msg.last_seq < msg.head);
    assert_int_equal(msg.last_seq, msg.n_deltas);
    size_t bytes = 0, largest = 0;
    for (size_t i = 0; i < msg.n_deltas; i++) {
        assert_true(msg.deltas[i].len > CS_ID_MAX);
        bytes += msg.deltas[i].len + 5;
        largest =
            msg.deltas[i].len + 5 > largest ? msg.deltas[i].len + 5 : largest;
    }
    assert_true(bytes >= cap);
    assert_true(bytes < cap + largest);
    /* a cap of 0 still gives one record, so a pull always moves on */
    assert_int_equal(s_serve(&fix->b, &fix->a, 0, 0, 0, &msg), CS_OK);
    assert_int_equal(msg.n_deltas, 1);
    assert_int_equal(msg.last_seq, 1);
    assert_true(s_pull_all(&fix->a, NODE_B, &fix->b, cap) > 1);
    uint8_t da[CS_STORE_DIGEST_BYTES], db[CS_STORE_DIGEST_BYTES];
    s_digest(&fix->a, da);
    s_digest(&fix->b, db);
    assert_memory_equal(da, db, sizeof da);
}

static void
test_syncstore_bad_delta_refuses_batch(void **state)
{
    s_fix_t *fix = *state;
    s_set(&fix->b, "c1", "name", "Ada");
    s_set(&fix->b, "c2", "name", "Bob");
    cs_msg_t msg;
    assert_int_equal(s_serve(&fix->b, &fix->a, 0, 0, 1u << 20, &msg), CS_OK);
    assert_int_equal(msg.n_deltas, 2);
    cs_msg_bytes_t table[2] = { msg.deltas[0],
                                { (const uint8_t *) "\x93\xa1x", 3 } };
    msg.deltas = table;
    uint8_t before[CS_STORE_DIGEST_BYTES], after[CS_STORE_DIGEST_BYTES];
    s_digest(&fix->a, before);
    cs_sync_applied_t res = { .deltas = 9 };
    assert_int_equal(
        fix->a.ops.apply(fix->a.ops.arg, NODE_B, &msg, s_next(&msg), &res),
        CS_EPROTO);
    assert_int_equal(res.deltas, 0);
    s_digest(&fix->a, after);
    assert_memory_equal(before, after, sizeof before);
    cs_store_peer_t cursor;
    assert_int_equal(cs_store_peer_get(fix->a.store, NODE_B, &cursor),
                     CS_ENOENT);
}

static void
test_syncstore_record_limit_skips_delta_keeps_rest(void **state)
{
    s_fix_t *fix = *state;
    /* 3 MB of fields at each side on one record: merged, 6 MB, past
     * CS_RECORD_BYTES_MAX */
    size_t big = 1000000;
    char *value = malloc(big + 1);
    assert_non_null(value);
    memset(value, 'x', big);
    value[big] = '\0';
    const char *names_a[] = { "a1", "a2", "a3" };
    const char *names_b[] = { "b1", "b2", "b3" };
    for (int i = 0; i < 3; i++) {
        s_set(&fix->a, "big", names_a[i], value);
        s_set(&fix->b, "big", names_b[i], value);
    }
    free(value);
    s_set(&fix->b, "small", "name", "Ada");
    cs_msg_t msg;
    assert_int_equal(s_serve(&fix->b, &fix->a, 0, 0, CS_MSG_BATCH_MAX, &msg),
                     CS_OK);
    assert_int_equal(msg.n_deltas, 2);
    cs_sync_applied_t res;
    assert_int_equal(
        fix->a.ops.apply(fix->a.ops.arg, NODE_B, &msg, s_next(&msg), &res),
        CS_OK);
    assert_int_equal(res.deltas, 2);
    assert_int_equal(res.refused, 1);
    assert_int_equal(res.records_changed, 1);
    cs_record_t *rec = NULL;
    assert_int_equal(cs_store_get(fix->a.store, "contacts", "small", &rec),
                     CS_OK);
    cs_record_destroy(&rec);
    assert_int_equal(cs_store_get(fix->a.store, "contacts", "big", &rec),
                     CS_OK);
    assert_int_equal(cs_record_field_count(rec), 3);
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, "b1", &field), CS_ENOENT);
    cs_record_destroy(&rec);
    cs_store_peer_t cursor;
    assert_int_equal(cs_store_peer_get(fix->a.store, NODE_B, &cursor), CS_OK);
    assert_int_equal(cursor.epoch, msg.epoch);
    assert_int_equal(cursor.cursor, msg.last_seq);
}

/* Decode delta @p i of @p msg: its id and field count. */
static void
s_expect_delta(const cs_msg_t *msg, size_t i, const char *id, size_t fields)
{
    cs_delta_t delta;
    assert_true(i < msg->n_deltas);
    assert_int_equal(
        cs_codec_decode_delta(msg->deltas[i].data, msg->deltas[i].len, &delta),
        CS_OK);
    assert_string_equal(delta.id, id);
    assert_int_equal(cs_record_field_count(delta.record), fields);
    cs_delta_fini(&delta);
}

static void
test_syncstore_echo_is_left_out(void **state)
{
    s_fix_t *fix = *state;
    s_set(&fix->a, "c1", "name", "Ada");
    s_set(&fix->a, "c2", "name", "Bob");
    assert_int_equal(s_pull_all(&fix->b, NODE_A, &fix->a, 1u << 20), 1);
    s_set(&fix->b, "c1", "email", "ada@example.com");
    s_set(&fix->b, "c3", "name", "Cy");
    /* a gets b's own two writes, not its c1.name and c2 back */
    cs_msg_t msg;
    assert_int_equal(s_serve(&fix->b, &fix->a, 0, 0, 1u << 20, &msg), CS_OK);
    assert_int_equal(msg.last_seq, 4);
    assert_int_equal(msg.n_deltas, 2);
    s_expect_delta(&msg, 0, "c1", 1);
    s_expect_delta(&msg, 1, "c3", 1);
    cs_sync_applied_t res;
    assert_int_equal(
        fix->a.ops.apply(fix->a.ops.arg, NODE_B, &msg, s_next(&msg), &res),
        CS_OK);
    assert_int_equal(res.records_changed, 2);
    uint8_t da[CS_STORE_DIGEST_BYTES], db[CS_STORE_DIGEST_BYTES];
    s_digest(&fix->a, da);
    s_digest(&fix->b, db);
    assert_memory_equal(da, db, sizeof da);
    /* a third peer gets everything */
    assert_int_equal(fix->b.ops.changes(fix->b.ops.arg, UINT64_C(0xc3),
                                        cs_store_epoch(fix->a.store), 0, 0,
                                        1u << 20, &msg),
                     CS_OK);
    assert_int_equal(msg.n_deltas, 3);
    s_expect_delta(&msg, 1, "c1", 2);
    /* so does a under a new epoch (a restore may have lost what it sent);
     * its cursor on b is forgotten with the old epoch */
    uint64_t epoch = 0;
    assert_int_equal(cs_store_renew_epoch(fix->a.store, &epoch), CS_OK);
    cs_store_peer_t cursor;
    assert_int_equal(cs_store_peer_get(fix->a.store, NODE_B, &cursor),
                     CS_ENOENT);
    assert_int_equal(s_serve(&fix->b, &fix->a, 0, 0, 1u << 20, &msg), CS_OK);
    assert_int_equal(msg.n_deltas, 3);
    s_expect_delta(&msg, 0, "c2", 1);
    s_expect_delta(&msg, 1, "c1", 2);
    s_expect_delta(&msg, 2, "c3", 1);
}

static void
test_syncstore_send_reaches_caller(void **state)
{
    s_fix_t *fix = *state;
    assert_ptr_equal(fix->a.ops.arg, fix->a.ss);
    cs_msg_t msg = { .type = CS_MSG_NOTIFY, .epoch = 1, .head = 2 };
    assert_int_equal(fix->a.ops.send(fix->a.ops.arg, NODE_B, &msg), CS_EAGAIN);
    assert_int_equal(fix->sends, 1);
    assert_int_equal(fix->sent_peer, NODE_B);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_syncstore_head_and_cursor, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_syncstore_changes_then_apply_converge, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_syncstore_batches_keep_fields_changed_before_the_cut, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_syncstore_batch_cap_counts_keys,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_syncstore_bad_delta_refuses_batch,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_syncstore_record_limit_skips_delta_keeps_rest, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_syncstore_echo_is_left_out,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_syncstore_send_reaches_caller,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("node/cs_syncstore", tests, NULL, NULL);
}
