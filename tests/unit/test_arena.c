/* test_arena.c — unit tests of lib/arena.c: alignment, chunking, oversized allocations, string
 * helpers, cleanup order on reset/destroy, memory reuse after reset and size-overflow guards. */
#include "unit.h"
#include <stddef.h>
#include <stdint.h>
#include "arena.h"

/* Huge but non-overflowing requests must come back as NULL, not abort the sanitized process. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

#define ALIGN ((uintptr_t)_Alignof(max_align_t))

START_TEST(test_alignment)
{
    arena a;
    arena_init(&a, 0);
    for (size_t n = 0; n < 200; n++) {
        void *p = arena_alloc(&a, n);
        ck_assert_ptr_nonnull(p);
        ck_assert_msg(((uintptr_t)p % ALIGN) == 0, "alloc(%zu) = %p not aligned to %zu", n, p, (size_t)ALIGN);
    }
    /* the same after the first chunk filled up and after oversized allocations */
    arena b;
    arena_init(&b, 256);
    for (size_t n = 1; n < 2000; n += 37) {
        void *p = arena_alloc(&b, n);
        ck_assert_ptr_nonnull(p);
        ck_assert_msg(((uintptr_t)p % ALIGN) == 0, "alloc(%zu) = %p not aligned", n, p);
        memset(p, 0xab, n);
    }
    char *s = arena_strdup(&b, "x");
    ck_assert_msg(((uintptr_t)s % ALIGN) == 0, "strdup not aligned");
    arena_destroy(&a);
    arena_destroy(&b);
}
END_TEST

START_TEST(test_zero_size)
{
    arena a;
    arena_init(&a, 0);
    void *p = arena_alloc(&a, 0), *q = arena_alloc(&a, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_ne(p, q);
    arena_destroy(&a);
}
END_TEST

START_TEST(test_many_across_chunks)
{
    enum { N = 5000, SZ = 24 };
    arena a;
    arena_init(&a, 512);
    static unsigned char *ptrs[N];
    for (int i = 0; i < N; i++) {
        ptrs[i] = arena_alloc(&a, SZ);
        ck_assert_ptr_nonnull(ptrs[i]);
        memset(ptrs[i], i & 0xff, SZ);
    }
    /* nothing overlapped: every block still holds its own pattern */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < SZ; k++)
            ck_assert_msg(ptrs[i][k] == (unsigned char)(i & 0xff), "block %d byte %d overwritten", i, k);
    ck_assert_uint_ge(a.total, (size_t)N * SZ);
    arena_destroy(&a);
    ck_assert_ptr_null(a.head);
    ck_assert_uint_eq(a.total, 0);
}
END_TEST

START_TEST(test_calloc_zeroes)
{
    arena a;
    arena_init(&a, 1024);
    unsigned char *dirty = arena_alloc(&a, 512);
    memset(dirty, 0xff, 512);
    arena_reset(&a);
    unsigned char *z = arena_calloc(&a, 128, 4);
    ck_assert_ptr_nonnull(z);
    for (int i = 0; i < 512; i++)
        ck_assert_int_eq(z[i], 0);
    /* n * size overflowing size_t is refused */
    ck_assert_ptr_null(arena_calloc(&a, SIZE_MAX / 2, 4));
    ck_assert_ptr_null(arena_calloc(&a, SIZE_MAX, SIZE_MAX));
    ck_assert_ptr_nonnull(arena_calloc(&a, 0, 16));
    arena_destroy(&a);
}
END_TEST

