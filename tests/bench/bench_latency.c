/*  bench_latency - write-to-visible latency between running crmsync nodes:
 *  writes records at a steady rate into the stores of several sites and
 *  times when each becomes visible at every other site.
 *  SPDX-License-Identifier: MIT
 *
 *  Usage: bench_latency [--writes N] [--rate HZ] [--timeout MS]
 *                       [--value-bytes B] [--raw FILE] DIR DIR...
 *
 *    --writes N       writes in all (default 600; 1 .. 1000000)
 *    --rate HZ        writes per second, all sites together (default 100)
 *    --timeout MS     a write not visible at a site after this long is
 *                     counted lost (default 10000)
 *    --value-bytes B  size of the Note field written with each record
 *                     (default 28)
 *    --raw FILE       one line per write and site: "write site latency_us"
 *    DIR...           the data directories of 2 to 8 sites whose nodes run
 *
 *  Write i goes to site i mod n, as a new record ("bench", "lat-P-i", P
 *  this process's id) with the fields Seq = i and Note, through the store
 *  (cs_store_set: the path of crmsync put; the site's node sees it at its
 *  next tick). Writes are due every 1/rate s from the start, whatever the
 *  previous ones took. Between writes every pending (write, site) pair is
 *  polled with cs_store_get about every 0.5 ms. Latency runs from the
 *  return of cs_store_set (the write is committed and synced: it is
 *  acknowledged) to the first read that shows it at the other site.
 *
 *  Prints, one figure a line ("what count p50 p90 p99 max", ms):
 *    pair   every (write, other site)
 *    first  each write, at the first other site to show it
 *    all    each write, at the last other site to show it
 *    commit cs_store_set itself
 *  then "lost N" and the achieved rate. Exit status: 0 when every write was
 *  seen everywhere, 1 when some were lost or a store failed, 64 for a bad
 *  command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/cs_store.h"

#define S_PROG       "bench_latency"
#define S_EXIT_OK    0
#define S_EXIT_FAIL  1
#define S_EXIT_USAGE 64
#define S_SITES_MAX  8
#define S_POLL_NS    500000L /* between polls of the pending writes */
#define S_COLLECTION "bench"

/* One write and when it became visible at each site. */
typedef struct {
    char id[48];                  /* record id */
    int64_t acked_us;             /* cs_store_set returned (0: not yet) */
    int64_t commit_us;            /* what cs_store_set took */
    int64_t seen_us[S_SITES_MAX]; /* latency at each site (-1: pending,
                                    -2: lost; the writing site: 0) */
    size_t pending;               /* sites still to show it */
} s_write_t;

