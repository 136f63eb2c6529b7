/*  cs_transport - the ZeroMQ + CURVE transport of the sync protocol:
 *  frames in and out, per peer, over authenticated connections.
 *  SPDX-License-Identifier: MIT
 *
 *  - One ROUTER socket listens (optional: a site behind NAT may not), one
 *    DEALER socket dials each peer that has an endpoint. Either connection
 *    carries both directions of sync, so a site that only dials out sends
 *    and receives over its own connection. Frames go back by the way the
 *    peer was last heard from.
 *  - Every socket is CURVE with the node's key pair. Incoming handshakes
 *    are checked by CZMQ's zauth against an allow-list directory,
 *    "<data>/trusted/", that the transport rewrites from the peer list (and
 *    the node's own key, for the self-check); a frame on the ROUTER whose
 *    CURVE key (ZAP User-Id) is not a current peer is dropped as well, so
 *    the check holds per frame, not only per handshake.
 *  - libzmq 4.3.4 lets any client through a CURVE server when no ZAP
 *    handler runs, and Debian's CZMQ cannot make it insist. So
 *    cs_transport_new starts zauth first and then proves, on a loopback
 *    socket, that an unknown key is refused and the node's own key is let
 *    in (cs_transport_selfcheck); it fails otherwise and nothing listens.
 *  - Revocation: cs_transport_set_peers with a peer gone reloads zauth (new
 *    handshakes fail), closes the DEALER to it and re-creates the ROUTER,
 *    which drops every inbound connection (honest peers reconnect on their
 *    own within a reconnect interval).
 *  - Sends never block (ZMQ_DONTWAIT; the ROUTER is mandatory, DEALERs
 *    immediate): a frame that cannot be queued is lost and reported, and
 *    the protocol repairs it (cs_sync). Frames over CS_MSG_MAX make libzmq
 *    drop the connection (ZMQ_MAXMSGSIZE). TCP keepalive and TCP_MAXRT
 *    find dead connections (no ZMTP heartbeats: libzmq issue #4364);
 *    DEALERs reconnect with backoff (100 ms doubling to 5 s).
 *
 *  The transport runs on the caller's zloop: frames are handed to a
 *  callback from the loop.
 */
#ifndef CS_TRANSPORT_H
#define CS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "crdt/cs_err.h"
#include "net/cs_keys.h"

#define CS_TRANSPORT_ENDPOINT_MAX 255u
#define CS_TRANSPORT_TRUST_DIR    "trusted"

typedef struct cs_transport cs_transport_t; /* opaque */

/** One peer we may talk to. */
typedef struct {
    uint64_t node_id;
    char public_key[CS_KEYS_Z85_LEN + 1];         /* Z85 */
    char endpoint[CS_TRANSPORT_ENDPOINT_MAX + 1]; /* "" : it dials us */
} cs_transport_peer_t;

/** A frame from peer @p peer (@p len bytes at @p data, valid during the
 *  call). */
typedef void(cs_transport_recv_fn)(void *arg, uint64_t peer, const void *data,
                                   size_t len);

/** Load the key pair of @p data_dir, start zauth with an allow-list of the
 *  node's own key, and run cs_transport_selfcheck. Frames will go to
 *  @p fn on @p loop.
 *  @return CS_OK; CS_ENOENT/CS_EAUTH for missing or bad keys; CS_EAUTH if
 *  the self-check fails; CS_EIO (detail logged). */
CS_NODISCARD int cs_transport_new(const char *data_dir, zloop_t *loop,
                                  cs_transport_recv_fn *fn, void *arg,
                                  cs_transport_t **self_p);

/** Close every socket, stop zauth, free *self_p, set it to NULL. */
void cs_transport_destroy(cs_transport_t **self_p);

/** Make @p peers (@p n of them) the peers: allow-list and zauth reloaded,
 *  DEALERs dialled for new peers with an endpoint, and for peers gone (or
 *  changed) their DEALER closed and the ROUTER re-created.
 *  @return CS_OK; CS_EINVAL for a bad key or endpoint (nothing changed);
 *  CS_EIO. */
CS_NODISCARD int cs_transport_set_peers(cs_transport_t *self,
                                        const cs_transport_peer_t *peers,
                                        size_t n);

/** Listen on @p endpoint (tcp://HOST:PORT; PORT may be * for any free
 *  one, see cs_transport_endpoint). @return CS_OK; CS_EIO if the
 *  address cannot be bound (in use, not local...). */
CS_NODISCARD int cs_transport_bind(cs_transport_t *self, const char *endpoint);

/** The address listened on, port resolved (tcp://127.0.0.1:* gives the
 *  port chosen), or "" if not listening. */
const char *cs_transport_endpoint(const cs_transport_t *self);

/** Queue @p len bytes at @p data for @p peer.
 *  @return CS_OK; CS_EAGAIN if no connection to it can take the frame now
 *  (not connected, queue full); CS_ENOENT for an unknown peer. */
CS_NODISCARD int cs_transport_send(cs_transport_t *self, uint64_t peer,
                                   const void *data, size_t len);

/** Frames dropped because their CURVE key is not a peer's. */
uint64_t cs_transport_unknown(const cs_transport_t *self);

/** Messages from peer @p node_id that the transport dropped as malformed
 *  (multipart: one message is one frame); 0 for an unknown node. The
 *  sync layer counts the frames it cannot decode on its own. */
uint64_t cs_transport_rejected(const cs_transport_t *self, uint64_t node_id);

/** Our public key (Z85) and node id. */
const char *cs_transport_public_key(const cs_transport_t *self);
uint64_t cs_transport_node_id(const cs_transport_t *self);

/** Prove that this process authenticates CURVE clients: on a loopback
 *  ROUTER with @p cert, a client with @p cert's own key (which must be in
 *  zauth's allow-list) is let in and identified by it, and a client with a
 *  fresh unknown key delivers nothing. Takes up to a few seconds.
 *  @return CS_OK; CS_EAUTH if the unknown key got through or the known one
 *  did not (no ZAP handler, or a broken one); CS_EIO. */
CS_NODISCARD int cs_transport_selfcheck(zcert_t *cert);

#endif /* CS_TRANSPORT_H */
