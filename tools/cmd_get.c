/*  cmd_get - crmsync get: print one record's visible fields as JSON.
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crdt/cs_record.h"
#include "tools/cs_json.h"
#include "tools/tools_private.h"

#define S_CMD "get"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync get [--data DIR] [--stamps] COLLECTION ID\n"
          "\n"
          "Print the visible fields of record ID in COLLECTION as one JSON\n"
          "object, keys in name order, on one line. Exit status 1 if the\n"
          "record does not exist or is deleted.\n"
          "\n"
          "With --stamps each field is an object that says which write won\n"
          "and why: {\"value\":V,\"written\":\"<UTC time>\",\"hlc\":N,\n"
          "\"origin\":\"<node id>\"}. Of two writes to a field, the one with\n"
          "the larger hlc wins; equal hlcs go to the larger origin.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -s, --stamps     show each field's winning write (time, node)\n"
          "  -h, --help       show this help and exit\n",
          out);
}

/* The visible fields, each with the stamp of the write that won. */
static void
s_write_stamped(const cs_record_t *rec)
{
    size_t count = cs_record_field_count(rec);
    putchar('{');
    for (size_t i = 0; i < count; i++) {
        cs_field_t field = cs_record_field_at(rec, i);
        uint64_t wall = cs_hlc_wall(field.stamp.hlc);
        time_t seconds = (time_t) (wall / 1000);
        struct tm tm;
        char when[32] = "?";
        if (gmtime_r(&seconds, &tm)) {
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        }
        if (i > 0) {
            putchar(',');
        }
        cs_json_write_string(stdout, field.name, strlen(field.name));
        fputs(":{\"value\":", stdout);
        cs_json_write_value(stdout, &field.value);
        printf(",\"written\":\"%s.%03uZ\",\"hlc\":%" PRIu64
               ",\"origin\":\"%016" PRIx64 "\"}",
               when, (unsigned) (wall % 1000), field.stamp.hlc,
               field.stamp.origin);
    }
    putchar('}');
}

int
cs_cmd_get(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "stamps", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    bool stamps = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:sh", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 's':
            stamps = true;
            break;
        case 'h':
            s_usage(stdout);
            return cs_cli_flush_stdout(S_CMD);
        default:
            return cs_cli_getopt_error(S_CMD, argv, opt);
        }
    }
    const char *collection = NULL;
    const char *id = NULL;
    if (!cs_cli_record_key(S_CMD, argc, argv, false, "COLLECTION ID",
                           &collection, &id)) {
        return CS_CLI_EXIT_USAGE;
    }

    cs_store_t *store = NULL;
    cs_record_t *rec = NULL;
    int exit_code = cs_cli_open_store(S_CMD, data, true, &store, NULL);
    if (exit_code != CS_CLI_EXIT_OK) {
        return exit_code;
    }
    int rc = cs_store_get(store, collection, id, &rec);
    if (rc == CS_OK && cs_record_is_deleted(rec)) {
        cs_cli_errorf(S_CMD, "%s/%s: deleted", collection, id);
        exit_code = CS_CLI_EXIT_FAIL;
        goto out_destroy;
    }
    if (rc == CS_OK && cs_record_field_count(rec) == 0) {
        rc = CS_ENOENT;
    }
    if (rc != CS_OK) {
        exit_code = cs_cli_record_error(S_CMD, collection, id, rc);
        goto out_destroy;
    }
    if (stamps) {
        s_write_stamped(rec);
    } else {
        cs_json_write_fields(stdout, rec);
    }
    putchar('\n');
    exit_code = cs_cli_flush_stdout(S_CMD);
out_destroy:
    cs_record_destroy(&rec);
    cs_store_destroy(&store);
    return exit_code;
}
