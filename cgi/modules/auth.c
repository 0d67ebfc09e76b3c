/* auth.c — sign-in (password, then the 2FA code when enrolled), sign-out and the language
 * switch, with the brute-force defences: per-account and per-address counters, a growing
 * wait after repeated failures, a temporary lock, and a notice to the user after a suspicious
 * success. */
#include "app.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "mfa.h"
#include "auth.h"
#include "modules.h"
#include "users.h"
#include "notify.h"
#include "password.h"
#include "render.h"
#include "secevent.h"
#include "session.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static int login_form(request *req, response *res)
{
    if (req->session && !req->api) {
        res_redirect(res, "/dashboard");
        return 0;
    }
    json_t *d = json_pack("{s:s}", "next", req_local_path(req_query(req, "next"), "/dashboard"));
    if (req_query(req, "reset"))
        json_object_set_new(d, "notice", json_string(render_lang_string(req->lang, "auth.reset_done")));
    else if (req_query(req, "deleted"))
        json_object_set_new(d, "notice", json_string(render_lang_string(req->lang, "auth.deleted")));
    res_page(res, "auth/login.cs", "auth.title", d);
    return 0;
}

static void login_page(request *req, response *res, int status, const char *msg_key, const char *email,
                       const char *next)
{
    res->status = status;
    res_page(res, "auth/login.cs", "auth.title",
             json_pack("{s:s, s:s, s:s}", "next", next, "error", render_lang_string(req->lang, msg_key), "email",
                       email ? email : ""));
}

/* ---- brute-force counters: Redis hashes {n, last} that expire after security.login.lock_s ---- */

struct counters {
    char acct_key[80], ip_key[80], email_hash[65];
    long acct_n, ip_n;
    long long acct_last; /* epoch ms of the account's last failure */
};

/* Wall-clock epoch milliseconds: the growing wait is counted in ms, so a wait of 1 s is 1000 ms
 * after the failure, not "until the clock's second changes" (which can be a moment later). */
static long long counters_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void counters_keys(request *req, const char *email_hash, struct counters *k)
{
    snprintf(k->email_hash, sizeof k->email_hash, "%s", email_hash);
    snprintf(k->acct_key, sizeof k->acct_key, "lf:a:%s", k->email_hash);
    snprintf(k->ip_key, sizeof k->ip_key, "lf:ip:%s", req->remote_addr ? req->remote_addr : "-");
}

static void counters_read(request *req, struct counters *k)
{
    k->acct_n = k->ip_n = 0;
    k->acct_last = 0;
    /* Redis down: the counters fail open (a login is not a money move) */
    redisReply *r = kv_cmd(req->a, "HMGET %s n last", k->acct_key);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        if (r->element[0]->type == REDIS_REPLY_STRING)
            k->acct_n = atol(r->element[0]->str);
        if (r->element[1]->type == REDIS_REPLY_STRING)
            k->acct_last = atoll(r->element[1]->str);
    }
    r = kv_cmd(req->a, "HGET %s n", k->ip_key);
    if (r && r->type == REDIS_REPLY_STRING)
        k->ip_n = atol(r->str);
}

static void counters_load(request *req, const char *email, struct counters *k)
{
    char lower[256];
    size_t i = 0;
    for (; email[i] && i < sizeof lower - 1; i++)
        lower[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] + 32 : email[i]);
    lower[i] = '\0';
    char hash[65];
    session_hash(lower, hash);
    counters_keys(req, hash, k);
    counters_read(req, k);
}

/* Seconds the caller must still wait (0 = may try now). */
static long counters_wait(request *req, const struct counters *k)
{
    long lock = config_int("security.login.lock_s");
    if (k->acct_n >= config_int("security.login.account_max_failures") ||
        k->ip_n >= config_int("security.login.ip_max_failures")) {
        long ttl = lock;
        redisReply *r = kv_cmd(req->a, "TTL %s", k->acct_n >= config_int("security.login.account_max_failures")
                                                     ? k->acct_key
                                                     : k->ip_key);
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
            ttl = (long)r->integer;
        return ttl;
    }
    long after = config_int("security.login.delay_after");
    if (k->acct_n >= after) {
        long shift = k->acct_n - after;
        long delay = shift >= 20 ? lock : 1L << shift;
        if (delay > lock)
            delay = lock;
        long long left = delay * 1000LL - (counters_now_ms() - k->acct_last);
        if (left > 0)
            return (long)((left + 999) / 1000); /* whole seconds, rounded up: never "wait 0" */
    }
    return 0;
}

