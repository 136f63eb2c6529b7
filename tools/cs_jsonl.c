/*  cs_jsonl - streaming reader of JSON Lines exports.
 *  SPDX-License-Identifier: MIT
 *
 *  The input is read in chunks of up to 1 MiB into one buffer, which grows
 *  only for a line longer than itself, and never beyond max_line_bytes plus
 *  a CRLF. A line longer than that is not buffered: its first bytes are
 *  kept for the rejects file and the rest is read and dropped up to the
 *  next LF. A row points into the buffer (raw text, big integers, nested
 *  values) and into arenas the reader reuses for every row (decoded
 *  strings and keys, names, values), so in the steady state a row costs no
 *  allocation. Strings and numbers are scanned by cs_json.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cs_json.h"
#include "tools/cs_jsonl.h"

#define CS_JSONL_LINE_DEFAULT  ((size_t) 16 << 20)
#define CS_JSONL_DEPTH_DEFAULT 64u
#define CS_JSONL_KEYS_DEFAULT  4096u
#define CS_JSONL_LINE_LIMIT    ((size_t) 1 << 30) /* max max_line */
#ifndef CS_JSONL_CHUNK /* the fuzz build starts small, to grow often */
#define CS_JSONL_CHUNK ((size_t) 1 << 20) /* buffer to start with */
#endif
#define CS_JSONL_RAW_MAX   4096u /* raw bytes kept of an over-long line */
#define CS_JSONL_ERROR_MAX 192u  /* a row's error message, NUL included */
#define CS_JSONL_KEY_SHOWN 48u   /* key bytes quoted in an error */

/* One slot of the duplicate-key table: empty unless generation is the
 * current row's. */
typedef struct {
    uint32_t generation; /* row the slot belongs to */
    uint32_t index;      /* key index in names/hashes */
} s_slot_t;

struct cs_jsonl {
    int fd;                         /* input, not closed by us */
    char *name;                     /* input name, for messages */
    size_t max_line;                /* bytes of a line, ending excluded */
    size_t max_depth;               /* nesting; the line's object is 1 */
    size_t max_keys;                /* members of a line's object */
    char *buf;                      /* input; [start, len) not consumed */
    size_t cap;                     /* bytes at buf, one kept spare */
    size_t cap_max;                 /* buf never grows beyond this */
    size_t start;                   /* first byte of the next line */
    size_t len;                     /* bytes read into buf */
    size_t scanned;                 /* bytes after start without an LF */
    uint64_t base;                  /* input offset of buf[0] */
    uint64_t line;                  /* physical line number at start */
    bool eof;                       /* read() returned 0 */
    bool bom_pending;               /* at input offset 0: strip a BOM */
    int failed;                     /* sticky CS_EIO, or CS_OK */
    const char **names;             /* the row's keys, in text */
    uint32_t *hashes;               /* their hashes */
    cs_value_t *values;             /* the row's values */
    size_t keys_cap;                /* entries in names, hashes, values */
    s_slot_t *slots;                /* open-addressing key table */
    size_t slots_cap;               /* a power of two, or 0 */
    uint32_t generation;            /* the current row's slot mark */
    char *text;                     /* decoded keys and strings */
    size_t text_cap;                /* bytes at text */
    unsigned char *stack;           /* brackets open in a nested value */
    size_t stack_cap;               /* bytes at stack */
    char raw[CS_JSONL_RAW_MAX];     /* head of an over-long line */
    char error[CS_JSONL_ERROR_MAX]; /* why the current row is bad */
};

/* ---------------- small helpers ---------------- */

static void *
s_realloc(void *ptr, size_t count, size_t size)
{
    assert(size > 0 && count <= SIZE_MAX / size);
    void *grown = realloc(ptr, count * size);
    if (!grown) {
        abort();
    }
    return grown;
}

static int s_bad(cs_jsonl_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*  Set the current row's error message. @return CS_EPROTO. */
static int
s_bad(cs_jsonl_t *self, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, args);
    va_end(args);
    return CS_EPROTO;
}

static size_t
s_skip_space(const char *text, size_t len, size_t pos)
{
    while (pos < len && (text[pos] == ' ' || text[pos] == '\t' ||
                         text[pos] == '\r' || text[pos] == '\n')) {
        pos++;
    }
    return pos;
}

