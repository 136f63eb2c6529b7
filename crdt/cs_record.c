/*  cs_record - a CRM record as an LWW-map CRDT.
 *  SPDX-License-Identifier: MIT
 *
 *  Fields live in one array sorted by name (bytewise), so lookups are a
 *  binary search and the canonical encoding is a straight walk. Hidden
 *  fields (at or below the tombstone) are dropped as soon as they become
 *  hidden, so every stored field is visible.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/cs_record.h"

typedef struct {
    char *name;       /* owned, NUL-terminated */
    cs_value_t value; /* string/binary bytes owned (s_value_copy) */
    cs_stamp_t stamp; /* winning write */
    uint64_t seq;     /* local feed seq of the last change */
} s_field_t;

struct cs_record {
    s_field_t *fields; /* sorted by name, all visible */
    size_t count;      /* fields in use */
    size_t cap;        /* fields allocated */
    bool has_tomb;     /* a tombstone is set */
    cs_stamp_t tomb;   /* tombstone stamp, if has_tomb */
    uint64_t tomb_seq; /* local seq of the tombstone's last change */
    size_t bytes;      /* names + str/bin values, see CS_RECORD_BYTES_MAX */
};

static void *
s_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        abort();
    }
    return p;
}

/*  A copy of @p v whose string/binary bytes the caller owns. */
static cs_value_t
s_value_copy(const cs_value_t *v)
{
    cs_value_t copy = *v;
    if (v->type == CS_VALUE_STR || v->type == CS_VALUE_BIN) {
        char *bytes = s_alloc(v->u.s.len);
        if (v->u.s.len) {
            memcpy(bytes, v->u.s.ptr, v->u.s.len);
        }
        copy.u.s.ptr = bytes;
    }
    return copy;
}

static void
s_value_free(cs_value_t *v)
{
    if (v->type == CS_VALUE_STR || v->type == CS_VALUE_BIN) {
        free((void *) (uintptr_t) v->u.s.ptr);
        v->u.s.ptr = NULL;
    }
}

/*  What a field costs against CS_RECORD_BYTES_MAX. */
static size_t
s_value_bytes(const cs_value_t *v)
{
    return v->type == CS_VALUE_STR || v->type == CS_VALUE_BIN ? v->u.s.len : 0;
}

static size_t
s_field_bytes(const char *name, const cs_value_t *v)
{
    return strlen(name) + s_value_bytes(v);
}

static void
s_field_free(s_field_t *field)
{
    free(field->name);
    field->name = NULL;
    s_value_free(&field->value);
}

int
cs_stamp_compare(cs_stamp_t a, cs_stamp_t b)
{
    if (a.hlc != b.hlc) {
        return a.hlc < b.hlc ? -1 : 1;
    }
    return (a.origin > b.origin) - (a.origin < b.origin);
}

/*  LWW order of two writes to one field: stamp, then value. */
static int
s_write_compare(cs_stamp_t sa, const cs_value_t *va, cs_stamp_t sb,
                const cs_value_t *vb)
{
    int c = cs_stamp_compare(sa, sb);
    return c != 0 ? c : cs_value_compare(va, vb);
}

static bool
s_name_is_valid(const char *s, size_t len, size_t max)
{
    return s && len > 0 && len <= max && !memchr(s, 0, len) &&
           cs_utf8_is_valid(s, len);
}

bool
cs_record_collection_is_valid(const char *s, size_t len)
{
    return s_name_is_valid(s, len, CS_COLLECTION_MAX);
}

bool
cs_record_id_is_valid(const char *s, size_t len)
{
    return s_name_is_valid(s, len, CS_ID_MAX);
}

bool
cs_record_field_name_is_valid(const char *s, size_t len)
{
    return s_name_is_valid(s, len, CS_FIELD_NAME_MAX);
}

cs_record_t *
cs_record_new(void)
{
    cs_record_t *self = s_alloc(sizeof *self);
    memset(self, 0, sizeof *self);
    return self;
}

void
cs_record_destroy(cs_record_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    cs_record_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        s_field_free(&self->fields[i]);
    }
    free(self->fields);
    free(self);
    *self_p = NULL;
}

/*  Append a copy of a field; the caller keeps name order. */
static void
s_push(cs_record_t *self, const char *name, const cs_value_t *value,
       cs_stamp_t stamp, uint64_t seq)
{
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 8;
        s_field_t *grown = realloc(self->fields, self->cap * sizeof *grown);
        if (!grown) {
            abort();
        }
        self->fields = grown;
    }
    s_field_t *field = &self->fields[self->count++];
    size_t name_len = strlen(name);
    field->name = s_alloc(name_len + 1);
    memcpy(field->name, name, name_len + 1);
    field->value = s_value_copy(value);
    field->stamp = stamp;
    field->seq = seq;
    self->bytes += name_len + s_value_bytes(value);
}

