/*  probe - a CURVE DEALER client for the security tests: it dials a node
 *  with a given key, sends the frames it is told to, and reports what
 *  happened, one line each, for a bash test to check.
 *  SPDX-License-Identifier: MIT
 *
 *  probe --cert PATH                    create PATH(_secret) if missing,
 *                                       print "key Z85"
 *  probe --cert PATH --server-key Z85 --connect ENDPOINT
 *        [--timeout MS] [--wait MS] [--repeat N] [MESSAGE ...]
 *
 *  A MESSAGE is one frame, or frames joined by "+" into one multipart
 *  message. A frame is hex:HEX, str:TEXT, rand:N (N random bytes, new ones
 *  on each repeat) or file:PATH. The messages are sent N times (default
 *  1), each once the connection is up (the socket is immediate), within
 *  --timeout ms (default 5000); then the probe listens --wait ms more
 *  (default 1000). Output lines (ms: since the start):
 *
 *    key Z85
 *    event ms NAME        connected, handshake-ok, handshake-failed,
 *                         disconnected, closed, connect-retried
 *    sent COUNT           messages sent, once all are (or at the deadline)
 *    recv PARTS BYTES     a message received
 *    done sent=N recv=M
 *
 *  Exit status: 0, or 2 on bad usage or I/O errors. It never decides
 *  whether what it saw is right: the test does.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#define S_FRAME_MAX (64u << 20) /* largest frame the probe will build */

static void
s_usage(void)
{
    fprintf(stderr,
            "usage: probe --cert PATH [--server-key Z85 --connect ENDPOINT "
            "[--timeout MS] [--wait MS] [--repeat N] MESSAGE ...]\n"
            "  MESSAGE: FRAME[ + FRAME ...]; FRAME: hex:HEX str:TEXT "
            "rand:N file:PATH\n");
}

/* The certificate at @p path, created (and saved) if it does not exist. */
static zcert_t *
s_cert(const char *path)
{
    zcert_t *cert = zcert_load(path);
    if (!cert) {
        cert = zcert_new();
        if (!cert || zcert_save(cert, path) != 0) {
            fprintf(stderr, "probe: cannot save %s\n", path);
            zcert_destroy(&cert);
        }
    }
    return cert;
}

/* One frame from its spec, or NULL (reported) if the spec is bad. */
static zframe_t *
s_frame(const char *spec)
{
    if (strncmp(spec, "str:", 4) == 0) {
        return zframe_new(spec + 4, strlen(spec + 4));
    }
    if (strncmp(spec, "hex:", 4) == 0) {
        size_t hex_len = strlen(spec + 4);
        zframe_t *frame = zframe_new(NULL, hex_len / 2);
        size_t len = 0;
        if (sodium_hex2bin(zframe_data(frame), hex_len / 2, spec + 4, hex_len,
                           NULL, &len, NULL) == 0 &&
            len == hex_len / 2 && hex_len % 2 == 0) {
            return frame;
        }
        zframe_destroy(&frame);
    } else if (strncmp(spec, "rand:", 5) == 0) {
        char *end = NULL;
        unsigned long size = strtoul(spec + 5, &end, 10);
        if (end != spec + 5 && *end == '\0' && size <= S_FRAME_MAX) {
            zframe_t *frame = zframe_new(NULL, size);
            randombytes_buf(zframe_data(frame), size);
            return frame;
        }
    } else if (strncmp(spec, "file:", 5) == 0) {
        zfile_t *file = zfile_new(NULL, spec + 5);
        zchunk_t *chunk = NULL;
        if (file && zfile_input(file) == 0) {
            chunk = zfile_read(file, S_FRAME_MAX, 0);
        }
        zframe_t *frame =
            chunk ? zframe_new(zchunk_data(chunk), zchunk_size(chunk)) : NULL;
        zchunk_destroy(&chunk);
        zfile_destroy(&file);
        if (frame) {
            return frame;
        }
    }
    fprintf(stderr, "probe: bad frame '%.40s'\n", spec);
    return NULL;
}

static void
s_msg_free(void *item)
{
    zmsg_t *msg = item;
    zmsg_destroy(&msg);
}

/* The messages of argv[first..argc), or NULL (reported). */
static zlist_t *
s_messages(int argc, char **argv, int first)
{
    zlist_t *messages = zlist_new();
    zmsg_t *msg = NULL;
    bool join = false;
    for (int i = first; i < argc; i++) {
        if (streq(argv[i], "+")) {
            join = msg != NULL;
            continue;
        }
        zframe_t *frame = s_frame(argv[i]);
        if (!frame) {
            zlist_destroy(&messages);
            return NULL;
        }
        if (!join) {
            msg = zmsg_new();
            zlist_append(messages, msg);
            zlist_freefn(messages, msg, s_msg_free, true);
        }
        zmsg_append(msg, &frame);
        join = false;
    }
    return messages;
}

static const char *
s_event_name(uint16_t event)
{
    switch (event) {
    case ZMQ_EVENT_CONNECTED:
        return "connected";
    case ZMQ_EVENT_CONNECT_RETRIED:
        return "connect-retried";
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        return "handshake-ok";
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        return "handshake-failed";
    case ZMQ_EVENT_DISCONNECTED:
        return "disconnected";
    case ZMQ_EVENT_CLOSED:
        return "closed";
    default:
        return NULL;
    }
}

/* Print what the monitor saw; the first frame is the event number (16
 * bits) and its value (32 bits). */
