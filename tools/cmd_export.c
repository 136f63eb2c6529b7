/*  cmd_export - crmsync export: records as JSON Lines or CSV.
 *  SPDX-License-Identifier: MIT
 *
 *  JSON Lines: the line format of scan, for one collection or all of them,
 *  in key order (collection, then id, bytewise).
 *
 *  CSV (RFC 4180, UTF-8, CRLF row ends, one collection): the header is the
 *  id column followed by the sorted union of the field names of the
 *  exported records, so it takes two scans: one to collect the names, one
 *  to write the rows. Each scan is its own read transaction; if the second
 *  meets a field the first did not see (a write in between), the export
 *  fails rather than drop the value silently.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/cs_record.h"
#include "tools/cs_json.h"
#include "tools/tools_private.h"

#define S_CMD       "export"
#define S_ID_HEADER "_id"

static void
s_usage(FILE *out)
{
    fputs(
        "Usage: crmsync export [--data DIR] [--collection C]\n"
        "                      [--format jsonl|csv] [--out FILE]\n"
        "                      [--id-header NAME]\n"
        "\n"
        "Export the records of one collection (or, for jsonl, of all\n"
        "collections) in key order. Deleted records are skipped.\n"
        "\n"
        "  jsonl  one {\"collection\":...,\"id\":...,\"fields\":{...}} "
        "per line\n"
        "  csv    RFC 4180 with CRLF row ends; needs --collection. The\n"
        "         header is _id followed by the sorted union of the field\n"
        "         names; a missing field or null is an empty cell, floats\n"
        "         are written in the shortest form that reads back the\n"
        "         same, binaries in base64.\n"
        "\n"
        "Options:\n"
        "  -d, --data DIR        the data directory (default: $" CS_CLI_DATA_ENV
        ")\n"
        "  -c, --collection C    export only collection C\n"
        "  -f, --format FORMAT   jsonl (default) or csv\n"
        "  -o, --out FILE        write to FILE (atomically: a temporary\n"
        "                        file renamed at the end; '-' is stdout)\n"
        "      --id-header NAME  name of the CSV id column (default _id);\n"
        "                        needed when a field is itself named _id\n"
        "  -h, --help            show this help and exit\n",
        out);
}

typedef enum {
    S_FORMAT_JSONL,
    S_FORMAT_CSV,
} s_format_t;

/*  A sorted set of field names (bytewise, as records order them). */
typedef struct {
    char **names; /* owned strings, sorted, unique */
    size_t count; /* names used */
    size_t cap;   /* names allocated */
} s_names_t;

typedef struct {
    FILE *out;             /* where rows go */
    const s_names_t *cols; /* CSV columns after the id */
    bool changed;          /* pass 2 met a field not in the header */
} s_export_t;

/* ---------------- field name set ---------------- */

static void
s_names_add(s_names_t *self, const char *name)
{
    size_t low = 0;
    size_t high = self->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = strcmp(self->names[mid], name);
        if (cmp == 0) {
            return;
        }
        if (cmp < 0) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->names = realloc(self->names, self->cap * sizeof *self->names);
        if (!self->names) {
            abort();
        }
    }
    memmove(self->names + low + 1, self->names + low,
            (self->count - low) * sizeof *self->names);
    self->names[low] = strdup(name);
    if (!self->names[low]) {
        abort();
    }
    self->count++;
}

static bool
s_names_has(const s_names_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++) {
        if (strcmp(self->names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static void
s_names_fini(s_names_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free(self->names[i]);
    }
    free(self->names);
    memset(self, 0, sizeof *self);
}

static bool
s_collect_names(void *arg, const char *collection, const char *id,
                const cs_record_t *record)
{
    (void) collection;
    (void) id;
    s_names_t *names = arg;
    if (cs_record_is_deleted(record)) {
        return true;
    }
    size_t count = cs_record_field_count(record);
    for (size_t i = 0; i < count; i++) {
        s_names_add(names, cs_record_field_at(record, i).name);
    }
    return true;
}

/* ---------------- CSV ---------------- */

/*  One cell, quoted if it holds a delimiter, quote, CR or LF. */
static void
s_csv_cell(FILE *out, const char *s, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len && !quote; i++) {
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    }
    if (!quote) {
        fwrite(s, 1, len, out);
        return;
    }
    putc('"', out);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            fwrite(s + run, 1, i + 1 - run, out); /* the quote, doubled */
            run = i;
        }
    }
    fwrite(s + run, 1, len - run, out);
    putc('"', out);
}

