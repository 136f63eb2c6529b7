/*  cs_transport - the ZeroMQ + CURVE transport of the sync protocol.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/cs_msg.h"
#include "net/cs_transport.h"

#define S_ZAP_DOMAIN "crmsync"

/* No ZMTP heartbeats: libzmq 4.3.4 can abort on a crafted PING (libzmq
 * issue #4364). Dead peers are found by TCP keepalive and TCP_MAXRT; the
 * sync layer has its own heartbeats. */
#define S_KEEPALIVE_IDLE    5     /* s: idle before the first TCP probe */
#define S_KEEPALIVE_INTVL   1     /* s: between probes */
#define S_KEEPALIVE_CNT     5     /* probes unanswered: connection dead */
#define S_TCP_MAXRT         10000 /* ms: unacked data: connection dead */
#define S_HANDSHAKE_IVL     5000  /* ms: a handshake must end within */
#define S_RECONNECT_IVL     100   /* ms: first redial, doubling ... */
#define S_RECONNECT_IVL_MAX 5000  /* ms: ... up to this */
/* Messages queued per connection before libzmq stops reading it (TCP
 * backpressure, no loss). An honest peer has a few in flight (one pull,
 * its answer, notices), so this only bounds what a trusted peer gone bad
 * can make us hold: 16 x CS_MSG_MAX, about 256 MiB, not libzmq's default
 * 1000 x 16 MiB. */
#define S_RCVHWM 16
#define S_MONITOR_EVENTS                                                    \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
#define S_SELFCHECK_WAIT  5000 /* ms: for the trusted probe */
#define S_SELFCHECK_AFTER 300  /* ms: more, for the untrusted one */
#define S_REBIND_TRIES    250  /* re-creating the ROUTER: bind tries ... */
#define S_REBIND_WAIT     20   /* ... this many ms apart */

typedef enum {
    S_VIA_NONE = 0,
    S_VIA_DEALER,
    S_VIA_ROUTER,
} s_via_t;

typedef struct {
    cs_transport_peer_t conf;
    zsock_t *dealer;   /* NULL if we don't dial it */
    zsock_t *monitor;  /* the dealer's handshake events, or NULL */
    int redial_timer;  /* zloop timer of a pending redial, or 0 */
    int redial_ms;     /* backoff after failed handshakes; 0 after one ok */
    zframe_t *route;   /* its last routing id on the ROUTER, or NULL */
    s_via_t last_via;  /* how we last heard from it */
    uint64_t rejected; /* its messages dropped here (multipart) */
} s_peer_t;

struct cs_transport {
    zloop_t *loop;
    cs_transport_recv_fn *fn;
    void *fn_arg;
    zcert_t *cert;
    uint64_t node_id;
    zactor_t *auth;
    char trust_dir[PATH_MAX];
    char bind[CS_TRANSPORT_ENDPOINT_MAX + 1]; /* "" if not listening */
    zsock_t *router;
    s_peer_t *peers;
    size_t n_peers;
    uint64_t unknown;
    uint64_t monitors; /* monitors made: each has its own endpoint */
};

/* ---------------- sockets ---------------- */

static void
s_socket_options(zsock_t *sock, zcert_t *cert)
{
    zcert_apply(cert, sock);
    zsock_set_linger(sock, 0);
    zsock_set_maxmsgsize(sock, (int) CS_MSG_MAX);
    zsock_set_rcvhwm(sock, S_RCVHWM);
    zsock_set_tcp_keepalive(sock, 1);
    zsock_set_tcp_keepalive_idle(sock, S_KEEPALIVE_IDLE);
    zsock_set_tcp_keepalive_intvl(sock, S_KEEPALIVE_INTVL);
    zsock_set_tcp_keepalive_cnt(sock, S_KEEPALIVE_CNT);
    zsock_set_tcp_maxrt(sock, S_TCP_MAXRT);
    zsock_set_handshake_ivl(sock, S_HANDSHAKE_IVL);
}

static zsock_t *
s_server_new(zcert_t *cert)
{
    zsock_t *sock = zsock_new(ZMQ_ROUTER);
    if (!sock) {
        return NULL;
    }
    s_socket_options(sock, cert);
    zsock_set_curve_server(sock, 1);
    zsock_set_zap_domain(sock, S_ZAP_DOMAIN);
    zsock_set_router_mandatory(sock, 1);
    return sock;
}

