/*  cmd_seed - crmsync seed: load a legacy export (CSV, JSON Lines) into a
 *  collection. Argument parsing, the progress bar and the summary; the
 *  work is in cs_seed.
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cs_csv.h"
#include "tools/cs_json.h"
#include "tools/cs_seed.h"
#include "tools/cs_time.h"
#include "tools/tools_private.h"

#define S_CMD            "seed"
#define S_EXIT_INTERRUPT 130 /* 128 + SIGINT, as shells report it */

static void
s_usage(FILE *out)
{
    fputs(
        "Usage: crmsync seed --data DIR --collection NAME --id-column COL\n"
        "                    [OPTION]... FILE|-\n"
        "\n"
        "Load a legacy export into collection NAME: CSV (default), or JSON\n"
        "Lines (--format jsonl, or a .jsonl/.ndjson file). '-' reads\n"
        "standard input. Every mapped column, the id column included,\n"
        "becomes a string field named after its header; JSON Lines values\n"
        "keep their type. Seeding the same file again changes nothing; a\n"
        "newer export changes only the fields that changed. The store may\n"
        "be in use by a running node. Run 'crmsync sniff FILE' first to see\n"
        "how the file will be read.\n"
        "\n"
        "Input:\n"
        "  -c, --collection NAME     the collection to load (required)\n"
        "  -i, --id-column COL       the column holding the record id\n"
        "                            (required; used even if the column is\n"
        "                            excluded or unmapped). A column named\n"
        "                            _id (crmsync export's) is not a field\n"
        "  -f, --format FMT          csv or jsonl (default: by extension)\n"
        "      --delimiter C         CSV delimiter: one character, or tab;\n"
        "                            default: sniffed among , ; TAB |\n"
        "      --quote C             CSV quote character (default \")\n"
        "      --encoding ENC        auto (default: BOM, else UTF-8 if valid,\n"
        "                            else windows-1252), utf-8,\n"
        "                            windows-1252, iso-8859-1, utf-16le\n"
        "\n"
        "Mapping:\n"
        "  -m, --map FILE            map and select columns: a Salesforce "
        "Data\n"
        "                            Loader .sdl file, COLUMN=FIELD a line, #\n"
        "                            comments, columns matched ignoring case;\n"
        "                            COLUMN= drops a column, COLUMN=F1,F2\n"
        "                            feeds two fields, \"TEXT\"=F a constant;\n"
        "                            columns not named are dropped\n"
        "  -x, --exclude COL,...     drop these columns (repeatable)\n"
        "      --null STR            load unquoted fields equal to STR as nil\n"
        "                            (repeatable; --null '' for empty ones);\n"
        "                            by default an empty field is \"\"\n"
        "      --sf-ids              normalise 15-character Salesforce ids to\n"
        "                            18 in the id column and in every column\n"
        "                            whose name ends in Id or ID; an\n"
        "                            18-character id whose last 3 characters\n"
        "                            do not match is a bad row\n"
        "\n"
        "Time (the stamp that decides which edit wins):\n"
        "  -t, --timestamp-column COL  stamp each row's fields with this\n"
        "                            column's time: 2024-06-10T12:34:56Z,\n"
        "                            ...56.789+02:00, ...56+0200,\n"
        "                            2024-06-10 12:34:56 (UTC), 2024-06-10\n"
        "      --timestamp-format FMT  read that column with strptime(3)\n"
        "                            (%z offset, %s epoch seconds; else UTC)\n"
        "      --as-of TIME          stamp of every field without a timestamp\n"
        "                            column, and of --delete-missing\n"
        "                            tombstones (default: the input file's\n"
        "                            modification time; a pipe needs it)\n"
        "      --deleted-column COL  rows whose COL is true, 1 or yes (any\n"
        "                            case) delete their record\n"
        "      --delete-missing      the file is the whole collection: delete\n"
        "                            records absent from it (stamped as-of,\n"
        "                            so newer live edits survive); only after\n"
        "                            a complete run\n"
        "\n"
        "Running:\n"
        "  -d, --data DIR            the data directory (default: "
        "$" CS_CLI_DATA_ENV ")\n"
        "  -r, --rejects FILE        write bad rows there as JSON Lines:\n"
        "                            {\"line\":N,\"offset\":N,\"reason\":...,\n"
        "                            \"raw\":...}; raw is the row's text as\n"
        "                            read, with bytes that are not UTF-8\n"
        "                            shown as U+FFFD and the exact bytes\n"
        "                            added as \"raw_base64\"; rows over 64 "
        "KiB\n"
        "                            are cut (\"raw_truncated\":true)\n"
        "      --max-errors N        stop after N rejected rows\n"
        "  -n, --dry-run             read, map and check everything and count\n"
        "                            what would change; write nothing\n"
        "      --resume              continue a seed that was interrupted\n"
        "                            (same file and options; not for stdin)\n"
        "      --batch-size N        rows per transaction (default 20000)\n"
        "      --no-sort             write rows in input order even when the\n"
        "                            ids are not in order (by default such an\n"
        "                            input is sorted first, through a\n"
        "                            temporary file in DIR about the size of\n"
        "                            the records, so the store is written in\n"
        "                            order: faster, and half the size)\n"
        "      --progress WHEN       auto (default: when stderr is a\n"
        "                            terminal), always or never\n"
        "      --json                print the summary as one JSON object\n"
        "  -h, --help                show this help and exit\n"
        "\n"
        "Bad rows (unbalanced quote, wrong column count, invalid bytes, NUL,\n"
        "empty or over-long id, value over the limits, unparsable time) are\n"
        "skipped; the others load. Ctrl-C (or SIGTERM) stops after the\n"
        "current batch with the store consistent; run again with --resume.\n"
        "\n"
        "Exit status: 0 all rows loaded; 2 some rows were rejected (or\n"
        "--max-errors stopped the run); 1 error; 64 usage error; 130\n"
        "interrupted (resume with --resume).\n",
        out);
}