static void
s_report_event(zsock_t *monitor, int64_t start)
{
    zmsg_t *msg = zmsg_recv(monitor);
    zframe_t *head = msg ? zmsg_first(msg) : NULL;
    if (head && zframe_size(head) >= 2) {
        uint16_t event;
        memcpy(&event, zframe_data(head), sizeof event);
        const char *name = s_event_name(event);
        if (name) {
            printf("event %" PRId64 " %s\n", zclock_mono() - start, name);
        }
    }
    zmsg_destroy(&msg);
}

/* Queue @p msg without blocking: false if it cannot be queued now (the
 * first frame decides for all of them). */
static bool
s_send(zsock_t *dealer, zmsg_t *msg)
{
    void *handle = zsock_resolve(dealer);
    size_t left = zmsg_size(msg);
    for (zframe_t *frame = zmsg_first(msg); frame; frame = zmsg_next(msg)) {
        int flags = ZMQ_DONTWAIT | (--left ? ZMQ_SNDMORE : 0);
        if (zmq_send(handle, zframe_data(frame), zframe_size(frame), flags) <
            0) {
            return false;
        }
    }
    return true;
}

/* Send every message @p repeat times, once each can be queued, until
 * @p deadline; report events and messages received meanwhile and until
 * @p wait ms after. Returns the number of messages sent. */
static long
s_run(zsock_t *dealer, zsock_t *monitor, int argc, char **argv, int first,
      long repeat, int64_t deadline, int wait, int64_t start)
{
    zpoller_t *poller = zpoller_new(dealer, monitor, NULL);
    long sent = 0, received = 0, round = 0;
    zlist_t *messages = NULL;
    zmsg_t *next = NULL;
    bool sending = first < argc && repeat > 0, reported = false;
    int64_t end = deadline;
    while (zclock_mono() < end) {
        while (sending && zclock_mono() < deadline) {
            if (!next && !messages) {
                messages = s_messages(argc, argv, first);
                next = messages ? zlist_first(messages) : NULL;
            }
            if (!next) {
                sending = false;
                break;
            }
            if (!s_send(dealer, next)) {
                break; /* not connected yet, or the queue is full */
            }
            sent++;
            next = zlist_next(messages);
            if (!next) {
                zlist_destroy(&messages);
                sending = ++round < repeat;
            }
        }
        if (!sending && !reported) {
            printf("sent %ld\n", sent);
            reported = true;
            end = zclock_mono() + wait;
        }
        void *which = zpoller_wait(poller, 10);
        if (which == monitor) {
            s_report_event(monitor, start);
        } else if (which == dealer) {
            zmsg_t *msg = zmsg_recv(dealer);
            if (msg) {
                printf("recv %zu %zu\n", zmsg_size(msg),
                       zmsg_content_size(msg));
                received++;
            }
            zmsg_destroy(&msg);
        }
        fflush(stdout);
        if (sending && zclock_mono() >= deadline) {
            sending = false;
        }
    }
    if (!reported) {
        printf("sent %ld\n", sent);
    }
    zlist_destroy(&messages);
    zpoller_destroy(&poller);
    printf("done sent=%ld recv=%ld\n", sent, received);
    return sent;
}

int
main(int argc, char **argv)
{
    const struct option options[] = {
        { "cert", required_argument, NULL, 'c' },
        { "server-key", required_argument, NULL, 'k' },
        { "connect", required_argument, NULL, 'e' },
        { "timeout", required_argument, NULL, 't' },
        { "wait", required_argument, NULL, 'w' },
        { "repeat", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    const char *cert_path = NULL, *server_key = NULL, *endpoint = NULL;
    int timeout = 5000, wait = 1000;
    long repeat = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cert_path = optarg;
            break;
        case 'k':
            server_key = optarg;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 't':
            timeout = atoi(optarg);
            break;
        case 'w':
            wait = atoi(optarg);
            break;
        case 'r':
            repeat = atol(optarg);
            break;
        default:
            s_usage();
            return 2;
        }
    }
    if (!cert_path || !server_key != !endpoint || sodium_init() < 0) {
        s_usage();
        return 2;
    }
    zlist_t *messages = s_messages(argc, argv, optind); /* valid? */
    if (!messages) {
        return 2;
    }
    zlist_destroy(&messages);
    zsys_init();
    zcert_t *cert = s_cert(cert_path);
    if (!cert) {
        return 2;
    }
    printf("key %s\n", zcert_public_txt(cert));
    fflush(stdout);
    if (!endpoint) {
        zcert_destroy(&cert);
        return 0;
    }
    int64_t start = zclock_mono();
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zsock_t *monitor = zsock_new(ZMQ_PAIR);
    zcert_apply(cert, dealer);
    zsock_set_curve_serverkey(dealer, server_key);
    zsock_set_linger(dealer, 0);
    zsock_set_immediate(dealer, 1);
    zsock_set_reconnect_ivl(dealer, 100);
    char monitor_endpoint[64];
    snprintf(monitor_endpoint, sizeof monitor_endpoint,
             "inproc://probe-monitor-%p", (void *) dealer);
    int rc = zmq_socket_monitor(zsock_resolve(dealer), monitor_endpoint,
                                ZMQ_EVENT_ALL);
    if (rc == 0) {
        rc = zsock_connect(monitor, "%s", monitor_endpoint);
    }
    if (rc == 0) {
        rc = zsock_connect(dealer, "%s", endpoint);
    }
    if (rc != 0) {
        fprintf(stderr, "probe: cannot dial %s: %s\n", endpoint,
                zmq_strerror(zmq_errno()));
    } else {
        s_run(dealer, monitor, argc, argv, optind, repeat, start + timeout,
              wait, start);
    }
    zmq_socket_monitor(zsock_resolve(dealer), NULL, 0);
    zsock_destroy(&monitor);
    zsock_destroy(&dealer);
    zcert_destroy(&cert);
    return rc == 0 ? 0 : 2;
}
