/*  cs_csv - streaming reader of CSV exports (see cs_csv.h).
 *  SPDX-License-Identifier: MIT
 *
 *  The input is read with read() into one buffer: CS_CSV_CHUNK (1 MiB) to
 *  start with, filled completely on each read, grown (doubling) only for a
 *  row longer than the buffer and never beyond max_row_bytes plus a CRLF
 *  and one character. UTF-16LE input is first turned into UTF-8 by iconv,
 *  into that same buffer. A row is parsed in place by a small state
 *  machine that jumps from special byte to special byte (found in bit
 *  masks of 64-byte blocks made with SSE2, where the CPU has it; through a
 *  byte table elsewhere); if the buffer ends inside the row, the unparsed
 *  rest is moved to the front, more is read, and the row is parsed again
 *  from its start, so no parsing state has to survive a refill (and since
 *  the buffer doubles, a long row is parsed at most about twice over).
 *  Unquoted fields and quoted fields without "" point into the buffer; a
 *  quoted field with "" is copied unescaped into a scratch buffer.
 *  Windows-1252 and ISO-8859-1 are parsed as raw bytes (every byte the
 *  parser acts on is ASCII) and a field with bytes over 0x7F is turned into
 *  UTF-8 through a table built once with iconv. UTF-8 is validated once per
 *  row. Fields, values, scratch and conversion buffers are reused from row
 *  to row, so in the steady state a row costs no allocation.
 */
#include "tools/cs_csv.h"

#include <assert.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "crdt/cs_value.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Test builds may shrink the buffer (e.g. -DCS_CSV_CHUNK=16) so that rows
 * cross buffer ends all the time. */
#ifndef CS_CSV_CHUNK
#define CS_CSV_CHUNK (1024u * 1024u) /* buffer to start with */
#endif
#define CS_CSV_SNIFF_BYTES     (1024u * 1024u) /* auto, pipe: judged on */
#define CS_CSV_SCAN_BYTES      (1024u * 1024u) /* auto, file: pread size */
#define CS_CSV_SCAN_SPLIT_MIN  (8u << 20)      /* ... and each half at least */
#define CS_CSV_ROW_DEFAULT     (16u * 1024u * 1024u)
#define CS_CSV_ROW_LIMIT       (1024u * 1024u * 1024u) /* max max_row */
#define CS_CSV_COLUMNS_DEFAULT 4096u
#define CS_CSV_COLUMNS_LIMIT   (1024u * 1024u)
#define CS_CSV_ERROR_MAX       128u  /* a row's error message, NUL included */
#define CS_CSV_NAME_SHOWN      48u   /* column name bytes quoted in a message */
#define CS_CSV_BAD_UNIT        0xFFu /* UTF-16LE unit iconv could not take */
#define S_SCAN_SLACK           64u   /* bytes past buf's cap s_scan may load */

/* One field of the row being parsed, by index (the buffer may move). */
typedef struct {
    size_t off;      /* first byte, in buf or in scratch */
    size_t len;      /* bytes */
    bool in_scratch; /* an unescaped copy in scratch */
    bool quoted;     /* the field was quoted */
} s_field_t;

typedef enum {
    S_ROW,  /* a whole row, up to and including its end */
    S_MORE, /* the buffer ends inside the row: fill and parse again */
    S_OPEN, /* the input ends inside a quoted field */
    S_OVER, /* no row end within max_row_bytes */
} s_parse_t;

/* What s_parse_row found. */
typedef struct {
    size_t raw_end;    /* buf index where the row's text ends */
    size_t next;       /* buf index just past the row end */
    uint64_t lines;    /* line breaks in the row and its end */
    size_t count;      /* fields */
    bool in_quote;     /* S_OVER: inside a quoted field at the limit */
    const char *error; /* first problem met while parsing, or NULL */
} s_parsed_t;

typedef enum {
    S_UTF8_OK,    /* all valid */
    S_UTF8_BAD,   /* invalid sequence at *stop */
    S_UTF8_SHORT, /* valid, but the last sequence is cut at *stop */
} s_utf8_t;

struct cs_csv {
    int fd;                       /* input, not closed by us */
    char *name;                   /* input name, for messages */
    int delimiter;                /* byte between fields */
    int quote;                    /* byte around quoted fields */
    cs_csv_encoding_t encoding;   /* in use (never AUTO after open) */
    bool had_bom;                 /* a BOM was stripped */
    bool cr_rows;                 /* a lone CR ends rows (old Mac files) */
    bool seekable;                /* lseek works on fd */
    bool in_header;               /* parsing the header row */
    bool eof;                     /* no more input into buf */
    int failed;                   /* sticky CS_EIO, or CS_OK */
    size_t max_field;             /* bytes of a value (UTF-8) */
    size_t max_row;               /* bytes of a row, its end excluded */
    size_t max_columns;           /* header columns */
    unsigned char *buf;           /* input; [pos, len) not consumed */
    size_t cap;                   /* bytes at buf */
    size_t cap_max;               /* buf never grows beyond this */
    size_t pos;                   /* first byte of the next row */
    size_t len;                   /* bytes in buf */
    uint64_t buf_offset;          /* input offset of buf[0] */
    uint64_t line;                /* physical line at pos */
    uint64_t next_offset;         /* input offset after the last row */
    uint64_t next_line;           /* its line */
    iconv_t to_utf8;              /* UTF-16LE to UTF-8, or (iconv_t) -1 */
    unsigned char *in16;          /* UTF-16LE bytes not yet converted */
    size_t in16_len;              /* bytes at in16 */
    bool eof16;                   /* read() on fd returned 0 */
    uint8_t stops_plain[256];     /* 1: ends a run of unquoted text */
    uint8_t stops_quoted[256];    /* 1: ends a run of quoted text */
    unsigned char map[128][4];    /* UTF-8 of bytes 0x80..0xFF */
    uint8_t map_len[128];         /* its length; 0: invalid byte */
    s_field_t *fields;            /* the row's fields */
    cs_value_t *values;           /* the row's values */
    bool *quoted;                 /* the row's quoted flags */
    size_t fields_cap;            /* entries in fields, values, quoted */
    unsigned char *scratch;       /* unescaped quoted fields */
    size_t scratch_len;           /* bytes used at scratch */
    size_t scratch_cap;           /* bytes at scratch */
    unsigned char *conv;          /* fields turned into UTF-8 */
    size_t conv_cap;              /* bytes at conv */
    const char **columns;         /* header names, into column_text */
    char *column_text;            /* header names, NUL-terminated */
    size_t column_count;          /* header columns */
    char error[CS_CSV_ERROR_MAX]; /* why the current row is bad */
};

/* ---------------- small helpers ---------------- */

static void *
s_realloc(void *ptr, size_t count, size_t size)
{
    assert(size > 0 && count <= SIZE_MAX / size);
    size_t bytes = count * size;
    void *grown = realloc(ptr, bytes > 0 ? bytes : 1);
    if (!grown) {
        abort();
    }
    return grown;
}