/* A DEALER dialling @p endpoint. With @p monitor, first a PAIR socket
 * connected to the monitor of its handshakes at inproc://@p monitor (set
 * to NULL if that fails), so that no event is missed. */
static zsock_t *
s_client_new(zcert_t *cert, const char *server_key, const char *endpoint,
             const char *monitor, zsock_t **monitor_p)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock) {
        return NULL;
    }
    s_socket_options(sock, cert);
    zsock_set_curve_serverkey(sock, server_key);
    zsock_set_immediate(sock, 1);
    zsock_set_reconnect_ivl(sock, S_RECONNECT_IVL);
    zsock_set_reconnect_ivl_max(sock, S_RECONNECT_IVL_MAX);
    if (monitor) {
        *monitor_p = zsock_new(ZMQ_PAIR);
        if (!*monitor_p ||
            zmq_socket_monitor(zsock_resolve(sock), monitor,
                               S_MONITOR_EVENTS) != 0 ||
            zsock_connect(*monitor_p, "%s", monitor) != 0) {
            zsys_warning("transport: cannot watch the handshakes with %s: "
                         "%s (no redial after a refused one)",
                         endpoint, zmq_strerror(zmq_errno()));
            zsock_destroy(monitor_p);
        }
    }
    if (zsock_connect(sock, "%s", endpoint) != 0) {
        zsys_error("transport: cannot dial %s: %s", endpoint,
                   zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
    }
    return sock;
}

/* The next event of a handshake monitor (ZMQ_EVENT_*), 0 if unreadable. */
static uint16_t
s_event_recv(zsock_t *monitor)
{
    zmsg_t *msg = zmsg_recv(monitor);
    zframe_t *head = msg ? zmsg_first(msg) : NULL;
    uint16_t event = 0;
    if (head && zframe_size(head) >= sizeof event) {
        memcpy(&event, zframe_data(head), sizeof event);
    }
    zmsg_destroy(&msg);
    return event;
}

/* ---------------- self-check ---------------- */

int
cs_transport_selfcheck(zcert_t *cert)
{
    assert(cert);
    zsock_t *server = s_server_new(cert);
    zcert_t *stranger = zcert_new();
    zsock_t *good = NULL, *bad = NULL, *bad_watch = NULL;
    int rc = CS_EIO;
    int port = server ? zsock_bind(server, "tcp://127.0.0.1:*") : -1;
    if (port < 0 || !stranger) {
        zsys_error("transport: self-check: no loopback socket: %s",
                   zmq_strerror(zmq_errno()));
        goto done;
    }
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    /* The stranger's handshakes are watched: once the ZAP handler has
     * refused it (HANDSHAKE_FAILED_AUTH; libzmq does not dial again), the
     * check need not wait S_SELFCHECK_AFTER for it. */
    char watch[64];
    snprintf(watch, sizeof watch, "inproc://cs-transport-selfcheck-%p",
             (void *) watch);
    good = s_client_new(cert, zcert_public_txt(cert), endpoint, NULL, NULL);
    bad = s_client_new(stranger, zcert_public_txt(cert), endpoint, watch,
                       &bad_watch);
    if (!good || !bad) {
        goto done;
    }
    /* DEALERs are immediate: a frame only queues on a connection whose
     * handshake is done, so keep offering until one is taken. */
    bool good_sent = false, bad_sent = false, good_seen = false;
    bool bad_refused = false;
    const char *failure = NULL;
    int64_t deadline = zclock_mono() + S_SELFCHECK_WAIT;
    zpoller_t *poller = zpoller_new(server, NULL);
    if (bad_watch) {
        zpoller_add(poller, bad_watch);
    }
    while (!failure && !(good_seen && bad_refused) &&
           zclock_mono() < deadline) {
        if (!good_sent) {
            good_sent =
                zmq_send(zsock_resolve(good), "good", 4, ZMQ_DONTWAIT) == 4;
        }
        if (!bad_sent) {
            bad_sent =
                zmq_send(zsock_resolve(bad), "bad", 3, ZMQ_DONTWAIT) == 3;
        }
        void *ready = zpoller_wait(poller, 20);
        if (!ready) {
            continue;
        }
        if (ready == bad_watch) {
            uint16_t event = s_event_recv(bad_watch);
            bad_refused =
                bad_refused || event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
            continue;
        }
        zmsg_t *msg = zmsg_recv(server);
        zframe_t *route = msg ? zmsg_pop(msg) : NULL;
        zframe_t *body = msg ? zmsg_first(msg) : NULL;
        if (body && zframe_streq(body, "bad")) {
            failure = "a client with an unknown CURVE key was let in";
        } else if (body && zframe_streq(body, "good")) {
            const char *user = zframe_meta(body, "User-Id");
            good_seen = user && streq(user, zcert_public_txt(cert));
            if (!good_seen) {
                failure = "the trusted probe came without its key as "
                          "User-Id";
            }
            /* The stranger's handshake started with this one: give it a
             * little longer, then conclude. */
            int64_t after = zclock_mono() + S_SELFCHECK_AFTER;
            deadline = after < deadline ? after : deadline;
        }
        zframe_destroy(&route);
        zmsg_destroy(&msg);
    }
    zpoller_destroy(&poller);
    if (!failure && !good_seen) {
        failure = "the node's own key was not let in";
    }
    if (failure) {
        zsys_error("transport: CURVE self-check FAILED: %s; no working ZAP "
                   "handler, so the node will not serve",
                   failure);
    }
    if (!failure) {
        zsys_info("transport: CURVE self-check passed: an unknown key was "
                  "refused, the node's own key let in");
    }
    rc = failure ? CS_EAUTH : CS_OK;
done:
    if (bad && bad_watch) {
        zmq_socket_monitor(zsock_resolve(bad), NULL, 0);
    }
    zsock_destroy(&bad_watch);
    zsock_destroy(&good);
    zsock_destroy(&bad);
    zsock_destroy(&server);
    zcert_destroy(&stranger);
    return rc;
}

