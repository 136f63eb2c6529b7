/*  test_cs_sync - the sync state machine, driven by hand: scripted
 *  messages and ticks in, and the exact messages it sends out, checked one
 *  by one. The store and the transport are a fake (s_fake_t): a feed that
 *  is just a head, cursors in a small table, apply results set by the test,
 *  and a log of everything sent.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "net/cs_sync.h"

#define EPOCH_US  UINT64_C(0xe1e1e1e1) /* our store's epoch */
#define EPOCH_P   UINT64_C(0xe2e2e2e2) /* peer 2's epoch */
#define EPOCH_Q   UINT64_C(0xe3e3e3e3) /* peer 2's epoch after a wipe */
#define EPOCH_NEW UINT64_C(0xe4e4e4e4) /* our epoch after a renewal */
#define PEER      UINT64_C(2)
#define OTHER     UINT64_C(3)
#define STRANGER  UINT64_C(9)
#define T0        UINT64_C(1000000)
#define HB        UINT64_C(1000)  /* heartbeat_ms */
#define PEER_TO   UINT64_C(5000)  /* peer_timeout_ms */
#define PULL_TO   UINT64_C(10000) /* pull_timeout_ms */
#define AE        UINT64_C(30000) /* anti_entropy_ms */
#define BATCH     1000u           /* batch_bytes */
#define PER_SEQ   10u             /* fake feed: bytes per seq */
#define SENT_MAX  512u
#define CURS_MAX  8u
#define DELTAS    16u

/* ---------------- the fake store and transport ---------------- */

typedef struct {
    uint64_t peer; /* to whom */
    cs_msg_t msg;  /* what (deltas not kept) */
} s_sent_t;

typedef struct {
    /* head */
    uint64_t epoch; /* our epoch */
    uint64_t head;  /* our feed head */
    int head_rc;    /* what head returns */
    /* cursor */
    uint64_t cur_peer[CURS_MAX];  /* stored cursors: peer */
    uint64_t cur_epoch[CURS_MAX]; /* ... epoch */
    uint64_t cur_base[CURS_MAX];  /* ... base */
    uint64_t cur_seq[CURS_MAX];   /* ... seq */
    size_t n_cur;                 /* used */
    int cursor_rc;                /* what cursor returns */
    /* changes: PER_SEQ bytes per seq of the feed */
    int changes_calls;           /* calls */
    uint64_t changes_peer;       /* peer of the last call */
    uint64_t changes_peer_epoch; /* its epoch, as the last call got it */
    uint64_t changes_base;       /* base of the last call */
    uint64_t changes_since;      /* since of the last call */
    uint32_t changes_max;        /* max_bytes of the last call */
    int changes_rc;              /* what changes returns */
    cs_msg_bytes_t table[DELTAS];
    /* apply */
    int apply_calls;             /* calls */
    size_t sent_at_apply;        /* messages sent when it was last called */
    uint64_t apply_peer;         /* peer of the last call */
    cs_msg_t applied;            /* message of the last call */
    cs_sync_cursor_t next;       /* cursor of the last call */
    int apply_rc;                /* what apply returns */
    cs_sync_applied_t apply_res; /* what it reports */
    /* renew_epoch: the new epoch is EPOCH_NEW */
    int renew_calls; /* calls */
    int renew_rc;    /* what renew_epoch returns */
    /* send */
    s_sent_t sent[SENT_MAX]; /* everything sent */
    size_t n_sent;           /* used */
    size_t n_read;           /* checked by the test so far */
    int send_rc;             /* what send returns */
} s_fake_t;

static int
s_fake_head(void *arg, uint64_t *epoch, uint64_t *head)
{
    s_fake_t *f = arg;
    if (f->head_rc != CS_OK) {
        return f->head_rc;
    }
    *epoch = f->epoch;
    *head = f->head;
    return CS_OK;
}

static int
s_fake_cursor(void *arg, uint64_t peer, cs_sync_cursor_t *out)
{
    s_fake_t *f = arg;
    if (f->cursor_rc != CS_OK) {
        return f->cursor_rc;
    }
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < f->n_cur; i++) {
        if (f->cur_peer[i] == peer) {
            out->epoch = f->cur_epoch[i];
            out->base = f->cur_base[i];
            out->seq = f->cur_seq[i];
        }
    }
    return CS_OK;
}

static int
s_fake_changes(void *arg, uint64_t peer, uint64_t peer_epoch, uint64_t base,
               uint64_t since, uint32_t max_bytes, cs_msg_t *out)
{
    s_fake_t *f = arg;
    f->changes_calls++;
    f->changes_peer = peer;
    f->changes_peer_epoch = peer_epoch;
    f->changes_base = base;
    f->changes_since = since;
    f->changes_max = max_bytes;
    if (f->changes_rc != CS_OK) {
        return f->changes_rc;
    }
    uint64_t last = since + (max_bytes / PER_SEQ ? max_bytes / PER_SEQ : 1);
    last = last < f->head ? last : f->head;
    last = last > since ? last : f->head;
    size_t n = since < last ? (size_t) (last - since) : 0;
    n = n < DELTAS ? n : DELTAS;
    for (size_t i = 0; i < n; i++) {
        f->table[i].data = (const uint8_t *) "delta";
        f->table[i].len = 5;
    }
    out->type = CS_MSG_CHANGES;
    out->epoch = f->epoch;
    out->base = base;
    out->since = since;
    out->last_seq = last;
    out->head = f->head;
    out->n_deltas = n;
    out->deltas = n ? f->table : NULL;
    return CS_OK;
}

static int
s_fake_apply(void *arg, uint64_t peer, const cs_msg_t *changes,
             cs_sync_cursor_t next, cs_sync_applied_t *res)
{
    s_fake_t *f = arg;
    f->apply_calls++;
    f->sent_at_apply = f->n_sent;
    f->next = next;
    f->apply_peer = peer;
    f->applied = *changes;
    f->applied.deltas = NULL;
    if (f->apply_rc != CS_OK) {
        return f->apply_rc;
    }
    *res = f->apply_res;
    res->deltas = changes->n_deltas;
    return CS_OK;
}

static int
s_fake_renew_epoch(void *arg, uint64_t *epoch)
{
    s_fake_t *f = arg;
    f->renew_calls++;
    if (f->renew_rc != CS_OK) {
        return f->renew_rc;
    }
    f->epoch = EPOCH_NEW;
    *epoch = f->epoch;
    return CS_OK;
}

static int
s_fake_send(void *arg, uint64_t peer, const cs_msg_t *msg)
{
    s_fake_t *f = arg;
    assert_true(f->n_sent < SENT_MAX);
    f->sent[f->n_sent].peer = peer;
    f->sent[f->n_sent].msg = *msg;
    f->sent[f->n_sent].msg.deltas = NULL;
    f->n_sent++;
    return f->send_rc;
}

/* The fixture: a fake, and a cs_sync over it with peers PEER and OTHER
 * added and greeted (their first heartbeat is read). */
typedef struct {
    s_fake_t fake;
    cs_sync_t *sync;
    uint64_t now;
} s_fix_t;

static cs_sync_ops_t
s_ops(s_fake_t *f)
{
    cs_sync_ops_t ops = { .arg = f,
                          .head = s_fake_head,
                          .cursor = s_fake_cursor,
                          .changes = s_fake_changes,
                          .apply = s_fake_apply,
                          .renew_epoch = s_fake_renew_epoch,
                          .send = s_fake_send };
    return ops;
}