/*  Where the bytes that end a run of text are in the 64-byte block of the
 *  row's buffer that s_scan looks at: one bit a byte. Made afresh for each
 *  row (s_parse_row), so a buffer refilled between rows never shows old
 *  bits. */
typedef struct {
    const unsigned char *buf;    /* the buffer; blocks are 64 bytes from it */
    size_t index;                /* the block the masks are of; SIZE_MAX none */
    uint64_t plain;              /* delimiter, LF, CR, NUL */
    uint64_t quoted;             /* quote, LF, CR, NUL */
    unsigned char delim;         /* the delimiter */
    unsigned char quote;         /* the quote */
    const uint8_t *stops_plain;  /* the same as byte tables (portable) */
    const uint8_t *stops_quoted; /* ... */
} s_blocks_t;

#if defined(__SSE2__)

/*  Fill the masks of block @p index (its 64 bytes may run past the data:
 *  the buffer has S_SCAN_SLACK bytes more, and s_scan ignores bits past
 *  its end). SSE2, which every x86-64 has: 16 bytes a compare. */
static void
s_block_masks(s_blocks_t *b, size_t index)
{
    const unsigned char *at = b->buf + index * 64;
    const __m128i delim = _mm_set1_epi8((char) b->delim);
    const __m128i quote = _mm_set1_epi8((char) b->quote);
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    const __m128i nul = _mm_setzero_si128();
    uint64_t d = 0, q = 0, c = 0;
    for (unsigned k = 0; k < 4; k++) {
        __m128i v =
            _mm_loadu_si128((const __m128i *) (const void *) (at + 16 * k));
        __m128i ctl = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)),
            _mm_cmpeq_epi8(v, nul));
        d |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, delim))
             << (16 * k);
        q |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, quote))
             << (16 * k);
        c |= (uint64_t) (unsigned) _mm_movemask_epi8(ctl) << (16 * k);
    }
    b->index = index;
    b->plain = d | c;
    b->quoted = q | c;
}

/*  The first byte at or after @p p, before @p end, that ends a run of
 *  @p quoted or unquoted text (the delimiter or the quote, LF, CR, NUL);
 *  @p end if none. Every byte of the input goes through here: a field
 *  costs a shift and a count of zeros in the masks of its block, and a
 *  block's masks are made once. */
static inline const unsigned char *
s_scan(s_blocks_t *b, const unsigned char *p, const unsigned char *end,
       bool quoted)
{
    while (p < end) {
        size_t off = (size_t) (p - b->buf);
        if (off / 64 != b->index) {
            s_block_masks(b, off / 64);
        }
        uint64_t bits = (quoted ? b->quoted : b->plain) >> (off % 64);
        size_t left = (size_t) (end - p);
        if (left < 64) {
            bits &= (UINT64_C(1) << left) - 1; /* (bytes past end: unread) */
        }
        if (bits != 0) {
            return p + __builtin_ctzll(bits);
        }
        p = b->buf + (off / 64 + 1) * 64;
    }
    return end;
}

#else /* portable */

static inline const unsigned char *
s_scan(s_blocks_t *b, const unsigned char *p, const unsigned char *end,
       bool quoted)
{
    const uint8_t *table = quoted ? b->stops_quoted : b->stops_plain;
    while (end - p >= 4) {
        if (table[p[0]]) {
            return p;
        }
        if (table[p[1]]) {
            return p + 1;
        }
        if (table[p[2]]) {
            return p + 2;
        }
        if (table[p[3]]) {
            return p + 3;
        }
        p += 4;
    }
    while (p < end && !table[*p]) {
        p++;
    }
    return p;
}

#endif /* __SSE2__ */

/*  Is @p s[0, n) UTF-8 (RFC 3629: no overlongs, surrogates or code points
 *  over U+10FFFF)? Only a no is looked at again, to say where and whether
 *  the input just stopped short. */
static s_utf8_t
s_utf8_check(const unsigned char *s, size_t n, size_t *stop)
{
    if (cs_utf8_is_valid((const char *) s, n)) {
        return S_UTF8_OK;
    }
    bool cut;
    *stop = cs_utf8_valid_prefix((const char *) s, n, &cut);
    return cut ? S_UTF8_SHORT : S_UTF8_BAD;
}

static inline bool
s_has_high_bytes(const unsigned char *s, size_t n)
{
    return cs_utf8_ascii_span((const char *) s, n) != n;
}

/*  @p n bytes at @p name as a printable, shortened copy in @p out. */
static void
s_shown(const char *name, size_t n, char *out, size_t cap)
{
    assert(cap >= CS_CSV_NAME_SHOWN + 4);
    size_t len = n;
    if (len > CS_CSV_NAME_SHOWN) {
        len = CS_CSV_NAME_SHOWN;
        while (len > 0 && ((unsigned char) name[len] & 0xC0) == 0x80) {
            len--;
        }
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        out[i] = c < 0x20 || c == 0x7F ? '?' : name[i];
    }
    if (len < n) {
        memcpy(out + len, "...", 3);
        len += 3;
    }
    out[len] = '\0';
}

/* ---------------- input ---------------- */

/*  read() until @p want bytes are at @p dst or the input ends.
 *  @return bytes read; (size_t) -1 on error (reported). */
static size_t
s_read(cs_csv_t *self, unsigned char *dst, size_t want, bool *eof)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(self->fd, dst + got, want - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "crmsync: %s: read error: %s\n", self->name,
                    strerror(errno));
            return (size_t) -1;
        }
        if (n == 0) {
            *eof = true;
            break;
        }
        got += (size_t) n;
    }
    return got;
}

/*  UTF-16LE: turn what is in in16 into UTF-8 at buf + len, reading more
 *  input as needed, until buf is full or the input ends. A unit iconv does
 *  not take (a lone surrogate, an odd last byte) becomes the byte 0xFF,
 *  which is never valid UTF-8, so its row is reported as bad. */
static int
s_fill_utf16(cs_csv_t *self)
{
    while (self->len < self->cap) {
        if (self->in16_len > 0) {
            char *in = (char *) self->in16;
            size_t in_left = self->in16_len;
            char *out = (char *) self->buf + self->len;
            size_t out_left = self->cap - self->len;
            size_t rc = iconv(self->to_utf8, &in, &in_left, &out, &out_left);
            int err = errno;
            self->len = self->cap - out_left;
            size_t used = self->in16_len - in_left;
            memmove(self->in16, self->in16 + used, in_left);
            self->in16_len = in_left;
            if (rc == (size_t) -1 && err == EILSEQ) {
                if (self->len == self->cap) {
                    return CS_OK;
                }
                self->buf[self->len++] = CS_CSV_BAD_UNIT;
                size_t skip = self->in16_len < 2 ? self->in16_len : 2;
                memmove(self->in16, self->in16 + skip, self->in16_len - skip);
                self->in16_len -= skip;
                continue;
            }
            if (rc == (size_t) -1 && err == E2BIG) {
                return CS_OK;
            }
            /* done, or EINVAL: a unit cut at the end of in16 */
            if (self->len == self->cap) {
                return CS_OK;
            }
        }
        if (self->eof16) {
            if (self->in16_len > 0) {
                self->buf[self->len++] = CS_CSV_BAD_UNIT;
                self->in16_len = 0;
                continue;
            }
            self->eof = true;
            return CS_OK;
        }
        size_t got = s_read(self, self->in16 + self->in16_len,
                            CS_CSV_CHUNK - self->in16_len, &self->eof16);
        if (got == (size_t) -1) {
            return CS_EIO;
        }
        self->in16_len += got;
    }
    return CS_OK;
}