cs_record_t *
cs_record_dup(const cs_record_t *self)
{
    assert(self);
    cs_record_t *copy = cs_record_new();
    for (size_t i = 0; i < self->count; i++) {
        const s_field_t *f = &self->fields[i];
        s_push(copy, f->name, &f->value, f->stamp, f->seq);
    }
    copy->has_tomb = self->has_tomb;
    copy->tomb = self->tomb;
    copy->tomb_seq = self->tomb_seq;
    return copy;
}

/*  Index of @p name, or where it would go (*found says which). */
static size_t
s_find(const cs_record_t *self, const char *name, bool *found)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(self->fields[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

/*  True if a write stamped @p stamp is hidden by the tombstone. */
static bool
s_is_buried(const cs_record_t *self, cs_stamp_t stamp)
{
    return self->has_tomb && cs_stamp_compare(stamp, self->tomb) <= 0;
}

/*  LWW write without validation; returns whether the state changed. The
 *  caller made sure a new field fits. */
static bool
s_set(cs_record_t *self, const char *name, const cs_value_t *value,
      cs_stamp_t stamp, uint64_t seq)
{
    if (s_is_buried(self, stamp)) {
        return false;
    }
    bool found;
    size_t at = s_find(self, name, &found);
    if (found) {
        s_field_t *f = &self->fields[at];
        if (s_write_compare(stamp, value, f->stamp, &f->value) <= 0) {
            return false;
        }
        self->bytes =
            self->bytes - s_value_bytes(&f->value) + s_value_bytes(value);
        s_value_free(&f->value);
        f->value = s_value_copy(value);
        f->stamp = stamp;
        f->seq = seq;
        return true;
    }
    assert(self->count < CS_RECORD_FIELDS_MAX);
    s_push(self, name, value, stamp, seq);
    /* s_push appended; rotate the new field into its place */
    s_field_t added = self->fields[self->count - 1];
    memmove(&self->fields[at + 1], &self->fields[at],
            (self->count - 1 - at) * sizeof added);
    self->fields[at] = added;
    return true;
}

int
cs_record_set(cs_record_t *self, const char *name, const cs_value_t *value,
              cs_stamp_t stamp, uint64_t seq, bool *changed)
{
    assert(self);
    assert(value);
    if (changed) {
        *changed = false;
    }
    if (!name || !cs_record_field_name_is_valid(name, strlen(name)) ||
        !cs_value_is_valid(value)) {
        return CS_EINVAL;
    }
    bool found;
    size_t at = s_find(self, name, &found);
    if (!s_is_buried(self, stamp)) {
        size_t bytes = self->bytes + s_field_bytes(name, value);
        if (found) {
            const s_field_t *f = &self->fields[at];
            if (s_write_compare(stamp, value, f->stamp, &f->value) <= 0) {
                return CS_OK; /* loses: nothing to check */
            }
            bytes -= s_field_bytes(f->name, &f->value);
        } else if (self->count >= CS_RECORD_FIELDS_MAX) {
            return CS_ELIMIT;
        }
        if (bytes > CS_RECORD_BYTES_MAX) {
            return CS_ELIMIT;
        }
    }
    bool did = s_set(self, name, value, stamp, seq);
    if (changed) {
        *changed = did;
    }
    return CS_OK;
}

bool
cs_record_delete(cs_record_t *self, cs_stamp_t stamp, uint64_t seq)
{
    assert(self);
    if (s_is_buried(self, stamp)) {
        return false;
    }
    self->has_tomb = true;
    self->tomb = stamp;
    self->tomb_seq = seq;
    size_t kept = 0;
    for (size_t i = 0; i < self->count; i++) {
        if (s_is_buried(self, self->fields[i].stamp)) {
            self->bytes -=
                s_field_bytes(self->fields[i].name, &self->fields[i].value);
            s_field_free(&self->fields[i]);
        } else {
            self->fields[kept++] = self->fields[i];
        }
    }
    self->count = kept;
    return true;
}

/*  Whether merge(self, other) stays within the limits: walk both
 *  name-sorted arrays, keep each name's winner if it outlives the later
 *  tombstone, and add up what they cost. */
static bool
s_merge_fits(const cs_record_t *self, const cs_record_t *other)
{
    cs_record_t tomb = { 0 };
    const cs_record_t *later = self;
    if (other->has_tomb &&
        (!self->has_tomb || cs_stamp_compare(other->tomb, self->tomb) > 0)) {
        later = other;
    }
    tomb.has_tomb = later->has_tomb;
    tomb.tomb = later->tomb;

    size_t i = 0, j = 0, count = 0, bytes = 0;
    while (i < self->count || j < other->count) {
        const s_field_t *winner;
        int c = i == self->count ? 1
                : j == other->count
                    ? -1
                    : strcmp(self->fields[i].name, other->fields[j].name);
        if (c < 0) {
            winner = &self->fields[i++];
        } else if (c > 0) {
            winner = &other->fields[j++];
        } else {
            const s_field_t *a = &self->fields[i++], *b = &other->fields[j++];
            winner =
                s_write_compare(a->stamp, &a->value, b->stamp, &b->value) >= 0
                    ? a
                    : b;
        }
        if (!s_is_buried(&tomb, winner->stamp)) {
            count++;
            bytes += s_field_bytes(winner->name, &winner->value);
        }
    }
    return count <= CS_RECORD_FIELDS_MAX && bytes <= CS_RECORD_BYTES_MAX;
}

int
cs_record_merge(cs_record_t *self, const cs_record_t *other, uint64_t seq,
                size_t *changed)
{
    assert(self);
    assert(other);
    if (changed) {
        *changed = 0;
    }
    if (!s_merge_fits(self, other)) {
        return CS_ELIMIT;
    }
    size_t n = 0;
    if (other->has_tomb) {
        n += cs_record_delete(self, other->tomb, seq);
    }
    /* The check above bounds every intermediate state: after the
     * tombstone, each field only moves to its final winner. */
    for (size_t j = 0; j < other->count; j++) {
        const s_field_t *f = &other->fields[j];
        n += s_set(self, f->name, &f->value, f->stamp, seq);
    }
    if (changed) {
        *changed = n;
    }
    return CS_OK;
}

cs_record_t *
cs_record_delta_since(const cs_record_t *self, uint64_t since)
{
    assert(self);
    cs_record_t *delta = cs_record_new();
    for (size_t i = 0; i < self->count; i++) {
        const s_field_t *f = &self->fields[i];
        if (f->seq > since) {
            s_push(delta, f->name, &f->value, f->stamp, f->seq);
        }
    }
    if (self->has_tomb && self->tomb_seq > since) {
        delta->has_tomb = true;
        delta->tomb = self->tomb;
        delta->tomb_seq = self->tomb_seq;
    }
    return delta;
}

size_t
cs_record_field_count(const cs_record_t *self)
{
    assert(self);
    return self->count;
}

cs_field_t
cs_record_field_at(const cs_record_t *self, size_t index)
{
    assert(self);
    assert(index < self->count);
    const s_field_t *f = &self->fields[index];
    cs_field_t view = { f->name, f->value, f->stamp, f->seq };
    return view;
}

int
cs_record_get(const cs_record_t *self, const char *name, cs_field_t *field)
{
    assert(self);
    assert(name);
    assert(field);
    bool found;
    size_t at = s_find(self, name, &found);
    if (!found) {
        return CS_ENOENT;
    }
    *field = cs_record_field_at(self, at);
    return CS_OK;
}

bool
cs_record_tombstone(const cs_record_t *self, cs_stamp_t *stamp, uint64_t *seq)
{
    assert(self);
    if (self->has_tomb) {
        if (stamp) {
            *stamp = self->tomb;
        }
        if (seq) {
            *seq = self->tomb_seq;
        }
    }
    return self->has_tomb;
}

bool
cs_record_is_deleted(const cs_record_t *self)
{
    assert(self);
    return self->has_tomb && self->count == 0;
}

bool
cs_record_is_empty(const cs_record_t *self)
{
    assert(self);
    return !self->has_tomb && self->count == 0;
}

size_t
cs_record_bytes(const cs_record_t *self)
{
    assert(self);
    return self->bytes;
}

uint64_t
cs_record_max_seq(const cs_record_t *self)
{
    assert(self);
    uint64_t max = self->has_tomb ? self->tomb_seq : 0;
    for (size_t i = 0; i < self->count; i++) {
        if (self->fields[i].seq > max) {
            max = self->fields[i].seq;
        }
    }
    return max;
}

cs_hlc_t
cs_record_max_hlc(const cs_record_t *self)
{
    assert(self);
    cs_hlc_t max = self->has_tomb ? self->tomb.hlc : 0;
    for (size_t i = 0; i < self->count; i++) {
        if (self->fields[i].stamp.hlc > max) {
            max = self->fields[i].stamp.hlc;
        }
    }
    return max;
}

void
cs_record_set_seq(cs_record_t *self, uint64_t seq)
{
    assert(self);
    for (size_t i = 0; i < self->count; i++) {
        self->fields[i].seq = seq;
    }
    if (self->has_tomb) {
        self->tomb_seq = seq;
    }
}

bool
cs_record_equal(const cs_record_t *a, const cs_record_t *b)
{
    assert(a);
    assert(b);
    if (a->count != b->count || a->has_tomb != b->has_tomb ||
        (a->has_tomb && cs_stamp_compare(a->tomb, b->tomb) != 0)) {
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        const s_field_t *fa = &a->fields[i], *fb = &b->fields[i];
        if (strcmp(fa->name, fb->name) != 0 ||
            s_write_compare(fa->stamp, &fa->value, fb->stamp, &fb->value) !=
                0) {
            return false;
        }
    }
    return true;
}