/* ---------------- signals ---------------- */

static volatile sig_atomic_t s_stop = 0;

static void
s_on_stop(int sig)
{
    (void) sig;
    s_stop = 1;
}

/*  SIGINT and SIGTERM set s_stop; a second one ends the process (the
 *  handler resets itself), which LMDB survives as it survives a kill. */
static void
s_catch_stop_signals(void)
{
    static const int signals[] = { SIGINT, SIGTERM };
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction action;
        if (sigaction(signals[i], NULL, &action) == 0 &&
            action.sa_handler == SIG_IGN) {
            continue; /* keep what the parent chose to ignore */
        }
        memset(&action, 0, sizeof action);
        action.sa_handler = s_on_stop;
        action.sa_flags = SA_RESTART | SA_RESETHAND;
        sigemptyset(&action.sa_mask);
        sigaction(signals[i], &action, NULL);
    }
}

/* ---------------- progress bar ---------------- */

typedef struct {
    bool drawn; /* a bar is on the line */
} s_bar_t;

/*  n with thousands separators. */
static const char *
s_num(uint64_t n, char *buf, size_t cap)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%" PRIu64, n);
    size_t out = 0;
    for (int i = 0; i < len && out + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            buf[out++] = ',';
        }
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

/*  A 20-character gauge of @p done out of @p total into @p gauge; the
 *  percentage. */
static int
s_gauge(uint64_t done, uint64_t total, char gauge[21])
{
    double fraction = total > 0 ? (double) done / (double) total : 0;
    if (fraction > 1) {
        fraction = 1;
    }
    int filled = (int) (fraction * 20);
    for (int i = 0; i < 20; i++) {
        gauge[i] = i < filled ? '#' : '.';
    }
    gauge[20] = '\0';
    return (int) (fraction * 100);
}

