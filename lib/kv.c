/* kv.c — hiredis connection management. Every command carries the configured timeout; after a
 * failure the context is dropped and reconnects wait out an exponential backoff. */
#include "kv.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static redisContext *ctx;
static char *host_cfg;
static int port_cfg;
static double next_attempt, backoff;
static void (*on_connect)(redisContext *c);
static long long client_id;

void kv_configure(const char *host, int port)
{
    free(host_cfg);
    host_cfg = strdup(host ? host : config_get("redis.host"));
    port_cfg = port ? port : (int)config_int("redis.port");
}

void kv_on_connect(void (*fn)(redisContext *c))
{
    on_connect = fn;
}

void kv_close(void)
{
    if (ctx)
        redisFree(ctx);
    ctx = NULL;
    client_id = 0;
}

static redisContext *kv_ctx(void)
{
    if (ctx)
        return ctx;
    double t = now_s();
    if (t < next_attempt)
        return NULL;
    if (!host_cfg)
        kv_configure(NULL, 0);
    long ms = config_int("redis.timeout_ms");
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(host_cfg, port_cfg, tv);
    if (c && !c->err) {
        redisSetTimeout(c, tv);
        redisEnableKeepAlive(c);
        char *password = config_secret("redis.password");
        int ok = 1;
        if (password) {
            redisReply *r = redisCommand(c, "AUTH %s", password);
            ok = r && r->type != REDIS_REPLY_ERROR;
            if (r)
                freeReplyObject(r);
            free(password);
        }
        if (ok) {
            redisReply *r = redisCommand(c, "CLIENT ID");
            client_id = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
            if (r)
                freeReplyObject(r);
            ctx = c;
            if (backoff > 0)
                log_info("redis connection restored");
            backoff = 0;
            if (on_connect)
                on_connect(ctx);
            return ctx;
        }
    }
    log_warn("redis unavailable at %s:%d: %s", host_cfg, port_cfg, c ? c->errstr : "out of memory");
    if (c)
        redisFree(c);
    double max = (double)config_int("redis.reconnect_max_ms") / 1000.0;
    backoff = backoff ? backoff * 2 : 0.05;
    if (backoff > max)
        backoff = max;
    next_attempt = t + backoff;
    return NULL;
}

int kv_is_up(void)
{
    return kv_ctx() != NULL;
}

long long kv_client_id(void)
{
    return kv_ctx() ? client_id : 0;
}

static void free_reply(void *r)
{
    freeReplyObject(r);
}

static redisReply *finish(arena *a, redisReply *r, double t0)
{
    if (!r) {
        metrics_redis(now_s() - t0, 0);
        log_warn("redis command failed: %s", ctx ? ctx->errstr : "no connection");
        kv_close();
        return NULL;
    }
    metrics_redis(now_s() - t0, r->type != REDIS_REPLY_ERROR);
    if (a)
        arena_on_cleanup(a, free_reply, r);
    return r;
}

redisReply *kv_cmd(arena *a, const char *fmt, ...)
{
    redisContext *c = kv_ctx();
    if (!c)
        return NULL;
    double t0 = now_s();
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return finish(a, r, t0);
}

redisReply *kv_cmdv(arena *a, int argc, const char **argv, const size_t *lens)
{
    redisContext *c = kv_ctx();
    if (!c)
        return NULL;
    double t0 = now_s();
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    return finish(a, r, t0);
}

redisReply *kv_cmdv_timeout(arena *a, long timeout_ms, int argc, const char **argv, const size_t *lens)
{
    redisContext *c = kv_ctx();
    if (!c)
        return NULL;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisSetTimeout(c, tv);
    double t0 = now_s();
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (r && ctx == c) {
        long ms = config_int("redis.timeout_ms");
        struct timeval dflt = {ms / 1000, (ms % 1000) * 1000};
        redisSetTimeout(c, dflt);
    }
    return finish(a, r, t0);
}

double kv_ping_ms(void)
{
    double t0 = now_s();
    redisReply *r = kv_cmd(NULL, "PING");
    if (!r)
        return -1;
    int ok = r->type != REDIS_REPLY_ERROR;
    freeReplyObject(r);
    return ok ? (now_s() - t0) * 1000.0 : -1;
}
