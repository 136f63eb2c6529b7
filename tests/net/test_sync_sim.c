/*  test_sync_sim - a deterministic simulator: a few real nodes (each a
 *  cs_store in its own temporary directory, a cs_syncstore and a cs_sync)
 *  on a simulated network that drops, duplicates, delays and reorders
 *  messages, under a virtual clock. Random writes at every node; once the
 *  writes stop and the network heals, every store must reach the same
 *  digest, every cursor the head of its peer, and every record the state a
 *  model of last-writer-wins predicts.
 *  SPDX-License-Identifier: MIT
 *
 *  The seed is printed; set CS_TEST_SEED to replay a run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crdt/cs_codec.h"
#include "net/cs_sync.h"
#include "node/cs_syncstore.h"
#include "storage/cs_store.h"

#define NODES_MAX   6u
#define STEP_MS     10u                     /* virtual time per step */
#define T_START     UINT64_C(1700000000000) /* virtual wall clock, ms */
#define IDS         24u                     /* record ids written at random */
#define MODEL_IDS   (IDS + 4u)              /* and a few written by hand */
#define FIELDS      3u                      /* field names written */
#define SETTLE_MAX  6000u                   /* steps to quiesce (60 s) */
#define CHECK_EVERY 20u                     /* steps between checks */
#define COLLECTION  "contacts"

static const char *const s_field_names[FIELDS] = { "email", "name", "phone" };

/* Fast timers, so a run covers many heartbeats, timeouts and anti-entropy
 * rounds; a small batch, so a pull takes several round trips. */
static cs_sync_opts_t s_sync_opts = { .heartbeat_ms = 200,
                                      .peer_timeout_ms = 1000,
                                      .pull_timeout_ms = 2000,
                                      .anti_entropy_ms = 5000,
                                      .batch_bytes = 700 };

static uint64_t s_seed; /* of the whole run */

typedef struct s_sim s_sim_t;

/* One node: a store, its syncstore and its state machine. */
typedef struct {
    s_sim_t *sim;       /* back pointer */
    size_t index;       /* in sim->nodes */
    uint64_t id;        /* node id */
    char dir[64];       /* its data directory */
    cs_store_t *store;  /* NULL while down */
    cs_syncstore_t *ss; /* NULL while down */
    cs_sync_t *sync;    /* NULL while down */
    bool up;            /* ticked and reachable */
} s_node_t;

/* A message on the wire: a deep copy, since a CHANGES' deltas live only
 * until the sender's next call. */
typedef struct {
    size_t from, to; /* node indexes */
    uint64_t due;    /* delivery time */
    cs_msg_t msg;    /* its delta table and bytes are owned */
    uint8_t *bytes;  /* the deltas' bytes */
} s_packet_t;

/* The model of one field: the write that should win. */
typedef struct {
    bool set;         /* written at all */
    cs_stamp_t stamp; /* of the winning write */
    char value[48];   /* its value */
} s_mfield_t;

/* The model of one record. */
typedef struct {
    bool exists;               /* written at all */
    bool has_tomb;             /* deleted at all */
    cs_stamp_t tomb;           /* the largest delete */
    s_mfield_t fields[FIELDS]; /* by index in s_field_names */
} s_mrec_t;

struct s_sim {
    uint64_t now;                    /* virtual clock, ms */
    uint64_t rng;                    /* xorshift64 state */
    unsigned drop_pct;               /* messages lost */
    unsigned dup_pct;                /* messages delivered twice */
    uint64_t delay_max;              /* delivery after 1..delay_max ms */
    bool link[NODES_MAX][NODES_MAX]; /* who syncs with whom */
    s_node_t nodes[NODES_MAX];       /* the nodes */
    size_t n;                        /* nodes used */
    s_packet_t *queue;               /* in flight, in no order */
    size_t n_queue, cap_queue;       /* used, allocated */
    s_mrec_t model[MODEL_IDS];       /* what every store should hold */
    uint64_t writes, sent, dropped, duplicated, delivered; /* counters */
};

/* ---------------- randomness ---------------- */

