/*  cs_utf8 - UTF-8 validation (cs_utf8_is_valid and cs_utf8_valid_prefix,
 *  declared in cs_value.h).
 *  SPDX-License-Identifier: MIT
 *
 *  Every byte a seed reads is checked once or twice (the whole file for
 *  --encoding auto, then each row), so this is hot: on x86-64 machines
 *  with AVX2, inputs of 64 bytes or more are checked 32 bytes at a time
 *  with table lookups, after Keiser and Lemire, "Validating UTF-8 in less
 *  than one instruction per byte" (Software: Practice and Experience,
 *  2021). Elsewhere, and for short strings, a byte loop that skips ASCII
 *  in blocks. Both accept exactly the same bytes (test_cs_value checks
 *  them against each other and against a plain decoder).
 */
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define S_AVX2 1
#endif

#include "crdt/cs_value.h"

#define S_SIMD_MIN 64u /* shorter inputs take the byte loop */

size_t
cs_utf8_ascii_span(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;
#ifdef __SSE2__
    for (; len - i >= 16; i += 16) {
        __m128i block =
            _mm_loadu_si128((const __m128i *) (const void *) (p + i));
        if (_mm_movemask_epi8(block) != 0) {
            break;
        }
    }
#endif
    for (; len - i >= 8; i += 8) {
        uint64_t word;
        memcpy(&word, p + i, sizeof word);
        if ((word & UINT64_C(0x8080808080808080)) != 0) {
            break;
        }
    }
    while (i < len && p[i] < 0x80) {
        i++;
    }
    return i;
}

size_t
cs_utf8_valid_prefix(const char *s, size_t len, bool *cut)
{
    const unsigned char *p = (const unsigned char *) s;
    *cut = false;
    size_t i = 0;
    while (true) {
        /* CRM text is mostly ASCII: skip it, in blocks where it can */
        i += cs_utf8_ascii_span(s + i, len - i);
        if (i == len) {
            return len;
        }
        unsigned lead = p[i];
        size_t more;
        unsigned low = 0x80, high = 0xBF; /* range of the second byte */
        if (lead >= 0xC2 && lead <= 0xDF) {
            more = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            more = 2;
            low = lead == 0xE0 ? 0xA0 : 0x80;  /* overlong */
            high = lead == 0xED ? 0x9F : 0xBF; /* surrogates */
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            more = 3;
            low = lead == 0xF0 ? 0x90 : 0x80;  /* overlong */
            high = lead == 0xF4 ? 0x8F : 0xBF; /* over U+10FFFF */
        } else {
            return i;
        }
        for (size_t k = 1; k <= more; k++) {
            if (i + k >= len) {
                *cut = true;
                return i;
            }
            unsigned c = p[i + k];
            if (k == 1 ? c < low || c > high : (c & 0xC0) != 0x80) {
                return i;
            }
        }
        i += more + 1;
    }
}

#ifdef S_AVX2

/*  Every error is visible in a pair of bytes (the first two bytes of a
 *  character, or a byte and the one before it). Three 16-entry tables,
 *  indexed by the high and low nibbles of the byte before and the high
 *  nibble of the byte, give a bit for each error the pair may show; their
 *  AND is the errors it does show. A continuation byte after a
 *  continuation byte (S_TWO_CONTS) is right only as the third or fourth
 *  byte of a character, which the bytes two and three back decide. */
#define S_TOO_SHORT  0x01 /* a lead or ASCII where a continuation belongs */
#define S_TOO_LONG   0x02 /* a continuation after ASCII */
#define S_OVERLONG_3 0x04 /* E0 80..9F */
#define S_TOO_LARGE  0x08 /* F4 90..BF, or F5..FF as a lead */
#define S_SURROGATE  0x10 /* ED A0..BF */
#define S_OVERLONG_2 0x20 /* C0 or C1 as a lead */
#define S_LARGE_1000 0x40 /* F5..FF 80..8F */
#define S_OVERLONG_4 0x40 /* F0 80..8F */
#define S_TWO_CONTS  0x80 /* a continuation after a continuation */
#define S_CARRY      (S_TOO_SHORT | S_TOO_LONG | S_TWO_CONTS)

/*  A 16-byte table in both halves of a register, for _mm256_shuffle_epi8. */
#define S_TABLE(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)      \
    _mm256_setr_epi8((char) (a), (char) (b), (char) (c), (char) (d), \
                     (char) (e), (char) (f), (char) (g), (char) (h), \
                     (char) (i), (char) (j), (char) (k), (char) (l), \
                     (char) (m), (char) (n), (char) (o), (char) (p), \
                     (char) (a), (char) (b), (char) (c), (char) (d), \
                     (char) (e), (char) (f), (char) (g), (char) (h), \
                     (char) (i), (char) (j), (char) (k), (char) (l), \
                     (char) (m), (char) (n), (char) (o), (char) (p))

typedef struct {
    __m256i prev;       /* the block before (zeroes at first) */
    __m256i incomplete; /* non-zero where it ended inside a character */
    __m256i error;      /* non-zero once anything was wrong */
} s_state_t;

__attribute__((target("avx2"))) static inline __m256i
s_high_nibbles(__m256i v)
{
    return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
}

