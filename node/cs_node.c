/*  cs_node - the daemon.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/un.h>
#include <unistd.h>

#include <czmq.h>

#include "crdt/cs_codec.h"
#include "net/cs_msg.h"
#include "net/cs_sync.h"
#include "net/cs_transport.h"
#include "node/cs_config.h"
#include "node/cs_datadir.h"
#include "node/cs_node.h"
#include "node/cs_syncstore.h"

#define S_WATCH_MS 1000 /* how often counters are checked for the log */

/* What the node keeps per configured peer, beside cs_sync's stats. */
typedef struct {
    cs_config_peer_t conf;
    uint64_t bytes_in, bytes_out;
    cs_sync_peer_stats_t logged; /* as of the last log check */
} s_peer_t;

typedef struct {
    cs_config_t *config;
    cs_store_t *store;
    cs_syncstore_t *syncstore;
    cs_sync_t *sync;
    cs_transport_t *transport;
    zloop_t *loop;
    zsock_t *status;
    int lock_fd;
    s_peer_t *peers;
    size_t n_peers;
    cs_buf_t frame; /* encoding buffer */
    int64_t started;
    uint64_t unknown_logged;
    uint64_t marked_epoch, marked_head; /* the data directory's feed mark */
} s_node_t;

static volatile sig_atomic_t s_reload_requested;

static void
s_on_sighup(int sig)
{
    (void) sig;
    s_reload_requested = 1;
}

static uint64_t
s_now(void)
{
    return (uint64_t) zclock_mono();
}

static s_peer_t *
s_peer(s_node_t *self, uint64_t node_id)
{
    for (size_t i = 0; i < self->n_peers; i++) {
        if (self->peers[i].conf.node_id == node_id) {
            return &self->peers[i];
        }
    }
    return NULL;
}

/* ---------------- frames in and out ---------------- */

static int
s_send(void *arg, uint64_t peer_id, const cs_msg_t *msg)
{
    s_node_t *self = arg;
    cs_buf_reset(&self->frame);
    cs_msg_encode(msg, &self->frame);
    int rc = cs_transport_send(self->transport, peer_id, self->frame.data,
                               self->frame.len);
    s_peer_t *peer = s_peer(self, peer_id);
    if (rc == CS_OK && peer) {
        peer->bytes_out += self->frame.len;
    }
    return rc == CS_OK ? CS_OK : CS_EAGAIN;
}

static void
s_recv(void *arg, uint64_t peer_id, const void *data, size_t len)
{
    s_node_t *self = arg;
    s_peer_t *peer = s_peer(self, peer_id);
    if (!peer) {
        return; /* the transport knows it, we don't yet (reload) */
    }
    peer->bytes_in += len;
    cs_msg_t msg;
    if (cs_msg_decode(data, len, &msg) != CS_OK) {
        cs_sync_reject(self->sync, peer_id);
        return;
    }
    cs_sync_on_message(self->sync, peer_id, &msg, s_now());
    cs_msg_fini(&msg);
}

/* ---------------- peers and reload ---------------- */

static int
s_peers_apply(s_node_t *self, const cs_config_t *config)
{
    size_t n = config->n_peers;
    cs_transport_peer_t *tp = calloc(n ? n : 1, sizeof *tp);
    s_peer_t *next = calloc(n ? n : 1, sizeof *next);
    assert(tp && next);
    for (size_t i = 0; i < n; i++) {
        const cs_config_peer_t *conf = &config->peers[i];
        tp[i].node_id = conf->node_id;
        memcpy(tp[i].public_key, conf->public_key, sizeof tp[i].public_key);
        snprintf(tp[i].endpoint, sizeof tp[i].endpoint, "%s", conf->endpoint);
        s_peer_t *old = s_peer(self, conf->node_id);
        if (old) {
            next[i] = *old;
        }
        next[i].conf = *conf;
    }
    int rc = cs_transport_set_peers(self->transport, tp, n);
    free(tp);
    if (rc != CS_OK) {
        free(next);
        return rc;
    }
    for (size_t i = 0; i < self->n_peers; i++) {
        if (!cs_config_peer(config, self->peers[i].conf.node_id)) {
            zsys_notice("peer %s (%016" PRIx64 ") removed: revoked",
                        self->peers[i].conf.name, self->peers[i].conf.node_id);
            cs_sync_peer_remove(self->sync, self->peers[i].conf.node_id);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!s_peer(self, next[i].conf.node_id)) {
            rc = cs_sync_peer_add(self->sync, next[i].conf.node_id);
            if (rc != CS_OK) {
                zsys_error("peer %s: cannot read its cursor: %s",
                           next[i].conf.name, cs_strerror(rc));
                break;
            }
            zsys_info("peer %s (%016" PRIx64 ") %s%s", next[i].conf.name,
                      next[i].conf.node_id,
                      next[i].conf.endpoint[0] ? "dialled at " : "",
                      next[i].conf.endpoint[0] ? next[i].conf.endpoint
                                               : "waits for it to dial in");
        }
    }
    free(self->peers);
    self->peers = next;
    self->n_peers = n;
    return rc;
}