static void refuse_wait(request *req, response *res, long secs, const char *email, const char *next)
{
    char ra[24];
    snprintf(ra, sizeof ra, "%ld", secs < 1 ? 1 : secs);
    res_header(res, "Retry-After", ra);
    if (req->api) {
        res_error(req, res, 429, "login_locked", render_lang_string(req->lang, "auth.locked"));
        return;
    }
    login_page(req, res, 429, "auth.locked", email, next);
}

/* A failure: both counters move; the event names the reason (NULL: the caller records its own). */
static void counters_fail(request *req, struct counters *k, long long user_id, const char *reason)
{
    long lock = config_int("security.login.lock_s");
    long long now = counters_now_ms();
    redisReply *r = kv_cmd(req->a, "HINCRBY %s n 1", k->acct_key);
    long n = r && r->type == REDIS_REPLY_INTEGER ? (long)r->integer : k->acct_n + 1;
    kv_cmd(req->a, "HSET %s last %lld", k->acct_key, now);
    kv_cmd(req->a, "EXPIRE %s %ld", k->acct_key, lock);
    r = kv_cmd(req->a, "HINCRBY %s n 1", k->ip_key);
    long nip = r && r->type == REDIS_REPLY_INTEGER ? (long)r->integer : k->ip_n + 1;
    kv_cmd(req->a, "EXPIRE %s %ld", k->ip_key, lock);
    json_t *d;
    if (reason) {
        d = json_pack("{s:s, s:s, s:i}", "email_hash", k->email_hash, "reason", reason, "failures", (int)n);
        security_event(&req->cx, SECEV_LOGIN_FAILED, "info", user_id, d);
        json_decref(d);
    }
    if (n == config_int("security.login.account_max_failures") || nip == config_int("security.login.ip_max_failures")) {
        d = json_pack("{s:s, s:s, s:i}", "email_hash", k->email_hash, "scope",
                      n == config_int("security.login.account_max_failures") ? "account" : "address", "lock_s",
                      (int)lock);
        security_event(&req->cx, SECEV_LOGIN_LOCKED, "warning", user_id, d);
        json_decref(d);
    }
}

/* The same counters guard the step-up code of a signed-in session (cgi/modules/auth.h). */
long auth_guard_wait(request *req, const char *email)
{
    struct counters k;
    counters_load(req, email, &k);
    return counters_wait(req, &k);
}

void auth_guard_fail(request *req, const char *email, long long user_id)
{
    struct counters k;
    counters_load(req, email, &k);
    counters_fail(req, &k, user_id, NULL);
}

/* ---- the login itself ---- */


/* A hash to verify against when the account is unknown, so timing does not reveal accounts. */
static const char *dummy_hash(void)
{
    static char dummy[PASSWORD_HASH_MAX];
    if (!dummy[0]) {
        char pw[32];
        random_token(pw, sizeof pw, 16);
        if (password_hash(pw, dummy) != 0)
            dummy[0] = '\0';
    }
    return dummy[0] ? dummy : NULL;
}

/* Has this user signed in before from this browser (user agent)? */
static int known_device(request *req, long long user_id)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", user_id);
    const char *ua = req_user_agent(req);
    const char *p[] = {uid, ua ? ua : ""};
    /* cross-tenant: sessions of the user just identified by e-mail and password, before the session exists */
    PGresult *r = db_query(req->a, "auth_known_device",
                           "SELECT (SELECT count(*) FROM sessions WHERE user_id = $1::bigint) = 0 "
                           "OR EXISTS (SELECT 1 FROM sessions WHERE user_id = $1::bigint AND user_agent = left($2, 300))",
                           2, p);
    return r && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
}

