/*  cmd_scan - crmsync scan: a collection's records as JSON Lines.
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "crdt/cs_record.h"
#include "tools/cs_json.h"
#include "tools/tools_private.h"

#define S_CMD "scan"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync scan [--data DIR] [--limit N] COLLECTION\n"
          "\n"
          "Print the records of COLLECTION in id order (bytewise), one JSON\n"
          "object per line:\n"
          "  {\"collection\":\"...\",\"id\":\"...\",\"fields\":{...}}\n"
          "Deleted records are skipped.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -n, --limit N    print at most N records (0: none)\n"
          "  -h, --help       show this help and exit\n",
          out);
}

typedef struct {
    uint64_t limit;   /* records still to print */
    bool write_error; /* stdout failed; stop */
} s_scan_t;

static bool
s_print_record(void *arg, const char *collection, const char *id,
               const cs_record_t *record)
{
    s_scan_t *self = arg;
    if (cs_record_is_deleted(record) || cs_record_field_count(record) == 0) {
        return true;
    }
    if (self->limit == 0) {
        return false;
    }
    cs_json_write_record_line(stdout, collection, id, record);
    self->limit--;
    if (ferror(stdout)) {
        self->write_error = true;
        return false;
    }
    return self->limit > 0;
}

int
cs_cmd_scan(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "limit", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    s_scan_t scan = { .limit = UINT64_MAX };
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:n:h", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'n':
            if (!cs_cli_parse_count(optarg, &scan.limit)) {
                return cs_cli_usage_error(S_CMD,
                                          "--limit needs a "
                                          "non-negative integer, not '%s'",
                                          optarg);
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
        return cs_cli_usage_error(S_CMD, "%s (expected COLLECTION)",
                                  argc - optind < 1 ? "missing argument"
                                                    : "too many arguments");
    }
    const char *collection = argv[optind];
    if (!cs_cli_check_collection(S_CMD, collection)) {
        return CS_CLI_EXIT_USAGE;
    }

    cs_store_t *store = NULL;
    int exit_code = cs_cli_open_store(S_CMD, data, true, &store, NULL);
    if (exit_code != CS_CLI_EXIT_OK) {
        return exit_code;
    }
    if (scan.limit > 0) {
        int rc = cs_store_scan(store, collection, s_print_record, &scan);
        if (rc != CS_OK) {
            cs_cli_error(S_CMD, collection, rc);
            exit_code = CS_CLI_EXIT_FAIL;
            goto out_destroy;
        }
    }
    exit_code = cs_cli_flush_stdout(S_CMD);
out_destroy:
    cs_store_destroy(&store);
    return exit_code;
}
