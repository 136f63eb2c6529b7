/*  bench_store_import - how fast cs_store_import loads contact rows: the
 *  write path of crmsync seed. Run by hand on a Release build; not a ctest.
 *  SPDX-License-Identifier: MIT
 *
 *  bench_store_import [-n rows] [-b batch] [-s] [-r] [-k] [-c file.csv]
 *    -n rows   rows to load (default 1000000)
 *    -b batch  rows per cs_store_import call (default 10000)
 *    -s        shuffle the ids over the whole load (default: ascending, as
 *              exports sorted by id are)
 *    -r        then import the same rows again (all unchanged)
 *    -k        keep the store directory (printed)
 *    -c file   also write the rows as CSV, to compare with sqlite3 .import
 *
 *  Each row is a contact of 12 string fields (about 250 bytes of values),
 *  stamped from a synthetic LastModifiedDate. The time reported as
 *  "import" is spent in cs_store_import alone; "build" is making the
 *  cs_record_t values, which the seed's parser does in its own loop.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "storage/cs_store.h"

#define S_FIELDS 12
#define S_SEED   UINT64_C(0x5EED)

static const char *const s_names[S_FIELDS] = {
    "first_name", "last_name", "email", "phone",       "mobile",  "title",
    "company",    "street",    "city",  "postal_code", "country", "owner_id",
};

static const char *const s_first[] = { "Ada",    "Grace",   "Alan",   "Barbara",
                                       "Edsger", "Frances", "Donald", "Radia" };
static const char *const s_last[] = {
    "Lovelace", "Hopper", "Turing", "Liskov",
    "Dijkstra", "Allen",  "Knuth",  "Perlman"
};
static const char *const s_cities[] = { "Lyon",     "Marseille",  "Toulouse",
                                        "Bordeaux", "Strasbourg", "Nantes" };

/* Everything one batch owns. */
typedef struct {
    cs_store_delta_t *deltas;     /* what the store takes */
    char (*ids)[24];              /* their ids */
    char (*values)[S_FIELDS][48]; /* the row's values */
    size_t n;                     /* rows in use */
} s_batch_t;

/* CPU seconds (user + system) this process used so far. */
static double
s_cpu(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double) usage.ru_utime.tv_sec + (double) usage.ru_stime.tv_sec +
           ((double) usage.ru_utime.tv_usec + (double) usage.ru_stime.tv_usec) /
               1e6;
}

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static uint64_t
s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* Row number @p i of the load: its id number, shuffled or not. A
 * multiplication by an odd constant modulo a power of two is a bijection,
 * so shuffled ids stay distinct. */
static uint64_t
s_id_number(uint64_t i, bool shuffle)
{
    return shuffle
               ? (i * UINT64_C(0x9E3779B97F4A7C15)) & ((UINT64_C(1) << 40) - 1)
               : i;
}

static void
s_row_values(uint64_t number, char values[S_FIELDS][48])
{
    uint64_t h = s_mix(number + 1);
    const char *first = s_first[h % 8];
    const char *last = s_last[(h >> 8) % 8];
    snprintf(values[0], 48, "%s", first);
    snprintf(values[1], 48, "%s", last);
    snprintf(values[2], 48, "%s.%s.%" PRIu64 "@example.com", first, last,
             number);
    snprintf(values[3], 48, "+33 1 %02u %02u %02u %02u",
             (unsigned) (h >> 16) % 100, (unsigned) (h >> 24) % 100,
             (unsigned) (h >> 32) % 100, (unsigned) (h >> 40) % 100);
    snprintf(values[4], 48, "+33 6 %02u %02u %02u %02u",
             (unsigned) (h >> 20) % 100, (unsigned) (h >> 28) % 100,
             (unsigned) (h >> 36) % 100, (unsigned) (h >> 44) % 100);
    snprintf(values[5], 48, "Head of Customer Success EMEA");
    snprintf(values[6], 48, "%s & %s Consulting SARL", last, first);
    snprintf(values[7], 48, "%u rue de la R\xc3\xa9publique, b\xc3\xa2t. %c",
             (unsigned) (h >> 12) % 300 + 1, (char) ('A' + (h >> 50) % 6));
    snprintf(values[8], 48, "%s", s_cities[(h >> 4) % 6]);
    snprintf(values[9], 48, "%05u", (unsigned) (h >> 14) % 100000);
    snprintf(values[10], 48, "France");
    snprintf(values[11], 48, "0055g00000%08" PRIu64, (h >> 3) % 1000);
}

