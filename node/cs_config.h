/*  cs_config - a node's configuration file: ZPL (CZMQ zconfig), every value
 *  checked, errors with the file, line and key.
 *  SPDX-License-Identifier: MIT
 *
 *  Example (deploy/crmsync.conf is the commented one):
 *
 *    node
 *        data = /var/lib/crmsync        # relative: to the config's folder
 *        bind = tcp://0.0.0.0:7400      # optional: no bind, dial out only
 *        max_drift = 60000              # ms; optional
 *    sync                               # optional, every key optional
 *        heartbeat = 1000               # ms
 *        peer_timeout = 5000            # ms
 *        pull_timeout = 10000           # ms
 *        anti_entropy = 30000           # ms
 *        batch_bytes = 4194304
 *    peers
 *        hq                             # a name for logs and status
 *            endpoint = tcp://hq.example.com:7400   # optional: it dials us
 *            public_key = "<40 Z85 characters>"     # crmsync pubkey
 *
 *  Unknown sections and keys are errors (a typo must not silently turn
 *  a setting off). Endpoints are tcp://HOST:PORT (bind also takes * as
 *  the host); numbers are decimal integers within documented ranges;
 *  peer names are 1-63 characters [A-Za-z0-9_.-] and unique; public keys
 *  are valid Z85 of 32 bytes and unique. A key given twice is an error.
 *
 *  Ranges (ms unless said): max_drift 1..864000000 (10 days); heartbeat
 *  10..60000; peer_timeout 11..86400000 and more than heartbeat (the
 *  default heartbeat counts if it is absent); pull_timeout 100..3600000;
 *  anti_entropy 100..86400000; batch_bytes 4096..CS_MSG_BATCH_MAX; ports
 *  1..65535; at most CS_CONFIG_PEERS_MAX peers. The file itself is at most
 *  CS_CONFIG_FILE_MAX bytes, CS_CONFIG_LINE_MAX bytes a line and
 *  CS_CONFIG_ITEMS_MAX sections and keys, with no NUL byte (limits that
 *  keep CZMQ's parser, which is quadratic in items per section, fast).
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"
#include "net/cs_keys.h"
#include "net/cs_sync.h"

#define CS_CONFIG_NAME_MAX     63u
#define CS_CONFIG_ENDPOINT_MAX 255u
#define CS_CONFIG_PEERS_MAX    256u
#define CS_CONFIG_FILE_MAX     (1u << 20)
#define CS_CONFIG_LINE_MAX     1024u
#define CS_CONFIG_ITEMS_MAX    4096u

typedef struct {
    char name[CS_CONFIG_NAME_MAX + 1];
    char endpoint[CS_CONFIG_ENDPOINT_MAX + 1]; /* "" if we don't dial it */
    char public_key[CS_KEYS_Z85_LEN + 1];      /* Z85 */
    uint64_t node_id;                          /* cs_keys_node_id of it */
} cs_config_peer_t;

typedef struct {
    char *path;                            /* the file, as given */
    char *data;                            /* data directory, resolved */
    char bind[CS_CONFIG_ENDPOINT_MAX + 1]; /* "" if we don't listen */
    uint64_t max_drift_ms;                 /* 0: the store's default */
    cs_sync_opts_t sync;                   /* zeros: the defaults */
    size_t n_peers;
    cs_config_peer_t *peers;
} cs_config_t;

/** Load and check the config file @p path. Every problem is printed on
 *  stderr as "FILE:LINE: KEY: what is wrong" (LINE may be missing for a
 *  key that is absent; a syntax error or a file limit has no KEY). Keys
 *  absent from the file are 0 (or "") in *@p out. The parse points fd 1 at
 *  a temporary file for a moment (CZMQ prints syntax errors on stdout):
 *  call it before other threads write to stdout.
 *  @return CS_OK and *@p out (free with cs_config_destroy); CS_ENOENT if
 *  the file cannot be read; CS_EINVAL for a syntax error or a bad value. */
CS_NODISCARD int cs_config_load(const char *path, cs_config_t **out);

/** Free *self_p and set it to NULL. Safe on NULL. */
void cs_config_destroy(cs_config_t **self_p);

/** The peer with node id @p node_id, or NULL. */
const cs_config_peer_t *cs_config_peer(const cs_config_t *self,
                                       uint64_t node_id);

#endif /* CS_CONFIG_H */
