/* arena.h — request-scoped memory: many small allocations freed in one go, plus cleanups
 * that release foreign objects (PGresult, redisReply, HDF, CSPARSE) when the arena dies. */
#ifndef BCF_ARENA_H
#define BCF_ARENA_H
#include <stddef.h>
#include <stdarg.h>

typedef struct arena_chunk arena_chunk;
typedef struct arena_cleanup arena_cleanup;

typedef struct arena {
    arena_chunk *head;      /* current chunk; older chunks follow */
    arena_cleanup *cleanups;
    size_t chunk_size;
    size_t total;           /* bytes handed out, for limits and metrics */
} arena;

void arena_init(arena *a, size_t chunk_size);
/* Frees everything but keeps the first chunk, so a pooled arena costs no malloc per request. */
void arena_reset(arena *a);
void arena_destroy(arena *a);
void *arena_alloc(arena *a, size_t n);
void *arena_calloc(arena *a, size_t n, size_t size);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap);
/* Registers fn(ptr) to run (last registered first) on reset/destroy. Returns 0 or -1. */
int arena_on_cleanup(arena *a, void (*fn)(void *), void *ptr);
#endif
