/*  test_cs_config - the node's config file: values parsed exactly,
 *  defaults, the data path, and every kind of error reported with the
 *  file, the line and the key.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "node/cs_config.h"

#ifndef CS_SOURCE_DIR
#error "CS_SOURCE_DIR must be defined by the build"
#endif

#define S_OUT_MAX (256u * 1024) /* captured output kept */

typedef struct {
    char dir[64];        /* a fresh temporary directory */
    char path[PATH_MAX]; /* dir/crmsync.conf */
    char key[4][41];     /* valid Z85 public keys */
    uint8_t raw[4][32];  /* ... and their bytes */
    char err[S_OUT_MAX]; /* stderr of the last load */
    char out[S_OUT_MAX]; /* stdout of the last load */
    cs_config_t *config; /* the last load's result */
} s_fixture_t;

/* ---------------- fixture helpers ---------------- */

static int
s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    strcpy(fx->dir, "/tmp/test_cs_config.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/crmsync.conf", fx->dir);
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 32; j++) {
            fx->raw[i][j] = (uint8_t) (i * 32 + j + 1);
        }
        assert_non_null(zmq_z85_encode(fx->key[i], fx->raw[i], 32));
    }
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    cs_config_destroy(&fx->config);
    unlink(fx->path);
    assert_int_equal(rmdir(fx->dir), 0);
    free(fx);
    return 0;
}

static void
s_write(const char *path, const char *text, size_t len)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(text, 1, len, file), len);
    assert_int_equal(fclose(file), 0);
}

/* Point @p fd at a fresh temporary file. @return the saved fd. */
static int
s_redirect(int fd, FILE **file)
{
    *file = tmpfile();
    assert_non_null(*file);
    int saved = dup(fd);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fileno(*file), fd), fd);
    return saved;
}

static void
s_restore(int fd, int saved, FILE *file, char *buf)
{
    assert_int_equal(dup2(saved, fd), fd);
    close(saved);
    rewind(file);
    size_t n = fread(buf, 1, S_OUT_MAX - 1, file);
    buf[n] = '\0';
    fclose(file);
}

/* Load @p path, capturing stdout and stderr in fx->out and fx->err. */
static int
s_load_path(s_fixture_t *fx, const char *path)
{
    cs_config_destroy(&fx->config);
    fflush(stdout);
    fflush(stderr);
    FILE *out_file = NULL, *err_file = NULL;
    int saved_out = s_redirect(STDOUT_FILENO, &out_file);
    int saved_err = s_redirect(STDERR_FILENO, &err_file);
    int rc = cs_config_load(path, &fx->config);
    fflush(stdout);
    fflush(stderr);
    s_restore(STDERR_FILENO, saved_err, err_file, fx->err);
    s_restore(STDOUT_FILENO, saved_out, out_file, fx->out);
    assert_string_equal(fx->out, ""); /* nothing ever goes to stdout */
    if (rc == CS_OK) {
        assert_non_null(fx->config);
        assert_string_equal(fx->err, "");
    } else {
        assert_null(fx->config);
    }
    return rc;
}

/* Write @p text as the config file and load it. */
static int
s_load(s_fixture_t *fx, const char *text)
{
    s_write(fx->path, text, strlen(text));
    return s_load_path(fx, fx->path);
}

/* Assert that the last load failed with CS_EINVAL and printed the line
 * "FILE:<where>: <what>" (where is "LINE: KEY" or "KEY"...). */
static void
s_assert_error(s_fixture_t *fx, const char *where, const char *what)
{
    char expected[PATH_MAX + 1024];
    int n =
        snprintf(expected, sizeof expected, "%s:%s: %s", fx->path, where, what);
    assert_true(n > 0 && (size_t) n < sizeof expected);
    if (!strstr(fx->err, expected)) {
        fail_msg("expected \"%s\" in stderr:\n%s", expected, fx->err);
    }
}

static size_t
s_count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    return n;
}

