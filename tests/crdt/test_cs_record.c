/*  test_cs_record - the LWW-map record: last writer wins per field, ties,
 *  the record tombstone, merge, deltas since a feed seq, and the limits.
 *  SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crdt/cs_record.h"

#define NODE_A 0x0a0a0a0a0a0a0a0aULL /* node ids of three writers */
#define NODE_B 0x0b0b0b0b0b0b0b0bULL
#define NODE_C 0x0c0c0c0c0c0c0c0cULL
#define T0     UINT64_C(1700000000000)

/* A stamp at wall clock T0 + @p ms, counter 0, written by @p origin. */
static cs_stamp_t
s_at(uint64_t ms, uint64_t origin)
{
    cs_stamp_t stamp = { cs_hlc_make(T0 + ms, 0), origin };
    return stamp;
}

/* Set a string field and return whether it took effect. */
static bool
s_set_str(cs_record_t *rec, const char *name, const char *text,
          cs_stamp_t stamp, uint64_t seq)
{
    cs_value_t value = cs_value_str(text);
    bool changed = false;
    assert_int_equal(cs_record_set(rec, name, &value, stamp, seq, &changed),
                     CS_OK);
    return changed;
}

/* Assert that field @p name holds the string @p text. */
static void
s_assert_str(const cs_record_t *rec, const char *name, const char *text)
{
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, name, &field), CS_OK);
    assert_string_equal(field.name, name);
    assert_int_equal(field.value.type, CS_VALUE_STR);
    assert_int_equal(field.value.u.s.len, strlen(text));
    assert_memory_equal(field.value.u.s.ptr, text, strlen(text));
}

static uint64_t
s_seq_of(const cs_record_t *rec, const char *name)
{
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, name, &field), CS_OK);
    return field.seq;
}

static bool
s_has(const cs_record_t *rec, const char *name)
{
    cs_field_t field;
    int rc = cs_record_get(rec, name, &field);
    assert_true(rc == CS_OK || rc == CS_ENOENT);
    return rc == CS_OK;
}

/* Field names f0000, f0001, ... (sorted bytewise in number order). */
static void
s_name(char *buf, size_t size, unsigned n)
{
    snprintf(buf, size, "f%04u", n);
}

/* ---------------- basics ---------------- */

static void
test_record_new_is_empty(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    assert_non_null(rec);
    assert_true(cs_record_is_empty(rec));
    assert_false(cs_record_is_deleted(rec));
    assert_false(cs_record_tombstone(rec, NULL, NULL));
    assert_int_equal(cs_record_field_count(rec), 0);
    assert_int_equal(cs_record_max_seq(rec), 0);
    assert_int_equal(cs_record_min_seq(rec), UINT64_MAX);
    assert_int_equal(cs_record_max_hlc(rec), 0);
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, "name", &field), CS_ENOENT);
    cs_record_destroy(&rec);
}

static void
test_record_destroy_nulls_pointer_and_is_idempotent(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    cs_record_destroy(&rec);
    assert_null(rec);
    cs_record_destroy(&rec); /* already NULL: harmless */
}

static void
test_record_destroy_accepts_a_null_pointer(void **state)
{
    (void) state;
    /* "Safe on NULL" (cs_record.h; STYLE.md section 2: "safe on NULL and on
     * an already-NULL *self_p"). Run in a child: if destroy asserts, the
     * abort must not take the rest of this file down with it. */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        cs_record_destroy(NULL);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail_msg("cs_record_destroy(NULL) did not return normally "
                 "(signal %d)",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
}

static void
test_record_set_then_get_returns_value_stamp_and_seq(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    cs_value_t email = cs_value_str("ada@example.org");
    bool changed = false;
    assert_int_equal(
        cs_record_set(rec, "email", &email, s_at(1, NODE_A), 7, &changed),
        CS_OK);
    assert_true(changed);

    cs_field_t field;
    assert_int_equal(cs_record_get(rec, "email", &field), CS_OK);
    assert_string_equal(field.name, "email");
    assert_int_equal(cs_value_compare(&field.value, &email), 0);
    assert_int_equal(field.stamp.hlc, s_at(1, NODE_A).hlc);
    assert_int_equal(field.stamp.origin, NODE_A);
    assert_int_equal(field.seq, 7);
    assert_int_equal(cs_record_field_count(rec), 1);
    assert_false(cs_record_is_empty(rec));
    assert_false(cs_record_is_deleted(rec));
    cs_record_destroy(&rec);
}

static void
test_record_set_copies_the_value(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    char text[] = "draft";
    unsigned char blob[] = { 0x00, 0x01, 0x00, 0xff };
    cs_value_t str = cs_value_str(text);
    cs_value_t bin = cs_value_bin(blob, sizeof blob);
    assert_int_equal(cs_record_set(rec, "note", &str, s_at(1, NODE_A), 1, NULL),
                     CS_OK);
    assert_int_equal(cs_record_set(rec, "blob", &bin, s_at(1, NODE_A), 1, NULL),
                     CS_OK);
    /* the caller's buffers are reused: the record must hold its own copy */
    memset(text, 'X', sizeof text - 1);
    memset(blob, 0xee, sizeof blob);
    s_assert_str(rec, "note", "draft");
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, "blob", &field), CS_OK);
    assert_int_equal(field.value.type, CS_VALUE_BIN);
    assert_int_equal(field.value.u.s.len, 4);
    assert_memory_equal(field.value.u.s.ptr, "\x00\x01\x00\xff", 4);
    cs_record_destroy(&rec);
}

static void
test_record_holds_every_value_type(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    const cs_value_t values[] = {
        cs_value_nil(),       cs_value_bool(true), cs_value_int(-42),
        cs_value_float(-0.0), cs_value_str(""),    cs_value_bin(NULL, 0),
    };
    const char *names[] = { "a", "b", "c", "d", "e", "f" };
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(
            cs_record_set(rec, names[i], &values[i], s_at(1, NODE_A), 1, NULL),
            CS_OK);
    }
    assert_int_equal(cs_record_field_count(rec), 6);
    for (size_t i = 0; i < 6; i++) {
        cs_field_t field = cs_record_field_at(rec, i);
        assert_string_equal(field.name, names[i]);
        assert_int_equal(cs_value_compare(&field.value, &values[i]), 0);
    }
    cs_record_destroy(&rec);
}

static void
test_record_fields_iterate_in_bytewise_name_order(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    const char *inserted[] = { "b", "\xc3\xa9tat", "aa", "B", "a", "a b" };
    for (size_t i = 0; i < 6; i++) {
        s_set_str(rec, inserted[i], "x", s_at(1, NODE_A), 1);
    }
    const char *sorted[] = { "B", "a", "a b", "aa", "b", "\xc3\xa9tat" };
    assert_int_equal(cs_record_field_count(rec), 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(cs_record_field_at(rec, i).name, sorted[i]);
    }
    cs_record_destroy(&rec);
}

