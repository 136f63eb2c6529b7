/*  cs_datadir - a node's data directory: identity and store together.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
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

/* The feed mark of @p dir: true if it exists and parses. A mark that does
 * not (none yet, or torn) gives no information: the check is skipped. */
static bool
s_mark_read(const char *dir, uint64_t *epoch, uint64_t *head)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, CS_DATADIR_MARK_FILE);
    FILE *file = fopen(path, "r");
    if (!file) {
        return false;
    }
    char extra;
    bool ok = fscanf(file, "%16" SCNx64 " %20" SCNu64 " %c", epoch, head,
                     &extra) == 2;
    fclose(file);
    return ok;
}

int
cs_datadir_mark(const char *dir, uint64_t epoch, uint64_t head)
{
    assert(dir);
    char path[PATH_MAX], tmp[PATH_MAX];
    int len = snprintf(tmp, sizeof tmp, "%s/%s.%ld", dir, CS_DATADIR_MARK_FILE,
                       (long) getpid());
    if (len < 0 || (size_t) len >= sizeof tmp) {
        fprintf(stderr, "crmsync: %s: path too long\n", dir);
        return CS_EIO;
    }
    snprintf(path, sizeof path, "%s/%s", dir, CS_DATADIR_MARK_FILE);
    FILE *file = fopen(tmp, "w");
    bool ok =
        file && fprintf(file, "%016" PRIx64 " %" PRIu64 "\n", epoch, head) > 0;
    ok = file && fclose(file) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "crmsync: cannot write %s: %s\n", path,
                strerror(errno));
        unlink(tmp);
        return CS_EIO;
    }
    return CS_OK;
}

/* The check of cs_datadir_open on a store opened for writing. */
static int
s_mark_check(const char *dir, cs_store_t *store)
{
    cs_store_info_t info;
    int rc = cs_store_info(store, &info);
    if (rc != CS_OK) {
        return rc;
    }
    uint64_t epoch = 0, head = 0;
    bool marked = s_mark_read(dir, &epoch, &head);
    if (marked && epoch == info.epoch && info.feed_head < head) {
        rc = cs_store_renew_epoch(store, &info.epoch);
        if (rc != CS_OK) {
            return rc;
        }
        fprintf(stderr,
                "crmsync: %s: the store's change feed is behind the %" PRIu64
                " changes it had reached (now %" PRIu64 "): it was restored "
                "from an older copy, so it gets a new epoch (%016" PRIx64 ")"
                "; its peers pull all of it again, and it pulls all of "
                "theirs\n",
                dir, head, info.feed_head, info.epoch);
    } else if (marked && epoch == info.epoch && info.feed_head == head) {
        return CS_OK;
    }
    return cs_datadir_mark(dir, info.epoch, info.feed_head);
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
    if (!(opts && opts->read_only)) {
        rc = s_mark_check(dir, *store);
        if (rc != CS_OK) {
            cs_store_destroy(store);
        }
    }
    return rc;
}
