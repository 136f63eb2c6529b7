/*  test_store_crash - crash safety and multi-process use of the store.
 *  SPDX-License-Identifier: MIT
 *
 *  - A forked writer is SIGKILLed after a random short delay, round after
 *    round on the same store; after each kill the store must open, every
 *    write the child acknowledged (reported over a pipe only after
 *    cs_store_set returned CS_OK) must be there with its value, and the
 *    feed must hold each record once.
 *  - Two writer processes and a reading process share one store at once;
 *    the writers bring new field names as they go, so each process must
 *    read names the others numbered.
 *  - A process follows a map that another process grew.
 *
 *  The seed is printed; set CS_TEST_SEED to replay a run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage/cs_store.h"

#define S_NODE          UINT64_C(0x3333)
#define S_ROUNDS        20
#define S_KILL_MAX_MS   40    /* the child dies within this delay */
#define S_CHILD_WRITES  20000 /* bounds a writer's loop ... */
#define S_CHILD_MS      10000 /* ... and its running time */
#define S_ACKS_MAX      (S_CHILD_WRITES + 1)
#define S_CONC_WRITES   150   /* per writer in the concurrent test */
#define S_CONC_NAMES    40    /* field names of each writer there */
#define S_CONC_DEADLINE 40000 /* ms for the concurrent test */
#define S_KEYS_MAX      (S_ROUNDS * 2000)
#define S_GROW_WRITES   300 /* 8 KiB records: a 128 KiB map grows to MiBs */

static uint64_t s_rng_state;

static uint64_t
s_rand(void)
{
    /* xorshift64* */
    s_rng_state ^= s_rng_state >> 12;
    s_rng_state ^= s_rng_state << 25;
    s_rng_state ^= s_rng_state >> 27;
    return s_rng_state * UINT64_C(2685821657736338717);
}

static uint64_t
s_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t) now.tv_sec * 1000u + (uint64_t) now.tv_nsec / 1000000u;
}

static void
s_sleep_ms(uint64_t ms)
{
    struct timespec delay = { .tv_sec = (time_t) (ms / 1000),
                              .tv_nsec = (long) (ms % 1000) * 1000000L };
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
    }
}