static const cs_sync_opts_t s_opts = { .heartbeat_ms = HB,
                                       .peer_timeout_ms = PEER_TO,
                                       .pull_timeout_ms = PULL_TO,
                                       .anti_entropy_ms = AE,
                                       .batch_bytes = BATCH };

static void
s_set_cursor3(s_fake_t *f, uint64_t peer, uint64_t epoch, uint64_t base,
              uint64_t seq)
{
    assert_true(f->n_cur < CURS_MAX);
    f->cur_peer[f->n_cur] = peer;
    f->cur_epoch[f->n_cur] = epoch;
    f->cur_base[f->n_cur] = base;
    f->cur_seq[f->n_cur] = seq;
    f->n_cur++;
}

/* A cursor at the end of a complete catch-up: base = seq. */
static void
s_set_cursor(s_fake_t *f, uint64_t peer, uint64_t epoch, uint64_t seq)
{
    s_set_cursor3(f, peer, epoch, seq, seq);
}

/* The next message sent that the test has not checked yet. */
static const s_sent_t *
s_next(s_fix_t *fix)
{
    assert_true(fix->fake.n_read < fix->fake.n_sent);
    return &fix->fake.sent[fix->fake.n_read++];
}

static void
s_expect_none(s_fix_t *fix)
{
    assert_int_equal(fix->fake.n_read, fix->fake.n_sent);
}

/* Skip the NOTIFYs (heartbeats) among the messages not checked yet, up to
 * the first message of another type. */
static void
s_skip_notices(s_fix_t *fix)
{
    s_fake_t *f = &fix->fake;
    while (f->n_read < f->n_sent &&
           f->sent[f->n_read].msg.type == CS_MSG_NOTIFY) {
        f->n_read++;
    }
}

static void
s_expect_notify(s_fix_t *fix, uint64_t peer, uint64_t epoch, uint64_t head)
{
    const s_sent_t *s = s_next(fix);
    assert_int_equal(s->peer, peer);
    assert_int_equal(s->msg.type, CS_MSG_NOTIFY);
    assert_int_equal(s->msg.epoch, epoch);
    assert_int_equal(s->msg.head, head);
}

static void
s_expect_pull(s_fix_t *fix, uint64_t peer, uint64_t epoch, uint64_t since,
              uint32_t max_bytes)
{
    const s_sent_t *s = s_next(fix);
    assert_int_equal(s->peer, peer);
    assert_int_equal(s->msg.type, CS_MSG_PULL);
    assert_int_equal(s->msg.epoch, epoch);
    assert_int_equal(s->msg.since, since);
    assert_int_equal(s->msg.max_bytes, max_bytes);
    assert_int_equal(s->msg.puller_epoch, fix->fake.epoch);
}

/* A PULL with its base checked too. */
static void
s_expect_pull3(s_fix_t *fix, uint64_t peer, uint64_t epoch, uint64_t base,
               uint64_t since)
{
    const s_sent_t *s = s_next(fix);
    assert_int_equal(s->peer, peer);
    assert_int_equal(s->msg.type, CS_MSG_PULL);
    assert_int_equal(s->msg.epoch, epoch);
    assert_int_equal(s->msg.base, base);
    assert_int_equal(s->msg.since, since);
    assert_int_equal(s->msg.max_bytes, BATCH);
    assert_int_equal(s->msg.puller_epoch, fix->fake.epoch);
}

static void
s_expect_changes(s_fix_t *fix, uint64_t peer, uint64_t since, uint64_t last_seq,
                 uint64_t head)
{
    const s_sent_t *s = s_next(fix);
    assert_int_equal(s->peer, peer);
    assert_int_equal(s->msg.type, CS_MSG_CHANGES);
    assert_int_equal(s->msg.epoch, fix->fake.epoch);
    assert_int_equal(s->msg.since, since);
    assert_int_equal(s->msg.last_seq, last_seq);
    assert_int_equal(s->msg.head, head);
    /* served to the peer of the pull, less its echo, and saying so */
    assert_int_equal(fix->fake.changes_peer, peer);
    assert_int_equal(fix->fake.changes_peer_epoch, EPOCH_P);
    assert_int_equal(s->msg.puller_epoch, EPOCH_P);
}

static void
s_tick(s_fix_t *fix, uint64_t now)
{
    fix->now = now;
    cs_sync_on_tick(fix->sync, now);
}

/* Marks a CHANGES of s_changes, whose base s_recv fills in. */
#define BASE_AUTO UINT64_MAX
/* Marks a CHANGES served for our epoch now, which s_recv fills in. */
#define PULLER_AUTO UINT64_MAX

static cs_sync_peer_stats_t s_stats(s_fix_t *fix, uint64_t peer);

/* Deliver @p msg. A CHANGES made by s_changes (the tests written before
 * the cursor had a base) gets the base of our cursor when that fits its
 * since, else 0: so they test the rules on epoch and since; the tests of
 * the base build their CHANGES with s_changes3. */
static void
s_recv(s_fix_t *fix, uint64_t peer, cs_msg_t msg)
{
    if (msg.type == CS_MSG_CHANGES && msg.base == BASE_AUTO) {
        cs_sync_peer_stats_t st;
        msg.base = 0;
        if (cs_sync_peer_stats(fix->sync, peer, &st) == CS_OK &&
            msg.epoch == st.cursor_epoch && st.cursor_base <= msg.since) {
            msg.base = st.cursor_base;
        }
    }
    if (msg.type == CS_MSG_CHANGES && msg.puller_epoch == PULLER_AUTO) {
        msg.puller_epoch = fix->fake.epoch;
    }
    cs_sync_on_message(fix->sync, peer, &msg, fix->now);
}

static cs_msg_t
s_notify(uint64_t epoch, uint64_t head)
{
    cs_msg_t msg = { .type = CS_MSG_NOTIFY, .epoch = epoch, .head = head };
    return msg;
}

static cs_msg_t
s_pull_msg(uint64_t epoch, uint64_t since, uint32_t max_bytes)
{
    cs_msg_t msg = { .type = CS_MSG_PULL,
                     .epoch = epoch,
                     .base = since,
                     .since = since,
                     .max_bytes = max_bytes,
                     .puller_epoch = EPOCH_P };
    return msg;
}

/* A CHANGES of @p n deltas (contents never looked at by cs_sync). */
static cs_msg_t
s_changes(uint64_t epoch, uint64_t since, uint64_t last_seq, uint64_t head,
          size_t n)
{
    static cs_msg_bytes_t table[DELTAS];
    assert_true(n <= DELTAS);
    for (size_t i = 0; i < n; i++) {
        table[i].data = (const uint8_t *) "delta";
        table[i].len = 5;
    }
    cs_msg_t msg = { .type = CS_MSG_CHANGES,
                     .epoch = epoch,
                     .base = BASE_AUTO,
                     .since = since,
                     .last_seq = last_seq,
                     .head = head,
                     .puller_epoch = PULLER_AUTO,
                     .n_deltas = n,
                     .deltas = n ? table : NULL };
    return msg;
}

/* A CHANGES with an explicit @p base. */
static cs_msg_t
s_changes3(uint64_t epoch, uint64_t base, uint64_t since, uint64_t last_seq,
           uint64_t head, size_t n)
{
    cs_msg_t msg = s_changes(epoch, since, last_seq, head, n);
    msg.base = base;
    return msg;
}