/* A config with a valid node section followed by @p rest. */
static int
s_load_with(s_fixture_t *fx, const char *rest)
{
    char text[8192];
    snprintf(text, sizeof text, "node\n    data = /var/lib/crmsync\n%s", rest);
    return s_load(fx, text);
}

/* ---------------- valid files ---------------- */

static void
test_config_full_file_is_parsed_exactly(void **state)
{
    s_fixture_t *fx = *state;
    char text[4096];
    snprintf(text, sizeof text,
             "# a full config\n"
             "node\n"
             "    data = /srv/crmsync/data   # where the store is\n"
             "    bind = tcp://0.0.0.0:7400\n"
             "    max_drift = 60000\n"
             "sync\n"
             "    heartbeat = 500\n"
             "    peer_timeout = 2500\n"
             "    pull_timeout = 8000\n"
             "    anti_entropy = 20000\n"
             "    batch_bytes = 65536\n"
             "peers\n"
             "    hq\n"
             "        endpoint = tcp://hq.example.com:7401\n"
             "        public_key = \"%s\"\n"
             "    branch-2.lyon_fr\n"
             "        public_key = '%s'   # it dials us\n"
             "    v6\n"
             "        endpoint = \"tcp://[fe80::1]:65535\"\n"
             "        public_key = %s\n",
             fx->key[0], fx->key[1], fx->key[2]);
    assert_int_equal(s_load(fx, text), CS_OK);
    const cs_config_t *config = fx->config;
    assert_string_equal(config->path, fx->path);
    assert_string_equal(config->data, "/srv/crmsync/data");
    assert_string_equal(config->bind, "tcp://0.0.0.0:7400");
    assert_int_equal(config->max_drift_ms, 60000);
    assert_int_equal(config->sync.heartbeat_ms, 500);
    assert_int_equal(config->sync.peer_timeout_ms, 2500);
    assert_int_equal(config->sync.pull_timeout_ms, 8000);
    assert_int_equal(config->sync.anti_entropy_ms, 20000);
    assert_int_equal(config->sync.batch_bytes, 65536);
    assert_int_equal(config->n_peers, 3);
    const char *names[] = { "hq", "branch-2.lyon_fr", "v6" };
    const char *endpoints[] = { "tcp://hq.example.com:7401", "",
                                "tcp://[fe80::1]:65535" };
    for (size_t i = 0; i < 3; i++) {
        const cs_config_peer_t *peer = &config->peers[i];
        assert_string_equal(peer->name, names[i]);
        assert_string_equal(peer->endpoint, endpoints[i]);
        assert_string_equal(peer->public_key, fx->key[i]);
        assert_int_equal(peer->node_id, cs_keys_node_id(fx->raw[i]));
        assert_ptr_equal(cs_config_peer(config, peer->node_id), peer);
    }
    assert_null(cs_config_peer(config, cs_keys_node_id(fx->raw[3])));
}

static void
test_config_absent_keys_are_zero(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "node\n    data = /d\n"), CS_OK);
    const cs_config_t *config = fx->config;
    assert_string_equal(config->data, "/d");
    assert_string_equal(config->bind, "");
    assert_int_equal(config->max_drift_ms, 0);
    assert_int_equal(config->sync.heartbeat_ms, 0);
    assert_int_equal(config->sync.peer_timeout_ms, 0);
    assert_int_equal(config->sync.pull_timeout_ms, 0);
    assert_int_equal(config->sync.anti_entropy_ms, 0);
    assert_int_equal(config->sync.batch_bytes, 0);
    assert_int_equal(config->n_peers, 0);
    assert_null(cs_config_peer(config, 1));

    /* empty sections are fine too, and so is a bind on every interface */
    assert_int_equal(s_load(fx, "node\n    data = /d\n    bind = tcp://*:1\n"
                                "sync\npeers\n"),
                     CS_OK);
    assert_string_equal(fx->config->bind, "tcp://*:1");
    assert_int_equal(fx->config->n_peers, 0);
}