static void
test_record_append_takes_fields_in_bytewise_name_order_only(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    cs_record_reserve(rec, 4, 64);
    cs_value_t x = cs_value_str("x");
    /* names need not end in a NUL: "aa" out of "aab" */
    assert_int_equal(cs_record_append(rec, "B", 1, &x, s_at(1, NODE_A), 1),
                     CS_OK);
    assert_int_equal(cs_record_append(rec, "aab", 2, &x, s_at(2, NODE_B), 2),
                     CS_OK);
    /* refused: a duplicate, a prefix of the last, an earlier name, and
     * the bad names cs_record_set refuses (a NUL, empty) */
    const struct {
        const char *name;
        size_t len;
    } refused[] = {
        { "aa", 2 }, { "a", 1 }, { "B", 1 }, { "b\0", 2 }, { "", 0 }
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(cs_record_append(rec, refused[i].name, refused[i].len,
                                          &x, s_at(3, NODE_A), 3),
                         CS_EINVAL);
    }
    cs_value_t bad = cs_value_strn("\xff", 1);
    assert_int_equal(cs_record_append(rec, "c", 1, &bad, s_at(3, NODE_A), 3),
                     CS_EINVAL);
    cs_value_t huge = cs_value_bin(NULL, CS_VALUE_MAX + 1);
    assert_int_equal(cs_record_append(rec, "c", 1, &huge, s_at(3, NODE_A), 3),
                     CS_EINVAL);
    assert_int_equal(
        cs_record_append(rec, "\xc3\xa9", 2, &x, s_at(3, NODE_C), 3), CS_OK);
    assert_int_equal(cs_record_field_count(rec), 3);
    s_assert_str(rec, "aa", "x");
    assert_int_equal(s_seq_of(rec, "aa"), 2);
    assert_int_equal(cs_record_field_at(rec, 2).stamp.origin, NODE_C);
    /* a field at or below the tombstone: an encoding never lists one */
    cs_record_t *dead = cs_record_new();
    cs_record_delete(dead, s_at(5, NODE_A), 1);
    assert_int_equal(cs_record_append(dead, "a", 1, &x, s_at(5, NODE_A), 1),
                     CS_EINVAL);
    assert_int_equal(cs_record_append(dead, "a", 1, &x, s_at(6, NODE_A), 1),
                     CS_OK);
    cs_record_destroy(&dead);
    cs_record_destroy(&rec);
}

static void
test_record_clear_empties_and_the_record_builds_again(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "first", s_at(1, NODE_A), 1);
    s_set_str(rec, "b", "second", s_at(2, NODE_A), 2);
    cs_record_delete(rec, s_at(1, NODE_B), 3);
    cs_record_clear(rec);
    assert_true(cs_record_is_empty(rec));
    assert_int_equal(cs_record_field_count(rec), 0);
    assert_false(cs_record_tombstone(rec, NULL, NULL));
    assert_int_equal(cs_record_bytes(rec), 0);
    /* an old stamp is no longer under a tombstone */
    s_set_str(rec, "b", "again", s_at(0, NODE_C), 4);
    assert_int_equal(cs_record_field_count(rec), 1);
    s_assert_str(rec, "b", "again");
    assert_int_equal(cs_record_bytes(rec), 1 + 5);
    cs_record_t *fresh = cs_record_new();
    s_set_str(fresh, "b", "again", s_at(0, NODE_C), 4);
    assert_true(cs_record_equal(rec, fresh));
    cs_record_destroy(&fresh);
    cs_record_destroy(&rec);
}

static void
test_record_append_stops_at_the_field_limit(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    cs_value_t v = cs_value_int(1);
    char name[16];
    for (unsigned i = 0; i < CS_RECORD_FIELDS_MAX; i++) {
        s_name(name, sizeof name, i);
        assert_int_equal(
            cs_record_append(rec, name, strlen(name), &v, s_at(1, NODE_A), 1),
            CS_OK);
    }
    s_name(name, sizeof name, CS_RECORD_FIELDS_MAX);
    assert_int_equal(
        cs_record_append(rec, name, strlen(name), &v, s_at(1, NODE_A), 1),
        CS_ELIMIT);
    assert_int_equal(cs_record_field_count(rec), CS_RECORD_FIELDS_MAX);
    cs_record_destroy(&rec);

    /* and at the byte limit: three names and values of 1 MiB fit in
     * 4 MiB, a fourth does not */
    rec = cs_record_new();
    char *mib = calloc(1, CS_VALUE_MAX);
    assert_non_null(mib);
    cs_value_t big = cs_value_bin(mib, CS_VALUE_MAX);
    for (unsigned i = 0; i < 4; i++) {
        s_name(name, sizeof name, i);
        assert_int_equal(
            cs_record_append(rec, name, strlen(name), &big, s_at(1, NODE_A), 1),
            i < 3 ? CS_OK : CS_ELIMIT);
    }
    assert_int_equal(cs_record_field_count(rec), 3);
    free(mib);
    cs_record_destroy(&rec);
}

/* ---------------- last writer wins ---------------- */

static void
test_record_stamp_compare_orders_by_hlc_then_origin(void **state)
{
    (void) state;
    assert_true(cs_stamp_compare(s_at(1, NODE_C), s_at(2, NODE_A)) < 0);
    assert_true(cs_stamp_compare(s_at(2, NODE_A), s_at(1, NODE_C)) > 0);
    assert_true(cs_stamp_compare(s_at(1, NODE_A), s_at(1, NODE_B)) < 0);
    assert_true(cs_stamp_compare(s_at(1, NODE_B), s_at(1, NODE_A)) > 0);
    assert_int_equal(cs_stamp_compare(s_at(1, NODE_A), s_at(1, NODE_A)), 0);
    /* full 64-bit range, no overflow in the comparison */
    cs_stamp_t lo = { 0, 0 };
    cs_stamp_t hi = { UINT64_MAX, UINT64_MAX };
    cs_stamp_t hi_origin = { 0, UINT64_MAX };
    assert_true(cs_stamp_compare(lo, hi) < 0);
    assert_true(cs_stamp_compare(hi, lo) > 0);
    assert_true(cs_stamp_compare(lo, hi_origin) < 0);
}

static void
test_record_newer_write_wins_and_older_is_ignored(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    assert_true(s_set_str(rec, "phone", "111", s_at(10, NODE_A), 1));
    assert_true(s_set_str(rec, "phone", "222", s_at(20, NODE_A), 2));
    s_assert_str(rec, "phone", "222");
    assert_int_equal(s_seq_of(rec, "phone"), 2);

    /* a late-arriving older write changes nothing, not even the seq */
    assert_false(s_set_str(rec, "phone", "000", s_at(15, NODE_B), 3));
    s_assert_str(rec, "phone", "222");
    assert_int_equal(s_seq_of(rec, "phone"), 2);
    assert_int_equal(cs_record_max_seq(rec), 2);
    cs_record_destroy(&rec);
}

