/* mfa.c — TOTP enrolment and checks on top of lib/totp.c and the vault: the seed is stored only
 * sealed (column users.totp_secret), recovery codes only as SHA-256, and each step counts once. */
#include "mfa.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "tenant.h"
#include "totp.h"
#include "vault.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET_COLUMN "users.totp_secret"

struct begin_args {
    const ctx *c;
    const char *sealed;
    int rc;
};

static int begin_tx(void *arg)
{
    struct begin_args *b = arg;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", b->c->user_id);
    const char *p[] = {uid, b->sealed};
    long n = tq_exec(b->c, "mfa_begin",
                     "UPDATE users SET totp_secret = $3, totp_last_step = 0 "
                     "WHERE id = $2::bigint AND tenant_id = $1 AND totp_enabled_at IS NULL",
                     2, p);
    if (n < 0)
        return -1;
    if (n == 0) {
        b->rc = -2;
        return -2;
    }
    return audit_record(b->c, "mfa.setup", "user", uid, NULL, NULL);
}

int mfa_begin(const ctx *c, char **secret_b32)
{
    unsigned char key[TOTP_SECRET_BYTES];
    randombytes_buf(key, sizeof key);
    char b32[64];
    int len = base32_encode(key, sizeof key, b32, sizeof b32);
    /* the seed is sealed as its base32 text: what authenticator apps are given */
    const char *column = vault_context(c->a, SECRET_COLUMN, c->user_id);
    char *sealed = len > 0 && column ? vault_seal(c->a, column, c->tenant_id, b32, (size_t)len) : NULL;
    sodium_memzero(key, sizeof key);
    if (!sealed) {
        sodium_memzero(b32, sizeof b32);
        return -1;
    }
    struct begin_args b = {c, sealed, 0};
    int rc = db_tx(begin_tx, &b);
    if (b.rc == -2 || rc < 0) {
        sodium_memzero(b32, sizeof b32);
        return b.rc == -2 ? -2 : -1;
    }
    *secret_b32 = arena_strdup(c->a, b32);
    sodium_memzero(b32, sizeof b32);
    return *secret_b32 ? 0 : -1;
}

/* The user's TOTP key (decoded) and replay floor; enabled says whether 2FA is on. */
static int load_key(const ctx *c, long long user_id, unsigned char *key, size_t *klen, long long *last_step,
                    int *enabled)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(c, "mfa_key",
                           "SELECT totp_secret, totp_last_step, (totp_enabled_at IS NOT NULL)::int FROM users "
                           "WHERE id = $2::bigint AND tenant_id = $1 AND totp_secret IS NOT NULL",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return -2;
    char *plain = NULL;
    size_t n = 0;
    const char *column = vault_context(c->a, SECRET_COLUMN, user_id);
    if (!column || vault_open(c->a, column, c->tenant_id, PQgetvalue(r, 0, 0), &plain, &n) < 0) {
        log_error("2fa seed of user %lld cannot be opened", user_id);
        return -1;
    }
    int k = base32_decode(plain, key, TOTP_SECRET_BYTES * 2);
    if (k <= 0)
        return -1;
    *klen = (size_t)k;
    *last_step = atoll(PQgetvalue(r, 0, 1));
    *enabled = atoi(PQgetvalue(r, 0, 2));
    return 0;
}

/* Accepts the step only if it moves the user's replay floor forward (two requests racing with
 * the same code: one wins). 1 accepted, 0 replay, -1 failure. */
static int take_step(const ctx *c, long long user_id, long long step, int enable)
{
    char uid[24], st[24];
    snprintf(uid, sizeof uid, "%lld", user_id);
    snprintf(st, sizeof st, "%lld", step);
    const char *p[] = {uid, st};
    long n = enable ? tq_exec(c, "mfa_step_enable",
                              "UPDATE users SET totp_last_step = $3::bigint, totp_enabled_at = now() "
                              "WHERE id = $2::bigint AND tenant_id = $1 AND totp_last_step < $3::bigint "
                              "AND totp_enabled_at IS NULL",
                              2, p)
                    : tq_exec(c, "mfa_step",
                              "UPDATE users SET totp_last_step = $3::bigint WHERE id = $2::bigint AND tenant_id = $1 "
                              "AND totp_last_step < $3::bigint AND totp_enabled_at IS NOT NULL",
                              2, p);
    return n < 0 ? -1 : n == 1;
}

static int store_codes(const ctx *c, char *codes[MFA_RECOVERY_CODES])
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", c->user_id);
    const char *pd[] = {uid};
    if (tq_exec(c, "mfa_codes_clear", "DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2::bigint", 1,
                pd) < 0)
        return -1;
    for (int i = 0; i < MFA_RECOVERY_CODES; i++) {
        char code[20], hash[65];
        totp_recovery_code(code, sizeof code);
        if (totp_recovery_hash(code, hash) < 0)
            return -1;
        const char *p[] = {uid, hash};
        if (tq_exec(c, "mfa_code_add",
                    "INSERT INTO recovery_codes (tenant_id, user_id, code_hash) SELECT $1, $2::bigint, $3 "
                    "WHERE EXISTS (SELECT 1 FROM users WHERE id = $2::bigint AND tenant_id = $1)",
                    2, p) != 1)
            return -1;
        codes[i] = arena_strdup(c->a, code);
        if (!codes[i])
            return -1;
    }
    return 0;
}