static cs_sync_peer_stats_t
s_stats(s_fix_t *fix, uint64_t peer)
{
    cs_sync_peer_stats_t st;
    assert_int_equal(cs_sync_peer_stats(fix->sync, peer, &st), CS_OK);
    return st;
}

/* A fixture whose fake is set up by @p prepare (may be NULL) before the
 * peers are added. */
static s_fix_t *
s_fix_new(void (*prepare)(s_fake_t *))
{
    s_fix_t *fix = calloc(1, sizeof *fix);
    assert_non_null(fix);
    fix->fake.epoch = EPOCH_US;
    if (prepare) {
        prepare(&fix->fake);
    }
    cs_sync_ops_t ops = s_ops(&fix->fake);
    fix->sync = cs_sync_new(&s_opts, &ops);
    assert_int_equal(cs_sync_peer_add(fix->sync, PEER), CS_OK);
    assert_int_equal(cs_sync_peer_add(fix->sync, OTHER), CS_OK);
    s_tick(fix, T0);
    s_expect_notify(fix, PEER, EPOCH_US, fix->fake.head);
    s_expect_notify(fix, OTHER, EPOCH_US, fix->fake.head);
    s_expect_none(fix);
    return fix;
}

static void
s_fix_destroy(s_fix_t **fix_p)
{
    cs_sync_destroy(&(*fix_p)->sync);
    assert_null((*fix_p)->sync);
    free(*fix_p);
    *fix_p = NULL;
}

static void
s_cursor_p5(s_fake_t *f)
{
    s_set_cursor(f, PEER, EPOCH_P, 5);
}

/* ---------------- notices and heartbeats ---------------- */

static void
test_sync_greets_every_peer_once(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL); /* the greeting is checked there */
    s_tick(fix, T0 + 1);
    s_tick(fix, T0 + HB - 1);
    s_expect_none(fix);
    assert_false(s_stats(fix, PEER).connected);
    assert_int_equal(s_stats(fix, PEER).last_contact, 0);
    assert_int_equal(s_stats(fix, PEER).msgs_out, 1);
    s_fix_destroy(&fix);
}

/* A greeting the transport could not take (no connection yet) is tried
 * again at each tick until it is, not a heartbeat later. */
static void
s_cannot_send(s_fake_t *f)
{
    f->send_rc = CS_EAGAIN;
}

static void
test_sync_greeting_not_taken_is_retried_each_tick(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cannot_send); /* greetings at T0, not taken */
    s_tick(fix, T0 + 10);
    s_expect_notify(fix, PEER, EPOCH_US, 0);
    s_expect_notify(fix, OTHER, EPOCH_US, 0);
    s_expect_none(fix);
    fix->fake.send_rc = CS_OK; /* connected */
    s_tick(fix, T0 + 20);
    s_expect_notify(fix, PEER, EPOCH_US, 0);
    s_expect_notify(fix, OTHER, EPOCH_US, 0);
    s_tick(fix, T0 + 30); /* taken: nothing more until the heartbeat */
    s_tick(fix, T0 + 20 + HB - 1);
    s_expect_none(fix);
    assert_int_equal(s_stats(fix, PEER).msgs_out, 1);
    s_fix_destroy(&fix);
}

static void
test_sync_notice_on_head_move(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    fix->fake.head = 5;
    s_tick(fix, T0 + 10);
    s_expect_notify(fix, PEER, EPOCH_US, 5);
    s_expect_notify(fix, OTHER, EPOCH_US, 5);
    s_expect_none(fix);
    s_tick(fix, T0 + 20); /* no move, no notice */
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_notices_coalesce_until_answered(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    fix->fake.head = 5;
    s_tick(fix, T0 + 10);
    s_expect_notify(fix, PEER, EPOCH_US, 5);
    s_expect_notify(fix, OTHER, EPOCH_US, 5);
    fix->fake.head = 6;
    s_tick(fix, T0 + 20);
    fix->fake.head = 7;
    s_tick(fix, T0 + 30);
    s_expect_none(fix); /* one notice unanswered at a time */
    /* PEER pulls: that answers the notice, and the CHANGES tells it 7 */
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 0, 1000));
    s_expect_changes(fix, PEER, 0, 7, 7);
    s_tick(fix, T0 + 40);
    s_expect_none(fix); /* PEER knows 7 already; OTHER's notice is open */
    fix->fake.head = 8;
    s_tick(fix, T0 + 50);
    s_expect_notify(fix, PEER, EPOCH_US, 8); /* answered: may notify */
    s_expect_none(fix);
    /* OTHER's notice is repeated when heartbeat_ms has passed since it */
    s_tick(fix, T0 + 10 + HB - 1);
    s_expect_none(fix);
    s_tick(fix, T0 + 10 + HB);
    s_expect_notify(fix, OTHER, EPOCH_US, 8);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_heartbeat_when_nothing_sent(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    /* PEER speaks at T0 + 500 and is pulled: a message to it */
    fix->now = T0 + 500;
    s_recv(fix, PEER, s_notify(EPOCH_P, 3));
    s_expect_pull(fix, PEER, EPOCH_P, 0, BATCH);
    s_tick(fix, T0 + HB - 1);
    s_expect_none(fix);
    s_tick(fix, T0 + HB); /* OTHER heard nothing for HB; PEER did */
    s_expect_notify(fix, OTHER, EPOCH_US, 0);
    s_expect_none(fix);
    s_tick(fix, T0 + 500 + HB);
    s_expect_notify(fix, PEER, EPOCH_US, 0);
    s_expect_none(fix);
    s_tick(fix, T0 + 2 * HB);
    s_expect_notify(fix, OTHER, EPOCH_US, 0);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_heartbeat_to_unreachable_peer(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    fix->fake.send_rc = CS_EAGAIN;
    /* one attempt per heartbeat, not one per tick */
    for (uint64_t t = T0 + 10; t < T0 + HB; t += 10) {
        s_tick(fix, t);
    }
    s_expect_none(fix);
    s_tick(fix, T0 + HB);
    s_expect_notify(fix, PEER, EPOCH_US, 0);
    s_expect_notify(fix, OTHER, EPOCH_US, 0);
    s_expect_none(fix);
    assert_int_equal(s_stats(fix, PEER).msgs_out, 1); /* the greeting */
    s_fix_destroy(&fix);
}

static void
test_sync_lost_notice_repeated_by_heartbeat(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    fix->fake.head = 4;
    s_tick(fix, T0 + 100);
    s_expect_notify(fix, PEER, EPOCH_US, 4);
    s_expect_notify(fix, OTHER, EPOCH_US, 4);
    /* both lost: nobody pulls */
    s_tick(fix, T0 + 100 + HB - 1);
    s_expect_none(fix);
    s_tick(fix, T0 + 100 + HB);
    s_expect_notify(fix, PEER, EPOCH_US, 4);
    s_expect_notify(fix, OTHER, EPOCH_US, 4);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_head_error_sends_nothing(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    fix->fake.head_rc = CS_EIO;
    s_tick(fix, T0 + 5 * HB);
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 0, 100));
    s_expect_none(fix);
    assert_int_equal(fix->fake.changes_calls, 0);
    fix->fake.head_rc = CS_OK;
    s_tick(fix, T0 + 5 * HB + 1);
    s_expect_notify(fix, PEER, EPOCH_US, 0);
    s_expect_notify(fix, OTHER, EPOCH_US, 0);
    s_fix_destroy(&fix);
}

/* ---------------- pulling ---------------- */

