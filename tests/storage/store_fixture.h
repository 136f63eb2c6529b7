/*  store_fixture - a store in its own temporary directory with an injected
 *  clock, for the cmocka tests of storage/. Include after defining S_NODE
 *  (the node id) and S_T0 (the clock's start, ms).
 *  SPDX-License-Identifier: MIT
 */
#ifndef CS_TEST_STORE_FIXTURE_H
#define CS_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/cs_store.h"

/* A store in its own temporary directory, with an injected clock. */
typedef struct {
    char dir[64];      /* mkdtemp result */
    uint64_t now;      /* wall clock seen by the store, ms */
    cs_store_t *store; /* open store, or NULL */
} s_fix_t;

static inline uint64_t
s_clock(void *arg)
{
    return *(const uint64_t *) arg;
}

static inline void
s_mkdtemp(char dir[64])
{
    strcpy(dir, "/tmp/cs_store_test.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static inline void
s_rmdir(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

static inline cs_store_opts_t
s_opts(s_fix_t *fix)
{
    cs_store_opts_t opts = { .clock = s_clock, .clock_arg = &fix->now };
    return opts;
}

static inline void
s_reopen(s_fix_t *fix, const cs_store_opts_t *opts)
{
    cs_store_destroy(&fix->store);
    cs_store_opts_t defaults = s_opts(fix);
    assert_int_equal(
        cs_store_open(fix->dir, opts ? opts : &defaults, &fix->store), CS_OK);
}

static inline int
s_setup(void **state)
{
    s_fix_t *fix = calloc(1, sizeof *fix);
    assert_non_null(fix);
    s_mkdtemp(fix->dir);
    fix->now = S_T0;
    assert_int_equal(cs_store_create(fix->dir, S_NODE), CS_OK);
    s_reopen(fix, NULL);
    *state = fix;
    return 0;
}

static inline int
s_teardown(void **state)
{
    s_fix_t *fix = *state;
    cs_store_destroy(&fix->store);
    s_rmdir(fix->dir);
    free(fix);
    return 0;
}

#endif /* CS_TEST_STORE_FIXTURE_H */