static void
test_record_equal_hlc_breaks_tie_on_origin(void **state)
{
    (void) state;
    /* two nodes write the same field in the same HLC tick; both arrival
     * orders must end with the larger origin's value */
    cs_record_t *ab = cs_record_new();
    cs_record_t *ba = cs_record_new();
    assert_true(s_set_str(ab, "owner", "from-a", s_at(5, NODE_A), 1));
    assert_true(s_set_str(ab, "owner", "from-b", s_at(5, NODE_B), 2));
    assert_true(s_set_str(ba, "owner", "from-b", s_at(5, NODE_B), 1));
    assert_false(s_set_str(ba, "owner", "from-a", s_at(5, NODE_A), 2));
    s_assert_str(ab, "owner", "from-b");
    s_assert_str(ba, "owner", "from-b");
    assert_true(cs_record_equal(ab, ba));
    cs_record_destroy(&ab);
    cs_record_destroy(&ba);
}

static void
test_record_equal_stamps_break_tie_on_larger_value(void **state)
{
    (void) state;
    /* one writer stamped two values identically (two seeds, same as-of) */
    cs_record_t *rec = cs_record_new();
    assert_true(s_set_str(rec, "city", "Basel", s_at(5, NODE_A), 1));
    assert_true(s_set_str(rec, "city", "Bern", s_at(5, NODE_A), 2));
    s_assert_str(rec, "city", "Bern");
    assert_false(s_set_str(rec, "city", "Aarau", s_at(5, NODE_A), 3));
    s_assert_str(rec, "city", "Bern");
    assert_int_equal(s_seq_of(rec, "city"), 2);

    /* the value order crosses types: any string beats any integer */
    cs_value_t number = cs_value_int(INT64_MAX);
    bool changed = true;
    assert_int_equal(
        cs_record_set(rec, "city", &number, s_at(5, NODE_A), 4, &changed),
        CS_OK);
    assert_false(changed);
    s_assert_str(rec, "city", "Bern");
    cs_record_destroy(&rec);
}

static void
test_record_same_write_twice_changes_nothing(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    assert_true(s_set_str(rec, "name", "Ada", s_at(1, NODE_A), 1));
    assert_false(s_set_str(rec, "name", "Ada", s_at(1, NODE_A), 2));
    assert_int_equal(s_seq_of(rec, "name"), 1);
    cs_record_destroy(&rec);
}

static void
test_record_set_accepts_null_changed(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    cs_value_t v = cs_value_int(1);
    assert_int_equal(cs_record_set(rec, "n", &v, s_at(1, NODE_A), 1, NULL),
                     CS_OK);
    assert_int_equal(cs_record_field_count(rec), 1);
    cs_record_destroy(&rec);
}

/* ---------------- tombstone ---------------- */

static void
test_record_delete_drops_fields_at_or_below_tombstone(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "older", "1", s_at(1, NODE_A), 1);
    s_set_str(rec, "equal", "2", s_at(2, NODE_B), 2);
    s_set_str(rec, "newer", "3", s_at(3, NODE_A), 3);

    assert_true(cs_record_delete(rec, s_at(2, NODE_B), 4));

    cs_stamp_t stamp;
    uint64_t seq = 0;
    assert_true(cs_record_tombstone(rec, &stamp, &seq));
    assert_int_equal(cs_stamp_compare(stamp, s_at(2, NODE_B)), 0);
    assert_int_equal(seq, 4);
    /* older and equal are gone, not just hidden */
    assert_false(s_has(rec, "older"));
    assert_false(s_has(rec, "equal"));
    assert_true(s_has(rec, "newer"));
    assert_int_equal(cs_record_field_count(rec), 1);
    assert_string_equal(cs_record_field_at(rec, 0).name, "newer");
    /* a visible field remains: the record is not deleted */
    assert_false(cs_record_is_deleted(rec));
    assert_false(cs_record_is_empty(rec));
    cs_record_destroy(&rec);
}

static void
test_record_delete_newer_than_all_fields_deletes_record(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(1, NODE_A), 1);
    s_set_str(rec, "b", "2", s_at(2, NODE_A), 2);
    assert_true(cs_record_delete(rec, s_at(3, NODE_C), 3));
    assert_true(cs_record_is_deleted(rec));
    assert_false(cs_record_is_empty(rec));
    assert_int_equal(cs_record_field_count(rec), 0);
    assert_int_equal(cs_record_max_seq(rec), 3);
    assert_int_equal(cs_record_min_seq(rec), 3); /* the tombstone alone */
    assert_int_equal(cs_record_max_hlc(rec), s_at(3, NODE_C).hlc);
    cs_record_destroy(&rec);
}

static void
test_record_delete_of_empty_record_leaves_a_tombstone(void **state)
{
    (void) state;
    /* a delete can arrive before the record's writes: keep its stamp */
    cs_record_t *rec = cs_record_new();
    assert_true(cs_record_delete(rec, s_at(5, NODE_A), 1));
    assert_true(cs_record_is_deleted(rec));
    assert_false(cs_record_is_empty(rec));
    assert_false(s_set_str(rec, "late", "old write", s_at(4, NODE_B), 2));
    assert_false(s_has(rec, "late"));
    cs_record_destroy(&rec);
}

static void
test_record_write_at_or_below_tombstone_is_ignored(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    assert_true(cs_record_delete(rec, s_at(5, NODE_B), 1));
    assert_false(s_set_str(rec, "x", "older", s_at(4, NODE_C), 2));
    assert_false(s_set_str(rec, "x", "equal", s_at(5, NODE_B), 3));
    assert_false(
        s_set_str(rec, "x", "same ms, smaller origin", s_at(5, NODE_A), 4));
    assert_false(s_has(rec, "x"));
    assert_int_equal(cs_record_field_count(rec), 0);
    assert_int_equal(cs_record_max_seq(rec), 1);
    cs_record_destroy(&rec);
}

static void
test_record_later_write_revives_deleted_record(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "name", "Ada", s_at(1, NODE_A), 1);
    assert_true(cs_record_delete(rec, s_at(2, NODE_A), 2));
    assert_true(cs_record_is_deleted(rec));

    /* same ms but larger origin is already later */
    assert_true(s_set_str(rec, "name", "Grace", s_at(2, NODE_B), 3));
    assert_false(cs_record_is_deleted(rec));
    s_assert_str(rec, "name", "Grace");
    /* the tombstone stays: older writes still cannot come back */
    assert_true(cs_record_tombstone(rec, NULL, NULL));
    assert_false(s_set_str(rec, "phone", "111", s_at(1, NODE_C), 4));
    assert_false(s_has(rec, "phone"));
    cs_record_destroy(&rec);
}

