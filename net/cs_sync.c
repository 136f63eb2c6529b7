/*  cs_sync - the sync protocol as a pure state machine.
 *  SPDX-License-Identifier: MIT
 *
 *  The peers live in one array sorted by node id (binary search): a few
 *  hundred at most, added and removed rarely, looked up on every message.
 *  Nothing is allocated per message; the time is whatever the caller says.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "net/cs_sync.h"

#define S_HEARTBEAT_MS_DEFAULT    1000u
#define S_PEER_TIMEOUT_MS_DEFAULT 5000u
#define S_PULL_TIMEOUT_MS_DEFAULT 10000u
#define S_ANTI_ENTROPY_MS_DEFAULT 30000u
#define S_BATCH_BYTES_DEFAULT     (4u << 20)

/* What we know about one peer. */
typedef struct {
    uint64_t id;                /* its node id (the sort key) */
    cs_sync_cursor_t cursor;    /* our cursor on it */
    uint64_t peer_epoch;        /* its epoch, as last told (0: never) */
    uint64_t peer_head;         /* its feed head, as last told */
    bool pulling;               /* a PULL to it is unanswered */
    cs_sync_cursor_t pull_from; /* the cursor that PULL asked from */
    uint64_t pull_sent;         /* when that PULL was sent */
    uint64_t ae_from;           /* anti-entropy counts from here: the last pull
                                   sent or the last (re)connection */
    bool notice_open;           /* a NOTIFY of a moved head is unanswered */
    uint64_t notice_sent;       /* when that NOTIFY was sent */
    uint64_t told_epoch;        /* the epoch it was last told */
    uint64_t told_head;         /* the head it was last told */
    bool greeted;               /* sent its first NOTIFY */
    uint64_t last_sent;         /* when the last message to it was sent */
    bool connected;             /* heard from within peer_timeout_ms */
    uint64_t last_contact;      /* when it last spoke (0: never) */
    cs_sync_peer_stats_t stats; /* the counters; the rest is derived */
} s_peer_t;

struct cs_sync {
    cs_sync_opts_t opts; /* with the defaults filled in */
    cs_sync_ops_t ops;   /* the outside world */
    s_peer_t *peers;     /* sorted by id */
    size_t n_peers;      /* used */
    size_t cap_peers;    /* allocated */
    uint64_t unknown;    /* messages from peers not added */
    uint64_t epoch;      /* ours, from the last tick or renewal (0: unknown) */
};

/* ---------------- helpers ---------------- */

/*  Milliseconds from @p then to @p now; 0 if the clock went back. */
static uint64_t
s_since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

static int
s_peer_order(const void *key, const void *elem)
{
    uint64_t id = *(const uint64_t *) key;
    uint64_t other = ((const s_peer_t *) elem)->id;
    return (id > other) - (id < other);
}

/*  The peer @p id, or NULL. */
static s_peer_t *
s_find(const cs_sync_t *self, uint64_t id)
{
    if (self->n_peers == 0) {
        return NULL;
    }
    return bsearch(&id, self->peers, self->n_peers, sizeof *self->peers,
                   s_peer_order);
}

/*  Hand @p msg to the transport for @p p. A failed send is a lost message:
 *  it still counts as sent for the timers. */
static int
s_send(cs_sync_t *self, s_peer_t *p, const cs_msg_t *msg, uint64_t now)
{
    int rc = self->ops.send(self->ops.arg, p->id, msg);
    p->last_sent = now;
    if (rc == CS_OK) {
        p->stats.msgs_out++;
    }
    return rc;
}

/*  Our epoch: as the last tick or renewal left it (it changes only through
 *  ops->renew_epoch), read through ops->head only until it is known (a
 *  message before the first tick). */
static uint64_t
s_our_epoch(cs_sync_t *self)
{
    uint64_t epoch = 0, head = 0;
    if (self->epoch == 0 &&
        self->ops.head(self->ops.arg, &epoch, &head) == CS_OK) {
        self->epoch = epoch;
    }
    return self->epoch;
}

/*  Ask @p p for its changes after cursor @p from. */
static void
s_pull(cs_sync_t *self, s_peer_t *p, cs_sync_cursor_t from, uint64_t now)
{
    cs_msg_t msg = { .type = CS_MSG_PULL,
                     .epoch = from.epoch,
                     .base = from.base,
                     .since = from.seq,
                     .max_bytes = self->opts.batch_bytes,
                     .puller_epoch = s_our_epoch(self) };
    int rc = s_send(self, p, &msg, now);
    p->ae_from = now;
    p->pulling = rc == CS_OK;
    p->pull_from = from;
    p->pull_sent = now;
}

