/*  test_cs_transport - the CURVE transport on loopback: the ZAP self-check
 *  with and without a handler, frames both ways, an unknown key refused,
 *  dialling out, a multipart message rejected, and revocation.
 *  SPDX-License-Identifier: MIT
 *
 *  One process may run one ZAP handler, so the peers here are plain CZMQ
 *  sockets beside one transport; the multi-process tests run whole nodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>

#include "net/cs_keys.h"
#include "net/cs_transport.h"

#define S_FRAMES_MAX 16

typedef struct {
    char dir[64];
    zloop_t *loop;
    cs_transport_t *tr;
    size_t n_frames;
    uint64_t from[S_FRAMES_MAX];
    char text[S_FRAMES_MAX][32];
} s_fix_t;

static void
s_recv(void *arg, uint64_t peer, const void *data, size_t len)
{
    s_fix_t *fix = arg;
    if (fix->n_frames < S_FRAMES_MAX && len < 32) {
        fix->from[fix->n_frames] = peer;
        memcpy(fix->text[fix->n_frames], data, len);
        fix->text[fix->n_frames][len] = '\0';
        fix->n_frames++;
    }
}

static int
s_stop(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id, (void) arg;
    return -1;
}

/* Run the loop for @p ms. */
static void
s_pump(s_fix_t *fix, int ms)
{
    zloop_timer(fix->loop, (size_t) ms, 1, s_stop, NULL);
    zloop_start(fix->loop);
}

/* Run the loop until @p n frames arrived, at most @p ms. */
static void
s_pump_until(s_fix_t *fix, size_t n, int ms)
{
    for (int waited = 0; fix->n_frames < n && waited < ms; waited += 20) {
        s_pump(fix, 20);
    }
}

static cs_transport_peer_t
s_peer(zcert_t *cert, const char *endpoint)
{
    cs_transport_peer_t peer = { 0 };
    peer.node_id = cs_keys_node_id(zcert_public_key(cert));
    snprintf(peer.public_key, sizeof peer.public_key, "%s",
             zcert_public_txt(cert));
    snprintf(peer.endpoint, sizeof peer.endpoint, "%s", endpoint);
    return peer;
}

/* A client socket of @p cert dialling the transport's ROUTER at @p port. */
static zsock_t *
s_client(zcert_t *cert, const s_fix_t *fix, int port)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    assert_non_null(sock);
    zcert_apply(cert, sock);
    zsock_set_curve_serverkey(sock, cs_transport_public_key(fix->tr));
    zsock_set_linger(sock, 0);
    zsock_set_reconnect_ivl(sock, 50);
    assert_int_equal(zsock_connect(sock, "tcp://127.0.0.1:%d", port), 0);
    return sock;
}