/* ---------------- allow-list ---------------- */

/* Rewrite the allow-list directory: the node's own key and each peer's,
 * one public certificate file each, then have zauth load it again. */
static int
s_trust_write(cs_transport_t *self, const cs_transport_peer_t *peers, size_t n)
{
    DIR *dir = opendir(self->trust_dir);
    if (!dir) {
        zsys_error("transport: %s: %s", self->trust_dir, strerror(errno));
        return CS_EIO;
    }
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] != '.') {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", self->trust_dir,
                     entry->d_name);
            unlink(path);
        }
    }
    closedir(dir);
    uint8_t zero[32] = { 0 };
    for (size_t i = 0; i <= n; i++) {
        const uint8_t *key = zcert_public_key(self->cert);
        uint8_t decoded[32];
        if (i < n) {
            if (!zmq_z85_decode(decoded, peers[i].public_key)) {
                return CS_EINVAL;
            }
            key = decoded;
        }
        zcert_t *cert = zcert_new_from(key, zero);
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%016" PRIx64 ".cert", self->trust_dir,
                 i < n ? peers[i].node_id : self->node_id);
        int rc = cert ? zcert_save_public(cert, path) : -1;
        zcert_destroy(&cert);
        if (rc != 0) {
            zsys_error("transport: cannot write %s", path);
            return CS_EIO;
        }
    }
    /* zauth builds a new certificate store from the directory on each
     * CURVE command (its own change detection looks only at the
     * directory's time, count and size). */
    zstr_sendx(self->auth, "CURVE", self->trust_dir, NULL);
    return zsock_wait(self->auth) == 0 ? CS_OK : CS_EIO;
}

/* ---------------- receiving ---------------- */

static s_peer_t *
s_peer_find(cs_transport_t *self, uint64_t node_id)
{
    for (size_t i = 0; i < self->n_peers; i++) {
        if (self->peers[i].conf.node_id == node_id) {
            return &self->peers[i];
        }
    }
    return NULL;
}

static s_peer_t *
s_peer_by_key(cs_transport_t *self, const char *z85)
{
    for (size_t i = 0; z85 && i < self->n_peers; i++) {
        if (streq(self->peers[i].conf.public_key, z85)) {
            return &self->peers[i];
        }
    }
    return NULL;
}

static int
s_router_readable(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    cs_transport_t *self = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg) {
        return 0;
    }
    zframe_t *route = zmsg_pop(msg);
    zframe_t *body = zmsg_first(msg);
    s_peer_t *peer =
        body ? s_peer_by_key(self, zframe_meta(body, "User-Id")) : NULL;
    if (!peer) {
        self->unknown++;
        zframe_destroy(&route);
    } else if (zmsg_size(msg) != 1) {
        /* One message is one frame: a multipart one is not ours. */
        peer->rejected++;
        zframe_destroy(&route);
    } else {
        zframe_destroy(&peer->route);
        peer->route = route;
        peer->last_via = S_VIA_ROUTER;
        self->fn(self->fn_arg, peer->conf.node_id, zframe_data(body),
                 zframe_size(body));
    }
    zmsg_destroy(&msg);
    return 0;
}

