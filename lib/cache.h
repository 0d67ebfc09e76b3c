/* cache.h — the one cache API: values in Redis under a per-module TTL policy, tag invalidation,
 * hit/miss counters per module, and a per-process near cache kept coherent by Redis tracking. */
#ifndef BCF_CACHE_H
#define BCF_CACHE_H
#include <stddef.h>
#include "arena.h"

/* TTL in seconds for module.name: cache.ttl.<module>.<name>, else cache.ttl.<module>, else default. */
long cache_ttl(const char *module, const char *name);
/* Returns an arena copy of the value (NUL-terminated) or NULL on a miss or when Redis is down. */
char *cache_get(arena *a, const char *module, const char *name, const char *id, size_t *len);
/* Stores value with the policy TTL; tags (may be NULL) let cache_invalidate_tag drop it later.
 * Returns 0, or -1 when Redis is unavailable (the caller carries on uncached). */
int cache_set(const char *module, const char *name, const char *id, const char *value, size_t len,
              const char *const *tags, int ntags);
int cache_del(const char *module, const char *name, const char *id);
/* Deletes every key stored with tag; returns how many, or -1 when Redis is unavailable. */
long cache_invalidate_tag(const char *tag);

/* Near cache (FastCGI workers only): a second Redis connection receives tracking invalidations.
 * cache_near_start connects it; the event loop polls cache_near_fd() and calls
 * cache_near_drain() when it is readable. Without it, every get goes to Redis. */
int cache_near_start(void);
int cache_near_fd(void);
void cache_near_drain(void);
void cache_near_stop(void);
size_t cache_near_size(void);
/* Generic near-cached GET of a raw Redis key (sessions use it). */
char *cache_get_raw(arena *a, const char *key, size_t *len, const char *metrics_module);
#endif