/*  Move the unconsumed bytes to the front, grow the buffer if it is full
 *  (it never needs to beyond cap_max: a row that does not fit is over the
 *  limit), and read until it is full or the input ends. */
static int
s_fill(cs_csv_t *self)
{
    if (self->failed != CS_OK) {
        return self->failed;
    }
    if (self->pos > 0) {
        size_t keep = self->len - self->pos;
        memmove(self->buf, self->buf + self->pos, keep);
        self->buf_offset += self->pos;
        self->len = keep;
        self->pos = 0;
    }
    /* UTF-16LE needs room for a whole character (up to 4 bytes of UTF-8)
     * to make progress: cap_max has that much beyond the longest row */
    if (self->cap - self->len < 4 && self->cap < self->cap_max) {
        size_t cap = self->cap * 2;
        self->cap = cap > self->cap_max ? self->cap_max : cap;
        self->buf = s_realloc(self->buf, self->cap + S_SCAN_SLACK, 1);
    }
    assert(self->len < self->cap);
    if (self->eof) {
        return CS_OK;
    }
    if (self->to_utf8 != (iconv_t) -1) {
        self->failed = s_fill_utf16(self);
        return self->failed;
    }
    size_t got =
        s_read(self, self->buf + self->len, self->cap - self->len, &self->eof);
    if (got == (size_t) -1) {
        self->failed = CS_EIO;
        return CS_EIO;
    }
    self->len += got;
    return CS_OK;
}

/*  Have at least @p want bytes after pos in buf, or all there are. */
static int
s_want(cs_csv_t *self, size_t want)
{
    while (self->len - self->pos < want && !self->eof) {
        int rc = s_fill(self);
        if (rc != CS_OK) {
            return rc;
        }
    }
    return CS_OK;
}

/*  Skip blank lines at pos. @p cr_blank: a lone CR is a blank line too.
 *  @return CS_OK at the start of a row; CS_ENOENT at the end; CS_EIO. */
static int
s_skip_blank(cs_csv_t *self, bool cr_blank)
{
    while (true) {
        if (self->pos == self->len) {
            if (self->eof) {
                return CS_ENOENT;
            }
            int rc = s_fill(self);
            if (rc != CS_OK) {
                return rc;
            }
            continue;
        }
        unsigned char c = self->buf[self->pos];
        if (c == '\n') {
            self->pos++;
            self->line++;
            continue;
        }
        if (c != '\r') {
            return CS_OK;
        }
        if (self->pos + 1 == self->len && !self->eof) {
            int rc = s_fill(self);
            if (rc != CS_OK) {
                return rc;
            }
            continue;
        }
        if (self->pos + 1 < self->len && self->buf[self->pos + 1] == '\n') {
            self->pos += 2;
            self->line++;
            continue;
        }
        if (!cr_blank) {
            return CS_OK; /* a lone CR is text in a field */
        }
        self->pos++;
        self->line++;
    }
}

/* ---------------- encodings ---------------- */

/*  Fill map/map_len with the UTF-8 of bytes 0x80..0xFF in @p charset. */
static int
s_build_map(cs_csv_t *self, const char *charset)
{
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t) -1) {
        fprintf(stderr, "crmsync: iconv cannot read %s: %s\n", charset,
                strerror(errno));
        return CS_EIO;
    }
    for (unsigned byte = 0x80; byte <= 0xFF; byte++) {
        char in_byte = (char) byte;
        char *in = &in_byte;
        size_t in_left = 1;
        char *out = (char *) self->map[byte - 0x80];
        size_t out_left = sizeof self->map[0];
        iconv(cd, NULL, NULL, NULL, NULL);
        size_t rc = iconv(cd, &in, &in_left, &out, &out_left);
        self->map_len[byte - 0x80] =
            rc == (size_t) -1 || in_left != 0
                ? 0
                : (uint8_t) (sizeof self->map[0] - out_left);
    }
    iconv_close(cd);
    return CS_OK;
}

/*  Add @p n bytes at @p s to the running UTF-8 check of a whole file:
 *  @p carry holds the cut sequence left from the previous call.
 *  @return false at the first invalid byte. */
static bool
s_scan_part(const unsigned char *s, size_t n, unsigned char *carry,
            size_t *carry_len)
{
    size_t i = 0;
    if (*carry_len > 0) {
        /* finish the cut sequence: at most 3 more bytes */
        unsigned char joined[8];
        size_t take = n < 4 ? n : 4;
        memcpy(joined, carry, *carry_len);
        memcpy(joined + *carry_len, s, take);
        size_t stop = 0;
        size_t total = *carry_len + take;
        s_utf8_t rc = s_utf8_check(joined, total, &stop);
        if (rc == S_UTF8_BAD && stop == 0) {
            return false;
        }
        if (rc == S_UTF8_SHORT && stop == 0) {
            /* still cut: the input part was tiny */
            memcpy(carry, joined, total);
            *carry_len = total;
            return total < 4;
        }
        /* the first sequence of joined is whole and valid: its length */
        unsigned lead = joined[0];
        size_t seq = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        i = seq - *carry_len;
        *carry_len = 0;
    }
    size_t stop = 0;
    s_utf8_t rc = s_utf8_check(s + i, n - i, &stop);
    if (rc == S_UTF8_BAD) {
        return false;
    }
    if (rc == S_UTF8_SHORT) {
        *carry_len = n - i - stop;
        memcpy(carry, s + i + stop, *carry_len);
    }
    return true;
}

/*  A range of a regular file for s_scan_range. */
typedef struct {
    int fd;                 /* the file */
    uint64_t at;            /* its first byte */
    uint64_t end;           /* one past its last, or UINT64_MAX: to EOF */
    unsigned char carry[8]; /* a sequence cut short just before at */
    size_t carry_len;       /* its bytes */
    bool valid;             /* out: the range is UTF-8, ending whole */
    int err;                /* out: errno of a failed read, or 0 */
} s_range_t;

/*  Check a range of a file for UTF-8 with pread (the file offset does not
 *  move). A thread's body: @p arg is an s_range_t. */
