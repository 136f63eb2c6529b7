/*  cmd_digest - crmsync digest: print the store digest (and its buckets).
 *  SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <sodium.h>

#include "tools/tools_private.h"

#define S_CMD "digest"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync digest [--data DIR] [--buckets]\n"
          "\n"
          "Print the store digest (BLAKE2b-256 over the replicated state of\n"
          "every record) as one line of 64 lowercase hex digits. Two nodes\n"
          "holding the same data print the same digest.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -b, --buckets    also print the 256 bucket digests, one\n"
          "                   \"NN HEX\" line each (NN: bucket in hex)\n"
          "  -h, --help       show this help and exit\n",
          out);
}

int
cs_cmd_digest(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "buckets", no_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    bool with_buckets = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:bh", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'b':
            with_buckets = true;
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

    static uint8_t buckets[CS_STORE_DIGEST_BUCKETS][CS_STORE_DIGEST_BYTES];
    uint8_t digest[CS_STORE_DIGEST_BYTES];
    char hex[CS_STORE_DIGEST_BYTES * 2 + 1];
    cs_store_t *store = NULL;
    const char *dir = NULL;
    int exit_code = cs_cli_open_store(S_CMD, data, true, &store, &dir);
    if (exit_code != CS_CLI_EXIT_OK) {
        return exit_code;
    }
    int rc = cs_store_digest(store, digest, with_buckets ? buckets : NULL);
    if (rc != CS_OK) {
        cs_cli_error(S_CMD, dir, rc);
        exit_code = CS_CLI_EXIT_FAIL;
        goto out_destroy;
    }
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    printf("%s\n", hex);
    for (size_t i = 0; with_buckets && i < CS_STORE_DIGEST_BUCKETS; i++) {
        sodium_bin2hex(hex, sizeof hex, buckets[i], sizeof buckets[i]);
        printf("%02zx %s\n", i, hex);
    }
    exit_code = cs_cli_flush_stdout(S_CMD);
out_destroy:
    cs_store_destroy(&store);
    return exit_code;
}
