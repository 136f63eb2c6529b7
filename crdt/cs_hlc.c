/*  cs_hlc - hybrid logical clock.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>

#include "crdt/cs_hlc.h"

cs_hlc_t
cs_hlc_make(uint64_t wall_ms, uint16_t logical)
{
    if (wall_ms > CS_HLC_WALL_MAX) {
        wall_ms = CS_HLC_WALL_MAX;
    }
    return (wall_ms << CS_HLC_LOGICAL_BITS) | logical;
}

uint64_t
cs_hlc_wall(cs_hlc_t ts)
{
    return ts >> CS_HLC_LOGICAL_BITS;
}

uint16_t
cs_hlc_logical(cs_hlc_t ts)
{
    return (uint16_t) (ts & CS_HLC_LOGICAL_MAX);
}

void
cs_hlc_clock_init(cs_hlc_clock_t *clk, cs_hlc_t last, uint64_t max_drift_ms)
{
    assert(clk);
    clk->last = last;
    clk->max_drift_ms = max_drift_ms;
}

/*  The next timestamp after max(clk->last, floor): a fresh millisecond when
 *  the wall clock moved past it, else the same millisecond with counter + 1,
 *  borrowing the next millisecond when the counter is exhausted. */
static cs_hlc_t
s_advance(cs_hlc_clock_t *clk, cs_hlc_t floor, uint64_t wall_ms)
{
    cs_hlc_t base = clk->last > floor ? clk->last : floor;
    cs_hlc_t fresh = cs_hlc_make(wall_ms, 0);
    if (fresh > base) {
        clk->last = fresh;
    } else {
        /* base + 1 carries the full counter into the wall part. The clock
         * can only stop at the very end of the 48-bit range (year 10889). */
        assert(base < UINT64_MAX);
        clk->last = base + 1;
    }
    return clk->last;
}

cs_hlc_t
cs_hlc_now(cs_hlc_clock_t *clk, uint64_t wall_ms)
{
    assert(clk);
    return s_advance(clk, 0, wall_ms);
}

bool
cs_hlc_is_skewed(cs_hlc_t remote, uint64_t wall_ms, uint64_t max_drift_ms)
{
    uint64_t remote_ms = cs_hlc_wall(remote);
    return remote_ms > wall_ms && remote_ms - wall_ms > max_drift_ms;
}

int
cs_hlc_update(cs_hlc_clock_t *clk, cs_hlc_t remote, uint64_t wall_ms,
              cs_hlc_t *out)
{
    assert(clk);
    assert(out);
    if (cs_hlc_is_skewed(remote, wall_ms, clk->max_drift_ms)) {
        *out = s_advance(clk, 0, wall_ms);
        return CS_EDRIFT;
    }
    *out = s_advance(clk, remote, wall_ms);
    return CS_OK;
}
