/*  gen_msg_corpus - write the seed corpus of fuzz_msg_decode.
 *  SPDX-License-Identifier: MIT
 *
 *  Usage: gen_msg_corpus DIR
 *  Writes valid NOTIFY, PULL and CHANGES frames made with cs_msg_encode,
 *  a few truncated or altered ones (among them the shapes before base and
 *  before puller_epoch), and the length bombs the decoder must refuse
 *  cheaply. Re-run it after a format change; the files are kept in
 *  tests/fuzz/fuzz_msg_decode.in/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/cs_msg.h"
#include "corpus_write.h"

static const char *s_dir; /* output directory */

static void
s_write(const char *name, const void *data, size_t len)
{
    corpus_write(s_dir, name, data, len);
}

/* Encode @p msg into @p name; @return its length, its bytes in @p buf. */
static size_t
s_write_msg(const char *name, const cs_msg_t *msg, cs_buf_t *buf)
{
    cs_buf_reset(buf);
    cs_msg_encode(msg, buf);
    s_write(name, buf->data, buf->len);
    return buf->len;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_msg_corpus DIR\n");
        return 2;
    }
    s_dir = argv[1];
    cs_buf_t buf;
    cs_buf_init(&buf);

    /* valid frames */
    cs_msg_t notify = { .type = CS_MSG_NOTIFY, .epoch = 0, .head = 0 };
    s_write_msg("notify-zero", &notify, &buf);
    notify.epoch = UINT64_MAX;
    notify.head = UINT64_MAX;
    s_write_msg("notify-max", &notify, &buf);
    cs_msg_t pull = { .type = CS_MSG_PULL,
                      .max_bytes = 1u << 20,
                      .puller_epoch = 0x2a };
    s_write_msg("pull-first", &pull, &buf);
    pull.epoch = 0x1234567890;
    pull.base = 100;
    pull.since = 250;
    pull.puller_epoch = UINT64_C(0xfedcba9876543210);
    s_write_msg("pull-mid-catch-up", &pull, &buf);
    pull.base = UINT64_MAX;
    pull.since = UINT64_MAX;
    pull.max_bytes = UINT32_MAX;
    pull.puller_epoch = UINT64_MAX;
    s_write_msg("pull-cap-max", &pull, &buf);

    static const uint8_t delta_bytes[300] = { 0x93, 0xa1, 'c', 0xa1, 'i' };
    cs_msg_bytes_t deltas[] = { { delta_bytes, 5 },
                                { delta_bytes, 256 },
                                { delta_bytes, 3 } };
    cs_msg_t changes = { .type = CS_MSG_CHANGES, .epoch = 7 };
    s_write_msg("changes-empty", &changes, &buf);
    changes.puller_epoch = 0x1234567890;
    changes.base = 10;
    changes.since = 20;
    changes.last_seq = 30;
    changes.head = 40;
    changes.n_deltas = 1;
    changes.deltas = deltas;
    s_write_msg("changes-one-delta", &changes, &buf);
    changes.n_deltas = 3;
    size_t len = s_write_msg("changes-three-deltas", &changes, &buf);
    /* truncated, and one byte too many */
    s_write("truncated-changes", buf.data, len / 2);
    cs_buf_append(&buf, "\x00", 1);
    s_write("trailing-byte", buf.data, buf.len);

    /* refused: positions out of order, older shapes, puller_epoch not a
     * uint or out of place, other versions and types */
    static const uint8_t base_after_since[] = { 0x97, 0x01, 0x02, 0x00,
                                                0x05, 0x04, 0x10, 0x2a };
    s_write("pull-base-after-since", base_after_since, sizeof base_after_since);
    static const uint8_t last_before_since[] = { 0x99, 0x01, 0x03, 0x00, 0x01,
                                                 0x05, 0x04, 0x09, 0x2a, 0x90 };
    s_write("changes-last-before-since", last_before_since,
            sizeof last_before_since);
    static const uint8_t head_before_last[] = { 0x99, 0x01, 0x03, 0x00, 0x01,
                                                0x05, 0x07, 0x06, 0x2a, 0x90 };
    s_write("changes-head-before-last", head_before_last,
            sizeof head_before_last);
    static const uint8_t old_pull[] = { 0x95, 0x01, 0x02, 0x00, 0x00, 0x10 };
    s_write("pull-without-base", old_pull, sizeof old_pull);
    static const uint8_t pull_6[] = {
        0x96, 0x01, 0x02, 0x00, 0x00, 0x00, 0x10
    };
    s_write("pull-without-puller-epoch", pull_6, sizeof pull_6);
    static const uint8_t changes_8[] = { 0x98, 0x01, 0x03, 0x07, 0x00, 0x01,
                                         0x02, 0x03, 0x91, 0xc4, 0x01, 0x93 };
    s_write("changes-without-puller-epoch", changes_8, sizeof changes_8);
    static const uint8_t epoch_after_deltas[] = { 0x99, 0x01, 0x03, 0x07, 0x00,
                                                  0x01, 0x02, 0x03, 0x91, 0xc4,
                                                  0x01, 0x93, 0x2a };
    s_write("changes-puller-epoch-after-deltas", epoch_after_deltas,
            sizeof epoch_after_deltas);
    static const uint8_t signed_puller_epoch[] = { 0x97, 0x01, 0x02, 0x00, 0x00,
                                                   0x00, 0x10, 0xd0, 0x2a };
    s_write("pull-signed-puller-epoch", signed_puller_epoch,
            sizeof signed_puller_epoch);
    static const uint8_t str_puller_epoch[] = { 0x99, 0x01, 0x03, 0x00,
                                                0x00, 0x00, 0x00, 0x00,
                                                0xa1, '5',  0x90 };
    s_write("changes-str-puller-epoch", str_puller_epoch,
            sizeof str_puller_epoch);
    static const uint8_t version_2[] = { 0x94, 0x02, 0x01, 0x00, 0x00 };
    s_write("version-2", version_2, sizeof version_2);
    static const uint8_t type_4[] = { 0x94, 0x01, 0x04, 0x00, 0x00 };
    s_write("type-4", type_4, sizeof type_4);
    static const uint8_t map[] = { 0x82, 0x01, 0x01, 0x00, 0x00 };
    s_write("map-instead-of-array", map, sizeof map);
    static const uint8_t signed_epoch[] = {
        0x94, 0x01, 0x01, 0xd0, 0x05, 0x00
    };
    s_write("notify-signed-epoch", signed_epoch, sizeof signed_epoch);
    static const uint8_t max_bytes_64[] = { 0x97, 0x01, 0x02, 0x00, 0x00, 0x00,
                                            0xcf, 0x00, 0x00, 0x00, 0x01, 0x00,
                                            0x00, 0x00, 0x00, 0x2a };
    s_write("pull-max-bytes-over-32-bits", max_bytes_64, sizeof max_bytes_64);
    s_write("empty-input", "", 0);

    /* length bombs: a delta array and a bin that claim 2^32 - 1 */
    static const uint8_t bomb_array[] = { 0x99, 0x01, 0x03, 0x00, 0x00,
                                          0x00, 0x00, 0x00, 0x00, 0xdd,
                                          0xff, 0xff, 0xff, 0xff };
    s_write("bomb-delta-array32", bomb_array, sizeof bomb_array);
    static const uint8_t bomb_bin[] = { 0x99, 0x01, 0x03, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x00, 0x91,
                                        0xc6, 0xff, 0xff, 0xff, 0xff };
    s_write("bomb-delta-bin32", bomb_bin, sizeof bomb_bin);
    cs_buf_fini(&buf);
    return 0;
}