static void
s_mkdtemp(char dir[64])
{
    strcpy(dir, "/tmp/cs_store_crash.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void
s_rmdir(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

static int
s_set_str(cs_store_t *store, const char *id, const char *value)
{
    cs_store_field_t field = { .name = "a", .value = cs_value_str(value) };
    return cs_store_set(store, "c", id, &field, 1, NULL);
}

static int
s_set_int(cs_store_t *store, const char *id, int64_t value)
{
    cs_store_field_t field = { .name = "n", .value = cs_value_int(value) };
    return cs_store_set(store, "c", id, &field, 1, NULL);
}

/* ---------------- feed consistency ---------------- */

typedef struct {
    char (*keys)[CS_COLLECTION_MAX + CS_ID_MAX + 2]; /* "collection/id" */
    size_t n;                                        /* entries seen */
    uint64_t last_seq;                               /* of the previous */
    bool ordered;                                    /* seqs increased */
} s_feed_t;

static bool
s_feed_visit(void *arg, const char *collection, const char *id,
             const cs_record_t *record)
{
    s_feed_t *feed = arg;
    if (feed->n >= S_KEYS_MAX) {
        return false;
    }
    snprintf(feed->keys[feed->n], sizeof feed->keys[feed->n], "%s/%s",
             collection, id);
    feed->n++;
    uint64_t seq = cs_record_max_seq(record);
    feed->ordered = feed->ordered && seq > feed->last_seq;
    feed->last_seq = seq;
    return true;
}

static int
s_key_compare(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Each record once in the feed, in increasing seq, ending at the head. */
static void
s_assert_feed_consistent(cs_store_t *store)
{
    s_feed_t feed = { .keys = calloc(S_KEYS_MAX, sizeof *feed.keys),
                      .ordered = true };
    assert_non_null(feed.keys);
    uint64_t last_seq = 0;
    uint64_t head = 0;
    assert_int_equal(cs_store_changes(store, 0, 0, SIZE_MAX, s_feed_visit,
                                      &feed, &last_seq, &head),
                     CS_OK);
    cs_store_info_t info;
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    assert_true(feed.ordered);
    assert_int_equal(feed.n, info.records);
    assert_int_equal(head, info.feed_head);
    assert_int_equal(last_seq, info.feed_head);
    if (feed.n > 0) {
        assert_int_equal(feed.last_seq, info.feed_head);
    }
    qsort(feed.keys, feed.n, sizeof *feed.keys, s_key_compare);
    for (size_t i = 1; i < feed.n; i++) {
        assert_string_not_equal(feed.keys[i - 1], feed.keys[i]);
    }
    free(feed.keys);
}

/* ---------------- crash rounds ---------------- */

/*  The child: open the store, write until killed, acknowledge each
 *  iteration (a unique record and the round's hot record) only after both
 *  writes returned CS_OK. Never returns. */
static void
s_crash_child(const char *dir, int round, int ack_fd)
{
    cs_store_t *store = NULL;
    if (cs_store_open(dir, NULL, &store) != CS_OK) {
        _exit(10);
    }
    char id[32];
    char value[48];
    char hot[32];
    snprintf(hot, sizeof hot, "hot-%02d", round);
    uint64_t start = s_now_ms();
    for (uint32_t i = 0; i < S_CHILD_WRITES; i++) {
        if (s_now_ms() - start > S_CHILD_MS) {
            break;
        }
        snprintf(id, sizeof id, "r%02d-%05" PRIu32, round, i);
        snprintf(value, sizeof value, "value of round %d write %" PRIu32, round,
                 i);
        if (s_set_str(store, id, value) != CS_OK) {
            _exit(11);
        }
        if (s_set_int(store, hot, i) != CS_OK) {
            _exit(12);
        }
        if (write(ack_fd, &i, sizeof i) != (ssize_t) sizeof i) {
            _exit(13);
        }
    }
    cs_store_destroy(&store);
    _exit(0);
}

/* Read the acknowledgements until EOF; they count up from 0. */
static uint32_t
s_read_acks(int fd)
{
    uint32_t count = 0;
    uint32_t ack = 0;
    size_t have = 0;
    for (;;) {
        ssize_t got = read(fd, (char *) &ack + have, sizeof ack - have);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        assert_true(got >= 0);
        if (got == 0) {
            break;
        }
        have += (size_t) got;
        if (have == sizeof ack) {
            assert_int_equal(ack, count);
            count++;
            have = 0;
        }
    }
    return count;
}

static void
s_assert_round(cs_store_t *store, int round, uint32_t acked)
{
    char id[32];
    char value[48];
    for (uint32_t i = 0; i < acked; i++) {
        snprintf(id, sizeof id, "r%02d-%05" PRIu32, round, i);
        snprintf(value, sizeof value, "value of round %d write %" PRIu32, round,
                 i);
        cs_record_t *rec = NULL;
        assert_int_equal(cs_store_get(store, "c", id, &rec), CS_OK);
        cs_field_t field;
        assert_int_equal(cs_record_get(rec, "a", &field), CS_OK);
        assert_int_equal(field.value.u.s.len, strlen(value));
        assert_memory_equal(field.value.u.s.ptr, value, strlen(value));
        cs_record_destroy(&rec);
    }
    if (acked > 0) {
        snprintf(id, sizeof id, "hot-%02d", round);
        cs_record_t *rec = NULL;
        assert_int_equal(cs_store_get(store, "c", id, &rec), CS_OK);
        cs_field_t field;
        assert_int_equal(cs_record_get(rec, "n", &field), CS_OK);
        /* The write after the last ack may have made it too. */
        assert_true(field.value.u.i >= (int64_t) acked - 1);
        assert_true(field.value.u.i <= (int64_t) acked);
        cs_record_destroy(&rec);
    }
}

static void
test_store_survives_sigkill_of_writer_without_losing_acked_writes(void **state)
{
    (void) state;
    const char *env_seed = getenv("CS_TEST_SEED");
    uint64_t seed = env_seed
                        ? strtoull(env_seed, NULL, 10)
                        : (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 20);
    if (seed == 0) {
        seed = 1;
    }
    printf("test_store_crash: seed=%" PRIu64 " (set CS_TEST_SEED to replay)\n",
           seed);
    fflush(stdout);
    s_rng_state = seed;

    char dir[64];
    s_mkdtemp(dir);
    assert_int_equal(cs_store_create(dir, S_NODE), CS_OK);
    uint32_t acked[S_ROUNDS] = { 0 };
    uint64_t acked_writes = 0;
    uint64_t started = s_now_ms();
    int rounds = 0;
    for (int round = 0; round < S_ROUNDS; round++) {
        if (s_now_ms() - started > 30000) {
            break; /* a slow machine: fewer rounds, same checks */
        }
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            s_crash_child(dir, round, fds[1]);
        }
        close(fds[1]);
        uint64_t delay = 1 + s_rand() % S_KILL_MAX_MS;
        s_sleep_ms(delay);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        acked[round] = s_read_acks(fds[0]);
        close(fds[0]);
        if (WIFEXITED(status)) {
            /* It may only have finished, never failed. */
            assert_int_equal(WEXITSTATUS(status), 0);
        } else {
            assert_true(WIFSIGNALED(status));
            assert_int_equal(WTERMSIG(status), SIGKILL);
        }
        acked_writes += 2u * acked[round];
        rounds++;

        cs_store_t *store = NULL;
        assert_int_equal(cs_store_open(dir, NULL, &store), CS_OK);
        for (int earlier = 0; earlier <= round; earlier++) {
            s_assert_round(store, earlier, acked[earlier]);
        }
        cs_store_info_t info;
        assert_int_equal(cs_store_info(store, &info), CS_OK);
        assert_true(info.feed_head >= acked_writes);
        s_assert_feed_consistent(store);
        cs_store_destroy(&store);
    }
    printf("test_store_crash: %d rounds, %" PRIu64 " acknowledged writes\n",
           rounds, acked_writes);
    assert_true(rounds >= 5);
    s_rmdir(dir);
}

/* ---------------- concurrent processes ---------------- */

static void
s_concurrent_writer(const char *dir, int writer)
{
    cs_store_t *store = NULL;
    if (cs_store_open(dir, NULL, &store) != CS_OK) {
        _exit(20);
    }
    char id[32];
    char name[32];
    char value[32];
    for (int i = 0; i < S_CONC_WRITES; i++) {
        snprintf(id, sizeof id, "w%d-%04d", writer, i);
        snprintf(name, sizeof name, "w%d-f%d", writer, i % S_CONC_NAMES);
        snprintf(value, sizeof value, "%d/%d", writer, i);
        cs_store_field_t field = { .name = name, .value = cs_value_str(value) };
        if (cs_store_set(store, "c", id, &field, 1, NULL) != CS_OK) {
            _exit(21);
        }
        if (s_set_int(store, "shared", writer * 100000 + i) != CS_OK) {
            _exit(22);
        }
    }
    cs_store_destroy(&store);
    _exit(0);
}

static bool
s_count_visit(void *arg, const char *collection, const char *id,
              const cs_record_t *record)
{
    (void) collection;
    (void) id;
    (void) record;
    (*(uint64_t *) arg)++;
    return true;
}

/*  Each writer's record holds its one field, under the writer's name. */
static bool
s_named_visit(void *arg, const char *collection, const char *id,
              const cs_record_t *record)
{
    (void) collection;
    int writer = 0, i = 0;
    if (sscanf(id, "w%d-%d", &writer, &i) != 2) {
        return true; /* "shared" */
    }
    char name[32], value[32];
    snprintf(name, sizeof name, "w%d-f%d", writer, i % S_CONC_NAMES);
    snprintf(value, sizeof value, "%d/%d", writer, i);
    cs_field_t field;
    assert_int_equal(cs_record_field_count(record), 1);
    assert_int_equal(cs_record_get(record, name, &field), CS_OK);
    cs_value_t got = field.value;
    assert_int_equal(got.type, CS_VALUE_STR);
    assert_int_equal(got.u.s.len, strlen(value));
    assert_memory_equal(got.u.s.ptr, value, got.u.s.len);
    (*(uint64_t *) arg)++;
    return true;
}

typedef struct {
    cs_hlc_t *hlcs; /* every field stamp seen */
    size_t n;       /* used */
    size_t cap;     /* allocated */
} s_hlcs_t;

static bool
s_hlc_visit(void *arg, const char *collection, const char *id,
            const cs_record_t *record)
{
    (void) collection;
    (void) id;
    s_hlcs_t *hlcs = arg;
    for (size_t i = 0; i < cs_record_field_count(record); i++) {
        if (hlcs->n < hlcs->cap) {
            hlcs->hlcs[hlcs->n++] = cs_record_field_at(record, i).stamp.hlc;
        }
    }
    return true;
}

static int
s_hlc_compare(const void *a, const void *b)
{
    cs_hlc_t x = *(const cs_hlc_t *) a;
    cs_hlc_t y = *(const cs_hlc_t *) b;
    return (x > y) - (x < y);
}

static void
test_store_two_writer_processes_and_a_reader_share_one_store(void **state)
{
    (void) state;
    char dir[64];
    s_mkdtemp(dir);
    assert_int_equal(cs_store_create(dir, S_NODE), CS_OK);
    pid_t pids[2];
    fflush(NULL);
    for (int writer = 0; writer < 2; writer++) {
        pids[writer] = fork();
        assert_true(pids[writer] >= 0);
        if (pids[writer] == 0) {
            s_concurrent_writer(dir, writer + 1);
        }
    }

    /* The parent reads while they write; it opens the store after fork. */
    cs_store_t *store = NULL;
    assert_int_equal(cs_store_open(dir, NULL, &store), CS_OK);
    uint64_t deadline = s_now_ms() + S_CONC_DEADLINE;
    uint64_t last_count = 0;
    uint64_t last_head = 0;
    int running = 2;
    int reads = 0;
    while (running > 0 && s_now_ms() < deadline) {
        uint64_t count = 0;
        assert_int_equal(cs_store_count(store, "c", &count), CS_OK);
        assert_true(count >= last_count);
        last_count = count;
        uint64_t scanned = 0;
        assert_int_equal(cs_store_scan(store, NULL, s_count_visit, &scanned),
                         CS_OK);
        assert_true(scanned >= count);
        uint64_t since = 0;
        uint64_t last_seq = 0;
        uint64_t head = 0;
        for (int page = 0; page < 1000; page++) {
            uint64_t seen = 0;
            assert_int_equal(cs_store_changes(store, since, since, 512,
                                              s_count_visit, &seen, &last_seq,
                                              &head),
                             CS_OK);
            assert_true(last_seq >= since);
            if (last_seq == since || last_seq >= head) {
                break;
            }
            since = last_seq;
        }
        assert_true(head >= last_head);
        last_head = head;
        uint8_t digest[CS_STORE_DIGEST_BYTES];
        assert_int_equal(cs_store_digest(store, digest, NULL), CS_OK);
        reads++;
        for (int writer = 0; writer < 2; writer++) {
            int status = 0;
            if (pids[writer] > 0 &&
                waitpid(pids[writer], &status, WNOHANG) == pids[writer]) {
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
                pids[writer] = 0;
                running--;
            }
        }
    }
    for (int writer = 0; writer < 2; writer++) {
        if (pids[writer] > 0) {
            kill(pids[writer], SIGKILL);
            waitpid(pids[writer], NULL, 0);
        }
    }
    assert_int_equal(running, 0);
    printf("test_store_crash: %d concurrent read passes\n", reads);

    /* Every write took its own seq and its own HLC. */
    cs_store_info_t info;
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    assert_int_equal(info.records, 2 * S_CONC_WRITES + 1);
    assert_int_equal(info.feed_head, 4 * S_CONC_WRITES);
    s_assert_feed_consistent(store);
    s_hlcs_t hlcs = { .cap = 4 * S_CONC_WRITES };
    hlcs.hlcs = calloc(hlcs.cap, sizeof *hlcs.hlcs);
    assert_non_null(hlcs.hlcs);
    assert_int_equal(cs_store_scan(store, "c", s_hlc_visit, &hlcs), CS_OK);
    assert_int_equal(hlcs.n, 2 * S_CONC_WRITES + 1);
    qsort(hlcs.hlcs, hlcs.n, sizeof *hlcs.hlcs, s_hlc_compare);
    for (size_t i = 1; i < hlcs.n; i++) {
        assert_true(hlcs.hlcs[i - 1] < hlcs.hlcs[i]);
    }
    assert_true(info.last_hlc == hlcs.hlcs[hlcs.n - 1]);
    free(hlcs.hlcs);
    uint64_t named = 0;
    assert_int_equal(cs_store_scan(store, "c", s_named_visit, &named), CS_OK);
    assert_int_equal(named, 2 * S_CONC_WRITES);
    cs_store_destroy(&store);
    s_rmdir(dir);
}

/* ---------------- map grown by another process ---------------- */

static void
s_growing_writer(const char *dir, int go_fd)
{
    char go = 0;
    if (read(go_fd, &go, 1) != 1) {
        _exit(30);
    }
    cs_store_opts_t opts = { .map_size = UINT64_C(128) * 1024,
                             .map_size_max = UINT64_C(64) * 1024 * 1024 };
    cs_store_t *store = NULL;
    if (cs_store_open(dir, &opts, &store) != CS_OK) {
        _exit(31);
    }
    static char value[8193];
    memset(value, 'g', sizeof value - 1);
    char id[32];
    for (int i = 0; i < S_GROW_WRITES; i++) {
        snprintf(id, sizeof id, "g%04d", i);
        if (s_set_str(store, id, value) != CS_OK) {
            _exit(32);
        }
    }
    cs_store_destroy(&store);
    _exit(0);
}

static void
test_store_follows_map_grown_by_another_process(void **state)
{
    (void) state;
    char dir[64];
    s_mkdtemp(dir);
    assert_int_equal(cs_store_create(dir, S_NODE), CS_OK);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[1]);
        s_growing_writer(dir, fds[0]);
    }
    close(fds[0]);

    /* Open with a small map before the other process grows it. */
    cs_store_opts_t opts = { .map_size = UINT64_C(128) * 1024,
                             .map_size_max = UINT64_C(64) * 1024 * 1024 };
    cs_store_t *store = NULL;
    assert_int_equal(cs_store_open(dir, &opts, &store), CS_OK);
    cs_store_info_t info;
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    uint64_t small = info.map_size;
    assert_int_equal(write(fds[1], "g", 1), 1);
    close(fds[1]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* Its data lies beyond our map: we must adopt the new size. */
    uint64_t count = 0;
    assert_int_equal(cs_store_count(store, "c", &count), CS_OK);
    assert_int_equal(count, S_GROW_WRITES);
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    assert_true(info.map_size > small);
    assert_true(info.map_size <= opts.map_size_max);
    assert_int_equal(info.feed_head, S_GROW_WRITES);
    assert_int_equal(s_set_str(store, "after", "growth"), CS_OK);
    assert_int_equal(cs_store_info(store, &info), CS_OK);
    assert_int_equal(info.feed_head, S_GROW_WRITES + 1);
    s_assert_feed_consistent(store);
    cs_store_destroy(&store);
    s_rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_store_survives_sigkill_of_writer_without_losing_acked_writes),
        cmocka_unit_test(
            test_store_two_writer_processes_and_a_reader_share_one_store),
        cmocka_unit_test(test_store_follows_map_grown_by_another_process),
    };
    return cmocka_run_group_tests_name("storage/crash", tests, NULL, NULL);
}
