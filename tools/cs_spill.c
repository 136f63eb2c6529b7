/*  cs_spill - an external sort: sorted runs of (key, payload) items in an
 *  unlinked temporary file, read back merged in key order.
 *  SPDX-License-Identifier: MIT
 *
 *  The file is private to this process and gone when it exits, so items
 *  are stored as they are in memory: a header of two native uint32
 *  lengths, then the key, then the payload. The merge keeps a binary heap
 *  of the runs' current items, ordered by (key, run).
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cs_spill.h"

#define S_WRITE_BUF (1u << 20)  /* bytes buffered before a write */
#define S_READ_BUF  (64u << 10) /* read buffer of each run, at most */
#define S_READ_MIN  (1u << 10)  /* ... and at least */
#define S_READ_ALL  (32u << 20) /* all runs' read buffers together */
#define S_HEAD      8u          /* key length, payload length */
#define S_PAGE      4096u       /* freed in whole pages of this size */
#define S_PUNCH_MIN (64u << 10) /* bytes freed at once, at least */

typedef struct {
    uint64_t start; /* file offset of the run's first item */
    uint64_t end;   /* one past its last */
} s_run_t;

/* A run being read back, and its current item. */
typedef struct {
    uint64_t file_pos;    /* next byte of the file to read */
    uint64_t end;         /* the run's end */
    uint64_t punched;     /* the run's bytes before this are freed */
    char *buf;            /* read buffer */
    size_t cap;           /* its size */
    size_t pos;           /* first unread byte in buf */
    size_t len;           /* bytes in buf */
    size_t run;           /* index of the run */
    cs_spill_item_t item; /* current item, pointing into buf */
} s_cursor_t;

struct cs_spill {
    int fd;              /* the unlinked file */
    char *wbuf;          /* write buffer */
    size_t wlen;         /* bytes in it */
    uint64_t size;       /* bytes written to the file */
    uint64_t run_start;  /* where the current run began */
    uint64_t count;      /* items added */
    char *last_key;      /* the current run's last key (order check) */
    size_t last_key_len; /* its length */
    size_t last_key_cap; /* bytes allocated */
    bool run_open;       /* the current run holds an item */
    s_run_t *runs;       /* the runs ended so far */
    size_t run_count;    /* used */
    size_t run_cap;      /* allocated */
    s_cursor_t *cursors; /* reading: one per run */
    size_t *heap;        /* reading: cursor indices, a min-heap */
    size_t heap_len;     /* live cursors in the heap */
    bool merging;        /* cs_spill_merge was called */
    bool no_punch;       /* the file system cannot punch holes */
    bool advance;        /* the top's item was handed out: move it on */
};

static void *
s_realloc(void *p, size_t size)
{
    void *grown = realloc(p, size ? size : 1);
    if (!grown) {
        abort();
    }
    return grown;
}

static int
s_io_error(const char *what)
{
    fprintf(stderr, "crmsync: spill file: %s: %s\n", what, strerror(errno));
    return CS_EIO;
}

int
cs_spill_new(const char *dir, cs_spill_t **self_p)
{
    assert(dir);
    assert(self_p);
    *self_p = NULL;
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        /* a file system without O_TMPFILE: a named file, unlinked at once */
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/.crmsync-spill-XXXXXX", dir);
        if (n < 0 || (size_t) n >= sizeof path) {
            errno = ENAMETOOLONG;
        } else {
            fd = mkostemp(path, O_CLOEXEC);
            if (fd >= 0) {
                (void) unlink(path);
            }
        }
    }
    if (fd < 0) {
        fprintf(stderr, "crmsync: cannot make a temporary file in %s: %s\n",
                dir, strerror(errno));
        return CS_EIO;
    }
    cs_spill_t *self = s_realloc(NULL, sizeof *self);
    memset(self, 0, sizeof *self);
    self->fd = fd;
    self->wbuf = s_realloc(NULL, S_WRITE_BUF);
    *self_p = self;
    return CS_OK;
}

void
cs_spill_destroy(cs_spill_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    cs_spill_t *self = *self_p;
    for (size_t i = 0; self->cursors && i < self->run_count; i++) {
        free(self->cursors[i].buf);
    }
    free(self->cursors);
    free(self->heap);
    free(self->runs);
    free(self->last_key);
    free(self->wbuf);
    close(self->fd);
    free(self);
    *self_p = NULL;
}

/*  Write @p len bytes at @p p at the end of the file. */
static int
s_write_all(cs_spill_t *self, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = pwrite(self->fd, p, len, (off_t) self->size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return s_io_error("write");
        }
        p += n;
        len -= (size_t) n;
        self->size += (uint64_t) n;
    }
    return CS_OK;
}

