/*  cs_json - JSON output of records, the JSON scalar reader of put, and
 *  the string and number scanners the JSON Lines reader builds on.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tools/cs_json.h"

/* ---------------- numbers and base64 ---------------- */

size_t
cs_json_format_double(double f, bool keep_float, char buf[CS_JSON_DOUBLE_MAX])
{
    assert(isfinite(f));
    int n = 0;
    for (int precision = 15; precision <= 17; precision++) {
        n = snprintf(buf, CS_JSON_DOUBLE_MAX, "%.*g", precision, f);
        if (strtod(buf, NULL) == f) {
            break;
        }
    }
    assert(n > 0 && (size_t) n < CS_JSON_DOUBLE_MAX - 2);
    size_t len = (size_t) n;
    if (keep_float && strcspn(buf, ".e") == len) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    return len;
}

char *
cs_json_base64(const void *data, size_t len)
{
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    size_t cap = sodium_base64_ENCODED_LEN(len, variant);
    char *text = malloc(cap);
    if (!text) {
        abort();
    }
    sodium_bin2base64(text, cap, data, len, variant);
    return text;
}

/* ---------------- writer ---------------- */

/*  Length of the valid UTF-8 sequence that starts at @p s (at most @p left
 *  bytes), or 0 if there is none. */
static size_t
s_utf8_sequence(const unsigned char *s, size_t left)
{
    size_t n;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
    } else {
        return 0;
    }
    if (n > left || !cs_utf8_is_valid((const char *) s, n)) {
        return 0;
    }
    return n;
}

void
cs_json_write_string(FILE *out, const char *s, size_t len)
{
    assert(out);
    assert(s || len == 0);
    const unsigned char *bytes = (const unsigned char *) s;
    size_t run = 0; /* start of the bytes not yet written */
    size_t i = 0;
    putc('"', out);
    while (i < len) {
        unsigned char c = bytes[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = s_utf8_sequence(bytes + i, len - i);
            if (n > 0) {
                i += n;
                continue;
            }
        }
        fwrite(bytes + run, 1, i - run, out);
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\b':
            fputs("\\b", out);
            break;
        case '\f':
            fputs("\\f", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (c < 0x20) {
                fprintf(out, "\\u%04x", (unsigned) c);
            } else {
                fputs("\\ufffd", out); /* not UTF-8 */
            }
            break;
        }
        i++;
        run = i;
    }
    fwrite(bytes + run, 1, len - run, out);
    putc('"', out);
}

void
cs_json_write_value(FILE *out, const cs_value_t *value)
{
    assert(out);
    assert(value);
    char number[CS_JSON_DOUBLE_MAX];
    switch (value->type) {
    case CS_VALUE_NIL:
        fputs("null", out);
        break;
    case CS_VALUE_BOOL:
        fputs(value->u.b ? "true" : "false", out);
        break;
    case CS_VALUE_INT:
        fprintf(out, "%" PRId64, value->u.i);
        break;
    case CS_VALUE_FLOAT:
        if (isfinite(value->u.f)) {
            size_t n = cs_json_format_double(value->u.f, true, number);
            fwrite(number, 1, n, out);
        } else {
            fputs("null", out);
        }
        break;
    case CS_VALUE_STR:
        cs_json_write_string(out, value->u.s.ptr, value->u.s.len);
        break;
    case CS_VALUE_BIN: {
        char *text = cs_json_base64(value->u.s.ptr, value->u.s.len);
        fputs("{\"$binary\":\"", out);
        fputs(text, out);
        fputs("\"}", out);
        free(text);
        break;
    }
    }
}

void
cs_json_write_fields(FILE *out, const cs_record_t *rec)
{
    assert(out);
    assert(rec);
    size_t count = cs_record_field_count(rec);
    putc('{', out);
    for (size_t i = 0; i < count; i++) {
        cs_field_t field = cs_record_field_at(rec, i);
        if (i > 0) {
            putc(',', out);
        }
        cs_json_write_string(out, field.name, strlen(field.name));
        putc(':', out);
        cs_json_write_value(out, &field.value);
    }
    putc('}', out);
}