static void
test_config_ranges_are_inclusive(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load_with(fx, "    max_drift = 864000000\n"
                                     "sync\n"
                                     "    heartbeat = 60000\n"
                                     "    peer_timeout = 86400000\n"
                                     "    pull_timeout = 3600000\n"
                                     "    anti_entropy = 86400000\n"
                                     "    batch_bytes = 8388608\n"),
                     CS_OK);
    assert_int_equal(fx->config->max_drift_ms, 864000000);
    assert_int_equal(fx->config->sync.batch_bytes, 8388608);
    assert_int_equal(s_load_with(fx, "    max_drift = 1\n"
                                     "sync\n"
                                     "    heartbeat = 10\n"
                                     "    peer_timeout = 11\n"
                                     "    pull_timeout = 100\n"
                                     "    anti_entropy = 100\n"
                                     "    batch_bytes = 4096\n"),
                     CS_OK);
    assert_int_equal(fx->config->sync.heartbeat_ms, 10);
    assert_int_equal(fx->config->sync.peer_timeout_ms, 11);
    assert_int_equal(fx->config->sync.batch_bytes, 4096);
}

static void
test_config_relative_data_is_resolved(void **state)
{
    s_fixture_t *fx = *state;
    char real[PATH_MAX], expected[PATH_MAX + 32];
    assert_non_null(realpath(fx->dir, real));
    snprintf(expected, sizeof expected, "%s/store/here", real);
    assert_int_equal(s_load(fx, "node\n    data = store/here\n"), CS_OK);
    assert_string_equal(fx->config->data, expected);

    /* a config path relative to the working directory gives the same */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fx->dir), 0);
    int rc = s_load_path(fx, "./crmsync.conf");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, CS_OK);
    assert_string_equal(fx->config->data, expected);
    assert_string_equal(fx->config->path, "./crmsync.conf");
}

static void
test_config_sample_file_is_valid(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load_path(fx, CS_SOURCE_DIR "/deploy/crmsync.conf"),
                     CS_OK);
    const cs_config_t *config = fx->config;
    assert_string_equal(config->data, "/var/lib/crmsync");
    assert_string_equal(config->bind, "tcp://*:7400");
    assert_int_equal(config->max_drift_ms, 60000);
    assert_int_equal(config->sync.heartbeat_ms, 1000);
    assert_int_equal(config->sync.batch_bytes, 4194304);
    assert_int_equal(config->n_peers, 3);
    assert_string_equal(config->peers[0].name, "hq");
    /* the quotes keep the '#' of this key from starting a comment */
    assert_non_null(strchr(config->peers[0].public_key, '#'));
    assert_string_equal(config->peers[2].name, "field-laptop-3");
    assert_string_equal(config->peers[2].endpoint, "");
}

static void
test_config_peers_limit_is_inclusive(void **state)
{
    s_fixture_t *fx = *state;
    size_t cap = 64 + CS_CONFIG_PEERS_MAX * 96;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = (size_t) snprintf(text, cap, "node\n    data = /d\npeers\n");
    for (size_t i = 0; i < CS_CONFIG_PEERS_MAX; i++) {
        uint8_t raw[32] = { 0 };
        char key[41];
        memcpy(raw, &i, sizeof i);
        assert_non_null(zmq_z85_encode(key, raw, 32));
        len += (size_t) snprintf(text + len, cap - len,
                                 "    p%zu\n        public_key = \"%s\"\n", i,
                                 key);
        assert_true(len < cap);
    }
    assert_int_equal(s_load(fx, text), CS_OK);
    assert_int_equal(fx->config->n_peers, CS_CONFIG_PEERS_MAX);
    assert_string_equal(fx->config->peers[255].name, "p255");

    /* one more is too many */
    char key[41];
    uint8_t raw[32];
    memset(raw, 0xEE, sizeof raw);
    assert_non_null(zmq_z85_encode(key, raw, 32));
    char *more = malloc(len + 128);
    assert_non_null(more);
    snprintf(more, len + 128, "%s    extra\n        public_key = \"%s\"\n",
             text, key);
    assert_int_equal(s_load(fx, more), CS_EINVAL);
    s_assert_error(fx, "3: peers", "257 peers: at most 256");
    assert_int_equal(s_count_lines(fx->err), 1);
    free(more);
    free(text);
}