static void
s_remove_tree(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Without a ZAP handler, a CURVE server lets anyone in: the self-check
 * must say so. This test runs first, before any transport starts zauth. */
static void
test_selfcheck_without_zap_handler(void **state)
{
    (void) state;
    zcert_t *cert = zcert_new();
    assert_int_equal(cs_transport_selfcheck(cert), CS_EAUTH);
    zcert_destroy(&cert);
}

static void
test_transport(void **state)
{
    (void) state;
    s_fix_t fix = { 0 };
    strcpy(fix.dir, "/tmp/cs_transport_test.XXXXXX");
    assert_non_null(mkdtemp(fix.dir));
    assert_int_equal(cs_keys_create(fix.dir, NULL), CS_OK);
    fix.loop = zloop_new();

    /* new() starts zauth and proves it with the self-check. */
    assert_int_equal(cs_transport_new(fix.dir, fix.loop, s_recv, &fix, &fix.tr),
                     CS_OK);
    assert_int_equal(cs_transport_bind(fix.tr, "tcp://127.0.0.1:*"), CS_OK);
    const char *bound = cs_transport_endpoint(fix.tr);
    int port = atoi(strrchr(bound, ':') + 1);
    assert_true(port > 0);

    zcert_t *friend_cert = zcert_new(), *stranger_cert = zcert_new();
    cs_transport_peer_t friend = s_peer(friend_cert, "");
    assert_int_equal(cs_transport_set_peers(fix.tr, &friend, 1), CS_OK);

    /* A known key gets through, identified; the answer goes back on the
     * same connection. */
    zsock_t *friend_sock = s_client(friend_cert, &fix, port);
    zsock_t *stranger_sock = s_client(stranger_cert, &fix, port);
    zstr_send(friend_sock, "hello");
    zstr_send(stranger_sock, "intruder");
    s_pump_until(&fix, 1, 5000);
    assert_int_equal(fix.n_frames, 1);
    assert_true(fix.from[0] == friend.node_id);
    assert_string_equal(fix.text[0], "hello");
    assert_int_equal(cs_transport_send(fix.tr, friend.node_id, "back", 4),
                     CS_OK);
    zsock_set_rcvtimeo(friend_sock, 5000);
    char *reply = zstr_recv(friend_sock);
    assert_non_null(reply);
    assert_string_equal(reply, "back");
    zstr_free(&reply);

    /* The stranger's frame never arrives, however long we wait. */
    s_pump(&fix, 500);
    assert_int_equal(fix.n_frames, 1);
    /* ... because zauth refused its handshake: not one of its frames even
     * reached the transport's own per-frame key check. */
    assert_int_equal(cs_transport_unknown(fix.tr), 0);
    assert_int_equal(cs_transport_send(fix.tr, 42, "x", 1), CS_ENOENT);

    /* Dialling out: a peer with an endpoint gets a DEALER, and frames go
     * both ways over it. The peer's server runs in this process, under the
     * same zauth, which knows the transport's own key. */
    zcert_t *hub_cert = zcert_new();
    zsock_t *hub = zsock_new(ZMQ_ROUTER);
    zcert_apply(hub_cert, hub);
    zsock_set_curve_server(hub, 1);
    zsock_set_linger(hub, 0);
    int hub_port = zsock_bind(hub, "tcp://127.0.0.1:*");
    assert_true(hub_port > 0);
    char hub_endpoint[64];
    snprintf(hub_endpoint, sizeof hub_endpoint, "tcp://127.0.0.1:%d", hub_port);
    cs_transport_peer_t peers[2] = { friend, s_peer(hub_cert, hub_endpoint) };
    assert_int_equal(cs_transport_set_peers(fix.tr, peers, 2), CS_OK);
    int rc = CS_EAGAIN;
    for (int i = 0; i < 250 && rc != CS_OK; i++) {
        s_pump(&fix, 20);
        rc = cs_transport_send(fix.tr, peers[1].node_id, "up", 2);
    }
    assert_int_equal(rc, CS_OK);
    zsock_set_rcvtimeo(hub, 5000);
    zmsg_t *msg = zmsg_recv(hub);
    assert_non_null(msg);
    zframe_t *route = zmsg_pop(msg);
    assert_true(zframe_streq(zmsg_first(msg), "up"));
    zmsg_destroy(&msg);
    zframe_send(&route, hub, ZFRAME_MORE);
    zstr_send(hub, "down");
    s_pump_until(&fix, 2, 5000);
    assert_int_equal(fix.n_frames, 2);
    assert_true(fix.from[1] == peers[1].node_id);
    assert_string_equal(fix.text[1], "down");

    /* The friend is still connected (its connection survived the change
     * of peers, which removed no one). */
    zstr_send(friend_sock, "still");
    s_pump_until(&fix, 3, 5000);
    assert_int_equal(fix.n_frames, 3);
    assert_string_equal(fix.text[2], "still");

    /* One message is one frame: a multipart message from a peer is
     * dropped and counted against it; the next single frame gets in. */
    assert_int_equal(cs_transport_rejected(fix.tr, friend.node_id), 0);
    zstr_sendm(friend_sock, "two");
    zstr_send(friend_sock, "parts");
    zstr_send(friend_sock, "after");
    s_pump_until(&fix, 4, 5000);
    assert_int_equal(fix.n_frames, 4);
    assert_string_equal(fix.text[3], "after");
    assert_int_equal(cs_transport_rejected(fix.tr, friend.node_id), 1);
    assert_int_equal(cs_transport_unknown(fix.tr), 0);

    /* Revocation: the friend is removed. Its open connection is closed
     * and its new handshakes fail: nothing more arrives from it. */
    assert_int_equal(cs_transport_set_peers(fix.tr, &peers[1], 1), CS_OK);
    assert_int_equal(cs_transport_send(fix.tr, friend.node_id, "x", 1),
                     CS_ENOENT);
    for (int i = 0; i < 10; i++) {
        zsock_set_sndtimeo(friend_sock, 0);
        zstr_send(friend_sock, "revoked");
        s_pump(&fix, 100);
    }
    assert_int_equal(fix.n_frames, 4);
    /* Closed and refused by zauth (reloaded), not merely dropped. */
    assert_int_equal(cs_transport_unknown(fix.tr), 0);

    zsock_destroy(&hub);
    zsock_destroy(&friend_sock);
    zsock_destroy(&stranger_sock);
    zcert_destroy(&hub_cert);
    zcert_destroy(&friend_cert);
    zcert_destroy(&stranger_cert);
    cs_transport_destroy(&fix.tr);
    assert_null(fix.tr);
    zloop_destroy(&fix.loop);
    s_remove_tree(fix.dir);
}

static void
test_bad_keys(void **state)
{
    (void) state;
    char dir[64];
    strcpy(dir, "/tmp/cs_transport_test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    zloop_t *loop = zloop_new();
    cs_transport_t *tr = NULL;
    /* No key pair. */
    assert_int_equal(cs_transport_new(dir, loop, s_recv, NULL, &tr), CS_ENOENT);
    assert_null(tr);
    /* A public certificate whose secret file is missing. */
    assert_int_equal(cs_keys_create(dir, NULL), CS_OK);
    char path[128];
    snprintf(path, sizeof path, "%s/%s_secret", dir, CS_KEYS_CERT_FILE);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(cs_transport_new(dir, loop, s_recv, NULL, &tr), CS_EAUTH);
    assert_null(tr);
    zloop_destroy(&loop);
    s_remove_tree(dir);
}

int
main(void)
{
    zsys_init();
    zsys_set_logstream(stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selfcheck_without_zap_handler),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_transport),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
