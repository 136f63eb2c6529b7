/*  cs_sdl - Salesforce Data Loader mapping files (.sdl).
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crdt/cs_value.h"
#include "tools/cs_sdl.h"

/*  One entry and the storage behind it. */
typedef struct {
    cs_sdl_entry_t pub; /* what callers see */
    char *column;       /* owned */
    char **fields;      /* owned strings */
} s_entry_t;

struct cs_sdl {
    s_entry_t *entries; /* in file order */
    size_t count;       /* used */
    size_t cap;         /* allocated */
};

/*  A growing string. */
typedef struct {
    char *data; /* NUL-terminated when len > 0 */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
} s_str_t;

static void
s_str_push(s_str_t *s, char c)
{
    if (s->len + 2 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->data = realloc(s->data, s->cap);
        if (!s->data) {
            abort();
        }
    }
    s->data[s->len++] = c;
    s->data[s->len] = '\0';
}

static char *
s_str_take(s_str_t *s)
{
    char *out = s->data ? s->data : strdup("");
    if (!out) {
        abort();
    }
    memset(s, 0, sizeof *s);
    return out;
}

static void
s_str_trim_end(s_str_t *s, size_t keep)
{
    while (s->len > keep &&
           (s->data[s->len - 1] == ' ' || s->data[s->len - 1] == '\t' ||
            s->data[s->len - 1] == '\f')) {
        s->data[--s->len] = '\0';
    }
}

