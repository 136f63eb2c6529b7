/*  cmd_pubkey - crmsync pubkey: print the node's public key (or node id),
 *  for the peers' config files.
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "net/cs_keys.h"
#include "tools/tools_private.h"

#define S_CMD "pubkey"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync pubkey [--data DIR] [--node-id]\n"
          "\n"
          "Print the node's CURVE public key: one line of 40 Z85 characters,\n"
          "to give as public_key in the peers section of the other nodes'\n"
          "config files (quote it there: Z85 may contain '#'). The secret key\n"
          "is checked (present, not zero, matching) and never printed.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -n, --node-id    print the node id (16 hex digits) instead\n"
          "  -h, --help       show this help and exit\n",
          out);
}

int
cs_cmd_pubkey(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "node-id", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    bool node_id_only = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:nh", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'n':
            node_id_only = true;
            break;
        case 'h':
            s_usage(stdout);
            return cs_cli_flush_stdout(S_CMD);
        default:
            return cs_cli_getopt_error(S_CMD, argv, opt);
        }
    }
    if (optind < argc) {
        return cs_cli_usage_error(S_CMD, "unexpected argument '%s'",
                                  argv[optind]);
    }
    const char *dir = cs_cli_data_dir(S_CMD, data);
    if (!dir) {
        return CS_CLI_EXIT_USAGE;
    }
    char public_z85[CS_KEYS_Z85_LEN + 1];
    uint64_t node_id = 0;
    int rc = cs_keys_load(dir, public_z85, &node_id);
    if (rc == CS_ENOENT) {
        cs_cli_errorf(S_CMD, "%s: not an initialised crmsync data directory",
                      dir);
        fprintf(stderr, "Run 'crmsync init --data %s' to create one.\n", dir);
        return CS_CLI_EXIT_FAIL;
    }
    if (rc == CS_EAUTH) {
        /* cs_keys_load has said which file and what is wrong with it */
        cs_cli_errorf(S_CMD,
                      "%s: the node's secret key is missing, zero or does "
                      "not match its public key: restore " CS_KEYS_CERT_FILE
                      "_secret from a backup",
                      dir);
        return CS_CLI_EXIT_FAIL;
    }
    if (rc != CS_OK) {
        cs_cli_error(S_CMD, dir, rc);
        return CS_CLI_EXIT_FAIL;
    }
    if (node_id_only) {
        printf("%016" PRIx64 "\n", node_id);
    } else {
        printf("%s\n", public_z85);
    }
    return cs_cli_flush_stdout(S_CMD);
}
