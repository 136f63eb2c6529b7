/*  cs_err - the one error space of crmsync, and cs_strerror.
 *  SPDX-License-Identifier: MIT
 *
 *  Every function that can fail returns CS_OK (0) or one of the negative
 *  CS_E* codes below. Foreign codes (LMDB, errno, libsodium) are mapped once,
 *  at the edge of the module that calls the foreign library.
 */
#ifndef CS_ERR_H
#define CS_ERR_H

#define CS_NODISCARD __attribute__((warn_unused_result))

typedef enum {
    CS_OK = 0,
    CS_EINVAL = -1000, /* bad input from outside: config, CLI, API caller */
    CS_ENOENT,         /* key, record or file not found */
    CS_EPROTO,         /* malformed or oversized wire/msgpack data */
    CS_EAUTH,          /* MAC/signature/key check failed; no detail */
    CS_EFULL,          /* LMDB map full or disk full */
    CS_ECORRUPT,       /* store corrupt, or its schema version unknown */
    CS_EIO,            /* other storage or socket failure; detail logged */
    CS_EAGAIN,         /* timeout or busy, try later */
    CS_ECLOSED,        /* peer or actor gone, or interrupted */
    CS_EEXIST,         /* already exists (e.g. an initialised data dir) */
    CS_EDRIFT,         /* remote clock beyond the allowed drift */
    CS_ELIMIT,         /* a documented size or count limit was exceeded */
} cs_err_t;

/** Human-readable text for a CS_E* code. Never NULL; static storage. */
const char *cs_strerror(int code);

#endif /* CS_ERR_H */