static void
test_record_delete_with_older_or_equal_stamp_is_noop(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "keep", "v", s_at(9, NODE_A), 1);
    assert_true(cs_record_delete(rec, s_at(5, NODE_B), 2));

    assert_false(cs_record_delete(rec, s_at(3, NODE_C), 3));
    assert_false(cs_record_delete(rec, s_at(5, NODE_B), 4));
    assert_false(cs_record_delete(rec, s_at(5, NODE_A), 5));

    cs_stamp_t stamp;
    uint64_t seq = 0;
    assert_true(cs_record_tombstone(rec, &stamp, &seq));
    assert_int_equal(cs_stamp_compare(stamp, s_at(5, NODE_B)), 0);
    assert_int_equal(seq, 2);
    assert_int_equal(cs_record_max_seq(rec), 2);
    s_assert_str(rec, "keep", "v");
    cs_record_destroy(&rec);
}

static void
test_record_newer_delete_moves_tombstone_up(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(4, NODE_A), 1);
    s_set_str(rec, "b", "2", s_at(6, NODE_A), 2);
    assert_true(cs_record_delete(rec, s_at(3, NODE_A), 3));
    assert_int_equal(cs_record_field_count(rec), 2);
    /* same ms, larger origin: later, so it moves up and drops "a" */
    assert_true(cs_record_delete(rec, s_at(4, NODE_B), 4));
    cs_stamp_t stamp;
    assert_true(cs_record_tombstone(rec, &stamp, NULL));
    assert_int_equal(cs_stamp_compare(stamp, s_at(4, NODE_B)), 0);
    assert_false(s_has(rec, "a"));
    assert_true(s_has(rec, "b"));
    cs_record_destroy(&rec);
}

static void
test_record_delete_older_than_every_field_keeps_them(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(10, NODE_A), 1);
    assert_true(cs_record_delete(rec, s_at(2, NODE_A), 2));
    assert_true(cs_record_tombstone(rec, NULL, NULL));
    s_assert_str(rec, "a", "1");
    assert_int_equal(s_seq_of(rec, "a"), 1);
    assert_false(cs_record_is_deleted(rec));
    cs_record_destroy(&rec);
}

/* ---------------- seqs, max_seq, max_hlc, deltas ---------------- */

static void
test_record_max_seq_and_max_hlc_cover_fields_and_tombstone(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(30, NODE_A), 4);
    s_set_str(rec, "b", "2", s_at(10, NODE_A), 9);
    assert_int_equal(cs_record_max_seq(rec), 9);
    assert_int_equal(cs_record_max_hlc(rec), s_at(30, NODE_A).hlc);

    /* a tombstone below every field: its seq counts, its hlc is smaller */
    assert_true(cs_record_delete(rec, s_at(5, NODE_A), 12));
    assert_int_equal(cs_record_max_seq(rec), 12);
    assert_int_equal(cs_record_max_hlc(rec), s_at(30, NODE_A).hlc);

    /* a tombstone above every field: its hlc is the max */
    assert_true(cs_record_delete(rec, s_at(40, NODE_A), 13));
    assert_int_equal(cs_record_max_hlc(rec), s_at(40, NODE_A).hlc);
    assert_int_equal(cs_record_max_seq(rec), 13);
    cs_record_destroy(&rec);
}

static void
test_record_max_seq_drops_with_dropped_fields(void **state)
{
    (void) state;
    /* max_seq is over what the record holds; nothing remembers a dropped
     * field's seq, but the tombstone that dropped it is newer anyway */
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(1, NODE_A), 50);
    assert_true(cs_record_delete(rec, s_at(2, NODE_A), 51));
    assert_int_equal(cs_record_max_seq(rec), 51);
    cs_record_destroy(&rec);
}

static void
test_record_set_seq_rewrites_every_seq(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(3, NODE_A), 4);
    s_set_str(rec, "b", "2", s_at(3, NODE_A), 9);
    assert_true(cs_record_delete(rec, s_at(1, NODE_A), 11));
    cs_record_set_seq(rec, 100);
    assert_int_equal(s_seq_of(rec, "a"), 100);
    assert_int_equal(s_seq_of(rec, "b"), 100);
    uint64_t seq = 0;
    assert_true(cs_record_tombstone(rec, NULL, &seq));
    assert_int_equal(seq, 100);
    assert_int_equal(cs_record_max_seq(rec), 100);
    cs_record_destroy(&rec);
}

static void
test_record_delta_since_holds_exactly_parts_after_since(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(10, NODE_A), 1);
    s_set_str(rec, "b", "2", s_at(10, NODE_A), 2);
    s_set_str(rec, "c", "3", s_at(10, NODE_A), 3);
    assert_true(cs_record_delete(rec, s_at(1, NODE_B), 4));
    assert_int_equal(cs_record_min_seq(rec), 1);
    assert_int_equal(cs_record_max_seq(rec), 4);

    /* since 0: everything, seqs included */
    cs_record_t *all = cs_record_delta_since(rec, 0);
    assert_true(cs_record_equal(all, rec));
    assert_int_equal(s_seq_of(all, "a"), 1);
    assert_int_equal(s_seq_of(all, "c"), 3);
    assert_int_equal(cs_record_max_seq(all), 4);
    cs_record_destroy(&all);

    /* since 2: c (seq 3) and the tombstone (seq 4); a and b are not > 2 */
    cs_record_t *delta = cs_record_delta_since(rec, 2);
    assert_int_equal(cs_record_field_count(delta), 1);
    s_assert_str(delta, "c", "3");
    assert_int_equal(s_seq_of(delta, "c"), 3);
    cs_stamp_t stamp;
    uint64_t seq = 0;
    assert_true(cs_record_tombstone(delta, &stamp, &seq));
    assert_int_equal(cs_stamp_compare(stamp, s_at(1, NODE_B)), 0);
    assert_int_equal(seq, 4);
    cs_record_destroy(&delta);

    /* since 3: only the tombstone */
    delta = cs_record_delta_since(rec, 3);
    assert_int_equal(cs_record_field_count(delta), 0);
    assert_true(cs_record_tombstone(delta, NULL, NULL));
    cs_record_destroy(&delta);

    /* since the max seq (and beyond): empty */
    delta = cs_record_delta_since(rec, 4);
    assert_true(cs_record_is_empty(delta));
    cs_record_destroy(&delta);
    delta = cs_record_delta_since(rec, UINT64_MAX);
    assert_true(cs_record_is_empty(delta));
    cs_record_destroy(&delta);

    /* the source is untouched */
    assert_int_equal(cs_record_field_count(rec), 3);
    cs_record_destroy(&rec);
}

