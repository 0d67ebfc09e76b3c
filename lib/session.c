/* session.c — session storage. Redis holds `s:<sha256>` as JSON with the idle TTL; PostgreSQL
 * holds the durable row, so sessions survive a Redis restart and can be listed and revoked. */
#include "session.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

const char *session_cookie_name(void)
{
    const char *name = config_get("session.cookie");
    if (!config_bool("session.secure_cookie") && strncmp(name, "__Host-", 7) == 0)
        return name + 7;
    return name;
}

const char *session_cookie(arena *a, const char *token)
{
    int secure = config_bool("session.secure_cookie");
    if (!token)
        return arena_printf(a, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s", session_cookie_name(),
                            secure ? "; Secure" : "");
    return arena_printf(a, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s", session_cookie_name(), token,
                        config_int("session.absolute_s"), secure ? "; Secure" : "");
}

void session_hash(const char *token, char *out)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* Tokens are drawn from ChaCha20 keyed once per process from the OS generator: a getrandom(2)
 * per token cost ~5% of a page's CPU. The key is redrawn after fork (pid check), so no two
 * workers ever share a stream. */
static void fast_random(unsigned char *out, size_t n)
{
    static unsigned char key[crypto_stream_chacha20_KEYBYTES];
    static pid_t key_pid;
    static uint64_t counter;
    if (key_pid != getpid()) {
        randombytes_buf(key, sizeof key);
        key_pid = getpid();
        counter = 0;
    }
    unsigned char nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    uint64_t c = counter++;
    memcpy(nonce, &c, sizeof c);
    crypto_stream_chacha20(out, n, nonce, key);
}

void random_token(char *out, size_t outlen, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    fast_random(raw, nbytes);
    sodium_bin2base64(out, outlen, raw, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static char *to_redis_value(const session_data *s)
{
    json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:b}", "uid", (json_int_t)s->user_id,
                          "tid", (json_int_t)s->tenant_id, "email", s->email ? s->email : "", "name",
                          s->name ? s->name : "", "role", s->role ? s->role : "", "csrf", s->csrf ? s->csrf : "",
                          "created", (json_int_t)s->created, "seen", (json_int_t)s->seen, "tkind",
                          s->tenant_kind ? s->tenant_kind : "", "mfa_at", (json_int_t)s->mfa_at, "mfa",
                          s->mfa_enrolled);
    char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return out;
}

static void store_redis(const char *hash, const session_data *s)
{
    char *v = to_redis_value(s);
    if (!v)
        return;
    long ttl = config_int("session.idle_s");
    long left = s->created + config_int("session.absolute_s") - (long long)time(NULL);
    if (left < ttl)
        ttl = left;
    if (ttl > 0) {
        redisReply *r = kv_cmd(NULL, "SET s:%s %s EX %ld", hash, v, ttl);
        if (r)
            freeReplyObject(r);
    }
    free(v);
}

/* The user columns a session carries, selected by session_create and lookup_db alike. */
#define SESSION_USER_COLS                                                                                              \
    "u.tenant_id, u.email, u.display_name, u.role, t.kind, (u.totp_enabled_at IS NOT NULL)::int"

int session_create_mfa(arena *a, long long user_id, const char *ip, const char *user_agent, long long mfa_at,
                       char *token, size_t toklen)
{
    random_token(token, toklen, 32);
    char hash[65], csrf[64], uid[24], mfa[24], life[24];
    session_hash(token, hash);
    random_token(csrf, sizeof csrf, 24);
    snprintf(uid, sizeof uid, "%lld", user_id);
    snprintf(mfa, sizeof mfa, "%lld", mfa_at);
    snprintf(life, sizeof life, "%ld", config_int("session.absolute_s"));
    const char *p[] = {hash, uid, csrf, ip ? ip : "", user_agent ? user_agent : "", mfa, life};
    PGresult *r = db_query(a, "session_create",
                           "WITH s AS (INSERT INTO sessions (id_hash, user_id, tenant_id, csrf, ip, user_agent, "
                           "expires_at, mfa_at) "
                           "SELECT $1, u.id, u.tenant_id, $3, $4, left($5, 300), "
                           "now() + make_interval(secs => $7::int), "
                           "CASE WHEN $6::bigint > 0 THEN to_timestamp($6::bigint) END "
                           "FROM users u WHERE u.id = $2::bigint AND u.status = 'active' RETURNING created_at) "
                           "SELECT extract(epoch from s.created_at)::bigint, " SESSION_USER_COLS
                           " FROM s, users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $2::bigint",
                           7, p);
    if (!r || PQntuples(r) != 1)
        return -1;
    session_data s = {0};
    s.user_id = user_id;
    s.created = s.seen = atoll(PQgetvalue(r, 0, 0));
    s.tenant_id = atoll(PQgetvalue(r, 0, 1));
    s.email = PQgetvalue(r, 0, 2);
    s.name = PQgetvalue(r, 0, 3);
    s.role = PQgetvalue(r, 0, 4);
    s.tenant_kind = PQgetvalue(r, 0, 5);
    s.mfa_enrolled = atoi(PQgetvalue(r, 0, 6));
    s.mfa_at = mfa_at;
    s.csrf = csrf;
    store_redis(hash, &s);
    return 0;
}

