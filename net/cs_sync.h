/*  cs_sync - the sync protocol as a pure state machine: messages and ticks
 *  in, messages and store calls out. No sockets, no clock of its own, no
 *  threads; the transport (or a test) drives it.
 *  SPDX-License-Identifier: MIT
 *
 *  Protocol (DESIGN.md, "push a notice, pull the data"), per peer:
 *  - NOTIFY(epoch, head) tells a peer where our feed head is. We send one
 *    when our head moves past what the peer was last told, at most one
 *    unanswered at a time (a PULL from the peer answers it; after
 *    heartbeat_ms it may be sent again), and one at least every
 *    heartbeat_ms whatever happens: the heartbeat tells the peer we are
 *    alive, lets a dial-out-only peer introduce itself, and repairs a lost
 *    notice. The first NOTIFY to a peer (at the first tick after
 *    peer_add, and at each tick after until the transport takes it: the
 *    connection may not be up yet) introduces us and waits for no answer:
 *    a peer already up to date would never give one.
 *  - A NOTIFY whose epoch differs from our cursor's, or whose head is past
 *    our cursor, makes us PULL, unless a pull to that peer is in flight
 *    (at most one per peer). We also pull every anti_entropy_ms with no
 *    notice at all.
 *  - The cursor on a peer is three numbers (cs_sync_cursor_t): its epoch,
 *    @c seq the last peer feed seq applied, and @c base the feed position
 *    where the current catch-up started. A record is in the feed once, at
 *    its latest seq, so a catch-up of several batches asks each batch for
 *    the records after @c seq with every field changed after @c base: a
 *    field changed before the first batch's window, on a record changed
 *    again after it, still arrives.
 *  - A PULL is answered with CHANGES from ops->changes: from its @c base
 *    and @c since if the PULL's epoch is ours, else from 0 and 0. A PULL
 *    carries the puller's own epoch, and the answer leaves out what we
 *    took from the puller's feed of that epoch: it has that, or newer
 *    (without this, every change would travel back to where it came
 *    from; a catch-up would cost twice its work). The CHANGES repeats
 *    that epoch, and a puller whose epoch is another by then drops it as
 *    stale.
 *  - A PULL of our epoch from past our head means that our feed went back
 *    in time (the store was restored from an older copy) and that its
 *    next seqs would be used again for other changes, which the peer
 *    would skip. We take a new epoch (ops->renew_epoch) and answer from 0
 *    and 0; every peer then starts again, as for a wiped store. Our own
 *    cursors start again at 0 too: what peers left out for us as echo
 *    under the old epoch may be what the restore lost. A NOTIFY
 *    of our cursor's epoch with a head behind our cursor makes us pull
 *    at once, so that the peer finds out.
 *  - A CHANGES is applied only if it continues our cursor: same epoch,
 *    @c base and @c since equal to our cursor's base and seq, or base and
 *    since 0 with an epoch other than our cursor's (the peer was wiped or
 *    restored: start again). The batch and the next cursor commit together
 *    (ops->apply): (epoch, last_seq, last_seq) if last_seq reached the
 *    CHANGES' head (the catch-up is complete), else (epoch, base,
 *    last_seq). Anything else is a stale or duplicated answer and is
 *    dropped (counted in stats.stale). If last_seq < head we pull again at
 *    once, and before ops->apply, so that the peer reads the next batch
 *    while we write this one (still one pull in flight: this one is
 *    answered); else the pull is over. Head here is the larger of the
 *    CHANGES' head and that of a NOTIFY of the same epoch that came while
 *    the pull was in flight, so such a notice is not lost.
 *  - A CHANGES that continues our cursor is applied even when no pull is
 *    in flight (say the late answer to a pull that timed out): its data is
 *    as good, and merge is idempotent. One that would change nothing (no
 *    deltas, next cursor equal to ours) skips ops->apply.
 *  - If ops->apply fails, the cursor stays and the pull is over (once the
 *    answer to a pull sent ahead of the batch comes: it is stale); the
 *    next notice or anti-entropy pull tries again. CS_EPROTO counts in
 *    stats.rejected, any other error in stats.apply_errors.
 *  - The CHANGES we serve carry our head, so they tell the peer what a
 *    NOTIFY would: they count as one.
 *  - A send that fails (CS_EAGAIN) is a message lost, except a PULL: one
 *    that could not be sent is not in flight.
 *  - A pull with no usable answer after pull_timeout_ms is forgotten, so
 *    the next notice or tick pulls again: lost messages only delay.
 *  - A peer we heard nothing from for peer_timeout_ms is down: its pull in
 *    flight is forgotten and it is reported disconnected until it speaks.
 *
 *  Peers are identified by node id (the transport derives it from the
 *  CURVE key). Messages from a peer that is not added are ignored and
 *  counted (cs_sync_unknown).
 */