static int
s_dealer_readable(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    cs_transport_t *self = arg;
    zmsg_t *msg = zmsg_recv(sock);
    s_peer_t *peer = NULL;
    for (size_t i = 0; i < self->n_peers; i++) {
        if (self->peers[i].dealer == sock) {
            peer = &self->peers[i];
        }
    }
    if (msg && peer && zmsg_size(msg) != 1) {
        peer->rejected++; /* one message is one frame */
    } else if (msg && peer) {
        zframe_t *body = zmsg_first(msg);
        peer->last_via = S_VIA_DEALER;
        self->fn(self->fn_arg, peer->conf.node_id, zframe_data(body),
                 zframe_size(body));
    }
    zmsg_destroy(&msg);
    return 0;
}

/* ---------------- lifecycle ---------------- */

int
cs_transport_new(const char *data_dir, zloop_t *loop, cs_transport_recv_fn *fn,
                 void *arg, cs_transport_t **self_p)
{
    assert(data_dir && loop && fn && self_p);
    *self_p = NULL;
    cs_transport_t *self = calloc(1, sizeof *self);
    assert(self);
    self->loop = loop;
    self->fn = fn;
    self->fn_arg = arg;
    int rc = cs_keys_cert(data_dir, &self->cert);
    if (rc != CS_OK) {
        free(self);
        return rc;
    }
    self->node_id = cs_keys_node_id(zcert_public_key(self->cert));
    snprintf(self->trust_dir, sizeof self->trust_dir, "%s/%s", data_dir,
             CS_TRANSPORT_TRUST_DIR);
    if (mkdir(self->trust_dir, 0700) != 0 && errno != EEXIST) {
        zsys_error("transport: %s: %s", self->trust_dir, strerror(errno));
        rc = CS_EIO;
    }
    /* zauth first: "the handler SHALL start before any server starts". */
    self->auth = rc == CS_OK ? zactor_new(zauth, NULL) : NULL;
    if (rc == CS_OK && !self->auth) {
        rc = CS_EIO;
    }
    if (rc == CS_OK) {
        rc = s_trust_write(self, NULL, 0);
    }
    if (rc == CS_OK) {
        rc = cs_transport_selfcheck(self->cert);
    }
    if (rc != CS_OK) {
        cs_transport_destroy(&self);
        return rc;
    }
    *self_p = self;
    return CS_OK;
}

static void
s_dealer_close(cs_transport_t *self, s_peer_t *peer)
{
    if (peer->redial_timer) {
        zloop_timer_end(self->loop, peer->redial_timer);
        peer->redial_timer = 0;
    }
    if (peer->monitor) {
        zloop_reader_end(self->loop, peer->monitor);
        zmq_socket_monitor(zsock_resolve(peer->dealer), NULL, 0);
        zsock_destroy(&peer->monitor);
    }
    if (peer->dealer) {
        zloop_reader_end(self->loop, peer->dealer);
        zsock_destroy(&peer->dealer);
    }
}

static void
s_peer_close(cs_transport_t *self, s_peer_t *peer)
{
    s_dealer_close(self, peer);
    zframe_destroy(&peer->route);
}

static void
s_router_close(cs_transport_t *self)
{
    if (self->router) {
        zloop_reader_end(self->loop, self->router);
        zsock_destroy(&self->router);
    }
}

void
cs_transport_destroy(cs_transport_t **self_p)
{
    assert(self_p);
    cs_transport_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_peers; i++) {
        s_peer_close(self, &self->peers[i]);
    }
    free(self->peers);
    s_router_close(self);
    zactor_destroy(&self->auth);
    zcert_destroy(&self->cert);
    free(self);
    *self_p = NULL;
}

