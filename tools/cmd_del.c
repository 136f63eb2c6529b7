/*  cmd_del - crmsync del: delete a record (write its tombstone).
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "tools/tools_private.h"

#define S_CMD "del"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync del [--data DIR] [-v] COLLECTION ID\n"
          "\n"
          "Delete record ID of COLLECTION: every field written before now is\n"
          "hidden, here and, once replicated, on every node. A later put\n"
          "revives the record. Exit status 1 if the record has no visible\n"
          "field (absent or already deleted).\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -v, --verbose    print the stamp of the delete\n"
          "  -h, --help       show this help and exit\n",
          out);
}

int
cs_cmd_del(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    bool verbose = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:vh", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'v':
            verbose = true;
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
    int exit_code = cs_cli_open_store(S_CMD, data, false, &store, NULL);
    if (exit_code != CS_CLI_EXIT_OK) {
        return exit_code;
    }
    cs_hlc_t hlc = 0;
    int rc = cs_store_delete(store, collection, id, &hlc);
    if (rc != CS_OK) {
        exit_code = cs_cli_record_error(S_CMD, collection, id, rc);
        goto out_destroy;
    }
    if (verbose) {
        cs_cli_print_stamp(stdout, hlc);
    }
    exit_code = cs_cli_flush_stdout(S_CMD);
out_destroy:
    cs_store_destroy(&store);
    return exit_code;
}