static void
s_progress(void *arg, const cs_seed_progress_t *p)
{
    s_bar_t *bar = arg;
    if (p->done) {
        if (bar->drawn) {
            fputs("\r\033[K", stderr);
            fflush(stderr);
            bar->drawn = false;
        }
        return;
    }
    char rows[32], per_second[32];
    double mb = (double) p->bytes / 1e6;
    double rate = p->seconds > 0 ? (double) p->rows / p->seconds : 0;
    char gauge[21];
    if (p->to_load > 0) {
        int pct = s_gauge(p->loaded, p->to_load, gauge);
        fprintf(stderr, "\r\033[K[%s] %3d%%  writing in id order: %s of %s",
                gauge, pct, s_num(p->loaded, rows, sizeof rows),
                s_num(p->to_load, per_second, sizeof per_second));
    } else if (p->replaying) {
        fprintf(stderr,
                "\r\033[Kresume: skipping the rows already loaded... "
                "%.1f MB",
                mb);
    } else if (p->bytes_total > 0) {
        int pct = s_gauge(p->bytes, p->bytes_total, gauge);
        double byte_rate = p->seconds > 0 ? (double) p->bytes / p->seconds : 0;
        double eta = byte_rate > 0
                         ? (double) (p->bytes_total - p->bytes) / byte_rate
                         : 0;
        fprintf(stderr,
                "\r\033[K[%s] %3d%%  %s rows  %.1f MB  %s rows/s  "
                "ETA %d:%02d",
                gauge, pct, s_num(p->rows, rows, sizeof rows), mb,
                s_num((uint64_t) rate, per_second, sizeof per_second),
                (int) eta / 60, (int) eta % 60);
    } else {
        fprintf(stderr, "\r\033[K%s rows  %.1f MB  %s rows/s",
                s_num(p->rows, rows, sizeof rows), mb,
                s_num((uint64_t) rate, per_second, sizeof per_second));
    }
    if (p->rejected > 0) {
        fprintf(stderr, "  (%" PRIu64 " rejected)", p->rejected);
    }
    fflush(stderr);
    bar->drawn = true;
}

/* ---------------- summary ---------------- */

static const char *
s_as_of_source(cs_seed_as_of_source_t source)
{
    switch (source) {
    case CS_SEED_AS_OF_OPTION:
        return "option";
    case CS_SEED_AS_OF_MTIME:
        return "mtime";
    case CS_SEED_AS_OF_CHECKPOINT:
        return "checkpoint";
    case CS_SEED_AS_OF_NONE:
        return "none";
    }
    return "?";
}

static const char *
s_as_of_text(cs_seed_as_of_source_t source)
{
    switch (source) {
    case CS_SEED_AS_OF_OPTION:
        return "--as-of";
    case CS_SEED_AS_OF_MTIME:
        return "input modification time";
    case CS_SEED_AS_OF_CHECKPOINT:
        return "of the interrupted run";
    case CS_SEED_AS_OF_NONE:
        return "none";
    }
    return "?";
}

static void
s_json_key_str(FILE *out, const char *key, const char *value)
{
    fprintf(out, ",\"%s\":", key);
    if (value) {
        cs_json_write_string(out, value, strlen(value));
    } else {
        fputs("null", out);
    }
}

static void
s_summary_json(FILE *out, const cs_seed_opts_t *o, const cs_seed_stats_t *s)
{
    char when[40];
    char delim[2] = { (char) s->delimiter, '\0' };
    double rate = s->seconds > 0 ? (double) s->rows_read / s->seconds : 0;
    fputs("{\"collection\":", out);
    cs_json_write_string(out, o->collection, strlen(o->collection));
    s_json_key_str(out, "input", o->input);
    s_json_key_str(out, "format", cs_seed_format_name(s->format));
    s_json_key_str(out, "encoding", s->encoding);
    s_json_key_str(out, "delimiter", s->delimiter ? delim : NULL);
    s_json_key_str(out, "timestamp_column", o->timestamp_column);
    if (s->as_of_source == CS_SEED_AS_OF_NONE) {
        fputs(",\"as_of\":null,\"as_of_ms\":null", out);
    } else {
        s_json_key_str(out, "as_of",
                       cs_time_format(s->as_of_ms, when, sizeof when));
        fprintf(out, ",\"as_of_ms\":%" PRId64, s->as_of_ms);
    }
    s_json_key_str(out, "as_of_source", s_as_of_source(s->as_of_source));
    fprintf(out,
            ",\"rows_read\":%" PRIu64 ",\"new\":%" PRIu64
            ",\"updated\":%" PRIu64 ",\"unchanged\":%" PRIu64
            ",\"deleted\":%" PRIu64 ",\"missing_deleted\":%" PRIu64
            ",\"rejected\":%" PRIu64 ",\"duplicates\":%" PRIu64
            ",\"skewed\":%" PRIu64 ",\"bytes\":%" PRIu64,
            s->rows_read, s->records_new, s->records_updated,
            s->records_unchanged, s->records_deleted, s->missing_deleted,
            s->rejected, s->duplicates, s->skewed, s->bytes);
    fprintf(out, ",\"seconds\":%.3f,\"rows_per_second\":%.0f", s->seconds,
            rate);
    s_json_key_str(out, "rejects_file", o->rejects_path);
    fprintf(out,
            ",\"dry_run\":%s,\"complete\":%s,\"interrupted\":%s,"
            "\"stopped_max_errors\":%s,\"resumed\":%s,\"sorted\":%s",
            o->dry_run ? "true" : "false", s->complete ? "true" : "false",
            s->interrupted ? "true" : "false",
            s->stopped_max_errors ? "true" : "false",
            s->resumed ? "true" : "false", s->sorted ? "true" : "false");
    if (s->resumed) {
        fprintf(out,
                ",\"resumed_offset\":%" PRIu64 ",\"earlier_rows\":%" PRIu64
                ",\"earlier_rejected\":%" PRIu64,
                s->resumed_offset, s->earlier_rows, s->earlier_rejected);
    }
    fputs("}\n", out);
}