static uint64_t
s_rand(s_sim_t *sim)
{
    uint64_t x = sim->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sim->rng = x;
    return x;
}

static bool
s_chance(s_sim_t *sim, unsigned pct)
{
    return s_rand(sim) % 100 < pct;
}

/* ---------------- network ---------------- */

static void
s_enqueue(s_sim_t *sim, size_t from, size_t to, const cs_msg_t *msg)
{
    if (sim->n_queue == sim->cap_queue) {
        sim->cap_queue = sim->cap_queue ? 2 * sim->cap_queue : 64;
        sim->queue = realloc(sim->queue, sim->cap_queue * sizeof *sim->queue);
        assert_non_null(sim->queue);
    }
    s_packet_t *p = &sim->queue[sim->n_queue++];
    memset(p, 0, sizeof *p);
    p->from = from;
    p->to = to;
    p->due = sim->now + 1 + s_rand(sim) % sim->delay_max;
    p->msg = *msg;
    p->msg.deltas = NULL;
    if (msg->n_deltas == 0) {
        return;
    }
    size_t total = 0;
    for (size_t i = 0; i < msg->n_deltas; i++) {
        total += msg->deltas[i].len;
    }
    p->bytes = malloc(total ? total : 1);
    p->msg.deltas = calloc(msg->n_deltas, sizeof *p->msg.deltas);
    assert_non_null(p->bytes);
    assert_non_null(p->msg.deltas);
    size_t at = 0;
    for (size_t i = 0; i < msg->n_deltas; i++) {
        memcpy(p->bytes + at, msg->deltas[i].data, msg->deltas[i].len);
        p->msg.deltas[i].data = p->bytes + at;
        p->msg.deltas[i].len = msg->deltas[i].len;
        at += msg->deltas[i].len;
    }
}

static void
s_packet_free(s_packet_t *p)
{
    free(p->bytes);
    free(p->msg.deltas);
    memset(p, 0, sizeof *p);
}

static size_t
s_index_of(const s_sim_t *sim, uint64_t id)
{
    for (size_t i = 0; i < sim->n; i++) {
        if (sim->nodes[i].id == id) {
            return i;
        }
    }
    fail_msg("no node %" PRIx64, id);
    return 0;
}

/* cs_sync's send: a node with no connection (down) refuses at once; else
 * the network may lose, delay or duplicate the message. */
static int
s_send(void *arg, uint64_t peer, const cs_msg_t *msg)
{
    s_node_t *node = arg;
    s_sim_t *sim = node->sim;
    size_t to = s_index_of(sim, peer);
    assert_true(sim->link[node->index][to]);
    if (!sim->nodes[to].up) {
        return CS_EAGAIN;
    }
    sim->sent++;
    if (s_chance(sim, sim->drop_pct)) {
        sim->dropped++;
        return CS_OK;
    }
    s_enqueue(sim, node->index, to, msg);
    if (s_chance(sim, sim->dup_pct)) {
        sim->duplicated++;
        s_enqueue(sim, node->index, to, msg);
    }
    return CS_OK;
}

/* ---------------- nodes ---------------- */

static uint64_t
s_clock(void *arg)
{
    return ((const s_sim_t *) arg)->now;
}

/* Open the store of @p node (creating it first if @p create) and start
 * syncing with its links. */
static void
s_node_start(s_node_t *node, bool create)
{
    s_sim_t *sim = node->sim;
    if (create) {
        strcpy(node->dir, "/tmp/cs_sync_sim.XXXXXX");
        assert_non_null(mkdtemp(node->dir));
        assert_int_equal(cs_store_create(node->dir, node->id), CS_OK);
    }
    cs_store_opts_t opts = { .clock = s_clock, .clock_arg = sim };
    assert_int_equal(cs_store_open(node->dir, &opts, &node->store), CS_OK);
    node->ss = cs_syncstore_new(node->store);
    cs_sync_ops_t ops;
    cs_syncstore_ops(node->ss, s_send, node, &ops);
    node->sync = cs_sync_new(&s_sync_opts, &ops);
    for (size_t j = 0; j < sim->n; j++) {
        if (sim->link[node->index][j]) {
            assert_int_equal(cs_sync_peer_add(node->sync, sim->nodes[j].id),
                             CS_OK);
        }
    }
    node->up = true;
}