static void
test_config_longest_values_fit(void **state)
{
    s_fixture_t *fx = *state;
    char name[CS_CONFIG_NAME_MAX + 1];
    memset(name, 'n', CS_CONFIG_NAME_MAX);
    name[CS_CONFIG_NAME_MAX] = '\0';
    char host[245];
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0'; /* tcp:// + 244 + :7400 = 255 */
    char text[2048];
    snprintf(text, sizeof text,
             "peers\n    %s\n        endpoint = tcp://%s:7400\n"
             "        public_key = \"%s\"\n",
             name, host, fx->key[0]);
    assert_int_equal(s_load_with(fx, text), CS_OK);
    assert_string_equal(fx->config->peers[0].name, name);
    assert_int_equal(strlen(fx->config->peers[0].endpoint),
                     CS_CONFIG_ENDPOINT_MAX);
}

/* ---------------- errors ---------------- */

static void
test_config_missing_file_is_enoent(void **state)
{
    s_fixture_t *fx = *state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/nothing.conf", fx->dir);
    assert_int_equal(s_load_path(fx, path), CS_ENOENT);
    assert_non_null(strstr(fx->err, path));
    assert_non_null(strstr(fx->err, "cannot read"));
    /* a directory cannot be read either */
    assert_int_equal(s_load_path(fx, fx->dir), CS_ENOENT);
}

static void
test_config_syntax_error_names_the_line(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "node\n    data = /d\n   bind = tcp://*:1\n"),
                     CS_EINVAL);
    s_assert_error(fx, "3", "indent 4 spaces at once");
    assert_int_equal(s_count_lines(fx->err), 1);

    assert_int_equal(s_load(fx, "node\n\n    data = \"/d\n"), CS_EINVAL);
    s_assert_error(fx, "3", "missing \"");

    assert_int_equal(s_load(fx, "node\n            data = /d\n"), CS_EINVAL);
    s_assert_error(fx, "2", "indentation error");

    assert_int_equal(s_load(fx, "node\n\tdata = /d\n"), CS_EINVAL);
    s_assert_error(fx, "2", "invalid syntax");
}

static void
test_config_unknown_names_are_errors(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "node\n"
                                "    data = /d\n"
                                "    bnd = tcp://*:7400\n"
                                "sync\n"
                                "    heartbeet = 100\n"
                                "nodes\n"
                                "    data = /e\n"
                                "peers\n"
                                "    hq\n"
                                "        endpont = tcp://h:1\n"
                                "        public_key = x\n"),
                     CS_EINVAL);
    s_assert_error(fx, "3: node/bnd",
                   "unknown key (expected data, bind or max_drift)");
    s_assert_error(fx, "5: sync/heartbeet", "unknown key");
    s_assert_error(fx, "6: nodes",
                   "unknown section (expected node, sync or peers)");
    s_assert_error(fx, "10: peers/hq/endpont", "unknown key");
    /* and the bad key after them */
    s_assert_error(fx, "11: peers/hq/public_key", "must be 40 Z85");
    assert_int_equal(s_count_lines(fx->err), 5);
}

static void
test_config_structure_errors(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "node = 1\n"
                                "    data = /d\n"
                                "    data = /e\n"
                                "    max_drift\n"
                                "    bind\n"
                                "        x = 1\n"
                                "sync\n"
                                "node\n"),
                     CS_EINVAL);
    s_assert_error(fx, "1: node", "is a section: it takes no value");
    s_assert_error(fx, "3: node/data", "given twice (first on line 2)");
    s_assert_error(fx, "4: node/max_drift", "has no value");
    s_assert_error(fx, "5: node/bind", "takes a value, not indented keys");
    s_assert_error(fx, "8: node", "given twice (first on line 1)");
    assert_int_equal(s_count_lines(fx->err), 5);
}