#ifndef CS_SYNC_H
#define CS_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"
#include "net/cs_msg.h"

typedef struct cs_sync cs_sync_t; /* opaque */

/** Timers and sizes; zero means the default. Times are in ms. */
typedef struct {
    uint64_t heartbeat_ms;    /* NOTIFY each peer at least this often (1000) */
    uint64_t peer_timeout_ms; /* silent this long: peer is down (5000) */
    uint64_t pull_timeout_ms; /* unanswered pull is retried after (10000) */
    uint64_t anti_entropy_ms; /* pull each live peer this often (30000) */
    uint32_t batch_bytes;     /* max_bytes we ask for, and the most we serve
                                 whatever a PULL asks (4 MiB; more is taken
                                 as CS_MSG_BATCH_MAX) */
} cs_sync_opts_t;

/** Where we are in a peer's feed. All 0: nothing applied yet. */
typedef struct {
    uint64_t epoch; /* the peer's db epoch this cursor belongs to */
    uint64_t base;  /* feed position the current catch-up started from:
                       deltas carry the fields changed after it */
    uint64_t seq;   /* last peer feed seq applied (base <= seq) */
} cs_sync_cursor_t;

/** What one apply did (filled by ops->apply). */
typedef struct {
    size_t deltas;          /* deltas in the batch */
    size_t records_changed; /* records whose local state changed */
    size_t skewed;          /* stamps beyond max drift (merged anyway) */
    size_t refused;         /* deltas not applied (over a record limit) */
} cs_sync_applied_t;

/** The outside world: the store (through the node's narrow interface, so
 *  net/ does not link storage/) and the transport. Every function gets
 *  @c arg. */
typedef struct {
    void *arg;
    /** Our db epoch and feed head (they change when another process such
     *  as crmsync put writes the store). @return CS_OK or an error. */
    int (*head)(void *arg, uint64_t *epoch, uint64_t *head);
    /** The stored cursor of @p peer into @p out (all 0 if there is
     *  none). */
    int (*cursor)(void *arg, uint64_t peer, cs_sync_cursor_t *out);
    /** Fill @p out as the CHANGES answering a pull by @p peer, whose own
     *  epoch is @p peer_epoch, of the records after @p since, each with
     *  the fields changed after @p base (base <= since), with at most
     *  @p max_bytes, less what we took from that peer's feed of that epoch
     *  (cs_store_changes_to rules): type, epoch, base, since, last_seq,
     *  head and the deltas, which stay valid until the next call.
     *  @return CS_OK or an error (then nothing is sent). */
    int (*changes)(void *arg, uint64_t peer, uint64_t peer_epoch, uint64_t base,
                   uint64_t since, uint32_t max_bytes, cs_msg_t *out);
    /** Decode and merge the deltas of @p changes from @p peer and set its
     *  cursor to @p next, in one transaction. @return CS_OK (@p res
     *  filled); CS_EPROTO for a bad delta, CS_EFULL, CS_EIO...: nothing
     *  stored, the cursor stays. */
    int (*apply)(void *arg, uint64_t peer, const cs_msg_t *changes,
                 cs_sync_cursor_t next, cs_sync_applied_t *res);
    /** Give our store a new epoch (cs_store_renew_epoch: our cursors on
     *  peers are forgotten with it) and return it in @p epoch. Called when
     *  a peer pulls from past our head: our feed went back in time.
     *  @return CS_OK or an error. */
    int (*renew_epoch)(void *arg, uint64_t *epoch);
    /** Send @p msg to @p peer. @return CS_OK if handed to the transport;
     *  CS_EAGAIN if it could not be (no connection, queue full): the
     *  message is lost, as any message may be. */
    int (*send)(void *arg, uint64_t peer, const cs_msg_t *msg);
} cs_sync_ops_t;