static void *
s_scan_range(void *arg)
{
    s_range_t *r = arg;
    unsigned char *part = s_realloc(NULL, CS_CSV_SCAN_BYTES, 1);
    r->valid = true;
    r->err = 0;
    while (r->valid && r->at < r->end) {
        size_t want = CS_CSV_SCAN_BYTES;
        if (r->end - r->at < want) {
            want = (size_t) (r->end - r->at);
        }
        ssize_t got = pread(r->fd, part, want, (off_t) r->at);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            r->err = got < 0 ? errno : 0;
            break;
        }
        r->at += (uint64_t) got;
        r->valid = s_scan_part(part, (size_t) got, r->carry, &r->carry_len);
    }
    r->valid = r->valid && r->carry_len == 0;
    free(part);
    return NULL;
}

/*  --encoding auto without a BOM: is the input valid UTF-8? A regular file
 *  is checked to its end (s_scan_range, in two halves at once if large);
 *  other
 *  input is judged on its first CS_CSV_SNIFF_BYTES (fewer if the buffer
 *  is limited to fewer). */
static int
s_detect_utf8(cs_csv_t *self, bool *valid)
{
    struct stat st;
    bool regular = fstat(self->fd, &st) == 0 && S_ISREG(st.st_mode);
    unsigned char carry[8];
    size_t carry_len = 0;
    if (!regular) {
        size_t window = CS_CSV_SNIFF_BYTES < self->cap_max ? CS_CSV_SNIFF_BYTES
                                                           : self->cap_max;
        int rc = s_want(self, window);
        if (rc != CS_OK) {
            return rc;
        }
        size_t stop = 0;
        *valid = s_utf8_check(self->buf + self->pos, self->len - self->pos,
                              &stop) != S_UTF8_BAD;
        return CS_OK;
    }
    *valid = s_scan_part(self->buf + self->pos, self->len - self->pos, carry,
                         &carry_len);
    if (!*valid || self->eof) {
        *valid = *valid && carry_len == 0;
        return CS_OK;
    }
    /* the rest in two halves at once, one on a helper thread: this pass
     * over the whole file comes before any row is read */
    s_range_t first = { .fd = self->fd,
                        .at = self->buf_offset + self->len,
                        .end = UINT64_MAX,
                        .carry_len = carry_len };
    memcpy(first.carry, carry, carry_len);
    s_range_t second = { .fd = self->fd, .end = UINT64_MAX };
    pthread_t helper;
    bool helped = false;
    uint64_t size = (uint64_t) st.st_size;
    if (size > first.at && size - first.at >= 2 * CS_CSV_SCAN_SPLIT_MIN) {
        /* the second half starts on a character, past continuation bytes
         * (in valid UTF-8 there are at most three) */
        uint64_t mid = first.at + (size - first.at) / 2;
        unsigned char at_mid[4];
        ssize_t got = pread(self->fd, at_mid, sizeof at_mid, (off_t) mid);
        for (ssize_t k = 0; k < got && (at_mid[k] & 0xC0) == 0x80; k++) {
            mid++;
        }
        first.end = mid;
        second.at = mid;
        helped = pthread_create(&helper, NULL, s_scan_range, &second) == 0;
        if (!helped) {
            first.end = UINT64_MAX;
        }
    }
    s_scan_range(&first);
    if (helped) {
        pthread_join(helper, NULL);
    }
    int err = first.err ? first.err : helped ? second.err : 0;
    if (err) {
        fprintf(stderr, "crmsync: %s: read error: %s\n", self->name,
                strerror(err));
        return CS_EIO;
    }
    *valid = first.valid && (!helped || second.valid);
    return CS_OK;
}

/*  Look at the start of the input: a BOM, and (--encoding auto) whether it
 *  is UTF-8. Sets encoding and had_bom, and for UTF-16LE moves what was
 *  read to in16, to be converted. */
static int
s_detect(cs_csv_t *self, cs_csv_encoding_t given)
{
    int rc = s_want(self, 4);
    if (rc != CS_OK) {
        return rc;
    }
    const unsigned char *head = self->buf;
    size_t have = self->len;
    bool any = given == CS_CSV_ENC_AUTO;
    if ((any || given == CS_CSV_ENC_UTF8) && have >= 3 &&
        memcmp(head, "\xEF\xBB\xBF", 3) == 0) {
        self->encoding = CS_CSV_ENC_UTF8;
        self->had_bom = true;
        self->pos = 3;
        return CS_OK;
    }
    if ((any || given == CS_CSV_ENC_UTF16LE) && have >= 2 && head[0] == 0xFF &&
        head[1] == 0xFE) {
        self->encoding = CS_CSV_ENC_UTF16LE;
        self->had_bom = true;
        self->pos = 2;
    } else if (any && have >= 2 && head[0] == 0xFE && head[1] == 0xFF) {
        fprintf(stderr,
                "crmsync: %s is UTF-16BE, which is not supported "
                "(convert it: iconv -f UTF-16 -t UTF-8)\n",
                self->name);
        return CS_EPROTO;
    } else if (any) {
        bool valid = false;
        rc = s_detect_utf8(self, &valid);
        if (rc != CS_OK) {
            return rc;
        }
        self->encoding = valid ? CS_CSV_ENC_UTF8 : CS_CSV_ENC_WINDOWS_1252;
        if (!valid) {
            fprintf(stderr,
                    "crmsync: %s is not valid UTF-8; reading it as "
                    "Windows-1252 (use --encoding to choose)\n",
                    self->name);
        }
    } else {
        self->encoding = given;
    }

    switch (self->encoding) {
    case CS_CSV_ENC_WINDOWS_1252:
        return s_build_map(self, "WINDOWS-1252");
    case CS_CSV_ENC_ISO_8859_1:
        return s_build_map(self, "ISO-8859-1");
    case CS_CSV_ENC_UTF16LE:
        break;
    case CS_CSV_ENC_AUTO:
    case CS_CSV_ENC_UTF8:
        return CS_OK;
    }

    self->to_utf8 = iconv_open("UTF-8", "UTF-16LE");
    if (self->to_utf8 == (iconv_t) -1) {
        fprintf(stderr, "crmsync: iconv cannot read UTF-16LE: %s\n",
                strerror(errno));
        return CS_EIO;
    }
    /* what was read is UTF-16LE: convert it from now on; offsets count
     * bytes of the UTF-8 text */
    self->in16 = s_realloc(NULL, CS_CSV_CHUNK, 1);
    size_t keep = self->len - self->pos;
    assert(keep <= CS_CSV_CHUNK);
    memcpy(self->in16, self->buf + self->pos, keep);
    self->in16_len = keep;
    self->eof16 = self->eof;
    self->eof = false;
    self->len = 0;
    self->pos = 0;
    self->buf_offset = 0;
    return CS_OK;
}

/* ---------------- parsing a row ---------------- */

static void
s_grow_fields(cs_csv_t *self, size_t want)
{
    size_t cap = self->fields_cap < 16 ? 32 : self->fields_cap * 2;
    while (cap < want) {
        cap *= 2;
    }
    self->fields = s_realloc(self->fields, cap, sizeof *self->fields);
    self->values = s_realloc(self->values, cap, sizeof *self->values);
    self->quoted = s_realloc(self->quoted, cap, sizeof *self->quoted);
    self->fields_cap = cap;
}

