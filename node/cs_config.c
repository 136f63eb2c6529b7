/*  cs_config - a node's configuration file: ZPL through CZMQ's zconfig,
 *  every value checked, every problem reported with the file, line and key.
 *  SPDX-License-Identifier: MIT
 *
 *  zconfig keeps no line numbers. It makes one item per line that starts
 *  (after its indentation) with a name character, in file order, and each
 *  new item is the last child of the last item one level up: so the order
 *  of the lines is the pre-order of the tree. s_scan lists those lines,
 *  s_map pairs them with the items, and every message can name its line.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "net/cs_msg.h"
#include "node/cs_config.h"

/* Ranges of the numbers, in ms unless said (the header lists them). */
#define S_MAX_DRIFT_MAX     (10ull * 24 * 3600 * 1000) /* 10 days */
#define S_HEARTBEAT_MIN     10u
#define S_HEARTBEAT_MAX     60000u
#define S_PEER_TIMEOUT_MAX  86400000u /* a day */
#define S_PULL_TIMEOUT_MIN  100u
#define S_PULL_TIMEOUT_MAX  3600000u /* an hour */
#define S_ANTI_ENTROPY_MIN  100u
#define S_ANTI_ENTROPY_MAX  86400000u /* a day */
#define S_BATCH_BYTES_MIN   4096u
#define S_HEARTBEAT_DEFAULT 1000u /* cs_sync_opts_t's defaults, for the */
#define S_PEER_TIMEOUT_DEF  5000u /* check peer_timeout > heartbeat */
#define S_HOST_MAX          253u  /* a DNS name */
#define S_KEY_MAX           (2 * CS_CONFIG_LINE_MAX + 16) /* a/b/c path */
#define S_SHOW_MAX          48u /* a value quoted in a message */

#define S_DIGITS     "0123456789"
#define S_LETTERS    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define S_NAME_CHARS S_LETTERS S_DIGITS "_.-"
#define S_HOST_CHARS S_LETTERS S_DIGITS ".-"

typedef struct {
    zconfig_t *item; /* an item of the tree */
    int line;        /* its line in the file */
} s_line_t;

typedef struct {
    int line;    /* 0 if unknown */
    size_t rank; /* order of the report, for ties */
    char *key;   /* the key or section */
    char *what;  /* what is wrong */
} s_message_t;

typedef struct {
    const char *path;      /* the file, for messages */
    s_line_t *lines;       /* every item's line, sorted by item */
    size_t n_lines;        /* 0 if the lines are unknown */
    size_t errors;         /* problems reported */
    s_message_t *messages; /* the problems found by the checks */
    size_t n_messages;     /* ... printed in line order by s_flush */
} s_loader_t;

typedef struct {
    const char *name; /* a key or section allowed here */
    zconfig_t *item;  /* where it is given (first); NULL if absent */
} s_slot_t;

static char *
s_strdup(const char *s)
{
    char *copy = strdup(s);
    if (!copy) {
        abort();
    }
    return copy;
}

/* ---------------- messages and lines ---------------- */

static int
s_compare_lines(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) ((const s_line_t *) a)->item;
    uintptr_t y = (uintptr_t) ((const s_line_t *) b)->item;
    return x < y ? -1 : x > y;
}

/* The line of @p item, or 0 if unknown. */
static int
s_line(const s_loader_t *self, zconfig_t *item)
{
    if (!item || self->n_lines == 0) {
        return 0;
    }
    s_line_t needle = { .item = item, .line = 0 };
    const s_line_t *found = bsearch(&needle, self->lines, self->n_lines,
                                    sizeof needle, s_compare_lines);
    return found ? found->line : 0;
}

