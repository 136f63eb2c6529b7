/*  cs_msg - the sync protocol's wire messages: versioned msgpack, decoded
 *  with limits before anything is allocated.
 *  SPDX-License-Identifier: MIT
 *
 *  One ZeroMQ frame carries one message, a msgpack array whose first two
 *  items are the protocol version and the message type:
 *
 *    NOTIFY   [1, 1, epoch, head]
 *    PULL     [1, 2, epoch, base, since, max_bytes, puller_epoch]
 *    CHANGES  [1, 3, epoch, base, since, last_seq, head, puller_epoch,
 *              [delta, ...]]
 *
 *  - NOTIFY: the sender's feed head moved (or a heartbeat): its db epoch
 *    and feed head.
 *  - PULL: "send me the records changed after @c since, each with the
 *    fields changed after @c base". (epoch, base, since) is the puller's
 *    cursor: @c epoch the epoch it belongs to (0: none yet), @c since the
 *    last feed seq applied, @c base where the current catch-up started (a
 *    record is in the feed once, at its latest seq, so a catch-up of several
 *    batches must send every field changed since its start). A server whose
 *    epoch differs serves from base 0, since 0. @c max_bytes caps the batch
 *    (see cs_store_changes). @c puller_epoch is the puller's own db epoch:
 *    the server leaves out what it took from the puller's feed of that
 *    epoch, which the puller has (its echo, see cs_store_changes_to).
 *  - CHANGES: the answer. @c epoch and @c head are the server's, @c base and
 *    @c since those it served (the PULL's, or 0 and 0 when the epoch
 *    differed), @c last_seq the feed position the batch covers,
 *    @c puller_epoch the PULL's (a puller whose epoch changed since must
 *    not apply it: it may lack what was left out). Each delta is
 *    a msgpack bin holding one cs_codec delta ([collection, id, canonical
 *    record], see cs_codec_encode_delta); the deltas are checked by
 *    cs_codec_decode_delta when applied, not here.
 *
 *  Integers are msgpack unsigned integers in any width (positive fixint,
 *  uint 8/16/32/64); max_bytes fits in 32 bits; base <= since (PULL,
 *  CHANGES) and since <= last_seq <= head (CHANGES). A message with another
 *  version, an unknown type, a wrong item count or type, trailing bytes, or
 *  beyond the limits below is refused with CS_EPROTO. The decoder reads the
 *  frame in place (no msgpack-c, no allocation except the delta table of a
 *  CHANGES, whose size it checks against the bytes that remain first).
 */
#ifndef CS_MSG_H
#define CS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_codec.h"
#include "crdt/cs_err.h"

#define CS_MSG_VERSION 1u
/** Largest frame: a batch cap of CS_MSG_BATCH_MAX plus one record of
 *  CS_CODEC_RECORD_MAX (a batch may pass its cap by one record), plus
 *  headers. Also the transport's ZMQ_MAXMSGSIZE. */
#define CS_MSG_BATCH_MAX (8u << 20)
#define CS_MSG_MAX       (CS_MSG_BATCH_MAX + CS_CODEC_RECORD_MAX + 4096u)
/** Most deltas in one CHANGES (each takes at least a few bytes anyway). */
#define CS_MSG_DELTAS_MAX 1000000u

typedef enum {
    CS_MSG_NOTIFY = 1,
    CS_MSG_PULL = 2,
    CS_MSG_CHANGES = 3,
} cs_msg_type_t;

/** Bytes borrowed from elsewhere (a frame, a buffer). */
typedef struct {
    const uint8_t *data;
    size_t len;
} cs_msg_bytes_t;

/** One message. Which fields mean something depends on @c type (see the
 *  table above); the others are 0. */
typedef struct {
    cs_msg_type_t type;
    uint64_t epoch;
    uint64_t base;         /* PULL, CHANGES: start of the catch-up */
    uint64_t since;        /* PULL, CHANGES */
    uint64_t last_seq;     /* CHANGES */
    uint64_t head;         /* NOTIFY, CHANGES */
    uint64_t puller_epoch; /* PULL, CHANGES: the puller's own epoch */
    uint32_t max_bytes;    /* PULL */
    size_t n_deltas;       /* CHANGES */
    /* CHANGES: each an encoded cs_codec delta. After cs_msg_decode, the
     * table is owned by the message (free it with cs_msg_fini) and points
     * into the decoded frame, which must outlive it. For cs_msg_encode,
     * the caller's. */
    cs_msg_bytes_t *deltas;
} cs_msg_t;

/** Append the encoding of @p msg to @p out, every integer, array and bin
 *  in its shortest msgpack form. Asserts that @p msg is valid (a known
 *  type, within the limits: each delta 1 to CS_CODEC_RECORD_MAX bytes, at
 *  most CS_MSG_DELTAS_MAX of them, the frame at most CS_MSG_MAX). Fields
 *  the type does not use are not encoded. */
void cs_msg_encode(const cs_msg_t *msg, cs_buf_t *out);

/** Decode the frame @p data (@p len bytes) into @p msg. On success a
 *  CHANGES message owns its delta table, which points into @p data.
 *  @return CS_OK, or CS_EPROTO (then @p msg holds nothing to free). */
CS_NODISCARD int cs_msg_decode(const void *data, size_t len, cs_msg_t *msg);

/** Free what cs_msg_decode allocated and zero @p msg. Safe to call twice. */
void cs_msg_fini(cs_msg_t *msg);

/** The type's name ("NOTIFY", ...), or "?" for an unknown value. */
const char *cs_msg_type_name(int type);

#endif /* CS_MSG_H */
