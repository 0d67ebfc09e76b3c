/* ratelimit.h — the one rate limiter: GCRA in a single atomic Redis Lua script that reads the
 * clock with Redis TIME, so every web process and host shares one exact budget per key. */
#ifndef BCF_RATELIMIT_H
#define BCF_RATELIMIT_H

typedef struct rl_policy {
    long limit;     /* requests per period; 0 = unlimited (off) */
    long period_s;
} rl_policy;

typedef struct rl_result {
    int allowed;
    long retry_after_ms; /* when refused: wait this long before the next try */
    long remaining;      /* requests still allowed now (burst left) */
} rl_result;

/* Parses "10/min", "5/h", "3/hour", "100/s", "2/day", "off". 0 or -1 when malformed. */
int rl_parse(const char *text, rl_policy *out);
/* The policy of config key "ratelimit.<name>" (name = "default", "user" or a module action
 * such as "p2p.create_order"); limit 0 when absent, off, or ratelimit.enabled = 0. */
rl_policy rl_policy_for(const char *name);
/* Is action listed in ratelimit.fail_closed (money moves)? */
int rl_fail_closed(const char *action);
/* One GCRA step for key under policy p (key is namespaced by the caller, e.g. "ip:1.2.3.4",
 * "u:42:p2p.create_order"). Returns 0 with *out filled, or -1 when Redis is unavailable (the
 * caller decides fail open / closed). Counts allowed/limited in /metrics
 * (rate_limit_requests_total{name,result}) under name. */
int rl_check(const char *name, const char *key, const rl_policy *p, rl_result *out);
/* Forgets key (used when a login succeeds to clear its failure counter). */
int rl_reset(const char *key);
#endif