static void
s_node_stop(s_node_t *node)
{
    node->up = false;
    cs_sync_destroy(&node->sync);
    cs_syncstore_destroy(&node->ss);
    cs_store_destroy(&node->store);
}

static void
s_node_rmdir(s_node_t *node)
{
    if (node->dir[0] == '\0') {
        return; /* removed already */
    }
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", node->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", node->dir);
    unlink(path);
    assert_int_equal(rmdir(node->dir), 0);
    node->dir[0] = '\0';
}

static uint64_t
s_epoch(s_node_t *node)
{
    return cs_store_epoch(node->store);
}

static uint64_t
s_head(s_node_t *node)
{
    cs_store_info_t info;
    assert_int_equal(cs_store_info(node->store, &info), CS_OK);
    return info.feed_head;
}

/* ---------------- the simulator ---------------- */

typedef enum { S_MESH, S_LINE, S_STAR } s_topology_t;

static s_sim_t *
s_sim_new(size_t n, s_topology_t topology, uint64_t salt)
{
    assert_true(n <= NODES_MAX);
    s_sim_t *sim = calloc(1, sizeof *sim);
    assert_non_null(sim);
    sim->now = T_START;
    sim->rng = s_seed ^ (salt * UINT64_C(0x9e3779b97f4a7c15));
    sim->rng = sim->rng ? sim->rng : 1;
    sim->delay_max = 40;
    sim->n = n;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            bool link = false;
            switch (topology) {
            case S_MESH:
                link = i != j;
                break;
            case S_LINE:
                link = i + 1 == j || j + 1 == i;
                break;
            case S_STAR:
                link = i != j && (i == 0 || j == 0);
                break;
            }
            sim->link[i][j] = link;
        }
    }
    for (size_t i = 0; i < n; i++) {
        s_node_t *node = &sim->nodes[i];
        node->sim = sim;
        node->index = i;
        node->id = UINT64_C(0x5100) + 0x111 * i;
    }
    for (size_t i = 0; i < n; i++) {
        s_node_start(&sim->nodes[i], true);
    }
    return sim;
}

static void
s_sim_destroy(s_sim_t **sim_p)
{
    s_sim_t *sim = *sim_p;
    for (size_t i = 0; i < sim->n_queue; i++) {
        s_packet_free(&sim->queue[i]);
    }
    free(sim->queue);
    for (size_t i = 0; i < sim->n; i++) {
        s_node_stop(&sim->nodes[i]);
        s_node_rmdir(&sim->nodes[i]);
    }
    free(sim);
    *sim_p = NULL;
}

/* One step: time passes, due messages arrive, every live node ticks. */
static void
s_step(s_sim_t *sim)
{
    sim->now += STEP_MS;
    for (size_t i = 0; i < sim->n_queue;) {
        if (sim->queue[i].due > sim->now) {
            i++;
            continue;
        }
        s_packet_t p = sim->queue[i];
        sim->queue[i] = sim->queue[--sim->n_queue];
        s_node_t *to = &sim->nodes[p.to];
        if (to->up) {
            sim->delivered++;
            cs_sync_on_message(to->sync, sim->nodes[p.from].id, &p.msg,
                               sim->now);
        }
        s_packet_free(&p);
    }
    for (size_t i = 0; i < sim->n; i++) {
        if (sim->nodes[i].up) {
            cs_sync_on_tick(sim->nodes[i].sync, sim->now);
        }
    }
}

/* ---------------- writes and the model ---------------- */

static void
s_id(size_t k, char id[16])
{
    snprintf(id, 16, "rec-%02zu", k);
}

/* Set field @p f of record @p k at @p node to @p value; the model keeps
 * the larger stamp. */
