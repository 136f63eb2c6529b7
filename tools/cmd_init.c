/*  cmd_init - crmsync init: create a node's data directory.
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "node/cs_datadir.h"
#include "tools/tools_private.h"

#define S_CMD "init"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync init --data DIR [--keep-keys]\n"
          "\n"
          "Create the data directory of a new node: make DIR (mode 0700) if\n"
          "it does not exist, the node's CURVE keypair (node.cert,\n"
          "node.cert_secret) and its empty store. Prints the node id.\n"
          "Fails if DIR already holds a node.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -k, --keep-keys  DIR has the node's key pair but no store (a\n"
          "                   replaced disk, keys restored): make a new empty\n"
          "                   store with a new epoch; the peers then send the\n"
          "                   node everything again\n"
          "  -h, --help       show this help and exit\n",
          out);
}

int
cs_cmd_init(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "keep-keys", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    bool keep_keys = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:kh", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'k':
            keep_keys = true;
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
    int rc = keep_keys ? cs_datadir_renew(dir, &node_id)
                       : cs_datadir_init(dir, &node_id);
    if (rc == CS_ENOENT && keep_keys) {
        cs_cli_errorf(S_CMD, "%s: has no key pair to keep", dir);
        return CS_CLI_EXIT_FAIL;
    }
    if (rc == CS_EEXIST && keep_keys) {
        cs_cli_errorf(S_CMD, "%s: already has a store", dir);
        return CS_CLI_EXIT_FAIL;
    }
    if (rc == CS_EEXIST) {
        cs_cli_errorf(S_CMD, "%s: already holds a crmsync node (%s)", dir,
                      cs_strerror(rc));
        return CS_CLI_EXIT_FAIL;
    }
    if (rc != CS_OK) {
        cs_cli_error(S_CMD, dir, rc);
        return CS_CLI_EXIT_FAIL;
    }
    printf("%s %s (node id %016" PRIx64 ")\n",
           keep_keys ? "new empty store in" : "initialised", dir, node_id);
    return cs_cli_flush_stdout(S_CMD);
}