void
cs_json_write_record_line(FILE *out, const char *collection, const char *id,
                          const cs_record_t *rec)
{
    assert(collection);
    assert(id);
    fputs("{\"collection\":", out);
    cs_json_write_string(out, collection, strlen(collection));
    fputs(",\"id\":", out);
    cs_json_write_string(out, id, strlen(id));
    fputs(",\"fields\":", out);
    cs_json_write_fields(out, rec);
    fputs("}\n", out);
}

/* ---------------- scalar reader ---------------- */

typedef struct {
    const char *start; /* the text */
    const char *pos;   /* next byte to read */
    const char *end;   /* one past the last byte */
    char *err;         /* message buffer */
    size_t err_cap;    /* its size */
} s_reader_t;

static int s_fail(s_reader_t *self, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
s_fail(s_reader_t *self, int code, const char *fmt, ...)
{
    if (self->err_cap > 0) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(self->err, self->err_cap, fmt, args);
        va_end(args);
    }
    return code;
}

static size_t
s_offset(const s_reader_t *self)
{
    return (size_t) (self->pos - self->start);
}

static void
s_skip_space(s_reader_t *self)
{
    while (self->pos < self->end &&
           (*self->pos == ' ' || *self->pos == '\t' || *self->pos == '\n' ||
            *self->pos == '\r')) {
        self->pos++;
    }
}

