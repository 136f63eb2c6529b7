/*  crmsync - the command-line tool: dispatch to one file per subcommand.
 *  SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "tools/tools_private.h"

#ifndef CS_VERSION
#error "CS_VERSION must be defined by the build (PROJECT_VERSION)"
#endif

typedef struct {
    const char *name;    /* what the user types */
    cs_cli_cmd_fn *run;  /* entry point */
    const char *summary; /* one line for crmsync --help */
} s_command_t;

static const s_command_t s_commands[] = {
    { "init", cs_cmd_init, "create a node's data directory (keys, store)" },
    { "pubkey", cs_cmd_pubkey, "print the node's public key (for peers)" },
    { "put", cs_cmd_put, "set fields of a record" },
    { "get", cs_cmd_get, "print a record's visible fields as JSON" },
    { "del", cs_cmd_del, "delete a record" },
    { "scan", cs_cmd_scan, "print a collection's records as JSON Lines" },
    { "export", cs_cmd_export, "export records as JSON Lines or CSV" },
    { "digest", cs_cmd_digest, "print the store digest" },
    { "seed", cs_cmd_seed, "load a legacy export (CSV, JSON Lines)" },
    { "sniff", cs_cmd_sniff, "show how seed reads a file, before a run" },
    { "node", cs_cmd_node, "run a node: sync with its peers (foreground)" },
    { "status", cs_cmd_status, "show a node, its peers and how far behind" },
};

#define S_COMMAND_COUNT (sizeof s_commands / sizeof s_commands[0])

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync COMMAND [OPTION]... [ARG]...\n"
          "       crmsync help [COMMAND] | --help | --version\n"
          "\n"
          "Peer-to-peer replication node for CRM data.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) {
        fprintf(out, "  %-8s %s\n", s_commands[i].name, s_commands[i].summary);
    }
    fputs("\n"
          "Every command takes --data DIR (or the environment "
          "variable " CS_CLI_DATA_ENV ")\n"
          "and --help. Exit status: 0 ok, 1 error or not found, 2 rows\n"
          "rejected (seed), 64 usage error.\n"
          "See crmsync(1) for details.\n",
          out);
}

static const s_command_t *
s_find(const char *name)
{
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) {
        if (strcmp(s_commands[i].name, name) == 0) {
            return &s_commands[i];
        }
    }
    return NULL;
}

static int
s_unknown(const char *name)
{
    fprintf(stderr,
            "crmsync: unknown command '%s'\n"
            "Try 'crmsync --help' for the list of commands.\n",
            name);
    return CS_CLI_EXIT_USAGE;
}

/*  crmsync help [COMMAND] */
static int
s_help(int argc, char **argv)
{
    if (argc < 3) {
        s_usage(stdout);
        return cs_cli_flush_stdout("help");
    }
    if (argc > 3) {
        fprintf(stderr, "crmsync: help: too many arguments\n"
                        "Try 'crmsync --help'.\n");
        return CS_CLI_EXIT_USAGE;
    }
    if (strcmp(argv[2], "help") == 0) {
        s_usage(stdout);
        return cs_cli_flush_stdout("help");
    }
    const s_command_t *command = s_find(argv[2]);
    if (!command) {
        return s_unknown(argv[2]);
    }
    static char help_option[] = "--help";
    char *help_argv[] = { argv[2], help_option, NULL };
    return command->run(2, help_argv);
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fputs("crmsync: libsodium failed to initialise\n", stderr);
        return CS_CLI_EXIT_FAIL;
    }
    if (argc < 2) {
        s_usage(stderr);
        return CS_CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        s_usage(stdout);
        return cs_cli_flush_stdout("help");
    }
    if (strcmp(name, "--version") == 0) {
        printf("crmsync %s\n", CS_VERSION);
        return cs_cli_flush_stdout("version");
    }
    if (strcmp(name, "help") == 0) {
        return s_help(argc, argv);
    }
    const s_command_t *command = s_find(name);
    if (!command) {
        if (name[0] == '-') {
            fprintf(stderr,
                    "crmsync: a command must come first, not the "
                    "option '%s'\nTry 'crmsync --help'.\n",
                    name);
            return CS_CLI_EXIT_USAGE;
        }
        return s_unknown(name);
    }
    return command->run(argc - 1, argv + 1);
}