/* Fill @p batch with rows [@p from, @p from + @p n) of the load. */
static void
s_batch_fill(s_batch_t *batch, uint64_t from, size_t n, bool shuffle,
             uint64_t wall_ms)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t number = s_id_number(from + i, shuffle);
        snprintf(batch->ids[i], sizeof batch->ids[i], "003%015" PRIu64, number);
        s_row_values(number, batch->values[i]);
        /* LastModifiedDate: some time in the year before the load. */
        uint64_t age_ms = s_mix(number) % (UINT64_C(365) * 86400000);
        cs_stamp_t stamp = { .hlc = cs_hlc_make(wall_ms - age_ms, 0),
                             .origin = S_SEED };
        cs_record_t *rec = cs_record_new();
        for (size_t f = 0; f < S_FIELDS; f++) {
            cs_value_t value = cs_value_str(batch->values[i][f]);
            if (cs_record_set(rec, s_names[f], &value, stamp, 0, NULL) !=
                CS_OK) {
                abort();
            }
        }
        batch->deltas[i].collection = "contacts";
        batch->deltas[i].id = batch->ids[i];
        batch->deltas[i].record = rec;
    }
    batch->n = n;
}

static void
s_batch_clear(s_batch_t *batch)
{
    for (size_t i = 0; i < batch->n; i++) {
        cs_record_t *rec = (cs_record_t *) (uintptr_t) batch->deltas[i].record;
        cs_record_destroy(&rec);
    }
    batch->n = 0;
}

static void
s_write_csv(const char *path, uint64_t rows, bool shuffle)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        perror(path);
        exit(1);
    }
    fprintf(out, "Id");
    for (size_t f = 0; f < S_FIELDS; f++) {
        fprintf(out, ",%s", s_names[f]);
    }
    fprintf(out, ",LastModifiedDate\n");
    char values[S_FIELDS][48];
    for (uint64_t i = 0; i < rows; i++) {
        uint64_t number = s_id_number(i, shuffle);
        s_row_values(number, values);
        fprintf(out, "003%015" PRIu64, number);
        for (size_t f = 0; f < S_FIELDS; f++) {
            fprintf(out, ",\"%s\"", values[f]);
        }
        fprintf(out, ",%" PRIu64 "\n", s_mix(number) % 31536000000u);
    }
    fclose(out);
}

typedef struct {
    double build_s;      /* making records */
    double import_s;     /* inside cs_store_import, wall clock */
    double import_cpu_s; /* inside cs_store_import, CPU */
    cs_store_import_stats_t total;
} s_run_t;

/* Load the rows, stamped relative to @p wall_ms (the same for every pass,
 * so a second pass holds the same stamps). */
static s_run_t
s_load(cs_store_t *store, uint64_t rows, size_t batch_rows, bool shuffle,
       uint64_t wall_ms, s_batch_t *batch)
{
    s_run_t run = { 0 };
    char ckpt[64];
    for (uint64_t from = 0; from < rows; from += batch_rows) {
        size_t n =
            rows - from < batch_rows ? (size_t) (rows - from) : batch_rows;
        double t0 = s_now();
        s_batch_fill(batch, from, n, shuffle, wall_ms);
        double t1 = s_now();
        double c1 = s_cpu();
        int len = snprintf(ckpt, sizeof ckpt, "row=%" PRIu64, from + n);
        cs_store_import_stats_t stats;
        int rc = cs_store_import(store, batch->deltas, n, "bench", ckpt,
                                 (size_t) len, &stats);
        double t2 = s_now();
        double c2 = s_cpu();
        if (rc != CS_OK) {
            fprintf(stderr, "import: %s\n", cs_strerror(rc));
            exit(1);
        }
        run.total.records_new += stats.records_new;
        run.total.records_updated += stats.records_updated;
        run.total.records_unchanged += stats.records_unchanged;
        s_batch_clear(batch);
        run.build_s += t1 - t0;
        run.import_s += t2 - t1;
        run.import_cpu_s += c2 - c1;
    }
    return run;
}