static bool
s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
s_hex4(s_reader_t *self, uint32_t *out)
{
    uint32_t code = 0;
    if (self->end - self->pos < 4) {
        return s_fail(self, CS_EINVAL, "short \\u escape at byte %zu",
                      s_offset(self));
    }
    for (int i = 0; i < 4; i++) {
        char c = *self->pos++;
        uint32_t digit;
        if (c >= '0' && c <= '9') {
            digit = (uint32_t) (c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = (uint32_t) (c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            digit = (uint32_t) (c - 'A' + 10);
        } else {
            self->pos--;
            return s_fail(self, CS_EINVAL,
                          "bad hex digit in \\u escape "
                          "at byte %zu",
                          s_offset(self));
        }
        code = code << 4 | digit;
    }
    *out = code;
    return CS_OK;
}

static size_t
s_put_utf8(char *dst, uint32_t code)
{
    if (code < 0x80) {
        dst[0] = (char) code;
        return 1;
    }
    if (code < 0x800) {
        dst[0] = (char) (0xC0 | code >> 6);
        dst[1] = (char) (0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        dst[0] = (char) (0xE0 | code >> 12);
        dst[1] = (char) (0x80 | (code >> 6 & 0x3F));
        dst[2] = (char) (0x80 | (code & 0x3F));
        return 3;
    }
    dst[0] = (char) (0xF0 | code >> 18);
    dst[1] = (char) (0x80 | (code >> 12 & 0x3F));
    dst[2] = (char) (0x80 | (code >> 6 & 0x3F));
    dst[3] = (char) (0x80 | (code & 0x3F));
    return 4;
}

/*  One \uXXXX escape (the "\u" already read), joining a surrogate pair. */
static int
s_read_unicode_escape(s_reader_t *self, uint32_t *code)
{
    size_t at = s_offset(self) - 2;
    int rc = s_hex4(self, code);
    if (rc != CS_OK) {
        return rc;
    }
    if (*code >= 0xDC00 && *code <= 0xDFFF) {
        return s_fail(self, CS_EINVAL, "lone low surrogate \\u%04x at byte %zu",
                      *code, at);
    }
    if (*code < 0xD800 || *code > 0xDBFF) {
        return CS_OK;
    }
    uint32_t low = 0;
    if (self->end - self->pos < 2 || self->pos[0] != '\\' ||
        self->pos[1] != 'u') {
        return s_fail(self, CS_EINVAL,
                      "lone high surrogate \\u%04x at byte %zu", *code, at);
    }
    self->pos += 2;
    rc = s_hex4(self, &low);
    if (rc != CS_OK) {
        return rc;
    }
    if (low < 0xDC00 || low > 0xDFFF) {
        return s_fail(self, CS_EINVAL,
                      "lone high surrogate \\u%04x at byte %zu", *code, at);
    }
    *code = 0x10000 + ((*code - 0xD800) << 10) + (low - 0xDC00);
    return CS_OK;
}

/*  Bytes with a bit set in 8 bytes at once, at or after @p at: bytes below
 *  0x20, '"', '\\' and bytes from 0x80 (bit twiddling "haszero": it never
 *  misses such a byte). */
static uint64_t
s_special_bytes(const char *at)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t highs = 0x8080808080808080u;
    uint64_t v;
    memcpy(&v, at, sizeof v);
    uint64_t quote = v ^ (ones * '"');
    uint64_t backslash = v ^ (ones * '\\');
    uint64_t found = ((v - ones * 0x20) & ~v) | ((quote - ones) & ~quote) |
                     ((backslash - ones) & ~backslash) | v;
    return found & highs;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*  Index of the first special byte among the 8 @p found flags: the lowest
 *  flag is exact, as a borrow only carries upward. */
static size_t
s_first_special(uint64_t found)
{
    return (size_t) __builtin_ctzll(found) / 8;
}
#else
static size_t
s_first_special(uint64_t found)
{
    (void) found;
    return 0; /* the byte loop finds it */
}
#endif /* __BYTE_ORDER__ */

/*  The end of the run of plain bytes (printable ASCII but '"' and '\\')
 *  that starts at @p at. Strings in exports are mostly such runs. */
static const char *
s_plain_run(const char *at, const char *end)
{
    while (end - at >= 8) {
        uint64_t found = s_special_bytes(at);
        if (found != 0) {
            at += s_first_special(found);
            break;
        }
        at += 8;
    }
    while (at < end) {
        unsigned char c = (unsigned char) *at;
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
            break;
        }
        at++;
    }
    return at;
}

/*  The JSON string at pos (on the opening quote), decoded into @p out, or
 *  only checked if @p out is NULL. Decoding never lengthens a string, so
 *  end - pos bytes at @p out are always enough. Raw bytes must be UTF-8. */
static int
s_scan_string(s_reader_t *self, char *out, size_t *out_len)
{
    assert(self->pos < self->end && *self->pos == '"');
    size_t opened_at = s_offset(self);
    char scratch[4]; /* where escapes go when only checking */
    size_t len = 0;
    self->pos++;
    while (true) {
        const char *run = self->pos;
        self->pos = s_plain_run(self->pos, self->end);
        size_t run_len = (size_t) (self->pos - run);
        if (out && run_len > 0) {
            memcpy(out + len, run, run_len);
        }
        len += run_len;
        if (self->pos >= self->end) {
            return s_fail(self, CS_EINVAL,
                          "unterminated string (opened at "
                          "byte %zu)",
                          opened_at);
        }
        unsigned char c = (unsigned char) *self->pos;
        if (c == '"') {
            self->pos++;
            break;
        }
        if (c >= 0x80) {
            size_t n = s_utf8_sequence((const unsigned char *) self->pos,
                                       (size_t) (self->end - self->pos));
            if (n == 0) {
                return s_fail(self, CS_EINVAL, "invalid UTF-8 at byte %zu",
                              s_offset(self));
            }
            if (out) {
                memcpy(out + len, self->pos, n);
            }
            len += n;
            self->pos += n;
            continue;
        }
        if (c < 0x20) {
            return s_fail(self, CS_EINVAL,
                          "control character 0x%02x in a "
                          "string at byte %zu (escape it)",
                          c, s_offset(self));
        }
        if (self->end - self->pos < 2) {
            return s_fail(self, CS_EINVAL,
                          "unterminated string (opened at "
                          "byte %zu)",
                          opened_at);
        }
        char *dst = out ? out + len : scratch;
        char escape = self->pos[1];
        self->pos += 2;
        uint32_t code = 0;
        switch (escape) {
        case '"':
        case '\\':
        case '/':
            dst[0] = escape;
            len++;
            break;
        case 'b':
            dst[0] = '\b';
            len++;
            break;
        case 'f':
            dst[0] = '\f';
            len++;
            break;
        case 'n':
            dst[0] = '\n';
            len++;
            break;
        case 'r':
            dst[0] = '\r';
            len++;
            break;
        case 't':
            dst[0] = '\t';
            len++;
            break;
        case 'u': {
            int rc = s_read_unicode_escape(self, &code);
            if (rc != CS_OK) {
                return rc;
            }
            /* at most 4 bytes out of at least 6 in */
            len += s_put_utf8(dst, code);
            break;
        }
        default:
            self->pos -= 2;
            return s_fail(self, CS_EINVAL, "bad escape at byte %zu",
                          s_offset(self));
        }
    }
    *out_len = len;
    return CS_OK;
}

/*  A JSON string at pos (on the opening quote), decoded into a new buffer
 *  *@p out (NUL-terminated, caller frees) of *@p out_len bytes. */
static int
s_read_string(s_reader_t *self, char **out, size_t *out_len)
{
    char *buf = malloc((size_t) (self->end - self->pos) + 1);
    if (!buf) {
        abort();
    }
    size_t len = 0;
    int rc = s_scan_string(self, buf, &len);
    if (rc != CS_OK) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return CS_OK;
}

/*  strtod of the @p len bytes at @p text, a valid JSON number. */
static double
s_to_double(const char *text, size_t len)
{
    char local[64]; /* nearly every number fits */
    char *copy = local;
    if (len >= sizeof local) {
        copy = malloc(len + 1);
        if (!copy) {
            abort();
        }
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    double number = strtod(copy, NULL);
    if (copy != local) {
        free(copy);
    }
    return number;
}

/*  An RFC 8259 number at pos, classified in *@p kind; its value in
 *  *@p value unless @p value is NULL or the kind is CS_JSON_NUMBER_BIG. */
static int
s_scan_number(s_reader_t *self, cs_value_t *value, cs_json_number_t *kind)
{
    const char *begin = self->pos;
    bool negative = false;
    bool is_float = false;
    if (self->pos < self->end && *self->pos == '-') {
        negative = true;
        self->pos++;
    }
    if (self->pos >= self->end || !s_is_digit(*self->pos)) {
        return s_fail(self, CS_EINVAL, "expected a digit at byte %zu",
                      s_offset(self));
    }
    if (*self->pos == '0' && self->end - self->pos > 1 &&
        s_is_digit(self->pos[1])) {
        return s_fail(self, CS_EINVAL,
                      "leading zero in a number at byte "
                      "%zu",
                      s_offset(self));
    }
    while (self->pos < self->end && s_is_digit(*self->pos)) {
        self->pos++;
    }
    if (self->pos < self->end && *self->pos == '.') {
        is_float = true;
        self->pos++;
        if (self->pos >= self->end || !s_is_digit(*self->pos)) {
            return s_fail(self, CS_EINVAL,
                          "expected a digit after '.' at "
                          "byte %zu",
                          s_offset(self));
        }
        while (self->pos < self->end && s_is_digit(*self->pos)) {
            self->pos++;
        }
    }
    if (self->pos < self->end && (*self->pos == 'e' || *self->pos == 'E')) {
        is_float = true;
        self->pos++;
        if (self->pos < self->end && (*self->pos == '+' || *self->pos == '-')) {
            self->pos++;
        }
        if (self->pos >= self->end || !s_is_digit(*self->pos)) {
            return s_fail(self, CS_EINVAL,
                          "expected a digit in the "
                          "exponent at byte %zu",
                          s_offset(self));
        }
        while (self->pos < self->end && s_is_digit(*self->pos)) {
            self->pos++;
        }
    }
    size_t len = (size_t) (self->pos - begin);
    if (is_float) {
        *kind = CS_JSON_NUMBER_FLOAT;
        if (!value) {
            return CS_OK;
        }
        double number = s_to_double(begin, len);
        if (!isfinite(number)) {
            return s_fail(self, CS_EINVAL, "number out of the double range");
        }
        /* built in place: copying the struct cs_value_float returns costs
           a store-forwarding stall, per value of a large import */
        *value = (cs_value_t){ .type = CS_VALUE_FLOAT, .u.f = number };
        return CS_OK;
    }
    /* magnitude in uint64, then the sign: -2^63 is in range */
    const char *digits = begin + negative;
    size_t digit_count = (size_t) (self->pos - digits);
    uint64_t magnitude = 0;
    const uint64_t limit =
        negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    for (const char *p = digits; p < self->pos; p++) {
        uint64_t digit = (uint64_t) (*p - '0');
        /* 18 digits cannot overflow: skip the division for them */
        if (digit_count > 18 && magnitude > (limit - digit) / 10) {
            *kind = CS_JSON_NUMBER_BIG;
            return CS_OK;
        }
        magnitude = magnitude * 10 + digit;
    }
    *kind = CS_JSON_NUMBER_INT;
    if (value) {
        int64_t number;
        if (negative) {
            number = magnitude == (uint64_t) INT64_MAX + 1
                         ? INT64_MIN
                         : -(int64_t) magnitude;
        } else {
            number = (int64_t) magnitude;
        }
        *value = (cs_value_t){ .type = CS_VALUE_INT, .u.i = number };
    }
    return CS_OK;
}

static int
s_read_number(s_reader_t *self, cs_value_t *value)
{
    cs_json_number_t kind = CS_JSON_NUMBER_INT;
    int rc = s_scan_number(self, value, &kind);
    if (rc == CS_OK && kind == CS_JSON_NUMBER_BIG) {
        return s_fail(self, CS_EINVAL,
                      "integer out of the int64 "
                      "range (store it as a string)");
    }
    return rc;
}

static int
s_read_literal(s_reader_t *self, cs_value_t *value)
{
    static const struct {
        const char *word;
        cs_value_type_t type;
        bool truth;
    } literals[] = {
        { "true", CS_VALUE_BOOL, true },
        { "false", CS_VALUE_BOOL, false },
        { "null", CS_VALUE_NIL, false },
    };
    for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
        size_t n = strlen(literals[i].word);
        if ((size_t) (self->end - self->pos) >= n &&
            memcmp(self->pos, literals[i].word, n) == 0) {
            self->pos += n;
            *value = literals[i].type == CS_VALUE_BOOL
                         ? cs_value_bool(literals[i].truth)
                         : cs_value_nil();
            return CS_OK;
        }
    }
    return s_fail(self, CS_EINVAL,
                  "not a JSON value at byte %zu (a string "
                  "needs double quotes: FIELD:='\"text\"', or use "
                  "FIELD=text)",
                  s_offset(self));
}

/*  {"$binary":"<base64>"}, pos on the '{'. */
static int
s_read_binary(s_reader_t *self, cs_value_t *value, char **storage)
{
    char *key = NULL;
    char *text = NULL;
    size_t key_len = 0;
    size_t text_len = 0;
    int rc = CS_EINVAL;
    const char *unsupported = "objects are not supported: a field holds one "
                              "scalar (the one object taken is "
                              "{\"$binary\":\"<base64>\"})";
    self->pos++;
    s_skip_space(self);
    if (self->pos >= self->end || *self->pos != '"') {
        rc = s_fail(self, CS_EINVAL, "%s", unsupported);
        goto out_free;
    }
    rc = s_read_string(self, &key, &key_len);
    if (rc != CS_OK) {
        goto out_free;
    }
    if (key_len != 7 || memcmp(key, "$binary", 7) != 0) {
        rc = s_fail(self, CS_EINVAL, "%s", unsupported);
        goto out_free;
    }
    s_skip_space(self);
    if (self->pos >= self->end || *self->pos != ':') {
        rc =
            s_fail(self, CS_EINVAL, "expected ':' at byte %zu", s_offset(self));
        goto out_free;
    }
    self->pos++;
    s_skip_space(self);
    if (self->pos >= self->end || *self->pos != '"') {
        rc = s_fail(self, CS_EINVAL,
                    "$binary needs a base64 string at "
                    "byte %zu",
                    s_offset(self));
        goto out_free;
    }
    rc = s_read_string(self, &text, &text_len);
    if (rc != CS_OK) {
        goto out_free;
    }
    s_skip_space(self);
    if (self->pos >= self->end || *self->pos != '}') {
        rc = s_fail(self, CS_EINVAL, "%s", unsupported);
        goto out_free;
    }
    self->pos++;
    size_t cap = text_len / 4 * 3 + 3;
    unsigned char *bin = malloc(cap);
    if (!bin) {
        abort();
    }
    size_t bin_len = 0;
    const char *text_end = NULL;
    if (sodium_base642bin(bin, cap, text, text_len, NULL, &bin_len, &text_end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        text_end != text + text_len) {
        free(bin);
        rc = s_fail(self, CS_EINVAL, "$binary is not valid padded base64");
        goto out_free;
    }
    if (bin_len > (size_t) CS_VALUE_MAX) {
        free(bin);
        rc = s_fail(self, CS_ELIMIT, "binary value is %zu bytes, limit %u",
                    bin_len, CS_VALUE_MAX);
        goto out_free;
    }
    *storage = (char *) bin;
    *value = cs_value_bin(bin, bin_len);
    rc = CS_OK;
out_free:
    free(key);
    free(text);
    return rc;
}

int
cs_json_parse_scalar(const char *text, size_t len, cs_value_t *value,
                     char **storage, char *err, size_t err_cap)
{
    assert(text || len == 0);
    assert(value);
    assert(storage);
    s_reader_t reader = { text, text, text + len, err, err_cap };
    char *buf = NULL;
    size_t buf_len = 0;
    cs_value_t parsed = cs_value_nil();
    int rc = CS_OK;

    *storage = NULL;
    if (len > CS_JSON_SCALAR_TEXT_MAX) {
        return s_fail(&reader, CS_ELIMIT, "JSON text is %zu bytes, limit %u",
                      len, CS_JSON_SCALAR_TEXT_MAX);
    }
    if (!cs_utf8_is_valid(text, len)) {
        return s_fail(&reader, CS_EINVAL, "not valid UTF-8");
    }
    s_skip_space(&reader);
    if (reader.pos >= reader.end) {
        return s_fail(&reader, CS_EINVAL,
                      "empty: expected a JSON value "
                      "(use FIELD:=null for null, FIELD= for \"\")");
    }
    switch (*reader.pos) {
    case '"':
        rc = s_read_string(&reader, &buf, &buf_len);
        if (rc != CS_OK) {
            return rc;
        }
        if (buf_len > (size_t) CS_VALUE_MAX) {
            free(buf);
            return s_fail(&reader, CS_ELIMIT,
                          "string is %zu bytes, limit "
                          "%u",
                          buf_len, CS_VALUE_MAX);
        }
        parsed = cs_value_strn(buf, buf_len);
        break;
    case '[':
        return s_fail(&reader, CS_EINVAL,
                      "arrays are not supported: a "
                      "field holds one scalar");
    case '{':
        rc = s_read_binary(&reader, &parsed, &buf);
        if (rc != CS_OK) {
            return rc;
        }
        break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        rc = s_read_number(&reader, &parsed);
        if (rc != CS_OK) {
            return rc;
        }
        break;
    default:
        rc = s_read_literal(&reader, &parsed);
        if (rc != CS_OK) {
            return rc;
        }
        break;
    }
    s_skip_space(&reader);
    if (reader.pos != reader.end) {
        free(buf);
        return s_fail(&reader, CS_EINVAL,
                      "unexpected text after the value "
                      "at byte %zu",
                      s_offset(&reader));
    }
    if (parsed.type == CS_VALUE_STR && !cs_utf8_is_valid(buf, buf_len)) {
        free(buf);
        return s_fail(&reader, CS_EINVAL, "string is not valid UTF-8");
    }
    *value = parsed;
    *storage = buf;
    return CS_OK;
}

/* ---------------- scanners for larger readers ---------------- */

int
cs_json_scan_string(const char *text, size_t len, size_t *pos, char *out,
                    size_t *out_len, char *err, size_t err_cap)
{
    assert(text);
    assert(pos);
    assert(*pos < len && text[*pos] == '"');
    assert(out_len);
    s_reader_t reader = { text, text + *pos, text + len, err, err_cap };
    int rc = s_scan_string(&reader, out, out_len);
    *pos = s_offset(&reader);
    return rc;
}

int
cs_json_scan_number(const char *text, size_t len, size_t *pos,
                    cs_value_t *value, cs_json_number_t *kind, char *err,
                    size_t err_cap)
{
    assert(text || len == 0);
    assert(pos);
    assert(*pos <= len);
    assert(kind);
    s_reader_t reader = { text, text + *pos, text + len, err, err_cap };
    int rc = s_scan_number(&reader, value, kind);
    *pos = s_offset(&reader);
    return rc;
}
