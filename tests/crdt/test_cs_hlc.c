/*  test_cs_hlc - the hybrid logical clock: local events, remote timestamps,
 *  a wall clock that goes backwards, counter overflow and clock drift.
 *  SPDX-License-Identifier: MIT
 *
 *  The clock never reads time itself: every call takes the wall-clock
 *  reading, so these tests drive it with made-up milliseconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crdt/cs_hlc.h"

#define T0 UINT64_C(1700000000000) /* some wall-clock reading, in ms */

static void
test_hlc_make_packs_wall_ms_and_counter(void **state)
{
    (void) state;
    cs_hlc_t ts = cs_hlc_make(T0, 7);
    assert_int_equal(cs_hlc_wall(ts), T0);
    assert_int_equal(cs_hlc_logical(ts), 7);
    assert_int_equal(ts, (T0 << CS_HLC_LOGICAL_BITS) | 7);

    assert_int_equal(cs_hlc_make(0, 0), 0);
    assert_int_equal(cs_hlc_logical(cs_hlc_make(1, CS_HLC_LOGICAL_MAX)),
                     CS_HLC_LOGICAL_MAX);
    assert_int_equal(cs_hlc_make(CS_HLC_WALL_MAX, CS_HLC_LOGICAL_MAX),
                     UINT64_MAX);
}

static void
test_hlc_make_clamps_wall_ms_to_48_bits(void **state)
{
    (void) state;
    cs_hlc_t ts = cs_hlc_make(CS_HLC_WALL_MAX + 1, 3);
    assert_int_equal(cs_hlc_wall(ts), CS_HLC_WALL_MAX);
    assert_int_equal(cs_hlc_logical(ts), 3);
    assert_int_equal(cs_hlc_wall(cs_hlc_make(UINT64_MAX, 0)), CS_HLC_WALL_MAX);
}

static void
test_hlc_timestamps_order_as_integers(void **state)
{
    (void) state;
    /* a later millisecond beats any counter of an earlier one */
    assert_true(cs_hlc_make(T0, CS_HLC_LOGICAL_MAX) < cs_hlc_make(T0 + 1, 0));
    assert_true(cs_hlc_make(T0, 1) < cs_hlc_make(T0, 2));
}

static void
test_hlc_now_follows_a_wall_clock_that_moves_forward(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, CS_HLC_MAX_DRIFT_DEFAULT_MS);

    assert_int_equal(cs_hlc_now(&clk, T0), cs_hlc_make(T0, 0));
    assert_int_equal(cs_hlc_now(&clk, T0 + 5), cs_hlc_make(T0 + 5, 0));
    assert_int_equal(clk.last, cs_hlc_make(T0 + 5, 0));
}

static void
test_hlc_now_counts_events_within_one_millisecond(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, CS_HLC_MAX_DRIFT_DEFAULT_MS);

    assert_int_equal(cs_hlc_now(&clk, T0), cs_hlc_make(T0, 0));
    assert_int_equal(cs_hlc_now(&clk, T0), cs_hlc_make(T0, 1));
    assert_int_equal(cs_hlc_now(&clk, T0), cs_hlc_make(T0, 2));
    /* the next millisecond resets the counter */
    assert_int_equal(cs_hlc_now(&clk, T0 + 1), cs_hlc_make(T0 + 1, 0));
}

static void
test_hlc_now_stays_monotonic_when_wall_clock_goes_backwards(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, CS_HLC_MAX_DRIFT_DEFAULT_MS);

    cs_hlc_t before = cs_hlc_now(&clk, T0 + 1000);
    /* NTP steps the clock back by a second: keep the old millisecond and
     * count up instead of going back in time */
    cs_hlc_t after = cs_hlc_now(&clk, T0);
    assert_true(after > before);
    assert_int_equal(cs_hlc_wall(after), T0 + 1000);
    assert_int_equal(cs_hlc_logical(after), 1);

    cs_hlc_t later = cs_hlc_now(&clk, T0 + 1);
    assert_true(later > after);
    /* once real time passes the old reading, the clock follows it again */
    assert_int_equal(cs_hlc_now(&clk, T0 + 1001), cs_hlc_make(T0 + 1001, 0));
}

static void
test_hlc_now_after_init_is_beyond_the_restored_timestamp(void **state)
{
    (void) state;
    /* a node restarts and restores the largest timestamp it had issued */
    cs_hlc_t restored = cs_hlc_make(T0 + 50, 9);
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, restored, 1000);
    assert_int_equal(clk.last, restored);
    assert_int_equal(clk.max_drift_ms, 1000);

    assert_int_equal(cs_hlc_now(&clk, T0), cs_hlc_make(T0 + 50, 10));
    assert_int_equal(cs_hlc_now(&clk, T0 + 51), cs_hlc_make(T0 + 51, 0));
}

