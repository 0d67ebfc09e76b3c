/* kv.h — the Redis layer: one hiredis connection per process with timeouts, reconnect with
 * backoff and latency metrics. Redis holds only what can be rebuilt, so callers degrade on NULL. */
#ifndef BCF_KV_H
#define BCF_KV_H
#include <stddef.h>
#include <hiredis/hiredis.h>
#include "arena.h"

void kv_configure(const char *host, int port);
void kv_close(void);
int kv_is_up(void);
/* printf-style command (hiredis format). The reply is freed with the arena (or by the caller
 * with freeReplyObject when a is NULL). NULL when Redis is down or the command failed;
 * a Redis error reply is returned as a reply of type REDIS_REPLY_ERROR. */
redisReply *kv_cmd(arena *a, const char *fmt, ...);
redisReply *kv_cmdv(arena *a, int argc, const char **argv, const size_t *lens);
/* The same with this command's own socket timeout (ms), for blocking reads (XREADGROUP BLOCK):
 * Redis times blocked clients out only at its event-loop resolution (up to 1000/hz ms late). */
redisReply *kv_cmdv_timeout(arena *a, long timeout_ms, int argc, const char **argv, const size_t *lens);
/* Round trip of PING in ms, or -1 when down. */
double kv_ping_ms(void);
/* Called after every (re)connect, e.g. to re-enable client tracking. */
void kv_on_connect(void (*fn)(redisContext *c));
/* Id of the connection (CLIENT ID), 0 when down. */
long long kv_client_id(void);
#endif
