/*  cmd_sniff - crmsync sniff: show how crmsync seed will read a file
 *  (format, encoding, delimiter, columns, a few parsed rows) and suggest
 *  options, before a long run.
 *  SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cs_csv.h"
#include "tools/cs_json.h"
#include "tools/cs_jsonl.h"
#include "tools/cs_seed.h"
#include "tools/cs_sfid.h"
#include "tools/tools_private.h"

#define S_CMD          "sniff"
#define S_ROWS_DEFAULT 5u
#define S_ROWS_MAX     1000u

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync sniff [OPTION]... FILE|-\n"
          "\n"
          "Show how 'crmsync seed' reads FILE: the format, the encoding\n"
          "(and whether there is a byte order mark), the delimiter, the\n"
          "columns and the first rows as parsed (as JSON objects, or the\n"
          "reason a row is bad), then the seed options that fit. Reads only\n"
          "the start of the file; needs no data directory.\n"
          "\n"
          "Options:\n"
          "  -f, --format FMT      csv or jsonl (default: by extension)\n"
          "      --delimiter C     force the CSV delimiter (one character or "
          "tab)\n"
          "      --encoding ENC    force the encoding (auto, utf-8,\n"
          "                        windows-1252, iso-8859-1, utf-16le)\n"
          "  -n, --rows N          rows to show (default 5, at most 1000)\n"
          "  -h, --help            show this help and exit\n",
          out);
}

static bool
s_is_any(const char *name, const char *const *candidates)
{
    for (size_t i = 0; candidates[i]; i++) {
        if (strcasecmp(name, candidates[i]) == 0) {
            return true;
        }
    }
    return false;
}

static const char *
s_find_candidate(const char *const *names, size_t count,
                 const char *const *candidates)
{
    for (size_t c = 0; candidates[c]; c++) {
        for (size_t i = 0; i < count; i++) {
            if (strcasecmp(names[i], candidates[c]) == 0) {
                return names[i];
            }
        }
    }
    return NULL;
}

/*  Print @p s as a shell word: as is if it is plain, else single-quoted. */
static void
s_shell_word(FILE *out, const char *s)
{
    bool plain = s[0] != '\0';
    for (const char *p = s; *p && plain; p++) {
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || strchr("_-./:,", *p);
    }
    if (plain) {
        fputs(s, out);
        return;
    }
    putc('\'', out);
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            fputs("'\\''", out);
        } else {
            putc(*p, out);
        }
    }
    putc('\'', out);
}

static void
s_print_row(FILE *out, const cs_row_t *row)
{
    fprintf(out, "  line %" PRIu64 ": ", row->line);
    putc('{', out);
    for (size_t i = 0; i < row->count; i++) {
        if (i > 0) {
            putc(',', out);
        }
        cs_json_write_string(out, row->names[i], strlen(row->names[i]));
        putc(':', out);
        cs_json_write_value(out, &row->values[i]);
    }
    fputs("}\n", out);
}