/* The config checks it cannot make alone: no peer may be this node. */
static int
s_config_check(const s_node_t *self, const cs_config_t *config)
{
    uint64_t me = cs_transport_node_id(self->transport);
    if (cs_config_peer(config, me)) {
        zsys_error("%s: peers: %s is this node's own key", config->path,
                   cs_config_peer(config, me)->name);
        return CS_EINVAL;
    }
    return CS_OK;
}

static void
s_reload(s_node_t *self)
{
    zsys_notice("SIGHUP: reloading %s", self->config->path);
    cs_config_t *config = NULL;
    if (cs_config_load(self->config->path, &config) != CS_OK ||
        s_config_check(self, config) != CS_OK) {
        zsys_error("%s has errors (above): the running configuration is "
                   "kept",
                   self->config->path);
        cs_config_destroy(&config);
        return;
    }
    if (!streq(config->data, self->config->data) ||
        !streq(config->bind, self->config->bind)) {
        zsys_warning("the data directory and the bind address change only "
                     "at a restart");
    }
    int rc = s_peers_apply(self, config);
    if (rc != CS_OK) {
        zsys_error("reload: %s", cs_strerror(rc));
    }
    cs_config_destroy(&self->config);
    self->config = config;
    zsys_notice("reloaded: %zu peers", self->n_peers);
}

/* ---------------- status ---------------- */

