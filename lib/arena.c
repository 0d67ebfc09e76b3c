/* arena.c — chunked bump allocator with cleanup hooks; one arena per request.
 * Large requests get a chunk of their own so a big body never wastes a normal chunk. */
#include "arena.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct arena_cleanup {
    arena_cleanup *next;
    void (*fn)(void *);
    void *ptr;
};

#define ARENA_ALIGN 16

static arena_chunk *chunk_new(size_t size)
{
    arena_chunk *c = malloc(sizeof(*c) + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

void arena_init(arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->cleanups = NULL;
    a->chunk_size = chunk_size ? chunk_size : 16384;
    a->total = 0;
}

static void run_cleanups(arena *a)
{
    arena_cleanup *c = a->cleanups;
    a->cleanups = NULL;
    while (c) {
        arena_cleanup *next = c->next;
        c->fn(c->ptr);
        c = next; /* the node itself lives in the arena */
    }
}

void arena_reset(arena *a)
{
    run_cleanups(a);
    /* keep the oldest normal-sized chunk, wherever oversized ones were linked around it */
    arena_chunk *keep = NULL;
    for (arena_chunk *c = a->head; c; c = c->next)
        if (c->size == a->chunk_size)
            keep = c;
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        if (c != keep)
            free(c);
        c = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->total = 0;
}

void arena_destroy(arena *a)
{
    run_cleanups(a);
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *arena_alloc(arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n || need > SIZE_MAX - sizeof(arena_chunk))
        return NULL; /* overflow, here or in the chunk header */
    arena_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        if (need > a->chunk_size / 4) {
            /* oversized: own chunk, linked behind the current one so the head keeps serving */
            arena_chunk *big = chunk_new(need);
            if (!big)
                return NULL;
            big->used = need;
            if (c) {
                big->next = c->next;
                c->next = big;
            } else {
                a->head = big;
            }
            a->total += need;
            return big->data;
        }
        c = chunk_new(a->chunk_size);
        if (!c)
            return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    return p;
}

void *arena_calloc(arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

int arena_on_cleanup(arena *a, void (*fn)(void *), void *ptr)
{
    arena_cleanup *c = arena_alloc(a, sizeof(*c));
    if (!c)
        return -1;
    c->fn = fn;
    c->ptr = ptr;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}