static void
test_config_missing_data_is_an_error(void **state)
{
    s_fixture_t *fx = *state;
    /* no node section: no line to name */
    assert_int_equal(s_load(fx, "sync\n    heartbeat = 100\n"), CS_EINVAL);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "%s: node/data: missing", fx->path);
    assert_non_null(strstr(fx->err, expected));
    /* a node section without it: its line */
    assert_int_equal(s_load(fx, "\nnode\n    bind = tcp://*:1\n"), CS_EINVAL);
    s_assert_error(fx, "2: node/data", "missing");
    /* an empty file */
    assert_int_equal(s_load(fx, ""), CS_EINVAL);
    assert_non_null(strstr(fx->err, expected));
}

static void
test_config_bad_endpoints(void **state)
{
    s_fixture_t *fx = *state;
    static const struct {
        const char *endpoint;
        const char *what;
    } cases[] = {
        { "http://h:1", "must be tcp://HOST:PORT" },
        { "tcp://h", "must be tcp://HOST:PORT" },
        { "tcp://:7400", "must be tcp://HOST:PORT" },
        { "tcp://h:", "the port must be a number from 1 to 65535" },
        { "tcp://h:0", "the port must be a number from 1 to 65535" },
        { "tcp://h:65536", "the port must be a number from 1 to 65535" },
        { "tcp://h:123456", "the port must be a number from 1 to 65535" },
        { "tcp://h:7x", "the port must be a number from 1 to 65535" },
        { "tcp://h:-1", "the port must be a number from 1 to 65535" },
        { "tcp://*:7400", "the host '*' is only for node/bind" },
        { "tcp://ho st:1", "the host must be a name or address" },
        { "tcp://h_q:1", "the host must be a name or address" },
        { "tcp://[fe80::1:1", "bad IPv6 address" },
        { "tcp://[]:1", "bad IPv6 address" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "peers\n    hq\n        endpoint = \"%s\"\n"
                 "        public_key = \"%s\"\n",
                 cases[i].endpoint, fx->key[0]);
        assert_int_equal(s_load_with(fx, text), CS_EINVAL);
        char what[256];
        snprintf(what, sizeof what, "'%s': %s", cases[i].endpoint,
                 cases[i].what);
        s_assert_error(fx, "5: peers/hq/endpoint", what);
        assert_int_equal(s_count_lines(fx->err), 1);
    }
    /* the same checks on bind */
    assert_int_equal(s_load(fx, "node\n    data = /d\n    bind = tcp://*:0\n"),
                     CS_EINVAL);
    s_assert_error(fx, "3: node/bind", "'tcp://*:0': the port must be");
    assert_int_equal(s_load(fx, "node\n    data = /d\n    bind = ipc://x\n"),
                     CS_EINVAL);
    s_assert_error(fx, "3: node/bind", "'ipc://x': must be tcp://HOST:PORT");
}

static void
test_config_bad_public_keys(void **state)
{
    s_fixture_t *fx = *state;
    char short_key[41], long_key[42], bad_z85[41], overflow[41];
    memcpy(short_key, fx->key[0], 39);
    short_key[39] = '\0';
    snprintf(long_key, sizeof long_key, "%sA", fx->key[0]);
    memcpy(bad_z85, fx->key[0], 41);
    bad_z85[17] = '~';         /* not a Z85 character */
    memset(overflow, '%', 40); /* Z85 characters, but over 2^32 a group */
    overflow[40] = '\0';
    const char *keys[] = { short_key, long_key, bad_z85, overflow };
    const char *whats[] = { "must be 40 Z85 characters, not 39",
                            "must be 40 Z85 characters, not 41",
                            "is not valid Z85", "is not valid Z85" };
    for (size_t i = 0; i < 4; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "peers\n    hq\n        public_key = \"%s\"\n", keys[i]);
        assert_int_equal(s_load_with(fx, text), CS_EINVAL);
        s_assert_error(fx, "5: peers/hq/public_key", whats[i]);
        assert_int_equal(s_count_lines(fx->err), 1);
    }
    /* a key with '#' cut short by a comment gets a hint */
    assert_int_equal(
        s_load_with(fx, "peers\n    hq\n        public_key = abc#def\n"),
        CS_EINVAL);
    s_assert_error(fx, "5: peers/hq/public_key",
                   "must be 40 Z85 characters, not 3 (quote it");
}