START_TEST(test_oversized)
{
    arena a;
    arena_init(&a, 1024);
    char *small1 = arena_alloc(&a, 16);
    ck_assert_ptr_nonnull(small1);
    /* far larger than a chunk: gets a block of its own, fully writable */
    char *big = arena_alloc(&a, 100000);
    ck_assert_ptr_nonnull(big);
    memset(big, 'b', 100000);
    /* the normal chunk keeps serving small allocations right after the first one */
    char *small2 = arena_alloc(&a, 16);
    ck_assert_ptr_nonnull(small2);
    ck_assert_ptr_eq(small2, small1 + 16);
    /* a second big one and a chunk-sized one */
    char *big2 = arena_alloc(&a, 5000);
    memset(big2, 'c', 5000);
    char *exact = arena_alloc(&a, 1024);
    memset(exact, 'd', 1024);
    for (int i = 0; i < 100000; i++)
        ck_assert_int_eq(big[i], 'b');
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq(big2[i], 'c');
    ck_assert_uint_ge(a.total, 100000 + 5000 + 1024 + 32);
    /* an oversized allocation as the very first one */
    arena b;
    arena_init(&b, 1024);
    char *first = arena_alloc(&b, 4096);
    memset(first, 'e', 4096);
    char *after = arena_alloc(&b, 8);
    ck_assert_ptr_nonnull(after);
    memset(after, 'f', 8);
    ck_assert_int_eq(first[4095], 'e');
    arena_destroy(&a);
    arena_destroy(&b);
}
END_TEST

START_TEST(test_huge_returns_null)
{
    arena a;
    arena_init(&a, 0);
    ck_assert_ptr_null(arena_alloc(&a, SIZE_MAX));
    ck_assert_ptr_null(arena_alloc(&a, SIZE_MAX - 8));
    /* not an overflow, just more than malloc can give */
    ck_assert_ptr_null(arena_alloc(&a, SIZE_MAX / 2));
    /* the arena is still usable afterwards */
    char *s = arena_strdup(&a, "still fine");
    ck_assert_str_eq(s, "still fine");
    arena_destroy(&a);
}
END_TEST

/* Regression (fixed; lib/arena.c, arena_alloc/chunk_new): the overflow guard only checks the rounding of n to
 * 16 bytes, not sizeof(arena_chunk) + need in chunk_new(). For n = SIZE_MAX - 20, need becomes
 * SIZE_MAX - 15, malloc(32 + need) wraps to malloc(16), and chunk_new writes the header past it
 * (heap overflow); without ASan the caller gets a 16-byte block it believes is ~2^64 bytes. */
START_TEST(test_size_overflow_in_chunk_header)
{
    arena a;
    arena_init(&a, 0);
    ck_assert_ptr_null(arena_alloc(&a, SIZE_MAX - 20));
    ck_assert_ptr_null(arena_alloc(&a, SIZE_MAX - 40));
    ck_assert_ptr_null(arena_strndup(&a, "x", SIZE_MAX - 20));
    arena_destroy(&a);
}
END_TEST

START_TEST(test_strings)
{
    arena a;
    arena_init(&a, 64);
    ck_assert_ptr_null(arena_strdup(&a, NULL));
    char *s = arena_strdup(&a, "hello");
    ck_assert_str_eq(s, "hello");
    char *e = arena_strdup(&a, "");
    ck_assert_str_eq(e, "");
    char *n = arena_strndup(&a, "hello world", 5);
    ck_assert_str_eq(n, "hello");
    /* strndup copies exactly n bytes, even past an embedded NUL */
    char *z = arena_strndup(&a, "ab\0cd", 5);
    ck_assert_int_eq(memcmp(z, "ab\0cd", 6), 0);
    char *p = arena_printf(&a, "%s-%d-%05.1f", "x", 42, 3.14159);
    ck_assert_str_eq(p, "x-42-003.1");
    /* longer than a chunk */
    char *lng = arena_printf(&a, "%0*d", 3000, 7);
    ck_assert_uint_eq(strlen(lng), 3000);
    ck_assert_int_eq(lng[0], '0');
    ck_assert_int_eq(lng[2999], '7');
    char *empty = arena_printf(&a, "%s", "");
    ck_assert_str_eq(empty, "");
    /* the earlier strings survived later chunk allocations */
    ck_assert_str_eq(s, "hello");
    ck_assert_str_eq(n, "hello");
    arena_destroy(&a);
}
END_TEST

static char order[64];
static size_t n_order;
static void record(void *p)
{
    if (n_order < sizeof order - 1)
        order[n_order++] = *(const char *)p;
    order[n_order] = '\0';
}
static void free_cleanup(void *p)
{
    free(p);
}