static void
test_sync_pull_on_notice(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    assert_int_equal(s_stats(fix, PEER).cursor_epoch, EPOCH_P);
    assert_int_equal(s_stats(fix, PEER).cursor_seq, 5);
    s_recv(fix, PEER, s_notify(EPOCH_P, 5)); /* not past the cursor */
    s_expect_none(fix);
    s_recv(fix, PEER, s_notify(EPOCH_P, 12));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_expect_none(fix);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_true(st.pull_in_flight);
    assert_true(st.connected);
    assert_int_equal(st.peer_head, 12);
    assert_int_equal(st.behind, 7);
    /* a peer with no cursor is pulled from 0 with its epoch */
    s_recv(fix, OTHER, s_notify(EPOCH_Q, 0));
    s_expect_pull(fix, OTHER, EPOCH_Q, 0, BATCH);
    s_fix_destroy(&fix);
}

static void
test_sync_notice_of_other_epoch_pulls_from_zero(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_notify(EPOCH_Q, 2)); /* head below our cursor */
    s_expect_pull(fix, PEER, EPOCH_Q, 0, BATCH);
    assert_int_equal(s_stats(fix, PEER).behind, 2);
    s_fix_destroy(&fix);
}

static void
test_sync_one_pull_in_flight(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    s_recv(fix, PEER, s_notify(EPOCH_P, 10));
    s_expect_pull(fix, PEER, EPOCH_P, 0, BATCH);
    s_recv(fix, PEER, s_notify(EPOCH_P, 12));
    s_recv(fix, PEER, s_notify(EPOCH_P, 12));
    s_tick(fix, T0 + 1);
    s_expect_none(fix);
    /* the answer covers 10; the notice of 12 was remembered */
    s_recv(fix, PEER, s_changes(EPOCH_P, 0, 10, 10, 3));
    assert_int_equal(fix->fake.apply_calls, 1);
    s_expect_pull(fix, PEER, EPOCH_P, 10, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 10, 12, 12, 2));
    assert_int_equal(fix->fake.apply_calls, 2);
    s_expect_none(fix);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_false(st.pull_in_flight);
    assert_int_equal(st.cursor_seq, 12);
    assert_int_equal(st.behind, 0);
    assert_int_equal(st.changes_in, 5);
    s_fix_destroy(&fix);
}

static void
test_sync_pulls_again_until_head(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    s_recv(fix, PEER, s_notify(EPOCH_P, 20));
    s_expect_pull(fix, PEER, EPOCH_P, 0, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 0, 5, 20, 5));
    assert_int_equal(fix->fake.apply_peer, PEER);
    assert_int_equal(fix->fake.applied.last_seq, 5);
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    /* the head moved on meanwhile: the CHANGES says so */
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 20, 25, 15));
    s_expect_pull(fix, PEER, EPOCH_P, 20, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 20, 25, 25, 5));
    s_expect_none(fix);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_false(st.pull_in_flight);
    assert_int_equal(st.cursor_epoch, EPOCH_P);
    assert_int_equal(st.cursor_seq, 25);
    assert_int_equal(st.peer_head, 25);
    assert_int_equal(st.changes_in, 25);
    assert_int_equal(st.stale, 0);
    s_fix_destroy(&fix);
}

static void
test_sync_stale_changes_dropped(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_changes(EPOCH_P, 3, 8, 8, 5)); /* since behind */
    s_recv(fix, PEER, s_changes(EPOCH_P, 6, 8, 8, 2)); /* since ahead */
    s_expect_none(fix);
    assert_int_equal(fix->fake.apply_calls, 0);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.stale, 2);
    assert_int_equal(st.cursor_seq, 5);
    assert_int_equal(st.msgs_in, 2);
    s_fix_destroy(&fix);
}

static void
test_sync_duplicate_changes_dropped(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_notify(EPOCH_P, 8));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 8, 8, 3));
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 8, 8, 3));
    assert_int_equal(fix->fake.apply_calls, 1);
    s_expect_none(fix);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.stale, 1);
    assert_int_equal(st.cursor_seq, 8);
    assert_int_equal(st.changes_in, 3);
    s_fix_destroy(&fix);
}

static void
test_sync_reordered_changes(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_notify(EPOCH_P, 20));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    /* the second batch arrives before the first: it is dropped */
    s_recv(fix, PEER, s_changes(EPOCH_P, 10, 20, 20, 10));
    assert_int_equal(fix->fake.apply_calls, 0);
    assert_int_equal(s_stats(fix, PEER).stale, 1);
    assert_true(s_stats(fix, PEER).pull_in_flight);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 10, 20, 5));
    assert_int_equal(fix->fake.apply_calls, 1);
    s_expect_pull(fix, PEER, EPOCH_P, 10, BATCH);
    /* now it continues the cursor (a duplicate, say) and is applied */
    s_recv(fix, PEER, s_changes(EPOCH_P, 10, 20, 20, 10));
    assert_int_equal(fix->fake.apply_calls, 2);
    s_expect_none(fix);
    assert_int_equal(s_stats(fix, PEER).cursor_seq, 20);
    s_fix_destroy(&fix);
}

static void
test_sync_changes_of_new_epoch_from_zero_restart(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_notify(EPOCH_Q, 3));
    s_expect_pull(fix, PEER, EPOCH_Q, 0, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_Q, 0, 3, 3, 3));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(fix->fake.applied.epoch, EPOCH_Q);
    s_expect_none(fix);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.cursor_epoch, EPOCH_Q);
    assert_int_equal(st.cursor_seq, 3);
    assert_int_equal(st.peer_epoch, EPOCH_Q);
    assert_false(st.pull_in_flight);
    /* the same answer again no longer continues the cursor */
    s_recv(fix, PEER, s_changes(EPOCH_Q, 0, 3, 3, 3));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(s_stats(fix, PEER).stale, 1);
    s_fix_destroy(&fix);
}

static void
test_sync_changes_of_new_epoch_not_from_zero_dropped(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_changes(EPOCH_Q, 5, 9, 9, 4));
    s_recv(fix, PEER, s_changes(EPOCH_Q, 1, 9, 9, 4));
    assert_int_equal(fix->fake.apply_calls, 0);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.stale, 2);
    assert_int_equal(st.cursor_epoch, EPOCH_P);
    assert_int_equal(st.cursor_seq, 5);
    s_fix_destroy(&fix);
}

/* A CHANGES served for another epoch of ours (we were restored since the
 * pull, say) may lack what we lost: it is stale, and ends the pull it
 * answers. */
static void
test_sync_changes_for_another_epoch_of_ours_dropped(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_notify(EPOCH_P, 8));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    cs_msg_t changes = s_changes(EPOCH_P, 5, 8, 8, 3);
    changes.puller_epoch = EPOCH_NEW;
    s_recv(fix, PEER, changes);
    assert_int_equal(fix->fake.apply_calls, 0);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.stale, 1);
    assert_int_equal(st.cursor_seq, 5);
    assert_false(st.pull_in_flight);
    s_expect_none(fix);
    /* the same batch served for our epoch is applied */
    s_recv(fix, PEER, s_notify(EPOCH_P, 8));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 8, 8, 3));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(s_stats(fix, PEER).cursor_seq, 8);
    s_fix_destroy(&fix);
}

/* After a renewal our cursors start again at 0, and pulls say our new
 * epoch: what peers left out for us as echo may be what we lost. */