static void
test_config_missing_public_key_names_the_peer(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load_with(fx, "peers\n"
                                     "    hq\n"
                                     "        endpoint = tcp://hq:7400\n"),
                     CS_EINVAL);
    s_assert_error(fx, "4: peers/hq/public_key", "missing");
    assert_int_equal(s_load_with(fx, "peers\n    hq\n    lyon\n"), CS_EINVAL);
    s_assert_error(fx, "4: peers/hq/public_key", "missing");
    s_assert_error(fx, "5: peers/lyon/public_key", "missing");
}

static void
test_config_duplicate_peers(void **state)
{
    s_fixture_t *fx = *state;
    char text[1024];
    snprintf(text, sizeof text,
             "peers\n"
             "    hq\n"
             "        public_key = \"%s\"\n"
             "    lyon\n"
             "        public_key = \"%s\"\n"
             "    hq\n"
             "        public_key = \"%s\"\n"
             "    paris\n"
             "        public_key = \"%s\"\n",
             fx->key[0], fx->key[1], fx->key[2], fx->key[1]);
    assert_int_equal(s_load_with(fx, text), CS_EINVAL);
    s_assert_error(fx, "8: peers/hq",
                   "peer name given twice (first on line 4)");
    s_assert_error(fx, "11: peers/paris/public_key",
                   "the same key as peer 'lyon' (line 6)");
    assert_int_equal(s_count_lines(fx->err), 2);
}

static void
test_config_bad_peer_names(void **state)
{
    s_fixture_t *fx = *state;
    char name[CS_CONFIG_NAME_MAX + 2];
    memset(name, 'n', CS_CONFIG_NAME_MAX + 1);
    name[CS_CONFIG_NAME_MAX + 1] = '\0';
    char text[1024];
    snprintf(text, sizeof text,
             "peers\n"
             "    h@q\n"
             "        public_key = \"%s\"\n"
             "    %s\n"
             "        public_key = \"%s\"\n"
             "    peer = x\n"
             "        public_key = \"%s\"\n",
             fx->key[0], name, fx->key[1], fx->key[2]);
    assert_int_equal(s_load_with(fx, text), CS_EINVAL);
    s_assert_error(fx, "4: peers/h@q", "a peer name may only use letters");
    char where[128];
    snprintf(where, sizeof where, "6: peers/%s", name);
    s_assert_error(fx, where, "a peer name is at most 63 characters");
    s_assert_error(fx, "8: peers/peer", "is a section: it takes no value");
    assert_int_equal(s_count_lines(fx->err), 3);
}