/*  Tell @p p our (@p epoch, @p head). @return whether it was handed to
 *  the transport (if not, the next heartbeat repeats it). */
static bool
s_notify(cs_sync_t *self, s_peer_t *p, uint64_t epoch, uint64_t head,
         uint64_t now)
{
    cs_msg_t msg = { .type = CS_MSG_NOTIFY, .epoch = epoch, .head = head };
    return s_send(self, p, &msg, now) == CS_OK;
}

/*  Remember that @p p was told (@p epoch, @p head). */
static void
s_told(s_peer_t *p, uint64_t epoch, uint64_t head)
{
    if (epoch != p->told_epoch || head > p->told_head) {
        p->told_epoch = epoch;
        p->told_head = head;
    }
}

/* ---------------- constructor, destructor ---------------- */

cs_sync_t *
cs_sync_new(const cs_sync_opts_t *opts, const cs_sync_ops_t *ops)
{
    assert(ops);
    assert(ops->head && ops->cursor && ops->changes && ops->apply && ops->send);
    cs_sync_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    if (opts) {
        self->opts = *opts;
    }
    cs_sync_opts_t *o = &self->opts;
    o->heartbeat_ms =
        o->heartbeat_ms ? o->heartbeat_ms : S_HEARTBEAT_MS_DEFAULT;
    o->peer_timeout_ms =
        o->peer_timeout_ms ? o->peer_timeout_ms : S_PEER_TIMEOUT_MS_DEFAULT;
    o->pull_timeout_ms =
        o->pull_timeout_ms ? o->pull_timeout_ms : S_PULL_TIMEOUT_MS_DEFAULT;
    o->anti_entropy_ms =
        o->anti_entropy_ms ? o->anti_entropy_ms : S_ANTI_ENTROPY_MS_DEFAULT;
    o->batch_bytes = o->batch_bytes ? o->batch_bytes : S_BATCH_BYTES_DEFAULT;
    if (o->batch_bytes > CS_MSG_BATCH_MAX) {
        o->batch_bytes = CS_MSG_BATCH_MAX;
    }
    self->ops = *ops;
    return self;
}

void
cs_sync_destroy(cs_sync_t **self_p)
{
    assert(self_p);
    cs_sync_t *self = *self_p;
    if (self) {
        free(self->peers);
        free(self);
        *self_p = NULL;
    }
}

/* ---------------- peers ---------------- */

int
cs_sync_peer_add(cs_sync_t *self, uint64_t peer)
{
    assert(self);
    if (s_find(self, peer)) {
        return CS_EEXIST;
    }
    cs_sync_cursor_t cursor = { 0, 0, 0 };
    int rc = self->ops.cursor(self->ops.arg, peer, &cursor);
    if (rc != CS_OK) {
        return rc;
    }
    assert(cursor.base <= cursor.seq);
    if (self->n_peers == self->cap_peers) {
        size_t cap = self->cap_peers ? 2 * self->cap_peers : 8;
        s_peer_t *grown = realloc(self->peers, cap * sizeof *grown);
        if (!grown) {
            abort();
        }
        self->peers = grown;
        self->cap_peers = cap;
    }
    size_t at = 0;
    while (at < self->n_peers && self->peers[at].id < peer) {
        at++;
    }
    memmove(&self->peers[at + 1], &self->peers[at],
            (self->n_peers - at) * sizeof *self->peers);
    self->n_peers++;
    s_peer_t *p = &self->peers[at];
    memset(p, 0, sizeof *p);
    p->id = peer;
    p->cursor = cursor;
    return CS_OK;
}

void
cs_sync_peer_remove(cs_sync_t *self, uint64_t peer)
{
    assert(self);
    s_peer_t *p = s_find(self, peer);
    if (!p) {
        return;
    }
    size_t at = (size_t) (p - self->peers);
    memmove(p, p + 1, (self->n_peers - at - 1) * sizeof *p);
    self->n_peers--;
}

/* ---------------- messages ---------------- */

static void
s_on_notify(cs_sync_t *self, s_peer_t *p, const cs_msg_t *msg, uint64_t now)
{
    p->peer_epoch = msg->epoch;
    p->peer_head = msg->head;
    if (p->pulling) {
        return; /* remembered in peer_head: see s_on_changes */
    }
    if (msg->epoch != p->cursor.epoch) {
        s_pull(self, p, (cs_sync_cursor_t){ msg->epoch, 0, 0 }, now);
    } else if (msg->head != p->cursor.seq) {
        /* Ahead: there is more. Behind: its feed went back; our pull
         * tells it so (s_on_pull). */
        s_pull(self, p, p->cursor, now);
    }
}

