/*  cs_cli - what the crmsync subcommands share: messages, the data
 *  directory, opening the store, and output files that appear atomically.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crdt/cs_record.h"
#include "crdt/cs_value.h"
#include "net/cs_keys.h"
#include "node/cs_datadir.h"
#include "tools/tools_private.h"

/* ---------------- messages ---------------- */

void
cs_cli_error(const char *cmd, const char *what, int code)
{
    fprintf(stderr, "crmsync: %s: %s: %s\n", cmd, what, cs_strerror(code));
}

void
cs_cli_errorf(const char *cmd, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "crmsync: %s: ", cmd);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

int
cs_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "crmsync: %s: ", cmd);
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\nTry 'crmsync %s --help' for more information.\n", cmd);
    va_end(args);
    return CS_CLI_EXIT_USAGE;
}

int
cs_cli_getopt_error(const char *cmd, char **argv, int opt)
{
    /* glibc leaves the offending element just before optind */
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (opt == ':') {
        return cs_cli_usage_error(cmd, "option '%s' needs a value", arg);
    }
    if (optopt != 0) {
        return cs_cli_usage_error(cmd, "unknown option '-%c'", optopt);
    }
    return cs_cli_usage_error(cmd, "unknown option '%s'", arg);
}

const char *
cs_cli_shorten(const char *s, char *buf, size_t cap)
{
    assert(s);
    assert(cap >= 8);
    const size_t keep = cap - 4 < 40 ? cap - 4 : 40;
    size_t len = strlen(s);
    size_t n = len <= keep ? len : keep;
    if (n < len) {
        /* back up to the start of a UTF-8 sequence */
        while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        buf[i] = s[i];
        if (c < 0x20 || c == 0x7F) {
            buf[i] = '?';
        }
    }
    if (n < len) {
        memcpy(buf + n, "...", 4);
    } else {
        buf[n] = '\0';
    }
    return buf;
}

/* ---------------- arguments ---------------- */

const char *
cs_cli_data_dir(const char *cmd, const char *opt_value)
{
    if (opt_value) {
        if (opt_value[0] == '\0') {
            cs_cli_usage_error(cmd, "--data needs a directory");
            return NULL;
        }
        return opt_value;
    }
    const char *env = getenv(CS_CLI_DATA_ENV);
    if (env && env[0] != '\0') {
        return env;
    }
    cs_cli_usage_error(
        cmd, "no data directory: give --data DIR or set " CS_CLI_DATA_ENV);
    return NULL;
}

static bool
s_check_key_part(const char *cmd, const char *label, const char *s, size_t max,
                 bool (*is_valid)(const char *, size_t))
{
    char shown[CS_CLI_SHORT_MAX];
    size_t len = strlen(s);
    if (len == 0) {
        cs_cli_usage_error(cmd, "the %s must not be empty", label);
        return false;
    }
    if (len > max) {
        cs_cli_usage_error(cmd, "%s '%s' is %zu bytes, the limit is %zu", label,
                           cs_cli_shorten(s, shown, sizeof shown), len, max);
        return false;
    }
    if (!cs_utf8_is_valid(s, len)) {
        cs_cli_usage_error(cmd, "%s '%s' is not valid UTF-8", label,
                           cs_cli_shorten(s, shown, sizeof shown));
        return false;
    }
    if (!is_valid(s, len)) {
        cs_cli_usage_error(cmd, "%s '%s' is not a valid %s", label,
                           cs_cli_shorten(s, shown, sizeof shown), label);
        return false;
    }
    return true;
}

bool
cs_cli_check_collection(const char *cmd, const char *collection)
{
    return s_check_key_part(cmd, "collection", collection, CS_COLLECTION_MAX,
                            cs_record_collection_is_valid);
}

bool
cs_cli_check_id(const char *cmd, const char *id)
{
    return s_check_key_part(cmd, "id", id, CS_ID_MAX, cs_record_id_is_valid);
}