static void
test_hlc_counter_overflow_borrows_next_millisecond(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, CS_HLC_MAX_DRIFT_DEFAULT_MS);

    /* 65,536 events fill one millisecond: counters 0..65535 */
    cs_hlc_t prev = cs_hlc_now(&clk, T0);
    for (uint32_t n = 1; n <= CS_HLC_LOGICAL_MAX; n++) {
        cs_hlc_t ts = cs_hlc_now(&clk, T0);
        assert_true(ts > prev);
        assert_int_equal(cs_hlc_wall(ts), T0);
        prev = ts;
    }
    assert_int_equal(prev, cs_hlc_make(T0, CS_HLC_LOGICAL_MAX));

    /* the 65,537th event borrows T0 + 1 */
    cs_hlc_t borrowed = cs_hlc_now(&clk, T0);
    assert_int_equal(borrowed, cs_hlc_make(T0 + 1, 0));

    /* a few more thousand events at the same reading keep increasing */
    prev = borrowed;
    for (uint32_t n = 0; n < 70000; n++) {
        cs_hlc_t ts = cs_hlc_now(&clk, T0);
        assert_true(ts > prev);
        prev = ts;
    }
    assert_int_equal(prev, cs_hlc_make(T0 + 2, 70000 - 65536));

    /* real time reaching the borrowed millisecond does not go back */
    cs_hlc_t caught = cs_hlc_now(&clk, T0 + 2);
    assert_true(caught > prev);
    /* and real time passing it is followed again */
    assert_int_equal(cs_hlc_now(&clk, T0 + 3), cs_hlc_make(T0 + 3, 0));
}

static void
test_hlc_update_adopts_a_remote_ahead_within_drift(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, 1000);
    (void) cs_hlc_now(&clk, T0);

    /* a peer 500 ms ahead: within the 1000 ms drift bound */
    cs_hlc_t remote = cs_hlc_make(T0 + 500, 4);
    cs_hlc_t out = 0;
    assert_int_equal(cs_hlc_update(&clk, remote, T0, &out), CS_OK);
    assert_true(out > remote);
    assert_int_equal(out, cs_hlc_make(T0 + 500, 5));
    assert_int_equal(clk.last, out);

    /* local events after it stay ahead of the adopted time */
    cs_hlc_t next = cs_hlc_now(&clk, T0 + 1);
    assert_int_equal(next, cs_hlc_make(T0 + 500, 6));
}

static void
test_hlc_update_exactly_at_drift_bound_is_adopted(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, 1000);

    cs_hlc_t remote = cs_hlc_make(T0 + 1000, CS_HLC_LOGICAL_MAX);
    cs_hlc_t out = 0;
    assert_int_equal(cs_hlc_update(&clk, remote, T0, &out), CS_OK);
    assert_true(out > remote);
    assert_int_equal(out, cs_hlc_make(T0 + 1001, 0));
}

static void
test_hlc_update_with_a_remote_behind_counts_as_a_local_event(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, 1000);
    cs_hlc_t local = cs_hlc_now(&clk, T0);

    cs_hlc_t out = 0;
    assert_int_equal(cs_hlc_update(&clk, cs_hlc_make(T0 - 10, 3), T0, &out),
                     CS_OK);
    assert_int_equal(out, cs_hlc_make(T0, 1));
    assert_true(out > local);

    /* a newer wall clock wins over both */
    assert_int_equal(cs_hlc_update(&clk, cs_hlc_make(T0 - 10, 3), T0 + 7, &out),
                     CS_OK);
    assert_int_equal(out, cs_hlc_make(T0 + 7, 0));
}

static void
test_hlc_update_with_equal_timestamp_moves_past_it(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, 1000);
    cs_hlc_t local = cs_hlc_now(&clk, T0);

    cs_hlc_t out = 0;
    assert_int_equal(cs_hlc_update(&clk, local, T0, &out), CS_OK);
    assert_true(out > local);
    assert_int_equal(clk.last, out);
}

