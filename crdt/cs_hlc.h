/*  cs_hlc - hybrid logical clock (Kulkarni et al. 2014) in one uint64_t.
 *  SPDX-License-Identifier: MIT
 *
 *  The high 48 bits are wall-clock milliseconds since the Unix epoch, the low
 *  16 bits a logical counter. Timestamps compare as plain integers. Pure: the
 *  wall-clock reading is always passed in, never read here.
 *
 *  Counter overflow: when more than 65,535 events share one millisecond, the
 *  clock borrows the next millisecond (wall part + 1, counter 0), so
 *  timestamps stay strictly increasing; it catches up with real time as soon
 *  as real time passes it.
 */
#ifndef CS_HLC_H
#define CS_HLC_H

#include <stdbool.h>
#include <stdint.h>

#include "crdt/cs_err.h"

typedef uint64_t cs_hlc_t;

#define CS_HLC_LOGICAL_BITS 16
#define CS_HLC_LOGICAL_MAX  0xFFFFu
#define CS_HLC_WALL_MAX     ((UINT64_C(1) << 48) - 1)
/** Default allowed lead of a remote clock over ours, in milliseconds. */
#define CS_HLC_MAX_DRIFT_DEFAULT_MS 60000u

/** A local HLC: the last timestamp issued or received, and the drift bound. */
typedef struct {
    cs_hlc_t last;         /* largest timestamp seen so far */
    uint64_t max_drift_ms; /* remote lead beyond this is not adopted */
} cs_hlc_clock_t;

/** Compose a timestamp. @p wall_ms is clamped to CS_HLC_WALL_MAX. */
cs_hlc_t cs_hlc_make(uint64_t wall_ms, uint16_t logical);

/** Wall-clock milliseconds part of @p ts. */
uint64_t cs_hlc_wall(cs_hlc_t ts);

/** Logical counter part of @p ts. */
uint16_t cs_hlc_logical(cs_hlc_t ts);

/** Start a clock that has already seen @p last (0 for a new clock). */
void cs_hlc_clock_init(cs_hlc_clock_t *clk, cs_hlc_t last,
                       uint64_t max_drift_ms);

/** Timestamp a local event at wall-clock reading @p wall_ms. The result is
 *  strictly greater than every timestamp this clock issued or adopted. */
cs_hlc_t cs_hlc_now(cs_hlc_clock_t *clk, uint64_t wall_ms);

/** Take in a timestamp @p remote received from a peer at wall-clock reading
 *  @p wall_ms and timestamp the receive event in @p *out.
 *  @return CS_OK, or CS_EDRIFT if @p remote is more than max_drift_ms ahead
 *  of @p wall_ms: then the clock does not adopt it (it advances as for a
 *  local event) and the caller should count and log the skew. The remote
 *  value itself must still be merged: dropping it would break convergence. */
CS_NODISCARD int cs_hlc_update(cs_hlc_clock_t *clk, cs_hlc_t remote,
                               uint64_t wall_ms, cs_hlc_t *out);

/** True if @p remote leads @p wall_ms by more than @p max_drift_ms. */
bool cs_hlc_is_skewed(cs_hlc_t remote, uint64_t wall_ms, uint64_t max_drift_ms);

#endif /* CS_HLC_H */