static void s_error(char *err, size_t cap, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_error(char *err, size_t cap, size_t line, const char *fmt, ...)
{
    if (!err || cap == 0) {
        return;
    }
    int n = snprintf(err, cap, "line %zu: ", line);
    if (n < 0 || (size_t) n >= cap) {
        return;
    }
    va_list args;
    va_start(args, fmt);
    vsnprintf(err + n, cap - (size_t) n, fmt, args);
    va_end(args);
}

static bool
s_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

static void
s_put_utf8(s_str_t *s, uint32_t cp)
{
    if (cp < 0x80) {
        s_str_push(s, (char) cp);
    } else if (cp < 0x800) {
        s_str_push(s, (char) (0xC0 | (cp >> 6)));
        s_str_push(s, (char) (0x80 | (cp & 0x3F)));
    } else {
        s_str_push(s, (char) (0xE0 | (cp >> 12)));
        s_str_push(s, (char) (0x80 | ((cp >> 6) & 0x3F)));
        s_str_push(s, (char) (0x80 | (cp & 0x3F)));
    }
}

/*  The logical line being read: its bytes with continuations joined. */
typedef struct {
    const char *p;   /* next byte */
    const char *end; /* end of the logical line */
} s_cur_t;

/*  Read one escape after a backslash at cur->p - 1 into @p out.
 *  @return false for a bad \u escape. */
static bool
s_escape(s_cur_t *cur, s_str_t *out)
{
    if (cur->p >= cur->end) {
        return true; /* a lone trailing backslash is dropped */
    }
    char c = *cur->p++;
    switch (c) {
    case 't':
        s_str_push(out, '\t');
        return true;
    case 'n':
        s_str_push(out, '\n');
        return true;
    case 'r':
        s_str_push(out, '\r');
        return true;
    case 'f':
        s_str_push(out, '\f');
        return true;
    case 'u': {
        uint32_t cp = 0;
        for (int i = 0; i < 4; i++) {
            if (cur->p >= cur->end) {
                return false;
            }
            char h = *cur->p++;
            cp <<= 4;
            if (h >= '0' && h <= '9') {
                cp |= (uint32_t) (h - '0');
            } else if (h >= 'a' && h <= 'f') {
                cp |= (uint32_t) (h - 'a' + 10);
            } else if (h >= 'A' && h <= 'F') {
                cp |= (uint32_t) (h - 'A' + 10);
            } else {
                return false;
            }
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        s_put_utf8(out, cp);
        return true;
    }
    default:
        s_str_push(out, c);
        return true;
    }
}

static int
s_add(cs_sdl_t *self, char *column, bool constant, char **fields,
      size_t field_count, size_t line)
{
    if (!constant) {
        for (size_t i = 0; i < self->count; i++) {
            s_entry_t *old = &self->entries[i];
            if (!old->pub.constant && strcasecmp(old->column, column) == 0) {
                free(old->column);
                for (size_t f = 0; f < old->pub.field_count; f++) {
                    free(old->fields[f]);
                }
                free(old->fields);
                memmove(old, old + 1,
                        (self->count - i - 1) * sizeof *self->entries);
                self->count--;
                break;
            }
        }
    }
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->entries =
            realloc(self->entries, self->cap * sizeof *self->entries);
        if (!self->entries) {
            abort();
        }
    }
    s_entry_t *entry = &self->entries[self->count++];
    entry->column = column;
    entry->fields = fields;
    entry->pub.column = column;
    entry->pub.constant = constant;
    entry->pub.field_count = field_count;
    entry->pub.fields = (const char *const *) fields;
    entry->pub.line = line;
    return CS_OK;
}

/*  Parse one logical line (already known not to be blank or a comment). */
static int
s_parse_line(cs_sdl_t *self, const char *begin, const char *end, size_t line,
             char *err, size_t err_cap)
{
    s_cur_t cur = { begin, end };
    s_str_t key = { 0 };
    char **fields = NULL;
    size_t field_count = 0;
    int rc = CS_EINVAL;
    /* the key: up to an unescaped '=', ':' or blank */
    while (cur.p < cur.end) {
        char c = *cur.p;
        if (c == '=' || c == ':' || s_is_blank(c)) {
            break;
        }
        cur.p++;
        if (c == '\\') {
            if (!s_escape(&cur, &key)) {
                s_error(err, err_cap, line, "bad \\u escape");
                goto out_free;
            }
        } else {
            s_str_push(&key, c);
        }
    }
    while (cur.p < cur.end && s_is_blank(*cur.p)) {
        cur.p++;
    }
    if (cur.p >= cur.end || (*cur.p != '=' && *cur.p != ':')) {
        s_error(err, err_cap, line, "expected COLUMN=FIELD");
        goto out_free;
    }
    cur.p++;
    while (cur.p < cur.end && s_is_blank(*cur.p)) {
        cur.p++;
    }
    /* the value: fields separated by unescaped commas, until a comment */
    s_str_t field = { 0 };
    bool escaped_tail = false; /* the last byte of field came from \x */
    while (true) {
        bool at_end = cur.p >= cur.end;
        char c = at_end ? '\0' : *cur.p;
        bool comment =
            !at_end && c == '#' &&
            (cur.p == begin || s_is_blank(cur.p[-1]) || cur.p[-1] == '=' ||
             cur.p[-1] == ':' || cur.p[-1] == ',');
        if (at_end || comment || c == ',') {
            if (!escaped_tail) {
                s_str_trim_end(&field, 0);
            }
            if (field.len > 0) {
                fields = realloc(fields, (field_count + 1) * sizeof *fields);
                if (!fields) {
                    abort();
                }
                fields[field_count++] = s_str_take(&field);
            }
            free(field.data);
            memset(&field, 0, sizeof field);
            escaped_tail = false;
            if (at_end || comment) {
                break;
            }
            cur.p++;
            while (cur.p < cur.end && s_is_blank(*cur.p)) {
                cur.p++;
            }
            continue;
        }
        cur.p++;
        if (c == '\\') {
            if (!s_escape(&cur, &field)) {
                free(field.data);
                s_error(err, err_cap, line, "bad \\u escape");
                goto out_free;
            }
            escaped_tail = true;
        } else {
            s_str_push(&field, c);
            escaped_tail = false;
        }
    }
    if (key.len == 0) {
        s_error(err, err_cap, line, "empty column name");
        goto out_free;
    }
    bool constant =
        key.len >= 2 && key.data[0] == '"' && key.data[key.len - 1] == '"';
    if (constant) {
        memmove(key.data, key.data + 1, key.len - 2);
        key.len -= 2;
        key.data[key.len] = '\0';
    }
    rc = s_add(self, s_str_take(&key), constant, fields, field_count, line);
    return rc;
out_free:
    free(key.data);
    for (size_t i = 0; i < field_count; i++) {
        free(fields[i]);
    }
    free(fields);
    return rc;
}

/*  True if the physical line [p, end) ends in an odd number of
 *  backslashes: it continues on the next line. */
static bool
s_continues(const char *p, const char *end)
{
    size_t n = 0;
    while (end > p && end[-1] == '\\') {
        n++;
        end--;
    }
    return n % 2 == 1;
}

int
cs_sdl_parse(const char *text, size_t len, cs_sdl_t **self_p, char *err,
             size_t err_cap)
{
    assert(text || len == 0);
    assert(self_p);
    if (err && err_cap) {
        err[0] = '\0';
    }
    if (len > CS_SDL_TEXT_MAX) {
        s_error(err, err_cap, 1, "the file is over %u bytes", CS_SDL_TEXT_MAX);
        return CS_ELIMIT;
    }
    cs_sdl_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    /* a UTF-8 BOM */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    const char *p = text;
    const char *end = text + len;
    size_t line = 0;
    s_str_t logical = { 0 };
    int rc = CS_OK;
    while (p < end && rc == CS_OK) {
        line++;
        size_t first_line = line;
        logical.len = 0;
        bool first = true;
        while (true) {
            const char *eol = memchr(p, '\n', (size_t) (end - p));
            const char *stop = eol ? eol : end;
            const char *content_end = stop;
            if (content_end > p && content_end[-1] == '\r') {
                content_end--;
            }
            const char *q = p;
            while (q < content_end && s_is_blank(*q)) {
                q++;
            }
            if (memchr(q, '\0', (size_t) (content_end - q)) ||
                !cs_utf8_is_valid(q, (size_t) (content_end - q))) {
                s_error(err, err_cap, line, "not valid UTF-8 text");
                rc = CS_EINVAL;
                break;
            }
            bool comment = first && q < content_end && (*q == '#' || *q == '!');
            bool more = !comment && s_continues(q, content_end);
            const char *take_end = more ? content_end - 1 : content_end;
            if (!comment) {
                for (const char *c = q; c < take_end; c++) {
                    s_str_push(&logical, *c);
                }
            }
            p = eol ? eol + 1 : end;
            first = false;
            if (!more || p >= end) {
                break;
            }
            line++;
        }
        if (rc == CS_OK && logical.len > 0) {
            rc = s_parse_line(self, logical.data, logical.data + logical.len,
                              first_line, err, err_cap);
        }
    }
    free(logical.data);
    if (rc != CS_OK) {
        cs_sdl_destroy(&self);
        return rc;
    }
    *self_p = self;
    return CS_OK;
}

void
cs_sdl_destroy(cs_sdl_t **self_p)
{
    assert(self_p);
    cs_sdl_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->count; i++) {
        free(self->entries[i].column);
        for (size_t f = 0; f < self->entries[i].pub.field_count; f++) {
            free(self->entries[i].fields[f]);
        }
        free(self->entries[i].fields);
    }
    free(self->entries);
    free(self);
    *self_p = NULL;
}

size_t
cs_sdl_count(const cs_sdl_t *self)
{
    assert(self);
    return self->count;
}

const cs_sdl_entry_t *
cs_sdl_entry(const cs_sdl_t *self, size_t index)
{
    assert(self);
    assert(index < self->count);
    return &self->entries[index].pub;
}

const cs_sdl_entry_t *
cs_sdl_find(const cs_sdl_t *self, const char *name)
{
    assert(self);
    assert(name);
    for (size_t i = 0; i < self->count; i++) {
        if (!self->entries[i].pub.constant &&
            strcasecmp(self->entries[i].column, name) == 0) {
            return &self->entries[i].pub;
        }
    }
    return NULL;
}