static void
s_on_pull(cs_sync_t *self, s_peer_t *p, const cs_msg_t *msg, uint64_t now)
{
    p->notice_open = false;
    uint64_t epoch = 0, head = 0;
    if (self->ops.head(self->ops.arg, &epoch, &head) != CS_OK) {
        return; /* the peer's pull times out and it tries again */
    }
    bool ours = msg->epoch == epoch;
    if (ours && msg->since > head) {
        /* The peer applied our feed past its head: we went back in time.
         * The store forgets our cursors with the old epoch: what peers
         * left out for us as our echo may be what we lost. */
        if (self->ops.renew_epoch(self->ops.arg, &epoch) != CS_OK) {
            return;
        }
        for (size_t i = 0; i < self->n_peers; i++) {
            self->peers[i].cursor = (cs_sync_cursor_t){ 0, 0, 0 };
        }
        ours = false;
    }
    self->epoch = epoch;
    uint64_t base = ours ? msg->base : 0;
    uint64_t since = ours ? msg->since : 0;
    uint32_t max_bytes = msg->max_bytes < self->opts.batch_bytes
                             ? msg->max_bytes
                             : self->opts.batch_bytes;
    cs_msg_t out;
    memset(&out, 0, sizeof out);
    if (self->ops.changes(self->ops.arg, p->id, msg->puller_epoch, base, since,
                          max_bytes, &out) != CS_OK) {
        return;
    }
    assert(out.type == CS_MSG_CHANGES);
    assert(out.base == base && out.since == since);
    out.puller_epoch = msg->puller_epoch;
    if (s_send(self, p, &out, now) == CS_OK) {
        p->stats.changes_out += out.n_deltas;
        s_told(p, out.epoch, out.head);
    }
}

/* The peer's head as a CHANGES @p msg shows it: its head, or that of a
 * NOTIFY of the same epoch that came during the pull, if further. */
static uint64_t
s_head_known(const s_peer_t *p, const cs_msg_t *msg)
{
    return msg->epoch == p->peer_epoch && p->peer_head > msg->head
               ? p->peer_head
               : msg->head;
}

static void
s_on_changes(cs_sync_t *self, s_peer_t *p, const cs_msg_t *msg, uint64_t now)
{
    const cs_sync_cursor_t *cur = &p->cursor;
    /* Served for our epoch (else it may lack what we lost since) and
     * continuing our cursor. */
    bool continues = msg->puller_epoch == s_our_epoch(self) &&
                     (msg->epoch == cur->epoch
                          ? msg->base == cur->base && msg->since == cur->seq
                          : msg->base == 0 && msg->since == 0);
    if (!continues) {
        p->stats.stale++;
        if (p->pulling && msg->epoch == p->pull_from.epoch &&
            msg->base == p->pull_from.base && msg->since == p->pull_from.seq) {
            p->pulling = false; /* it answers the pull in flight: one sent
                                   ahead of a batch that then failed */
        }
        return;
    }
    /* At the server's head the catch-up is over: the next one starts
     * here. Before it, later batches still owe the fields changed since
     * base (a record is in the feed only at its latest seq). */
    cs_sync_cursor_t next = { msg->epoch, msg->base, msg->last_seq };
    if (msg->last_seq == msg->head) {
        next.base = msg->last_seq;
    }
    bool nothing_new = msg->n_deltas == 0 && next.epoch == cur->epoch &&
                       next.base == cur->base && next.seq == cur->seq;
    bool ahead = false; /* the next PULL is sent already */
    if (!nothing_new) {
        /* More to come: ask for the next batch before applying this one,
         * so that the peer reads it while we write (still one pull in
         * flight: this one is answered). */
        ahead = next.seq < s_head_known(p, msg);
        if (ahead) {
            s_pull(self, p, next, now);
        }
        cs_sync_applied_t res;
        memset(&res, 0, sizeof res);
        int rc = self->ops.apply(self->ops.arg, p->id, msg, next, &res);
        if (rc != CS_OK) {
            if (rc == CS_EPROTO) {
                p->stats.rejected++;
            } else {
                p->stats.apply_errors++;
            }
            if (!ahead) {
                p->pulling = false;
            } /* else the answer to the pull ahead is stale: it ends it */
            return;
        }
        assert(res.refused <= res.deltas);
        p->stats.changes_in += res.deltas - res.refused;
        p->stats.records_changed += res.records_changed;
        p->stats.skewed += res.skewed;
        p->stats.refused += res.refused;
    }
    p->cursor = next;
    p->peer_head = s_head_known(p, msg);
    p->peer_epoch = msg->epoch;
    if (ahead && p->pulling) {
        return; /* the next batch is asked for already */
    }
    if (p->cursor.seq < p->peer_head) {
        s_pull(self, p, p->cursor, now);
    } else {
        p->pulling = false;
    }
}

