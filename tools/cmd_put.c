/*  cmd_put - crmsync put: set fields of one record, in one write.
 *  SPDX-License-Identifier: MIT
 *
 *  Each FIELD=VALUE stores VALUE as a string; FIELD:=JSON stores the JSON
 *  scalar (integer, float, true/false, null, "string", or
 *  {"$binary":"<base64>"}); FIELD@=FILE stores the contents of FILE as a
 *  string, since Linux caps one argument at 128 KiB (MAX_ARG_STRLEN) and a
 *  value may be up to 1 MiB. Every argument is checked before the store is
 *  opened, so a bad one writes nothing and leaves the store untouched.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/cs_record.h"
#include "crdt/cs_value.h"
#include "tools/cs_json.h"
#include "tools/tools_private.h"

#define S_CMD "put"

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync put [--data DIR] [-v] COLLECTION ID FIELD=VALUE...\n"
          "\n"
          "Set the given fields of record ID in COLLECTION, creating the\n"
          "record if needed (or reviving it if deleted). All fields are\n"
          "written in one transaction with one stamp. Prints nothing on\n"
          "success.\n"
          "\n"
          "  FIELD=VALUE   store VALUE as a string (may be empty)\n"
          "  FIELD:=JSON   store a typed JSON scalar: 42 (integer), 1.5 or\n"
          "                1e3 (float), true, false, null, \"text\" (string,\n"
          "                with escapes), or {\"$binary\":\"BASE64\"}\n"
          "  FIELD@=FILE   store the contents of FILE (UTF-8) as a string;\n"
          "                '-' reads standard input\n"
          "\n"
          "The field name is everything before the first '=' (without a\n"
          "':' or '@' right before it).\n"
          "Naming a field twice is an error. Limits: collection 64 bytes,\n"
          "id 256 bytes, field name 128 bytes, value 1 MiB, 1024 fields.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR   the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -v, --verbose    print the write's stamp: HLC, UTC time, "
          "counter\n"
          "  -h, --help       show this help and exit\n",
          out);
}

/*  One parsed FIELD=VALUE argument. */
typedef struct {
    char *name;    /* owned, NUL-terminated */
    char *storage; /* owned bytes a typed string/binary value points into */
} s_field_buf_t;

/*  Read FILE ("-": stdin) for FIELD@=FILE into *@p out (caller frees).
 *  @return CS_CLI_EXIT_OK or CS_CLI_EXIT_USAGE after a message. */
static int
s_read_value_file(const char *name, const char *path, char **out,
                  size_t *out_len)
{
    static bool stdin_used = false;
    char shown[CS_CLI_SHORT_MAX];
    bool use_stdin = strcmp(path, "-") == 0;
    if (use_stdin && stdin_used) {
        return cs_cli_usage_error(S_CMD,
                                  "field '%s': standard input is "
                                  "already used by another field",
                                  name);
    }
    FILE *in = use_stdin ? stdin : fopen(path, "rb");
    if (!in) {
        return cs_cli_usage_error(S_CMD, "field '%s': %s: %s", name,
                                  cs_cli_shorten(path, shown, sizeof shown),
                                  strerror(errno));
    }
    stdin_used = stdin_used || use_stdin;
    /* one byte more than the limit tells "too long" from "just fits" */
    char *buf = malloc((size_t) CS_VALUE_MAX + 1);
    if (!buf) {
        abort();
    }
    size_t len = fread(buf, 1, (size_t) CS_VALUE_MAX + 1, in);
    bool failed = ferror(in) != 0;
    int saved_errno = errno;
    if (!use_stdin) {
        fclose(in);
    }
    if (failed) {
        free(buf);
        return cs_cli_usage_error(S_CMD, "field '%s': %s: %s", name,
                                  cs_cli_shorten(path, shown, sizeof shown),
                                  strerror(saved_errno));
    }
    if (len > (size_t) CS_VALUE_MAX) {
        free(buf);
        return cs_cli_usage_error(
            S_CMD,
            "field '%s': %s holds more than "
            "%u bytes, the limit of a value",
            name, cs_cli_shorten(path, shown, sizeof shown), CS_VALUE_MAX);
    }
    *out = buf;
    *out_len = len;
    return CS_CLI_EXIT_OK;
}

/*  Parse argument @p arg into @p field (name and value) and @p buf.
 *  @return CS_CLI_EXIT_OK or CS_CLI_EXIT_USAGE after a message. */