START_TEST(test_cleanups_reverse_on_reset_and_destroy)
{
    static const char c1 = '1', c2 = '2', c3 = '3', c4 = '4', c5 = '5';
    arena a;
    arena_init(&a, 128);
    n_order = 0;
    order[0] = '\0';
    ck_assert_int_eq(arena_on_cleanup(&a, record, (void *)&c1), 0);
    ck_assert_int_eq(arena_on_cleanup(&a, record, (void *)&c2), 0);
    /* cleanups registered across several chunks */
    for (int i = 0; i < 50; i++)
        arena_alloc(&a, 40);
    ck_assert_int_eq(arena_on_cleanup(&a, record, (void *)&c3), 0);
    ck_assert_str_eq(order, "");
    arena_reset(&a);
    ck_assert_str_eq(order, "321");
    /* they ran once: a second reset runs nothing */
    arena_reset(&a);
    ck_assert_str_eq(order, "321");
    ck_assert_int_eq(arena_on_cleanup(&a, record, (void *)&c4), 0);
    ck_assert_int_eq(arena_on_cleanup(&a, record, (void *)&c5), 0);
    /* a cleanup that frees a foreign object (as PGresult/HDF would be) */
    ck_assert_int_eq(arena_on_cleanup(&a, free_cleanup, malloc(100)), 0);
    arena_destroy(&a);
    ck_assert_str_eq(order, "32154");
    /* destroy of a destroyed arena is harmless */
    arena_destroy(&a);
    ck_assert_str_eq(order, "32154");
}
END_TEST

START_TEST(test_reset_reuses_memory)
{
    arena a;
    arena_init(&a, 1024);
    char *p1 = arena_alloc(&a, 64);
    memset(p1, 'x', 64);
    ck_assert_uint_gt(a.total, 0);
    arena_reset(&a);
    ck_assert_uint_eq(a.total, 0);
    ck_assert_ptr_nonnull(a.head);
    char *p2 = arena_alloc(&a, 64);
    ck_assert_ptr_eq(p1, p2);
    /* after filling many chunks, reset keeps one and the next request starts in it */
    for (int i = 0; i < 200; i++)
        arena_alloc(&a, 100);
    arena_reset(&a);
    ck_assert_ptr_nonnull(a.head);
    char *p3 = arena_alloc(&a, 8);
    ck_assert_ptr_eq(p1, p3);
    /* a pooled arena over many "requests" */
    arena_reset(&a);
    for (int r = 0; r < 100; r++) {
        char *s = arena_printf(&a, "request %d", r);
        ck_assert_ptr_eq(s, p1);
        arena_reset(&a);
    }
    arena_destroy(&a);
}
END_TEST

/* Regression (fixed; lib/arena.c): arena.h promises reset "keeps the first chunk, so a pooled arena costs no
 * malloc per request". When the arena has a single normal chunk and an oversized allocation
 * comes, arena_alloc links the big chunk behind it (big->next = c->next; c->next = big), so the
 * big chunk becomes the last one; arena_reset keeps only the last chunk and only if it is
 * normal-sized, so both are freed and the next request mallocs a new chunk. Any request with one
 * oversized allocation (e.g. url_decode of a form body > chunk_size/4) drops the pooled chunk. */
START_TEST(test_reset_keeps_first_chunk_after_oversized)
{
    arena a;
    arena_init(&a, 1024);
    char *p1 = arena_alloc(&a, 64);
    char *big = arena_alloc(&a, 8192);
    ck_assert_ptr_nonnull(big);
    arena_reset(&a);
    ck_assert_msg(a.head != NULL, "arena_reset dropped the normal chunk after an oversized allocation");
    char *p2 = arena_alloc(&a, 64);
    ck_assert_ptr_eq(p1, p2);
    arena_destroy(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("alloc");
    tcase_add_test(tc, test_alignment);
    tcase_add_test(tc, test_zero_size);
    tcase_add_test(tc, test_many_across_chunks);
    tcase_add_test(tc, test_calloc_zeroes);
    tcase_add_test(tc, test_oversized);
    tcase_add_test(tc, test_huge_returns_null);
    tcase_add_test(tc, test_strings);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_add_test(tc, test_cleanups_reverse_on_reset_and_destroy);
    tcase_add_test(tc, test_reset_reuses_memory);
    suite_add_tcase(s, tc);
    tc = unit_regressions_tcase();
    tcase_add_test(tc, test_size_overflow_in_chunk_header);
    tcase_add_test(tc, test_reset_keeps_first_chunk_after_oversized);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