static cs_stamp_t
s_write(s_sim_t *sim, size_t node_index, size_t k, size_t f, const char *value)
{
    s_node_t *node = &sim->nodes[node_index];
    assert_true(node->up);
    char id[16];
    s_id(k, id);
    cs_store_field_t field = { .name = s_field_names[f],
                               .value = cs_value_str(value) };
    cs_hlc_t hlc = 0;
    assert_int_equal(cs_store_set(node->store, COLLECTION, id, &field, 1, &hlc),
                     CS_OK);
    cs_stamp_t stamp = { .hlc = hlc, .origin = node->id };
    s_mrec_t *m = &sim->model[k];
    m->exists = true;
    s_mfield_t *mf = &m->fields[f];
    if (!mf->set || cs_stamp_compare(stamp, mf->stamp) > 0) {
        mf->set = true;
        mf->stamp = stamp;
        snprintf(mf->value, sizeof mf->value, "%s", value);
    }
    sim->writes++;
    return stamp;
}

static void
s_delete(s_sim_t *sim, size_t node_index, size_t k)
{
    s_node_t *node = &sim->nodes[node_index];
    char id[16];
    s_id(k, id);
    cs_hlc_t hlc = 0;
    int rc = cs_store_delete(node->store, COLLECTION, id, &hlc);
    if (rc == CS_ENOENT) {
        return; /* nothing visible here: nothing written */
    }
    assert_int_equal(rc, CS_OK);
    cs_stamp_t stamp = { .hlc = hlc, .origin = node->id };
    s_mrec_t *m = &sim->model[k];
    if (!m->has_tomb || cs_stamp_compare(stamp, m->tomb) > 0) {
        m->has_tomb = true;
        m->tomb = stamp;
    }
    sim->writes++;
}

/* A random write (or, one time in ten, a delete) at a random live node. */
static void
s_random_write(s_sim_t *sim)
{
    size_t i = (size_t) (s_rand(sim) % sim->n);
    if (!sim->nodes[i].up) {
        return;
    }
    size_t k = (size_t) (s_rand(sim) % IDS);
    if (s_chance(sim, 10)) {
        s_delete(sim, i, k);
        return;
    }
    char value[48];
    snprintf(value, sizeof value, "n%zu-w%" PRIu64, i, sim->writes);
    s_write(sim, i, k, (size_t) (s_rand(sim) % FIELDS), value);
}

/* @p steps steps with a random write in about @p pct percent of them. */
static void
s_run_writes(s_sim_t *sim, size_t steps, unsigned pct)
{
    for (size_t s = 0; s < steps; s++) {
        if (s_chance(sim, pct)) {
            s_random_write(sim);
        }
        s_step(sim);
    }
}

/* Every record of @p node as the model says. */
static void
s_check_model(s_sim_t *sim, s_node_t *node)
{
    for (size_t k = 0; k < MODEL_IDS; k++) {
        const s_mrec_t *m = &sim->model[k];
        char id[16];
        s_id(k, id);
        cs_record_t *rec = NULL;
        int rc = cs_store_get(node->store, COLLECTION, id, &rec);
        if (!m->exists) {
            assert_int_equal(rc, CS_ENOENT);
            continue;
        }
        assert_int_equal(rc, CS_OK);
        size_t visible = 0;
        for (size_t f = 0; f < FIELDS; f++) {
            const s_mfield_t *mf = &m->fields[f];
            cs_field_t field;
            rc = cs_record_get(rec, s_field_names[f], &field);
            if (!mf->set ||
                (m->has_tomb && cs_stamp_compare(mf->stamp, m->tomb) <= 0)) {
                assert_int_equal(rc, CS_ENOENT);
                continue;
            }
            visible++;
            assert_int_equal(rc, CS_OK);
            assert_int_equal(field.value.type, CS_VALUE_STR);
            assert_int_equal(field.value.u.s.len, strlen(mf->value));
            assert_memory_equal(field.value.u.s.ptr, mf->value,
                                strlen(mf->value));
            assert_int_equal(cs_stamp_compare(field.stamp, mf->stamp), 0);
        }
        assert_int_equal(cs_record_field_count(rec), visible);
        cs_stamp_t tomb;
        assert_int_equal(cs_record_tombstone(rec, &tomb, NULL), m->has_tomb);
        if (m->has_tomb) {
            assert_int_equal(cs_stamp_compare(tomb, m->tomb), 0);
        }
        cs_record_destroy(&rec);
    }
}