/* Note a problem with @p key at the line of @p item (NULL: none). */
__attribute__((format(printf, 4, 5))) static void
s_error(s_loader_t *self, zconfig_t *item, const char *key, const char *fmt,
        ...)
{
    s_message_t *messages =
        realloc(self->messages, (self->n_messages + 1) * sizeof *messages);
    if (!messages) {
        abort();
    }
    self->messages = messages;
    va_list args;
    va_start(args, fmt);
    char *what = zsys_vprintf(fmt, args);
    va_end(args);
    if (!what) {
        abort();
    }
    messages[self->n_messages] = (s_message_t){
        .line = s_line(self, item),
        .rank = self->n_messages,
        .key = s_strdup(key),
        .what = what,
    };
    self->n_messages++;
    self->errors++;
}

static int
s_compare_messages(const void *a, const void *b)
{
    const s_message_t *x = a, *y = b;
    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Print the problems as "FILE:LINE: KEY: what" (no LINE if unknown), in
 * the order of the file, and forget them. */
static void
s_flush(s_loader_t *self)
{
    if (self->n_messages == 0) {
        return;
    }
    qsort(self->messages, self->n_messages, sizeof *self->messages,
          s_compare_messages);
    for (size_t i = 0; i < self->n_messages; i++) {
        const s_message_t *message = &self->messages[i];
        if (message->line > 0) {
            fprintf(stderr, "%s:%d: %s: %s\n", self->path, message->line,
                    message->key, message->what);
        } else {
            fprintf(stderr, "%s: %s: %s\n", self->path, message->key,
                    message->what);
        }
        free(message->key);
        free(message->what);
    }
    free(self->messages);
    self->messages = NULL;
    self->n_messages = 0;
}

/* A printable, shortened copy of @p value for a message. */
static const char *
s_show(const char *value, char buf[S_SHOW_MAX + 4])
{
    size_t n = 0;
    for (; n < S_SHOW_MAX && value[n] != '\0'; n++) {
        unsigned char c = (unsigned char) value[n];
        buf[n] = c < 0x20 || c >= 0x7F ? '?' : (char) c;
    }
    strcpy(buf + n, value[n] != '\0' ? "..." : "");
    return buf;
}

/* "PREFIX/NAME" (names are within a line, so it fits) */
static void
s_key(char key[S_KEY_MAX], const char *prefix, const char *name)
{
    int n = snprintf(key, S_KEY_MAX, "%s%s%s", prefix ? prefix : "",
                     prefix ? "/" : "", name);
    assert(n >= 0 && n < (int) S_KEY_MAX);
}

/* ---------------- reading and parsing ---------------- */

/* Read the whole file into *@p text_p (NUL-terminated), at most
 * CS_CONFIG_FILE_MAX bytes. */
static int
s_read(const char *path, char **text_p, size_t *size_p)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return CS_ENOENT;
    }
    char *text = malloc(CS_CONFIG_FILE_MAX + 2);
    if (!text) {
        abort();
    }
    size_t size = fread(text, 1, CS_CONFIG_FILE_MAX + 1, file);
    int rc = CS_OK;
    if (ferror(file)) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        rc = CS_ENOENT;
    } else if (size > CS_CONFIG_FILE_MAX) {
        fprintf(stderr, "%s: larger than %u bytes\n", path, CS_CONFIG_FILE_MAX);
        rc = CS_EINVAL;
    }
    fclose(file);
    if (rc != CS_OK) {
        free(text);
        return rc;
    }
    text[size] = '\0';
    *text_p = text;
    *size_p = size;
    return CS_OK;
}

/* zconfig's name characters (s_is_namechar), in the C locale. */
static bool
s_is_namechar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("$-_@.&+/", c));
}

/* Check the file's limits and note, in @p item_lines, the line of each
 * item zconfig will make. @return the number of items. */
