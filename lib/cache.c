/* cache.c — Redis-backed cache with an in-process near cache. Redis client tracking (redirect
 * mode) sends an invalidation for every key this process read once it changes or expires. */
#include "cache.h"
#include "config.h"
#include "kv.h"
#include "log.h"
#include "metrics.h"
#include "db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long cache_ttl(const char *module, const char *name)
{
    char key[160];
    snprintf(key, sizeof key, "cache.ttl.%s.%s", module, name);
    const char *v = config_get(key);
    if (!v) {
        snprintf(key, sizeof key, "cache.ttl.%s", module);
        v = config_get(key);
    }
    long ttl = v ? strtol(v, NULL, 10) : config_int("cache.ttl.default");
    return ttl > 0 ? ttl : 1;
}

static void make_key(char *out, size_t n, const char *module, const char *name, const char *id)
{
    snprintf(out, n, "c:%s:%s:%s", module, name, id ? id : "");
}

/* ---- near cache: open hashing with a bounded entry count ---- */

struct near_entry {
    struct near_entry *next;
    char *key;
    char *value;
    size_t len;
    double expires;
};

#define NEAR_BUCKETS 8192
static struct near_entry *near_tab[NEAR_BUCKETS];
static size_t near_count;
static redisContext *inv;   /* the subscriber connection receiving invalidations */
static int near_on;         /* tracking is active on the main connection */

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 ^ (unsigned char)*s++;
    return h;
}

static void near_free_entry(struct near_entry *e)
{
    free(e->key);
    free(e->value);
    free(e);
}

static void near_flush(void)
{
    for (size_t i = 0; i < NEAR_BUCKETS; i++) {
        struct near_entry *e = near_tab[i];
        while (e) {
            struct near_entry *n = e->next;
            near_free_entry(e);
            e = n;
        }
        near_tab[i] = NULL;
    }
    near_count = 0;
}

static void near_evict(const char *key)
{
    struct near_entry **pp = &near_tab[hash_str(key) % NEAR_BUCKETS];
    while (*pp) {
        if (strcmp((*pp)->key, key) == 0) {
            struct near_entry *e = *pp;
            *pp = e->next;
            near_free_entry(e);
            near_count--;
            return;
        }
        pp = &(*pp)->next;
    }
}

static struct near_entry *near_find(const char *key)
{
    struct near_entry **pp = &near_tab[hash_str(key) % NEAR_BUCKETS];
    double t = 0;
    while (*pp) {
        struct near_entry *e = *pp;
        if (strcmp(e->key, key) == 0) {
            if (!t)
                t = now_s();
            if (e->expires <= t) {
                *pp = e->next;
                near_free_entry(e);
                near_count--;
                return NULL;
            }
            return e;
        }
        pp = &e->next;
    }
    return NULL;
}

static void near_put(const char *key, const char *value, size_t len, double ttl)
{
    if (!near_on || ttl <= 0)
        return;
    near_evict(key);
    if (near_count >= (size_t)config_int("cache.near_max_entries")) {
        /* full: drop one bucket's chain; tracking keeps the rest correct, so any victim is fine */
        static size_t victim;
        for (size_t tries = 0; tries < NEAR_BUCKETS && near_count; tries++) {
            victim = (victim + 1) % NEAR_BUCKETS;
            while (near_tab[victim]) {
                struct near_entry *e = near_tab[victim];
                near_tab[victim] = e->next;
                near_free_entry(e);
                near_count--;
            }
            if (near_count < (size_t)config_int("cache.near_max_entries"))
                break;
        }
    }
    struct near_entry *e = malloc(sizeof(*e));
    if (!e)
        return;
    e->key = strdup(key);
    e->value = malloc(len + 1);
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        free(e);
        return;
    }
    memcpy(e->value, value, len);
    e->value[len] = '\0';
    e->len = len;
    e->expires = now_s() + ttl;
    unsigned long b = hash_str(key) % NEAR_BUCKETS;
    e->next = near_tab[b];
    near_tab[b] = e;
    near_count++;
}

size_t cache_near_size(void)
{
    return near_count;
}

static long long inv_id;

static void tracking_on_connect(redisContext *c)
{
    near_flush();
    near_on = 0;
    if (!inv || !inv_id)
        return;
    redisReply *r = redisCommand(c, "CLIENT TRACKING on REDIRECT %lld", inv_id);
    near_on = r && r->type == REDIS_REPLY_STATUS;
    if (!near_on)
        log_warn("redis client tracking unavailable; near cache off");
    if (r)
        freeReplyObject(r);
}

int cache_near_start(void)
{
    cache_near_stop();
    long ms = config_int("redis.timeout_ms");
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(config_get("redis.host"), (int)config_int("redis.port"), tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);
    char *password = config_secret("redis.password");
    if (password) {
        redisReply *a = redisCommand(c, "AUTH %s", password);
        free(password);
        if (a)
            freeReplyObject(a);
    }
    redisReply *r = redisCommand(c, "CLIENT ID");
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        if (r)
            freeReplyObject(r);
        redisFree(c);
        return -1;
    }
    inv_id = r->integer;
    freeReplyObject(r);
    r = redisCommand(c, "SUBSCRIBE __redis__:invalidate");
    if (!r) {
        redisFree(c);
        return -1;
    }
    freeReplyObject(r);
    inv = c;
    kv_on_connect(tracking_on_connect);
    /* force the main connection to (re)enable tracking toward the new subscriber */
    kv_close();
    return kv_is_up() ? 0 : -1;
}

