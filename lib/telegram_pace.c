/* telegram_pace.c — spacing of Bot API sends in Redis: each key holds the earliest microsecond
 * (Redis TIME) of the next send, so the limits hold as a strict spacing across processes. */
#include "telegram_pace.h"
#include "config.h"
#include "kv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS[1] overall, KEYS[2] the chat's (or the overall key again); ARGV: spacing in µs of each.
 * Strict spacing rather than a burst budget: any window of one second then holds at most the
 * rate, which is what Telegram counts. */
static const char reserve_script[] =
    "local t = redis.call('TIME') local now = t[1] * 1000000 + t[2] "
    "local g = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "local c = tonumber(redis.call('GET', KEYS[2]) or '0') "
    "local wait = math.max(g - now, c - now, 0) "
    "if wait > 0 then return wait end "
    "redis.call('SET', KEYS[1], string.format('%.0f', now + tonumber(ARGV[1])), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 1000) "
    "if KEYS[2] ~= KEYS[1] then "
    "redis.call('SET', KEYS[2], string.format('%.0f', now + tonumber(ARGV[2])), 'PX', math.floor(tonumber(ARGV[2]) / 1000) + 1000) end "
    "return 0";

/* KEYS[1] pushed to now + ARGV[1] µs unless already later. */
static const char hold_script[] =
    "local t = redis.call('TIME') local now = t[1] * 1000000 + t[2] "
    "local until_us = now + tonumber(ARGV[1]) "
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if cur < until_us then redis.call('SET', KEYS[1], string.format('%.0f', until_us), 'PX', "
    "math.floor(tonumber(ARGV[1]) / 1000) + 1000) end return 0";

static long long spacing_us(const char *key)
{
    long per_s = config_int(key);
    return per_s > 0 ? (1000000LL + per_s - 1) / per_s : 0;
}

static void chat_key(char *out, size_t n, long long chat_id)
{
    if (chat_id)
        snprintf(out, n, "bcf:tg:pace:chat:%lld", chat_id);
    else
        snprintf(out, n, "bcf:tg:pace:all");
}

long long telegram_pace_reserve(long long chat_id)
{
    char all[32], chat[64], g[24], c[24];
    chat_key(all, sizeof all, 0);
    chat_key(chat, sizeof chat, chat_id);
    snprintf(g, sizeof g, "%lld", spacing_us("telegram.rate_global_per_s"));
    snprintf(c, sizeof c, "%lld", spacing_us("telegram.rate_chat_per_s"));
    redisReply *r = kv_cmd(NULL, "EVAL %s 2 %s %s %s %s", reserve_script, all, chat, g, c);
    if (!r)
        return -1;
    long long rc = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return rc;
}

int telegram_pace_hold(long long chat_id, long retry_after_s)
{
    if (retry_after_s <= 0)
        return 0;
    char key[64], us[24];
    chat_key(key, sizeof key, chat_id);
    snprintf(us, sizeof us, "%lld", (long long)retry_after_s * 1000000LL);
    redisReply *r = kv_cmd(NULL, "EVAL %s 1 %s %s", hold_script, key, us);
    if (!r)
        return -1;
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    freeReplyObject(r);
    return rc;
}