/* Creates the session, audits the login, and warns the user after a suspicious success. */
static int complete_login(request *req, response *res, long long uid, long long tid, long long mfa_at,
                          const char *method, long prior_failures, const char *next)
{
    int known = known_device(req, uid);
    char token[64];
    if (session_create_mfa(req->a, uid, req->remote_addr, req_user_agent(req), mfa_at, token,
                           sizeof token) < 0)
        return -1;
    /* a new session id on every login; an old one the browser still holds is ended */
    const char *old = req_cookie(req, session_cookie_name());
    if (old)
        session_destroy(req->a, old);
    ctx c = req->cx;
    c.user_id = uid;
    c.tenant_id = tid;
    char id[24];
    snprintf(id, sizeof id, "%lld", uid);
    json_t *after = json_pack("{s:s, s:b}", "method", method, "new_device", !known);
    int rc = audit_record(&c, "auth.login", "user", id, NULL, after);
    json_decref(after);
    if (rc < 0) {
        session_destroy(req->a, token);
        return -1;
    }
    if (!known || prior_failures > 0) {
        json_t *d = json_pack("{s:b, s:i}", "new_device", !known, "prior_failures", (int)prior_failures);
        security_event(&c, SECEV_LOGIN_NEW_DEVICE, prior_failures > 0 ? "warning" : "info", uid, d);
        json_decref(d);
        const char *ua = req_user_agent(req);
        json_t *nd = json_pack("{s:s, s:s}", "ip", req->remote_addr ? req->remote_addr : "?", "user_agent", ua ? ua : "?");
        notify_msg m = {.tenant_id = tid,
                        .user_id = uid,
                        .category = "seguranca",
                        .template_name = "account.suspicious_login",
                        .data = nd,
                        .priority = prior_failures > 0 ? NOTIFY_HIGH : NOTIFY_NORMAL};
        if (!nd || notify_send(&c, &m) < 0)
            log_warn("login: the sign-in notice for user %s was not written", id);
        json_decref(nd);
    }
    res_header(res, "Set-Cookie", session_cookie(req->a, token));
    res_redirect(res, next);
    return 0;
}

static int login_submit(request *req, response *res)
{
    const char *email = req_form(req, "email"), *password = req_form(req, "password");
    const char *next = req_local_path(req_form(req, "next"), "/dashboard");
    if (!email || !password || !*email || !*password || strlen(email) > 254 || strlen(password) > 1024) {
        login_page(req, res, 422, "auth.missing", email, next);
        return 0;
    }
    user_row u;
    /* cross-tenant: before sign-in the e-mail is all we know; it is unique across tenants */
    int found = users_by_email(req->a, email, &u);
    if (found < 0)
        return -1;
    /* counted under the account's stored address: PostgreSQL's lower() also folds look-alikes
     * (the Kelvin sign, a dotted capital I), so each spelling must not get its own counter */
    struct counters k;
    counters_load(req, found ? u.email : email, &k);
    long wait = counters_wait(req, &k);
    if (wait > 0) {
        refuse_wait(req, res, wait, email, next);
        return 0;
    }
    const char *hash = found ? u.password_hash : dummy_hash();
    if (!hash)
        return -1;
    int ok = password_verify(hash, password) && found && !strcmp(u.status, "active");
    if (!ok) {
        log_fmt(LOG_INFO, "login failed for a %s account", found ? "known" : "unknown");
        counters_fail(req, &k, found ? u.id : 0, found ? "password" : "unknown_account");
        login_page(req, res, 401, "auth.invalid", email, next);
        return 0;
    }
    if (!u.verified) {
        if (req->api)
            res_error(req, res, 403, "email_unverified", render_lang_string(req->lang, "auth.unverified"));
        else
            login_page(req, res, 403, "auth.unverified", email, next);
        return 0;
    }
    if (password_needs_rehash(hash)) {
        /* parameters rose since this hash was made: store a stronger one while we have the password */
        char fresh[PASSWORD_HASH_MAX];
        char id[24];
        snprintf(id, sizeof id, "%lld", u.id);
        if (password_hash(password, fresh) == 0) {
            const char *p[] = {id, fresh};
            ctx c = req->cx;
            c.user_id = u.id;
            c.tenant_id = u.tenant_id;
            audit_tq(&c, "auth_rehash", "UPDATE users SET password_hash = $3 WHERE id = $2::bigint AND tenant_id = $1",
                     2, p, "account.password_rehash", "user", id, NULL);
        }
    }
    if (u.mfa) {
        /* the password was right; the session waits for the second step */
        char tok[64], th[65];
        random_token(tok, sizeof tok, 32);
        session_hash(tok, th);
        redisReply *r = kv_cmd(req->a, "SET mfa:p:%s %lld:%lld:%ld:%s EX %ld", th, u.id, u.tenant_id, k.acct_n,
                               k.email_hash, config_int("session.mfa_pending_s"));
        if (!r || r->type != REDIS_REPLY_STATUS)
            return -1;
        res_page(res, "auth/login_2fa.cs", "auth.mfa_title", json_pack("{s:s, s:s}", "mfa_token", tok, "next", next));
        return 0;
    }
    kv_cmd(req->a, "DEL %s", k.acct_key);
    return complete_login(req, res, u.id, u.tenant_id, 0, "password", k.acct_n, next);
}