static int
s_router_open(cs_transport_t *self)
{
    assert(!self->router);
    self->router = s_server_new(self->cert);
    /* A ROUTER just closed frees its address a moment later, in libzmq's
     * I/O thread: when re-creating, try again for a while. */
    int rc = self->router ? zsock_bind(self->router, "%s", self->bind) : -1;
    for (int i = 0; rc < 0 && self->router && zmq_errno() == EADDRINUSE &&
                    i < S_REBIND_TRIES;
         i++) {
        zclock_sleep(S_REBIND_WAIT);
        rc = zsock_bind(self->router, "%s", self->bind);
    }
    if (rc < 0) {
        zsys_error("transport: cannot listen on %s: %s", self->bind,
                   zmq_strerror(zmq_errno()));
        zsock_destroy(&self->router);
        return CS_EIO;
    }
    zloop_reader(self->loop, self->router, s_router_readable, self);
    zloop_reader_set_tolerant(self->loop, self->router);
    return CS_OK;
}

int
cs_transport_bind(cs_transport_t *self, const char *endpoint)
{
    assert(self && endpoint);
    if (strlen(endpoint) > CS_TRANSPORT_ENDPOINT_MAX || self->router) {
        return CS_EINVAL;
    }
    snprintf(self->bind, sizeof self->bind, "%s", endpoint);
    int rc = s_router_open(self);
    if (rc != CS_OK) {
        self->bind[0] = '\0';
        return rc;
    }
    /* Keep the address bound, port resolved, so that re-creating the
     * ROUTER binds the same one. */
    char *bound = zsock_last_endpoint(self->router);
    if (bound && strlen(bound) <= CS_TRANSPORT_ENDPOINT_MAX) {
        snprintf(self->bind, sizeof self->bind, "%s", bound);
    }
    zstr_free(&bound);
    return CS_OK;
}

/* ---------------- dialling ---------------- */

static int s_monitor_readable(zloop_t *loop, zsock_t *sock, void *arg);

/* Dial @p peer, watching the handshakes: libzmq does not dial again after
 * a refused handshake (the peer did not trust us yet, say), we do. */
static void
s_dealer_open(cs_transport_t *self, s_peer_t *peer)
{
    assert(!peer->dealer && !peer->monitor);
    char monitor[64];
    snprintf(monitor, sizeof monitor, "inproc://cs-transport-monitor-%" PRIu64,
             ++self->monitors);
    peer->dealer = s_client_new(self->cert, peer->conf.public_key,
                                peer->conf.endpoint, monitor, &peer->monitor);
    if (!peer->dealer) {
        zsock_destroy(&peer->monitor);
        return;
    }
    zloop_reader(self->loop, peer->dealer, s_dealer_readable, self);
    zloop_reader_set_tolerant(self->loop, peer->dealer);
    if (peer->monitor) {
        zloop_reader(self->loop, peer->monitor, s_monitor_readable, self);
    }
}

static int
s_redial(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    cs_transport_t *self = arg;
    for (size_t i = 0; i < self->n_peers; i++) {
        s_peer_t *peer = &self->peers[i];
        if (peer->redial_timer == timer_id) {
            peer->redial_timer = 0; /* a one-shot timer: zloop ends it */
            s_dealer_close(self, peer);
            s_dealer_open(self, peer);
        }
    }
    return 0;
}

/* A handshake with a peer we dial ended: after a failure, dial again with
 * backoff (S_RECONNECT_IVL doubling to S_RECONNECT_IVL_MAX). */
static int
s_monitor_readable(zloop_t *loop, zsock_t *sock, void *arg)
{
    cs_transport_t *self = arg;
    uint16_t event = s_event_recv(sock);
    s_peer_t *peer = NULL;
    for (size_t i = 0; i < self->n_peers; i++) {
        if (self->peers[i].monitor == sock) {
            peer = &self->peers[i];
        }
    }
    if (!peer || !event) {
        return 0;
    }
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        peer->redial_ms = 0;
        return 0;
    }
    if (peer->redial_timer) {
        return 0;
    }
    if (!peer->redial_ms) {
        zsys_info("transport: peer %016" PRIx64 " at %s refused our "
                  "handshake (does it trust our key?); dialling again",
                  peer->conf.node_id, peer->conf.endpoint);
    }
    peer->redial_ms = peer->redial_ms ? 2 * peer->redial_ms : S_RECONNECT_IVL;
    if (peer->redial_ms > S_RECONNECT_IVL_MAX) {
        peer->redial_ms = S_RECONNECT_IVL_MAX;
    }
    int timer = zloop_timer(loop, (size_t) peer->redial_ms, 1, s_redial, self);
    peer->redial_timer = timer > 0 ? timer : 0;
    return 0;
}

