/*  cmd_status - crmsync status: what a node is doing, from the node itself
 *  while it runs (its status socket), else from its data directory.
 *  SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <czmq.h>

#include "net/cs_keys.h"
#include "node/cs_node.h"
#include "tools/cs_json.h"
#include "tools/tools_private.h"

#define S_CMD        "status"
#define S_TIMEOUT_MS 2000

static void
s_usage(FILE *out)
{
    fputs("Usage: crmsync status [--data DIR] [--json] [--timeout MS]\n"
          "\n"
          "Show a node: its id, public key, records and feed head, and for\n"
          "each peer whether it is connected, when it was last heard from,\n"
          "our cursor on it and how far behind it we are, bytes and changes\n"
          "in and out, and messages rejected, stale, timestamps skewed\n"
          "beyond the max drift, records refused over a limit. The running\n"
          "node answers on DIR/" CS_NODE_STATUS_IPC "; when none answers,\n"
          "what the data directory holds is shown, with running: false, and\n"
          "unresponsive: true if a node holds the directory's lock all the\n"
          "same (starting up, busy or stuck).\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR     the data directory (default: $" CS_CLI_DATA_ENV
          ")\n"
          "  -j, --json         one JSON object, for scripts\n"
          "  -t, --timeout MS   wait this long for the node (default 2000)\n"
          "  -h, --help         show this help and exit\n",
          out);
}

/* Ask the node on DIR for its status text (ZPL). NULL if none answers. */
static zconfig_t *
s_ask(const char *dir, uint64_t timeout_ms)
{
    zsock_t *req = zsock_new(ZMQ_REQ);
    if (!req) {
        return NULL;
    }
    zsock_set_linger(req, 0);
    zsock_set_rcvtimeo(req, (int) timeout_ms);
    zsock_set_sndtimeo(req, (int) timeout_ms);
    zconfig_t *status = NULL;
    if (zsock_connect(req, "ipc://%s/%s", dir, CS_NODE_STATUS_IPC) == 0 &&
        zstr_send(req, CS_NODE_STATUS_REQ) == 0) {
        char *text = zstr_recv(req);
        status = text ? zconfig_str_load(text) : NULL;
        zstr_free(&text);
    }
    zsock_destroy(&req);
    return status;
}

/* Keys whose values are text; the others are numbers or true/false. */
static bool
s_is_text(const char *key)
{
    static const char *const text_keys[] = {
        "node_id", "public_key", "epoch",      "data",
        "bind",    "endpoint",   "peer_epoch", "cursor_epoch",
    };
    for (size_t i = 0; i < sizeof text_keys / sizeof text_keys[0]; i++) {
        if (streq(key, text_keys[i])) {
            return true;
        }
    }
    return false;
}

static bool
s_is_number(const char *value)
{
    const char *p = value[0] == '-' ? value + 1 : value;
    if (!*p) {
        return false;
    }
    for (; *p; p++) {
        if (!isdigit((unsigned char) *p)) {
            return false;
        }
    }
    return true;
}

static void
s_json_value(const char *key, const char *value)
{
    if (s_is_text(key) || !(s_is_number(value) || streq(value, "true") ||
                            streq(value, "false"))) {
        cs_json_write_string(stdout, value, strlen(value));
    } else if (streq(value, "-1")) {
        fputs("null", stdout); /* never */
    } else {
        fputs(value, stdout);
    }
}

static void
s_json_members(zconfig_t *section)
{
    bool first = true;
    for (zconfig_t *item = zconfig_child(section); item;
         item = zconfig_next(item)) {
        const char *value = zconfig_value(item);
        printf("%s\"%s\":", first ? "" : ",", zconfig_name(item));
        s_json_value(zconfig_name(item), value ? value : "");
        first = false;
    }
}

static void
s_print_json(zconfig_t *status, bool running, bool answered)
{
    printf("{\"running\":%s,\"unresponsive\":%s,", answered ? "true" : "false",
           running && !answered ? "true" : "false");
    s_json_members(zconfig_locate(status, "node"));
    fputs(",\"peers\":[", stdout);
    zconfig_t *peers = zconfig_locate(status, "peers");
    bool first = true;
    for (zconfig_t *peer = peers ? zconfig_child(peers) : NULL; peer;
         peer = zconfig_next(peer)) {
        printf("%s{\"name\":", first ? "" : ",");
        cs_json_write_string(stdout, zconfig_name(peer),
                             strlen(zconfig_name(peer)));
        fputc(',', stdout);
        s_json_members(peer);
        fputc('}', stdout);
        first = false;
    }
    fputs("]}\n", stdout);
}

static const char *
s_get(zconfig_t *section, const char *key)
{
    const char *value = section ? zconfig_get(section, key, "") : "";
    return value ? value : "";
}

static void
s_print_bytes(uint64_t bytes)
{
    if (bytes < 10000) {
        printf("%" PRIu64 " B", bytes);
    } else if (bytes < 10000000) {
        printf("%.1f kB", (double) bytes / 1e3);
    } else {
        printf("%.1f MB", (double) bytes / 1e6);
    }
}

static uint64_t
s_num(zconfig_t *section, const char *key)
{
    return strtoull(s_get(section, key), NULL, 10);
}