static void
test_record_delta_since_leaves_out_an_old_tombstone(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    assert_true(cs_record_delete(rec, s_at(1, NODE_A), 3));
    s_set_str(rec, "a", "1", s_at(2, NODE_A), 8);
    cs_record_t *delta = cs_record_delta_since(rec, 3);
    assert_false(cs_record_tombstone(delta, NULL, NULL));
    assert_int_equal(cs_record_field_count(delta), 1);
    assert_int_equal(s_seq_of(delta, "a"), 8);
    cs_record_destroy(&delta);
    cs_record_destroy(&rec);
}

static void
test_record_delta_applied_elsewhere_reproduces_the_state(void **state)
{
    (void) state;
    /* the pull loop of sync: a peer catches up from cursor 0, then only
     * with what changed after its cursor */
    cs_record_t *source = cs_record_new();
    cs_record_t *mirror = cs_record_new();
    s_set_str(source, "a", "1", s_at(1, NODE_A), 1);
    s_set_str(source, "b", "2", s_at(1, NODE_A), 2);

    cs_record_t *delta = cs_record_delta_since(source, 0);
    uint64_t cursor = cs_record_max_seq(source);
    assert_int_equal(cs_record_merge(mirror, delta, 1, NULL), CS_OK);
    cs_record_destroy(&delta);

    s_set_str(source, "b", "3", s_at(2, NODE_A), 3);
    assert_true(cs_record_delete(source, s_at(1, NODE_B), 4));
    delta = cs_record_delta_since(source, cursor);
    assert_int_equal(cs_record_field_count(delta), 1);
    size_t changed = 0;
    assert_int_equal(cs_record_merge(mirror, delta, 2, &changed), CS_OK);
    assert_true(changed >= 1);
    cs_record_destroy(&delta);

    assert_true(cs_record_equal(mirror, source));
    cs_record_destroy(&source);
    cs_record_destroy(&mirror);
}

/* ---------------- merge ---------------- */

static void
test_record_merge_takes_newer_fields_and_counts_changes(void **state)
{
    (void) state;
    cs_record_t *self = cs_record_new();
    cs_record_t *other = cs_record_new();
    s_set_str(self, "a", "self-a", s_at(1, NODE_A), 1);
    s_set_str(self, "b", "self-b", s_at(3, NODE_A), 2);
    s_set_str(other, "a", "other-a", s_at(2, NODE_B), 70);
    s_set_str(other, "b", "other-b", s_at(2, NODE_B), 71);
    s_set_str(other, "c", "other-c", s_at(1, NODE_B), 72);

    size_t changed = 99;
    assert_int_equal(cs_record_merge(self, other, 10, &changed), CS_OK);
    assert_int_equal(changed, 2); /* a (newer) and c (new); b was newer */
    s_assert_str(self, "a", "other-a");
    s_assert_str(self, "b", "self-b");
    s_assert_str(self, "c", "other-c");
    /* changed parts take the merge seq, not the other record's seqs */
    assert_int_equal(s_seq_of(self, "a"), 10);
    assert_int_equal(s_seq_of(self, "b"), 2);
    assert_int_equal(s_seq_of(self, "c"), 10);
    assert_int_equal(cs_record_max_seq(self), 10);
    /* other is untouched */
    s_assert_str(other, "b", "other-b");
    assert_int_equal(s_seq_of(other, "a"), 70);
    cs_record_destroy(&self);
    cs_record_destroy(&other);
}

static void
test_record_merge_with_itself_changes_nothing(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(5, NODE_A), 1);
    assert_true(cs_record_delete(rec, s_at(2, NODE_B), 2));
    cs_record_t *copy = cs_record_dup(rec);

    size_t changed = 99;
    assert_int_equal(cs_record_merge(rec, copy, 50, &changed), CS_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(s_seq_of(rec, "a"), 1);
    assert_int_equal(cs_record_max_seq(rec), 2);
    assert_true(cs_record_equal(rec, copy));
    cs_record_destroy(&copy);
    cs_record_destroy(&rec);
}

static void
test_record_merge_into_empty_copies_state_with_new_seq(void **state)
{
    (void) state;
    cs_record_t *src = cs_record_new();
    s_set_str(src, "a", "1", s_at(5, NODE_A), 3);
    s_set_str(src, "b", "2", s_at(6, NODE_A), 4);
    assert_true(cs_record_delete(src, s_at(1, NODE_A), 5));

    cs_record_t *dst = cs_record_new();
    size_t changed = 0;
    assert_int_equal(cs_record_merge(dst, src, 20, &changed), CS_OK);
    assert_int_equal(changed, 3); /* two fields and the tombstone */
    assert_true(cs_record_equal(dst, src));
    assert_int_equal(s_seq_of(dst, "a"), 20);
    uint64_t seq = 0;
    assert_true(cs_record_tombstone(dst, NULL, &seq));
    assert_int_equal(seq, 20);
    cs_record_destroy(&src);
    cs_record_destroy(&dst);
}

static void
test_record_merge_tombstone_drops_covered_fields(void **state)
{
    (void) state;
    cs_record_t *self = cs_record_new();
    s_set_str(self, "old", "1", s_at(1, NODE_A), 1);
    s_set_str(self, "new", "2", s_at(9, NODE_A), 2);
    cs_record_t *other = cs_record_new();
    assert_true(cs_record_delete(other, s_at(5, NODE_C), 1));

    size_t changed = 0;
    assert_int_equal(cs_record_merge(self, other, 3, &changed), CS_OK);
    assert_true(changed >= 1);
    assert_false(s_has(self, "old"));
    s_assert_str(self, "new", "2");
    assert_int_equal(s_seq_of(self, "new"), 2);
    cs_stamp_t stamp;
    uint64_t seq = 0;
    assert_true(cs_record_tombstone(self, &stamp, &seq));
    assert_int_equal(cs_stamp_compare(stamp, s_at(5, NODE_C)), 0);
    assert_int_equal(seq, 3);
    cs_record_destroy(&self);
    cs_record_destroy(&other);
}

static void
test_record_merge_ignores_fields_covered_by_own_tombstone(void **state)
{
    (void) state;
    cs_record_t *self = cs_record_new();
    assert_true(cs_record_delete(self, s_at(5, NODE_A), 1));
    cs_record_t *other = cs_record_new();
    s_set_str(other, "stale", "x", s_at(4, NODE_B), 1);
    s_set_str(other, "fresh", "y", s_at(6, NODE_B), 2);

    size_t changed = 0;
    assert_int_equal(cs_record_merge(self, other, 2, &changed), CS_OK);
    assert_int_equal(changed, 1);
    assert_false(s_has(self, "stale"));
    s_assert_str(self, "fresh", "y");
    assert_false(cs_record_is_deleted(self));
    cs_record_destroy(&self);
    cs_record_destroy(&other);
}