static size_t
s_scan(s_loader_t *self, const char *text, size_t size, int *item_lines)
{
    size_t n_items = 0;
    int line = 0;
    for (size_t pos = 0; pos < size;) {
        const char *start = text + pos;
        const char *eol = memchr(start, '\n', size - pos);
        size_t len = eol ? (size_t) (eol - start) : size - pos;
        pos += len + (eol ? 1 : 0);
        line++;
        if (memchr(start, '\0', len)) {
            fprintf(stderr, "%s:%d: a NUL byte\n", self->path, line);
            self->errors++;
            continue;
        }
        if (len > CS_CONFIG_LINE_MAX) {
            fprintf(stderr, "%s:%d: line longer than %u bytes\n", self->path,
                    line, CS_CONFIG_LINE_MAX);
            self->errors++;
            continue;
        }
        size_t indent = strspn(start, " ");
        if (indent < len && s_is_namechar(start[indent])) {
            if (n_items == CS_CONFIG_ITEMS_MAX) {
                fprintf(stderr, "%s:%d: more than %u sections and keys\n",
                        self->path, line, CS_CONFIG_ITEMS_MAX);
                self->errors++;
                break;
            }
            item_lines[n_items++] = line;
        }
    }
    return n_items;
}

/* Parse @p text with zconfig, which prints its syntax errors only on
 * stdout, as "YY-MM-DD HH:MM:SS E (zconfig): (LINE) message": point fd 1
 * at a temporary file during the parse and report them as FILE:LINE. */
static zconfig_t *
s_parse(s_loader_t *self, const char *text)
{
    fflush(stdout);
    FILE *capture = tmpfile();
    int saved = capture ? dup(STDOUT_FILENO) : -1;
    bool captured =
        saved >= 0 && dup2(fileno(capture), STDOUT_FILENO) == STDOUT_FILENO;
    zconfig_t *root = zconfig_str_load(text);
    if (captured) {
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
    }
    if (saved >= 0) {
        close(saved);
    }
    if (!root) {
        static const char tag[] = "E (zconfig): (";
        bool reported = false;
        char message[2 * CS_CONFIG_LINE_MAX];
        if (captured) {
            rewind(capture);
        }
        while (captured && fgets(message, sizeof message, capture)) {
            char *at = strstr(message, tag);
            char *end = NULL;
            long line = at ? strtol(at + sizeof tag - 1, &end, 10) : 0;
            if (!end || strncmp(end, ") ", 2) != 0) {
                continue;
            }
            end[strcspn(end, "\n")] = '\0';
            fprintf(stderr, "%s:%ld: %s\n", self->path, line, end + 2);
            reported = true;
        }
        if (!reported) {
            fprintf(stderr, "%s: syntax error\n", self->path);
        }
        self->errors++;
    }
    if (capture) {
        fclose(capture);
    }
    return root;
}

/* Pair the items under @p parent, in pre-order, with @p item_lines. */
static void
s_map(s_loader_t *self, zconfig_t *parent, const int *item_lines,
      size_t n_items, size_t *count)
{
    for (zconfig_t *item = zconfig_child(parent); item;
         item = zconfig_next(item)) {
        if (*count < n_items) {
            self->lines[*count].item = item;
            self->lines[*count].line = item_lines[*count];
        }
        (*count)++;
        s_map(self, item, item_lines, n_items, count);
    }
}

/* ---------------- checks ---------------- */

/* Fill @p slots from the children of @p section; report unknown names
 * and names given twice. */
static void
s_slots(s_loader_t *self, zconfig_t *section, const char *prefix,
        s_slot_t *slots, size_t n_slots)
{
    char key[S_KEY_MAX];
    for (zconfig_t *item = zconfig_child(section); item;
         item = zconfig_next(item)) {
        s_key(key, prefix, zconfig_name(item));
        size_t i = 0;
        while (i < n_slots && strcmp(slots[i].name, zconfig_name(item)) != 0) {
            i++;
        }
        if (i == n_slots) {
            char known[128] = "";
            for (size_t j = 0; j < n_slots; j++) {
                strcat(known, j == 0 ? "" : j + 1 < n_slots ? ", " : " or ");
                strcat(known, slots[j].name);
            }
            s_error(self, item, key, "unknown %s (expected %s)",
                    prefix ? "key" : "section", known);
        } else if (slots[i].item) {
            s_error(self, item, key, "given twice (first on line %d)",
                    s_line(self, slots[i].item));
        } else {
            slots[i].item = item;
        }
    }
}

