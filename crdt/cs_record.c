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

/*  A field. Its name (NUL-terminated) and its string/binary bytes live in
 *  the record's arena, so a record costs three allocations (struct, field
 *  array, arena) however many fields it has: a seed builds a million of
 *  them, and per-field mallocs were a third of its CPU time. */
typedef struct {
    uint32_t name;     /* arena offset of the name */
    uint32_t bytes;    /* arena offset of the str/bin bytes */
    uint16_t name_len; /* bytes, NUL excluded (<= CS_FIELD_NAME_MAX) */
    cs_value_t value;  /* str/bin: u.s.ptr is NULL, the bytes are at .bytes */
    cs_stamp_t stamp;  /* winning write */
    uint64_t seq;      /* local feed seq of the last change */
} s_field_t;

struct cs_record {
    s_field_t *fields; /* sorted by name, all visible */
    size_t count;      /* fields in use */
    size_t cap;        /* fields allocated */
    char *arena;       /* names and str/bin bytes of the fields */
    size_t arena_len;  /* bytes used, garbage included */
    size_t arena_cap;  /* bytes allocated */
    size_t garbage;    /* bytes of replaced values and dropped fields */
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

static void *
s_realloc(void *p, size_t size)
{
    void *grown = realloc(p, size);
    if (!grown) {
        abort();
    }
    return grown;
}

static bool
s_has_bytes(const cs_value_t *v)
{
    return v->type == CS_VALUE_STR || v->type == CS_VALUE_BIN;
}

/*  What a value costs against CS_RECORD_BYTES_MAX. */
static size_t
s_value_bytes(const cs_value_t *v)
{
    return s_has_bytes(v) ? v->u.s.len : 0;
}

static size_t
s_field_bytes(const char *name, const cs_value_t *v)
{
    return strlen(name) + s_value_bytes(v);
}

static const char *
s_name(const cs_record_t *self, const s_field_t *f)
{
    return self->arena + f->name;
}

/*  The field's value, its bytes pointing into the arena. */
static cs_value_t
s_value(const cs_record_t *self, const s_field_t *f)
{
    cs_value_t v = f->value;
    if (s_has_bytes(&v)) {
        v.u.s.ptr = self->arena + f->bytes;
    }
    return v;
}

/*  Bytes of the arena a field holds. */
static size_t
s_arena_bytes(const s_field_t *f)
{
    return (size_t) f->name_len + 1 + s_value_bytes(&f->value);
}

/*  Offset of @p p in the arena, or SIZE_MAX if it points elsewhere: a
 *  caller may pass a view of this very record, which growing the arena
 *  would move. */
static size_t
s_arena_offset(const cs_record_t *self, const char *p)
{
    uintptr_t at = (uintptr_t) p, base = (uintptr_t) self->arena;
    return self->arena && at >= base && at < base + self->arena_len
               ? (size_t) (at - base)
               : SIZE_MAX;
}

/*  Append @p len bytes at @p p (and a NUL if @p nul) to the arena.
 *  @return their offset. */
static uint32_t
s_arena_put(cs_record_t *self, const char *p, size_t len, bool nul)
{
    size_t need = self->arena_len + len + (nul ? 1 : 0);
    if (need > self->arena_cap) {
        size_t own = s_arena_offset(self, p);
        size_t cap = self->arena_cap ? self->arena_cap : 256;
        while (cap < need) {
            cap *= 2;
        }
        self->arena = s_realloc(self->arena, cap);
        self->arena_cap = cap;
        if (own != SIZE_MAX) {
            p = self->arena + own;
        }
    }
    /* the limits keep a record's arena far below 4 GiB, see s_compact */
    assert(need <= UINT32_MAX);
    uint32_t off = (uint32_t) self->arena_len;
    if (len) {
        memcpy(self->arena + off, p, len);
    }
    if (nul) {
        self->arena[off + len] = '\0';
    }
    self->arena_len = need;
    return off;
}

/*  Give back the arena's garbage once it outweighs the live bytes, so a
 *  record rewritten many times stays within about twice its size. */
static void
s_compact(cs_record_t *self)
{
    if (self->garbage < 4096 || self->garbage < self->arena_len / 2) {
        return;
    }
    size_t live = self->arena_len - self->garbage;
    char *arena = s_alloc(live);
    size_t len = 0;
    for (size_t i = 0; i < self->count; i++) {
        s_field_t *f = &self->fields[i];
        memcpy(arena + len, s_name(self, f), (size_t) f->name_len + 1);
        f->name = (uint32_t) len;
        len += (size_t) f->name_len + 1;
        size_t vlen = s_value_bytes(&f->value);
        if (vlen) {
            memcpy(arena + len, self->arena + f->bytes, vlen);
        }
        f->bytes = (uint32_t) len;
        len += vlen;
    }
    assert(len == live);
    free(self->arena);
    self->arena = arena;
    self->arena_len = self->arena_cap = live;
    self->garbage = 0;
}

/*  Store @p value in @p f, its bytes in the arena. */
static void
s_value_put(cs_record_t *self, s_field_t *f, const cs_value_t *value)
{
    f->value = *value;
    f->bytes = 0;
    if (s_has_bytes(value)) {
        f->value.u.s.ptr = NULL;
        f->bytes = s_arena_put(self, value->u.s.ptr, value->u.s.len, false);
    }
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
    free(self->fields);
    free(self->arena);
    free(self);
    *self_p = NULL;
}

/*  Append a copy of a field (its name @p name_len bytes, not necessarily
 *  NUL-terminated); the caller keeps name order. */
static void
s_push(cs_record_t *self, const char *name, size_t name_len,
       const cs_value_t *value, cs_stamp_t stamp, uint64_t seq)
{
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->fields =
            s_realloc(self->fields, self->cap * sizeof *self->fields);
    }
    s_field_t *field = &self->fields[self->count++];
    assert(name_len <= CS_FIELD_NAME_MAX);
    field->name_len = (uint16_t) name_len;
    /* the value may be a view of this record, which the name's put can
     * move: note where it is first */
    cs_value_t v = *value;
    size_t own = s_has_bytes(&v) ? s_arena_offset(self, v.u.s.ptr) : SIZE_MAX;
    field->name = s_arena_put(self, name, name_len, true);
    if (own != SIZE_MAX) {
        v.u.s.ptr = self->arena + own;
    }
    s_value_put(self, field, &v);
    field->stamp = stamp;
    field->seq = seq;
    self->bytes += name_len + s_value_bytes(value);
}