static void
test_config_bad_numbers(void **state)
{
    s_fixture_t *fx = *state;
    static const struct {
        const char *key;
        const char *value;
        const char *what;
    } cases[] = {
        { "heartbeat", "9", "9 is out of range: from 10 to 60000" },
        { "heartbeat", "60001", "60001 is out of range: from 10 to 60000" },
        { "heartbeat", "abc", "'abc' is not a decimal integer" },
        { "heartbeat", "-5", "'-5' is not a decimal integer" },
        { "heartbeat", "+5", "'+5' is not a decimal integer" },
        { "heartbeat", "1e3", "'1e3' is not a decimal integer" },
        { "heartbeat", "\"10 0\"", "'10 0' is not a decimal integer" },
        { "pull_timeout", "99", "99 is out of range: from 100 to 3600000" },
        { "anti_entropy", "86400001",
          "86400001 is out of range: from 100 to 86400000" },
        { "batch_bytes", "4095", "4095 is out of range: from 4096 to 8388608" },
        { "batch_bytes", "8388609",
          "8388609 is out of range: from 4096 to 8388608" },
        { "peer_timeout", "99999999999999999999999",
          "99999999999999999999999 is out of range" },
        { "peer_timeout", "1000", "must be more than the heartbeat (1000 ms)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512], where[64];
        snprintf(text, sizeof text, "sync\n    %s = %s\n", cases[i].key,
                 cases[i].value);
        assert_int_equal(s_load_with(fx, text), CS_EINVAL);
        snprintf(where, sizeof where, "4: sync/%s", cases[i].key);
        s_assert_error(fx, where, cases[i].what);
        assert_int_equal(s_count_lines(fx->err), 1);
    }
    /* a long value is shown shortened, control characters as '?' */
    char text[256], shown[64];
    memset(shown, 'x', 48);
    memcpy(shown + 48, "...' is", 8);
    snprintf(text, sizeof text, "sync\n    heartbeat = \"\t%.60s\"\n",
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    assert_int_equal(s_load_with(fx, text), CS_EINVAL);
    assert_non_null(strstr(fx->err, "sync/heartbeat: '?xxxxxxxxx"));
    assert_non_null(strstr(fx->err, shown + 1));
    /* node/max_drift */
    assert_int_equal(s_load_with(fx, "    max_drift = 0\n"), CS_EINVAL);
    s_assert_error(fx, "3: node/max_drift", "0 is out of range: from 1 to");
    assert_int_equal(s_load_with(fx, "    max_drift = 864000001\n"), CS_EINVAL);
    s_assert_error(fx, "3: node/max_drift",
                   "864000001 is out of range: from 1 to 864000000");
    /* a heartbeat above the default peer_timeout, which is then too short */
    assert_int_equal(s_load_with(fx, "sync\n    heartbeat = 5000\n"),
                     CS_EINVAL);
    s_assert_error(fx, "4: sync/heartbeat",
                   "must be less than peer_timeout (by default 5000 ms)");
    /* ... unless it is given too */
    assert_int_equal(s_load_with(fx, "sync\n    heartbeat = 5000\n"
                                     "    peer_timeout = 15000\n"),
                     CS_OK);
}

static void
test_config_over_long_values_are_errors(void **state)
{
    s_fixture_t *fx = *state;
    char host[246];
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0'; /* one more than fits */
    char text[2048];
    snprintf(text, sizeof text,
             "    bind = tcp://%s:7400\n"
             "peers\n"
             "    hq\n"
             "        endpoint = tcp://%s:7400\n"
             "        public_key = \"%s\"\n",
             host, host, fx->key[0]);
    assert_int_equal(s_load_with(fx, text), CS_EINVAL);
    s_assert_error(fx, "3: node/bind", "longer than 255 characters");
    s_assert_error(fx, "6: peers/hq/endpoint", "longer than 255 characters");
    assert_int_equal(s_count_lines(fx->err), 2);
}

static void
test_config_every_problem_is_reported(void **state)
{
    s_fixture_t *fx = *state;
    char text[1024];
    snprintf(text, sizeof text,
             "node\n"
             "    bind = tcp://h:0\n"
             "sync\n"
             "    heartbeat = x\n"
             "    batch_bytes = 1\n"
             "peers\n"
             "    a\n"
             "        public_key = \"%s\"\n"
             "    b\n"
             "        public_key = \"%s\"\n"
             "        colour = red\n",
             fx->key[0], fx->key[0]);
    assert_int_equal(s_load(fx, text), CS_EINVAL);
    s_assert_error(fx, "1: node/data", "missing");
    s_assert_error(fx, "2: node/bind", "'tcp://h:0': the port must be");
    s_assert_error(fx, "4: sync/heartbeat", "'x' is not a decimal integer");
    s_assert_error(fx, "5: sync/batch_bytes", "1 is out of range");
    s_assert_error(fx, "10: peers/b/public_key", "the same key as peer 'a'");
    s_assert_error(fx, "11: peers/b/colour", "unknown key");
    assert_int_equal(s_count_lines(fx->err), 6);
    /* in the order of the file, whatever the order of the checks */
    const char *last = fx->err;
    for (int line = 1; line <= 11; line++) {
        char where[32];
        snprintf(where, sizeof where, ".conf:%d: ", line);
        const char *at = strstr(fx->err, where);
        if (at) {
            assert_true(at > last || (line == 1 && at >= last));
            last = at;
        }
    }
    assert_true(strstr(fx->err, ".conf:11: ") > strstr(fx->err, ".conf:10: "));
}

static void
test_config_file_limits(void **state)
{
    s_fixture_t *fx = *state;
    /* a line over CS_CONFIG_LINE_MAX bytes */
    char *text = malloc(CS_CONFIG_FILE_MAX + 2);
    assert_non_null(text);
    int len = snprintf(text, 64, "node\n    data = /");
    memset(text + len, 'd', CS_CONFIG_LINE_MAX);
    strcpy(text + len + CS_CONFIG_LINE_MAX, "\n");
    assert_int_equal(s_load(fx, text), CS_EINVAL);
    s_assert_error(fx, "2", "line longer than 1024 bytes");

    /* a NUL byte */
    s_write(fx->path, "node\n    data = /d\0x\n", 21);
    assert_int_equal(s_load_path(fx, fx->path), CS_EINVAL);
    s_assert_error(fx, "2", "a NUL byte");

    /* over CS_CONFIG_ITEMS_MAX keys (an unknown one on each line) */
    size_t pos = (size_t) snprintf(text, 64, "node\n    data = /d\n");
    for (size_t i = 0; i < CS_CONFIG_ITEMS_MAX; i++) {
        pos += (size_t) snprintf(text + pos, 32, "    k%zu = 1\n", i);
    }
    assert_int_equal(s_load(fx, text), CS_EINVAL);
    s_assert_error(fx, "4097", "more than 4096 sections and keys");
    assert_int_equal(s_count_lines(fx->err), 1);

    /* over CS_CONFIG_FILE_MAX bytes (of comments) */
    memset(text, '#', CS_CONFIG_FILE_MAX + 1);
    s_write(fx->path, text, CS_CONFIG_FILE_MAX + 1);
    assert_int_equal(s_load_path(fx, fx->path), CS_EINVAL);
    assert_non_null(strstr(fx->err, "larger than 1048576 bytes"));
    /* exactly CS_CONFIG_FILE_MAX is fine */
    memcpy(text, "node\n    data = /d\n", 19);
    memset(text + 19, '\n', CS_CONFIG_FILE_MAX - 19);
    s_write(fx->path, text, CS_CONFIG_FILE_MAX);
    assert_int_equal(s_load_path(fx, fx->path), CS_OK);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define S_TEST(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
        S_TEST(test_config_full_file_is_parsed_exactly),
        S_TEST(test_config_absent_keys_are_zero),
        S_TEST(test_config_ranges_are_inclusive),
        S_TEST(test_config_relative_data_is_resolved),
        S_TEST(test_config_sample_file_is_valid),
        S_TEST(test_config_peers_limit_is_inclusive),
        S_TEST(test_config_longest_values_fit),
        S_TEST(test_config_missing_file_is_enoent),
        S_TEST(test_config_syntax_error_names_the_line),
        S_TEST(test_config_unknown_names_are_errors),
        S_TEST(test_config_structure_errors),
        S_TEST(test_config_missing_data_is_an_error),
        S_TEST(test_config_bad_endpoints),
        S_TEST(test_config_bad_public_keys),
        S_TEST(test_config_missing_public_key_names_the_peer),
        S_TEST(test_config_duplicate_peers),
        S_TEST(test_config_bad_peer_names),
        S_TEST(test_config_bad_numbers),
        S_TEST(test_config_over_long_values_are_errors),
        S_TEST(test_config_every_problem_is_reported),
        S_TEST(test_config_file_limits),
#undef S_TEST
    };
    return cmocka_run_group_tests_name("node/cs_config", tests, NULL, NULL);
}