int session_create(arena *a, long long user_id, const char *ip, const char *user_agent, char *token, size_t toklen)
{
    return session_create_mfa(a, user_id, ip, user_agent, 0, token, toklen);
}

int session_rotate(arena *a, const char *old_token, const char *ip, const char *user_agent, long long mfa_at,
                   char *token, size_t toklen)
{
    session_data *old = session_lookup(a, old_token);
    if (!old)
        return -1;
    if (session_create_mfa(a, old->user_id, ip, user_agent, mfa_at, token, toklen) < 0)
        return -1;
    return session_destroy(a, old_token);
}

/* Parsing the session JSON was a sixth of a cached request's CPU, so each process keeps the
 * last parse per slot and reuses it while Redis returns the very same bytes. */
struct parsed {
    char *raw;
    size_t len;
    session_data s;
};
#define PARSED_SLOTS 64
static struct parsed parsed[PARSED_SLOTS];

static void parsed_clear(struct parsed *p)
{
    free(p->raw);
    free(p->s.email);
    free(p->s.name);
    free(p->s.role);
    free(p->s.csrf);
    free(p->s.sid_hash);
    free(p->s.tenant_kind);
    memset(p, 0, sizeof *p);
}

static session_data *copy_session(arena *a, const session_data *src)
{
    session_data *s = arena_calloc(a, 1, sizeof(*s));
    if (!s)
        return NULL;
    *s = *src;
    s->email = arena_strdup(a, src->email);
    s->name = arena_strdup(a, src->name);
    s->role = arena_strdup(a, src->role);
    s->csrf = arena_strdup(a, src->csrf);
    s->sid_hash = arena_strdup(a, src->sid_hash);
    s->tenant_kind = arena_strdup(a, src->tenant_kind);
    return s;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static session_data *from_json(arena *a, const char *hash, const char *v, size_t len)
{
    struct parsed *p = &parsed[strtoul(hash + 56, NULL, 16) % PARSED_SLOTS];
    if (p->raw && p->len == len && memcmp(p->raw, v, len) == 0 && strcmp(p->s.sid_hash, hash) == 0)
        return copy_session(a, &p->s);
    json_t *j = json_loadb(v, len, 0, NULL);
    if (!j)
        return NULL;
    parsed_clear(p);
    p->raw = malloc(len);
    if (p->raw)
        memcpy(p->raw, v, len);
    p->len = len;
    p->s.user_id = json_integer_value(json_object_get(j, "uid"));
    p->s.tenant_id = json_integer_value(json_object_get(j, "tid"));
    p->s.email = dup_or_empty(json_string_value(json_object_get(j, "email")));
    p->s.name = dup_or_empty(json_string_value(json_object_get(j, "name")));
    p->s.role = dup_or_empty(json_string_value(json_object_get(j, "role")));
    p->s.csrf = dup_or_empty(json_string_value(json_object_get(j, "csrf")));
    p->s.created = json_integer_value(json_object_get(j, "created"));
    p->s.seen = json_integer_value(json_object_get(j, "seen"));
    p->s.sid_hash = strdup(hash);
    p->s.tenant_kind = dup_or_empty(json_string_value(json_object_get(j, "tkind")));
    p->s.mfa_at = json_integer_value(json_object_get(j, "mfa_at"));
    p->s.mfa_enrolled = json_is_true(json_object_get(j, "mfa"));
    json_decref(j);
    if (!p->raw || !p->s.email || !p->s.name || !p->s.role || !p->s.csrf || !p->s.sid_hash || !p->s.tenant_kind) {
        parsed_clear(p);
        return NULL;
    }
    return copy_session(a, &p->s);
}

static session_data *lookup_db(arena *a, const char *hash)
{
    const char *p[] = {hash};
    PGresult *r = db_query(a, "session_lookup",
                           "SELECT s.user_id, " SESSION_USER_COLS ", s.csrf, "
                           "extract(epoch from s.created_at)::bigint, extract(epoch from s.seen_at)::bigint, "
                           "coalesce(extract(epoch from s.mfa_at)::bigint, 0) "
                           "FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = u.tenant_id "
                           "WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND u.status = 'active'",
                           1, p);
    if (!r || PQntuples(r) != 1)
        return NULL;
    session_data *s = arena_calloc(a, 1, sizeof(*s));
    if (!s)
        return NULL;
    s->user_id = atoll(PQgetvalue(r, 0, 0));
    s->tenant_id = atoll(PQgetvalue(r, 0, 1));
    s->email = PQgetvalue(r, 0, 2);
    s->name = PQgetvalue(r, 0, 3);
    s->role = PQgetvalue(r, 0, 4);
    s->tenant_kind = PQgetvalue(r, 0, 5);
    s->mfa_enrolled = atoi(PQgetvalue(r, 0, 6));
    s->csrf = PQgetvalue(r, 0, 7);
    s->created = atoll(PQgetvalue(r, 0, 8));
    s->seen = atoll(PQgetvalue(r, 0, 9));
    s->mfa_at = atoll(PQgetvalue(r, 0, 10));
    s->sid_hash = arena_strdup(a, hash);
    return s;
}

session_data *session_lookup(arena *a, const char *token)
{
    if (!token || strlen(token) != 43)
        return NULL;
    char hash[65], key[80];
    session_hash(token, hash);
    snprintf(key, sizeof key, "s:%s", hash);
    size_t len = 0;
    char *v = cache_get_raw(a, key, &len, "session");
    session_data *s = NULL;
    if (v) {
        s = from_json(a, hash, v, len);
    } else {
        /* Redis down or emptied: the durable row still knows the session */
        s = lookup_db(a, hash);
        if (s && kv_is_up())
            store_redis(hash, s);
    }
    if (!s)
        return NULL;
    long long now = (long long)time(NULL);
    if (now - s->created > config_int("session.absolute_s") || now - s->seen > config_int("session.idle_s"))
        return NULL;
    /* sliding idle timeout, written at most once a minute per session; the durable row also
     * says whether the session was revoked while a Redis copy survived (a DEL lost in an outage) */
    if (now - s->seen >= 60) {
        const char *p[] = {hash};
        long n = db_exec(a, "session_touch",
                         "UPDATE sessions SET seen_at = now() WHERE id_hash = $1 AND revoked_at IS NULL", 1, p);
        if (n == 0) {
            kv_cmd(a, "DEL s:%s", hash);
            return NULL;
        }
        s->seen = now;
        store_redis(hash, s);
    }
    return s;
}

int session_destroy(arena *a, const char *token)
{
    if (!token)
        return 0;
    char hash[65];
    session_hash(token, hash);
    redisReply *r = kv_cmd(a, "DEL s:%s", hash);
    (void)r;
    const char *p[] = {hash};
    return db_exec(a, "session_revoke", "UPDATE sessions SET revoked_at = now() WHERE id_hash = $1", 1, p) < 0 ? -1 : 0;
}

long session_destroy_user(arena *a, long long user_id, const char *keep_sid_hash)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", user_id);
    const char *p[] = {uid, keep_sid_hash ? keep_sid_hash : ""};
    PGresult *r = db_query(a, "session_revoke_user",
                           "UPDATE sessions SET revoked_at = now() WHERE user_id = $1::bigint AND revoked_at IS NULL "
                           "AND id_hash <> $2 RETURNING id_hash",
                           2, p);
    if (!r)
        return -1;
    long n = PQntuples(r);
    /* the Redis copies go too, so no worker serves one from its near cache (tracking invalidates) */
    for (long i = 0; i < n; i++) {
        redisReply *d = kv_cmd(a, "DEL s:%s", PQgetvalue(r, (int)i, 0));
        (void)d;
    }
    return n;
}

/* "bcf_" + 12-char prefix + "_" + 43-char secret, all base64url */
int api_token_split(const char *token, char *prefix, size_t prefixlen, char *secret, size_t secretlen)
{
    if (!token || strncmp(token, "bcf_", 4) != 0)
        return -1;
    const char *pre = token + 4;
    const char *us = strchr(pre, '_');
    /* '_' is itself a base64url character, so the prefix has a fixed length */
    if (!us || us - pre != 12)
        return -1;
    const char *sec = us + 1;
    size_t n = strlen(sec);
    if (n != 43 || prefixlen < 13 || secretlen < n + 1)
        return -1;
    for (const char *c = pre; c < us; c++)
        if (!isalnum((unsigned char)*c) && *c != '-')
            return -1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)sec[i]) && sec[i] != '-' && sec[i] != '_')
            return -1;
    memcpy(prefix, pre, 12);
    prefix[12] = '\0';
    memcpy(secret, sec, n + 1);
    return 0;
}