static void
s_csv_value(FILE *out, const cs_value_t *value)
{
    char text[CS_JSON_DOUBLE_MAX];
    switch (value->type) {
    case CS_VALUE_NIL:
        break;
    case CS_VALUE_BOOL:
        fputs(value->u.b ? "true" : "false", out);
        break;
    case CS_VALUE_INT:
        fprintf(out, "%" PRId64, value->u.i);
        break;
    case CS_VALUE_FLOAT:
        if (isnan(value->u.f)) {
            fputs("NaN", out);
        } else if (isinf(value->u.f)) {
            fputs(value->u.f > 0 ? "Infinity" : "-Infinity", out);
        } else {
            size_t n = cs_json_format_double(value->u.f, false, text);
            fwrite(text, 1, n, out);
        }
        break;
    case CS_VALUE_STR:
        s_csv_cell(out, value->u.s.ptr, value->u.s.len);
        break;
    case CS_VALUE_BIN: {
        char *base64 = cs_json_base64(value->u.s.ptr, value->u.s.len);
        fputs(base64, out);
        free(base64);
        break;
    }
    }
}

static void
s_csv_header(FILE *out, const char *id_header, const s_names_t *cols)
{
    s_csv_cell(out, id_header, strlen(id_header));
    for (size_t i = 0; i < cols->count; i++) {
        putc(',', out);
        s_csv_cell(out, cols->names[i], strlen(cols->names[i]));
    }
    fputs("\r\n", out);
}

static bool
s_csv_row(void *arg, const char *collection, const char *id,
          const cs_record_t *record)
{
    (void) collection;
    s_export_t *self = arg;
    size_t count = cs_record_field_count(record);
    if (cs_record_is_deleted(record) || count == 0) {
        return true;
    }
    size_t next = 0; /* next field of the record, in name order */
    s_csv_cell(self->out, id, strlen(id));
    for (size_t i = 0; i < self->cols->count; i++) {
        putc(',', self->out);
        if (next >= count) {
            continue;
        }
        cs_field_t field = cs_record_field_at(record, next);
        int cmp = strcmp(field.name, self->cols->names[i]);
        if (cmp < 0) {
            break; /* a field the header does not have */
        }
        if (cmp == 0) {
            s_csv_value(self->out, &field.value);
            next++;
        }
    }
    fputs("\r\n", self->out);
    if (next < count) {
        self->changed = true;
        return false;
    }
    return !ferror(self->out);
}

/* ---------------- JSON Lines ---------------- */

static bool
s_jsonl_row(void *arg, const char *collection, const char *id,
            const cs_record_t *record)
{
    s_export_t *self = arg;
    if (cs_record_is_deleted(record) || cs_record_field_count(record) == 0) {
        return true;
    }
    cs_json_write_record_line(self->out, collection, id, record);
    return !ferror(self->out);
}

/* ---------------- command ---------------- */

static int
s_export_csv(cs_store_t *store, const char *collection, const char *id_header,
             bool id_header_given, FILE *out)
{
    s_names_t cols = { 0 };
    int exit_code = CS_CLI_EXIT_OK;
    int rc = cs_store_scan(store, collection, s_collect_names, &cols);
    if (rc != CS_OK) {
        cs_cli_error(S_CMD, collection, rc);
        exit_code = CS_CLI_EXIT_FAIL;
        goto out_free_cols;
    }
    if (s_names_has(&cols, id_header)) {
        if (id_header_given) {
            cs_cli_errorf(S_CMD,
                          "%s: a field is named '%s', like the id "
                          "column: choose another --id-header",
                          collection, id_header);
        } else {
            cs_cli_errorf(S_CMD,
                          "%s: a field is named '%s', like the id "
                          "column: name the id column with --id-header NAME",
                          collection, id_header);
        }
        exit_code = CS_CLI_EXIT_FAIL;
        goto out_free_cols;
    }
    s_csv_header(out, id_header, &cols);
    s_export_t export = { .out = out, .cols = &cols };
    rc = cs_store_scan(store, collection, s_csv_row, &export);
    if (rc != CS_OK) {
        cs_cli_error(S_CMD, collection, rc);
        exit_code = CS_CLI_EXIT_FAIL;
        goto out_free_cols;
    }
    if (export.changed) {
        cs_cli_errorf(S_CMD,
                      "%s: the collection changed during the export "
                      "(a new field appeared); run it again",
                      collection);
        exit_code = CS_CLI_EXIT_FAIL;
    }
out_free_cols:
    s_names_fini(&cols);
    return exit_code;
}