static int login_mfa_submit(request *req, response *res)
{
    const char *tok = req_form(req, "mfa_token"), *code = req_form(req, "code");
    const char *next = req_local_path(req_form(req, "next"), "/dashboard");
    if (!tok || strlen(tok) != 43 || !code || strlen(code) > 32) {
        res_error(req, res, 400, "bad_mfa_token", render_lang_string(req->lang, "auth.mfa_expired"));
        return 0;
    }
    char th[65];
    session_hash(tok, th);
    redisReply *r = kv_cmd(req->a, "GET mfa:p:%s", th);
    if (!r)
        return -1;
    long long uid = 0, tid = 0;
    long prior = 0;
    char email_hash[65] = "";
    if (r->type != REDIS_REPLY_STRING || sscanf(r->str, "%lld:%lld:%ld:%64[0-9a-f]", &uid, &tid, &prior, email_hash) != 4) {
        res_error(req, res, 400, "bad_mfa_token", render_lang_string(req->lang, "auth.mfa_expired"));
        return 0;
    }
    struct counters lk;
    counters_keys(req, email_hash, &lk);
    counters_read(req, &lk);
    long wait = counters_wait(req, &lk);
    if (wait > 0) {
        refuse_wait(req, res, wait, "", next);
        return 0;
    }
    ctx c = req->cx;
    c.user_id = uid;
    c.tenant_id = tid;
    const char *method = "totp";
    int ok = mfa_verify(&c, uid, code, &method);
    if (ok < 0 && ok != -2)
        return -1;
    if (ok != 1) {
        /* a wrong code counts like a wrong password (towards the account's delay and lock), and
         * five end the pending sign-in */
        struct counters k;
        counters_keys(req, email_hash, &k);
        counters_fail(req, &k, uid, "mfa_code");
        redisReply *n = kv_cmd(req->a, "HINCRBY mfa:f:%s n 1", th);
        kv_cmd(req->a, "EXPIRE mfa:f:%s %ld", th, config_int("session.mfa_pending_s"));
        json_t *d = json_pack("{s:s}", "stage", "login");
        security_event(&c, SECEV_MFA_FAILED, "warning", uid, d);
        json_decref(d);
        if (n && n->type == REDIS_REPLY_INTEGER && n->integer >= 5) {
            kv_cmd(req->a, "DEL mfa:p:%s", th);
            res_error(req, res, 400, "bad_mfa_token", render_lang_string(req->lang, "auth.mfa_expired"));
            return 0;
        }
        res->status = 422;
        res_page(res, "auth/login_2fa.cs", "auth.mfa_title",
                 json_pack("{s:s, s:s, s:s}", "mfa_token", tok, "next", next, "error",
                           render_lang_string(req->lang, "auth.mfa_invalid")));
        return 0;
    }
    kv_cmd(req->a, "DEL mfa:p:%s", th);
    kv_cmd(req->a, "DEL mfa:f:%s", th);
    kv_cmd(req->a, "DEL lf:a:%s", email_hash);
    return complete_login(req, res, uid, tid, (long long)time(NULL), method, prior, next);
}

static int logout(request *req, response *res)
{
    const char *tok = req_cookie(req, session_cookie_name());
    if (session_destroy(req->a, tok) < 0)
        return -1;
    char id[24];
    snprintf(id, sizeof id, "%lld", req->session->user_id);
    audit_record(&req->cx, "auth.logout", "user", id, NULL, NULL);
    res_header(res, "Set-Cookie", session_cookie(req->a, NULL));
    res_redirect(res, "/login");
    return 0;
}

static int set_lang(request *req, response *res)
{
    const char *lang = req_form(req, "lang");
    if (!lang || !render_lang_known(lang)) {
        res_error(req, res, 422, "bad_lang", "unknown language");
        return 0;
    }
    char *c = arena_printf(req->a, "lang=%s; Path=/; Max-Age=31536000; SameSite=Lax", lang);
    res_header(res, "Set-Cookie", c);
    res_redirect(res, req_local_path(req_form(req, "next"), "/dashboard"));
    return 0;
}

static int root(request *req, response *res)
{
    res_redirect(res, req->session ? "/dashboard" : "/login");
    return 0;
}

static const route routes[] = {
    {"GET", "/", root, R_PUBLIC, NULL, NULL},
    {"GET", "/login", login_form, R_PUBLIC | R_PAGE, NULL, NULL},
    {"POST", "/login", login_submit, R_PUBLIC | R_CSRF, NULL, "auth.login"},
    {"POST", "/login/2fa", login_mfa_submit, R_PUBLIC | R_CSRF, NULL, "auth.login"},
    {"POST", "/logout", logout, R_AUTH | R_CSRF | R_MFA_SETUP, NULL, NULL},
    {"POST", "/lang", set_lang, R_PUBLIC | R_CSRF, NULL, NULL},
};

const module auth_module = {"auth", NULL, NULL, ROUTES(routes)};