/*  Record field @p index. A data row keeps at most header + 1 fields (more
 *  only make it bad); the header grows the arrays up to max_columns + 1. */
static inline void
s_push(cs_csv_t *self, size_t index, size_t off, size_t len, bool in_scratch,
       bool quoted)
{
    if (index >= self->fields_cap) {
        if (!self->in_header || index > self->max_columns) {
            return;
        }
        s_grow_fields(self, index + 1);
    }
    s_field_t *field = &self->fields[index];
    field->off = off;
    field->len = len;
    field->in_scratch = in_scratch;
    field->quoted = quoted;
}

/*  Append @p n bytes at @p s to scratch. */
static void
s_scratch_add(cs_csv_t *self, const unsigned char *s, size_t n)
{
    if (self->scratch_cap - self->scratch_len < n) {
        size_t cap = self->scratch_cap < 4096 ? 4096 : self->scratch_cap;
        while (cap - self->scratch_len < n) {
            cap *= 2;
        }
        self->scratch = s_realloc(self->scratch, cap, 1);
        self->scratch_cap = cap;
    }
    memcpy(self->scratch + self->scratch_len, s, n);
    self->scratch_len += n;
}

/*  Parse the row at pos: fields into self->fields, the rest into @p out.
 *  Only looks at max_row + 2 bytes (the row and a CRLF). */
static s_parse_t
s_parse_row(cs_csv_t *self, s_parsed_t *out)
{
    const unsigned char *buf = self->buf;
    const unsigned char *p = buf + self->pos;
    size_t avail = self->len - self->pos;
    size_t window = self->max_row + 2;
    bool capped = avail >= window;
    const unsigned char *end = p + (capped ? window : avail);
    bool at_eof = !capped && self->eof; /* end is the end of the input */
    const unsigned char quote = (unsigned char) self->quote;
    const unsigned char delim = (unsigned char) self->delimiter;
    const bool cr_rows = self->cr_rows;
    s_blocks_t blocks = { .buf = buf,
                          .index = SIZE_MAX,
                          .delim = delim,
                          .quote = quote,
                          .stops_plain = self->stops_plain,
                          .stops_quoted = self->stops_quoted };
    size_t count = 0;
    uint64_t lines = 0;
    const char *error = NULL;
    bool in_quote = false;
    const unsigned char *row_end; /* where the row's text ends */
    const unsigned char *next;    /* past the row end */

    self->scratch_len = 0;
    while (true) {
        const unsigned char *start = p; /* of the field */
        bool quoted = false;
        if (p == end) {
            if (!at_eof) {
                goto out_more;
            }
            s_push(self, count++, (size_t) (p - buf), 0, false, false);
            row_end = next = p;
            goto out_row;
        }
        if (*p == quote) {
            quoted = true;
            in_quote = true;
            const unsigned char *seg = ++p; /* text not yet copied */
            size_t scratch_at = self->scratch_len;
            bool escaped = false;
            while (true) {
                p = s_scan(&blocks, p, end, true);
                if (p == end) {
                    if (!at_eof) {
                        goto out_more;
                    }
                    out->in_quote = true;
                    return S_OPEN;
                }
                unsigned char c = *p;
                if (c == quote) {
                    if (p + 1 == end && !at_eof) {
                        goto out_more;
                    }
                    if (p + 1 < end && p[1] == quote) {
                        s_scratch_add(self, seg, (size_t) (p + 1 - seg));
                        escaped = true;
                        p += 2;
                        seg = p;
                        continue;
                    }
                    break; /* the closing quote */
                }
                if (c == '\n') {
                    lines++;
                } else if (c == '\r') {
                    if (p + 1 == end && !at_eof) {
                        goto out_more;
                    }
                    if (p + 1 == end || p[1] != '\n') {
                        lines++; /* a lone CR; a CRLF counts at its LF */
                    }
                } else if (!error) {
                    error = "NUL byte";
                }
                p++;
            }
            in_quote = false;
            size_t off, len;
            if (escaped) {
                s_scratch_add(self, seg, (size_t) (p - seg));
                off = scratch_at;
                len = self->scratch_len - scratch_at;
            } else {
                off = (size_t) (seg - buf);
                len = (size_t) (p - seg);
            }
            p++;
            /* spaces between the closing quote and what ends the field
             * are dropped, as papaparse does */
            while (p < end && (*p == ' ' || *p == '\t') && *p != delim) {
                p++;
            }
            if (p == end) {
                if (!at_eof) {
                    goto out_more;
                }
                s_push(self, count++, off, len, escaped, true);
                row_end = next = p;
                goto out_row;
            }
            if (*p == delim) {
                s_push(self, count++, off, len, escaped, true);
                p++;
                continue;
            }
            if (*p == '\n') {
                s_push(self, count++, off, len, escaped, true);
                row_end = p;
                next = p + 1;
                lines++;
                goto out_row;
            }
            if (*p == '\r') {
                if (p + 1 == end && !at_eof) {
                    goto out_more;
                }
                if (p + 1 == end || p[1] == '\n' || cr_rows) {
                    s_push(self, count++, off, len, escaped, true);
                    row_end = p;
                    next = p + 1 + (p + 1 < end && p[1] == '\n');
                    lines++;
                    goto out_row;
                }
            }
            /* text after the closing quote: the row is bad; read the rest
             * of the field as unquoted text to find where the row ends */
            if (!error) {
                error = "text after closing quote";
            }
        }
        /* unquoted text (a quote in it is just a character) */
        while (true) {
            p = s_scan(&blocks, p, end, false);
            if (p == end) {
                if (!at_eof) {
                    goto out_more;
                }
                s_push(self, count++, (size_t) (start - buf),
                       (size_t) (p - start), false, quoted);
                row_end = next = p;
                goto out_row;
            }
            unsigned char c = *p;
            if (c == delim) {
                s_push(self, count++, (size_t) (start - buf),
                       (size_t) (p - start), false, quoted);
                p++;
                break;
            }
            if (c == '\n') {
                s_push(self, count++, (size_t) (start - buf),
                       (size_t) (p - start), false, quoted);
                row_end = p;
                next = p + 1;
                lines++;
                goto out_row;
            }
            if (c == '\r') {
                if (p + 1 == end && !at_eof) {
                    goto out_more;
                }
                bool crlf = p + 1 < end && p[1] == '\n';
                if (crlf || cr_rows) {
                    s_push(self, count++, (size_t) (start - buf),
                           (size_t) (p - start), false, quoted);
                    row_end = p;
                    next = p + 1 + crlf;
                    lines++;
                    goto out_row;
                }
                lines++; /* a lone CR in a field: text, but a line break */
            } else if (!error) {
                error = "NUL byte";
            }
            p++;
        }
    }

out_row:
    out->raw_end = (size_t) (row_end - buf);
    out->next = (size_t) (next - buf);
    out->lines = lines;
    out->count = count;
    out->error = error;
    out->in_quote = false;
    return S_ROW;

out_more:
    out->in_quote = in_quote;
    return capped ? S_OVER : S_MORE;
}

