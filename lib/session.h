/* session.h — login sessions: 256-bit random ids, stored hashed in Redis (fast path, near
 * cached) and in PostgreSQL (the sessions list, and the fallback when Redis is down). */
#ifndef BCF_SESSION_H
#define BCF_SESSION_H
#include "arena.h"

typedef struct session_data {
    long long user_id, tenant_id;
    char *email, *name, *role, *csrf, *sid_hash;
    long long created, seen;
} session_data;

/* Creates a session; writes the cookie value (base64url, 43 chars) into token. */
int session_create(arena *a, long long user_id, const char *ip, const char *user_agent, char *token, size_t toklen);
/* Looks a token up; NULL when unknown, expired or revoked. */
session_data *session_lookup(arena *a, const char *token);
int session_destroy(arena *a, const char *token);
/* The cookie name: session.cookie, without the __Host- prefix when cookies are not Secure. */
const char *session_cookie_name(void);
/* The Set-Cookie value that carries token (NULL token = expire the cookie). */
const char *session_cookie(arena *a, const char *token);
/* hex SHA-256 of token into out (65 bytes). */
void session_hash(const char *token, char *out);
/* Random URL-safe token of nbytes of entropy. */
void random_token(char *out, size_t outlen, size_t nbytes);
#endif
