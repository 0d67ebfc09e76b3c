/* ratelimit.c — policies from config ("10/min") and the GCRA step: one Lua script run atomically
 * by Redis with Redis's own clock, so every process and host draws on the same budget per key. */
#include "ratelimit.h"
#include "config.h"
#include "kv.h"
#include "log.h"
#include "metrics.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* KEYS[1] = rl:<key>; ARGV[1] = emission interval T, ARGV[2] = burst tolerance (the period),
 * both in microseconds; ARGV[3] = how many requests to take at once (a lease, below; 1 = this
 * request). The stored value is the theoretical arrival time (TAT). A request is allowed when
 * max(TAT, now) + T - now <= period: `limit` requests at once, then one per T. The reply is
 * {granted (0 = refused), retry_after_ms, remaining}; fewer than asked are granted near the limit.
 * Numbers are Lua doubles; microsecond epochs (~2^51) are exact, and the TAT is written with
 * %.0f because tostring() would round it to 14 digits. Redis >= 5 replicates script effects,
 * which is what makes TIME usable here; older servers need replicate_commands first. */
static const char rl_script[] =
    "if redis.replicate_commands then pcall(redis.replicate_commands) end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local T = tonumber(ARGV[1])\n"
    "local tau = tonumber(ARGV[2])\n"
    "local want = tonumber(ARGV[3] or '1')\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "if tat < now then tat = now end\n"
    "local free = math.floor((tau - (tat - now)) / T)\n"
    "if free < 1 then\n"
    "  return {0, math.ceil((tat + T - now - tau) / 1000), 0}\n"
    "end\n"
    "local n = math.min(want, free)\n"
    "local new_tat = tat + n * T\n"
    "local ahead = new_tat - now\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', math.ceil(ahead / 1000) + 1))\n"
    "return {n, 0, free - n}\n";

/* Leases: when a limit allows more than RL_LEASE_RATE requests a second, a process reserves up to
 * RL_LEASE_MAX of them in one script call and spends them locally for at most RL_LEASE_US. The
 * budget is still never exceeded (tokens are taken in Redis before they are used; unused ones
 * lapse), and limits a person could reach (100/min, 10/h) keep one exact call per request. A
 * synchronous round trip per request would otherwise cap a worker at one request per RTT. */
#define RL_LEASE_RATE 100
#define RL_LEASE_MAX 64
#define RL_LEASE_US 1000000LL
#define RL_LEASE_SLOTS 256

struct lease {
    char key[160];
    long left;
    long long until_us;
};
static struct lease leases[RL_LEASE_SLOTS];

static long long mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static struct lease *lease_slot(const char *key)
{
    unsigned h = 2166136261u;
    for (const char *c = key; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    return &leases[h % RL_LEASE_SLOTS];
}

static char script_sha[48];
static long long script_client; /* the connection the script was loaded on; 0 = not loaded */

int rl_parse(const char *text, rl_policy *out)
{
    static const struct {
        const char *name;
        long seconds;
    } units[] = {{"s", 1},    {"sec", 1},     {"second", 1}, {"min", 60},   {"minute", 60},
                 {"h", 3600}, {"hour", 3600}, {"d", 86400},  {"day", 86400}};
    if (!text || !out)
        return -1;
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        n--;
    if (n == 3 && strncasecmp(text, "off", 3) == 0) {
        out->limit = 0;
        out->period_s = 0;
        return 0;
    }
    if (!isdigit((unsigned char)*text))
        return -1;
    errno = 0;
    char *end;
    long limit = strtol(text, &end, 10);
    /* far above any real budget; a sub-microsecond interval is clamped to 1 us in rl_check */
    if (errno || limit < 1 || limit > 1000000000L)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    if (*end != '/')
        return -1;
    end++;
    while (isspace((unsigned char)*end))
        end++;
    size_t ulen = (size_t)(text + n - end);
    if (ulen == 0 || ulen > 8)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == ulen && strncasecmp(end, units[i].name, ulen) == 0) {
            out->limit = limit;
            out->period_s = units[i].seconds;
            return 0;
        }
    }
    return -1;
}

/* Keys already warned about, so a bad value is logged once per process, not per request. */
static int warn_once(const char *key)
{
    static char warned[16][128];
    static int n_warned;
    for (int i = 0; i < n_warned; i++)
        if (strcmp(warned[i], key) == 0)
            return 0;
    if (n_warned < (int)(sizeof warned / sizeof warned[0]))
        snprintf(warned[n_warned++], sizeof warned[0], "%s", key);
    return 1;
}

rl_policy rl_policy_for(const char *name)
{
    rl_policy p = {0, 0};
    if (!name || !config_bool("ratelimit.enabled"))
        return p;
    char key[128];
    if (snprintf(key, sizeof key, "ratelimit.%s", name) >= (int)sizeof key)
        return p;
    const char *v = config_get(key);
    if (!v)
        return p;
    if (rl_parse(v, &p) < 0) {
        if (warn_once(key))
            log_warn("config %s = '%s' is not a rate such as 10/min; that limit is off", key, v);
        p.limit = 0;
        p.period_s = 0;
    }
    return p;
}