/* @p item must be a section: keys below it, no value of its own. */
static void
s_section(s_loader_t *self, zconfig_t *item, const char *key)
{
    const char *value = zconfig_value(item);
    if (value && value[0] != '\0') {
        s_error(self, item, key,
                "is a section: it takes no value, its keys go on the "
                "lines below it, indented");
    }
}

/* The value of the key @p item, or NULL after a message. */
static const char *
s_value(s_loader_t *self, zconfig_t *item, const char *key)
{
    const char *value = zconfig_value(item);
    if (zconfig_child(item)) {
        s_error(self, item, key, "takes a value, not indented keys below it");
        return NULL;
    }
    if (!value || value[0] == '\0') {
        s_error(self, item, key, "has no value");
        return NULL;
    }
    return value;
}

/* A decimal integer in [@p min, @p max] into *@p out. */
static bool
s_number(s_loader_t *self, zconfig_t *item, const char *key, uint64_t min,
         uint64_t max, uint64_t *out)
{
    const char *value = s_value(self, item, key);
    if (!value) {
        return false;
    }
    char shown[S_SHOW_MAX + 4];
    size_t len = strspn(value, S_DIGITS);
    if (len == 0 || value[len] != '\0') {
        s_error(self, item, key, "'%s' is not a decimal integer",
                s_show(value, shown));
        return false;
    }
    errno = 0;
    unsigned long long number = strtoull(value, NULL, 10);
    if (errno == ERANGE || number < min || number > max) {
        s_error(self, item, key,
                "%s is out of range: from %" PRIu64 " to %" PRIu64,
                s_show(value, shown), min, max);
        return false;
    }
    *out = number;
    return true;
}

/* What is wrong with the endpoint @p value, or NULL. */
static const char *
s_endpoint_problem(const char *value, bool bind)
{
    static const char form[] = "must be tcp://HOST:PORT";
    if (strncmp(value, "tcp://", 6) != 0) {
        return form;
    }
    const char *host = value + 6;
    const char *colon = strrchr(host, ':');
    if (!colon || colon == host) {
        return form;
    }
    size_t host_len = (size_t) (colon - host);
    const char *port = colon + 1;
    size_t port_len = strspn(port, S_DIGITS);
    if (port_len == 0 || port[port_len] != '\0' || port_len > 5 ||
        atoi(port) < 1 || atoi(port) > 65535) {
        return "the port must be a number from 1 to 65535";
    }
    if (host_len == 1 && host[0] == '*') {
        return bind ? NULL : "the host '*' is only for node/bind";
    }
    if (host[0] == '[') {
        bool ipv6 = host_len > 2 && host[host_len - 1] == ']' &&
                    strspn(host + 1, S_DIGITS "abcdefABCDEF:.") == host_len - 2;
        return ipv6 ? NULL : "bad IPv6 address: must be [HEX:HEX...]";
    }
    if (host_len > S_HOST_MAX || strspn(host, S_HOST_CHARS) < host_len) {
        return "the host must be a name or address of letters, digits, "
               "'.' and '-' (or [IPv6])";
    }
    return NULL;
}

/* Check the endpoint @p item and copy it into @p out. */
static void
s_endpoint(s_loader_t *self, zconfig_t *item, const char *key, bool bind,
           char out[CS_CONFIG_ENDPOINT_MAX + 1])
{
    const char *value = s_value(self, item, key);
    if (!value) {
        return;
    }
    char shown[S_SHOW_MAX + 4];
    size_t len = strlen(value);
    const char *problem = s_endpoint_problem(value, bind);
    if (len > CS_CONFIG_ENDPOINT_MAX) {
        s_error(self, item, key, "longer than %u characters",
                CS_CONFIG_ENDPOINT_MAX);
    } else if (problem) {
        s_error(self, item, key, "'%s': %s", s_show(value, shown), problem);
    } else {
        memcpy(out, value, len + 1);
    }
}