static int
s_flush(cs_spill_t *self)
{
    int rc = s_write_all(self, self->wbuf, self->wlen);
    self->wlen = 0;
    return rc;
}

/*  Append bytes through the write buffer. */
static int
s_append(cs_spill_t *self, const void *p, size_t len)
{
    if (len == 0) {
        return CS_OK;
    }
    if (len > S_WRITE_BUF - self->wlen) {
        int rc = s_flush(self);
        if (rc != CS_OK) {
            return rc;
        }
        if (len > S_WRITE_BUF) {
            return s_write_all(self, p, len);
        }
    }
    memcpy(self->wbuf + self->wlen, p, len);
    self->wlen += len;
    return CS_OK;
}

int
cs_spill_key_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    return c != 0 ? c : (a_len > b_len) - (a_len < b_len);
}

int
cs_spill_add(cs_spill_t *self, const char *key, size_t key_len,
             const void *data, size_t data_len)
{
    return cs_spill_add_parts(self, key, key_len, data, data_len, NULL, 0);
}

int
cs_spill_add_parts(cs_spill_t *self, const char *key, size_t key_len,
                   const void *head, size_t head_len, const void *body,
                   size_t body_len)
{
    assert(self);
    assert(!self->merging);
    assert(key || key_len == 0);
    assert(head || head_len == 0);
    assert(body || body_len == 0);
    if (key_len > CS_SPILL_KEY_MAX || body_len > CS_SPILL_DATA_MAX ||
        head_len > CS_SPILL_DATA_MAX - body_len) {
        return CS_EINVAL;
    }
    assert(!self->run_open ||
           cs_spill_key_compare(self->last_key, self->last_key_len, key,
                                key_len) <= 0);
    uint32_t lens[2] = { (uint32_t) key_len, (uint32_t) (head_len + body_len) };
    int rc = s_append(self, lens, sizeof lens);
    if (rc == CS_OK) {
        rc = s_append(self, key, key_len);
    }
    if (rc == CS_OK) {
        rc = s_append(self, head, head_len);
    }
    if (rc == CS_OK) {
        rc = s_append(self, body, body_len);
    }
    if (rc != CS_OK) {
        return rc;
    }
    /* kept for the order check above (asserts stay on in every build) */
    if (key_len > self->last_key_cap) {
        self->last_key_cap = key_len;
        self->last_key = s_realloc(self->last_key, key_len);
    }
    if (key_len) {
        memcpy(self->last_key, key, key_len);
    }
    self->last_key_len = key_len;
    self->run_open = true;
    self->count++;
    return CS_OK;
}

int
cs_spill_end_run(cs_spill_t *self)
{
    assert(self);
    assert(!self->merging);
    if (!self->run_open) {
        return CS_OK;
    }
    int rc = s_flush(self);
    if (rc != CS_OK) {
        return rc;
    }
    if (self->run_count == self->run_cap) {
        self->run_cap = self->run_cap ? self->run_cap * 2 : 16;
        self->runs = s_realloc(self->runs, self->run_cap * sizeof *self->runs);
    }
    self->runs[self->run_count++] = (s_run_t){ self->run_start, self->size };
    self->run_start = self->size;
    self->run_open = false;
    return CS_OK;
}

uint64_t
cs_spill_count(const cs_spill_t *self)
{
    assert(self);
    return self->count;
}

uint64_t
cs_spill_held(const cs_spill_t *self)
{
    assert(self);
    struct stat st;
    return fstat(self->fd, &st) == 0 ? (uint64_t) st.st_blocks * 512 : 0;
}

/*  Free the file's pages the cursor has read, whole pages of its own run
 *  only. The merge reads each byte once, and page cache freed here is what
 *  the store's writes reuse next: memory already in use costs much less
 *  to write into than pages the system has not touched yet (in a virtual
 *  machine, several times less). */
static void
s_cursor_punch(cs_spill_t *self, s_cursor_t *c)
{
    uint64_t from = (c->punched + S_PAGE - 1) / S_PAGE * S_PAGE;
    uint64_t to = c->file_pos / S_PAGE * S_PAGE;
    if (self->no_punch || to <= from ||
        (to - from < S_PUNCH_MIN && c->file_pos < c->end)) {
        return; /* (a run's last bytes go however few they are) */
    }
    if (fallocate(self->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t) from, (off_t) (to - from)) != 0) {
        self->no_punch = true; /* harmless: the pages go with the file */
        return;
    }
    c->punched = to;
}

/*  Make @p need bytes from c->pos readable in c->buf. @return CS_OK,
 *  CS_EIO, or CS_ECORRUPT if the run ends first. */