static void
test_sync_renewal_restarts_our_cursors(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    fix->fake.head = 30;
    s_recv(fix, OTHER, s_pull_msg(EPOCH_US, 40, 100));
    assert_int_equal(fix->fake.renew_calls, 1);
    assert_int_equal(fix->fake.epoch, EPOCH_NEW);
    s_expect_changes(fix, OTHER, 0, 10, 30);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.cursor_epoch, 0);
    assert_int_equal(st.cursor_seq, 0);
    s_recv(fix, PEER, s_notify(EPOCH_P, 5));
    s_expect_pull3(fix, PEER, EPOCH_P, 0, 0); /* checks EPOCH_NEW in it */
    s_recv(fix, PEER, s_changes(EPOCH_P, 0, 5, 5, 5));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(fix->fake.next.seq, 5);
    s_fix_destroy(&fix);
}

static void
test_sync_changes_without_pull_applied(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    /* say the late answer to a pull that timed out */
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 7, 7, 2));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(s_stats(fix, PEER).cursor_seq, 7);
    s_expect_none(fix);
    /* and if it is not the end, we go on pulling */
    s_recv(fix, PEER, s_changes(EPOCH_P, 7, 9, 30, 2));
    s_expect_pull(fix, PEER, EPOCH_P, 9, BATCH);
    s_fix_destroy(&fix);
}

static void
test_sync_changes_with_nothing_new_skip_apply(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 5, 5, 0));
    assert_int_equal(fix->fake.apply_calls, 0);
    assert_int_equal(s_stats(fix, PEER).stale, 0);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

/* With more to come, the next PULL goes out before the batch is applied:
 * the peer reads the next batch while we write this one. */
static void
test_sync_pulls_next_batch_before_applying(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_notify(EPOCH_P, 20));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 9, 20, 4));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(fix->fake.sent_at_apply, fix->fake.n_sent);
    s_expect_pull3(fix, PEER, EPOCH_P, 5, 9);
    s_expect_none(fix); /* one pull in flight, not two */
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.cursor_seq, 9);
    assert_true(st.pull_in_flight);
    /* a notice meanwhile sends nothing more */
    s_recv(fix, PEER, s_notify(EPOCH_P, 20));
    s_expect_none(fix);
    /* the last batch: nothing ahead, the pull is over */
    s_recv(fix, PEER, s_changes(EPOCH_P, 9, 20, 20, 4));
    assert_int_equal(fix->fake.apply_calls, 2);
    s_expect_none(fix);
    st = s_stats(fix, PEER);
    assert_int_equal(st.cursor_seq, 20);
    assert_int_equal(st.cursor_base, 20);
    assert_false(st.pull_in_flight);
    s_fix_destroy(&fix);
}

/* A batch that fails after the next PULL went out: the cursor stays, the
 * answer to that PULL is stale and ends the pull, and the next notice
 * pulls again from the cursor. */
static void
test_sync_apply_error_after_pull_ahead(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    fix->fake.apply_rc = CS_EFULL;
    s_recv(fix, PEER, s_notify(EPOCH_P, 20));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 9, 20, 4));
    s_expect_pull3(fix, PEER, EPOCH_P, 5, 9);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.apply_errors, 1);
    assert_int_equal(st.cursor_seq, 5);
    assert_true(st.pull_in_flight); /* the one ahead */
    s_recv(fix, PEER, s_notify(EPOCH_P, 20));
    s_expect_none(fix);
    s_recv(fix, PEER, s_changes(EPOCH_P, 9, 14, 20, 4));
    assert_int_equal(fix->fake.apply_calls, 1);
    st = s_stats(fix, PEER);
    assert_int_equal(st.stale, 1);
    assert_int_equal(st.cursor_seq, 5);
    assert_false(st.pull_in_flight);
    s_expect_none(fix);
    fix->fake.apply_rc = CS_OK;
    s_recv(fix, PEER, s_notify(EPOCH_P, 20));
    s_expect_pull3(fix, PEER, EPOCH_P, 5, 5);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 20, 20, 4));
    assert_int_equal(s_stats(fix, PEER).cursor_seq, 20);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_apply_error_keeps_cursor(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    fix->fake.apply_rc = CS_EFULL;
    s_recv(fix, PEER, s_notify(EPOCH_P, 9));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 9, 9, 4));
    s_expect_none(fix); /* no retry at once */
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.apply_errors, 1);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.cursor_seq, 5);
    assert_int_equal(st.changes_in, 0);
    assert_false(st.pull_in_flight);
    /* a bad delta counts as rejected */
    fix->fake.apply_rc = CS_EPROTO;
    s_recv(fix, PEER, s_notify(EPOCH_P, 9));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 9, 9, 4));
    st = s_stats(fix, PEER);
    assert_int_equal(st.apply_errors, 1);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.cursor_seq, 5);
    /* the next notice retries from the same cursor, and it works */
    fix->fake.apply_rc = CS_OK;
    s_recv(fix, PEER, s_notify(EPOCH_P, 9));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 9, 9, 4));
    assert_int_equal(s_stats(fix, PEER).cursor_seq, 9);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_apply_counts_reach_stats(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    fix->fake.apply_res.records_changed = 3;
    fix->fake.apply_res.skewed = 2;
    fix->fake.apply_res.refused = 1;
    s_recv(fix, PEER, s_changes(EPOCH_P, 0, 4, 4, 4));
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.changes_in, 3); /* the refused one is not */
    assert_int_equal(st.records_changed, 3);
    assert_int_equal(st.skewed, 2);
    assert_int_equal(st.refused, 1);
    s_fix_destroy(&fix);
}

