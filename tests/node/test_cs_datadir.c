/*  test_cs_datadir - the feed mark of a data directory: kept up to date by
 *  writers, and a store restored from an older copy gets a new epoch.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/cs_datadir.h"

typedef struct {
    char dir[64];
    char path[128];
} s_fix_t;

static const char *
s_path(s_fix_t *fix, const char *name)
{
    snprintf(fix->path, sizeof fix->path, "%s/%s", fix->dir, name);
    return fix->path;
}

static int
s_setup(void **state)
{
    s_fix_t *fix = calloc(1, sizeof *fix);
    assert_non_null(fix);
    strcpy(fix->dir, "/tmp/cs_datadir_test.XXXXXX");
    assert_non_null(mkdtemp(fix->dir));
    assert_int_equal(cs_datadir_init(fix->dir, NULL), CS_OK);
    *state = fix;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *fix = *state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", fix->dir);
    assert_int_equal(system(command), 0);
    free(fix);
    return 0;
}

static void
s_write(s_fix_t *fix, const char *id)
{
    cs_store_t *store = NULL;
    assert_int_equal(cs_datadir_open(fix->dir, NULL, &store), CS_OK);
    cs_store_field_t field = { "Name", cs_value_str("x") };
    assert_int_equal(cs_store_set(store, "contacts", id, &field, 1, NULL),
                     CS_OK);
    cs_store_destroy(&store);
}

static cs_store_info_t
s_info(s_fix_t *fix)
{
    cs_store_t *store = NULL;
    cs_store_opts_t opts = { .read_only = true };
    assert_int_equal(cs_datadir_open(fix->dir, &opts, &store), CS_OK);
    cs_store_info_t info;
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    cs_store_destroy(&store);
    return info;
}

/* The mark as written: "EPOCH HEAD\n". */
static void
s_read_mark(s_fix_t *fix, uint64_t *epoch, uint64_t *head)
{
    FILE *file = fopen(s_path(fix, CS_DATADIR_MARK_FILE), "r");
    assert_non_null(file);
    assert_int_equal(fscanf(file, "%" SCNx64 " %" SCNu64, epoch, head), 2);
    fclose(file);
}

static void
s_copy(s_fix_t *fix, const char *from, const char *to)
{
    char command[256];
    snprintf(command, sizeof command, "cp '%s/%s' '%s/%s'", fix->dir, from,
             fix->dir, to);
    assert_int_equal(system(command), 0);
}

static void
test_datadir_open_for_writing_marks_the_head(void **state)
{
    s_fix_t *fix = *state;
    s_write(fix, "a");
    s_write(fix, "b"); /* opened at head 1: marks 1 */
    uint64_t epoch = 0, head = 0;
    s_read_mark(fix, &epoch, &head);
    cs_store_info_t info = s_info(fix);
    assert_int_equal(epoch, info.epoch);
    assert_int_equal(head, 1);
    assert_int_equal(cs_datadir_mark(fix->dir, info.epoch, info.feed_head),
                     CS_OK);
    s_read_mark(fix, &epoch, &head);
    assert_int_equal(head, 2);
}

static void
test_datadir_read_only_open_leaves_no_mark(void **state)
{
    s_fix_t *fix = *state;
    (void) s_info(fix);
    assert_int_not_equal(access(s_path(fix, CS_DATADIR_MARK_FILE), F_OK), 0);
}

/* data.mdb copied back from an older copy: a new epoch, the mark follows. */
static void
test_datadir_restored_store_gets_a_new_epoch(void **state)
{
    s_fix_t *fix = *state;
    s_write(fix, "a");
    s_copy(fix, "data.mdb", "backup.mdb"); /* head 1 */
    s_write(fix, "b");
    s_write(fix, "c");
    cs_store_info_t before = s_info(fix);
    assert_int_equal(before.feed_head, 3);
    assert_int_equal(cs_datadir_mark(fix->dir, before.epoch, 3), CS_OK);
    s_copy(fix, "backup.mdb", "data.mdb");
    assert_int_equal(s_info(fix).epoch, before.epoch); /* read-only: kept */
    s_write(fix, "d");
    cs_store_info_t after = s_info(fix);
    assert_int_not_equal(after.epoch, before.epoch);
    assert_int_equal(after.feed_head, 2);
    uint64_t epoch = 0, head = 0;
    s_read_mark(fix, &epoch, &head);
    assert_int_equal(epoch, after.epoch);
    assert_int_equal(head, 1);
    s_write(fix, "e"); /* no longer behind its mark: the epoch stays */
    assert_int_equal(s_info(fix).epoch, after.epoch);
}

/* A torn or foreign mark is no evidence: ignored, then rewritten. */
static void
test_datadir_unreadable_mark_is_rewritten(void **state)
{
    s_fix_t *fix = *state;
    s_write(fix, "a");
    cs_store_info_t info = s_info(fix);
    FILE *file = fopen(s_path(fix, CS_DATADIR_MARK_FILE), "w");
    assert_non_null(file);
    fprintf(file, "%016" PRIx64 " 99 trailing", info.epoch);
    fclose(file);
    s_write(fix, "b");
    assert_int_equal(s_info(fix).epoch, info.epoch);
    uint64_t epoch = 0, head = 0;
    s_read_mark(fix, &epoch, &head);
    assert_int_equal(epoch, info.epoch);
    assert_int_equal(head, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_datadir_open_for_writing_marks_the_head, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_datadir_read_only_open_leaves_no_mark, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_datadir_restored_store_gets_a_new_epoch, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_datadir_unreadable_mark_is_rewritten, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