static void s_putf(zconfig_t *root, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_putf(zconfig_t *root, const char *path, const char *fmt, ...)
{
    char value[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(value, sizeof value, fmt, args);
    va_end(args);
    zconfig_put(root, path, value);
}

static char *
s_status_text(s_node_t *self)
{
    zconfig_t *root = zconfig_new("root", NULL);
    cs_store_info_t info = { 0 };
    int rc = cs_store_info(self->store, &info);
    uint64_t now = s_now();
    s_putf(root, "node/node_id", "%016" PRIx64,
           cs_transport_node_id(self->transport));
    zconfig_put(root, "node/public_key",
                cs_transport_public_key(self->transport));
    s_putf(root, "node/epoch", "%016" PRIx64, cs_store_epoch(self->store));
    zconfig_put(root, "node/data", self->config->data);
    zconfig_put(root, "node/bind", cs_transport_endpoint(self->transport));
    s_putf(root, "node/pid", "%d", (int) getpid());
    s_putf(root, "node/uptime_ms", "%" PRIu64, now - (uint64_t) self->started);
    if (rc == CS_OK) {
        s_putf(root, "node/records", "%" PRIu64, info.records);
        s_putf(root, "node/feed_head", "%" PRIu64, info.feed_head);
    }
    s_putf(root, "node/unknown_frames", "%" PRIu64,
           cs_transport_unknown(self->transport) + cs_sync_unknown(self->sync));
    zconfig_put(root, "peers", "");
    for (size_t i = 0; i < self->n_peers; i++) {
        const s_peer_t *peer = &self->peers[i];
        cs_sync_peer_stats_t st = { 0 };
        if (cs_sync_peer_stats(self->sync, peer->conf.node_id, &st) != CS_OK) {
            continue;
        }
        st.rejected +=
            cs_transport_rejected(self->transport, peer->conf.node_id);
        char base[128];
        snprintf(base, sizeof base, "peers/%s", peer->conf.name);
#define S_PUT(key, fmt, value)                             \
    do {                                                   \
        char path_[192];                                   \
        snprintf(path_, sizeof path_, "%s/%s", base, key); \
        s_putf(root, path_, fmt, value);                   \
    } while (0)
        S_PUT("node_id", "%016" PRIx64, peer->conf.node_id);
        S_PUT("endpoint", "%s", peer->conf.endpoint);
        S_PUT("connected", "%s", st.connected ? "true" : "false");
        S_PUT("last_contact_ms_ago", "%" PRId64,
              st.last_contact ? (int64_t) (now - st.last_contact) : -1);
        S_PUT("peer_epoch", "%016" PRIx64, st.peer_epoch);
        S_PUT("peer_head", "%" PRIu64, st.peer_head);
        S_PUT("cursor_epoch", "%016" PRIx64, st.cursor_epoch);
        S_PUT("cursor", "%" PRIu64, st.cursor_seq);
        S_PUT("cursor_base", "%" PRIu64, st.cursor_base);
        S_PUT("behind", "%" PRIu64, st.behind);
        S_PUT("bytes_in", "%" PRIu64, peer->bytes_in);
        S_PUT("bytes_out", "%" PRIu64, peer->bytes_out);
        S_PUT("msgs_in", "%" PRIu64, st.msgs_in);
        S_PUT("msgs_out", "%" PRIu64, st.msgs_out);
        S_PUT("changes_in", "%" PRIu64, st.changes_in);
        S_PUT("changes_out", "%" PRIu64, st.changes_out);
        S_PUT("records_changed", "%" PRIu64, st.records_changed);
        S_PUT("rejected", "%" PRIu64, st.rejected);
        S_PUT("stale", "%" PRIu64, st.stale);
        S_PUT("skewed", "%" PRIu64, st.skewed);
        S_PUT("refused", "%" PRIu64, st.refused);
        S_PUT("apply_errors", "%" PRIu64, st.apply_errors);
#undef S_PUT
    }
    char *text = zconfig_str_save(root);
    zconfig_destroy(&root);
    return text;
}

static int
s_status_readable(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    s_node_t *self = arg;
    char *request = zstr_recv(sock);
    char *text = request && streq(request, CS_NODE_STATUS_REQ)
                     ? s_status_text(self)
                     : strdup("error = unknown request\n");
    zstr_free(&request);
    zstr_send(sock, text);
    free(text);
    return 0;
}

/* ---------------- timers ---------------- */

static int
s_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    s_node_t *self = arg;
    if (s_reload_requested) {
        s_reload_requested = 0;
        s_reload(self);
    }
    cs_sync_on_tick(self->sync, s_now());
    return 0;
}

/* Bring the data directory's feed mark up to the store's head (see
 * cs_datadir_open: it reveals a store restored from an older copy). */
static void
s_mark(s_node_t *self)
{
    cs_store_info_t info;
    if (cs_store_info(self->store, &info) != CS_OK ||
        (info.epoch == self->marked_epoch &&
         info.feed_head == self->marked_head)) {
        return;
    }
    if (cs_datadir_mark(self->config->data, info.epoch, info.feed_head) ==
        CS_OK) {
        self->marked_epoch = info.epoch;
        self->marked_head = info.feed_head;
    }
}

/* Log what changed in a peer's counters: connections, and anything
 * refused, skewed or failing; move the feed mark. */
static int
s_watch(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    s_node_t *self = arg;
    s_mark(self);
    for (size_t i = 0; i < self->n_peers; i++) {
        s_peer_t *peer = &self->peers[i];
        cs_sync_peer_stats_t st;
        if (cs_sync_peer_stats(self->sync, peer->conf.node_id, &st) != CS_OK) {
            continue;
        }
        st.rejected +=
            cs_transport_rejected(self->transport, peer->conf.node_id);
        const cs_sync_peer_stats_t *old = &peer->logged;
        const char *name = peer->conf.name;
        if (st.connected != old->connected) {
            zsys_info("peer %s %s", name,
                      st.connected ? "connected" : "is unreachable");
        }
        if (st.skewed > old->skewed) {
            zsys_warning("peer %s: %" PRIu64 " timestamps more than the max "
                         "drift ahead of our clock (merged; our clock not "
                         "moved)",
                         name, st.skewed - old->skewed);
        }
        if (st.rejected > old->rejected) {
            zsys_warning("peer %s: %" PRIu64 " malformed messages dropped",
                         name, st.rejected - old->rejected);
        }
        if (st.refused > old->refused) {
            zsys_warning("peer %s: %" PRIu64 " records over a limit not "
                         "applied",
                         name, st.refused - old->refused);
        }
        if (st.apply_errors > old->apply_errors) {
            zsys_error("peer %s: %" PRIu64 " batches could not be stored", name,
                       st.apply_errors - old->apply_errors);
        }
        peer->logged = st;
    }
    uint64_t unknown =
        cs_transport_unknown(self->transport) + cs_sync_unknown(self->sync);
    if (unknown > self->unknown_logged) {
        zsys_warning("%" PRIu64 " frames from unknown keys dropped",
                     unknown - self->unknown_logged);
        self->unknown_logged = unknown;
    }
    return 0;
}

/* ---------------- start and stop ---------------- */

static int
s_lock(s_node_t *self, const char *data)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", data, CS_NODE_LOCK_FILE);
    self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0) {
        zsys_error("%s: %s", path, strerror(errno));
        return CS_EIO;
    }
    if (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        zsys_error("another node is running on %s (%s is locked)", data, path);
        return CS_EEXIST;
    }
    return CS_OK;
}