/** What we know about one peer (for crmsync status). */
typedef struct {
    bool connected;        /* heard from within peer_timeout_ms */
    uint64_t last_contact; /* ms of the last message from it (0: never) */
    uint64_t peer_epoch;   /* its epoch, from its last NOTIFY/CHANGES */
    uint64_t peer_head;    /* its feed head, ditto */
    uint64_t cursor_epoch; /* our cursor on it */
    uint64_t cursor_base;  /* ... where its catch-up started ... */
    uint64_t cursor_seq;   /* ... and the last seq applied */
    uint64_t behind;       /* peer_head - cursor_seq (0 if unknown) */
    bool pull_in_flight;
    uint64_t msgs_in, msgs_out;       /* messages received / handed out */
    uint64_t changes_in, changes_out; /* deltas applied / served */
    uint64_t records_changed;         /* local records changed by its data */
    uint64_t stale;        /* CHANGES dropped as stale or duplicate */
    uint64_t rejected;     /* its messages refused (bad deltas, see
                              cs_sync_reject) */
    uint64_t skewed;       /* its stamps beyond max drift */
    uint64_t refused;      /* its deltas over a record limit, not applied */
    uint64_t apply_errors; /* applies that failed (disk full, I/O...) */
} cs_sync_peer_stats_t;

/** Create a state machine. @p opts may be NULL. @p ops is copied. Never
 *  returns NULL: out of memory aborts. */
cs_sync_t *cs_sync_new(const cs_sync_opts_t *opts, const cs_sync_ops_t *ops);

/** Free *self_p and set it to NULL. Safe on NULL. */
void cs_sync_destroy(cs_sync_t **self_p);

/** Start syncing with @p peer (reads its cursor through ops->cursor).
 *  @return CS_OK; CS_EEXIST if already added; an error of ops->cursor. */
CS_NODISCARD int cs_sync_peer_add(cs_sync_t *self, uint64_t peer);

/** Stop syncing with @p peer (revoked): forget it. No-op if unknown. */
void cs_sync_peer_remove(cs_sync_t *self, uint64_t peer);

/** A message from @p peer at time @p now (ms). */
void cs_sync_on_message(cs_sync_t *self, uint64_t peer, const cs_msg_t *msg,
                        uint64_t now);

/** A frame from @p peer that could not be decoded: counted in its stats. */
void cs_sync_reject(cs_sync_t *self, uint64_t peer);

/** Time passes: notices for a moved head (ops->head is read each tick),
 *  heartbeats, anti-entropy pulls, timeouts. Call it often (every few ms
 *  to tens of ms: it bounds how fast a local write is announced). */
void cs_sync_on_tick(cs_sync_t *self, uint64_t now);

/** Stats of @p peer. @return CS_OK or CS_ENOENT. */
CS_NODISCARD int cs_sync_peer_stats(const cs_sync_t *self, uint64_t peer,
                                    cs_sync_peer_stats_t *out);

/** Messages from peers that were not added. */
uint64_t cs_sync_unknown(const cs_sync_t *self);

#endif /* CS_SYNC_H */
