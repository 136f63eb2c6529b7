/*  cs_names - a store's field-name dictionary.
 *  SPDX-License-Identifier: MIT
 *
 *  The names in number order, and an open-addressing hash table (linear
 *  probing, at most half full) of their numbers + 1, 0 marking a free
 *  slot. Encoding a stored record looks up each of its names; fields come
 *  in the same order record after record, so the number found at each
 *  place is remembered and tried first (a compare instead of a hash).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/cs_names.h"
#include "crdt/cs_record.h"

#define S_HINTS 64u /* places in a record with a remembered number */

typedef struct {
    char *name;    /* owned, NUL-terminated */
    size_t len;    /* its bytes */
    uint64_t hash; /* s_hash of it */
} s_entry_t;

struct cs_names {
    s_entry_t *entries;      /* by number */
    size_t count;            /* used */
    size_t cap;              /* allocated */
    uint32_t *slots;         /* number + 1, or 0 */
    size_t slot_count;       /* a power of two, at least twice count */
    uint32_t hints[S_HINTS]; /* by place in a record: last number found */
};

/* FNV-1a, 64 bits: names are short. */
static uint64_t
s_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (uint8_t) s[i]) * 1099511628211u;
    }
    return h;
}

static bool
s_is(const s_entry_t *e, const char *name, size_t len)
{
    return e->len == len && memcmp(e->name, name, len) == 0;
}

static void s_rehash(cs_names_t *self);

cs_names_t *
cs_names_new(void)
{
    cs_names_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    memset(self->hints, 0xff, sizeof self->hints);
    s_rehash(self);
    return self;
}

void
cs_names_destroy(cs_names_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    cs_names_t *self = *self_p;
    for (size_t n = 0; n < self->count; n++) {
        free(self->entries[n].name);
    }
    free(self->entries);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

size_t
cs_names_count(const cs_names_t *self)
{
    assert(self);
    return self->count;
}

const char *
cs_names_at(const cs_names_t *self, uint64_t number, size_t *len)
{
    assert(self);
    assert(len);
    if (number >= self->count) {
        return NULL;
    }
    *len = self->entries[number].len;
    return self->entries[number].name;
}

/*  The slot that holds the name, or the free slot where it would go. */
static size_t
s_slot(const cs_names_t *self, const char *name, size_t len, uint64_t hash)
{
    size_t mask = self->slot_count - 1;
    size_t i = (size_t) hash & mask;
    while (self->slots[i] != 0 &&
           !s_is(&self->entries[self->slots[i] - 1], name, len)) {
        i = (i + 1) & mask;
    }
    return i;
}

/*  Size the hash table for the names there are and fill it. */
static void
s_rehash(cs_names_t *self)
{
    size_t want = 16;
    while (want < 2 * self->count) {
        want *= 2;
    }
    free(self->slots);
    self->slots = calloc(want, sizeof *self->slots);
    if (!self->slots) {
        abort();
    }
    self->slot_count = want;
    for (size_t n = 0; n < self->count; n++) {
        const s_entry_t *e = &self->entries[n];
        self->slots[s_slot(self, e->name, e->len, e->hash)] = (uint32_t) n + 1;
    }
}

/*  Append a valid name known to be absent, @p slot its free slot. */
static uint32_t
s_append(cs_names_t *self, const char *name, size_t len, uint64_t hash,
         size_t slot)
{
    if (self->count == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 64;
        self->entries =
            realloc(self->entries, self->cap * sizeof *self->entries);
        if (!self->entries) {
            abort();
        }
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        abort();
    }
    memcpy(copy, name, len);
    copy[len] = '\0';
    uint32_t number = (uint32_t) self->count++;
    self->entries[number] = (s_entry_t){ copy, len, hash };
    if (2 * self->count > self->slot_count) {
        s_rehash(self); /* takes the new entry in */
    } else {
        self->slots[slot] = number + 1;
    }
    return number;
}

int
cs_names_add(cs_names_t *self, const char *name, size_t len)
{
    assert(self);
    assert(name || len == 0);
    if (!cs_record_field_name_is_valid(name, len)) {
        return CS_EINVAL;
    }
    if (self->count == CS_NAMES_MAX) {
        return CS_ELIMIT;
    }
    uint64_t hash = s_hash(name, len);
    size_t slot = s_slot(self, name, len, hash);
    if (self->slots[slot] != 0) {
        return CS_EINVAL;
    }
    s_append(self, name, len, hash, slot);
    return CS_OK;
}

uint32_t
cs_names_number(cs_names_t *self, const char *name, size_t len, size_t position,
                bool add)
{
    assert(self);
    assert(name || len == 0);
    uint32_t *hint = &self->hints[position % S_HINTS];
    if (*hint < self->count && s_is(&self->entries[*hint], name, len)) {
        return *hint;
    }
    uint64_t hash = s_hash(name, len);
    size_t slot = s_slot(self, name, len, hash);
    uint32_t number = self->slots[slot] - 1; /* CS_NAMES_NONE if free */
    if (number == CS_NAMES_NONE && add && self->count < CS_NAMES_MAX &&
        cs_record_field_name_is_valid(name, len)) {
        number = s_append(self, name, len, hash, slot);
    }
    if (number != CS_NAMES_NONE) {
        *hint = number;
    }
    return number;
}

void
cs_names_truncate(cs_names_t *self, size_t count)
{
    assert(self);
    if (count >= self->count) {
        return;
    }
    for (size_t n = count; n < self->count; n++) {
        free(self->entries[n].name);
    }
    self->count = count;
    s_rehash(self);
}
