/*  csv_dump - print a CSV file as JSON through cs_csv, for the CSV tests.
 *  SPDX-License-Identifier: MIT
 *
 *  Usage: csv_dump [OPTION]... [FILE|-]
 *    --encoding NAME   auto (default), utf-8, windows-1252, iso-8859-1,
 *                      utf-16le
 *    --delimiter D     auto (default), tab, or one character
 *    --quote Q         one character (default ")
 *    --max-field N, --max-row N, --max-columns N   reader limits
 *    --lines           one JSON object per line, a bad row as
 *                      {"$error":"...","$line":N,"$offset":N,"$end":N}
 *    --bench           read every row and print only counts and speed
 *  Without --lines or --bench: a JSON array of row objects, keys in header
 *  order (the shape of csv-spectrum's json/NAME.json); bad rows are
 *  described on stderr. Exit status: 0 if every row was good, 3 if some
 *  were bad, 1 if the input could not be read, 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tools/cs_csv.h"
#include "tools/cs_json.h"

typedef enum {
    S_ARRAY, /* a JSON array of objects */
    S_LINES, /* one JSON object per line */
    S_BENCH, /* counts and speed only */
} s_format_t;

static int
s_usage(void)
{
    fprintf(stderr, "usage: csv_dump [--encoding NAME] [--delimiter D] "
                    "[--quote Q] [--max-field N] [--max-row N] "
                    "[--max-columns N] [--lines|--bench] [FILE|-]\n");
    return 2;
}

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/*  CPU seconds used so far (user + system): on a shared machine this, not
 *  the wall clock, says how fast the code is. */
static double
s_cpu(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double) usage.ru_utime.tv_sec + (double) usage.ru_stime.tv_sec +
           (double) (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static bool
s_parse_size(const char *text, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || !end || *end != '\0' || end == text) {
        return false;
    }
    *out = (size_t) value;
    return true;
}

static bool
s_parse_byte(const char *text, bool allow_auto, int *out)
{
    if (allow_auto && strcmp(text, "auto") == 0) {
        *out = 0;
    } else if (strcmp(text, "tab") == 0 || strcmp(text, "TAB") == 0 ||
               strcmp(text, "\\t") == 0) {
        *out = '\t';
    } else if (strlen(text) == 1) {
        *out = (unsigned char) text[0];
    } else {
        return false;
    }
    return true;
}

static void
s_write_row(FILE *out, const cs_row_t *row)
{
    fputc('{', out);
    for (size_t i = 0; i < row->count; i++) {
        if (i > 0) {
            fputc(',', out);
        }
        cs_json_write_string(out, row->names[i], strlen(row->names[i]));
        fputc(':', out);
        cs_json_write_string(out, row->values[i].u.s.ptr,
                             row->values[i].u.s.len);
    }
    fputc('}', out);
}

