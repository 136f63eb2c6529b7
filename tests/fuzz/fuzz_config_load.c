/*  fuzz_config_load - untrusted bytes as a node's config file.
 *  SPDX-License-Identifier: MIT
 *
 *  The input is the file (a memfd, loaded by its /proc/self/fd path).
 *  Loading must succeed or fail with CS_EINVAL, never crash or leak. A
 *  loaded config must keep the header's promises: a data path, endpoints
 *  and names within their fields, at most CS_CONFIG_PEERS_MAX peers, each
 *  with a 40-character key whose node id cs_config_peer finds, and names
 *  and keys unique.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net/cs_msg.h"
#include "node/cs_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void
s_check_config(const cs_config_t *config)
{
    s_check(config->data != NULL && config->data[0] == '/');
    s_check(strlen(config->bind) <= CS_CONFIG_ENDPOINT_MAX);
    s_check(config->n_peers <= CS_CONFIG_PEERS_MAX);
    s_check(config->sync.batch_bytes == 0 ||
            config->sync.batch_bytes <= CS_MSG_BATCH_MAX);
    for (size_t i = 0; i < config->n_peers; i++) {
        const cs_config_peer_t *peer = &config->peers[i];
        size_t name_len = strlen(peer->name);
        s_check(name_len >= 1 && name_len <= CS_CONFIG_NAME_MAX);
        s_check(strlen(peer->endpoint) <= CS_CONFIG_ENDPOINT_MAX);
        s_check(strlen(peer->public_key) == CS_KEYS_Z85_LEN);
        s_check(cs_config_peer(config, peer->node_id) == peer);
        for (size_t j = 0; j < i; j++) {
            s_check(strcmp(config->peers[j].name, peer->name) != 0);
            s_check(strcmp(config->peers[j].public_key, peer->public_key) != 0);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_config_load", MFD_CLOEXEC);
    s_check(fd >= 0);
    s_check(size == 0 || write(fd, data, size) == (ssize_t) size);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    cs_config_t *config = NULL;
    int rc = cs_config_load(path, &config);
    s_check(rc == CS_OK || rc == CS_EINVAL);
    s_check((rc == CS_OK) == (config != NULL));
    if (config) {
        s_check_config(config);
    }
    cs_config_destroy(&config);
    close(fd);
    return 0;
}