/* ---------------- rows out ---------------- */

/*  Turn the parsed fields into values: check the encoding, convert
 *  single-byte encodings to UTF-8, check each field's size.
 *  @return NULL, or why the row is bad. */
static const char *
s_resolve(cs_csv_t *self, size_t count, const unsigned char *raw,
          size_t raw_len)
{
    bool convert = false;
    switch (self->encoding) {
    case CS_CSV_ENC_WINDOWS_1252:
    case CS_CSV_ENC_ISO_8859_1:
        convert = s_has_high_bytes(raw, raw_len);
        break;
    case CS_CSV_ENC_UTF16LE:
    case CS_CSV_ENC_AUTO:
    case CS_CSV_ENC_UTF8: {
        size_t stop = 0;
        if (s_utf8_check(raw, raw_len, &stop) != S_UTF8_OK) {
            return self->encoding == CS_CSV_ENC_UTF16LE ? "invalid UTF-16LE"
                                                        : "invalid UTF-8";
        }
        break;
    }
    }
    if (convert && self->conv_cap < raw_len * 3) {
        /* a byte becomes at most 3 bytes of UTF-8: sized once per row,
         * so the pointers below stay valid */
        size_t cap = self->conv_cap < 4096 ? 4096 : self->conv_cap;
        while (cap < raw_len * 3) {
            cap *= 2;
        }
        free(self->conv);
        self->conv = s_realloc(NULL, cap, 1);
        self->conv_cap = cap;
    }
    size_t conv_len = 0;
    size_t stored = count < self->fields_cap ? count : self->fields_cap;
    for (size_t i = 0; i < stored; i++) {
        const s_field_t *field = &self->fields[i];
        const unsigned char *src = field->in_scratch
                                       ? self->scratch + field->off
                                       : self->buf + field->off;
        size_t len = field->len;
        if (convert && s_has_high_bytes(src, len)) {
            unsigned char *dst = self->conv + conv_len;
            unsigned char *out = dst;
            for (size_t k = 0; k < len; k++) {
                unsigned char c = src[k];
                if (c < 0x80) {
                    *out++ = c;
                    continue;
                }
                uint8_t n = self->map_len[c - 0x80];
                if (n == 0) {
                    snprintf(self->error, sizeof self->error,
                             "invalid byte 0x%02X for %s", c,
                             cs_csv_encoding_name(self->encoding));
                    return self->error;
                }
                memcpy(out, self->map[c - 0x80], n);
                out += n;
            }
            src = dst;
            len = (size_t) (out - dst);
            conv_len += len;
        }
        if (len > self->max_field) {
            snprintf(self->error, sizeof self->error,
                     "field %zu over the limit (%zu bytes, limit %zu)", i + 1,
                     len, self->max_field);
            return self->error;
        }
        self->values[i].type = CS_VALUE_STR;
        self->values[i].u.s.ptr = (const char *) src;
        self->values[i].u.s.len = len;
        self->quoted[i] = field->quoted;
    }
    return NULL;
}

/*  Report the row parse found (S_ROW) in @p row, and move past it. */
static int
s_row_out(cs_csv_t *self, const s_parsed_t *parsed, cs_row_t *row)
{
    const unsigned char *raw = self->buf + self->pos;
    size_t raw_len = parsed->raw_end - self->pos;
    const char *error = parsed->error;
    if (!error && raw_len > self->max_row) {
        error = "row over the limit";
    }
    if (!error && self->in_header && parsed->count > self->max_columns) {
        snprintf(self->error, sizeof self->error, "more than %zu columns",
                 self->max_columns);
        error = self->error;
    }
    if (!error && !self->in_header && parsed->count != self->column_count) {
        snprintf(self->error, sizeof self->error,
                 "wrong column count (%zu, header has %zu)", parsed->count,
                 self->column_count);
        error = self->error;
    }
    if (!error) {
        error = s_resolve(self, parsed->count, raw, raw_len);
    }
    row->line = self->line;
    row->offset = self->buf_offset + self->pos;
    row->end_offset = self->buf_offset + parsed->next;
    row->raw = (const char *) raw;
    row->raw_len = raw_len;
    row->names = self->columns;
    self->line += parsed->lines;
    self->pos = parsed->next;
    self->next_offset = row->end_offset;
    self->next_line = self->line;
    if (error) {
        row->error = error;
        return CS_EPROTO;
    }
    row->count = parsed->count;
    row->values = self->values;
    row->quoted = self->quoted;
    return CS_OK;
}

/*  The row at pos is bad beyond parsing (@p reason): a quote open to the
 *  end of the input, or no row end within max_row bytes. Report it with
 *  the text of its first physical line, and go on at the line after: a
 *  stray quote costs one line, not the rest of the file. If that first
 *  line is itself too long, report its first max_row bytes and drop the
 *  rest of it. Line breaks here are LF and CRLF (and a lone CR if rows
 *  end with CR); a lone CR inside the line still counts as a line. */
static int
s_resync(cs_csv_t *self, const char *reason, cs_row_t *row)
{
    size_t window = self->max_row + 2;
    const unsigned char *begin, *stop, *buf_end, *p;
    uint64_t lines;
    bool found;
    while (true) {
        size_t avail = self->len - self->pos;
        begin = self->buf + self->pos;
        stop = begin + (avail < window ? avail : window);
        buf_end = self->buf + self->len;
        bool can_fill = self->pos > 0 || self->len < self->cap_max;
        bool more = false;
        lines = 0;
        found = false;
        for (p = begin; p < stop; p++) {
            if (*p == '\n') {
                found = true;
                break;
            }
            if (*p != '\r') {
                continue;
            }
            if (p + 1 == buf_end && !self->eof && can_fill) {
                more = true; /* is it a CRLF? */
                break;
            }
            if (self->cr_rows) {
                found = true;
                break;
            }
            if (p + 1 == buf_end || p[1] != '\n') {
                lines++;
            }
        }
        if (!more) {
            break;
        }
        int rc = s_fill(self);
        if (rc != CS_OK) {
            return rc;
        }
    }
    row->line = self->line;
    row->offset = self->buf_offset + self->pos;
    row->names = self->columns;
    row->error = reason;
    if (found) {
        const unsigned char *text_end = p;
        if (*p == '\n' && p > begin && p[-1] == '\r') {
            text_end--;
        }
        const unsigned char *after = p + 1;
        if (*p == '\r' && after < buf_end && *after == '\n') {
            after++;
        }
        row->raw = (const char *) begin;
        row->raw_len = (size_t) (text_end - begin);
        row->end_offset = self->buf_offset + (size_t) (after - self->buf);
        self->line += lines + 1;
        self->pos = (size_t) (after - self->buf);
    } else if (stop == buf_end && self->eof) {
        /* the input ends on this line */
        row->raw = (const char *) begin;
        row->raw_len = (size_t) (stop - begin);
        row->end_offset = self->buf_offset + self->len;
        self->line += lines;
        self->pos = self->len;
    } else {
        /* a line longer than max_row: keep its head, drop the rest */
        size_t keep = (size_t) (stop - begin);
        keep = keep < self->max_row ? keep : self->max_row;
        self->scratch_len = 0;
        s_scratch_add(self, begin, keep);
        row->raw = (const char *) self->scratch;
        row->raw_len = keep;
        self->line += lines;
        self->pos = (size_t) (stop - self->buf);
        while (true) {
            const unsigned char *q = self->buf + self->pos;
            const unsigned char *q_end = self->buf + self->len;
            found = false;
            for (; q < q_end; q++) {
                if (*q == '\n') {
                    q++;
                    found = true;
                    break;
                }
                if (*q != '\r') {
                    continue;
                }
                if (q + 1 == q_end && !self->eof) {
                    break; /* look again after the next fill */
                }
                bool crlf = q + 1 < q_end && q[1] == '\n';
                if (crlf || self->cr_rows) {
                    q += 1 + crlf;
                    found = true;
                    break;
                }
                self->line++;
            }
            self->pos = (size_t) (q - self->buf);
            if (found) {
                self->line++;
                break;
            }
            if (self->eof) {
                break;
            }
            int rc = s_fill(self);
            if (rc != CS_OK) {
                return rc;
            }
        }
        row->end_offset = self->buf_offset + self->pos;
    }
    self->next_offset = row->end_offset;
    self->next_line = self->line;
    return CS_EPROTO;
}