static int64_t
s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
s_order(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a;
    int64_t y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

/*  Sort @p n latencies (us) and print "NAME n p50 p90 p99 max" in ms;
 *  nearest-rank percentiles. */
static void
s_report(const char *name, int64_t *values, size_t n)
{
    if (n == 0) {
        printf("%-6s 0 - - - -\n", name);
        return;
    }
    qsort(values, n, sizeof *values, s_order);
    double pct[3] = { 0.50, 0.90, 0.99 };
    printf("%-6s %zu", name, n);
    for (size_t i = 0; i < 3; i++) {
        size_t rank = (size_t) (pct[i] * (double) n + 0.999999);
        rank = rank < 1 ? 1 : rank;
        printf(" %.2f", (double) values[rank - 1] / 1000.0);
    }
    printf(" %.2f\n", (double) values[n - 1] / 1000.0);
}

/*  Is write @p w visible (its Seq is @p seq) in @p store? */
static bool
s_visible(cs_store_t *store, const s_write_t *w, int64_t seq, int *rc_out)
{
    cs_record_t *rec = NULL;
    int rc = cs_store_get(store, S_COLLECTION, w->id, &rec);
    bool seen = false;
    if (rc == CS_OK) {
        cs_field_t field;
        seen = cs_record_get(rec, "Seq", &field) == CS_OK &&
               field.value.type == CS_VALUE_INT && field.value.u.i == seq;
        cs_record_destroy(&rec);
    } else if (rc != CS_ENOENT) {
        *rc_out = rc;
    }
    return seen;
}

static void
s_usage(FILE *out)
{
    fputs("Usage: " S_PROG " [--writes N] [--rate HZ] [--timeout MS]\n"
          "       [--value-bytes B] [--raw FILE] DIR DIR...\n",
          out);
}

static bool
s_number(const char *text, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

int
main(int argc, char **argv)
{
    long long writes = 600, rate = 100, timeout_ms = 10000, value_bytes = 28;
    const char *raw_path = NULL;
    static const struct option options[] = {
        { "writes", required_argument, NULL, 'w' },
        { "rate", required_argument, NULL, 'r' },
        { "timeout", required_argument, NULL, 't' },
        { "value-bytes", required_argument, NULL, 'v' },
        { "raw", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "w:r:t:v:o:h", options, NULL)) !=
           -1) {
        bool ok = true;
        switch (opt) {
        case 'w':
            ok = s_number(optarg, 1, 1000000, &writes);
            break;
        case 'r':
            ok = s_number(optarg, 1, 100000, &rate);
            break;
        case 't':
            ok = s_number(optarg, 1, 3600000, &timeout_ms);
            break;
        case 'v':
            ok = s_number(optarg, 0, 65536, &value_bytes);
            break;
        case 'o':
            raw_path = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return S_EXIT_OK;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            s_usage(stderr);
            return S_EXIT_USAGE;
        }
    }
    size_t n_sites = (size_t) (argc - optind);
    if (n_sites < 2 || n_sites > S_SITES_MAX) {
        fprintf(stderr, S_PROG ": give 2 to %d data directories\n",
                S_SITES_MAX);
        return S_EXIT_USAGE;
    }

    int status = S_EXIT_FAIL;
    cs_store_t *stores[S_SITES_MAX] = { NULL };
    size_t n_writes = (size_t) writes;
    s_write_t *w = calloc(n_writes, sizeof *w);
    char *note = malloc((size_t) value_bytes + 1);
    int64_t *values = calloc(n_writes * n_sites, sizeof *values);
    FILE *raw = NULL;
    if (!w || !note || !values) {
        abort();
    }
    memset(note, 'n', (size_t) value_bytes);
    note[value_bytes] = '\0';
    for (size_t s = 0; s < n_sites; s++) {
        int rc = cs_store_open(argv[optind + (int) s], NULL, &stores[s]);
        if (rc != CS_OK) {
            fprintf(stderr, S_PROG ": %s: %s\n", argv[optind + (int) s],
                    cs_strerror(rc));
            goto out_close;
        }
    }
    if (raw_path && !(raw = fopen(raw_path, "w"))) {
        fprintf(stderr, S_PROG ": %s: %s\n", raw_path, strerror(errno));
        goto out_close;
    }

    int store_rc = CS_OK;
    int64_t period_us = 1000000 / rate;
    int64_t timeout_us = timeout_ms * 1000;
    int64_t start = s_now_us();
    size_t next = 0;   /* next write to make */
    size_t oldest = 0; /* first write that may still be pending */
    size_t lost = 0;   /* (write, site) pairs never seen */
    int64_t last_ack = start;
    while (oldest < n_writes && store_rc == CS_OK) {
        int64_t now = s_now_us();
        if (next < n_writes && now >= start + (int64_t) next * period_us) {
            s_write_t *x = &w[next];
            size_t site = next % n_sites;
            snprintf(x->id, sizeof x->id, "lat-%ld-%zu", (long) getpid(), next);
            cs_store_field_t fields[2] = {
                { "Seq", cs_value_int((int64_t) next) },
                { "Note", cs_value_strn(note, (size_t) value_bytes) },
            };
            int64_t before = s_now_us();
            store_rc = cs_store_set(stores[site], S_COLLECTION, x->id, fields,
                                    2, NULL);
            x->acked_us = s_now_us();
            x->commit_us = x->acked_us - before;
            last_ack = x->acked_us;
            for (size_t s = 0; s < n_sites; s++) {
                x->seen_us[s] = s == site ? 0 : -1;
            }
            x->pending = n_sites - 1;
            next++;
            continue;
        }
        for (size_t i = oldest; i < next; i++) {
            s_write_t *x = &w[i];
            for (size_t s = 0; s < n_sites && x->pending; s++) {
                if (x->seen_us[s] != -1) {
                    continue;
                }
                if (s_visible(stores[s], x, (int64_t) i, &store_rc)) {
                    x->seen_us[s] = s_now_us() - x->acked_us;
                    x->pending--;
                } else if (s_now_us() - x->acked_us > timeout_us) {
                    x->seen_us[s] = -2;
                    x->pending--;
                    lost++;
                }
            }
        }
        while (oldest < next && w[oldest].pending == 0) {
            oldest++;
        }
        struct timespec pause = { 0, S_POLL_NS };
        nanosleep(&pause, NULL);
    }
    if (store_rc != CS_OK) {
        fprintf(stderr, S_PROG ": a store failed: %s\n", cs_strerror(store_rc));
        goto out_close;
    }

    /* every (write, other site); then per write the first and the last */
    size_t n = 0;
    for (size_t i = 0; i < n_writes; i++) {
        for (size_t s = 0; s < n_sites; s++) {
            if (s != i % n_sites && w[i].seen_us[s] >= 0) {
                values[n++] = w[i].seen_us[s];
                if (raw) {
                    fprintf(raw, "%zu %zu %" PRId64 "\n", i, s,
                            w[i].seen_us[s]);
                }
            }
        }
    }
    s_report("pair", values, n);
    int64_t *firsts = values;
    int64_t *alls = values + n_writes;
    size_t n_first = 0, n_all = 0;
    for (size_t i = 0; i < n_writes; i++) {
        int64_t first = -1, last = -1;
        bool all = true;
        for (size_t s = 0; s < n_sites; s++) {
            if (s == i % n_sites) {
                continue;
            }
            int64_t v = w[i].seen_us[s];
            if (v < 0) {
                all = false;
                continue;
            }
            first = first < 0 || v < first ? v : first;
            last = v > last ? v : last;
        }
        if (first >= 0) {
            firsts[n_first++] = first;
        }
        if (all) {
            alls[n_all++] = last;
        }
    }
    s_report("first", firsts, n_first);
    s_report("all", alls, n_all);
    for (size_t i = 0; i < n_writes; i++) {
        values[i] = w[i].commit_us;
    }
    s_report("commit", values, n_writes);
    double spent = (double) (last_ack - start) / 1e6;
    printf("lost %zu\n", lost);
    printf("rate %.1f writes/s asked %lld, over %.2f s, %zu sites\n",
           spent > 0 ? (double) (n_writes - 1) / spent : 0.0, rate, spent,
           n_sites);
    status = lost ? S_EXIT_FAIL : S_EXIT_OK;
out_close:
    if (raw && fclose(raw) != 0) {
        status = S_EXIT_FAIL;
    }
    for (size_t s = 0; s < n_sites; s++) {
        cs_store_destroy(&stores[s]);
    }
    free(values);
    free(note);
    free(w);
    return status;
}