static void
test_sync_failed_pull_send_is_not_in_flight(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    fix->fake.send_rc = CS_EAGAIN;
    s_recv(fix, PEER, s_notify(EPOCH_P, 3));
    s_expect_pull(fix, PEER, EPOCH_P, 0, BATCH);
    assert_false(s_stats(fix, PEER).pull_in_flight);
    s_recv(fix, PEER, s_notify(EPOCH_P, 3)); /* so the next notice pulls */
    s_expect_pull(fix, PEER, EPOCH_P, 0, BATCH);
    fix->fake.send_rc = CS_OK;
    s_recv(fix, PEER, s_notify(EPOCH_P, 3));
    s_expect_pull(fix, PEER, EPOCH_P, 0, BATCH);
    assert_true(s_stats(fix, PEER).pull_in_flight);
    s_recv(fix, PEER, s_notify(EPOCH_P, 3));
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

/* ---------------- timers ---------------- */

/* Keep PEER connected: a notice of nothing new every second, from @p from
 * to @p to, with our ticks in between; returns the PULLs sent to PEER and
 * skips the heartbeats. */
static size_t
s_idle(s_fix_t *fix, uint64_t from, uint64_t to, uint64_t peer_head)
{
    size_t pulls = 0;
    for (uint64_t t = from; t < to; t += 100) {
        s_tick(fix, t);
        if ((t - from) % 1000 == 0) {
            s_recv(fix, PEER, s_notify(EPOCH_P, peer_head));
        }
        while (fix->fake.n_read < fix->fake.n_sent) {
            const s_sent_t *s = s_next(fix);
            if (s->msg.type == CS_MSG_PULL) {
                assert_int_equal(s->peer, PEER);
                pulls++;
            } else {
                assert_int_equal(s->msg.type, CS_MSG_NOTIFY);
            }
        }
    }
    return pulls;
}

static void
test_sync_pull_timeout_forgets_the_pull(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    fix->now = T0 + 100;
    s_recv(fix, PEER, s_notify(EPOCH_P, 9));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    /* its notices keep coming but the pull is in flight */
    assert_int_equal(s_idle(fix, T0 + 200, T0 + 100 + PULL_TO, 9), 0);
    assert_true(s_stats(fix, PEER).pull_in_flight);
    s_tick(fix, T0 + 100 + PULL_TO - 1);
    assert_true(s_stats(fix, PEER).pull_in_flight);
    s_tick(fix, T0 + 100 + PULL_TO);
    assert_false(s_stats(fix, PEER).pull_in_flight);
    s_skip_notices(fix);
    s_expect_none(fix); /* the timeout itself sends nothing */
    s_recv(fix, PEER, s_notify(EPOCH_P, 9));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_fix_destroy(&fix);
}

static void
test_sync_anti_entropy_repairs_lost_notice(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    fix->now = T0 + 100;
    /* PEER's heartbeats say 5, as our cursor: its notice of 6 was lost */
    assert_int_equal(s_idle(fix, T0 + 100, T0 + 100 + AE, 5), 0);
    s_tick(fix, T0 + 100 + AE);
    s_skip_notices(fix);
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_skip_notices(fix);
    s_expect_none(fix);
    /* OTHER never spoke: not connected, so never pulled by the timer */
    assert_int_equal(s_stats(fix, OTHER).pull_in_flight, false);
    s_recv(fix, PEER, s_changes(EPOCH_P, 5, 6, 6, 1));
    assert_int_equal(s_stats(fix, PEER).cursor_seq, 6);
    /* the timer counts from the last pull */
    assert_int_equal(s_idle(fix, T0 + 200 + AE, T0 + 100 + 2 * AE, 6), 0);
    s_tick(fix, T0 + 100 + 2 * AE);
    size_t pulls = 0;
    while (fix->fake.n_read < fix->fake.n_sent) {
        pulls += s_next(fix)->msg.type == CS_MSG_PULL;
    }
    assert_int_equal(pulls, 1);
    s_fix_destroy(&fix);
}

static void
test_sync_peer_timeout_marks_down(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    fix->now = T0 + 100;
    s_recv(fix, PEER, s_notify(EPOCH_P, 9));
    s_expect_pull(fix, PEER, EPOCH_P, 0, BATCH);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_true(st.connected);
    assert_int_equal(st.last_contact, T0 + 100);
    for (uint64_t t = T0 + 200; t <= T0 + PEER_TO; t += 100) {
        s_tick(fix, t);
    }
    s_tick(fix, T0 + 100 + PEER_TO - 1);
    assert_true(s_stats(fix, PEER).connected);
    s_tick(fix, T0 + 100 + PEER_TO);
    st = s_stats(fix, PEER);
    assert_false(st.connected);
    assert_false(st.pull_in_flight);
    assert_int_equal(st.last_contact, T0 + 100);
    /* a down peer is still sent heartbeats, and pulled when it speaks */
    size_t notices = 0;
    while (fix->fake.n_read < fix->fake.n_sent) {
        const s_sent_t *s = s_next(fix);
        assert_int_equal(s->msg.type, CS_MSG_NOTIFY);
        notices += s->peer == PEER;
    }
    assert_int_equal(notices, PEER_TO / HB);
    s_recv(fix, PEER, s_notify(EPOCH_P, 9));
    s_expect_pull(fix, PEER, EPOCH_P, 0, BATCH);
    assert_true(s_stats(fix, PEER).connected);
    s_fix_destroy(&fix);
}

/* ---------------- peers ---------------- */

static void
test_sync_unknown_peer_counted(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    s_recv(fix, STRANGER, s_notify(EPOCH_P, 9));
    s_recv(fix, STRANGER, s_pull_msg(EPOCH_US, 0, 100));
    s_recv(fix, STRANGER, s_changes(EPOCH_P, 0, 1, 1, 1));
    cs_sync_reject(fix->sync, STRANGER);
    assert_int_equal(cs_sync_unknown(fix->sync), 4);
    s_expect_none(fix);
    assert_int_equal(fix->fake.apply_calls, 0);
    assert_int_equal(fix->fake.changes_calls, 0);
    cs_sync_peer_stats_t st;
    assert_int_equal(cs_sync_peer_stats(fix->sync, STRANGER, &st), CS_ENOENT);
    /* an undecodable frame from a known peer counts in its stats */
    cs_sync_reject(fix->sync, PEER);
    assert_int_equal(s_stats(fix, PEER).rejected, 1);
    assert_int_equal(cs_sync_unknown(fix->sync), 4);
    s_fix_destroy(&fix);
}

static void
test_sync_peer_remove_stops_traffic(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(NULL);
    assert_int_equal(cs_sync_peer_add(fix->sync, PEER), CS_EEXIST);
    cs_sync_peer_remove(fix->sync, PEER);
    cs_sync_peer_remove(fix->sync, STRANGER); /* no-op */
    fix->fake.head = 3;
    s_tick(fix, T0 + 10);
    s_expect_notify(fix, OTHER, EPOCH_US, 3);
    s_expect_none(fix);
    s_recv(fix, PEER, s_notify(EPOCH_P, 9));
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 0, 100));
    s_expect_none(fix);
    assert_int_equal(cs_sync_unknown(fix->sync), 2);
    cs_sync_peer_stats_t st;
    assert_int_equal(cs_sync_peer_stats(fix->sync, PEER, &st), CS_ENOENT);
    s_tick(fix, T0 + 10 * HB);
    s_expect_notify(fix, OTHER, EPOCH_US, 3);
    s_expect_none(fix);
    /* added again, it starts afresh */
    assert_int_equal(cs_sync_peer_add(fix->sync, PEER), CS_OK);
    assert_int_equal(s_stats(fix, PEER).msgs_in, 0);
    s_tick(fix, T0 + 10 * HB + 1);
    s_expect_notify(fix, PEER, EPOCH_US, 3);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_peer_add_reports_cursor_error(void **state)
{
    (void) state;
    s_fake_t fake = { .epoch = EPOCH_US, .cursor_rc = CS_EIO };
    cs_sync_ops_t ops = s_ops(&fake);
    cs_sync_t *sync = cs_sync_new(NULL, &ops);
    assert_int_equal(cs_sync_peer_add(sync, PEER), CS_EIO);
    cs_sync_peer_stats_t st;
    assert_int_equal(cs_sync_peer_stats(sync, PEER, &st), CS_ENOENT);
    cs_sync_on_tick(sync, T0);
    assert_int_equal(fake.n_sent, 0);
    cs_sync_destroy(&sync);
    cs_sync_destroy(&sync); /* safe on NULL */
}

static void
test_sync_many_peers(void **state)
{
    (void) state;
    s_fake_t *fake = calloc(1, sizeof *fake);
    assert_non_null(fake);
    fake->epoch = EPOCH_US;
    cs_sync_ops_t ops = s_ops(fake);
    cs_sync_t *sync = cs_sync_new(&s_opts, &ops);
    /* 300 ids in a scrambled order */
    for (uint64_t i = 0; i < 300; i++) {
        uint64_t id = (i * 7919) % 300 + 100;
        assert_int_equal(cs_sync_peer_add(sync, id), CS_OK);
    }
    for (uint64_t id = 100; id < 400; id += 2) {
        cs_sync_peer_remove(sync, id);
    }
    for (uint64_t id = 90; id < 410; id++) {
        cs_sync_peer_stats_t st;
        bool present = id >= 100 && id < 400 && id % 2 == 1;
        assert_int_equal(cs_sync_peer_stats(sync, id, &st),
                         present ? CS_OK : CS_ENOENT);
    }
    for (uint64_t id = 101; id < 400; id += 2) {
        cs_msg_t msg = s_notify(EPOCH_P, 0);
        cs_sync_on_message(sync, id, &msg, T0);
        cs_sync_peer_stats_t st;
        assert_int_equal(cs_sync_peer_stats(sync, id, &st), CS_OK);
        assert_int_equal(st.msgs_in, 1);
        assert_int_equal(st.peer_epoch, EPOCH_P);
    }
    assert_int_equal(cs_sync_unknown(sync), 0);
    cs_sync_destroy(&sync);
    free(fake);
}