/*  The next row, good or bad, header or data. */
static int
s_next(cs_csv_t *self, cs_row_t *row)
{
    memset(row, 0, sizeof *row);
    if (self->failed != CS_OK) {
        return self->failed;
    }
    while (true) {
        int rc = s_skip_blank(self, self->cr_rows);
        if (rc != CS_OK) {
            return rc;
        }
        s_parsed_t parsed;
        switch (s_parse_row(self, &parsed)) {
        case S_ROW:
            return s_row_out(self, &parsed, row);
        case S_MORE:
            rc = s_fill(self);
            if (rc != CS_OK) {
                return rc;
            }
            continue;
        case S_OPEN:
            return s_resync(self, "unbalanced quote", row);
        case S_OVER:
            return s_resync(self,
                            parsed.in_quote
                                ? "unbalanced quote (open past the row limit)"
                                : "row over the limit",
                            row);
        }
    }
}

/* ---------------- the header ---------------- */

/*  Pick the delimiter (if not given) from the header line: the most
 *  frequent of , ; TAB | outside quotes, ties in that order, ',' if none.
 *  And see how that line ends: a lone CR makes CR the row end. A quote
 *  opens a quoted part only at the start of a field (the line's start, or
 *  after the given delimiter or, when sniffing, any of the candidates), as
 *  the parser has it, so a stray quote in a name does not hide the end. */
static int
s_sniff(cs_csv_t *self, bool pick_delimiter)
{
    static const unsigned char candidates[] = { ',', ';', '\t', '|' };
    size_t counts[sizeof candidates] = { 0 };
    const unsigned char quote = (unsigned char) self->quote;
    bool lone_cr = false;
    while (true) {
        memset(counts, 0, sizeof counts);
        const unsigned char *p = self->buf + self->pos;
        const unsigned char *end = self->buf + self->len;
        bool in_quote = false;
        bool field_start = true;
        bool found = false;
        bool more = false;
        for (; p < end; p++) {
            unsigned char c = *p;
            if (in_quote) {
                if (c != quote) {
                    continue;
                }
                if (p + 1 == end && !self->eof) {
                    more = true;
                    break;
                }
                if (p + 1 < end && p[1] == quote) {
                    p++;
                } else {
                    in_quote = false;
                }
                continue;
            }
            if (c == quote && field_start) {
                in_quote = true;
                field_start = false;
                continue;
            }
            if (c == '\n' || c == '\r') {
                if (c == '\r' && p + 1 == end && !self->eof) {
                    more = true;
                } else {
                    lone_cr = c == '\r' && (p + 1 == end || p[1] != '\n');
                    found = true;
                }
                break;
            }
            field_start = false;
            for (size_t k = 0; k < sizeof candidates; k++) {
                if (c == candidates[k] && c != quote) {
                    counts[k]++;
                    field_start = field_start || pick_delimiter;
                }
            }
            if (!pick_delimiter && c == (unsigned char) self->delimiter) {
                field_start = true;
            }
        }
        if (found || self->eof || self->len - self->pos > self->max_row ||
            (!more && self->len - self->pos >= self->cap_max)) {
            break;
        }
        int rc = s_fill(self);
        if (rc != CS_OK) {
            return rc;
        }
    }
    self->cr_rows = lone_cr;
    if (pick_delimiter) {
        size_t best = 0;
        self->delimiter = ',';
        for (size_t k = 0; k < sizeof candidates; k++) {
            if (counts[k] > best && candidates[k] != quote) {
                best = counts[k];
                self->delimiter = candidates[k];
            }
        }
    }
    return CS_OK;
}

/*  Read the header row into columns. */
static int
s_read_header(cs_csv_t *self)
{
    cs_row_t row;
    self->in_header = true;
    int rc = s_next(self, &row);
    self->in_header = false;
    if (rc == CS_ENOENT) {
        fprintf(stderr,
                "crmsync: %s: no header row (the input is "
                "empty)\n",
                self->name);
        return CS_EPROTO;
    }
    if (rc == CS_EPROTO) {
        fprintf(stderr, "crmsync: %s: line %llu: bad header row: %s\n",
                self->name, (unsigned long long) row.line, row.error);
        return CS_EPROTO;
    }
    if (rc != CS_OK) {
        return rc;
    }
    size_t text = 0;
    for (size_t i = 0; i < row.count; i++) {
        size_t len = row.values[i].u.s.len;
        if (len == 0) {
            fprintf(stderr,
                    "crmsync: %s: line %llu: header column %zu has no "
                    "name\n",
                    self->name, (unsigned long long) row.line, i + 1);
            return CS_EPROTO;
        }
        text += len + 1;
    }
    self->column_count = row.count;
    self->column_text = s_realloc(NULL, text, 1);
    self->columns = s_realloc(NULL, row.count, sizeof *self->columns);
    char *at = self->column_text;
    for (size_t i = 0; i < row.count; i++) {
        const cs_value_t *value = &row.values[i];
        memcpy(at, value->u.s.ptr, value->u.s.len);
        at[value->u.s.len] = '\0';
        self->columns[i] = at;
        for (size_t k = 0; k < i; k++) {
            if (strcmp(self->columns[k], at) == 0) {
                char shown[CS_CSV_NAME_SHOWN + 4];
                s_shown(at, value->u.s.len, shown, sizeof shown);
                fprintf(stderr,
                        "crmsync: %s: line %llu: duplicate column name "
                        "\"%s\" (columns %zu and %zu)\n",
                        self->name, (unsigned long long) row.line, shown, k + 1,
                        i + 1);
                return CS_EPROTO;
            }
        }
        at += value->u.s.len + 1;
    }
    /* data rows keep header + 1 fields, so a long row needs no growing */
    if (self->fields_cap < self->column_count + 1) {
        s_grow_fields(self, self->column_count + 1);
    }
    return CS_OK;
}