static int
s_status_open(s_node_t *self, const char *data)
{
    char endpoint[PATH_MAX + 16];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/%s", data,
             CS_NODE_STATUS_IPC);
    if (strlen(endpoint) - strlen("ipc://") >=
        sizeof(((struct sockaddr_un *) 0)->sun_path)) {
        zsys_error("%s: the data directory's path is too long for the "
                   "status socket (a Unix socket path is at most %zu bytes)",
                   endpoint, sizeof(((struct sockaddr_un *) 0)->sun_path) - 1);
        return CS_EINVAL;
    }
    self->status = zsock_new(ZMQ_REP);
    if (!self->status || zsock_bind(self->status, "%s", endpoint) != 0) {
        zsys_error("cannot serve status on %s: %s", endpoint,
                   zmq_strerror(zmq_errno()));
        return CS_EIO;
    }
    zsock_set_linger(self->status, 0);
    zloop_reader(self->loop, self->status, s_status_readable, self);
    zloop_reader_set_tolerant(self->loop, self->status);
    return CS_OK;
}

static void
s_destroy(s_node_t *self)
{
    cs_sync_destroy(&self->sync);
    cs_transport_destroy(&self->transport);
    zsock_destroy(&self->status);
    cs_syncstore_destroy(&self->syncstore);
    if (self->store) {
        s_mark(self);
    }
    cs_store_destroy(&self->store);
    zloop_destroy(&self->loop);
    cs_config_destroy(&self->config);
    cs_buf_fini(&self->frame);
    free(self->peers);
    if (self->lock_fd >= 0) {
        close(self->lock_fd);
    }
}

static int
s_start(s_node_t *self)
{
    const cs_config_t *config = self->config;
    int rc = s_lock(self, config->data);
    if (rc != CS_OK) {
        return rc;
    }
    cs_store_opts_t opts = { .max_drift_ms = config->max_drift_ms };
    rc = cs_datadir_open(config->data, &opts, &self->store);
    if (rc != CS_OK) {
        zsys_error("%s: cannot open the node's store: %s", config->data,
                   cs_strerror(rc));
        return rc;
    }
    self->loop = zloop_new();
    rc = cs_transport_new(config->data, self->loop, s_recv, self,
                          &self->transport);
    if (rc != CS_OK) {
        zsys_error("%s: transport: %s", config->data, cs_strerror(rc));
        return rc;
    }
    rc = s_config_check(self, config);
    if (rc != CS_OK) {
        return rc;
    }
    self->syncstore = cs_syncstore_new(self->store);
    cs_sync_ops_t ops;
    cs_syncstore_ops(self->syncstore, s_send, self, &ops);
    self->sync = cs_sync_new(&config->sync, &ops);
    rc = s_peers_apply(self, config);
    if (rc == CS_OK && config->bind[0]) {
        rc = cs_transport_bind(self->transport, config->bind);
    }
    if (rc == CS_OK) {
        rc = s_status_open(self, config->data);
    }
    return rc;
}

int
cs_node_run(const char *config_path)
{
    assert(config_path);
    zsys_init();
    zsys_set_logstream(stderr);
    zsys_set_logident("crmsync");
    s_node_t node = { .lock_fd = -1, .started = zclock_mono() };
    cs_buf_init(&node.frame);
    int rc = cs_config_load(config_path, &node.config);
    if (rc != CS_OK) {
        return rc;
    }
    rc = s_start(&node);
    if (rc == CS_OK) {
        struct sigaction action = { .sa_handler = s_on_sighup };
        sigemptyset(&action.sa_mask);
        sigaction(SIGHUP, &action, NULL);
        zloop_timer(node.loop, CS_NODE_TICK_MS, 0, s_tick, &node);
        zloop_timer(node.loop, S_WATCH_MS, 0, s_watch, &node);
        zsys_notice("node %016" PRIx64 " running: data %s, %s%s, peers: %zu",
                    cs_transport_node_id(node.transport), node.config->data,
                    node.config->bind[0] ? "listening on " : "dial-out only",
                    cs_transport_endpoint(node.transport), node.n_peers);
        /* zloop_start also returns when a signal interrupts its poll
         * (EINTR): a SIGHUP asks for a reload (done by s_tick), not a
         * stop, so poll again unless we were told to stop. */
        while (zloop_start(node.loop) == 0 && !zsys_interrupted &&
               s_reload_requested) {
        }
        zsys_notice("stopping");
        signal(SIGHUP, SIG_DFL);
    }
    s_destroy(&node);
    return rc;
}