static void
s_report(const char *what, uint64_t rows, const s_run_t *run)
{
    printf("%-6s rows=%" PRIu64 " new=%zu updated=%zu unchanged=%zu\n"
           "       import %.2f s = %.0f rows/s, CPU %.2f s = %.0f rows/s; "
           "build %.2f s\n",
           what, rows, run->total.records_new, run->total.records_updated,
           run->total.records_unchanged, run->import_s,
           (double) rows / run->import_s, run->import_cpu_s,
           (double) rows / run->import_cpu_s, run->build_s);
}

int
main(int argc, char **argv)
{
    uint64_t rows = 1000000;
    size_t batch_rows = 10000;
    bool shuffle = false;
    bool again = false;
    bool keep = false;
    const char *csv = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:b:srkc:")) != -1) {
        switch (opt) {
        case 'n':
            rows = strtoull(optarg, NULL, 10);
            break;
        case 'b':
            batch_rows = (size_t) strtoull(optarg, NULL, 10);
            break;
        case 's':
            shuffle = true;
            break;
        case 'r':
            again = true;
            break;
        case 'k':
            keep = true;
            break;
        case 'c':
            csv = optarg;
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-n rows] [-b batch] [-s] [-r] [-k] "
                    "[-c file.csv]\n",
                    argv[0]);
            return 2;
        }
    }
    if (batch_rows == 0 || rows == 0) {
        fprintf(stderr, "rows and batch must be positive\n");
        return 2;
    }
    if (csv) {
        s_write_csv(csv, rows, shuffle);
        printf("wrote %s\n", csv);
    }
    char dir[] = "/var/tmp/cs_bench_import.XXXXXX";
    if (!mkdtemp(dir) || cs_store_create(dir, 1) != CS_OK) {
        fprintf(stderr, "cannot create a store in %s\n", dir);
        return 1;
    }
    cs_store_t *store = NULL;
    if (cs_store_open(dir, NULL, &store) != CS_OK) {
        return 1;
    }
    s_batch_t batch = { 0 };
    batch.deltas = calloc(batch_rows, sizeof *batch.deltas);
    batch.ids = calloc(batch_rows, sizeof *batch.ids);
    batch.values = calloc(batch_rows, sizeof *batch.values);
    if (!batch.deltas || !batch.ids || !batch.values) {
        abort();
    }
    printf("batch=%zu order=%s\n", batch_rows,
           shuffle ? "shuffled" : "ascending");
    uint64_t wall_ms = (uint64_t) time(NULL) * 1000u;
    s_run_t first = s_load(store, rows, batch_rows, shuffle, wall_ms, &batch);
    s_report("empty", rows, &first);
    if (again) {
        s_run_t second =
            s_load(store, rows, batch_rows, shuffle, wall_ms, &batch);
        s_report("again", rows, &second);
    }
    cs_store_info_t info;
    if (cs_store_info(store, &info) == CS_OK) {
        printf("store: %" PRIu64 " records, feed head %" PRIu64 ", map %" PRIu64
               " MiB\n",
               info.records, info.feed_head, info.map_size >> 20);
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("peak RSS %ld MiB\n", usage.ru_maxrss / 1024);
    cs_store_destroy(&store);
    char cmd[128];
    fflush(stdout); /* before du writes to it */
    snprintf(cmd, sizeof cmd, "du -sh %s/data.mdb", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "du failed\n");
    }
    if (keep) {
        printf("kept %s\n", dir);
    } else {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", dir);
        }
    }
    free(batch.deltas);
    free(batch.ids);
    free(batch.values);
    return 0;
}