/* Whether every live store holds the same data and every cursor on a live
 * peer has reached that peer's head, with no pull left in flight unless
 * @p pulls_ok (anti-entropy pulls come and go). */
static bool
s_quiescent(s_sim_t *sim, bool pulls_ok)
{
    uint8_t first[CS_STORE_DIGEST_BYTES];
    bool have_first = false;
    for (size_t i = 0; i < sim->n; i++) {
        s_node_t *node = &sim->nodes[i];
        if (!node->up) {
            continue;
        }
        uint8_t digest[CS_STORE_DIGEST_BYTES];
        assert_int_equal(cs_store_digest(node->store, digest, NULL), CS_OK);
        if (!have_first) {
            memcpy(first, digest, sizeof first);
            have_first = true;
        } else if (memcmp(first, digest, sizeof first) != 0) {
            return false;
        }
        for (size_t j = 0; j < sim->n; j++) {
            s_node_t *peer = &sim->nodes[j];
            if (!sim->link[i][j] || !peer->up) {
                continue;
            }
            cs_sync_peer_stats_t st;
            assert_int_equal(cs_sync_peer_stats(node->sync, peer->id, &st),
                             CS_OK);
            if (st.cursor_epoch != s_epoch(peer) ||
                st.cursor_seq != s_head(peer) ||
                (st.pull_in_flight && !pulls_ok)) {
                return false;
            }
        }
    }
    return true;
}

/* What each node knows, for a failure message. */
static void
s_dump(s_sim_t *sim)
{
    for (size_t i = 0; i < sim->n; i++) {
        s_node_t *node = &sim->nodes[i];
        if (!node->up) {
            printf("node %zu: down\n", i);
            continue;
        }
        uint8_t digest[CS_STORE_DIGEST_BYTES];
        assert_int_equal(cs_store_digest(node->store, digest, NULL), CS_OK);
        printf("node %zu: epoch %" PRIx64 " head %" PRIu64
               " digest %02x%02x%02x%02x\n",
               i, s_epoch(node), s_head(node), digest[0], digest[1], digest[2],
               digest[3]);
        for (size_t j = 0; j < sim->n; j++) {
            cs_sync_peer_stats_t st;
            if (!sim->link[i][j] ||
                cs_sync_peer_stats(node->sync, sim->nodes[j].id, &st) !=
                    CS_OK) {
                continue;
            }
            printf("  on %zu: cursor %" PRIx64 ":%" PRIu64 " peer %" PRIx64
                   ":%" PRIu64 " pulling %d connected %d stale %" PRIu64
                   " in %" PRIu64 " out %" PRIu64 " rejected %" PRIu64
                   " errors %" PRIu64 "\n",
                   j, st.cursor_epoch, st.cursor_seq, st.peer_epoch,
                   st.peer_head, st.pull_in_flight, st.connected, st.stale,
                   st.msgs_in, st.msgs_out, st.rejected, st.apply_errors);
        }
    }
}

/* Heal the network (no more losses; duplicates and reordering stay) and
 * step until quiescent, within SETTLE_MAX steps; then check the model at
 * every live node. @return the steps taken. */
static size_t
s_settle(s_sim_t *sim)
{
    sim->drop_pct = 0;
    size_t steps = 0;
    bool quiet = false;
    while (!quiet && steps < SETTLE_MAX) {
        for (size_t s = 0; s < CHECK_EVERY; s++) {
            s_step(sim);
        }
        steps += CHECK_EVERY;
        quiet = s_quiescent(sim, false);
    }
    if (!quiet) {
        s_dump(sim);
        for (size_t i = 0; i < sim->n; i++) {
            if (sim->nodes[i].up) {
                s_check_model(sim, &sim->nodes[i]);
            }
        }
        fail_msg("not quiescent after %zu steps (seed %" PRIu64 ")", steps,
                 s_seed);
    }
    for (size_t i = 0; i < sim->n; i++) {
        if (sim->nodes[i].up) {
            s_check_model(sim, &sim->nodes[i]);
        }
    }
    /* quiet stays quiet: the anti-entropy pulls that follow find nothing
     * to change, so no head moves */
    uint64_t heads[NODES_MAX] = { 0 };
    for (size_t i = 0; i < sim->n; i++) {
        heads[i] = sim->nodes[i].up ? s_head(&sim->nodes[i]) : 0;
    }
    for (size_t s = 0; s < 2 * s_sync_opts.anti_entropy_ms / STEP_MS; s++) {
        s_step(sim);
    }
    assert_true(s_quiescent(sim, true));
    for (size_t i = 0; i < sim->n; i++) {
        if (sim->nodes[i].up) {
            assert_int_equal(s_head(&sim->nodes[i]), heads[i]);
        }
    }
    return steps;
}