/* node/data, resolved against the config file's folder; NULL on error. */
static char *
s_data_path(s_loader_t *self, zconfig_t *item, const char *key)
{
    const char *value = s_value(self, item, key);
    if (!value) {
        return NULL;
    }
    if (value[0] == '/') {
        return s_strdup(value);
    }
    char *copy = s_strdup(self->path);
    char folder[PATH_MAX];
    char *path = NULL;
    if (!realpath(dirname(copy), folder)) {
        s_error(self, item, key, "cannot resolve the config file's folder: %s",
                strerror(errno));
    } else {
        bool root = strcmp(folder, "/") == 0;
        size_t size = strlen(folder) + 1 + strlen(value) + 1;
        if (size > PATH_MAX) {
            s_error(self, item, key, "longer than %d bytes once resolved",
                    PATH_MAX - 1);
        } else {
            path = malloc(size);
            if (!path) {
                abort();
            }
            int n =
                snprintf(path, size, "%s%s%s", folder, root ? "" : "/", value);
            assert(n >= 0 && (size_t) n < size);
        }
    }
    free(copy);
    return path;
}

static void
s_check_node(s_loader_t *self, zconfig_t *node, cs_config_t *config)
{
    s_slot_t keys[] = { { "data", NULL },
                        { "bind", NULL },
                        { "max_drift", NULL } };
    if (node) {
        s_slots(self, node, "node", keys, sizeof keys / sizeof keys[0]);
    }
    if (!keys[0].item) {
        s_error(self, node, "node/data",
                "missing: the node's data directory is required");
    } else {
        config->data = s_data_path(self, keys[0].item, "node/data");
    }
    if (keys[1].item) {
        s_endpoint(self, keys[1].item, "node/bind", true, config->bind);
    }
    if (keys[2].item) {
        (void) s_number(self, keys[2].item, "node/max_drift", 1,
                        S_MAX_DRIFT_MAX, &config->max_drift_ms);
    }
}

static void
s_check_sync(s_loader_t *self, zconfig_t *sync, cs_sync_opts_t *opts)
{
    s_slot_t keys[] = { { "heartbeat", NULL },
                        { "peer_timeout", NULL },
                        { "pull_timeout", NULL },
                        { "anti_entropy", NULL },
                        { "batch_bytes", NULL } };
    if (!sync) {
        return;
    }
    s_slots(self, sync, "sync", keys, sizeof keys / sizeof keys[0]);
    bool ok = true;
    if (keys[0].item) {
        ok = s_number(self, keys[0].item, "sync/heartbeat", S_HEARTBEAT_MIN,
                      S_HEARTBEAT_MAX, &opts->heartbeat_ms);
    }
    if (keys[1].item) {
        ok = s_number(self, keys[1].item, "sync/peer_timeout",
                      S_HEARTBEAT_MIN + 1, S_PEER_TIMEOUT_MAX,
                      &opts->peer_timeout_ms) &&
             ok;
    }
    if (keys[2].item) {
        (void) s_number(self, keys[2].item, "sync/pull_timeout",
                        S_PULL_TIMEOUT_MIN, S_PULL_TIMEOUT_MAX,
                        &opts->pull_timeout_ms);
    }
    if (keys[3].item) {
        (void) s_number(self, keys[3].item, "sync/anti_entropy",
                        S_ANTI_ENTROPY_MIN, S_ANTI_ENTROPY_MAX,
                        &opts->anti_entropy_ms);
    }
    uint64_t batch_bytes = 0;
    if (keys[4].item &&
        s_number(self, keys[4].item, "sync/batch_bytes", S_BATCH_BYTES_MIN,
                 CS_MSG_BATCH_MAX, &batch_bytes)) {
        opts->batch_bytes = (uint32_t) batch_bytes;
    }
    /* a peer silent for less than a heartbeat would be down all the time */
    uint64_t heartbeat =
        opts->heartbeat_ms ? opts->heartbeat_ms : S_HEARTBEAT_DEFAULT;
    uint64_t timeout =
        opts->peer_timeout_ms ? opts->peer_timeout_ms : S_PEER_TIMEOUT_DEF;
    if (ok && timeout <= heartbeat) {
        if (keys[1].item) {
            s_error(self, keys[1].item, "sync/peer_timeout",
                    "must be more than the heartbeat (%" PRIu64 " ms)",
                    heartbeat);
        } else {
            s_error(self, keys[0].item, "sync/heartbeat",
                    "must be less than peer_timeout (by default %u ms)",
                    S_PEER_TIMEOUT_DEF);
        }
    }
}

