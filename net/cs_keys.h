/*  cs_keys - a node's CURVE identity: a CZMQ zcert keypair on disk and the
 *  64-bit node id derived from its public key.
 *  SPDX-License-Identifier: MIT
 *
 *  Files in the data directory: "node.cert" (public part, ZPL) and
 *  "node.cert_secret" (both keys, mode 0600). The node id is the first 8
 *  bytes, big-endian, of BLAKE2b-64 over the 32-byte public key.
 */
#ifndef CS_KEYS_H
#define CS_KEYS_H

#include <stdint.h>

#include <czmq.h>

#include "crdt/cs_err.h"

#define CS_KEYS_CERT_FILE  "node.cert"
#define CS_KEYS_PUBLIC_LEN 32u
#define CS_KEYS_Z85_LEN    40u

/** Make a new keypair in @p dir (which must exist). The secret file is
 *  created with mode 0600. @p node_id (may be NULL) receives the node id.
 *  @return CS_OK; CS_EEXIST if a certificate is already there; CS_EIO. */
CS_NODISCARD int cs_keys_create(const char *dir, uint64_t *node_id);

/** Load the keypair of @p dir and check it: the secret file must exist and
 *  hold a non-zero secret key (CZMQ's zcert_load otherwise falls back to
 *  the public file with an all-zero secret). Fills @p public_z85 (41
 *  bytes with the NUL, may be NULL) and @p node_id (may be NULL).
 *  @return CS_OK; CS_ENOENT if there is no certificate; CS_EAUTH if the
 *  secret part is missing, all zero or does not match; CS_EIO. */
CS_NODISCARD int cs_keys_load(const char *dir,
                              char public_z85[CS_KEYS_Z85_LEN + 1],
                              uint64_t *node_id);

/** Load the keypair of @p dir as cs_keys_load does (same checks, same
 *  errors) and give it to the caller: *@p cert (free with zcert_destroy). */
CS_NODISCARD int cs_keys_cert(const char *dir, zcert_t **cert);

/** The node id of a 32-byte CURVE public key. */
uint64_t cs_keys_node_id(const uint8_t public_key[CS_KEYS_PUBLIC_LEN]);

#endif /* CS_KEYS_H */