static void
test_record_merge_equal_stamps_larger_value_wins(void **state)
{
    (void) state;
    cs_record_t *x = cs_record_new();
    cs_record_t *y = cs_record_new();
    s_set_str(x, "city", "Basel", s_at(5, NODE_A), 1);
    s_set_str(y, "city", "Bern", s_at(5, NODE_A), 1);

    cs_record_t *xy = cs_record_dup(x);
    cs_record_t *yx = cs_record_dup(y);
    size_t changed = 0;
    assert_int_equal(cs_record_merge(xy, y, 2, &changed), CS_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(cs_record_merge(yx, x, 2, &changed), CS_OK);
    assert_int_equal(changed, 0);
    s_assert_str(xy, "city", "Bern");
    s_assert_str(yx, "city", "Bern");
    assert_true(cs_record_equal(xy, yx));
    cs_record_destroy(&x);
    cs_record_destroy(&y);
    cs_record_destroy(&xy);
    cs_record_destroy(&yx);
}

static void
test_record_merge_is_commutative_on_an_example(void **state)
{
    (void) state;
    cs_record_t *x = cs_record_new();
    cs_record_t *y = cs_record_new();
    s_set_str(x, "a", "x", s_at(1, NODE_A), 1);
    s_set_str(x, "b", "x", s_at(4, NODE_A), 2);
    assert_true(cs_record_delete(x, s_at(2, NODE_A), 3));
    s_set_str(y, "a", "y", s_at(3, NODE_B), 1);
    s_set_str(y, "b", "y", s_at(4, NODE_B), 2);
    s_set_str(y, "c", "y", s_at(2, NODE_A), 3);

    cs_record_t *xy = cs_record_dup(x);
    cs_record_t *yx = cs_record_dup(y);
    assert_int_equal(cs_record_merge(xy, y, 9, NULL), CS_OK);
    assert_int_equal(cs_record_merge(yx, x, 9, NULL), CS_OK);
    assert_true(cs_record_equal(xy, yx));
    s_assert_str(xy, "a", "y");
    s_assert_str(xy, "b", "y");
    assert_false(s_has(xy, "c")); /* equal to the tombstone: dropped */
    cs_record_destroy(&x);
    cs_record_destroy(&y);
    cs_record_destroy(&xy);
    cs_record_destroy(&yx);
}

/* ---------------- equal, dup ---------------- */

static void
test_record_equal_ignores_seqs_but_not_state(void **state)
{
    (void) state;
    cs_record_t *x = cs_record_new();
    cs_record_t *y = cs_record_new();
    assert_true(cs_record_equal(x, y));
    s_set_str(x, "a", "1", s_at(1, NODE_A), 1);
    s_set_str(y, "a", "1", s_at(1, NODE_A), 999);
    assert_true(cs_record_equal(x, y));

    /* a different value, stamp, origin or tombstone is a different state */
    cs_record_t *z = cs_record_dup(x);
    s_set_str(z, "a", "2", s_at(2, NODE_A), 2);
    assert_false(cs_record_equal(x, z));
    cs_record_destroy(&z);

    z = cs_record_new();
    s_set_str(z, "a", "1", s_at(1, NODE_B), 1);
    assert_false(cs_record_equal(x, z));
    cs_record_destroy(&z);

    z = cs_record_dup(x);
    assert_true(cs_record_delete(z, s_at(0, NODE_A), 2));
    assert_false(cs_record_equal(x, z));
    assert_false(cs_record_equal(z, x));
    cs_record_destroy(&z);

    z = cs_record_dup(x);
    s_set_str(z, "b", "1", s_at(1, NODE_A), 2);
    assert_false(cs_record_equal(x, z));
    assert_false(cs_record_equal(z, x));
    cs_record_destroy(&z);

    cs_record_destroy(&x);
    cs_record_destroy(&y);
}

static void
test_record_dup_is_deep_and_keeps_seqs(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "a", "1", s_at(3, NODE_A), 5);
    assert_true(cs_record_delete(rec, s_at(1, NODE_B), 6));
    cs_record_t *copy = cs_record_dup(rec);
    assert_true(cs_record_equal(rec, copy));
    assert_int_equal(s_seq_of(copy, "a"), 5);
    uint64_t seq = 0;
    assert_true(cs_record_tombstone(copy, NULL, &seq));
    assert_int_equal(seq, 6);

    /* changing the original does not change the copy */
    s_set_str(rec, "a", "2", s_at(4, NODE_A), 7);
    cs_record_destroy(&rec);
    s_assert_str(copy, "a", "1");
    cs_record_destroy(&copy);
}

/* ---------------- limits ---------------- */

static void
test_record_name_validators_enforce_limits(void **state)
{
    (void) state;
    char buf[CS_ID_MAX + 2];
    memset(buf, 'n', sizeof buf);

    assert_true(cs_record_collection_is_valid("contacts", 8));
    assert_true(cs_record_collection_is_valid(buf, CS_COLLECTION_MAX));
    assert_false(cs_record_collection_is_valid(buf, CS_COLLECTION_MAX + 1));
    assert_false(cs_record_collection_is_valid("", 0));
    assert_false(cs_record_collection_is_valid("a\0b", 3));
    assert_false(cs_record_collection_is_valid("\xc0\x80", 2));

    assert_true(cs_record_id_is_valid("0035g00000ABCDEFAA", 18));
    assert_true(cs_record_id_is_valid(buf, CS_ID_MAX));
    assert_false(cs_record_id_is_valid(buf, CS_ID_MAX + 1));
    assert_false(cs_record_id_is_valid("", 0));
    assert_false(cs_record_id_is_valid("x\0", 2));
    assert_false(cs_record_id_is_valid("\xed\xa0\x80", 3));

    assert_true(cs_record_field_name_is_valid("\xc3\xa9tat", 5));
    assert_true(cs_record_field_name_is_valid(buf, CS_FIELD_NAME_MAX));
    assert_false(cs_record_field_name_is_valid(buf, CS_FIELD_NAME_MAX + 1));
    assert_false(cs_record_field_name_is_valid("", 0));
    assert_false(cs_record_field_name_is_valid("\0", 1));
    assert_false(cs_record_field_name_is_valid("\xff", 1));
}