bool
cs_cli_record_key(const char *cmd, int argc, char **argv, bool more,
                  const char *expected, const char **collection,
                  const char **id)
{
    int count = argc - optind;
    int least = more ? 3 : 2;
    if (count < least || (!more && count > least)) {
        cs_cli_usage_error(cmd, "%s (expected %s)",
                           count < least ? "missing arguments"
                                         : "too many arguments",
                           expected);
        return false;
    }
    *collection = argv[optind];
    *id = argv[optind + 1];
    return cs_cli_check_collection(cmd, *collection) &&
           cs_cli_check_id(cmd, *id);
}

bool
cs_cli_parse_count(const char *s, uint64_t *count)
{
    uint64_t n = 0;
    if (s[0] == '\0') {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        uint64_t digit = (uint64_t) (*p - '0');
        if (n > (UINT64_MAX - digit) / 10) {
            return false;
        }
        n = n * 10 + digit;
    }
    *count = n;
    return true;
}

/* ---------------- store ---------------- */

int
cs_cli_open_store(const char *cmd, const char *data, bool read_only,
                  cs_store_t **store, const char **dir)
{
    const char *path = cs_cli_data_dir(cmd, data);
    if (!path) {
        return CS_CLI_EXIT_USAGE;
    }
    if (dir) {
        *dir = path;
    }
    cs_store_opts_t opts = { .read_only = read_only };
    int rc = cs_datadir_open(path, &opts, store);
    if (rc == CS_OK) {
        return CS_CLI_EXIT_OK;
    }
    if (rc == CS_ENOENT && cs_keys_load(path, NULL, NULL) == CS_OK) {
        /* init would refuse (the keys exist), so do not suggest it */
        cs_cli_errorf(cmd,
                      "%s: holds the node's keys but no store "
                      "(data.mdb is missing): restore it from a backup",
                      path);
        return CS_CLI_EXIT_FAIL;
    }
    if (rc == CS_ENOENT) {
        cs_cli_errorf(cmd, "%s: not an initialised crmsync data directory",
                      path);
        fprintf(stderr, "Run 'crmsync init --data %s' to create one.\n", path);
        return CS_CLI_EXIT_FAIL;
    }
    cs_cli_error(cmd, path, rc);
    return CS_CLI_EXIT_FAIL;
}

int
cs_cli_record_error(const char *cmd, const char *collection, const char *id,
                    int code)
{
    char what[CS_COLLECTION_MAX + CS_ID_MAX + 2];
    snprintf(what, sizeof what, "%s/%s", collection, id);
    cs_cli_error(cmd, what, code);
    return CS_CLI_EXIT_FAIL;
}

void
cs_cli_print_stamp(FILE *out, cs_hlc_t hlc)
{
    uint64_t wall = cs_hlc_wall(hlc);
    time_t seconds = (time_t) (wall / 1000);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&seconds, &tm)) {
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    }
    fprintf(out, "%" PRIu64 " %s.%03uZ %u\n", hlc, when,
            (unsigned) (wall % 1000), (unsigned) cs_hlc_logical(hlc));
}

/* ---------------- output ---------------- */

/*  The temporary file of the output in progress, removed if a signal ends
 *  the process before the rename (unlink and raise are async-signal-safe).
 *  Empty when there is none. */
static char s_pending_tmp[PATH_MAX];

static void
s_on_fatal_signal(int sig)
{
    if (s_pending_tmp[0] != '\0') {
        unlink(s_pending_tmp);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int s_fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
#define S_FATAL_SIGNALS (sizeof s_fatal_signals / sizeof s_fatal_signals[0])

/*  Block the fatal signals, so none can end the process between the
 *  creation of the temporary file and s_guard_tmp; @p old receives the
 *  mask to restore. */
static void
s_block_fatal_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < S_FATAL_SIGNALS; i++) {
        sigaddset(&set, s_fatal_signals[i]);
    }
    sigprocmask(SIG_BLOCK, &set, old);
}

static void
s_guard_tmp(const char *tmp)
{
    if (strlen(tmp) >= sizeof s_pending_tmp) {
        return; /* cannot happen: mkstemp would have failed */
    }
    strcpy(s_pending_tmp, tmp);
    for (size_t i = 0; i < S_FATAL_SIGNALS; i++) {
        struct sigaction action;
        if (sigaction(s_fatal_signals[i], NULL, &action) == 0 &&
            action.sa_handler == SIG_IGN) {
            continue; /* keep what the parent chose to ignore */
        }
        memset(&action, 0, sizeof action);
        action.sa_handler = s_on_fatal_signal;
        sigemptyset(&action.sa_mask);
        sigaction(s_fatal_signals[i], &action, NULL);
    }
}

