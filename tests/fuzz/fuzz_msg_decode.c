/*  fuzz_msg_decode - untrusted frames into the sync protocol's decoder.
 *  SPDX-License-Identifier: MIT
 *
 *  cs_msg_decode must return CS_OK or CS_EPROTO, never crash, leak, read
 *  past the frame or allocate what a header merely claims, and leave
 *  nothing to free when it refuses. The decoder takes integers, arrays and
 *  bins in any width, so an accepted frame need not come back byte for
 *  byte; what must hold is: with e1 = encode(decode(frame)),
 *  decode(e1) == decode(frame), encode(decode(e1)) == e1, e1 is no longer
 *  than the frame, and equal to it when just as long (a frame already in
 *  the shortest form round trips exactly).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/cs_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static bool
s_is_zero(const cs_msg_t *msg)
{
    static const cs_msg_t zero;
    return msg->deltas == NULL && memcmp(msg, &zero, sizeof zero) == 0;
}

static bool
s_equal(const cs_msg_t *a, const cs_msg_t *b)
{
    if (a->type != b->type || a->epoch != b->epoch || a->base != b->base ||
        a->since != b->since || a->last_seq != b->last_seq ||
        a->head != b->head || a->max_bytes != b->max_bytes ||
        a->puller_epoch != b->puller_epoch || a->n_deltas != b->n_deltas) {
        return false;
    }
    for (size_t i = 0; i < a->n_deltas; i++) {
        if (a->deltas[i].len != b->deltas[i].len ||
            memcmp(a->deltas[i].data, b->deltas[i].data, a->deltas[i].len)) {
            return false;
        }
    }
    return true;
}

/*  What the header promises of every decoded message. */
static void
s_check_decoded(const cs_msg_t *msg, const uint8_t *data, size_t size)
{
    s_check(strcmp(cs_msg_type_name((int) msg->type), "?") != 0);
    s_check(msg->n_deltas <= CS_MSG_DELTAS_MAX);
    s_check((msg->n_deltas == 0) == (msg->deltas == NULL));
    for (size_t i = 0; i < msg->n_deltas; i++) {
        const cs_msg_bytes_t *delta = &msg->deltas[i];
        s_check(delta->len > 0 && delta->len <= CS_CODEC_RECORD_MAX);
        s_check(delta->data > data && delta->data + delta->len <= data + size);
    }
    if (msg->type != CS_MSG_CHANGES) {
        s_check(msg->n_deltas == 0 && msg->last_seq == 0);
    }
    if (msg->type != CS_MSG_PULL) {
        s_check(msg->max_bytes == 0);
    }
    if (msg->type == CS_MSG_NOTIFY) {
        s_check(msg->base == 0 && msg->since == 0 && msg->puller_epoch == 0);
    } else {
        s_check(msg->base <= msg->since);
    }
    if (msg->type == CS_MSG_CHANGES) {
        s_check(msg->since <= msg->last_seq && msg->last_seq <= msg->head);
    } else if (msg->type == CS_MSG_PULL) {
        s_check(msg->head == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_msg_t msg;
    int rc = cs_msg_decode(data, size, &msg);
    s_check(rc == CS_OK || rc == CS_EPROTO);
    if (rc != CS_OK) {
        s_check(s_is_zero(&msg));
        return 0;
    }
    s_check_decoded(&msg, data, size);

    cs_buf_t e1, e2;
    cs_buf_init(&e1);
    cs_buf_init(&e2);
    cs_msg_encode(&msg, &e1);
    s_check(e1.len <= size);
    if (e1.len == size) {
        s_check(memcmp(e1.data, data, size) == 0);
    }
    cs_msg_t back;
    s_check(cs_msg_decode(e1.data, e1.len, &back) == CS_OK);
    s_check(s_equal(&msg, &back));
    cs_msg_encode(&back, &e2);
    s_check(e2.len == e1.len && memcmp(e2.data, e1.data, e1.len) == 0);

    cs_msg_fini(&back);
    cs_buf_fini(&e2);
    cs_buf_fini(&e1);
    cs_msg_fini(&msg);
    return 0;
}