static void
s_report(const s_sim_t *sim, const char *name, size_t settle_steps)
{
    printf("%s: %" PRIu64 " writes, %" PRIu64 " sent, %" PRIu64
           " dropped, %" PRIu64 " duplicated, %" PRIu64
           " delivered; quiescent after %zu ms\n",
           name, sim->writes, sim->sent, sim->dropped, sim->duplicated,
           sim->delivered, settle_steps * STEP_MS);
}

/* Stats summed over every link of the live nodes. */
static cs_sync_peer_stats_t
s_totals(const s_sim_t *sim)
{
    cs_sync_peer_stats_t total;
    memset(&total, 0, sizeof total);
    for (size_t i = 0; i < sim->n; i++) {
        for (size_t j = 0; j < sim->n; j++) {
            if (!sim->link[i][j] || !sim->nodes[i].up) {
                continue;
            }
            cs_sync_peer_stats_t st;
            assert_int_equal(
                cs_sync_peer_stats(sim->nodes[i].sync, sim->nodes[j].id, &st),
                CS_OK);
            total.changes_in += st.changes_in;
            total.changes_out += st.changes_out;
            total.stale += st.stale;
            total.rejected += st.rejected;
            total.apply_errors += st.apply_errors;
            total.refused += st.refused;
        }
    }
    return total;
}

/* ---------------- scenarios ---------------- */

/* Each scenario leaves its simulator in *state: freed here, its
 * directories removed, also when the scenario failed. */
static int
s_teardown(void **state)
{
    s_sim_t *sim = *state;
    if (sim) {
        s_sim_destroy(&sim);
        *state = NULL;
    }
    return 0;
}

static void
test_sim_mesh_lossy_network_converges(void **state)
{
    s_sim_t *sim = s_sim_new(4, S_MESH, 1);
    *state = sim;
    sim->drop_pct = 20;
    sim->dup_pct = 20;
    /* one record written at two nodes at the same moment, before they
     * have spoken: equal clocks, so the larger origin must win */
    cs_stamp_t a = s_write(sim, 1, IDS, 1, "from-node-1");
    cs_stamp_t b = s_write(sim, 2, IDS, 1, "from-node-2");
    assert_int_equal(a.hlc, b.hlc);
    assert_true(sim->nodes[2].id > sim->nodes[1].id);
    s_run_writes(sim, 400, 60);
    size_t steps = s_settle(sim);
    s_report(sim, "mesh", steps);
    assert_true(sim->dropped > 0);
    assert_true(sim->duplicated > 0);
    assert_string_equal(sim->model[IDS].fields[1].value, "from-node-2");
    for (size_t i = 0; i < sim->n; i++) {
        cs_record_t *rec = NULL;
        assert_int_equal(
            cs_store_get(sim->nodes[i].store, COLLECTION, "rec-24", &rec),
            CS_OK);
        cs_field_t field;
        assert_int_equal(cs_record_get(rec, "name", &field), CS_OK);
        assert_int_equal(field.stamp.origin, sim->nodes[2].id);
        cs_record_destroy(&rec);
    }
    cs_sync_peer_stats_t total = s_totals(sim);
    assert_true(total.changes_in > 0);
    assert_true(total.stale > 0); /* duplicates were seen and dropped */
    assert_int_equal(total.rejected, 0);
    assert_int_equal(total.apply_errors, 0);
}