static void
s_unguard_tmp(void)
{
    s_pending_tmp[0] = '\0';
}

int
cs_cli_output_open(const char *cmd, const char *path, cs_cli_output_t *out)
{
    assert(out);
    memset(out, 0, sizeof *out);
    if (!path || strcmp(path, "-") == 0) {
        out->stream = stdout;
        return CS_CLI_EXIT_OK;
    }
    /* The temporary file goes next to the target, so rename() is atomic. */
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t) (slash - path) + 1 : 0;
    size_t tmp_cap = strlen(path) + sizeof "/.tmp.XXXXXX" + 1;
    out->tmp = malloc(tmp_cap);
    out->path = strdup(path);
    if (!out->tmp || !out->path) {
        abort();
    }
    snprintf(out->tmp, tmp_cap, "%.*s.%s.XXXXXX", (int) dir_len, path,
             path + dir_len);
    /* A signal that arrives before the guard is set waits until it is, so
     * the handler removes the file instead of leaving it behind. */
    sigset_t old_mask;
    s_block_fatal_signals(&old_mask);
    int fd = mkstemp(out->tmp);
    if (fd >= 0) {
        s_guard_tmp(out->tmp);
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (fd < 0) {
        cs_cli_errorf(cmd, "%s: %s", path, strerror(errno));
        goto out_fail;
    }
    /* mkstemp makes 0600; give the file the mode open() would have */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        cs_cli_errorf(cmd, "%s: %s", out->tmp, strerror(errno));
        close(fd);
        goto out_unlink;
    }
    out->stream = fdopen(fd, "w");
    if (!out->stream) {
        cs_cli_errorf(cmd, "%s: %s", out->tmp, strerror(errno));
        close(fd);
        goto out_unlink;
    }
    return CS_CLI_EXIT_OK;
out_unlink:
    unlink(out->tmp);
    s_unguard_tmp();
out_fail:
    free(out->tmp);
    free(out->path);
    memset(out, 0, sizeof *out);
    return CS_CLI_EXIT_FAIL;
}

static void
s_output_free(cs_cli_output_t *out)
{
    free(out->tmp);
    free(out->path);
    memset(out, 0, sizeof *out);
}

int
cs_cli_output_commit(const char *cmd, cs_cli_output_t *out)
{
    assert(out);
    if (!out->tmp) {
        return cs_cli_flush_stdout(cmd);
    }
    FILE *stream = out->stream;
    out->stream = NULL;
    if (fflush(stream) != 0 || ferror(stream)) {
        cs_cli_errorf(cmd, "%s: write error: %s", out->path, strerror(errno));
        fclose(stream);
        goto out_unlink;
    }
    if (fsync(fileno(stream)) != 0) {
        cs_cli_errorf(cmd, "%s: %s", out->path, strerror(errno));
        fclose(stream);
        goto out_unlink;
    }
    if (fclose(stream) != 0) {
        cs_cli_errorf(cmd, "%s: %s", out->path, strerror(errno));
        goto out_unlink;
    }
    if (rename(out->tmp, out->path) != 0) {
        cs_cli_errorf(cmd, "%s: %s", out->path, strerror(errno));
        goto out_unlink;
    }
    s_unguard_tmp();
    s_output_free(out);
    return CS_CLI_EXIT_OK;
out_unlink:
    unlink(out->tmp);
    s_unguard_tmp();
    s_output_free(out);
    return CS_CLI_EXIT_FAIL;
}

void
cs_cli_output_abort(cs_cli_output_t *out)
{
    assert(out);
    if (out->tmp) {
        if (out->stream) {
            fclose(out->stream);
        }
        unlink(out->tmp);
        s_unguard_tmp();
    }
    s_output_free(out);
}

int
cs_cli_flush_stdout(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cs_cli_errorf(cmd, "standard output: write error: %s", strerror(errno));
        return CS_CLI_EXIT_FAIL;
    }
    return CS_CLI_EXIT_OK;
}
