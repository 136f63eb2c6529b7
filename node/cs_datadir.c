/*  cs_datadir - a node's data directory: identity and store together.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/cs_keys.h"
#include "node/cs_datadir.h"

int
cs_datadir_init(const char *dir, uint64_t *node_id)
{
    assert(dir);
    struct stat st;
    if (mkdir(dir, 0700) != 0 &&
        (errno != EEXIST || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "crmsync: cannot create directory %s: %s\n", dir,
                errno == EEXIST ? "a file of that name exists"
                                : strerror(errno));
        return errno == EEXIST ? CS_EINVAL : CS_EIO;
    }
    uint64_t id = 0;
    int rc = cs_keys_create(dir, &id);
    if (rc != CS_OK) {
        return rc;
    }
    rc = cs_store_create(dir, id);
    if (rc != CS_OK) {
        /* leave no half-made node behind: a retry must start clean */
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, CS_KEYS_CERT_FILE);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s_secret", dir, CS_KEYS_CERT_FILE);
        unlink(path);
        return rc;
    }
    if (node_id) {
        *node_id = id;
    }
    return CS_OK;
}

int
cs_datadir_renew(const char *dir, uint64_t *node_id)
{
    assert(dir);
    uint64_t id = 0;
    int rc = cs_keys_load(dir, NULL, &id);
    if (rc == CS_OK) {
        rc = cs_store_create(dir, id);
    }
    if (rc == CS_OK && node_id) {
        *node_id = id;
    }
    return rc;
}

int
cs_datadir_open(const char *dir, const cs_store_opts_t *opts,
                cs_store_t **store)
{
    assert(dir);
    assert(store);
    uint64_t node_id;
    int rc = cs_keys_load(dir, NULL, &node_id);
    if (rc != CS_OK) {
        return rc;
    }
    rc = cs_store_open(dir, opts, store);
    if (rc == CS_ENOENT) {
        /* keys without a store: init would refuse, so say what to do */
        fprintf(stderr,
                "crmsync: %s has the node's key pair but no store "
                "(data.mdb): restore it from a backup, or give it a new "
                "empty one with crmsync init --keep-keys (its peers then "
                "send it everything again)\n",
                dir);
        return CS_ECORRUPT;
    }
    if (rc != CS_OK) {
        return rc;
    }
    if (cs_store_node_id(*store) != node_id) {
        fprintf(stderr,
                "crmsync: %s: the store belongs to another node than the "
                "key pair there\n",
                dir);
        cs_store_destroy(store);
        return CS_EAUTH;
    }
    return CS_OK;
}