int cache_near_fd(void)
{
    return inv ? inv->fd : -1;
}

void cache_near_stop(void)
{
    near_flush();
    near_on = 0;
    if (inv)
        redisFree(inv);
    inv = NULL;
    inv_id = 0;
}

void cache_near_drain(void)
{
    if (!inv)
        return;
    /* read what arrived without blocking, then parse every complete message */
    if (redisBufferRead(inv) != REDIS_OK) {
        log_warn("redis invalidation connection lost; near cache off");
        cache_near_stop();
        kv_close(); /* its tracking redirect now points nowhere */
        return;
    }
    void *reply;
    while (redisGetReplyFromReader(inv, &reply) == REDIS_OK && reply) {
        redisReply *r = reply;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]) {
            redisReply *keys = r->element[2];
            if (keys->type == REDIS_REPLY_ARRAY) {
                for (size_t i = 0; i < keys->elements; i++)
                    if (keys->element[i]->type == REDIS_REPLY_STRING)
                        near_evict(keys->element[i]->str);
            } else if (keys->type == REDIS_REPLY_NIL) {
                near_flush(); /* FLUSHALL / FLUSHDB */
            }
        }
        freeReplyObject(r);
    }
}

char *cache_get_raw(arena *a, const char *key, size_t *len, const char *metrics_module)
{
    struct near_entry *e = near_on ? near_find(key) : NULL;
    if (e) {
        if (metrics_module)
            metrics_cache(metrics_module, 1);
        if (len)
            *len = e->len;
        return arena_strndup(a, e->value, e->len);
    }
    redisReply *r = kv_cmd(a, "GET %s", key);
    if (!r || r->type != REDIS_REPLY_STRING) {
        if (metrics_module)
            metrics_cache(metrics_module, 0);
        return NULL;
    }
    if (metrics_module)
        metrics_cache(metrics_module, 1);
    if (near_on) {
        /* never keep a value longer locally than Redis does */
        redisReply *t = kv_cmd(a, "PTTL %s", key);
        double ttl = t && t->type == REDIS_REPLY_INTEGER && t->integer > 0 ? (double)t->integer / 1000.0 : 0;
        near_put(key, r->str, r->len, ttl);
    }
    if (len)
        *len = r->len;
    return arena_strndup(a, r->str, r->len);
}

char *cache_get(arena *a, const char *module, const char *name, const char *id, size_t *len)
{
    if (!config_bool("cache.enabled"))
        return NULL;
    char key[256];
    make_key(key, sizeof key, module, name, id);
    return cache_get_raw(a, key, len, module);
}

int cache_set(const char *module, const char *name, const char *id, const char *value, size_t len,
              const char *const *tags, int ntags)
{
    if (!config_bool("cache.enabled"))
        return -1;
    char key[256];
    make_key(key, sizeof key, module, name, id);
    long ttl = cache_ttl(module, name);
    redisReply *r = kv_cmd(NULL, "SET %s %b EX %ld", key, value, len, ttl);
    if (!r)
        return -1;
    int ok = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    for (int i = 0; ok && i < ntags; i++) {
        char tkey[256];
        snprintf(tkey, sizeof tkey, "ct:%s", tags[i]);
        r = kv_cmd(NULL, "SADD %s %s", tkey, key);
        if (r)
            freeReplyObject(r);
        /* the tag set lives as long as its longest member could */
        r = kv_cmd(NULL, "EXPIRE %s %ld GT", tkey, ttl);
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
            freeReplyObject(r);
            r = kv_cmd(NULL, "EXPIRE %s %ld NX", tkey, ttl);
        }
        if (r)
            freeReplyObject(r);
    }
    return ok ? 0 : -1;
}

int cache_del(const char *module, const char *name, const char *id)
{
    char key[256];
    make_key(key, sizeof key, module, name, id);
    near_evict(key);
    redisReply *r = kv_cmd(NULL, "DEL %s", key);
    if (!r)
        return -1;
    freeReplyObject(r);
    return 0;
}

long cache_invalidate_tag(const char *tag)
{
    static const char *script =
        "local ks = redis.call('SMEMBERS', KEYS[1]) "
        "for i = 1, #ks, 500 do redis.call('DEL', unpack(ks, i, math.min(i + 499, #ks))) end "
        "redis.call('DEL', KEYS[1]) return #ks";
    char tkey[256];
    snprintf(tkey, sizeof tkey, "ct:%s", tag);
    redisReply *r = kv_cmd(NULL, "EVAL %s 1 %s", script, tkey);
    if (!r)
        return -1;
    long n = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -1;
    freeReplyObject(r);
    return n;
}