static void
s_check_public_key(s_loader_t *self, zconfig_t *item, const char *key,
                   cs_config_peer_t *peer)
{
    const char *value = s_value(self, item, key);
    if (!value) {
        return;
    }
    uint8_t public_key[CS_KEYS_PUBLIC_LEN];
    size_t len = strlen(value);
    if (len != CS_KEYS_Z85_LEN) {
        s_error(self, item, key,
                "must be %u Z85 characters, not %zu (quote it: Z85 uses '#', "
                "which otherwise starts a comment)",
                CS_KEYS_Z85_LEN, len);
    } else if (!zmq_z85_decode(public_key, value)) {
        s_error(self, item, key, "is not valid Z85");
    } else {
        memcpy(peer->public_key, value, len + 1);
        peer->node_id = cs_keys_node_id(public_key);
    }
}

/* One peer, the @p index-th child of peers; @p peers holds the ones
 * before it. */
static void
s_check_peer(s_loader_t *self, zconfig_t *item, cs_config_peer_t *peers,
             size_t index, zconfig_t *first)
{
    cs_config_peer_t *peer = &peers[index];
    const char *name = zconfig_name(item);
    char key[S_KEY_MAX];
    s_key(key, "peers", name);
    s_section(self, item, key);
    size_t len = strlen(name);
    if (len > CS_CONFIG_NAME_MAX) {
        s_error(self, item, key, "a peer name is at most %u characters",
                CS_CONFIG_NAME_MAX);
    } else if (strspn(name, S_NAME_CHARS) != len) {
        s_error(self, item, key,
                "a peer name may only use letters, digits, '_', '.' and '-'");
    } else {
        memcpy(peer->name, name, len + 1);
    }

    s_slot_t keys[] = { { "endpoint", NULL }, { "public_key", NULL } };
    s_slots(self, item, key, keys, sizeof keys / sizeof keys[0]);
    char sub[S_KEY_MAX];
    if (keys[0].item) {
        s_key(sub, key, "endpoint");
        s_endpoint(self, keys[0].item, sub, false, peer->endpoint);
    }
    s_key(sub, key, "public_key");
    if (!keys[1].item) {
        s_error(self, item, sub,
                "missing: the peer's public key is required (crmsync pubkey "
                "prints it on the peer)");
    } else {
        s_check_public_key(self, keys[1].item, sub, peer);
    }

    /* Z85 decoding rejects overflowing groups, so equal keys are equal
     * strings */
    zconfig_t *prev = first;
    for (size_t i = 0; i < index; i++, prev = zconfig_next(prev)) {
        if (peer->name[0] != '\0' && strcmp(peers[i].name, peer->name) == 0) {
            s_error(self, item, key, "peer name given twice (first on line %d)",
                    s_line(self, prev));
        }
        if (peer->public_key[0] != '\0' &&
            strcmp(peers[i].public_key, peer->public_key) == 0) {
            s_error(self, keys[1].item, sub,
                    "the same key as peer '%s' (line %d)", peers[i].name,
                    s_line(self, prev));
        }
    }
}

