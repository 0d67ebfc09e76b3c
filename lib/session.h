/* session.h — login sessions: 256-bit random ids, stored hashed in Redis (fast path, near
 * cached) and in PostgreSQL (the sessions list, and the fallback when Redis is down). */
#ifndef BCF_SESSION_H
#define BCF_SESSION_H
#include "arena.h"

typedef struct session_data {
    long long user_id, tenant_id;
    char *email, *name, *role, *csrf, *sid_hash, *tenant_kind;
    long long created, seen;
    long long mfa_at;   /* unix time of the last 2FA check in this session, 0 = none */
    int mfa_enrolled;   /* the user had TOTP enabled when the session was made or refreshed */
} session_data;

/* Creates a session; writes the cookie value (base64url, 43 chars) into token. */
int session_create(arena *a, long long user_id, const char *ip, const char *user_agent, char *token, size_t toklen);
/* The same, recording a 2FA check made at mfa_at (unix time; 0 = none). */
int session_create_mfa(arena *a, long long user_id, const char *ip, const char *user_agent, long long mfa_at,
                       char *token, size_t toklen);
/* A new id for the session behind old_token (login, 2FA, privilege change): the new session
 * gets mfa_at, the old one is ended. Writes the new cookie value into token. 0 or -1. */
int session_rotate(arena *a, const char *old_token, const char *ip, const char *user_agent, long long mfa_at,
                   char *token, size_t toklen);
/* Looks a token up; NULL when unknown, expired or revoked. */
session_data *session_lookup(arena *a, const char *token);
int session_destroy(arena *a, const char *token);
/* Ends every session of user_id except the one whose hash is keep_sid_hash (NULL = all), in
 * Redis and PostgreSQL (after a password change, a deletion, a role change). Returns the
 * number ended or -1. */
long session_destroy_user(arena *a, long long user_id, const char *keep_sid_hash);
/* Splits a personal API token "bcf_<12-char prefix>_<secret>" into its parts. 0, or -1 when
 * it is not one (wrong shape, characters outside base64url, sizes). */
int api_token_split(const char *token, char *prefix, size_t prefixlen, char *secret, size_t secretlen);
/* The cookie name: session.cookie, without the __Host- prefix when cookies are not Secure. */
const char *session_cookie_name(void);
/* The Set-Cookie value that carries token (NULL token = expire the cookie). */
const char *session_cookie(arena *a, const char *token);
/* hex SHA-256 of token into out (65 bytes). */
void session_hash(const char *token, char *out);
/* Random URL-safe token of nbytes of entropy. */
void random_token(char *out, size_t outlen, size_t nbytes);
#endif
