/*  alloc_watch - for the tests of decoders of untrusted bytes: the largest
 *  single allocation since a reset, so a test can show that a length bomb
 *  was refused before anything big was allocated. Include it once, in a
 *  test's .c file (it defines malloc and friends).
 *  SPDX-License-Identifier: MIT
 *
 *  Under ASan any single allocation above 256 MiB aborts the test and
 *  s_alloc_largest() says 0; elsewhere (glibc) malloc, calloc and realloc
 *  are replaced to remember the largest request. Other sanitizers
 *  intercept malloc themselves, so there the watch is off too.
 */
#ifndef CS_TEST_ALLOC_WATCH_H
#define CS_TEST_ALLOC_WATCH_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CS_TEST_SANITIZED_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CS_TEST_SANITIZED_MALLOC 1
#endif
#endif

#if defined(CS_TEST_SANITIZED_MALLOC)
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
    return "max_allocation_size_mb=256:allocator_may_return_null=0";
}

static void
s_alloc_watch_reset(void)
{
}

static size_t
s_alloc_largest(void)
{
    return 0; /* the sanitizer enforces the bound itself */
}
#else
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);

static size_t s_largest_request; /* largest size asked for since reset */

static void
s_alloc_note(size_t size)
{
    if (size > s_largest_request) {
        s_largest_request = size;
    }
}

void *
malloc(size_t size)
{
    s_alloc_note(size);
    return __libc_malloc(size);
}

void *
calloc(size_t count, size_t size)
{
    size_t total = 0;
    if (__builtin_mul_overflow(count, size, &total)) {
        total = SIZE_MAX;
    }
    s_alloc_note(total);
    return __libc_calloc(count, size);
}

void *
realloc(void *ptr, size_t size)
{
    s_alloc_note(size);
    return __libc_realloc(ptr, size);
}

void
free(void *ptr)
{
    __libc_free(ptr);
}

static void
s_alloc_watch_reset(void)
{
    s_largest_request = 0;
}

static size_t
s_alloc_largest(void)
{
    return s_largest_request;
}
#endif /* CS_TEST_SANITIZED_MALLOC */

#endif /* CS_TEST_ALLOC_WATCH_H */