/* ---------------- serving ---------------- */

static void
s_head_30(s_fake_t *f)
{
    f->head = 30;
}

static void
test_sync_serves_pull_from_since(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_head_30);
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 10, 100));
    assert_int_equal(fix->fake.changes_since, 10);
    assert_int_equal(fix->fake.changes_max, 100);
    s_expect_changes(fix, PEER, 10, 20, 30);
    s_expect_none(fix);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.changes_out, 10);
    assert_int_equal(st.msgs_out, 2);
    assert_int_equal(st.msgs_in, 1);
    s_fix_destroy(&fix);
}

static void
test_sync_serves_other_epoch_from_zero(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_head_30);
    s_recv(fix, PEER, s_pull_msg(EPOCH_P, 10, 100));
    assert_int_equal(fix->fake.changes_since, 0);
    s_expect_changes(fix, PEER, 0, 10, 30);
    s_recv(fix, OTHER, s_pull_msg(0, 0, 100)); /* no cursor yet */
    assert_int_equal(fix->fake.changes_since, 0);
    s_expect_changes(fix, OTHER, 0, 10, 30);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

/* ---------------- the base of a catch-up ---------------- */

static void
test_sync_catch_up_keeps_base_until_head(void **state)
{
    (void) state;
    /* A record changed at seq 5 (field f) and at seq 100 (field g) is in
     * the feed at 100 only: not in the batch (0, 50]. The batch after it
     * must carry what changed after 0, not after 50, or f is lost: the
     * pull asks for base 0 until the catch-up reaches the head. */
    s_fix_t *fix = s_fix_new(NULL);
    s_recv(fix, PEER, s_notify(EPOCH_P, 100));
    s_expect_pull3(fix, PEER, EPOCH_P, 0, 0);
    s_recv(fix, PEER, s_changes3(EPOCH_P, 0, 0, 50, 100, 5));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(fix->fake.next.epoch, EPOCH_P);
    assert_int_equal(fix->fake.next.base, 0);
    assert_int_equal(fix->fake.next.seq, 50);
    s_expect_pull3(fix, PEER, EPOCH_P, 0, 50);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.cursor_base, 0);
    assert_int_equal(st.cursor_seq, 50);
    /* an answer that skipped base (deltas after 50 only) is refused */
    s_recv(fix, PEER, s_changes3(EPOCH_P, 50, 50, 100, 100, 5));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(s_stats(fix, PEER).stale, 1);
    /* the right one reaches the head: the catch-up is over */
    s_recv(fix, PEER, s_changes3(EPOCH_P, 0, 50, 100, 100, 5));
    assert_int_equal(fix->fake.apply_calls, 2);
    assert_int_equal(fix->fake.next.base, 100);
    assert_int_equal(fix->fake.next.seq, 100);
    s_expect_none(fix);
    st = s_stats(fix, PEER);
    assert_false(st.pull_in_flight);
    assert_int_equal(st.cursor_base, 100);
    assert_int_equal(st.cursor_seq, 100);
    /* the next catch-up starts from there */
    s_recv(fix, PEER, s_notify(EPOCH_P, 120));
    s_expect_pull3(fix, PEER, EPOCH_P, 100, 100);
    s_fix_destroy(&fix);
}

static void
s_cursor_mid_catch_up(s_fake_t *f)
{
    s_set_cursor3(f, PEER, EPOCH_P, 20, 40);
}

static void
test_sync_stored_base_is_pulled_and_kept(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_mid_catch_up);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.cursor_epoch, EPOCH_P);
    assert_int_equal(st.cursor_base, 20);
    assert_int_equal(st.cursor_seq, 40);
    s_recv(fix, PEER, s_notify(EPOCH_P, 90));
    s_expect_pull3(fix, PEER, EPOCH_P, 20, 40);
    /* stale: another base with the right since, or base 0 and since 0 of
     * our own epoch */
    s_recv(fix, PEER, s_changes3(EPOCH_P, 40, 40, 60, 90, 2));
    s_recv(fix, PEER, s_changes3(EPOCH_P, 0, 40, 60, 90, 2));
    s_recv(fix, PEER, s_changes3(EPOCH_P, 0, 0, 60, 90, 2));
    assert_int_equal(fix->fake.apply_calls, 0);
    assert_int_equal(s_stats(fix, PEER).stale, 3);
    s_recv(fix, PEER, s_changes3(EPOCH_P, 20, 40, 60, 90, 2));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(fix->fake.next.base, 20);
    assert_int_equal(fix->fake.next.seq, 60);
    s_expect_pull3(fix, PEER, EPOCH_P, 20, 60);
    s_fix_destroy(&fix);
}

static void
test_sync_epoch_change_resets_base(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_mid_catch_up);
    s_recv(fix, PEER, s_notify(EPOCH_Q, 10)); /* wiped and written again */
    s_expect_pull3(fix, PEER, EPOCH_Q, 0, 0);
    /* of the new epoch, only base 0 and since 0 start again */
    s_recv(fix, PEER, s_changes3(EPOCH_Q, 20, 40, 45, 50, 2));
    s_recv(fix, PEER, s_changes3(EPOCH_Q, 0, 3, 5, 10, 2));
    assert_int_equal(fix->fake.apply_calls, 0);
    assert_int_equal(s_stats(fix, PEER).stale, 2);
    s_recv(fix, PEER, s_changes3(EPOCH_Q, 0, 0, 5, 10, 2));
    assert_int_equal(fix->fake.apply_calls, 1);
    assert_int_equal(fix->fake.next.epoch, EPOCH_Q);
    assert_int_equal(fix->fake.next.base, 0);
    assert_int_equal(fix->fake.next.seq, 5);
    s_expect_pull3(fix, PEER, EPOCH_Q, 0, 5);
    s_recv(fix, PEER, s_changes3(EPOCH_Q, 0, 5, 10, 10, 2));
    assert_int_equal(fix->fake.next.base, 10);
    cs_sync_peer_stats_t st = s_stats(fix, PEER);
    assert_int_equal(st.cursor_epoch, EPOCH_Q);
    assert_int_equal(st.cursor_base, 10);
    assert_int_equal(st.cursor_seq, 10);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_serves_pull_from_its_base(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_head_30);
    cs_msg_t pull = s_pull_msg(EPOCH_US, 10, 100);
    pull.base = 4;
    s_recv(fix, PEER, pull);
    assert_int_equal(fix->fake.changes_base, 4);
    assert_int_equal(fix->fake.changes_since, 10);
    const s_sent_t *sent = s_next(fix);
    assert_int_equal(sent->msg.type, CS_MSG_CHANGES);
    assert_int_equal(sent->msg.base, 4);
    assert_int_equal(sent->msg.since, 10);
    /* another epoch: base 0, since 0 */
    pull.epoch = EPOCH_P;
    s_recv(fix, PEER, pull);
    assert_int_equal(fix->fake.changes_base, 0);
    assert_int_equal(fix->fake.changes_since, 0);
    s_fix_destroy(&fix);
}