int rl_fail_closed(const char *action)
{
    const char *list = config_get("ratelimit.fail_closed");
    if (!action || !*action || !list)
        return 0;
    size_t n = strlen(action);
    for (const char *p = list; *p;) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && isspace((unsigned char)t[-1]))
            t--;
        if ((size_t)(t - p) == n && strncmp(p, action, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* SCRIPT LOAD on a connection that has not seen the script yet (a reconnect may reach a
 * restarted Redis whose script cache is empty). Returns 0 or -1. */
static int load_script(void)
{
    long long id = kv_client_id();
    if (id == 0)
        return -1;
    if (id == script_client && script_sha[0])
        return 0;
    redisReply *r = kv_cmd(NULL, "SCRIPT LOAD %s", rl_script);
    if (!r)
        return -1;
    int rc = -1;
    if (r->type == REDIS_REPLY_STRING && r->len < sizeof script_sha) {
        memcpy(script_sha, r->str, r->len);
        script_sha[r->len] = '\0';
        script_client = id;
        rc = 0;
    } else {
        log_warn("rate limiter: SCRIPT LOAD failed: %s", r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
    }
    freeReplyObject(r);
    return rc;
}

static int parse_reply(const redisReply *r, rl_result *out)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        return -1;
    for (size_t i = 0; i < 3; i++)
        if (r->element[i]->type != REDIS_REPLY_INTEGER)
            return -1;
    out->allowed = (int)r->element[0]->integer; /* requests granted (0 = refused) */
    out->retry_after_ms = (long)r->element[1]->integer;
    out->remaining = (long)r->element[2]->integer;
    return 0;
}

int rl_check(const char *name, const char *key, const rl_policy *p, rl_result *out)
{
    if (!name || !key || !p || !out)
        return -1;
    if (p->limit <= 0 || p->period_s <= 0) {
        out->allowed = 1;
        out->retry_after_ms = 0;
        out->remaining = 0;
        return 0;
    }
    long long period_us = (long long)p->period_s * 1000000LL;
    long long t_us = period_us / p->limit;
    if (t_us < 1)
        t_us = 1;
    /* a lease held by this process answers without Redis */
    long per_s = p->limit / p->period_s;
    int leasing = per_s > RL_LEASE_RATE && strlen(key) < sizeof leases[0].key;
    struct lease *ls = leasing ? lease_slot(key) : NULL;
    if (ls && ls->left > 0 && ls->until_us > mono_us() && strcmp(ls->key, key) == 0) {
        ls->left--;
        out->allowed = 1;
        out->retry_after_ms = 0;
        out->remaining = ls->left;
        char labels[160];
        snprintf(labels, sizeof labels, "name=\"%s\",result=\"allowed\"", name);
        metrics_count("rate_limit_requests_total", labels, 1);
        return 0;
    }
    long want = 1;
    if (leasing) {
        want = per_s / RL_LEASE_RATE;
        if (want > RL_LEASE_MAX)
            want = RL_LEASE_MAX;
    }
    char rkey[256], ts[32], tau[32], wn[24];
    snprintf(rkey, sizeof rkey, "rl:%s", key);
    snprintf(ts, sizeof ts, "%lld", t_us);
    snprintf(tau, sizeof tau, "%lld", period_us);
    snprintf(wn, sizeof wn, "%ld", want);
    if (load_script() < 0)
        return -1;
    redisReply *r = kv_cmd(NULL, "EVALSHA %s 1 %s %s %s %s", script_sha, rkey, ts, tau, wn);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        /* the server lost its script cache under the same connection (SCRIPT FLUSH, failover):
         * EVAL caches it again, and the next call reloads to be sure */
        freeReplyObject(r);
        script_client = 0;
        r = kv_cmd(NULL, "EVAL %s 1 %s %s %s %s", rl_script, rkey, ts, tau, wn);
    }
    if (!r)
        return -1;
    int rc = parse_reply(r, out);
    if (rc < 0)
        log_warn("rate limiter: unexpected reply for %s: %s", name,
                 r->type == REDIS_REPLY_ERROR ? r->str : "not {granted, retry, remaining}");
    freeReplyObject(r);
    if (rc < 0)
        return -1;
    if (ls && out->allowed > 1) {
        /* one of the granted requests is this one; the rest wait in the lease */
        snprintf(ls->key, sizeof ls->key, "%s", key);
        ls->left = out->allowed - 1;
        ls->until_us = mono_us() + RL_LEASE_US;
    }
    out->allowed = out->allowed > 0;
    char labels[160];
    snprintf(labels, sizeof labels, "name=\"%s\",result=\"%s\"", name, out->allowed ? "allowed" : "limited");
    metrics_count("rate_limit_requests_total", labels, 1);
    return 0;
}

int rl_reset(const char *key)
{
    if (!key)
        return -1;
    redisReply *r = kv_cmd(NULL, "DEL rl:%s", key);
    if (!r)
        return -1;
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    freeReplyObject(r);
    return rc;
}
