/*  cs_node - the daemon: one node's store, sync state machine and
 *  transport on one zloop, until SIGTERM or SIGINT.
 *  SPDX-License-Identifier: MIT
 *
 *  - Wires storage and net: cs_syncstore gives cs_sync the store, cs_msg
 *    turns its messages into frames, cs_transport carries them.
 *  - Ticks every CS_NODE_TICK_MS: the sync machine reads the feed head
 *    then, so writes by other processes on the same data directory
 *    (crmsync put, crmsync seed) are announced within a tick.
 *  - SIGHUP reloads the config file: peers added and removed (removed ones
 *    revoked at once, see cs_transport), sync settings kept. A config
 *    with errors is reported and the running one kept. The data
 *    directory and the bind address need a restart.
 *  - Serves its status on "ipc://<data>/node.ipc" (the data directory's
 *    permissions guard it): a request "STATUS" is answered with a ZPL
 *    (zconfig) text: the node's keys, then under "peers/<name>" each
 *    peer's (node_id, endpoint, connected, peer_epoch, peer_head,
 *    cursor_epoch, cursor, cursor_base, behind, counters; s_status_text
 *    in cs_node.c writes them). crmsync status reads it.
 *  - One node per data directory: "<data>/node.lock" (flock) is held
 *    while it runs.
 *  - Logs to stderr (zsys), systemd style.
 *
 *  Runs on the caller's thread: it is the whole process, so an actor
 *  would only add a thread and a pipe.
 */
#ifndef CS_NODE_H
#define CS_NODE_H

#include "crdt/cs_err.h"

#define CS_NODE_TICK_MS    10
#define CS_NODE_STATUS_IPC "node.ipc"
#define CS_NODE_LOCK_FILE  "node.lock"
#define CS_NODE_STATUS_REQ "STATUS"

/** Run the node configured by the file @p config_path until SIGTERM or
 *  SIGINT. Start-up problems are logged.
 *  @return CS_OK after a clean stop; CS_EINVAL for a bad config;
 *  CS_EEXIST if another node runs on the data directory; CS_EAUTH if the
 *  keys are bad or the CURVE self-check fails; another code of the store
 *  or transport. */
CS_NODISCARD int cs_node_run(const char *config_path);

#endif /* CS_NODE_H */