/*  Make the empty record @p dst a copy of @p src, seqs included. */
static void
s_copy(cs_record_t *dst, const cs_record_t *src)
{
    assert(dst->count == 0 && !dst->has_tomb && dst != src);
    dst->has_tomb = src->has_tomb;
    dst->tomb = src->tomb;
    dst->tomb_seq = src->tomb_seq;
    dst->bytes = src->bytes;
    if (src->count == 0) {
        return;
    }
    if (dst->cap < src->count) {
        dst->fields = s_realloc(dst->fields, src->count * sizeof *dst->fields);
        dst->cap = src->count;
    }
    memcpy(dst->fields, src->fields, src->count * sizeof *dst->fields);
    dst->count = src->count;
    if (dst->arena_cap < src->arena_len) {
        dst->arena = s_realloc(dst->arena, src->arena_len);
        dst->arena_cap = src->arena_len;
    }
    memcpy(dst->arena, src->arena, src->arena_len);
    dst->arena_len = src->arena_len;
    dst->garbage = src->garbage;
}

cs_record_t *
cs_record_dup(const cs_record_t *self)
{
    assert(self);
    cs_record_t *copy = cs_record_new();
    s_copy(copy, self);
    return copy;
}

/*  Index of @p name, or where it would go (*found says which). */
static size_t
s_find(const cs_record_t *self, const char *name, bool *found)
{
    size_t lo = 0, hi = self->count;
    /* records are mostly built in name order: try the end first */
    if (hi > 0 && strcmp(s_name(self, &self->fields[hi - 1]), name) < 0) {
        *found = false;
        return hi;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s_name(self, &self->fields[mid]), name);
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
        cs_value_t old = s_value(self, f);
        if (s_write_compare(stamp, value, f->stamp, &old) <= 0) {
            return false;
        }
        self->bytes = self->bytes - s_value_bytes(&old) + s_value_bytes(value);
        self->garbage += s_value_bytes(&old);
        s_value_put(self, f, value);
        f->stamp = stamp;
        f->seq = seq;
        s_compact(self);
        return true;
    }
    assert(self->count < CS_RECORD_FIELDS_MAX);
    s_push(self, name, strlen(name), value, stamp, seq);
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
            cs_value_t old = s_value(self, f);
            if (s_write_compare(stamp, value, f->stamp, &old) <= 0) {
                return CS_OK; /* loses: nothing to check */
            }
            bytes -= f->name_len + s_value_bytes(&old);
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

void
cs_record_clear(cs_record_t *self)
{
    assert(self);
    self->count = 0;
    self->arena_len = 0;
    self->garbage = 0;
    self->has_tomb = false;
    self->tomb = (cs_stamp_t){ 0, 0 };
    self->tomb_seq = 0;
    self->bytes = 0;
}