void
cs_sync_on_message(cs_sync_t *self, uint64_t peer, const cs_msg_t *msg,
                   uint64_t now)
{
    assert(self);
    assert(msg);
    s_peer_t *p = s_find(self, peer);
    if (!p) {
        self->unknown++;
        return;
    }
    p->stats.msgs_in++;
    p->last_contact = now;
    if (!p->connected) {
        p->connected = true;
        p->ae_from = now > p->ae_from ? now : p->ae_from;
    }
    switch (msg->type) {
    case CS_MSG_NOTIFY:
        s_on_notify(self, p, msg, now);
        break;
    case CS_MSG_PULL:
        s_on_pull(self, p, msg, now);
        break;
    case CS_MSG_CHANGES:
        s_on_changes(self, p, msg, now);
        break;
    default:
        p->stats.rejected++; /* cs_msg_decode gives no other type */
        break;
    }
}

void
cs_sync_reject(cs_sync_t *self, uint64_t peer)
{
    assert(self);
    s_peer_t *p = s_find(self, peer);
    if (p) {
        p->stats.rejected++;
    } else {
        self->unknown++;
    }
}

/* ---------------- time ---------------- */

void
cs_sync_on_tick(cs_sync_t *self, uint64_t now)
{
    assert(self);
    const cs_sync_opts_t *o = &self->opts;
    uint64_t epoch = 0, head = 0;
    bool have_head = self->ops.head(self->ops.arg, &epoch, &head) == CS_OK;
    if (have_head) {
        self->epoch = epoch;
    }
    for (size_t i = 0; i < self->n_peers; i++) {
        s_peer_t *p = &self->peers[i];
        if (p->connected &&
            s_since(now, p->last_contact) >= o->peer_timeout_ms) {
            p->connected = false;
            p->pulling = false;
        }
        if (p->pulling && s_since(now, p->pull_sent) >= o->pull_timeout_ms) {
            p->pulling = false;
        }
        if (have_head && !p->greeted) {
            /* An introduction: a peer that is up to date will not answer
             * it, so it opens no notice. Until the transport takes it (no
             * connection yet) it is tried again at each tick, so the
             * peer hears of our head as soon as it can, not a heartbeat
             * later. */
            if (s_notify(self, p, epoch, head, now)) {
                s_told(p, epoch, head);
                p->greeted = true;
            }
        } else if (have_head) {
            bool moved = epoch != p->told_epoch || head > p->told_head;
            bool beat_due = s_since(now, p->last_sent) >= o->heartbeat_ms;
            if (moved && (!p->notice_open ||
                          s_since(now, p->notice_sent) >= o->heartbeat_ms)) {
                s_notify(self, p, epoch, head, now);
                s_told(p, epoch, head);
                p->notice_open = true;
                p->notice_sent = now;
            } else if (beat_due) {
                s_notify(self, p, epoch, head, now);
            }
        }
        if (p->connected && !p->pulling &&
            s_since(now, p->ae_from) >= o->anti_entropy_ms) {
            s_pull(self, p, p->cursor, now);
        }
    }
}

/* ---------------- stats ---------------- */

int
cs_sync_peer_stats(const cs_sync_t *self, uint64_t peer,
                   cs_sync_peer_stats_t *out)
{
    assert(self);
    assert(out);
    const s_peer_t *p = s_find(self, peer);
    if (!p) {
        return CS_ENOENT;
    }
    *out = p->stats;
    out->connected = p->connected;
    out->last_contact = p->last_contact;
    out->peer_epoch = p->peer_epoch;
    out->peer_head = p->peer_head;
    out->cursor_epoch = p->cursor.epoch;
    out->cursor_base = p->cursor.base;
    out->cursor_seq = p->cursor.seq;
    out->pull_in_flight = p->pulling;
    out->behind = 0;
    if (p->peer_epoch != 0) {
        uint64_t from = p->peer_epoch == p->cursor.epoch ? p->cursor.seq : 0;
        out->behind = p->peer_head > from ? p->peer_head - from : 0;
    }
    return CS_OK;
}

uint64_t
cs_sync_unknown(const cs_sync_t *self)
{
    assert(self);
    return self->unknown;
}
