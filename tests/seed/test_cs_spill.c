/*  test_cs_spill - the external sort behind a seed of unordered input.
 *  SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* fallocate */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cs_spill.h"

/* What one item should be: where it was added and what it holds. */
typedef struct {
    char key[24];
    size_t key_len;
    size_t run;
    size_t seq; /* order of adding, over all runs */
    size_t data_len;
} s_want_t;

static char s_dir[] = "/tmp/test_cs_spill.XXXXXX";

static int
s_setup(void **state)
{
    (void) state;
    return mkdtemp(s_dir) ? 0 : -1;
}

static int
s_teardown(void **state)
{
    (void) state;
    return rmdir(s_dir); /* fails if a spill file was left behind */
}

/*  The payload of item @p seq: its length and a byte pattern from it. */
static void
s_fill(char *buf, size_t len, size_t seq)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (char) ((seq * 31 + i) & 0xff);
    }
}

static int
s_want_order(const void *a, const void *b)
{
    const s_want_t *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c == 0) {
        c = (x->key_len > y->key_len) - (x->key_len < y->key_len);
    }
    return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int
s_key_order(const void *a, const void *b)
{
    const s_want_t *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    return c != 0 ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static void
test_spill_merges_runs_in_key_then_run_order(void **state)
{
    (void) state;
    enum { RUNS = 23, PER_RUN = 700 };
    static s_want_t want[RUNS * PER_RUN];
    static char big[3u << 20];
    srand(7);
    cs_spill_t *spill = NULL;
    assert_int_equal(cs_spill_new(s_dir, &spill), CS_OK);
    size_t n = 0;
    for (size_t r = 0; r < RUNS; r++) {
        s_want_t *run = &want[n];
        for (size_t i = 0; i < PER_RUN; i++) {
            s_want_t *w = &run[i];
            /* few distinct keys, so equal keys meet across and within
             * runs; lengths differ, so prefixes meet too */
            int len = snprintf(w->key, sizeof w->key, "k%d",
                               rand() % 5000 * (rand() % 2 ? 1 : 10));
            w->key_len = (size_t) len;
            w->run = r;
            w->data_len = (size_t) (rand() % 300);
        }
        /* now and then an item over the read and write buffers */
        if (r % 5 == 0) {
            run[0].data_len = sizeof big - (size_t) r;
        }
        qsort(run, PER_RUN, sizeof *run, s_key_order); /* run order */
        for (size_t i = 0; i < PER_RUN; i++) {
            run[i].seq = n + i;
            s_fill(big, run[i].data_len, run[i].seq);
            assert_int_equal(cs_spill_add(spill, run[i].key, run[i].key_len,
                                          big, run[i].data_len),
                             CS_OK);
        }
        n += PER_RUN;
        assert_int_equal(cs_spill_end_run(spill), CS_OK);
        assert_int_equal(cs_spill_end_run(spill), CS_OK); /* empty: skipped */
    }
    assert_int_equal(cs_spill_count(spill), n);
    qsort(want, n, sizeof *want, s_want_order);
    assert_int_equal(cs_spill_merge(spill), CS_OK);
    cs_spill_item_t item;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cs_spill_next(spill, &item), CS_OK);
        assert_int_equal(item.key_len, want[i].key_len);
        assert_memory_equal(item.key, want[i].key, item.key_len);
        assert_int_equal(item.run, want[i].run);
        assert_int_equal(item.data_len, want[i].data_len);
        s_fill(big, want[i].data_len, want[i].seq);
        if (item.data_len) {
            assert_memory_equal(item.data, big, item.data_len);
        }
    }
    assert_int_equal(cs_spill_next(spill, &item), CS_ENOENT);
    assert_int_equal(cs_spill_next(spill, &item), CS_ENOENT);
    cs_spill_destroy(&spill);
    assert_null(spill);
}

/* Many one-item runs (a tiny batch size) share the read budget. */
static void
test_spill_many_small_runs_merge(void **state)
{
    (void) state;
    enum { RUNS = 20000 };
    cs_spill_t *spill = NULL;
    assert_int_equal(cs_spill_new(s_dir, &spill), CS_OK);
    char key[16];
    for (size_t r = 0; r < RUNS; r++) {
        int len = snprintf(key, sizeof key, "%05zu", (r * 7919) % RUNS);
        assert_int_equal(cs_spill_add(spill, key, (size_t) len, &r, sizeof r),
                         CS_OK);
        assert_int_equal(cs_spill_end_run(spill), CS_OK);
    }
    assert_int_equal(cs_spill_merge(spill), CS_OK);
    cs_spill_item_t item;
    for (size_t i = 0; i < RUNS; i++) {
        assert_int_equal(cs_spill_next(spill, &item), CS_OK);
        int len = snprintf(key, sizeof key, "%05zu", i);
        assert_int_equal(item.key_len, (size_t) len);
        assert_memory_equal(item.key, key, item.key_len);
        size_t r;
        memcpy(&r, item.data, sizeof r);
        assert_int_equal(item.run, r);
        assert_int_equal((r * 7919) % RUNS, i);
    }
    assert_int_equal(cs_spill_next(spill, &item), CS_ENOENT);
    cs_spill_destroy(&spill);
}

static void
test_spill_empty_gives_nothing(void **state)
{
    (void) state;
    cs_spill_t *spill = NULL;
    assert_int_equal(cs_spill_new(s_dir, &spill), CS_OK);
    assert_int_equal(cs_spill_end_run(spill), CS_OK);
    assert_int_equal(cs_spill_merge(spill), CS_OK);
    cs_spill_item_t item;
    assert_int_equal(cs_spill_next(spill, &item), CS_ENOENT);
    cs_spill_destroy(&spill);
    cs_spill_destroy(&spill); /* safe twice */
}