/*  A printable copy of the @p len bytes at @p key (valid UTF-8) in @p out:
 *  at most CS_JSONL_KEY_SHOWN bytes cut on a character boundary, control
 *  characters as '?', "..." when cut. */
static void
s_shorten(const char *key, size_t len, char *out, size_t cap)
{
    assert(cap >= CS_JSONL_KEY_SHOWN + 4);
    size_t n = len;
    if (n > CS_JSONL_KEY_SHOWN) {
        n = CS_JSONL_KEY_SHOWN;
        while (n > 0 && ((unsigned char) key[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) key[i];
        out[i] = key[i];
        if (c < 0x20 || c == 0x7F) {
            out[i] = '?';
        }
    }
    if (n < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/*  A hash of a key, 8 bytes per step; only a first filter before strcmp. */
static uint32_t
s_hash(const char *key, size_t len)
{
    const uint64_t mul = 0x9E3779B97F4A7C15u;
    uint64_t hash = len * mul;
    uint64_t chunk;
    while (len >= 8) {
        memcpy(&chunk, key, 8);
        hash = (hash ^ chunk) * mul;
        hash ^= hash >> 29;
        key += 8;
        len -= 8;
    }
    chunk = 0; /* in registers: a short memcpy here stalls the load */
    for (size_t i = 0; i < len; i++) {
        chunk |= (uint64_t) (unsigned char) key[i] << (8 * i);
    }
    hash = (hash ^ chunk) * mul;
    hash ^= hash >> 32;
    return (uint32_t) hash;
}

/*  Set *@p value to the string of @p len bytes at @p ptr. Values are built
 *  in place here, not by the cs_value_* constructors: copying the struct
 *  they return costs a store-forwarding stall per value. */
static void
s_set_str(cs_value_t *value, const char *ptr, size_t len)
{
    *value = (cs_value_t){ .type = CS_VALUE_STR, .u.s = { ptr, len } };
}

/* ---------------- input buffer ---------------- */

/*  Move the unconsumed bytes to the front, grow the buffer if it is full
 *  and may grow, and read once more. Sets eof at the end of the input. */
static int
s_fill(cs_jsonl_t *self)
{
    if (self->start > 0) {
        size_t keep = self->len - self->start;
        memmove(self->buf, self->buf + self->start, keep);
        self->base += self->start;
        self->len = keep;
        self->start = 0;
    }
    if (self->len + 1 >= self->cap && self->cap < self->cap_max) {
        size_t cap = self->cap * 2;
        if (cap > self->cap_max) {
            cap = self->cap_max;
        }
        self->buf = s_realloc(self->buf, cap, 1);
        self->cap = cap;
    }
    assert(self->len + 1 < self->cap);
    while (true) {
        ssize_t got =
            read(self->fd, self->buf + self->len, self->cap - 1 - self->len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            fprintf(stderr, "crmsync: %s: read error: %s\n", self->name,
                    strerror(errno));
            self->failed = CS_EIO;
            return CS_EIO;
        }
        if (got == 0) {
            self->eof = true;
        }
        self->len += (size_t) got;
        return CS_OK;
    }
}

/*  Strip a UTF-8 BOM at input offset 0. */
static int
s_strip_bom(cs_jsonl_t *self)
{
    while (self->len - self->start < 3 && !self->eof) {
        int rc = s_fill(self);
        if (rc != CS_OK) {
            return rc;
        }
    }
    if (self->len - self->start >= 3 &&
        memcmp(self->buf + self->start, "\xEF\xBB\xBF", 3) == 0) {
        self->start += 3;
    }
    self->bom_pending = false;
    return CS_OK;
}

/*  Make the next line available at buf + start: *@p line_len bytes, then
 *  an LF if *@p has_lf. @return CS_OK; CS_ELIMIT if more than max_line + 1
 *  bytes come before the LF (those are in the buffer, and no LF); CS_ENOENT
 *  at the end of the input; CS_EIO. */
static int
s_find_line(cs_jsonl_t *self, size_t *line_len, bool *has_lf)
{
    while (true) {
        size_t avail = self->len - self->start;
        const char *begin = self->buf + self->start;
        const char *lf =
            memchr(begin + self->scanned, '\n', avail - self->scanned);
        if (lf) {
            *line_len = (size_t) (lf - begin);
            *has_lf = true;
            return CS_OK;
        }
        self->scanned = avail;
        if (self->eof) {
            if (avail == 0) {
                return CS_ENOENT;
            }
            *line_len = avail;
            *has_lf = false;
            return CS_OK;
        }
        /* max_line + 1: the last byte may be the CR of a CRLF */
        if (avail > self->max_line + 1) {
            return CS_ELIMIT;
        }
        int rc = s_fill(self);
        if (rc != CS_OK) {
            return rc;
        }
    }
}

/*  The line at start is too long to buffer: keep its head in raw, drop the
 *  rest up to and including the next LF, and report it in @p row. */
static int
s_skip_long_line(cs_jsonl_t *self, cs_row_t *row)
{
    size_t avail = self->len - self->start;
    size_t keep = avail < sizeof self->raw ? avail : sizeof self->raw;
    memcpy(self->raw, self->buf + self->start, keep);
    row->line = self->line;
    row->offset = self->base + self->start;
    row->raw = self->raw;
    row->raw_len = keep;
    self->start = self->len; /* none of it holds an LF */
    self->scanned = 0;
    while (true) {
        int rc = s_fill(self);
        if (rc != CS_OK) {
            return rc;
        }
        avail = self->len - self->start;
        if (avail == 0 && self->eof) {
            break;
        }
        const char *lf = memchr(self->buf + self->start, '\n', avail);
        if (lf) {
            self->start = (size_t) (lf - self->buf) + 1;
            self->line++;
            break;
        }
        self->start = self->len;
    }
    row->end_offset = self->base + self->start;
    row->error = self->error;
    return s_bad(self, "line over %zu bytes", self->max_line);
}

/* ---------------- parsing one line ---------------- */

/*  Room for @p count keys and values (count <= max_keys). */
static void
s_reserve_keys(cs_jsonl_t *self, size_t count)
{
    if (count <= self->keys_cap) {
        return;
    }
    size_t cap = self->keys_cap < 16 ? 32 : self->keys_cap * 2;
    if (cap > self->max_keys) {
        cap = self->max_keys;
    }
    self->names = s_realloc(self->names, cap, sizeof *self->names);
    self->hashes = s_realloc(self->hashes, cap, sizeof *self->hashes);
    self->values = s_realloc(self->values, cap, sizeof *self->values);
    self->keys_cap = cap;
}

/*  Start a row: every slot of the key table becomes empty. */
static void
s_new_generation(cs_jsonl_t *self)
{
    self->generation++;
    if (self->generation == 0) {
        if (self->slots_cap > 0) {
            memset(self->slots, 0, self->slots_cap * sizeof *self->slots);
        }
        self->generation = 1;
    }
}

/*  Put key @p index in the table. @return false if an earlier key of the
 *  row has the same name. */
static bool
s_insert_key(cs_jsonl_t *self, size_t index)
{
    if ((index + 1) * 2 > self->slots_cap) {
        /* keys come one at a time: doubling always makes room */
        size_t cap = self->slots_cap == 0 ? 64 : self->slots_cap * 2;
        assert((index + 1) * 2 <= cap);
        free(self->slots);
        self->slots = calloc(cap, sizeof *self->slots);
        if (!self->slots) {
            abort();
        }
        self->slots_cap = cap;
        self->generation = 1;
        for (size_t k = 0; k < index; k++) {
            size_t at = self->hashes[k] & (cap - 1);
            while (self->slots[at].generation == self->generation) {
                at = (at + 1) & (cap - 1);
            }
            self->slots[at].generation = self->generation;
            self->slots[at].index = (uint32_t) k;
        }
    }
    size_t mask = self->slots_cap - 1;
    size_t at = self->hashes[index] & mask;
    while (self->slots[at].generation == self->generation) {
        uint32_t other = self->slots[at].index;
        if (self->hashes[other] == self->hashes[index] &&
            strcmp(self->names[other], self->names[index]) == 0) {
            return false;
        }
        at = (at + 1) & mask;
    }
    self->slots[at].generation = self->generation;
    self->slots[at].index = (uint32_t) index;
    return true;
}

/*  true, false or null at text[*pos]; false if it is none of them. */
static bool
s_literal(const char *text, size_t len, size_t *pos, cs_value_t *value)
{
    size_t left = len - *pos;
    const char *at = text + *pos;
    if (left >= 4 && memcmp(at, "true", 4) == 0) {
        *value = (cs_value_t){ .type = CS_VALUE_BOOL, .u.b = true };
        *pos += 4;
    } else if (left >= 5 && memcmp(at, "false", 5) == 0) {
        *value = (cs_value_t){ .type = CS_VALUE_BOOL, .u.b = false };
        *pos += 5;
    } else if (left >= 4 && memcmp(at, "null", 4) == 0) {
        *value = (cs_value_t){ .type = CS_VALUE_NIL };
        *pos += 4;
    } else {
        return false;
    }
    return true;
}

/*  An object key in a nested object, at *pos (space skipped), with its
 *  ':' and the space after it. */
static int
s_check_nested_key(cs_jsonl_t *self, const char *text, size_t len, size_t *pos)
{
    size_t out_len = 0;
    if (*pos >= len || text[*pos] != '"') {
        return s_bad(self, "expected a key (a string) at byte %zu", *pos);
    }
    if (cs_json_scan_string(text, len, pos, NULL, &out_len, self->error,
                            sizeof self->error) != CS_OK) {
        return CS_EPROTO;
    }
    *pos = s_skip_space(text, len, *pos);
    if (*pos >= len || text[*pos] != ':') {
        return s_bad(self, "expected ':' at byte %zu", *pos);
    }
    *pos = s_skip_space(text, len, *pos + 1);
    return CS_OK;
}

/*  Check the object or array at text[*pos], nested in the line's object,
 *  without recursion; *pos ends just past it. */
static int
s_check_nested(cs_jsonl_t *self, const char *text, size_t len, size_t *pos_p)
{
    size_t pos = *pos_p;
    size_t depth = 0; /* brackets open in this value */
    int rc;
    while (true) {
        /* a value at pos */
        pos = s_skip_space(text, len, pos);
        if (pos >= len) {
            return s_bad(self, "expected a value at byte %zu", pos);
        }
        char c = text[pos];
        if (c == '{' || c == '[') {
            if (depth + 2 > self->max_depth) {
                return s_bad(self, "nested deeper than %zu levels",
                             self->max_depth);
            }
            if (depth == self->stack_cap) {
                self->stack_cap =
                    self->stack_cap == 0 ? 64 : self->stack_cap * 2;
                self->stack = s_realloc(self->stack, self->stack_cap, 1);
            }
            self->stack[depth++] = (unsigned char) c;
            pos = s_skip_space(text, len, pos + 1);
            if (pos < len && text[pos] == (c == '{' ? '}' : ']')) {
                pos++;
                depth--;
            } else if (c == '{') {
                rc = s_check_nested_key(self, text, len, &pos);
                if (rc != CS_OK) {
                    return rc;
                }
                continue;
            } else {
                continue;
            }
        } else if (c == '"') {
            size_t out_len = 0;
            if (cs_json_scan_string(text, len, &pos, NULL, &out_len,
                                    self->error, sizeof self->error) != CS_OK) {
                return CS_EPROTO;
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            cs_json_number_t kind;
            if (cs_json_scan_number(text, len, &pos, NULL, &kind, self->error,
                                    sizeof self->error) != CS_OK) {
                return CS_EPROTO;
            }
        } else {
            cs_value_t ignored;
            if (!s_literal(text, len, &pos, &ignored)) {
                return s_bad(self, "expected a value at byte %zu", pos);
            }
        }
        /* after a value: close brackets until a ',' asks for another */
        while (depth > 0) {
            pos = s_skip_space(text, len, pos);
            char open = (char) self->stack[depth - 1];
            char close = open == '{' ? '}' : ']';
            if (pos < len && text[pos] == close) {
                pos++;
                depth--;
                continue;
            }
            if (pos < len && text[pos] == ',') {
                pos = s_skip_space(text, len, pos + 1);
                if (open == '{') {
                    rc = s_check_nested_key(self, text, len, &pos);
                    if (rc != CS_OK) {
                        return rc;
                    }
                }
                break;
            }
            return s_bad(self, "expected ',' or '%c' at byte %zu", close, pos);
        }
        if (depth == 0) {
            *pos_p = pos;
            return CS_OK;
        }
    }
}

/*  A member's value at text[*pos] (space skipped). Decoded strings go to
 *  text arena at *used. */
static int
s_parse_value(cs_jsonl_t *self, const char *text, size_t len, size_t *pos,
              cs_value_t *value, size_t *used)
{
    size_t begin = *pos;
    if (begin >= len) {
        return s_bad(self, "expected a value at byte %zu", begin);
    }
    char c = text[begin];
    if (c == '"') {
        size_t out_len = 0;
        char *out = self->text + *used;
        if (cs_json_scan_string(text, len, pos, out, &out_len, self->error,
                                sizeof self->error) != CS_OK) {
            return CS_EPROTO;
        }
        *used += out_len;
        s_set_str(value, out, out_len);
        return CS_OK;
    }
    if (c == '{' || c == '[') {
        int rc = s_check_nested(self, text, len, pos);
        if (rc != CS_OK) {
            return rc;
        }
        s_set_str(value, text + begin, *pos - begin);
        return CS_OK;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        cs_json_number_t kind;
        if (cs_json_scan_number(text, len, pos, value, &kind, self->error,
                                sizeof self->error) != CS_OK) {
            return CS_EPROTO;
        }
        if (kind == CS_JSON_NUMBER_BIG) {
            s_set_str(value, text + begin, *pos - begin);
        }
        return CS_OK;
    }
    if (!s_literal(text, len, pos, value)) {
        return s_bad(self, "expected a value at byte %zu", begin);
    }
    return CS_OK;
}

/*  The object that makes up a non-blank line of @p len bytes at @p text,
 *  into names/values. */
static int
s_parse_object(cs_jsonl_t *self, const char *text, size_t len,
               size_t *count_out)
{
    size_t pos = s_skip_space(text, len, 0);
    size_t count = 0;
    size_t used = 0; /* bytes of the text arena in use */
    int rc;
    /* decoded keys with their NULs and strings never outgrow the line */
    if (self->text_cap < len + 1) {
        size_t cap = self->text_cap * 2;
        self->text_cap = cap > len + 1 ? cap : len + 1;
        self->text = s_realloc(self->text, self->text_cap, 1);
    }
    if (pos >= len || text[pos] != '{') {
        return s_bad(self, "not a JSON object");
    }
    pos = s_skip_space(text, len, pos + 1);
    if (pos < len && text[pos] == '}') {
        pos++;
        goto trailer;
    }
    s_new_generation(self);
    while (true) {
        if (pos >= len || text[pos] != '"') {
            return s_bad(self, "expected a key (a string) at byte %zu", pos);
        }
        if (count == self->max_keys) {
            return s_bad(self, "more than %zu keys", self->max_keys);
        }
        s_reserve_keys(self, count + 1);
        char *key = self->text + used;
        size_t key_len = 0;
        if (cs_json_scan_string(text, len, &pos, key, &key_len, self->error,
                                sizeof self->error) != CS_OK) {
            return CS_EPROTO;
        }
        if (key_len == 0) {
            return s_bad(self, "bad key: empty");
        }
        if (memchr(key, '\0', key_len)) {
            return s_bad(self, "bad key: holds \\u0000");
        }
        key[key_len] = '\0';
        used += key_len + 1;
        self->names[count] = key;
        self->hashes[count] = s_hash(key, key_len);
        if (!s_insert_key(self, count)) {
            char shown[CS_JSONL_KEY_SHOWN + 4];
            s_shorten(key, key_len, shown, sizeof shown);
            return s_bad(self, "duplicate key %s", shown);
        }
        pos = s_skip_space(text, len, pos);
        if (pos >= len || text[pos] != ':') {
            return s_bad(self, "expected ':' at byte %zu", pos);
        }
        pos = s_skip_space(text, len, pos + 1);
        rc = s_parse_value(self, text, len, &pos, &self->values[count], &used);
        if (rc != CS_OK) {
            return rc;
        }
        count++;
        pos = s_skip_space(text, len, pos);
        if (pos < len && text[pos] == ',') {
            pos = s_skip_space(text, len, pos + 1);
            continue;
        }
        if (pos < len && text[pos] == '}') {
            pos++;
            break;
        }
        return s_bad(self, "expected ',' or '}' at byte %zu", pos);
    }
trailer:
    pos = s_skip_space(text, len, pos);
    if (pos < len) {
        return s_bad(self, "text after the object at byte %zu", pos);
    }
    *count_out = count;
    return CS_OK;
}

/* ---------------- public API ---------------- */

int
cs_jsonl_open(int fd, const char *name, const cs_jsonl_opts_t *opts,
              cs_jsonl_t **self_p)
{
    assert(self_p);
    cs_jsonl_opts_t given = { 0, 0, 0 };
    if (opts) {
        given = *opts;
    }
    if (fd < 0 || given.max_line_bytes > CS_JSONL_LINE_LIMIT) {
        return CS_EINVAL;
    }
    cs_jsonl_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    self->fd = fd;
    self->name = strdup(name ? name : "-");
    if (!self->name) {
        abort();
    }
    self->max_line =
        given.max_line_bytes ? given.max_line_bytes : CS_JSONL_LINE_DEFAULT;
    self->max_depth =
        given.max_depth ? given.max_depth : CS_JSONL_DEPTH_DEFAULT;
    self->max_keys = given.max_keys ? given.max_keys : CS_JSONL_KEYS_DEFAULT;
    if (self->max_keys > UINT32_MAX) {
        self->max_keys = UINT32_MAX;
    }
    /* a whole line, its CRLF, and the spare byte */
    self->cap_max = self->max_line + 3;
    self->cap = self->cap_max < CS_JSONL_CHUNK ? self->cap_max : CS_JSONL_CHUNK;
    self->buf = s_realloc(NULL, self->cap, 1);
    off_t at = lseek(fd, 0, SEEK_CUR);
    self->base = at > 0 ? (uint64_t) at : 0;
    self->bom_pending = self->base == 0;
    self->line = 1;
    int rc = s_fill(self);
    if (rc != CS_OK) {
        cs_jsonl_destroy(&self);
        return rc;
    }
    *self_p = self;
    return CS_OK;
}

void
cs_jsonl_destroy(cs_jsonl_t **self_p)
{
    assert(self_p);
    cs_jsonl_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->name);
    free(self->buf);
    free(self->names);
    free(self->hashes);
    free(self->values);
    free(self->slots);
    free(self->text);
    free(self->stack);
    free(self);
    *self_p = NULL;
}

int
cs_jsonl_next(cs_jsonl_t *self, cs_row_t *row)
{
    assert(self);
    assert(row);
    memset(row, 0, sizeof *row);
    if (self->failed != CS_OK) {
        return self->failed;
    }
    if (self->bom_pending) {
        int rc = s_strip_bom(self);
        if (rc != CS_OK) {
            return rc;
        }
    }
    while (true) {
        size_t line_len = 0;
        bool has_lf = false;
        int rc = s_find_line(self, &line_len, &has_lf);
        if (rc == CS_ELIMIT) {
            return s_skip_long_line(self, row);
        }
        if (rc != CS_OK) {
            return rc;
        }
        char *text = self->buf + self->start;
        size_t text_len = line_len;
        if (has_lf && text_len > 0 && text[text_len - 1] == '\r') {
            text_len--;
        }
        size_t consumed = line_len + (has_lf ? 1 : 0);
        row->line = self->line;
        row->offset = self->base + self->start;
        row->end_offset = row->offset + consumed;
        row->raw = text;
        row->raw_len = text_len;
        self->start += consumed;
        self->scanned = 0;
        self->line++;
        if (text_len > self->max_line) {
            if (row->raw_len > CS_JSONL_RAW_MAX) {
                row->raw_len = CS_JSONL_RAW_MAX;
            }
            row->error = self->error;
            return s_bad(self, "line over %zu bytes", self->max_line);
        }
        if (s_skip_space(text, text_len, 0) == text_len) {
            continue; /* blank */
        }
        size_t count = 0;
        rc = s_parse_object(self, text, text_len, &count);
        if (rc != CS_OK) {
            row->error = self->error;
            return rc;
        }
        row->count = count;
        row->names = self->names;
        row->values = self->values;
        return CS_OK;
    }
}

int
cs_jsonl_seek(cs_jsonl_t *self, uint64_t offset, uint64_t line)
{
    assert(self);
    if (line == 0 || offset > (uint64_t) INT64_MAX) {
        return CS_EINVAL;
    }
    if (lseek(self->fd, (off_t) offset, SEEK_SET) < 0) {
        if (errno == ESPIPE || errno == EINVAL) {
            return CS_EINVAL;
        }
        fprintf(stderr, "crmsync: %s: seek error: %s\n", self->name,
                strerror(errno));
        return CS_EIO;
    }
    self->start = 0;
    self->len = 0;
    self->scanned = 0;
    self->base = offset;
    self->line = line;
    self->eof = false;
    self->failed = CS_OK;
    self->bom_pending = offset == 0;
    return CS_OK;
}