static bool
s_same_peer(const cs_transport_peer_t *a, const cs_transport_peer_t *b)
{
    return a->node_id == b->node_id && streq(a->public_key, b->public_key) &&
           streq(a->endpoint, b->endpoint);
}

int
cs_transport_set_peers(cs_transport_t *self, const cs_transport_peer_t *peers,
                       size_t n)
{
    assert(self && (peers || n == 0));
    uint8_t key[32];
    for (size_t i = 0; i < n; i++) {
        if (strlen(peers[i].public_key) != CS_KEYS_Z85_LEN ||
            !zmq_z85_decode(key, peers[i].public_key)) {
            return CS_EINVAL;
        }
    }
    int rc = s_trust_write(self, peers, n);
    if (rc != CS_OK) {
        return rc;
    }
    s_peer_t *next = calloc(n ? n : 1, sizeof *next);
    assert(next);
    /* Keep the connections of peers that did not change. */
    for (size_t i = 0; i < n; i++) {
        next[i].conf = peers[i];
        for (size_t j = 0; j < self->n_peers; j++) {
            s_peer_t *old = &self->peers[j];
            if (old->conf.node_id && s_same_peer(&old->conf, &peers[i])) {
                next[i] = *old;
                memset(old, 0, sizeof *old);
            }
        }
    }
    bool dropped = false;
    for (size_t j = 0; j < self->n_peers; j++) {
        if (self->peers[j].conf.node_id) {
            dropped = true;
            zsys_info("transport: peer %016" PRIx64 " removed: its "
                      "connections are closed",
                      self->peers[j].conf.node_id);
            s_peer_close(self, &self->peers[j]);
        }
    }
    free(self->peers);
    self->peers = next;
    self->n_peers = n;
    for (size_t i = 0; i < n; i++) {
        s_peer_t *peer = &self->peers[i];
        if (peer->conf.endpoint[0] && !peer->dealer) {
            s_dealer_open(self, peer);
        }
    }
    /* ZAP runs only at the handshake: a removed peer's open inbound
     * connection stays up until the ROUTER is closed. */
    if (dropped && self->router) {
        s_router_close(self);
        for (size_t i = 0; i < n; i++) {
            zframe_destroy(&self->peers[i].route);
        }
        rc = s_router_open(self);
    }
    return rc;
}

/* ---------------- sending ---------------- */

static bool
s_send_router(cs_transport_t *self, s_peer_t *peer, const void *data,
              size_t len)
{
    if (!self->router || !peer->route) {
        return false;
    }
    void *handle = zsock_resolve(self->router);
    if (zmq_send(handle, zframe_data(peer->route), zframe_size(peer->route),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        /* EHOSTUNREACH: that connection is gone. */
        zframe_destroy(&peer->route);
        return false;
    }
    return zmq_send(handle, data, len, ZMQ_DONTWAIT) >= 0;
}

static bool
s_send_dealer(s_peer_t *peer, const void *data, size_t len)
{
    return peer->dealer &&
           zmq_send(zsock_resolve(peer->dealer), data, len, ZMQ_DONTWAIT) >= 0;
}

int
cs_transport_send(cs_transport_t *self, uint64_t node_id, const void *data,
                  size_t len)
{
    assert(self && data);
    s_peer_t *peer = s_peer_find(self, node_id);
    if (!peer) {
        return CS_ENOENT;
    }
    bool sent = peer->last_via == S_VIA_ROUTER
                    ? s_send_router(self, peer, data, len) ||
                          s_send_dealer(peer, data, len)
                    : s_send_dealer(peer, data, len) ||
                          s_send_router(self, peer, data, len);
    return sent ? CS_OK : CS_EAGAIN;
}

const char *
cs_transport_endpoint(const cs_transport_t *self)
{
    return self->bind;
}

uint64_t
cs_transport_unknown(const cs_transport_t *self)
{
    return self->unknown;
}

uint64_t
cs_transport_rejected(const cs_transport_t *self, uint64_t node_id)
{
    assert(self);
    for (size_t i = 0; i < self->n_peers; i++) {
        if (self->peers[i].conf.node_id == node_id) {
            return self->peers[i].rejected;
        }
    }
    return 0;
}

const char *
cs_transport_public_key(const cs_transport_t *self)
{
    return zcert_public_txt(self->cert);
}

uint64_t
cs_transport_node_id(const cs_transport_t *self)
{
    return self->node_id;
}