static void
test_record_set_rejects_bad_names_and_keeps_record(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "keep", "v", s_at(1, NODE_A), 1);
    cs_record_t *before = cs_record_dup(rec);

    char name[CS_FIELD_NAME_MAX + 2];
    memset(name, 'n', sizeof name);
    name[CS_FIELD_NAME_MAX + 1] = '\0'; /* 129 bytes */
    cs_value_t value = cs_value_int(1);
    bool changed = true;
    assert_int_equal(
        cs_record_set(rec, name, &value, s_at(2, NODE_A), 2, &changed),
        CS_EINVAL);
    assert_int_equal(cs_record_set(rec, "", &value, s_at(2, NODE_A), 2, NULL),
                     CS_EINVAL);
    assert_int_equal(
        cs_record_set(rec, "\xc0\xaf", &value, s_at(2, NODE_A), 2, NULL),
        CS_EINVAL);
    assert_int_equal(
        cs_record_set(rec, "bad\xed\xa0\x80", &value, s_at(2, NODE_A), 2, NULL),
        CS_EINVAL);
    assert_true(cs_record_equal(rec, before));
    assert_int_equal(cs_record_max_seq(rec), 1);

    /* exactly at the limit is fine */
    name[CS_FIELD_NAME_MAX] = '\0';
    assert_int_equal(cs_record_set(rec, name, &value, s_at(2, NODE_A), 2, NULL),
                     CS_OK);
    assert_int_equal(cs_record_field_count(rec), 2);
    cs_record_destroy(&before);
    cs_record_destroy(&rec);
}

static void
test_record_set_rejects_bad_values_and_keeps_record(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    s_set_str(rec, "v", "old", s_at(1, NODE_A), 1);

    char *big = malloc(CS_VALUE_MAX + 1);
    assert_non_null(big);
    memset(big, 'x', CS_VALUE_MAX + 1);
    cs_value_t too_long = cs_value_strn(big, CS_VALUE_MAX + 1);
    cs_value_t too_big = cs_value_bin(big, CS_VALUE_MAX + 1);
    cs_value_t not_utf8 = cs_value_strn("\xe2\x82", 2);
    assert_int_equal(
        cs_record_set(rec, "v", &too_long, s_at(2, NODE_A), 2, NULL),
        CS_EINVAL);
    assert_int_equal(
        cs_record_set(rec, "v", &too_big, s_at(2, NODE_A), 2, NULL), CS_EINVAL);
    assert_int_equal(
        cs_record_set(rec, "v", &not_utf8, s_at(2, NODE_A), 2, NULL),
        CS_EINVAL);
    assert_int_equal(
        cs_record_set(rec, "new", &not_utf8, s_at(2, NODE_A), 2, NULL),
        CS_EINVAL);
    s_assert_str(rec, "v", "old");
    assert_int_equal(cs_record_field_count(rec), 1);
    assert_int_equal(cs_record_max_seq(rec), 1);

    /* the largest value fits */
    cs_value_t max_str = cs_value_strn(big, CS_VALUE_MAX);
    assert_int_equal(
        cs_record_set(rec, "v", &max_str, s_at(2, NODE_A), 2, NULL), CS_OK);
    cs_field_t field;
    assert_int_equal(cs_record_get(rec, "v", &field), CS_OK);
    assert_int_equal(field.value.u.s.len, CS_VALUE_MAX);
    free(big);
    cs_record_destroy(&rec);
}

static void
test_record_1025th_field_fails_with_elimit_and_keeps_record(void **state)
{
    (void) state;
    cs_record_t *rec = cs_record_new();
    char name[16];
    cs_value_t value = cs_value_int(0);
    for (unsigned n = 0; n < CS_RECORD_FIELDS_MAX; n++) {
        s_name(name, sizeof name, n);
        assert_int_equal(
            cs_record_set(rec, name, &value, s_at(1, NODE_A), n + 1, NULL),
            CS_OK);
    }
    assert_int_equal(cs_record_field_count(rec), CS_RECORD_FIELDS_MAX);
    cs_record_t *before = cs_record_dup(rec);

    bool changed = true;
    assert_int_equal(
        cs_record_set(rec, "zzz", &value, s_at(2, NODE_A), 5000, &changed),
        CS_ELIMIT);
    assert_int_equal(cs_record_field_count(rec), CS_RECORD_FIELDS_MAX);
    assert_false(s_has(rec, "zzz"));
    assert_true(cs_record_equal(rec, before));
    assert_int_equal(cs_record_max_seq(rec), CS_RECORD_FIELDS_MAX);

    /* a full record still takes updates to the fields it has */
    cs_value_t update = cs_value_int(1);
    assert_int_equal(
        cs_record_set(rec, "f0007", &update, s_at(2, NODE_A), 5001, &changed),
        CS_OK);
    assert_true(changed);
    cs_record_destroy(&before);
    cs_record_destroy(&rec);
}

static void
test_record_byte_budget_bounds_set_and_merge(void **state)
{
    (void) state;
    /* Four 1 MiB values would pass each value limit, but not the record's
     * byte budget: names + values <= CS_RECORD_BYTES_MAX. */
    static char big[CS_VALUE_MAX];
    memset(big, 'x', sizeof big);
    cs_record_t *rec = cs_record_new();
    cs_value_t full = cs_value_bin(big, CS_VALUE_MAX);
    assert_int_equal(cs_record_set(rec, "a", &full, s_at(1, NODE_A), 1, NULL),
                     CS_OK);
    assert_int_equal(cs_record_set(rec, "b", &full, s_at(1, NODE_A), 1, NULL),
                     CS_OK);
    assert_int_equal(cs_record_set(rec, "c", &full, s_at(1, NODE_A), 1, NULL),
                     CS_OK);
    assert_int_equal(cs_record_bytes(rec), 3 * (CS_VALUE_MAX + 1));
    /* the fourth fits only if names and value stay within the budget */
    assert_int_equal(cs_record_set(rec, "d", &full, s_at(1, NODE_A), 1, NULL),
                     CS_ELIMIT);
    assert_false(s_has(rec, "d"));
    cs_value_t exact =
        cs_value_bin(big, CS_RECORD_BYTES_MAX - cs_record_bytes(rec) - 1);
    assert_int_equal(cs_record_set(rec, "d", &exact, s_at(1, NODE_A), 1, NULL),
                     CS_OK);
    assert_int_equal(cs_record_bytes(rec), CS_RECORD_BYTES_MAX);

    /* replacing a value counts the difference; a losing write is no error */
    cs_value_t small = cs_value_str("ok");
    assert_int_equal(cs_record_set(rec, "a", &small, s_at(2, NODE_A), 2, NULL),
                     CS_OK);
    assert_int_equal(cs_record_bytes(rec),
                     CS_RECORD_BYTES_MAX - CS_VALUE_MAX + 2);
    bool changed = true;
    assert_int_equal(
        cs_record_set(rec, "b", &full, s_at(0, NODE_A), 3, &changed), CS_OK);
    assert_false(changed);

    /* two replicas that each fit can merge into one that does not */
    cs_record_t *other = cs_record_new();
    assert_int_equal(cs_record_set(other, "e", &full, s_at(3, NODE_B), 1, NULL),
                     CS_OK);
    assert_int_equal(cs_record_set(other, "f", &full, s_at(3, NODE_B), 1, NULL),
                     CS_OK);
    cs_record_t *before = cs_record_dup(rec);
    size_t parts = 9;
    assert_int_equal(cs_record_merge(rec, other, 4, &parts), CS_ELIMIT);
    assert_int_equal(parts, 0);
    assert_true(cs_record_equal(rec, before));
    assert_int_equal(cs_record_bytes(rec), cs_record_bytes(before));

    /* a tombstone frees the budget: deleted fields are dropped */
    assert_true(cs_record_delete(rec, s_at(5, NODE_A), 5));
    assert_int_equal(cs_record_bytes(rec), 0);
    assert_int_equal(cs_record_merge(rec, other, 6, &parts), CS_OK);
    assert_int_equal(parts, 0); /* e and f are older than the tombstone */
    cs_record_destroy(&before);
    cs_record_destroy(&other);
    cs_record_destroy(&rec);
}