int
main(int argc, char **argv)
{
    cs_csv_opts_t opts;
    memset(&opts, 0, sizeof opts);
    s_format_t format = S_ARRAY;
    const char *path = "-";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(arg, "--lines") == 0) {
            format = S_LINES;
            continue;
        }
        if (strcmp(arg, "--bench") == 0) {
            format = S_BENCH;
            continue;
        }
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            path = arg;
            continue;
        }
        if (!value) {
            return s_usage();
        }
        if (strcmp(arg, "--encoding") == 0) {
            ok = cs_csv_encoding_parse(value, &opts.encoding) == CS_OK;
        } else if (strcmp(arg, "--delimiter") == 0) {
            ok = s_parse_byte(value, true, &opts.delimiter);
        } else if (strcmp(arg, "--quote") == 0) {
            ok = s_parse_byte(value, false, &opts.quote);
        } else if (strcmp(arg, "--max-field") == 0) {
            ok = s_parse_size(value, &opts.max_field_bytes);
        } else if (strcmp(arg, "--max-row") == 0) {
            ok = s_parse_size(value, &opts.max_row_bytes);
        } else if (strcmp(arg, "--max-columns") == 0) {
            ok = s_parse_size(value, &opts.max_columns);
        } else {
            ok = false;
        }
        if (!ok) {
            return s_usage();
        }
        i++;
    }

    int fd = 0;
    if (strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "csv_dump: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    static char out_buf[1 << 16];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);

    double started = s_now();
    double cpu_started = s_cpu();
    cs_csv_t *csv = NULL;
    int rc = cs_csv_open(fd, path, &opts, &csv);
    if (rc != CS_OK) {
        fprintf(stderr, "csv_dump: %s: %s\n", path, cs_strerror(rc));
        return 1;
    }
    double opened = s_now();
    double cpu_opened = s_cpu();
    uint64_t good = 0, bad = 0, bytes = 0;
    int status = 0;
    if (format == S_ARRAY) {
        fputs("[", stdout);
    }
    while (true) {
        cs_row_t row;
        rc = cs_csv_next(csv, &row);
        if (rc == CS_ENOENT) {
            break;
        }
        if (rc == CS_OK) {
            bytes = row.end_offset;
            if (format == S_ARRAY) {
                fputs(good > 0 ? ",\n" : "\n", stdout);
                s_write_row(stdout, &row);
            } else if (format == S_LINES) {
                s_write_row(stdout, &row);
                fputc('\n', stdout);
            }
            good++;
            continue;
        }
        if (rc != CS_EPROTO) {
            fprintf(stderr, "csv_dump: %s: %s\n", path, cs_strerror(rc));
            status = 1;
            break;
        }
        bytes = row.end_offset;
        bad++;
        if (format == S_LINES) {
            fputs("{\"$error\":", stdout);
            cs_json_write_string(stdout, row.error, strlen(row.error));
            printf(",\"$line\":%llu,\"$offset\":%llu,\"$end\":%llu}\n",
                   (unsigned long long) row.line,
                   (unsigned long long) row.offset,
                   (unsigned long long) row.end_offset);
        } else if (format == S_ARRAY) {
            fprintf(stderr, "csv_dump: %s: line %llu (offset %llu): %s\n", path,
                    (unsigned long long) row.line,
                    (unsigned long long) row.offset, row.error);
        }
    }
    double finished = s_now();
    double cpu_finished = s_cpu();
    if (format == S_ARRAY) {
        fputs(good > 0 ? "\n]\n" : "]\n", stdout);
    }
    if (format == S_BENCH) {
        double seconds = finished - started;
        bool had_bom = false;
        cs_csv_encoding_t encoding = cs_csv_encoding(csv, &had_bom);
        printf("encoding %s%s, delimiter 0x%02x\n",
               cs_csv_encoding_name(encoding), had_bom ? " (BOM)" : "",
               (unsigned) cs_csv_delimiter(csv));
        printf("rows %llu good, %llu bad; %llu bytes\n",
               (unsigned long long) good, (unsigned long long) bad,
               (unsigned long long) bytes);
        double cpu = cpu_finished - cpu_started;
        double rows_cpu = cpu_finished - cpu_opened;
        printf("wall: open (detection, header) %.3f s; total %.3f s; "
               "%.1f MB/s, %.0f rows/s\n",
               opened - started, seconds, (double) bytes / 1e6 / seconds,
               (double) (good + bad) / seconds);
        printf("cpu: open %.3f s; rows %.3f s; total %.3f s; %.1f MB/s, "
               "%.0f rows/s (rows only: %.1f MB/s)\n",
               cpu_opened - cpu_started, rows_cpu, cpu,
               (double) bytes / 1e6 / cpu, (double) (good + bad) / cpu,
               (double) bytes / 1e6 / rows_cpu);
    }
    cs_csv_destroy(&csv);
    if (fd != 0) {
        close(fd);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "csv_dump: write error\n");
        return 1;
    }
    if (status != 0) {
        return status;
    }
    return bad > 0 ? 3 : 0;
}