static void
s_summary_text(FILE *out, const cs_seed_opts_t *o, const cs_seed_stats_t *s)
{
    char when[40];
    char n[32];
    const char *input =
        strcmp(o->input, "-") == 0 ? "standard input" : o->input;
    fprintf(out, "%s %s <- %s (%s", o->dry_run ? "dry run:" : "seed",
            o->collection, input, cs_seed_format_name(s->format));
    if (s->encoding) {
        if (s->delimiter == '\t') {
            fprintf(out, ", %s, delimiter TAB", s->encoding);
        } else {
            fprintf(out, ", %s, delimiter '%c'", s->encoding, s->delimiter);
        }
    }
    fputs(")\n", out);
    if (s->resumed) {
        fprintf(out,
                "  resumed     after line %" PRIu64 " (byte %" PRIu64
                "); %s rows were read before\n",
                s->resumed_line, s->resumed_offset,
                s_num(s->earlier_rows, n, sizeof n));
    }
    if (o->timestamp_column) {
        fprintf(out, "  stamps      from column %s\n", o->timestamp_column);
    }
    if (!o->timestamp_column || o->delete_missing) {
        fprintf(out, "  as-of       %s (%s)\n",
                cs_time_format(s->as_of_ms, when, sizeof when),
                s_as_of_text(s->as_of_source));
    }
    fprintf(out, "  rows read   %s\n", s_num(s->rows_read, n, sizeof n));
    fprintf(out, "  new         %s\n", s_num(s->records_new, n, sizeof n));
    fprintf(out, "  updated     %s\n", s_num(s->records_updated, n, sizeof n));
    fprintf(out, "  unchanged   %s\n",
            s_num(s->records_unchanged, n, sizeof n));
    fprintf(out, "  deleted     %s", s_num(s->records_deleted, n, sizeof n));
    if (s->missing_deleted > 0) {
        fprintf(out, " (%" PRIu64 " absent from the input)",
                s->missing_deleted);
    }
    fputc('\n', out);
    fprintf(out, "  rejected    %s", s_num(s->rejected, n, sizeof n));
    if (s->rejected > 0 && o->rejects_path) {
        fprintf(out, " (written to %s)", o->rejects_path);
    }
    fputc('\n', out);
    for (size_t i = 0; i < s->sample_count && !o->rejects_path; i++) {
        fprintf(out, "              line %" PRIu64 ": %s\n", s->samples[i].line,
                s->samples[i].reason);
    }
    fprintf(out, "  duplicates  %s\n", s_num(s->duplicates, n, sizeof n));
    if (s->sorted) {
        fprintf(out, "  order       ids not in order: sorted before writing\n");
    }
    if (s->skewed > 0) {
        fprintf(out, "  ahead       %" PRIu64 " stamps ahead of the clock\n",
                s->skewed);
    }
    double rate = s->seconds > 0 ? (double) s->rows_read / s->seconds : 0;
    fprintf(out, "  time        %.2f s (%s rows/s)\n", s->seconds,
            s_num((uint64_t) rate, n, sizeof n));
}

/* ---------------- options ---------------- */