/* ---------------- public API ---------------- */

int
cs_csv_open(int fd, const char *name, const cs_csv_opts_t *opts,
            cs_csv_t **self_p)
{
    assert(self_p);
    cs_csv_opts_t given = { 0, 0, CS_CSV_ENC_AUTO, 0, 0, 0 };
    if (opts) {
        given = *opts;
    }
    int quote = given.quote ? given.quote : '"';
    int delim = given.delimiter;
    if (fd < 0 || quote < 1 || quote > 0x7F || quote == '\n' || quote == '\r' ||
        delim < 0 || delim > 0x7F || delim == '\n' || delim == '\r' ||
        delim == quote || given.max_row_bytes > CS_CSV_ROW_LIMIT ||
        given.max_columns > CS_CSV_COLUMNS_LIMIT ||
        (unsigned) given.encoding > (unsigned) CS_CSV_ENC_UTF16LE) {
        return CS_EINVAL;
    }
    cs_csv_t *self = calloc(1, sizeof *self);
    if (!self) {
        abort();
    }
    self->fd = fd;
    self->name = strdup(name ? name : "-");
    if (!self->name) {
        abort();
    }
    self->quote = quote;
    self->delimiter = delim;
    self->max_field =
        given.max_field_bytes ? given.max_field_bytes : (size_t) CS_VALUE_MAX;
    self->max_row =
        given.max_row_bytes ? given.max_row_bytes : CS_CSV_ROW_DEFAULT;
    self->max_columns =
        given.max_columns ? given.max_columns : CS_CSV_COLUMNS_DEFAULT;
    self->cap_max = self->max_row + 2 + 4; /* a row, its CRLF, a char */
    if (self->cap_max < CS_CSV_CHUNK) {
        self->cap_max = CS_CSV_CHUNK;
    }
    self->cap = CS_CSV_CHUNK;
    self->buf = s_realloc(NULL, self->cap + S_SCAN_SLACK, 1);
    self->to_utf8 = (iconv_t) -1;
    off_t at = lseek(fd, 0, SEEK_CUR);
    self->seekable = at >= 0;
    self->buf_offset = at > 0 ? (uint64_t) at : 0;
    self->line = 1;

    int rc = s_detect(self, given.encoding);
    if (rc != CS_OK) {
        goto out_destroy;
    }
    /* blank lines before the header: a lone CR too, whatever rows use */
    rc = s_skip_blank(self, true);
    if (rc == CS_OK) {
        rc = s_sniff(self, delim == 0);
    }
    if (rc == CS_ENOENT) {
        fprintf(stderr, "crmsync: %s: no header row (the input is empty)\n",
                self->name);
        rc = CS_EPROTO;
    }
    if (rc != CS_OK) {
        goto out_destroy;
    }
    self->stops_plain[(unsigned char) self->delimiter] = 1;
    self->stops_quoted[(unsigned char) self->quote] = 1;
    self->stops_plain['\n'] = self->stops_quoted['\n'] = 1;
    self->stops_plain['\r'] = self->stops_quoted['\r'] = 1;
    self->stops_plain[0] = self->stops_quoted[0] = 1;
    rc = s_read_header(self);
    if (rc != CS_OK) {
        goto out_destroy;
    }
    *self_p = self;
    return CS_OK;

out_destroy:
    cs_csv_destroy(&self);
    return rc;
}

void
cs_csv_destroy(cs_csv_t **self_p)
{
    assert(self_p);
    cs_csv_t *self = *self_p;
    if (!self) {
        return;
    }
    if (self->to_utf8 != (iconv_t) -1) {
        iconv_close(self->to_utf8);
    }
    free(self->name);
    free(self->buf);
    free(self->in16);
    free(self->fields);
    free(self->values);
    free(self->quoted);
    free(self->scratch);
    free(self->conv);
    free(self->columns);
    free(self->column_text);
    free(self);
    *self_p = NULL;
}

int
cs_csv_next(cs_csv_t *self, cs_row_t *row)
{
    assert(self);
    assert(row);
    return s_next(self, row);
}

const char *const *
cs_csv_columns(const cs_csv_t *self, size_t *count)
{
    assert(self);
    if (count) {
        *count = self->column_count;
    }
    return self->columns;
}

int
cs_csv_delimiter(const cs_csv_t *self)
{
    assert(self);
    return self->delimiter;
}

cs_csv_encoding_t
cs_csv_encoding(const cs_csv_t *self, bool *had_bom)
{
    assert(self);
    if (had_bom) {
        *had_bom = self->had_bom;
    }
    return self->encoding;
}

const char *
cs_csv_encoding_name(cs_csv_encoding_t encoding)
{
    switch (encoding) {
    case CS_CSV_ENC_AUTO:
        return "auto";
    case CS_CSV_ENC_UTF8:
        return "utf-8";
    case CS_CSV_ENC_WINDOWS_1252:
        return "windows-1252";
    case CS_CSV_ENC_ISO_8859_1:
        return "iso-8859-1";
    case CS_CSV_ENC_UTF16LE:
        return "utf-16le";
    }
    return "unknown";
}

int
cs_csv_encoding_parse(const char *name, cs_csv_encoding_t *encoding)
{
    assert(encoding);
    static const struct {
        const char *name;
        cs_csv_encoding_t encoding;
    } names[] = {
        { "auto", CS_CSV_ENC_AUTO },
        { "utf-8", CS_CSV_ENC_UTF8 },
        { "utf8", CS_CSV_ENC_UTF8 },
        { "windows-1252", CS_CSV_ENC_WINDOWS_1252 },
        { "cp1252", CS_CSV_ENC_WINDOWS_1252 },
        { "iso-8859-1", CS_CSV_ENC_ISO_8859_1 },
        { "utf-16le", CS_CSV_ENC_UTF16LE },
        { "utf16le", CS_CSV_ENC_UTF16LE },
    };
    if (!name) {
        return CS_EINVAL;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *encoding = names[i].encoding;
            return CS_OK;
        }
    }
    return CS_EINVAL;
}

void
cs_csv_position(const cs_csv_t *self, uint64_t *offset, uint64_t *line)
{
    assert(self);
    if (offset) {
        *offset = self->next_offset;
    }
    if (line) {
        *line = self->next_line;
    }
}

int
cs_csv_seek(cs_csv_t *self, uint64_t offset, uint64_t line)
{
    assert(self);
    if (self->encoding == CS_CSV_ENC_UTF16LE || !self->seekable || line == 0 ||
        offset > (uint64_t) INT64_MAX) {
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
    self->pos = 0;
    self->len = 0;
    self->buf_offset = offset;
    self->line = line;
    self->eof = false;
    self->failed = CS_OK;
    self->next_offset = offset;
    self->next_line = line;
    return CS_OK;
}