int
cs_cmd_export(int argc, char **argv)
{
    enum { S_OPT_ID_HEADER = 256 };
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "collection", required_argument, NULL, 'c' },
        { "format", required_argument, NULL, 'f' },
        { "out", required_argument, NULL, 'o' },
        { "id-header", required_argument, NULL, S_OPT_ID_HEADER },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    const char *collection = NULL;
    const char *path = NULL;
    const char *id_header = NULL;
    s_format_t format = S_FORMAT_JSONL;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:c:f:o:h", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'c':
            collection = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "jsonl") == 0) {
                format = S_FORMAT_JSONL;
            } else if (strcmp(optarg, "csv") == 0) {
                format = S_FORMAT_CSV;
            } else {
                return cs_cli_usage_error(S_CMD,
                                          "unknown format '%s' "
                                          "(jsonl or csv)",
                                          optarg);
            }
            break;
        case 'o':
            path = optarg;
            break;
        case S_OPT_ID_HEADER:
            id_header = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return cs_cli_flush_stdout(S_CMD);
        default:
            return cs_cli_getopt_error(S_CMD, argv, opt);
        }
    }
    if (optind < argc) {
        return cs_cli_usage_error(S_CMD,
                                  "unexpected argument '%s' (the "
                                  "collection goes after --collection)",
                                  argv[optind]);
    }
    if (collection && !cs_cli_check_collection(S_CMD, collection)) {
        return CS_CLI_EXIT_USAGE;
    }
    if (format == S_FORMAT_CSV && !collection) {
        return cs_cli_usage_error(S_CMD, "--format csv needs --collection "
                                         "(a CSV file holds one collection)");
    }
    if (id_header && format != S_FORMAT_CSV) {
        return cs_cli_usage_error(S_CMD, "--id-header applies only to "
                                         "--format csv");
    }
    if (id_header && (id_header[0] == '\0' ||
                      !cs_utf8_is_valid(id_header, strlen(id_header)))) {
        return cs_cli_usage_error(S_CMD, "--id-header needs a non-empty "
                                         "UTF-8 name");
    }
    if (path && path[0] == '\0') {
        return cs_cli_usage_error(S_CMD, "--out needs a file name");
    }

    cs_store_t *store = NULL;
    const char *dir = NULL;
    cs_cli_output_t out;
    int exit_code = cs_cli_open_store(S_CMD, data, true, &store, &dir);
    if (exit_code != CS_CLI_EXIT_OK) {
        return exit_code;
    }
    exit_code = cs_cli_output_open(S_CMD, path, &out);
    if (exit_code != CS_CLI_EXIT_OK) {
        goto out_destroy;
    }
    if (format == S_FORMAT_CSV) {
        exit_code =
            s_export_csv(store, collection, id_header ? id_header : S_ID_HEADER,
                         id_header != NULL, out.stream);
    } else {
        s_export_t export = { .out = out.stream };
        int rc = cs_store_scan(store, collection, s_jsonl_row, &export);
        if (rc != CS_OK) {
            cs_cli_error(S_CMD, collection ? collection : dir, rc);
            exit_code = CS_CLI_EXIT_FAIL;
        }
    }
    if (exit_code == CS_CLI_EXIT_OK) {
        exit_code = cs_cli_output_commit(S_CMD, &out);
    } else {
        cs_cli_output_abort(&out);
    }
out_destroy:
    cs_store_destroy(&store);
    return exit_code;
}