/* Many catch-ups of many batches: a batch of one or two records, so a
 * record edited before and after a batch boundary is common, on a lossy
 * mesh, over SMALL_BATCH_SEEDS seeds (each salt seeds its own run). Every
 * node must end equal to the model: a field lost between batches would
 * show there. */
#define SMALL_BATCH_SEEDS 64u
#define SMALL_BATCH_BYTES 120u

static void
test_sim_small_batches_many_seeds_converge(void **state)
{
    uint32_t saved = s_sync_opts.batch_bytes;
    s_sync_opts.batch_bytes = SMALL_BATCH_BYTES;
    uint64_t writes = 0;
    for (uint64_t salt = 0; salt < SMALL_BATCH_SEEDS; salt++) {
        s_sim_t *sim = s_sim_new(3, S_MESH, 1000 + salt);
        *state = sim;
        sim->drop_pct = 10;
        sim->dup_pct = 10;
        s_run_writes(sim, 60, 70);
        (void) s_settle(sim); /* asserts every node equals the model */
        cs_sync_peer_stats_t total = s_totals(sim);
        assert_int_equal(total.rejected, 0);
        assert_int_equal(total.apply_errors, 0);
        writes += sim->writes;
        s_sim_destroy(&sim);
        *state = NULL;
    }
    s_sync_opts.batch_bytes = saved;
    printf("small batches: %u seeds, %" PRIu64 " writes, all converged\n",
           SMALL_BATCH_SEEDS, writes);
}

static void
test_sim_concurrent_write_larger_origin_wins(void **state)
{
    s_sim_t *sim = s_sim_new(2, S_MESH, 2);
    *state = sim;
    /* the same moment: the larger origin (node 1) wins */
    s_write(sim, 1, 3, 0, "written-at-1");
    s_write(sim, 0, 3, 0, "written-at-0");
    /* node 0 writes later: the larger hlc wins whatever the origin */
    s_write(sim, 1, 4, 2, "early-at-1");
    sim->now += 5;
    s_write(sim, 0, 4, 2, "later-at-0");
    s_settle(sim);
    for (size_t i = 0; i < 2; i++) {
        cs_record_t *rec = NULL;
        assert_int_equal(
            cs_store_get(sim->nodes[i].store, COLLECTION, "rec-03", &rec),
            CS_OK);
        cs_field_t field;
        assert_int_equal(cs_record_get(rec, "email", &field), CS_OK);
        assert_int_equal(field.stamp.origin, sim->nodes[1].id);
        assert_memory_equal(field.value.u.s.ptr, "written-at-1", 12);
        cs_record_destroy(&rec);
        assert_int_equal(
            cs_store_get(sim->nodes[i].store, COLLECTION, "rec-04", &rec),
            CS_OK);
        assert_int_equal(cs_record_get(rec, "phone", &field), CS_OK);
        assert_int_equal(field.stamp.origin, sim->nodes[0].id);
        assert_memory_equal(field.value.u.s.ptr, "later-at-0", 10);
        cs_record_destroy(&rec);
    }
}

static void
test_sim_line_relays_through_middle_nodes(void **state)
{
    s_sim_t *sim = s_sim_new(4, S_LINE, 3);
    *state = sim;
    sim->drop_pct = 10;
    sim->dup_pct = 10;
    s_write(sim, 0, 5, 0, "only-at-a");
    s_write(sim, 3, 6, 0, "only-at-d");
    s_run_writes(sim, 300, 50);
    size_t steps = s_settle(sim);
    s_report(sim, "line", steps);
    /* the model check in s_settle found A's record at D and D's at A;
     * they can only have come through B and C */
    assert_false(sim->link[0][3]);
    cs_record_t *rec = NULL;
    assert_int_equal(
        cs_store_get(sim->nodes[3].store, COLLECTION, "rec-05", &rec), CS_OK);
    cs_record_destroy(&rec);
}