static int
s_parse_field(const char *arg, cs_store_field_t *field, s_field_buf_t *buf)
{
    char shown[CS_CLI_SHORT_MAX];
    char err[256];
    const char *eq = strchr(arg, '=');
    if (!eq) {
        return cs_cli_usage_error(S_CMD,
                                  "argument '%s': missing '=' "
                                  "(expected FIELD=VALUE or FIELD:=JSON)",
                                  cs_cli_shorten(arg, shown, sizeof shown));
    }
    bool typed = eq > arg && eq[-1] == ':';
    bool from_file = eq > arg && eq[-1] == '@';
    size_t name_len = (size_t) (eq - arg) - (typed || from_file ? 1 : 0);
    if (name_len == 0) {
        return cs_cli_usage_error(S_CMD, "argument '%s': empty field name",
                                  cs_cli_shorten(arg, shown, sizeof shown));
    }
    buf->name = strndup(arg, name_len);
    if (!buf->name) {
        abort();
    }
    const char *name = cs_cli_shorten(buf->name, shown, sizeof shown);
    if (name_len > CS_FIELD_NAME_MAX) {
        return cs_cli_usage_error(S_CMD,
                                  "field name '%s' is %zu bytes, the "
                                  "limit is %u",
                                  name, name_len, CS_FIELD_NAME_MAX);
    }
    if (!cs_utf8_is_valid(buf->name, name_len)) {
        return cs_cli_usage_error(S_CMD, "field name '%s' is not valid UTF-8",
                                  name);
    }
    if (!cs_record_field_name_is_valid(buf->name, name_len)) {
        return cs_cli_usage_error(S_CMD, "'%s' is not a valid field name",
                                  name);
    }
    field->name = buf->name;

    const char *text = eq + 1;
    size_t text_len = strlen(text);
    if (from_file) {
        int exit_code = s_read_value_file(name, text, &buf->storage, &text_len);
        if (exit_code != CS_CLI_EXIT_OK) {
            return exit_code;
        }
        text = buf->storage;
    }
    if (typed) {
        int rc = cs_json_parse_scalar(text, text_len, &field->value,
                                      &buf->storage, err, sizeof err);
        if (rc != CS_OK) {
            return cs_cli_usage_error(S_CMD,
                                      "field '%s': bad JSON value: "
                                      "%s",
                                      name, err);
        }
    } else {
        if (text_len > (size_t) CS_VALUE_MAX) {
            return cs_cli_usage_error(S_CMD,
                                      "field '%s': value is %zu "
                                      "bytes, the limit is %u",
                                      name, text_len, CS_VALUE_MAX);
        }
        if (!cs_utf8_is_valid(text, text_len)) {
            return cs_cli_usage_error(S_CMD,
                                      "field '%s': value is not "
                                      "valid UTF-8 (use FIELD:={\"$binary\":"
                                      "\"BASE64\"} for bytes)",
                                      name);
        }
        field->value = cs_value_strn(text, text_len);
    }
    if (!cs_value_is_valid(&field->value)) {
        return cs_cli_usage_error(S_CMD,
                                  "field '%s': value breaks the "
                                  "limits",
                                  name);
    }
    return CS_CLI_EXIT_OK;
}

/*  Two arguments naming one field would make the result depend on which
 *  wins, so that is an error rather than "last wins". */
static int
s_check_duplicates(const cs_store_field_t *fields, size_t n)
{
    char shown[CS_CLI_SHORT_MAX];
    for (size_t i = 1; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fields[i].name, fields[j].name) == 0) {
                return cs_cli_usage_error(
                    S_CMD, "field '%s' is given more than once (ambiguous)",
                    cs_cli_shorten(fields[i].name, shown, sizeof shown));
            }
        }
    }
    return CS_CLI_EXIT_OK;
}

int
cs_cmd_put(int argc, char **argv)
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
    if (!cs_cli_record_key(S_CMD, argc, argv, true,
                           "COLLECTION ID FIELD=VALUE...", &collection, &id)) {
        return CS_CLI_EXIT_USAGE;
    }
    size_t n = (size_t) (argc - optind - 2);
    if (n > CS_RECORD_FIELDS_MAX) {
        return cs_cli_usage_error(S_CMD,
                                  "%zu fields, the limit is %u per "
                                  "record",
                                  n, CS_RECORD_FIELDS_MAX);
    }
    /* before the fields, so that no field file (or stdin) is read when
     * there is no data directory */
    const char *dir = cs_cli_data_dir(S_CMD, data);
    if (!dir) {
        return CS_CLI_EXIT_USAGE;
    }

    cs_store_t *store = NULL;
    cs_store_field_t *fields = calloc(n, sizeof *fields);
    s_field_buf_t *bufs = calloc(n, sizeof *bufs);
    if (!fields || !bufs) {
        abort();
    }
    int exit_code = CS_CLI_EXIT_OK;
    for (size_t i = 0; i < n && exit_code == CS_CLI_EXIT_OK; i++) {
        exit_code =
            s_parse_field(argv[optind + 2 + (int) i], &fields[i], &bufs[i]);
    }
    if (exit_code == CS_CLI_EXIT_OK) {
        exit_code = s_check_duplicates(fields, n);
    }
    if (exit_code != CS_CLI_EXIT_OK) {
        goto out_free;
    }
    exit_code = cs_cli_open_store(S_CMD, dir, false, &store, NULL);
    if (exit_code != CS_CLI_EXIT_OK) {
        goto out_free;
    }
    cs_hlc_t hlc = 0;
    int rc = cs_store_set(store, collection, id, fields, n, &hlc);
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
out_free:
    for (size_t i = 0; i < n; i++) {
        free(bufs[i].name);
        free(bufs[i].storage);
    }
    free(bufs);
    free(fields);
    return exit_code;
}