static void
s_check_peers(s_loader_t *self, zconfig_t *section, cs_config_t *config)
{
    if (!section) {
        return;
    }
    size_t count = 0;
    for (zconfig_t *item = zconfig_child(section); item;
         item = zconfig_next(item)) {
        count++;
    }
    if (count > CS_CONFIG_PEERS_MAX) {
        s_error(self, section, "peers", "%zu peers: at most %u", count,
                CS_CONFIG_PEERS_MAX);
    }
    /* all of them, to report every problem */
    config->peers = calloc(count ? count : 1, sizeof *config->peers);
    if (!config->peers) {
        abort();
    }
    config->n_peers = count;
    size_t index = 0;
    for (zconfig_t *item = zconfig_child(section); item;
         item = zconfig_next(item), index++) {
        s_check_peer(self, item, config->peers, index, zconfig_child(section));
    }
}

/* ---------------- the API ---------------- */

int
cs_config_load(const char *path, cs_config_t **out)
{
    assert(path);
    assert(out);
    char *text = NULL;
    size_t size = 0;
    int rc = s_read(path, &text, &size);
    if (rc != CS_OK) {
        return rc;
    }
    s_loader_t self = { .path = path, .lines = NULL, .n_lines = 0 };
    int *item_lines = calloc(CS_CONFIG_ITEMS_MAX, sizeof *item_lines);
    if (!item_lines) {
        abort();
    }
    size_t n_items = s_scan(&self, text, size, item_lines);
    zconfig_t *root = self.errors == 0 ? s_parse(&self, text) : NULL;
    cs_config_t *config = NULL;
    if (!root) {
        rc = CS_EINVAL;
        goto out_free;
    }
    self.lines = calloc(n_items ? n_items : 1, sizeof *self.lines);
    if (!self.lines) {
        abort();
    }
    size_t count = 0;
    s_map(&self, root, item_lines, n_items, &count);
    /* a mismatch would be a zconfig unlike the one described at the top:
     * go on without line numbers rather than with wrong ones */
    self.n_lines = count == n_items ? n_items : 0;
    qsort(self.lines, self.n_lines, sizeof *self.lines, s_compare_lines);

    config = calloc(1, sizeof *config);
    if (!config) {
        abort();
    }
    config->path = s_strdup(path);
    s_slot_t sections[] = { { "node", NULL },
                            { "sync", NULL },
                            { "peers", NULL } };
    s_slots(&self, root, NULL, sections, sizeof sections / sizeof sections[0]);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        if (sections[i].item) {
            s_section(&self, sections[i].item, sections[i].name);
        }
    }
    s_check_node(&self, sections[0].item, config);
    s_check_sync(&self, sections[1].item, &config->sync);
    s_check_peers(&self, sections[2].item, config);
    s_flush(&self);
    if (self.errors > 0) {
        cs_config_destroy(&config);
        rc = CS_EINVAL;
    }
out_free:
    zconfig_destroy(&root);
    free(self.lines);
    free(item_lines);
    free(text);
    if (rc == CS_OK) {
        *out = config;
    }
    return rc;
}

void
cs_config_destroy(cs_config_t **self_p)
{
    assert(self_p);
    cs_config_t *self = *self_p;
    if (self) {
        free(self->path);
        free(self->data);
        free(self->peers);
        free(self);
        *self_p = NULL;
    }
}

const cs_config_peer_t *
cs_config_peer(const cs_config_t *self, uint64_t node_id)
{
    assert(self);
    for (size_t i = 0; i < self->n_peers; i++) {
        if (self->peers[i].node_id == node_id) {
            return &self->peers[i];
        }
    }
    return NULL;
}