static void
test_record_merge_beyond_field_limit_fails_and_keeps_self(void **state)
{
    (void) state;
    cs_record_t *self = cs_record_new();
    cs_record_t *other = cs_record_new();
    char name[16];
    cs_value_t value = cs_value_int(0);
    for (unsigned n = 0; n < CS_RECORD_FIELDS_MAX; n++) {
        s_name(name, sizeof name, n);
        assert_int_equal(
            cs_record_set(self, name, &value, s_at(1, NODE_A), 1, NULL), CS_OK);
    }
    /* other would both update an existing field and add a new one */
    cs_value_t newer = cs_value_int(7);
    assert_int_equal(
        cs_record_set(other, "f0000", &newer, s_at(2, NODE_B), 1, NULL), CS_OK);
    assert_int_equal(
        cs_record_set(other, "g", &newer, s_at(2, NODE_B), 1, NULL), CS_OK);
    cs_record_t *before = cs_record_dup(self);

    size_t changed = 0;
    assert_int_equal(cs_record_merge(self, other, 9, &changed), CS_ELIMIT);
    assert_true(cs_record_equal(self, before));
    assert_int_equal(cs_record_max_seq(self), 1);
    assert_false(s_has(self, "g"));
    cs_field_t field;
    assert_int_equal(cs_record_get(self, "f0000", &field), CS_OK);
    assert_int_equal(field.value.u.i, 0);

    /* without the new field, the merge fits */
    cs_record_t *fits = cs_record_new();
    assert_int_equal(
        cs_record_set(fits, "f0000", &newer, s_at(2, NODE_B), 1, NULL), CS_OK);
    assert_int_equal(cs_record_merge(self, fits, 10, &changed), CS_OK);
    assert_int_equal(changed, 1);
    cs_record_destroy(&fits);
    cs_record_destroy(&before);
    cs_record_destroy(&other);
    cs_record_destroy(&self);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_new_is_empty),
        cmocka_unit_test(test_record_destroy_nulls_pointer_and_is_idempotent),
        cmocka_unit_test(test_record_destroy_accepts_a_null_pointer),
        cmocka_unit_test(test_record_set_then_get_returns_value_stamp_and_seq),
        cmocka_unit_test(test_record_set_copies_the_value),
        cmocka_unit_test(test_record_holds_every_value_type),
        cmocka_unit_test(test_record_fields_iterate_in_bytewise_name_order),
        cmocka_unit_test(
            test_record_append_takes_fields_in_bytewise_name_order_only),
        cmocka_unit_test(test_record_append_stops_at_the_field_limit),
        cmocka_unit_test(test_record_clear_empties_and_the_record_builds_again),
        cmocka_unit_test(test_record_stamp_compare_orders_by_hlc_then_origin),
        cmocka_unit_test(test_record_newer_write_wins_and_older_is_ignored),
        cmocka_unit_test(test_record_equal_hlc_breaks_tie_on_origin),
        cmocka_unit_test(test_record_equal_stamps_break_tie_on_larger_value),
        cmocka_unit_test(test_record_same_write_twice_changes_nothing),
        cmocka_unit_test(test_record_set_accepts_null_changed),
        cmocka_unit_test(test_record_delete_drops_fields_at_or_below_tombstone),
        cmocka_unit_test(
            test_record_delete_newer_than_all_fields_deletes_record),
        cmocka_unit_test(test_record_delete_of_empty_record_leaves_a_tombstone),
        cmocka_unit_test(test_record_write_at_or_below_tombstone_is_ignored),
        cmocka_unit_test(test_record_later_write_revives_deleted_record),
        cmocka_unit_test(test_record_delete_with_older_or_equal_stamp_is_noop),
        cmocka_unit_test(test_record_newer_delete_moves_tombstone_up),
        cmocka_unit_test(test_record_delete_older_than_every_field_keeps_them),
        cmocka_unit_test(
            test_record_max_seq_and_max_hlc_cover_fields_and_tombstone),
        cmocka_unit_test(test_record_max_seq_drops_with_dropped_fields),
        cmocka_unit_test(test_record_set_seq_rewrites_every_seq),
        cmocka_unit_test(
            test_record_delta_since_holds_exactly_parts_after_since),
        cmocka_unit_test(test_record_delta_since_leaves_out_an_old_tombstone),
        cmocka_unit_test(
            test_record_delta_applied_elsewhere_reproduces_the_state),
        cmocka_unit_test(
            test_record_merge_takes_newer_fields_and_counts_changes),
        cmocka_unit_test(test_record_merge_with_itself_changes_nothing),
        cmocka_unit_test(
            test_record_merge_into_empty_copies_state_with_new_seq),
        cmocka_unit_test(test_record_merge_tombstone_drops_covered_fields),
        cmocka_unit_test(
            test_record_merge_ignores_fields_covered_by_own_tombstone),
        cmocka_unit_test(test_record_merge_equal_stamps_larger_value_wins),
        cmocka_unit_test(test_record_merge_is_commutative_on_an_example),
        cmocka_unit_test(test_record_equal_ignores_seqs_but_not_state),
        cmocka_unit_test(test_record_dup_is_deep_and_keeps_seqs),
        cmocka_unit_test(test_record_name_validators_enforce_limits),
        cmocka_unit_test(test_record_set_rejects_bad_names_and_keeps_record),
        cmocka_unit_test(test_record_set_rejects_bad_values_and_keeps_record),
        cmocka_unit_test(
            test_record_1025th_field_fails_with_elimit_and_keeps_record),
        cmocka_unit_test(test_record_byte_budget_bounds_set_and_merge),
        cmocka_unit_test(
            test_record_merge_beyond_field_limit_fails_and_keeps_self),
    };
    return cmocka_run_group_tests_name("crdt/cs_record", tests, NULL, NULL);
}