static void
test_sim_hub_and_spokes(void **state)
{
    s_sim_t *sim = s_sim_new(5, S_STAR, 4);
    *state = sim;
    sim->drop_pct = 20;
    sim->dup_pct = 10;
    s_run_writes(sim, 300, 60);
    size_t steps = s_settle(sim);
    s_report(sim, "star", steps);
}

static void
test_sim_wiped_node_resyncs(void **state)
{
    s_sim_t *sim = s_sim_new(3, S_MESH, 5);
    *state = sim;
    sim->drop_pct = 10;
    s_run_writes(sim, 200, 60);
    s_settle(sim);
    s_node_t *node = &sim->nodes[2];
    uint64_t old_epoch = s_epoch(node);
    cs_sync_peer_stats_t st;
    assert_int_equal(cs_sync_peer_stats(sim->nodes[0].sync, node->id, &st),
                     CS_OK);
    assert_int_equal(st.cursor_epoch, old_epoch);
    assert_true(st.cursor_seq > 0);
    /* wipe: a new store in a new directory, same node id, new epoch */
    s_node_stop(node);
    s_node_rmdir(node);
    s_node_start(node, true);
    assert_int_not_equal(s_epoch(node), old_epoch);
    assert_int_equal(s_head(node), 0);
    sim->drop_pct = 10;
    s_run_writes(sim, 200, 60);
    size_t steps = s_settle(sim);
    s_report(sim, "wipe", steps);
    /* the others started their cursors on it again, in its new epoch */
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(cs_sync_peer_stats(sim->nodes[i].sync, node->id, &st),
                         CS_OK);
        assert_int_equal(st.cursor_epoch, s_epoch(node));
    }
}

static void
test_sim_node_down_then_back(void **state)
{
    s_sim_t *sim = s_sim_new(4, S_MESH, 6);
    *state = sim;
    sim->drop_pct = 10;
    sim->dup_pct = 10;
    s_run_writes(sim, 200, 60);
    /* node 3 goes down (its process stops) while the others write */
    s_node_t *node = &sim->nodes[3];
    cs_sync_peer_stats_t before[3];
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            cs_sync_peer_stats(node->sync, sim->nodes[i].id, &before[i]),
            CS_OK);
    }
    s_node_stop(node);
    s_run_writes(sim, 300, 60);
    for (size_t i = 0; i < 3; i++) {
        cs_sync_peer_stats_t st;
        assert_int_equal(cs_sync_peer_stats(sim->nodes[i].sync, node->id, &st),
                         CS_OK);
        assert_false(st.connected);
        assert_false(st.pull_in_flight);
    }
    /* back: it reopens its store and finds its cursors there */
    s_node_start(node, false);
    for (size_t i = 0; i < 3; i++) {
        cs_sync_peer_stats_t st;
        assert_int_equal(cs_sync_peer_stats(node->sync, sim->nodes[i].id, &st),
                         CS_OK);
        assert_int_equal(st.cursor_epoch, before[i].cursor_epoch);
        assert_int_equal(st.cursor_seq, before[i].cursor_seq);
    }
    size_t steps = s_settle(sim);
    s_report(sim, "down", steps);
}

int
main(void)
{
    const char *env = getenv("CS_TEST_SEED");
    s_seed = env ? strtoull(env, NULL, 10)
                 : (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 20);
    printf("test_sync_sim: seed=%" PRIu64 " (set CS_TEST_SEED to replay)\n",
           s_seed);
    fflush(stdout);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sim_mesh_lossy_network_converges,
                                  s_teardown),
        cmocka_unit_test_teardown(test_sim_concurrent_write_larger_origin_wins,
                                  s_teardown),
        cmocka_unit_test_teardown(test_sim_line_relays_through_middle_nodes,
                                  s_teardown),
        cmocka_unit_test_teardown(test_sim_hub_and_spokes, s_teardown),
        cmocka_unit_test_teardown(test_sim_wiped_node_resyncs, s_teardown),
        cmocka_unit_test_teardown(test_sim_node_down_then_back, s_teardown),
        cmocka_unit_test_teardown(test_sim_small_batches_many_seeds_converge,
                                  s_teardown),
    };
    return cmocka_run_group_tests_name("net/sync_sim", tests, NULL, NULL);
}