__attribute__((target("avx2"))) static inline void
s_block(s_state_t *st, __m256i in)
{
    if (_mm256_movemask_epi8(in) == 0) {
        /* ASCII: right unless the block before left a character open */
        st->error = _mm256_or_si256(st->error, st->incomplete);
        st->incomplete = _mm256_setzero_si256();
        st->prev = in;
        return;
    }
    const __m256i byte_1_high =
        S_TABLE(S_TOO_LONG, S_TOO_LONG, S_TOO_LONG, S_TOO_LONG, S_TOO_LONG,
                S_TOO_LONG, S_TOO_LONG, S_TOO_LONG, S_TWO_CONTS, S_TWO_CONTS,
                S_TWO_CONTS, S_TWO_CONTS, S_TOO_SHORT | S_OVERLONG_2,
                S_TOO_SHORT, S_TOO_SHORT | S_OVERLONG_3 | S_SURROGATE,
                S_TOO_SHORT | S_TOO_LARGE | S_LARGE_1000 | S_OVERLONG_4);
    const __m256i byte_1_low =
        S_TABLE(S_CARRY | S_OVERLONG_3 | S_OVERLONG_2 | S_OVERLONG_4,
                S_CARRY | S_OVERLONG_2, S_CARRY, S_CARRY, S_CARRY | S_TOO_LARGE,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000 | S_SURROGATE,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000,
                S_CARRY | S_TOO_LARGE | S_LARGE_1000);
    const __m256i byte_2_high = S_TABLE(
        S_TOO_SHORT, S_TOO_SHORT, S_TOO_SHORT, S_TOO_SHORT, S_TOO_SHORT,
        S_TOO_SHORT, S_TOO_SHORT, S_TOO_SHORT,
        S_TOO_LONG | S_OVERLONG_2 | S_TWO_CONTS | S_OVERLONG_3 | S_LARGE_1000 |
            S_OVERLONG_4,
        S_TOO_LONG | S_OVERLONG_2 | S_TWO_CONTS | S_OVERLONG_3 | S_TOO_LARGE,
        S_TOO_LONG | S_OVERLONG_2 | S_TWO_CONTS | S_SURROGATE | S_TOO_LARGE,
        S_TOO_LONG | S_OVERLONG_2 | S_TWO_CONTS | S_SURROGATE | S_TOO_LARGE,
        S_TOO_SHORT, S_TOO_SHORT, S_TOO_SHORT, S_TOO_SHORT);
    /* the bytes 1, 2 and 3 back, across the two blocks */
    __m256i joined = _mm256_permute2x128_si256(st->prev, in, 0x21);
    __m256i prev1 = _mm256_alignr_epi8(in, joined, 15);
    __m256i prev2 = _mm256_alignr_epi8(in, joined, 14);
    __m256i prev3 = _mm256_alignr_epi8(in, joined, 13);
    __m256i shown = _mm256_and_si256(
        _mm256_and_si256(
            _mm256_shuffle_epi8(byte_1_high, s_high_nibbles(prev1)),
            _mm256_shuffle_epi8(
                byte_1_low, _mm256_and_si256(prev1, _mm256_set1_epi8(0x0F)))),
        _mm256_shuffle_epi8(byte_2_high, s_high_nibbles(in)));
    /* 0x80 where the byte 2 back is E0..FF or the byte 3 back F0..FF */
    __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8((char) 0x60));
    __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8((char) 0x70));
    __m256i must_continue = _mm256_and_si256(_mm256_or_si256(third, fourth),
                                             _mm256_set1_epi8((char) 0x80));
    st->error =
        _mm256_or_si256(st->error, _mm256_xor_si256(must_continue, shown));
    /* a character is open at the end if the last byte is a lead, the one
     * before leads 3 or 4 bytes, or the one before that leads 4 */
    const __m256i last_max =
        _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                         -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                         -1, (char) 0xEF, (char) 0xDF, (char) 0xBF);
    st->incomplete = _mm256_subs_epu8(in, last_max);
    st->prev = in;
}

__attribute__((target("avx2"))) static bool
s_valid_avx2(const unsigned char *p, size_t len)
{
    s_state_t st = { _mm256_setzero_si256(), _mm256_setzero_si256(),
                     _mm256_setzero_si256() };
    size_t i = 0;
    for (; len - i >= 32; i += 32) {
        s_block(&st,
                _mm256_loadu_si256((const __m256i *) (const void *) (p + i)));
    }
    if (i < len) {
        unsigned char tail[32] = { 0 }; /* ASCII after the end */
        memcpy(tail, p + i, len - i);
        s_block(&st, _mm256_loadu_si256((const __m256i *) (const void *) tail));
    }
    __m256i error = _mm256_or_si256(st.error, st.incomplete);
    return _mm256_testz_si256(error, error) != 0;
}

#endif /* S_AVX2 */

bool
cs_utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
#ifdef S_AVX2
    if (len >= S_SIMD_MIN && __builtin_cpu_supports("avx2")) {
        return s_valid_avx2(p, len);
    }
#endif
    bool cut;
    return cs_utf8_valid_prefix(s, len, &cut) == len;
}