/* A pull of our epoch from past our head: our store went back in time
 * (restored from an older copy). A new epoch, served from 0. */
static void
test_sync_pull_past_head_renews_epoch(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_head_30);
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 30, 100)); /* at the head: fine */
    assert_int_equal(fix->fake.renew_calls, 0);
    s_expect_changes(fix, PEER, 30, 30, 30);
    fix->fake.renew_rc = CS_EIO; /* cannot renew: no answer */
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 31, 100));
    assert_int_equal(fix->fake.renew_calls, 1);
    s_expect_none(fix);
    assert_int_equal(fix->fake.epoch, EPOCH_US);
    fix->fake.renew_rc = CS_OK;
    cs_msg_t pull = s_pull_msg(EPOCH_US, 40, 100);
    pull.base = 35;
    s_recv(fix, PEER, pull);
    assert_int_equal(fix->fake.renew_calls, 2);
    assert_int_equal(fix->fake.changes_base, 0);
    s_expect_changes(fix, PEER, 0, 10, 30); /* fake.epoch is EPOCH_NEW */
    assert_int_equal(fix->fake.epoch, EPOCH_NEW);
    /* the old epoch is now another one's: served from 0, no renewal */
    s_recv(fix, OTHER, s_pull_msg(EPOCH_US, 40, 100));
    assert_int_equal(fix->fake.renew_calls, 2);
    s_expect_changes(fix, OTHER, 0, 10, 30);
    s_fix_destroy(&fix);
}

/* A notice of our cursor's epoch behind our cursor: pull at once, so that
 * the peer sees that its feed went back. */
static void
test_sync_notice_behind_cursor_pulls(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_cursor_p5);
    s_recv(fix, PEER, s_notify(EPOCH_P, 3));
    s_expect_pull(fix, PEER, EPOCH_P, 5, BATCH);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_serves_at_most_batch_bytes(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_head_30);
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 0, 8u << 20));
    assert_int_equal(fix->fake.changes_max, BATCH);
    s_expect_changes(fix, PEER, 0, BATCH / PER_SEQ < 30 ? BATCH / PER_SEQ : 30,
                     30);
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 0, 50));
    assert_int_equal(fix->fake.changes_max, 50);
    s_expect_changes(fix, PEER, 0, 5, 30);
    s_fix_destroy(&fix);
}

static void
test_sync_changes_error_sends_nothing(void **state)
{
    (void) state;
    s_fix_t *fix = s_fix_new(s_head_30);
    fix->fake.changes_rc = CS_EIO;
    s_recv(fix, PEER, s_pull_msg(EPOCH_US, 0, 100));
    assert_int_equal(fix->fake.changes_calls, 1);
    s_expect_none(fix);
    s_fix_destroy(&fix);
}

static void
test_sync_batch_bytes_default_and_cap(void **state)
{
    (void) state;
    s_fake_t fake = { .epoch = EPOCH_US };
    cs_sync_ops_t ops = s_ops(&fake);
    cs_sync_t *sync = cs_sync_new(NULL, &ops);
    assert_int_equal(cs_sync_peer_add(sync, PEER), CS_OK);
    cs_msg_t msg = s_notify(EPOCH_P, 1);
    cs_sync_on_message(sync, PEER, &msg, T0);
    assert_int_equal(fake.n_sent, 1);
    assert_int_equal(fake.sent[0].msg.type, CS_MSG_PULL);
    assert_int_equal(fake.sent[0].msg.max_bytes, 4u << 20);
    cs_sync_destroy(&sync);

    cs_sync_opts_t big = { .batch_bytes = 16u << 20 };
    sync = cs_sync_new(&big, &ops);
    assert_int_equal(cs_sync_peer_add(sync, PEER), CS_OK);
    cs_sync_on_message(sync, PEER, &msg, T0);
    assert_int_equal(fake.n_sent, 2);
    assert_int_equal(fake.sent[1].msg.max_bytes, CS_MSG_BATCH_MAX);
    cs_sync_destroy(&sync);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_greets_every_peer_once),
        cmocka_unit_test(test_sync_greeting_not_taken_is_retried_each_tick),
        cmocka_unit_test(test_sync_notice_on_head_move),
        cmocka_unit_test(test_sync_notices_coalesce_until_answered),
        cmocka_unit_test(test_sync_heartbeat_when_nothing_sent),
        cmocka_unit_test(test_sync_heartbeat_to_unreachable_peer),
        cmocka_unit_test(test_sync_lost_notice_repeated_by_heartbeat),
        cmocka_unit_test(test_sync_head_error_sends_nothing),
        cmocka_unit_test(test_sync_pull_on_notice),
        cmocka_unit_test(test_sync_notice_of_other_epoch_pulls_from_zero),
        cmocka_unit_test(test_sync_one_pull_in_flight),
        cmocka_unit_test(test_sync_pulls_again_until_head),
        cmocka_unit_test(test_sync_stale_changes_dropped),
        cmocka_unit_test(test_sync_duplicate_changes_dropped),
        cmocka_unit_test(test_sync_reordered_changes),
        cmocka_unit_test(test_sync_changes_of_new_epoch_from_zero_restart),
        cmocka_unit_test(test_sync_changes_of_new_epoch_not_from_zero_dropped),
        cmocka_unit_test(test_sync_catch_up_keeps_base_until_head),
        cmocka_unit_test(test_sync_stored_base_is_pulled_and_kept),
        cmocka_unit_test(test_sync_epoch_change_resets_base),
        cmocka_unit_test(test_sync_serves_pull_from_its_base),
        cmocka_unit_test(test_sync_pull_past_head_renews_epoch),
        cmocka_unit_test(test_sync_changes_for_another_epoch_of_ours_dropped),
        cmocka_unit_test(test_sync_renewal_restarts_our_cursors),
        cmocka_unit_test(test_sync_notice_behind_cursor_pulls),
        cmocka_unit_test(test_sync_changes_without_pull_applied),
        cmocka_unit_test(test_sync_changes_with_nothing_new_skip_apply),
        cmocka_unit_test(test_sync_apply_error_keeps_cursor),
        cmocka_unit_test(test_sync_pulls_next_batch_before_applying),
        cmocka_unit_test(test_sync_apply_error_after_pull_ahead),
        cmocka_unit_test(test_sync_apply_counts_reach_stats),
        cmocka_unit_test(test_sync_failed_pull_send_is_not_in_flight),
        cmocka_unit_test(test_sync_pull_timeout_forgets_the_pull),
        cmocka_unit_test(test_sync_anti_entropy_repairs_lost_notice),
        cmocka_unit_test(test_sync_peer_timeout_marks_down),
        cmocka_unit_test(test_sync_unknown_peer_counted),
        cmocka_unit_test(test_sync_peer_remove_stops_traffic),
        cmocka_unit_test(test_sync_peer_add_reports_cursor_error),
        cmocka_unit_test(test_sync_many_peers),
        cmocka_unit_test(test_sync_serves_pull_from_since),
        cmocka_unit_test(test_sync_serves_other_epoch_from_zero),
        cmocka_unit_test(test_sync_serves_at_most_batch_bytes),
        cmocka_unit_test(test_sync_changes_error_sends_nothing),
        cmocka_unit_test(test_sync_batch_bytes_default_and_cap),
    };
    return cmocka_run_group_tests_name("net/cs_sync", tests, NULL, NULL);
}