/*  Lists given by repeatable options; the strings are argv's or owned. */
typedef struct {
    const char **items; /* entries */
    size_t count;       /* used */
    char **owned;       /* strings to free */
    size_t owned_count; /* used */
} s_list_t;

static void
s_list_push(s_list_t *list, const char *item)
{
    list->items = realloc(list->items, (list->count + 1) * sizeof *list->items);
    if (!list->items) {
        abort();
    }
    list->items[list->count++] = item;
}

/*  Add the comma-separated names of @p arg. */
static void
s_list_split(s_list_t *list, const char *arg)
{
    char *copy = strdup(arg);
    if (!copy) {
        abort();
    }
    list->owned =
        realloc(list->owned, (list->owned_count + 1) * sizeof *list->owned);
    if (!list->owned) {
        abort();
    }
    list->owned[list->owned_count++] = copy;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (tok[0] != '\0') {
            s_list_push(list, tok);
        }
    }
}

static void
s_list_fini(s_list_t *list)
{
    for (size_t i = 0; i < list->owned_count; i++) {
        free(list->owned[i]);
    }
    free(list->owned);
    free(list->items);
    memset(list, 0, sizeof *list);
}

static bool
s_parse_char(const char *arg, int *out)
{
    if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0 ||
        strcmp(arg, "\t") == 0) {
        *out = '\t';
        return true;
    }
    if (strlen(arg) != 1 || arg[0] == '\n' || arg[0] == '\r' ||
        (unsigned char) arg[0] >= 0x80) {
        return false;
    }
    *out = (unsigned char) arg[0];
    return true;
}

enum {
    S_OPT_DELIMITER = 256,
    S_OPT_QUOTE,
    S_OPT_ENCODING,
    S_OPT_NULL,
    S_OPT_SF_IDS,
    S_OPT_TS_FORMAT,
    S_OPT_AS_OF,
    S_OPT_DELETED_COLUMN,
    S_OPT_DELETE_MISSING,
    S_OPT_MAX_ERRORS,
    S_OPT_RESUME,
    S_OPT_BATCH_SIZE,
    S_OPT_PROGRESS,
    S_OPT_JSON,
    S_OPT_NO_SORT,
};