int
cs_cmd_sniff(int argc, char **argv)
{
    static const struct option options[] = {
        { "format", required_argument, NULL, 'f' },
        { "delimiter", required_argument, NULL, 'D' },
        { "encoding", required_argument, NULL, 'E' },
        { "rows", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    cs_csv_opts_t csv_opts;
    memset(&csv_opts, 0, sizeof csv_opts);
    cs_seed_format_t format = CS_SEED_FORMAT_AUTO;
    uint64_t rows_wanted = S_ROWS_DEFAULT;
    int opt;
    while ((opt = getopt_long(argc, argv, ":f:n:h", options, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (cs_seed_format_parse(optarg, &format) != CS_OK) {
                return cs_cli_usage_error(
                    S_CMD, "unknown format '%s' (csv or jsonl)", optarg);
            }
            break;
        case 'D':
            if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0) {
                csv_opts.delimiter = '\t';
            } else if (strlen(optarg) == 1 &&
                       (unsigned char) optarg[0] < 0x80) {
                csv_opts.delimiter = (unsigned char) optarg[0];
            } else {
                return cs_cli_usage_error(
                    S_CMD, "--delimiter needs one ASCII character or 'tab'");
            }
            break;
        case 'E':
            if (cs_csv_encoding_parse(optarg, &csv_opts.encoding) != CS_OK) {
                return cs_cli_usage_error(S_CMD, "unknown encoding '%s'",
                                          optarg);
            }
            break;
        case 'n':
            if (!cs_cli_parse_count(optarg, &rows_wanted) ||
                rows_wanted > S_ROWS_MAX) {
                return cs_cli_usage_error(
                    S_CMD, "--rows needs a count from 0 to %u", S_ROWS_MAX);
            }
            break;
        case 'h':
            s_usage(stdout);
            return cs_cli_flush_stdout(S_CMD);
        default:
            return cs_cli_getopt_error(S_CMD, argv, opt);
        }
    }
    if (argc - optind != 1) {
        return cs_cli_usage_error(S_CMD, "%s (expected one FILE)",
                                  argc - optind < 1 ? "missing file"
                                                    : "too many arguments");
    }
    const char *path = argv[optind];
    bool use_stdin = strcmp(path, "-") == 0;
    const char *name = use_stdin ? "standard input" : path;
    format = cs_seed_format_of(format, path);
    bool is_csv = format == CS_SEED_FORMAT_CSV;
    int fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cs_cli_errorf(S_CMD, "%s: %s", path, strerror(errno));
        return CS_CLI_EXIT_FAIL;
    }
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);

    cs_csv_t *csv = NULL;
    cs_jsonl_t *jsonl = NULL;
    int exit_code = CS_CLI_EXIT_OK;
    int rc = is_csv ? cs_csv_open(fd, name, &csv_opts, &csv)
                    : cs_jsonl_open(fd, name, NULL, &jsonl);
    if (rc != CS_OK) {
        if (rc == CS_EPROTO) {
            cs_cli_errorf(S_CMD, "%s: no usable header row", name);
        } else if (rc != CS_EIO) {
            cs_cli_error(S_CMD, name, rc);
        }
        exit_code = CS_CLI_EXIT_FAIL;
        goto out_close;
    }
    FILE *out = stdout;
    if (regular) {
        fprintf(out, "file        %s (%jd bytes)\n", name,
                (intmax_t) st.st_size);
    } else {
        fprintf(out, "file        %s\n", name);
    }
    fprintf(out, "format      %s\n", cs_seed_format_name(format));
    bool bom = false;
    cs_csv_encoding_t encoding = CS_CSV_ENC_UTF8;
    int delimiter = 0;
    const char *const *names = NULL;
    size_t column_count = 0;
    if (csv) {
        encoding = cs_csv_encoding(csv, &bom);
        delimiter = cs_csv_delimiter(csv);
        names = cs_csv_columns(csv, &column_count);
        fprintf(out, "encoding    %s (%s)\n", cs_csv_encoding_name(encoding),
                bom ? "byte order mark" : "no byte order mark");
        if (delimiter == '\t') {
            fputs("delimiter   TAB\n", out);
        } else {
            fprintf(out, "delimiter   '%c'\n", delimiter);
        }
        fprintf(out, "columns     %zu\n", column_count);
        for (size_t i = 0; i < column_count; i++) {
            fprintf(out, "  %4zu  %s\n", i + 1, names[i]);
        }
    } else {
        fputs("encoding    utf-8\n", out);
    }

    /* the sample rows, and what they tell about the options */
    static const char *const id_names[] = { "Id", "_id", "Record ID",
                                            "RecordId", NULL };
    static const char *const ts_names[] = {
        "LastModifiedDate",   "SystemModstamp",
        "Last Modified Date", "Modified Time",
        "updated_at",         "modified_at",
        "Last Modified",      NULL
    };
    static const char *const del_names[] = { "IsDeleted", "deleted",
                                             "is_deleted", NULL };
    bool short_sf_ids = false;
    bool shown_header = false;
    char **jsonl_names = NULL;
    size_t jsonl_count = 0;
    uint64_t bad = 0;
    for (uint64_t r = 0; r < rows_wanted; r++) {
        cs_row_t row;
        rc = csv ? cs_csv_next(csv, &row) : cs_jsonl_next(jsonl, &row);
        if (rc == CS_ENOENT) {
            break;
        }
        if (rc != CS_OK && rc != CS_EPROTO) {
            exit_code = CS_CLI_EXIT_FAIL;
            break;
        }
        if (!shown_header) {
            fprintf(out, "rows (first %" PRIu64 ")\n", rows_wanted);
            shown_header = true;
        }
        if (rc == CS_EPROTO) {
            bad++;
            fprintf(out, "  line %" PRIu64 ": bad row: %s\n", row.line,
                    row.error ? row.error : "?");
            continue;
        }
        if (!csv && !jsonl_names) {
            jsonl_count = row.count;
            jsonl_names =
                calloc(row.count ? row.count : 1, sizeof *jsonl_names);
            if (!jsonl_names) {
                abort();
            }
            for (size_t i = 0; i < row.count; i++) {
                jsonl_names[i] = strdup(row.names[i]);
                if (!jsonl_names[i]) {
                    abort();
                }
            }
        }
        s_print_row(out, &row);
        for (size_t i = 0; i < row.count; i++) {
            const cs_value_t *v = &row.values[i];
            size_t len = strlen(row.names[i]);
            bool id_like = s_is_any(row.names[i], id_names) ||
                           (len >= 2 && row.names[i][len - 2] == 'I' &&
                            (row.names[i][len - 1] == 'd' ||
                             row.names[i][len - 1] == 'D'));
            if (id_like && v->type == CS_VALUE_STR &&
                v->u.s.len == CS_SFID_SHORT &&
                cs_sfid_is_shaped(v->u.s.ptr, v->u.s.len)) {
                short_sf_ids = true;
            }
        }
    }
    if (!shown_header) {
        fputs("rows        none\n", out);
    }
    if (!csv) {
        names = (const char *const *) jsonl_names;
        column_count = jsonl_count;
        fprintf(out, "keys        %zu (of the first row)\n", column_count);
        for (size_t i = 0; i < column_count; i++) {
            fprintf(out, "  %4zu  %s\n", i + 1, names[i]);
        }
    }

    fputs("suggested   crmsync seed --collection NAME", out);
    const char *id = s_find_candidate(names, column_count, id_names);
    fputs(" --id-column ", out);
    s_shell_word(out, id ? id : "COLUMN");
    const char *ts = s_find_candidate(names, column_count, ts_names);
    if (ts) {
        fputs(" --timestamp-column ", out);
        s_shell_word(out, ts);
    }
    const char *del = s_find_candidate(names, column_count, del_names);
    if (del) {
        fputs(" --deleted-column ", out);
        s_shell_word(out, del);
    }
    if (short_sf_ids) {
        fputs(" --sf-ids", out);
    }
    if (csv && delimiter != ',') {
        fputs(" --delimiter ", out);
        if (delimiter == '\t') {
            fputs("tab", out);
        } else {
            char d[2] = { (char) delimiter, '\0' };
            s_shell_word(out, d);
        }
    }
    if (csv && encoding != CS_CSV_ENC_UTF8) {
        fprintf(out, " --encoding %s", cs_csv_encoding_name(encoding));
    }
    if (!is_csv) {
        fputs(" --format jsonl", out);
    }
    fputc(' ', out);
    s_shell_word(out, path);
    fputc('\n', out);
    if (bad > 0) {
        fprintf(out,
                "note        %" PRIu64 " of the rows shown are bad: the "
                "seed skips such rows (see --rejects)\n",
                bad);
    }
    if (exit_code == CS_CLI_EXIT_OK) {
        exit_code = cs_cli_flush_stdout(S_CMD);
    }
    for (size_t i = 0; i < jsonl_count; i++) {
        free(jsonl_names[i]);
    }
    free(jsonl_names);
out_close:
    cs_csv_destroy(&csv);
    cs_jsonl_destroy(&jsonl);
    if (fd != STDIN_FILENO) {
        close(fd);
    }
    return exit_code;
}