static void
s_print_text(zconfig_t *status, bool running, bool answered)
{
    zconfig_t *node = zconfig_locate(status, "node");
    printf("node %s  ", s_get(node, "node_id"));
    if (running && !answered) {
        printf("holds its lock but is NOT ANSWERING on its status socket "
               "(starting up, busy or stuck?)\n");
    } else if (running) {
        uint64_t up = s_num(node, "uptime_ms") / 1000;
        printf("running (pid %s, up %" PRIu64 "h%02" PRIu64 "m%02" PRIu64
               "s)\n",
               s_get(node, "pid"), up / 3600, up / 60 % 60, up % 60);
    } else {
        printf("not running (no answer on its status socket)\n");
    }
    printf("  public key  %s\n", s_get(node, "public_key"));
    printf("  data        %s\n", s_get(node, "data"));
    printf("  records     %s (feed head %s, epoch %s)\n",
           s_get(node, "records"), s_get(node, "feed_head"),
           s_get(node, "epoch"));
    if (!answered) {
        return;
    }
    const char *bind = s_get(node, "bind");
    printf("  listening   %s\n", bind[0] ? bind : "no (dials out only)");
    if (s_num(node, "unknown_frames")) {
        printf("  dropped     %s frames from unknown keys\n",
               s_get(node, "unknown_frames"));
    }
    zconfig_t *peers = zconfig_locate(status, "peers");
    for (zconfig_t *peer = peers ? zconfig_child(peers) : NULL; peer;
         peer = zconfig_next(peer)) {
        bool connected = streq(s_get(peer, "connected"), "true");
        long long ago = strtoll(s_get(peer, "last_contact_ms_ago"), NULL, 10);
        printf("peer %s (%s)  %s", zconfig_name(peer), s_get(peer, "node_id"),
               connected ? "connected" : "NOT CONNECTED");
        if (ago >= 0) {
            printf(", last heard %.1f s ago\n", (double) ago / 1000.0);
        } else {
            printf(", never heard from\n");
        }
        const char *endpoint = s_get(peer, "endpoint");
        printf("  endpoint    %s\n", endpoint[0] ? endpoint : "(it dials us)");
        printf("  cursor      %s of its %s (%s behind), epoch %s, "
               "catch-up from %s\n",
               s_get(peer, "cursor"), s_get(peer, "peer_head"),
               s_get(peer, "behind"), s_get(peer, "cursor_epoch"),
               s_get(peer, "cursor_base"));
        printf("  in          %s changes, %s messages, ",
               s_get(peer, "changes_in"), s_get(peer, "msgs_in"));
        s_print_bytes(s_num(peer, "bytes_in"));
        printf("\n  out         %s changes, %s messages, ",
               s_get(peer, "changes_out"), s_get(peer, "msgs_out"));
        s_print_bytes(s_num(peer, "bytes_out"));
        printf("\n  problems    %s rejected, %s stale, %s skewed, %s refused, "
               "%s apply errors\n",
               s_get(peer, "rejected"), s_get(peer, "stale"),
               s_get(peer, "skewed"), s_get(peer, "refused"),
               s_get(peer, "apply_errors"));
    }
}

/* Whether a node holds the data directory's lock (it runs, answering or
 * not). */
static bool
s_locked(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, CS_NODE_LOCK_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return locked;
}

/* What the data directory says when no node answers. */
static int
s_offline(const char *dir, zconfig_t **status_out)
{
    cs_store_t *store = NULL;
    int exit_code = cs_cli_open_store(S_CMD, dir, true, &store, NULL);
    if (exit_code != CS_CLI_EXIT_OK) {
        return exit_code;
    }
    cs_store_info_t info;
    char z85[CS_KEYS_Z85_LEN + 1] = "";
    int rc = cs_store_info(store, &info);
    if (rc == CS_OK) {
        rc = cs_keys_load(dir, z85, NULL);
    }
    if (rc != CS_OK) {
        cs_cli_error(S_CMD, dir, rc);
        cs_store_destroy(&store);
        return CS_CLI_EXIT_FAIL;
    }
    zconfig_t *status = zconfig_new("root", NULL);
    char value[64];
    snprintf(value, sizeof value, "%016" PRIx64, info.node_id);
    zconfig_put(status, "node/node_id", value);
    zconfig_put(status, "node/public_key", z85);
    snprintf(value, sizeof value, "%016" PRIx64, cs_store_epoch(store));
    zconfig_put(status, "node/epoch", value);
    zconfig_put(status, "node/data", dir);
    snprintf(value, sizeof value, "%" PRIu64, info.records);
    zconfig_put(status, "node/records", value);
    snprintf(value, sizeof value, "%" PRIu64, info.feed_head);
    zconfig_put(status, "node/feed_head", value);
    cs_store_destroy(&store);
    *status_out = status;
    return CS_CLI_EXIT_OK;
}

int
cs_cmd_status(int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL;
    bool json = false;
    uint64_t timeout_ms = S_TIMEOUT_MS;
    int opt;
    while ((opt = getopt_long(argc, argv, ":d:jt:h", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 't':
            if (!cs_cli_parse_count(optarg, &timeout_ms) ||
                timeout_ms > 600000) {
                return cs_cli_usage_error(
                    S_CMD, "--timeout: '%s' is not 0 to 600000 ms", optarg);
            }
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
    zsys_init();
    zconfig_t *status = s_ask(dir, timeout_ms);
    bool answered = status != NULL;
    bool running = answered || s_locked(dir);
    if (!status) {
        int exit_code = s_offline(dir, &status);
        if (exit_code != CS_CLI_EXIT_OK) {
            return exit_code;
        }
    }
    if (json) {
        s_print_json(status, running, answered);
    } else {
        s_print_text(status, running, answered);
    }
    zconfig_destroy(&status);
    return cs_cli_flush_stdout(S_CMD);
}