int
cs_cmd_seed(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "collection", required_argument, NULL, 'c' },
        { "id-column", required_argument, NULL, 'i' },
        { "format", required_argument, NULL, 'f' },
        { "delimiter", required_argument, NULL, S_OPT_DELIMITER },
        { "quote", required_argument, NULL, S_OPT_QUOTE },
        { "encoding", required_argument, NULL, S_OPT_ENCODING },
        { "map", required_argument, NULL, 'm' },
        { "exclude", required_argument, NULL, 'x' },
        { "null", required_argument, NULL, S_OPT_NULL },
        { "sf-ids", no_argument, NULL, S_OPT_SF_IDS },
        { "timestamp-column", required_argument, NULL, 't' },
        { "timestamp-format", required_argument, NULL, S_OPT_TS_FORMAT },
        { "as-of", required_argument, NULL, S_OPT_AS_OF },
        { "deleted-column", required_argument, NULL, S_OPT_DELETED_COLUMN },
        { "delete-missing", no_argument, NULL, S_OPT_DELETE_MISSING },
        { "rejects", required_argument, NULL, 'r' },
        { "max-errors", required_argument, NULL, S_OPT_MAX_ERRORS },
        { "dry-run", no_argument, NULL, 'n' },
        { "resume", no_argument, NULL, S_OPT_RESUME },
        { "batch-size", required_argument, NULL, S_OPT_BATCH_SIZE },
        { "progress", required_argument, NULL, S_OPT_PROGRESS },
        { "json", no_argument, NULL, S_OPT_JSON },
        { "no-sort", no_argument, NULL, S_OPT_NO_SORT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    cs_seed_opts_t o;
    memset(&o, 0, sizeof o);
    const char *data = NULL;
    const char *progress = "auto";
    bool no_sort = false;
    bool json = false;
    s_list_t exclude = { 0 };
    s_list_t nulls = { 0 };
    int exit_code = CS_CLI_EXIT_OK;
    uint64_t count = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:c:i:f:m:x:t:r:nh", options,
                              NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'c':
            o.collection = optarg;
            break;
        case 'i':
            o.id_column = optarg;
            break;
        case 'f':
            if (cs_seed_format_parse(optarg, &o.format) != CS_OK) {
                exit_code = cs_cli_usage_error(
                    S_CMD, "unknown format '%s' (csv or jsonl)", optarg);
                goto out;
            }
            break;
        case S_OPT_DELIMITER:
            if (!s_parse_char(optarg, &o.csv.delimiter)) {
                exit_code = cs_cli_usage_error(
                    S_CMD, "--delimiter needs one ASCII character or 'tab'");
                goto out;
            }
            break;
        case S_OPT_QUOTE:
            if (!s_parse_char(optarg, &o.csv.quote)) {
                exit_code = cs_cli_usage_error(
                    S_CMD, "--quote needs one ASCII character");
                goto out;
            }
            break;
        case S_OPT_ENCODING:
            if (cs_csv_encoding_parse(optarg, &o.csv.encoding) != CS_OK) {
                exit_code = cs_cli_usage_error(
                    S_CMD,
                    "unknown encoding '%s' (auto, utf-8, windows-1252, "
                    "iso-8859-1, utf-16le)",
                    optarg);
                goto out;
            }
            break;
        case 'm':
            o.map_path = optarg;
            break;
        case 'x':
            s_list_split(&exclude, optarg);
            break;
        case S_OPT_NULL:
            s_list_push(&nulls, optarg);
            break;
        case S_OPT_SF_IDS:
            o.sf_ids = true;
            break;
        case 't':
            o.timestamp_column = optarg;
            break;
        case S_OPT_TS_FORMAT:
            o.timestamp_format = optarg;
            break;
        case S_OPT_AS_OF:
            if (cs_time_parse(optarg, strlen(optarg), &o.as_of_ms) != CS_OK ||
                o.as_of_ms < 0) {
                exit_code = cs_cli_usage_error(
                    S_CMD,
                    "--as-of '%s': expected a time such as "
                    "2024-06-10T12:34:56Z or 2024-06-10 (1970 or later)",
                    optarg);
                goto out;
            }
            o.as_of_set = true;
            break;
        case S_OPT_DELETED_COLUMN:
            o.deleted_column = optarg;
            break;
        case S_OPT_DELETE_MISSING:
            o.delete_missing = true;
            break;
        case 'r':
            o.rejects_path = optarg;
            break;
        case S_OPT_MAX_ERRORS:
            if (!cs_cli_parse_count(optarg, &o.max_errors) ||
                o.max_errors == 0) {
                exit_code = cs_cli_usage_error(
                    S_CMD, "--max-errors needs a count of 1 or more");
                goto out;
            }
            break;
        case 'n':
            o.dry_run = true;
            break;
        case S_OPT_RESUME:
            o.resume = true;
            break;
        case S_OPT_NO_SORT:
            no_sort = true;
            break;
        case S_OPT_BATCH_SIZE:
            if (!cs_cli_parse_count(optarg, &count) || count == 0 ||
                count > 10000000) {
                exit_code = cs_cli_usage_error(
                    S_CMD, "--batch-size needs a count from 1 to 10000000");
                goto out;
            }
            o.batch_rows = (size_t) count;
            break;
        case S_OPT_PROGRESS:
            if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "always") != 0 &&
                strcmp(optarg, "never") != 0) {
                exit_code = cs_cli_usage_error(
                    S_CMD, "--progress takes auto, always or never");
                goto out;
            }
            progress = optarg;
            break;
        case S_OPT_JSON:
            json = true;
            break;
        case 'h':
            s_usage(stdout);
            exit_code = cs_cli_flush_stdout(S_CMD);
            goto out;
        default:
            exit_code = cs_cli_getopt_error(S_CMD, argv, opt);
            goto out;
        }
    }
    if (argc - optind != 1) {
        exit_code = cs_cli_usage_error(
            S_CMD, "%s (expected one FILE, or - for standard input)",
            argc - optind < 1 ? "missing input" : "too many arguments");
        goto out;
    }
    o.input = argv[optind];
    if (o.input[0] == '\0') {
        exit_code = cs_cli_usage_error(S_CMD, "the input file name is empty");
        goto out;
    }
    if (!o.collection) {
        exit_code = cs_cli_usage_error(S_CMD, "--collection is required");
        goto out;
    }
    if (!cs_cli_check_collection(S_CMD, o.collection)) {
        exit_code = CS_CLI_EXIT_USAGE;
        goto out;
    }
    if (!o.id_column || o.id_column[0] == '\0') {
        exit_code = cs_cli_usage_error(S_CMD, "--id-column is required");
        goto out;
    }
    if ((o.timestamp_column && o.timestamp_column[0] == '\0') ||
        (o.deleted_column && o.deleted_column[0] == '\0')) {
        exit_code = cs_cli_usage_error(S_CMD, "a column name is empty");
        goto out;
    }
    if (o.timestamp_format && !o.timestamp_column) {
        exit_code = cs_cli_usage_error(
            S_CMD, "--timestamp-format needs --timestamp-column");
        goto out;
    }
    if (o.dry_run && o.resume) {
        exit_code = cs_cli_usage_error(
            S_CMD, "--dry-run and --resume do not go together");
        goto out;
    }
    if (o.resume && strcmp(o.input, "-") == 0) {
        exit_code = cs_cli_usage_error(
            S_CMD, "--resume needs a file: standard input cannot be resumed");
        goto out;
    }
    o.exclude = exclude.items;
    o.exclude_count = exclude.count;
    o.nulls = nulls.items;
    o.null_count = nulls.count;
    s_bar_t bar = { false };
    bool show = strcmp(progress, "always") == 0 ||
                (strcmp(progress, "auto") == 0 && isatty(STDERR_FILENO));
    if (show) {
        o.progress = s_progress;
        o.progress_arg = &bar;
    }
    o.stop = &s_stop;

    cs_store_t *store = NULL;
    const char *dir = NULL;
    exit_code = cs_cli_open_store(S_CMD, data, o.dry_run, &store, &dir);
    if (exit_code != CS_CLI_EXIT_OK) {
        goto out;
    }
    o.spill_dir = no_sort ? NULL : dir; /* sorted beside the store */
    s_catch_stop_signals();
    /* Records are built and freed by the hundred thousand: keep freed
     * memory instead of trimming and re-growing the heap each batch. */
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    cs_seed_stats_t stats;
    int rc = cs_seed_run(store, &o, &stats);
    cs_store_destroy(&store);
    if (rc != CS_OK) {
        exit_code = CS_CLI_EXIT_FAIL;
        goto out;
    }
    if (stats.checkpoint_found && !stats.resumed) {
        fprintf(stderr,
                "crmsync: seed: note: an interrupted seed of collection %s "
                "was found and discarded (started over; --resume would "
                "have continued it)\n",
                o.collection);
    }
    if (json) {
        s_summary_json(stdout, &o, &stats);
    } else {
        s_summary_text(stdout, &o, &stats);
    }
    exit_code = cs_cli_flush_stdout(S_CMD);
    if (exit_code != CS_CLI_EXIT_OK) {
        goto out;
    }
    uint64_t rejected = stats.rejected + stats.earlier_rejected;
    if (stats.interrupted) {
        cs_cli_errorf(S_CMD,
                      "interrupted; what was committed is in the store. "
                      "Run the same command again with --resume to "
                      "continue%s",
                      strcmp(o.input, "-") == 0
                          ? " (not possible from standard input: seed it "
                            "again; that is idempotent)"
                          : "");
        exit_code = S_EXIT_INTERRUPT;
    } else if (stats.stopped_max_errors) {
        cs_cli_errorf(S_CMD,
                      "stopped after %" PRIu64 " rejected rows (--max-errors)"
                      "%s%s; the rows before were loaded",
                      stats.rejected, o.rejects_path ? ": see " : "",
                      o.rejects_path ? o.rejects_path : "");
        exit_code = CS_CLI_EXIT_REJECTS;
    } else if (rejected > 0) {
        if (o.rejects_path) {
            cs_cli_errorf(S_CMD, "%" PRIu64 " rows rejected; written to %s",
                          rejected, o.rejects_path);
        } else {
            cs_cli_errorf(S_CMD,
                          "%" PRIu64 " rows rejected (use --rejects FILE "
                          "to keep them)",
                          rejected);
        }
        exit_code = CS_CLI_EXIT_REJECTS;
    }
out:
    s_list_fini(&exclude);
    s_list_fini(&nulls);
    return exit_code;
}