static void
test_spill_last_run_needs_no_end_and_empty_items_pass(void **state)
{
    (void) state;
    cs_spill_t *spill = NULL;
    assert_int_equal(cs_spill_new(s_dir, &spill), CS_OK);
    assert_int_equal(cs_spill_add(spill, "b", 1, NULL, 0), CS_OK);
    assert_int_equal(cs_spill_end_run(spill), CS_OK);
    assert_int_equal(cs_spill_add(spill, "", 0, "x", 1), CS_OK);
    assert_int_equal(cs_spill_add(spill, "a", 1, "y", 1), CS_OK);
    /* a payload in two parts reads back as one */
    assert_int_equal(cs_spill_add_parts(spill, "c", 1, "he", 2, "ad", 2),
                     CS_OK);
    assert_int_equal(cs_spill_merge(spill), CS_OK); /* ends the open run */
    cs_spill_item_t item;
    const char *keys[] = { "", "a", "b", "c" };
    const char *data[] = { "x", "y", "", "head" };
    size_t runs[] = { 1, 1, 0, 1 };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(cs_spill_next(spill, &item), CS_OK);
        assert_int_equal(item.key_len, strlen(keys[i]));
        assert_memory_equal(item.key, keys[i], item.key_len);
        assert_int_equal(item.data_len, strlen(data[i]));
        assert_memory_equal(item.data, data[i], item.data_len);
        assert_int_equal(item.run, runs[i]);
    }
    assert_int_equal(cs_spill_next(spill, &item), CS_ENOENT);
    cs_spill_destroy(&spill);
}

/*  Whether files in the test directory can have holes punched in them. */
static bool
s_can_punch(void)
{
    char path[64];
    snprintf(path, sizeof path, "%s/punch", s_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    static const char page[4096];
    bool ok = write(fd, page, sizeof page) == (ssize_t) sizeof page &&
              fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                        sizeof page) == 0;
    close(fd);
    assert_int_equal(unlink(path), 0);
    return ok;
}

/* The merge gives back the file's storage as it reads it. */
static void
test_spill_merge_frees_what_it_read(void **state)
{
    (void) state;
    if (!s_can_punch()) {
        skip(); /* the file system keeps the pages until the file goes */
    }
    enum { RUNS = 8, PER_RUN = 1000, SIZE = 1000 };
    static char data[SIZE];
    cs_spill_t *spill = NULL;
    assert_int_equal(cs_spill_new(s_dir, &spill), CS_OK);
    for (size_t r = 0; r < RUNS; r++) {
        for (size_t i = 0; i < PER_RUN; i++) {
            char key[16];
            int len = snprintf(key, sizeof key, "%06zu", i * RUNS + r);
            s_fill(data, sizeof data, i * RUNS + r);
            assert_int_equal(
                cs_spill_add(spill, key, (size_t) len, data, sizeof data),
                CS_OK);
        }
        assert_int_equal(cs_spill_end_run(spill), CS_OK);
    }
    uint64_t written = cs_spill_held(spill);
    assert_true(written >= (uint64_t) RUNS * PER_RUN * SIZE);
    assert_int_equal(cs_spill_merge(spill), CS_OK);
    cs_spill_item_t item;
    uint64_t half = 0;
    for (size_t k = 0; k < RUNS * PER_RUN; k++) {
        assert_int_equal(cs_spill_next(spill, &item), CS_OK);
        char key[16];
        int len = snprintf(key, sizeof key, "%06zu", k);
        assert_int_equal(item.key_len, (size_t) len);
        assert_memory_equal(item.key, key, item.key_len);
        s_fill(data, sizeof data, k);
        assert_memory_equal(item.data, data, sizeof data); /* unharmed */
        if (k == RUNS * PER_RUN / 2) {
            half = cs_spill_held(spill);
        }
    }
    assert_int_equal(cs_spill_next(spill, &item), CS_ENOENT);
    /* half read: the runs' read-ahead is still held; all read: at most the
     * pages that two runs share */
    assert_true(half < written * 3 / 4);
    assert_true(cs_spill_held(spill) <= (uint64_t) (RUNS + 1) * 4096);
    cs_spill_destroy(&spill);
}

static void
test_spill_refuses_oversized_items_and_missing_dirs(void **state)
{
    (void) state;
    cs_spill_t *spill = NULL;
    assert_int_equal(cs_spill_new("/nonexistent/dir", &spill), CS_EIO);
    assert_null(spill);
    assert_int_equal(cs_spill_new(s_dir, &spill), CS_OK);
    static char key[CS_SPILL_KEY_MAX + 1];
    assert_int_equal(cs_spill_add(spill, key, sizeof key, NULL, 0), CS_EINVAL);
    assert_int_equal(
        cs_spill_add(spill, "k", 1, key, (size_t) CS_SPILL_DATA_MAX + 1),
        CS_EINVAL);
    assert_int_equal(cs_spill_add_parts(spill, "k", 1, key,
                                        (size_t) CS_SPILL_DATA_MAX, key, 1),
                     CS_EINVAL);
    assert_int_equal(cs_spill_count(spill), 0);
    cs_spill_destroy(&spill);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spill_merges_runs_in_key_then_run_order),
        cmocka_unit_test(test_spill_many_small_runs_merge),
        cmocka_unit_test(test_spill_empty_gives_nothing),
        cmocka_unit_test(test_spill_last_run_needs_no_end_and_empty_items_pass),
        cmocka_unit_test(test_spill_merge_frees_what_it_read),
        cmocka_unit_test(test_spill_refuses_oversized_items_and_missing_dirs),
    };
    return cmocka_run_group_tests_name("tools/cs_spill", tests, s_setup,
                                       s_teardown);
}