static void
test_hlc_update_beyond_drift_returns_edrift_and_keeps_local_time(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, 1000);
    cs_hlc_t local = cs_hlc_now(&clk, T0);

    /* a peer whose clock is an hour ahead */
    cs_hlc_t remote = cs_hlc_make(T0 + 3600 * 1000, 0);
    cs_hlc_t out = 0;
    assert_int_equal(cs_hlc_update(&clk, remote, T0, &out), CS_EDRIFT);
    /* the receive event is timestamped as a local event... */
    assert_true(out > local);
    assert_int_equal(out, cs_hlc_make(T0, 1));
    /* ...and the clock was not dragged to the remote time */
    assert_int_equal(clk.last, out);
    assert_true(clk.last < remote);
    cs_hlc_t next = cs_hlc_now(&clk, T0 + 1);
    assert_int_equal(next, cs_hlc_make(T0 + 1, 0));
    assert_true(next < remote);
}

static void
test_hlc_update_one_ms_beyond_drift_bound_is_refused(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, 1000);

    cs_hlc_t out = 0;
    assert_int_equal(cs_hlc_update(&clk, cs_hlc_make(T0 + 1001, 0), T0, &out),
                     CS_EDRIFT);
    assert_int_equal(out, cs_hlc_make(T0, 0));
    assert_int_equal(cs_hlc_wall(clk.last), T0);
}

static void
test_hlc_update_beyond_drift_stays_monotonic_after_an_adoption(void **state)
{
    (void) state;
    cs_hlc_clock_t clk;
    cs_hlc_clock_init(&clk, 0, 1000);

    cs_hlc_t out = 0;
    assert_int_equal(cs_hlc_update(&clk, cs_hlc_make(T0 + 900, 0), T0, &out),
                     CS_OK);
    cs_hlc_t adopted = out;
    /* the wall clock goes back and a far-ahead remote arrives */
    assert_int_equal(
        cs_hlc_update(&clk, cs_hlc_make(T0 + 999999, 0), T0 - 5, &out),
        CS_EDRIFT);
    assert_true(out > adopted);
    assert_int_equal(cs_hlc_wall(out), T0 + 900);
}

static void
test_hlc_is_skewed_only_when_remote_leads_by_more_than_drift(void **state)
{
    (void) state;
    assert_false(cs_hlc_is_skewed(cs_hlc_make(T0, 0), T0, 0));
    assert_false(cs_hlc_is_skewed(cs_hlc_make(T0 - 99999, 0), T0, 10));
    assert_false(cs_hlc_is_skewed(cs_hlc_make(T0 + 10, 500), T0, 10));
    assert_true(cs_hlc_is_skewed(cs_hlc_make(T0 + 11, 0), T0, 10));
    assert_true(cs_hlc_is_skewed(cs_hlc_make(T0 + 1, 0), T0, 0));
    assert_false(
        cs_hlc_is_skewed(cs_hlc_make(CS_HLC_WALL_MAX, 0), 0, CS_HLC_WALL_MAX));
    assert_true(cs_hlc_is_skewed(cs_hlc_make(CS_HLC_WALL_MAX, 0), 0,
                                 CS_HLC_WALL_MAX - 1));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hlc_make_packs_wall_ms_and_counter),
        cmocka_unit_test(test_hlc_make_clamps_wall_ms_to_48_bits),
        cmocka_unit_test(test_hlc_timestamps_order_as_integers),
        cmocka_unit_test(test_hlc_now_follows_a_wall_clock_that_moves_forward),
        cmocka_unit_test(test_hlc_now_counts_events_within_one_millisecond),
        cmocka_unit_test(
            test_hlc_now_stays_monotonic_when_wall_clock_goes_backwards),
        cmocka_unit_test(
            test_hlc_now_after_init_is_beyond_the_restored_timestamp),
        cmocka_unit_test(test_hlc_counter_overflow_borrows_next_millisecond),
        cmocka_unit_test(test_hlc_update_adopts_a_remote_ahead_within_drift),
        cmocka_unit_test(test_hlc_update_exactly_at_drift_bound_is_adopted),
        cmocka_unit_test(
            test_hlc_update_with_a_remote_behind_counts_as_a_local_event),
        cmocka_unit_test(test_hlc_update_with_equal_timestamp_moves_past_it),
        cmocka_unit_test(
            test_hlc_update_beyond_drift_returns_edrift_and_keeps_local_time),
        cmocka_unit_test(test_hlc_update_one_ms_beyond_drift_bound_is_refused),
        cmocka_unit_test(
            test_hlc_update_beyond_drift_stays_monotonic_after_an_adoption),
        cmocka_unit_test(
            test_hlc_is_skewed_only_when_remote_leads_by_more_than_drift),
    };
    return cmocka_run_group_tests_name("crdt/cs_hlc", tests, NULL, NULL);
}