static int
s_cursor_fill(cs_spill_t *self, s_cursor_t *c, size_t need)
{
    if (c->len - c->pos >= need) {
        return CS_OK;
    }
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
    if (need > c->cap) {
        c->cap = need;
        c->buf = s_realloc(c->buf, c->cap);
    }
    while (c->len < need) {
        uint64_t left = c->end - c->file_pos;
        if (left == 0) {
            return CS_ECORRUPT;
        }
        size_t want = c->cap - c->len;
        if (want > left) {
            want = (size_t) left;
        }
        ssize_t n = pread(self->fd, c->buf + c->len, want, (off_t) c->file_pos);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return s_io_error("read");
        }
        if (n == 0) {
            return CS_ECORRUPT;
        }
        c->len += (size_t) n;
        c->file_pos += (uint64_t) n;
        s_cursor_punch(self, c);
    }
    return CS_OK;
}

/*  Load the cursor's next item; *@p live is false at the run's end. */
static int
s_cursor_load(cs_spill_t *self, s_cursor_t *c, bool *live)
{
    *live = c->pos < c->len || c->file_pos < c->end;
    if (!*live) {
        return CS_OK;
    }
    int rc = s_cursor_fill(self, c, S_HEAD);
    if (rc != CS_OK) {
        return rc;
    }
    uint32_t head[2];
    memcpy(head, c->buf + c->pos, sizeof head);
    if (head[0] > CS_SPILL_KEY_MAX || head[1] > CS_SPILL_DATA_MAX) {
        return CS_ECORRUPT;
    }
    size_t size = S_HEAD + (size_t) head[0] + head[1];
    rc = s_cursor_fill(self, c, size);
    if (rc != CS_OK) {
        return rc;
    }
    const char *p = c->buf + c->pos + S_HEAD;
    c->item = (cs_spill_item_t){ .key = p,
                                 .key_len = head[0],
                                 .data = p + head[0],
                                 .data_len = head[1],
                                 .run = c->run };
    c->pos += size;
    return CS_OK;
}

/*  Heap order: key, then run. */
static bool
s_before(const cs_spill_t *self, size_t a, size_t b)
{
    const cs_spill_item_t *x = &self->cursors[a].item;
    const cs_spill_item_t *y = &self->cursors[b].item;
    int c = cs_spill_key_compare(x->key, x->key_len, y->key, y->key_len);
    return c != 0 ? c < 0 : x->run < y->run;
}

static void
s_sift_down(cs_spill_t *self, size_t i)
{
    size_t *h = self->heap;
    while (true) {
        size_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < self->heap_len && s_before(self, h[l], h[least])) {
            least = l;
        }
        if (r < self->heap_len && s_before(self, h[r], h[least])) {
            least = r;
        }
        if (least == i) {
            return;
        }
        size_t t = h[i];
        h[i] = h[least];
        h[least] = t;
        i = least;
    }
}

int
cs_spill_merge(cs_spill_t *self)
{
    assert(self);
    assert(!self->merging);
    int rc = cs_spill_end_run(self);
    if (rc != CS_OK) {
        return rc;
    }
    self->merging = true;
    size_t n = self->run_count;
    /* many small runs (a small batch size) share the read budget */
    size_t buf_size = n > 0 ? S_READ_ALL / n : S_READ_BUF;
    buf_size = buf_size > S_READ_BUF   ? S_READ_BUF
               : buf_size < S_READ_MIN ? S_READ_MIN
                                       : buf_size;
    self->cursors = s_realloc(NULL, n * sizeof *self->cursors);
    memset(self->cursors, 0, n * sizeof *self->cursors);
    self->heap = s_realloc(NULL, n * sizeof *self->heap);
    for (size_t i = 0; i < n; i++) {
        s_cursor_t *c = &self->cursors[i];
        c->file_pos = self->runs[i].start;
        c->end = self->runs[i].end;
        c->punched = self->runs[i].start;
        c->cap = buf_size;
        c->buf = s_realloc(NULL, c->cap);
        c->run = i;
        bool live;
        rc = s_cursor_load(self, c, &live);
        if (rc != CS_OK) {
            return rc;
        }
        if (live) {
            self->heap[self->heap_len++] = i;
        }
    }
    for (size_t i = self->heap_len / 2; i-- > 0;) {
        s_sift_down(self, i);
    }
    return CS_OK;
}

int
cs_spill_next(cs_spill_t *self, cs_spill_item_t *item)
{
    assert(self);
    assert(self->merging);
    assert(item);
    if (self->advance) {
        self->advance = false;
        bool live;
        int rc = s_cursor_load(self, &self->cursors[self->heap[0]], &live);
        if (rc != CS_OK) {
            return rc;
        }
        if (!live) {
            self->heap[0] = self->heap[--self->heap_len];
        }
        s_sift_down(self, 0);
    }
    if (self->heap_len == 0) {
        return CS_ENOENT;
    }
    *item = self->cursors[self->heap[0]].item;
    self->advance = true;
    return CS_OK;
}
