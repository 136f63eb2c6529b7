/*  cmd_init - crmsync init: create a node's data directory.
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "node/cs_datadir.h"
#include "tools/tools_private.h"

#define S_CMD "init"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync init --data DIR\n"
          "\n"
          "Create the data directory of a new node: make DIR (mode 0700) if\n"
          "it does not exist, the node's CURVE keypair (node.cert,\n"
          "node.cert_secret) and its empty store. Prints the node id.\n"
          "Fails if DIR already holds a node.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -h, --help       show this help and exit\n",
          out);
}

int
cs_cmd_init(int argc, char **argv)
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
    if (optind < argc) {
        return cs_cli_usage_error(S_CMD,
                                  "unexpected argument '%s' (the "
                                  "directory goes after --data)",
                                  argv[optind]);
    }
    const char *dir = cs_cli_data_dir(S_CMD, data);
    if (!dir) {
        return CS_CLI_EXIT_USAGE;
    }
    uint64_t node_id = 0;
    int rc = cs_datadir_init(dir, &node_id);
    if (rc == CS_EEXIST) {
        cs_cli_errorf(S_CMD, "%s: already holds a crmsync node (%s)", dir,
                      cs_strerror(rc));
        return CS_CLI_EXIT_FAIL;
    }
    if (rc != CS_OK) {
        cs_cli_error(S_CMD, dir, rc);
        return CS_CLI_EXIT_FAIL;
    }
    printf("initialised %s (node id %016" PRIx64 ")\n", dir, node_id);
    return cs_cli_flush_stdout(S_CMD);
}
