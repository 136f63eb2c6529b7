/*  tools_private - declarations shared by the files of the crmsync CLI.
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. Every subcommand is one file (cmd_<name>.c)
 *  with one entry point cs_cmd_<name>(argc, argv), where argv[0] is the
 *  subcommand's name. It returns the process exit status: CS_CLI_EXIT_OK,
 *  CS_CLI_EXIT_FAIL (runtime error, or the record is not there),
 *  CS_CLI_EXIT_USAGE (bad command line), or for seed CS_CLI_EXIT_REJECTS
 *  (some rows rejected) and 130 (interrupted). cs_cli.c holds the helpers they
 *  share: messages, the data directory, opening the store, output files.
 */
#ifndef CS_TOOLS_PRIVATE_H
#define CS_TOOLS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#include "crdt/cs_err.h"
#include "crdt/cs_hlc.h"
#include "storage/cs_store.h"

#define CS_CLI_EXIT_OK      0
#define CS_CLI_EXIT_FAIL    1
#define CS_CLI_EXIT_USAGE   EX_USAGE /* 64 */
#define CS_CLI_EXIT_REJECTS 2        /* seed: some rows were rejected */

/** Environment variable naming the data directory when --data is absent. */
#define CS_CLI_DATA_ENV "CRMSYNC_DATA"

#define CS_CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* ---------------- subcommands ---------------- */

typedef int(cs_cli_cmd_fn)(int argc, char **argv);

int cs_cmd_init(int argc, char **argv);
int cs_cmd_put(int argc, char **argv);
int cs_cmd_get(int argc, char **argv);
int cs_cmd_del(int argc, char **argv);
int cs_cmd_scan(int argc, char **argv);
int cs_cmd_export(int argc, char **argv);
int cs_cmd_digest(int argc, char **argv);
int cs_cmd_pubkey(int argc, char **argv);
int cs_cmd_seed(int argc, char **argv);
int cs_cmd_sniff(int argc, char **argv);
int cs_cmd_node(int argc, char **argv);
int cs_cmd_status(int argc, char **argv);

/* ---------------- messages ---------------- */

/** "crmsync: <cmd>: <what>: <cs_strerror(code)>" on stderr. */
void cs_cli_error(const char *cmd, const char *what, int code);

/** "crmsync: <cmd>: <printf message>" on stderr. */
void cs_cli_errorf(const char *cmd, const char *fmt, ...) CS_CLI_PRINTF(2, 3);

/** "crmsync: <cmd>: <printf message>" and the hint "Try 'crmsync <cmd>
 *  --help'." on stderr. @return CS_CLI_EXIT_USAGE. */
int cs_cli_usage_error(const char *cmd, const char *fmt, ...)
    CS_CLI_PRINTF(2, 3);

/** Report the getopt_long result @p opt ('?' or ':') for @p argv, as a usage
 *  error. Needs the optstring to begin with ':'. @return CS_CLI_EXIT_USAGE. */
int cs_cli_getopt_error(const char *cmd, char **argv, int opt);

/** Write a printable, shortened copy of @p s (at most about 40 bytes, cut
 *  on a UTF-8 boundary, control characters shown as '?', "..." appended
 *  when cut) into @p buf. @return @p buf. */
const char *cs_cli_shorten(const char *s, char *buf, size_t cap);
#define CS_CLI_SHORT_MAX 64u /* a good @p cap for cs_cli_shorten */

/* ---------------- arguments ---------------- */

/** The data directory: @p opt_value (from --data) if not NULL, else the
 *  non-empty environment variable CRMSYNC_DATA, else NULL after printing a
 *  usage error for @p cmd. */
const char *cs_cli_data_dir(const char *cmd, const char *opt_value);

/** Check a collection name or record id given on the command line: not
 *  empty, within CS_COLLECTION_MAX or CS_ID_MAX bytes, valid UTF-8.
 *  @return true if fine; false after a usage error on stderr. */
bool cs_cli_check_collection(const char *cmd, const char *collection);
bool cs_cli_check_id(const char *cmd, const char *id);

/** Take the COLLECTION and ID arguments at argv[optind] and check them
 *  with cs_cli_check_collection and cs_cli_check_id. Exactly two arguments
 *  must be left, or, if @p more, at least three (the key and what follows).
 *  @p expected names them for the usage error, e.g. "COLLECTION ID".
 *  @return true with *@p collection and *@p id pointing into @p argv;
 *  false after a usage error on stderr. */
bool cs_cli_record_key(const char *cmd, int argc, char **argv, bool more,
                       const char *expected, const char **collection,
                       const char **id);

/** Parse a non-negative decimal count (digits only). @return true if
 *  @p s is one and fits in uint64_t. */
bool cs_cli_parse_count(const char *s, uint64_t *count);

/* ---------------- store ---------------- */

/** Open the store of the data directory for @p cmd, read-only if
 *  @p read_only. The directory comes from cs_cli_data_dir(@p cmd, @p data),
 *  so @p data is the --data value (NULL if absent) or a directory that
 *  cs_cli_data_dir already returned. If @p dir is not NULL, *@p dir is set
 *  to the directory (borrowed, like the result of cs_cli_data_dir). On
 *  failure the message (with the hint to run crmsync init if the directory
 *  is not a data directory) is on stderr.
 *  @return CS_CLI_EXIT_OK with *@p store set; CS_CLI_EXIT_USAGE if there is
 *  no data directory; CS_CLI_EXIT_FAIL. */
int cs_cli_open_store(const char *cmd, const char *data, bool read_only,
                      cs_store_t **store, const char **dir);

/** "crmsync: <cmd>: <collection>/<id>: <cs_strerror(code)>" on stderr.
 *  @return CS_CLI_EXIT_FAIL. */
int cs_cli_record_error(const char *cmd, const char *collection, const char *id,
                        int code);

/** Print a write stamp as "<hlc> <UTC wall time, ms> <logical>" to
 *  @p out, e.g. "112233445566778899 2024-06-10T12:34:56.789Z 3". */
void cs_cli_print_stamp(FILE *out, cs_hlc_t hlc);

/* ---------------- output ---------------- */

/** An output stream: stdout, or a temporary file next to the target that
 *  replaces the target only when cs_cli_output_commit succeeds. */
typedef struct {
    FILE *stream; /* where to write */
    char *path;   /* target file; NULL for stdout */
    char *tmp;    /* the temporary file; NULL for stdout */
} cs_cli_output_t;

/** Open @p path ("-" or NULL: stdout) for @p cmd. @return CS_CLI_EXIT_OK
 *  or CS_CLI_EXIT_FAIL after a message. */
int cs_cli_output_open(const char *cmd, const char *path, cs_cli_output_t *out);

/** Flush, sync and move the output into place (stdout: flush and check
 *  for write errors). @return CS_CLI_EXIT_OK or CS_CLI_EXIT_FAIL after a
 *  message; on failure the target is left as it was. Closes @p out either
 *  way. */
int cs_cli_output_commit(const char *cmd, cs_cli_output_t *out);

/** Drop the output: remove the temporary file. Safe after commit. */
void cs_cli_output_abort(cs_cli_output_t *out);

/** Flush stdout and report a write error for @p cmd.
 *  @return CS_CLI_EXIT_OK or CS_CLI_EXIT_FAIL. */
int cs_cli_flush_stdout(const char *cmd);

#endif /* CS_TOOLS_PRIVATE_H */
