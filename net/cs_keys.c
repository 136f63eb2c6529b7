/*  cs_keys - a node's CURVE identity on disk.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>
#include <sodium.h>

#include "net/cs_keys.h"

static int
s_paths(const char *dir, char *public_path, char *secret_path, size_t size)
{
    int n = snprintf(public_path, size, "%s/%s", dir, CS_KEYS_CERT_FILE);
    int m = snprintf(secret_path, size, "%s/%s_secret", dir, CS_KEYS_CERT_FILE);
    return n < 0 || m < 0 || (size_t) m >= size ? CS_EINVAL : CS_OK;
}

uint64_t
cs_keys_node_id(const uint8_t public_key[CS_KEYS_PUBLIC_LEN])
{
    uint8_t hash[8];
    crypto_generichash(hash, sizeof hash, public_key, CS_KEYS_PUBLIC_LEN, NULL,
                       0);
    uint64_t id = 0;
    for (size_t i = 0; i < sizeof hash; i++) {
        id = (id << 8) | hash[i];
    }
    return id;
}

int
cs_keys_create(const char *dir, uint64_t *node_id)
{
    assert(dir);
    char public_path[PATH_MAX], secret_path[PATH_MAX];
    if (s_paths(dir, public_path, secret_path, sizeof public_path) != CS_OK) {
        return CS_EINVAL;
    }
    if (access(public_path, F_OK) == 0 || access(secret_path, F_OK) == 0) {
        return CS_EEXIST;
    }
    zcert_t *cert = zcert_new();
    if (!cert) {
        return CS_EIO;
    }
    zcert_set_meta(cert, "created-by", "crmsync init");
    int rc = CS_OK;
    /* zcert_save writes the secret file under a private umask; the chmod
     * makes 0600 explicit whatever the process umask was. */
    if (zcert_save(cert, public_path) != 0 || chmod(secret_path, 0600) != 0) {
        fprintf(stderr, "crmsync: keys: cannot write %s: %s\n", secret_path,
                strerror(errno));
        unlink(public_path);
        unlink(secret_path);
        rc = CS_EIO;
    } else if (node_id) {
        *node_id = cs_keys_node_id(zcert_public_key(cert));
    }
    zcert_destroy(&cert);
    return rc;
}

int
cs_keys_cert(const char *dir, zcert_t **cert_out)
{
    assert(dir);
    assert(cert_out);
    *cert_out = NULL;
    char public_path[PATH_MAX], secret_path[PATH_MAX];
    if (s_paths(dir, public_path, secret_path, sizeof public_path) != CS_OK) {
        return CS_EINVAL;
    }
    if (access(public_path, F_OK) != 0) {
        return CS_ENOENT;
    }
    /* zcert_load quietly falls back to the public file, with an all-zero
     * secret key, when the secret file is missing: refuse that here. */
    if (access(secret_path, R_OK) != 0) {
        fprintf(stderr, "crmsync: keys: secret key file %s: %s\n", secret_path,
                strerror(errno));
        return CS_EAUTH;
    }
    zcert_t *cert = zcert_load(public_path);
    if (!cert) {
        fprintf(stderr, "crmsync: keys: cannot read %s\n", secret_path);
        return CS_EAUTH;
    }
    uint8_t derived[crypto_scalarmult_BYTES];
    const uint8_t *secret = zcert_secret_key(cert);
    int rc = CS_OK;
    if (sodium_is_zero(secret, 32) ||
        crypto_scalarmult_base(derived, secret) != 0 ||
        sodium_memcmp(derived, zcert_public_key(cert), sizeof derived) != 0) {
        fprintf(stderr,
                "crmsync: keys: %s: secret key is missing, zero or does not "
                "match the public key\n",
                secret_path);
        rc = CS_EAUTH;
        zcert_destroy(&cert);
    }
    sodium_memzero(derived, sizeof derived);
    *cert_out = cert;
    return rc;
}

int
cs_keys_load(const char *dir, char public_z85[CS_KEYS_Z85_LEN + 1],
             uint64_t *node_id)
{
    zcert_t *cert = NULL;
    int rc = cs_keys_cert(dir, &cert);
    if (rc != CS_OK) {
        return rc;
    }
    if (public_z85) {
        memcpy(public_z85, zcert_public_txt(cert), CS_KEYS_Z85_LEN + 1);
    }
    if (node_id) {
        *node_id = cs_keys_node_id(zcert_public_key(cert));
    }
    zcert_destroy(&cert);
    return CS_OK;
}