void
cs_record_reserve(cs_record_t *self, size_t fields, size_t bytes)
{
    assert(self);
    if (fields > self->cap) {
        self->fields = s_realloc(self->fields, fields * sizeof *self->fields);
        self->cap = fields;
    }
    if (bytes > self->arena_cap) {
        self->arena = s_realloc(self->arena, bytes);
        self->arena_cap = bytes;
    }
}

int
cs_record_append(cs_record_t *self, const char *name, size_t name_len,
                 const cs_value_t *value, cs_stamp_t stamp, uint64_t seq)
{
    assert(self);
    assert(value);
    if (!cs_record_field_name_is_valid(name, name_len) ||
        !cs_value_is_valid(value) || s_is_buried(self, stamp)) {
        return CS_EINVAL;
    }
    if (self->count > 0) {
        const s_field_t *last = &self->fields[self->count - 1];
        size_t common = last->name_len < name_len ? last->name_len : name_len;
        int c = memcmp(s_name(self, last), name, common);
        if (c > 0 || (c == 0 && last->name_len >= name_len)) {
            return CS_EINVAL; /* out of name order, or a duplicate */
        }
    }
    if (self->count >= CS_RECORD_FIELDS_MAX ||
        self->bytes + name_len + s_value_bytes(value) > CS_RECORD_BYTES_MAX) {
        return CS_ELIMIT;
    }
    s_push(self, name, name_len, value, stamp, seq);
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
        s_field_t *f = &self->fields[i];
        if (s_is_buried(self, f->stamp)) {
            self->bytes -= f->name_len + s_value_bytes(&f->value);
            self->garbage += s_arena_bytes(f);
        } else {
            self->fields[kept++] = *f;
        }
    }
    self->count = kept;
    s_compact(self);
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
        int c = i == self->count    ? 1
                : j == other->count ? -1
                                    : strcmp(s_name(self, &self->fields[i]),
                                             s_name(other, &other->fields[j]));
        const s_field_t *winner;
        if (c < 0) {
            winner = &self->fields[i++];
        } else if (c > 0) {
            winner = &other->fields[j++];
        } else {
            const s_field_t *a = &self->fields[i++], *b = &other->fields[j++];
            cs_value_t va = s_value(self, a), vb = s_value(other, b);
            winner = s_write_compare(a->stamp, &va, b->stamp, &vb) >= 0 ? a : b;
        }
        if (!s_is_buried(&tomb, winner->stamp)) {
            count++;
            bytes += winner->name_len + s_value_bytes(&winner->value);
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
    if (cs_record_is_empty(self) && self != other) {
        /* a new record (most of a bulk load): a copy */
        s_copy(self, other);
        cs_record_set_seq(self, seq);
        if (changed) {
            *changed = self->count + (self->has_tomb ? 1 : 0);
        }
        return CS_OK;
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
        cs_value_t v = s_value(other, f);
        n += s_set(self, s_name(other, f), &v, f->stamp, seq);
    }
    if (changed) {
        *changed = n;
    }
    return CS_OK;
}

cs_record_t *
cs_record_delta_since(const cs_record_t *self, uint64_t since)
{
    return cs_record_delta_except(self, since, NULL, NULL);
}

cs_record_t *
cs_record_delta_except(const cs_record_t *self, uint64_t since,
                       cs_record_seq_fn *skip, void *arg)
{
    assert(self);
    cs_record_t *delta = cs_record_new();
    for (size_t i = 0; i < self->count; i++) {
        const s_field_t *f = &self->fields[i];
        if (f->seq > since && !(skip && skip(arg, f->seq))) {
            cs_value_t v = s_value(self, f);
            s_push(delta, s_name(self, f), f->name_len, &v, f->stamp, f->seq);
        }
    }
    if (self->has_tomb && self->tomb_seq > since &&
        !(skip && skip(arg, self->tomb_seq))) {
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
    /* Filled in place: a cs_value_t built apart and copied in costs a
     * store-forwarding stall on every call (the sync and seed paths make
     * tens of millions). */
    cs_field_t view;
    view.name = s_name(self, f);
    view.value = f->value;
    if (s_has_bytes(&f->value)) {
        view.value.u.s.ptr = self->arena + f->bytes;
    }
    view.stamp = f->stamp;
    view.seq = f->seq;
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

uint64_t
cs_record_min_seq(const cs_record_t *self)
{
    assert(self);
    uint64_t min = self->has_tomb ? self->tomb_seq : UINT64_MAX;
    for (size_t i = 0; i < self->count; i++) {
        if (self->fields[i].seq < min) {
            min = self->fields[i].seq;
        }
    }
    return min;
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
        cs_value_t va = s_value(a, fa), vb = s_value(b, fb);
        if (strcmp(s_name(a, fa), s_name(b, fb)) != 0 ||
            s_write_compare(fa->stamp, &va, fb->stamp, &vb) != 0) {
            return false;
        }
    }
    return true;
}