struct enable_args {
    const ctx *c;
    long long step;
    char **codes;
    int accepted;
};

static int enable_tx(void *arg)
{
    struct enable_args *e = arg;
    int ok = take_step(e->c, e->c->user_id, e->step, 1);
    if (ok <= 0) {
        e->accepted = 0;
        return ok < 0 ? -1 : -3;
    }
    if (store_codes(e->c, e->codes) < 0)
        return -1;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", e->c->user_id);
    json_t *after = json_pack("{s:b, s:i}", "totp", 1, "recovery_codes", MFA_RECOVERY_CODES);
    int rc = audit_record(e->c, "mfa.enable", "user", uid, NULL, after);
    json_decref(after);
    e->accepted = rc == 0;
    return rc;
}

int mfa_enable(const ctx *c, const char *code, char *codes[MFA_RECOVERY_CODES])
{
    unsigned char key[TOTP_SECRET_BYTES * 2];
    size_t klen = 0;
    long long last = 0;
    int enabled = 0;
    int rc = load_key(c, c->user_id, key, &klen, &last, &enabled);
    if (rc < 0)
        return rc;
    if (enabled) {
        sodium_memzero(key, sizeof key);
        return -2;
    }
    long long step = totp_verify(key, klen, code, time(NULL), last);
    sodium_memzero(key, sizeof key);
    if (step <= 0)
        return 0;
    struct enable_args e = {c, step, codes, 0};
    rc = db_tx(enable_tx, &e);
    if (rc == -3)
        return 0;
    return rc < 0 ? -1 : 1;
}

int mfa_verify(const ctx *c, long long user_id, const char *code, const char **method)
{
    if (!code || !*code)
        return 0;
    char hash[65];
    /* recovery codes are 12 base32 letters/digits (dashes optional); TOTP codes are 6 digits */
    if (totp_recovery_hash(code, hash) == 0) {
        *method = "recovery";
        char uid[24];
        snprintf(uid, sizeof uid, "%lld", user_id);
        const char *p[] = {uid, hash};
        long n = tq_exec(c, "mfa_code_use",
                         "UPDATE recovery_codes SET used_at = now() WHERE tenant_id = $1 AND user_id = $2::bigint "
                         "AND code_hash = $3 AND used_at IS NULL "
                         "AND EXISTS (SELECT 1 FROM users WHERE id = $2::bigint AND totp_enabled_at IS NOT NULL)",
                         2, p);
        return n < 0 ? -1 : n == 1;
    }
    *method = "totp";
    unsigned char key[TOTP_SECRET_BYTES * 2];
    size_t klen = 0;
    long long last = 0;
    int enabled = 0;
    int rc = load_key(c, user_id, key, &klen, &last, &enabled);
    if (rc < 0)
        return rc;
    if (!enabled) {
        sodium_memzero(key, sizeof key);
        return -2;
    }
    long long step = totp_verify(key, klen, code, time(NULL), last);
    sodium_memzero(key, sizeof key);
    if (step <= 0)
        return 0;
    return take_step(c, user_id, step, 0);
}

static int disable_tx(void *arg)
{
    const ctx *c = arg;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", c->user_id);
    const char *p[] = {uid};
    if (tq_exec(c, "mfa_disable",
                "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL WHERE id = $2::bigint AND tenant_id = $1",
                1, p) != 1)
        return -1;
    if (tq_exec(c, "mfa_codes_clear", "DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2::bigint", 1,
                p) < 0)
        return -1;
    json_t *after = json_pack("{s:b}", "totp", 0);
    int rc = audit_record(c, "mfa.disable", "user", uid, NULL, after);
    json_decref(after);
    return rc;
}

int mfa_disable(const ctx *c)
{
    return db_tx(disable_tx, (void *)c) < 0 ? -1 : 0;
}

struct codes_args {
    const ctx *c;
    char **codes;
};

static int codes_tx(void *arg)
{
    struct codes_args *a = arg;
    if (store_codes(a->c, a->codes) < 0)
        return -1;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", a->c->user_id);
    json_t *after = json_pack("{s:i}", "recovery_codes", MFA_RECOVERY_CODES);
    int rc = audit_record(a->c, "mfa.recovery_codes", "user", uid, NULL, after);
    json_decref(after);
    return rc;
}

int mfa_new_recovery_codes(const ctx *c, char *codes[MFA_RECOVERY_CODES])
{
    struct codes_args a = {c, codes};
    return db_tx(codes_tx, &a) < 0 ? -1 : 0;
}
