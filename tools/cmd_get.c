/*  cmd_get - crmsync get: print one record's visible fields as JSON.
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdio.h>

#include "crdt/cs_record.h"
#include "tools/cs_json.h"
#include "tools/tools_private.h"

#define S_CMD "get"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync get [--data DIR] COLLECTION ID\n"
          "\n"
          "Print the visible fields of record ID in COLLECTION as one JSON\n"
          "object, keys in name order, on one line. Exit status 1 if the\n"
          "record does not exist or is deleted.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -h, --help       show this help and exit\n",
          out);
}

int
cs_cmd_get(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:h", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
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
    cs_json_write_fields(stdout, rec);
    putchar('\n');
    exit_code = cs_cli_flush_stdout(S_CMD);
out_destroy:
    cs_record_destroy(&rec);
    cs_store_destroy(&store);
    return exit_code;
}
