/* account.c — the account's life outside sign-in: registration with e-mail verification, the
 * forgotten-password reset (single-use expiring links), the password change and the overview page. */
#include "app.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "lgpd.h"
#include "log.h"
#include "mail.h"
#include "modules.h"
#include "users.h"
#include "rbac.h"
#include "password.h"
#include "render.h"
#include "secevent.h"
#include "session.h"
#include "tenant.h"
#include "utf8.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECEV_PASSWORD_CHANGE_FAILED "password_change_failed"

enum { TOKEN_BYTES = 32, TOKEN_CHARS = 43 };

static const char *t(const request *req, const char *key)
{
    return render_lang_string(req->lang, key);
}


/* ---- input checks ---- */

static int name_ok(const char *s)
{
    if (!s || !utf8_valid(s, strlen(s)))
        return 0;
    size_t points = 0, visible = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        if ((*p & 0xc0) != 0x80)
            points++;
        if (*p != ' ')
            visible++;
    }
    return visible > 0 && points <= 80;
}

/* One plain address: what a person types, and nothing a mail header could be split with. */
static int email_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 254 || !utf8_valid(s, n))
        return 0;
    const char *at = strchr(s, '@');
    if (!at || at == s || at - s > 64 || strchr(at + 1, '@'))
        return 0;
    const char *dom = at + 1, *dot = strrchr(dom, '.');
    if (!dot || dot == dom || !dot[1] || dom[0] == '.' || strstr(dom, ".."))
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr(",;<>()[]\"\\:", *p))
            return 0;
    return 1;
}

/* The shape random_token() makes: 43 base64url characters. */
static int token_shape_ok(const char *tok)
{
    if (!tok || strlen(tok) != TOKEN_CHARS)
        return 0;
    for (const char *p = tok; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_'))
            return 0;
    return 1;
}

/* ---- e-mail text ---- */

/* Replaces each {key} of tmpl by its value (pairs: key, value, ..., NULL). */
static char *fill(arena *a, const char *tmpl, const char *const *pairs)
{
    buf b;
    buf_init(&b);
    for (const char *p = tmpl; *p;) {
        int done = 0;
        if (*p == '{')
            for (const char *const *kv = pairs; kv[0]; kv += 2) {
                size_t kl = strlen(kv[0]);
                if (!strncmp(p + 1, kv[0], kl) && p[1 + kl] == '}') {
                    buf_puts(&b, kv[1]);
                    p += kl + 2;
                    done = 1;
                    break;
                }
            }
        if (!done)
            buf_putc(&b, *p++);
    }
    char *out = b.oom ? NULL : arena_strdup(a, b.data ? b.data : "");
    buf_free(&b);
    return out;
}

static const char *base_url(arena *a)
{
    const char *u = config_get("app.base_url");
    size_t n = u ? strlen(u) : 0;
    while (n && u[n - 1] == '/')
        n--;
    return arena_strndup(a, u ? u : "", n);
}

/* Queues Lang.account.mail.<kind>_subject / _body in lang, with {name}, {link}, {hours} and
 * {minutes} filled in. Returns the outbox id or -1. */
static long long queue_mail(const ctx *c, const char *lang, const char *to, const char *kind, const char *name,
                            const char *link)
{
    char key[96], hours[24], minutes[24];
    snprintf(hours, sizeof hours, "%ld", config_int("account.verify_ttl_s") / 3600);
    snprintf(minutes, sizeof minutes, "%ld", config_int("account.reset_ttl_s") / 60);
    const char *pairs[] = {"name", name ? name : "", "link", link ? link : "", "hours", hours, "minutes", minutes, NULL};
    snprintf(key, sizeof key, "account.mail.%s_subject", kind);
    const char *subject = render_lang_string(lang, key);
    snprintf(key, sizeof key, "account.mail.%s_body", kind);
    char *body = fill(c->a, render_lang_string(lang, key), pairs);
    if (!body)
        return -1;
    return mail_queue(c, to, subject, body);
}

/* ---- account lookups and tokens ---- */

typedef struct account {
    long long id, tenant_id;
    const char *email, *name, *lang, *status;
    int verified;
} account;

static void account_fill(PGresult *r, account *u)
{
    u->id = atoll(PQgetvalue(r, 0, 0));
    u->tenant_id = atoll(PQgetvalue(r, 0, 1));
    u->email = PQgetvalue(r, 0, 2);
    u->name = PQgetvalue(r, 0, 3);
    u->lang = PQgetvalue(r, 0, 4);
    u->status = PQgetvalue(r, 0, 5);
    u->verified = PQgetvalue(r, 0, 6)[0] == 't';
}

/* 1 found, 0 none, -1 database error. */
static int account_by_email(request *req, const char *email, account *u)
{
    user_row row;
    int rc = users_by_email(req->a, email, &row);
    memset(u, 0, sizeof *u);
    if (rc == 1) {
        u->id = row.id;
        u->tenant_id = row.tenant_id;
        u->email = row.email;
        u->name = row.name;
        u->lang = row.lang;
        u->status = row.status;
        u->verified = row.verified;
    }
    return rc;
}

/* The account a still valid, unused token of purpose belongs to. 1 found, 0 none, -1 error. */
static int account_by_token(request *req, const char *hash, const char *purpose, account *u)
{
    const char *p[] = {hash, purpose};
    /* cross-tenant: the link's token is the only credential of an anonymous visitor */
    PGresult *r = db_query(req->a, "account_by_token",
                           "SELECT u.id, u.tenant_id, u.email, u.display_name, u.lang, u.status, "
                           "u.email_verified_at IS NOT NULL FROM account_tokens t JOIN users u ON u.id = t.user_id "
                           "WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now() "
                           "AND u.status = 'active'",
                           2, p);
    if (!r)
        return -1;
    memset(u, 0, sizeof *u);
    if (PQntuples(r) != 1)
        return 0;
    account_fill(r, u);
    return 1;
}

static ctx actor(const request *req, long long tenant_id, long long user_id)
{
    ctx c = req->cx;
    c.tenant_id = tenant_id;
    c.user_id = user_id;
    return c;
}

/* A new single-use link token for (c's tenant, uid); earlier unused ones of the same purpose
 * stop working, so only the newest link in the mailbox is good. Only the hash is stored. */
static int token_issue(const ctx *c, long long uid, const char *purpose, long ttl_s, char *tok, size_t toklen)
{
    char uidb[24], ttl[24], hash[65];
    snprintf(uidb, sizeof uidb, "%lld", uid);
    snprintf(ttl, sizeof ttl, "%ld", ttl_s);
    const char *pv[] = {uidb, purpose};
    if (tq_exec(c, "account_token_void",
                "UPDATE account_tokens SET used_at = now() WHERE tenant_id = $1 AND user_id = $2::bigint "
                "AND purpose = $3 AND used_at IS NULL",
                2, pv) < 0)
        return -1;
    random_token(tok, toklen, TOKEN_BYTES);
    session_hash(tok, hash);
    const char *p[] = {hash, uidb, purpose, ttl};
    long n = tq_exec(c, "account_token_new",
                     "INSERT INTO account_tokens (token_hash, tenant_id, user_id, purpose, expires_at) "
                     "SELECT $2, u.tenant_id, u.id, $4, now() + make_interval(secs => $5::int) "
                     "FROM users u WHERE u.id = $3::bigint AND u.tenant_id = $1",
                     4, p);
    return n == 1 ? 0 : -1;
}

static char *link_for(arena *a, const char *path, const char *tok)
{
    return arena_printf(a, "%s%s?token=%s", base_url(a), path, tok);
}

/* ---- pages ---- */

/* The one answer of the anonymous flows, whatever happened behind it. */
static void sent_page(request *req, response *res, const char *msg_key)
{
    res_page(res, "account/sent.cs", "account.sent_title", json_pack("{s:s}", "message", t(req, msg_key)));
}

static void register_page(request *req, response *res, int status, json_t *errors, const char *name,
                          const char *email)
{
    res->status = status;
    json_t *d = json_pack("{s:s, s:s}", "name", name ? name : "", "email", email ? email : "");
    if (errors)
        json_object_set_new(d, "errors", errors);
    res_page(res, "account/register.cs", "account.register_title", d);
}

static int register_form(request *req, response *res)
{
    if (req->session && !req->api) {
        res_redirect(res, "/dashboard");
        return 0;
    }
    register_page(req, res, 200, NULL, NULL, NULL);
    return 0;
}

struct registration {
    request *req;
    const char *name, *email, *hash;
    long long tenant_id, user_id;
};

static int register_tx(void *arg)
{
    struct registration *g = arg;
    request *req = g->req;
    const char *pt[] = {g->name};
    /* cross-tenant: a registration creates its own tenant; nothing of another tenant is read */
    PGresult *r = db_query(req->a, "account_new_tenant",
                           "INSERT INTO tenants (kind, name, plan) VALUES ('trader', $1, 'free') RETURNING id", 1, pt);
    if (!r || PQntuples(r) != 1)
        return -1;
    g->tenant_id = atoll(PQgetvalue(r, 0, 0));
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", g->tenant_id);
    const char *pu[] = {tid, g->email, g->name, g->hash, req->lang ? req->lang : "pt-BR"};
    /* cross-tenant: the user row of the tenant created just above, in this transaction */
    r = db_query(req->a, "account_new_user",
                 "INSERT INTO users (tenant_id, email, display_name, password_hash, role, lang) "
                 "VALUES ($1::bigint, $2, $3, $4, 'trader', $5) RETURNING id",
                 5, pu);
    if (!r || PQntuples(r) != 1)
        return -1;
    g->user_id = atoll(PQgetvalue(r, 0, 0));
    ctx c = actor(req, g->tenant_id, g->user_id);
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", g->user_id);
    const char *pr[] = {uid};
    if (tq_exec(&c, "account_new_role",
                "INSERT INTO user_roles (tenant_id, user_id, role_key) SELECT u.tenant_id, u.id, 'trader' "
                "FROM users u WHERE u.id = $2::bigint AND u.tenant_id = $1",
                1, pr) != 1)
        return -1;
    char tok[64];
    if (token_issue(&c, g->user_id, "verify", config_int("account.verify_ttl_s"), tok, sizeof tok) < 0)
        return -1;
    /* the one checkbox accepts both documents in force: one consent record each */
    static const char *const documents[] = {"terms", "privacy"};
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++) {
        int version = lgpd_current_version(req->a, documents[i]);
        if (version < 0 || (version > 0 && lgpd_record_consent_ua(&c, g->user_id, documents[i], version, 1,
                                                                  req_user_agent(req)) != 0))
            return -1;
        if (version == 0)
            log_warn("registration without a published %s document: no consent recorded", documents[i]);
    }
    long long mid = queue_mail(&c, req->lang, g->email, "verify", g->name, link_for(req->a, "/verify", tok));
    sodium_memzero(tok, sizeof tok);
    if (mid < 0)
        return -1;
    json_t *after = json_pack("{s:s, s:I}", "email", g->email, "tenant_id", (json_int_t)g->tenant_id);
    int rc = audit_record(&c, "account.register", "user", uid, NULL, after);
    json_decref(after);
    return rc;
}

/* Someone registered with an address that has an account: its owner hears of it, the visitor
 * learns nothing. */
static int warn_existing(request *req, const account *u)
{
    ctx c = actor(req, u->tenant_id, 0);
    long long id = queue_mail(&c, u->lang, u->email, "exists", u->name, arena_printf(req->a, "%s/password/forgot", base_url(req->a)));
    if (id < 0)
        return -1;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", u->id);
    return audit_record(&c, "account.register_existing", "user", uid, NULL, NULL);
}

static int register_submit(request *req, response *res)
{
    const char *name = req_field(req, "name"), *email = req_field(req, "email"), *pw = req_field(req, "password");
    const char *confirm = req_field(req, "password_confirm"), *terms = req_field(req, "accept_terms");
    json_t *errors = json_object();
    if (!name_ok(name))
        json_object_set_new(errors, "name", json_string(t(req, "account.err_name")));
    if (!email_ok(email))
        json_object_set_new(errors, "email", json_string(t(req, "account.err_email")));
    const char *policy = pw ? password_policy_error(pw, email_ok(email) ? email : "") : "account.err_password";
    if (policy)
        json_object_set_new(errors, "password", json_string(t(req, policy)));
    else if (!confirm || strcmp(pw, confirm) != 0)
        json_object_set_new(errors, "password_confirm", json_string(t(req, "account.err_confirm")));
    if (!terms || strcmp(terms, "1") != 0)
        json_object_set_new(errors, "accept_terms", json_string(t(req, "account.err_terms")));
    if (json_object_size(errors)) {
        /* what was typed comes back only when it is printable text */
        register_page(req, res, 422, errors, name && utf8_valid(name, strlen(name)) && strlen(name) < 400 ? name : "",
                      email_ok(email) ? email : "");
        return 0;
    }
    json_decref(errors);
    /* hashed before the lookup, so a known address answers as slowly as a new one */
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(pw, hash) < 0)
        return -1;
    account u;
    int found = account_by_email(req, email, &u);
    if (found < 0)
        return -1;
    if (found) {
        if (warn_existing(req, &u) < 0)
            return -1;
        sent_page(req, res, "account.register_sent");
        return 0;
    }
    struct registration g = {req, name, email, hash, 0, 0};
    if (db_tx(register_tx, &g) < 0) {
        if (strcmp(db_sqlstate(), "23505") != 0)
            return -1;
        /* the same address was registered a moment ago by a concurrent request */
        if (account_by_email(req, email, &u) == 1 && warn_existing(req, &u) < 0)
            return -1;
    }
    sodium_memzero(hash, sizeof hash);
    sent_page(req, res, "account.register_sent");
    return 0;
}

/* ---- e-mail verification ---- */

struct consume {
    request *req;
    const char *hash, *purpose, *new_hash;
    long long user_id, tenant_id;
    const char *email, *name, *lang;
};

/* Marks the token used if it still may be (a double submit loses the race); 1 when it was. */
static int token_consume(struct consume *k)
{
    const char *p[] = {k->hash, k->purpose};
    /* cross-tenant: the link's token is the only credential of an anonymous visitor */
    PGresult *r = db_query(k->req->a, "account_token_use",
                           "UPDATE account_tokens t SET used_at = now() FROM users u WHERE t.token_hash = $1 "
                           "AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now() AND u.id = t.user_id "
                           "AND u.status = 'active' RETURNING t.user_id, t.tenant_id, u.email, u.display_name, u.lang",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    k->user_id = atoll(PQgetvalue(r, 0, 0));
    k->tenant_id = atoll(PQgetvalue(r, 0, 1));
    k->email = PQgetvalue(r, 0, 2);
    k->name = PQgetvalue(r, 0, 3);
    k->lang = PQgetvalue(r, 0, 4);
    return 1;
}

static int verify_tx(void *arg)
{
    struct consume *k = arg;
    k->user_id = 0;
    int used = token_consume(k);
    if (used <= 0)
        return used;
    ctx c = actor(k->req, k->tenant_id, k->user_id);
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", k->user_id);
    const char *p[] = {uid};
    if (tq_exec(&c, "account_verified",
                "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) "
                "WHERE tenant_id = $1 AND id = $2::bigint",
                1, p) != 1)
        return -1;
    json_t *after = json_pack("{s:s}", "email", k->email);
    int rc = audit_record(&c, "account.verify", "user", uid, NULL, after);
    json_decref(after);
    return rc;
}

static void verify_failed(request *req, response *res)
{
    if (req->api) {
        res_error(req, res, 400, "invalid_token", t(req, "account.verify_invalid"));
        return;
    }
    res->status = 400;
    res_page(res, "account/verify.cs", "account.verify_title",
             json_pack("{s:b, s:s}", "verified", 0, "error", t(req, "account.verify_invalid")));
}

static int verify_link(request *req, response *res)
{
    const char *tok = req_query(req, "token");
    if (!token_shape_ok(tok)) {
        verify_failed(req, res);
        return 0;
    }
    char hash[65];
    session_hash(tok, hash);
    struct consume k = {.req = req, .hash = hash, .purpose = "verify"};
    if (db_tx(verify_tx, &k) < 0)
        return -1;
    if (!k.user_id) {
        verify_failed(req, res);
        return 0;
    }
    res_page(res, "account/verify.cs", "account.verify_title", json_pack("{s:b}", "verified", 1));
    return 0;
}

/* Lives in the request arena: it runs after the response (app_defer). */
struct reissue {
    ctx c;      /* the account's tenant and user, this request's address and id */
    account u;
    const char *purpose, *kind, *path, *action;
    long ttl_s;
};

/* A new link by e-mail (verification again, or a password reset), audited. */
static int reissue_tx(void *arg)
{
    struct reissue *x = arg;
    char tok[64], uid[24];
    if (token_issue(&x->c, x->u.id, x->purpose, x->ttl_s, tok, sizeof tok) < 0)
        return -1;
    long long mid = queue_mail(&x->c, x->u.lang, x->u.email, x->kind, x->u.name, link_for(x->c.a, x->path, tok));
    sodium_memzero(tok, sizeof tok);
    if (mid < 0)
        return -1;
    snprintf(uid, sizeof uid, "%lld", x->u.id);
    json_t *after = json_pack("{s:s}", "purpose", x->purpose);
    int rc = audit_record(&x->c, x->action, "user", uid, NULL, after);
    json_decref(after);
    return rc;
}

static void reissue_later(void *arg)
{
    struct reissue *x = arg;
    if (db_tx(reissue_tx, x) < 0)
        log_error("%s for user %lld failed after the answer: %s", x->action, x->u.id, db_error());
}

/* Known and unknown addresses get the same page at the same speed: the link is made after the
 * response has left (app_defer), so its work does not show in the response time. */
static int reissue(request *req, const account *u, const char *purpose, const char *kind, const char *path,
                   const char *action, long ttl_s)
{
    struct reissue *x = arena_calloc(req->a, 1, sizeof(*x));
    if (!x)
        return -1;
    x->c = actor(req, u->tenant_id, u->id);
    x->u = *u;
    x->purpose = purpose;
    x->kind = kind;
    x->path = path;
    x->action = action;
    x->ttl_s = ttl_s;
    return app_defer(reissue_later, x);
}

static int verify_resend(request *req, response *res)
{
    const char *email = req_field(req, "email");
    if (!email_ok(email)) {
        res->status = 422;
        res_page(res, "account/verify.cs", "account.verify_title",
                 json_pack("{s:b, s:s}", "verified", 0, "resend_error", t(req, "account.err_email")));
        return 0;
    }
    account u;
    int found = account_by_email(req, email, &u);
    if (found < 0)
        return -1;
    if (found && !u.verified && !strcmp(u.status, "active") &&
        reissue(req, &u, "verify", "verify", "/verify", "account.verify_resend", config_int("account.verify_ttl_s")) < 0)
        return -1;
    sent_page(req, res, "account.resend_sent");
    return 0;
}

/* ---- forgotten password ---- */

static int forgot_form(request *req, response *res)
{
    res_page(res, "account/forgot.cs", "account.forgot_title", json_pack("{s:s}", "email", ""));
    return 0;
}

static int forgot_submit(request *req, response *res)
{
    const char *email = req_field(req, "email");
    if (!email_ok(email)) {
        res->status = 422;
        res_page(res, "account/forgot.cs", "account.forgot_title",
                 json_pack("{s:s, s:s}", "email", "", "error", t(req, "account.err_email")));
        return 0;
    }
    account u;
    int found = account_by_email(req, email, &u);
    if (found < 0)
        return -1;
    if (found && !strcmp(u.status, "active") &&
        reissue(req, &u, "reset", "reset", "/password/reset", "account.reset_request",
                config_int("account.reset_ttl_s")) < 0)
        return -1;
    sent_page(req, res, "account.forgot_sent");
    return 0;
}

static void reset_invalid(request *req, response *res)
{
    res->status = 400;
    res_page(res, "account/reset.cs", "account.reset_title",
             json_pack("{s:s, s:s}", "token", "", "invalid", t(req, "account.reset_invalid")));
}

static int reset_form(request *req, response *res)
{
    const char *tok = req_query(req, "token");
    char hash[65];
    account u;
    if (!token_shape_ok(tok)) {
        reset_invalid(req, res);
        return 0;
    }
    session_hash(tok, hash);
    int found = account_by_token(req, hash, "reset", &u);
    if (found < 0)
        return -1;
    if (!found) {
        reset_invalid(req, res);
        return 0;
    }
    res_page(res, "account/reset.cs", "account.reset_title", json_pack("{s:s}", "token", tok));
    return 0;
}

/* The new password's row changes; every other unused reset link dies; the owner is told. */
static int password_store(request *req, const ctx *c, long long uid, const char *hash, const char *email,
                          const char *name, const char *lang, const char *action)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", uid);
    const char *p[] = {id, hash, action};
    /* a reset link proves the mailbox as well as a verification link does */
    if (tq_exec(c, "account_password_set",
                "UPDATE users SET password_hash = $3, password_changed_at = now(), "
                "email_verified_at = CASE WHEN $4 = 'account.password_reset' THEN coalesce(email_verified_at, now()) "
                "ELSE email_verified_at END WHERE tenant_id = $1 AND id = $2::bigint",
                3, p) != 1)
        return -1;
    const char *pv[] = {id};
    if (tq_exec(c, "account_reset_void",
                "UPDATE account_tokens SET used_at = now() WHERE tenant_id = $1 AND user_id = $2::bigint "
                "AND purpose = 'reset' AND used_at IS NULL",
                1, pv) < 0)
        return -1;
    /* personal API tokens end too: one minted from a stolen session must not outlive the
     * recovery (their cached rows go with the user:<id> tag after the transaction) */
    long revoked = tq_exec(c, "account_tokens_revoke",
                           "UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = $1 AND user_id = $2::bigint "
                           "AND revoked_at IS NULL",
                           1, pv);
    if (revoked < 0)
        return -1;
    if (queue_mail(c, lang, email, "changed", name, arena_printf(req->a, "%s/password/forgot", base_url(req->a))) < 0)
        return -1;
    json_t *after = json_pack("{s:I}", "api_tokens_revoked", (json_int_t)revoked);
    int rc = audit_record(c, action, "user", id, NULL, after);
    json_decref(after);
    return rc;
}

static int reset_tx(void *arg)
{
    struct consume *k = arg;
    k->user_id = 0;
    int used = token_consume(k);
    if (used <= 0)
        return used;
    ctx c = actor(k->req, k->tenant_id, k->user_id);
    return password_store(k->req, &c, k->user_id, k->new_hash, k->email, k->name, k->lang, "account.password_reset");
}

static void reset_page_error(request *req, response *res, const char *tok, const char *field_name, const char *msg)
{
    res->status = 422;
    json_t *errors = json_pack("{s:s}", field_name, msg);
    res_page(res, "account/reset.cs", "account.reset_title", json_pack("{s:s, s:o}", "token", tok, "errors", errors));
}

static int reset_submit(request *req, response *res)
{
    const char *tok = req_field(req, "token"), *pw = req_field(req, "password"), *confirm = req_field(req, "password_confirm");
    if (!token_shape_ok(tok)) {
        reset_invalid(req, res);
        return 0;
    }
    char hash[65];
    session_hash(tok, hash);
    account u;
    int found = account_by_token(req, hash, "reset", &u);
    if (found < 0)
        return -1;
    if (!found) {
        reset_invalid(req, res);
        return 0;
    }
    const char *policy = pw ? password_policy_error(pw, u.email) : "account.err_password";
    if (policy) {
        reset_page_error(req, res, tok, "password", t(req, policy));
        return 0;
    }
    if (!confirm || strcmp(pw, confirm) != 0) {
        reset_page_error(req, res, tok, "password_confirm", t(req, "account.err_confirm"));
        return 0;
    }
    char pwhash[PASSWORD_HASH_MAX];
    if (password_hash(pw, pwhash) < 0)
        return -1;
    struct consume k = {.req = req, .hash = hash, .purpose = "reset", .new_hash = pwhash};
    int rc = db_tx(reset_tx, &k);
    sodium_memzero(pwhash, sizeof pwhash);
    if (rc < 0)
        return -1;
    if (!k.user_id) {
        reset_invalid(req, res);
        return 0;
    }
    /* whoever held a session (perhaps the reason for the reset) is signed out everywhere */
    rbac_forget(k.user_id); /* drops the cached API token rows (tag user:<id>) */
    if (session_destroy_user(req->a, k.user_id, NULL) < 0)
        return -1;
    if (req_cookie(req, session_cookie_name()))
        res_header(res, "Set-Cookie", session_cookie(req->a, NULL));
    res_redirect(res, "/login?reset=1");
    return 0;
}

/* ---- signed in: overview and password change ---- */

static int overview(request *req, response *res)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "account_overview",
                           "SELECT email, display_name, email_verified_at IS NOT NULL, totp_enabled_at IS NOT NULL, "
                           "to_char(password_changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
                           "FROM users WHERE tenant_id = $1 AND id = $2::bigint",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        res_error(req, res, 404, "not_found", t(req, "error.not_found"));
        return 0;
    }
    json_t *d = json_pack("{s:s, s:s, s:b, s:b, s:s}", "email", PQgetvalue(r, 0, 0), "name", PQgetvalue(r, 0, 1),
                          "verified", PQgetvalue(r, 0, 2)[0] == 't', "mfa", PQgetvalue(r, 0, 3)[0] == 't',
                          "password_changed", PQgetvalue(r, 0, 4));
    if (req_query(req, "password_changed"))
        json_object_set_new(d, "notice", json_string(t(req, "account.password_changed")));
    res_page(res, "account/index.cs", "account.title", d);
    return 0;
}

static void password_page(request *req, response *res, int status, const char *field_name, const char *msg)
{
    res->status = status;
    json_t *d = json_object();
    if (field_name)
        json_object_set_new(d, "errors", json_pack("{s:s}", field_name, msg));
    res_page(res, "account/password.cs", "account.password_title", d);
}

static int password_form(request *req, response *res)
{
    password_page(req, res, 200, NULL, NULL);
    return 0;
}

struct change {
    request *req;
    const char *hash, *email, *name, *lang;
};

static int change_tx(void *arg)
{
    struct change *x = arg;
    return password_store(x->req, &x->req->cx, x->req->session->user_id, x->hash, x->email, x->name, x->lang,
                          "account.password_change");
}

static int password_submit(request *req, response *res)
{
    const char *cur = req_field(req, "current_password"), *pw = req_field(req, "password");
    const char *confirm = req_field(req, "password_confirm");
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "account_pw_current",
                           "SELECT password_hash, email, display_name, lang FROM users WHERE tenant_id = $1 AND id = $2::bigint",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        res_error(req, res, 404, "not_found", t(req, "error.not_found"));
        return 0;
    }
    const char *email = PQgetvalue(r, 0, 1);
    if (!cur || strlen(cur) > 1024 || !password_verify(PQgetvalue(r, 0, 0), cur)) {
        json_t *d = json_pack("{s:s}", "stage", "current_password");
        security_event(&req->cx, SECEV_PASSWORD_CHANGE_FAILED, "warning", req->session->user_id, d);
        json_decref(d);
        password_page(req, res, 422, "current_password", t(req, "account.err_current"));
        return 0;
    }
    const char *policy = pw ? password_policy_error(pw, email) : "account.err_password";
    if (policy) {
        password_page(req, res, 422, "password", t(req, policy));
        return 0;
    }
    if (!confirm || strcmp(pw, confirm) != 0) {
        password_page(req, res, 422, "password_confirm", t(req, "account.err_confirm"));
        return 0;
    }
    if (!strcmp(pw, cur)) {
        password_page(req, res, 422, "password", t(req, "account.err_same"));
        return 0;
    }
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(pw, hash) < 0)
        return -1;
    struct change x = {req, hash, email, PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3)};
    int rc = db_tx(change_tx, &x);
    sodium_memzero(hash, sizeof hash);
    if (rc < 0)
        return -1;
    /* every session ends, this browser's too; it continues on a new one, so a stolen cookie
     * of the old password's time is worthless */
    rbac_forget(req->session->user_id); /* drops the cached API token rows (tag user:<id>) */
    if (session_destroy_user(req->a, req->session->user_id, NULL) < 0)
        return -1;
    char token[64];
    if (session_create_mfa(req->a, req->session->user_id, req->remote_addr, req_user_agent(req),
                           req->session->mfa_at, token, sizeof token) < 0)
        return -1;
    res_header(res, "Set-Cookie", session_cookie(req->a, token));
    sodium_memzero(token, sizeof token);
    res_redirect(res, "/account?password_changed=1");
    return 0;
}

static const route routes[] = {
    {"GET", "/register", register_form, R_PUBLIC | R_PAGE, NULL, NULL},
    {"POST", "/register", register_submit, R_PUBLIC | R_CSRF, NULL, "account.register"},
    {"GET", "/verify", verify_link, R_PUBLIC | R_PAGE, NULL, NULL},
    {"POST", "/verify/resend", verify_resend, R_PUBLIC | R_CSRF, NULL, "account.register"},
    {"GET", "/password/forgot", forgot_form, R_PUBLIC | R_PAGE, NULL, NULL},
    {"POST", "/password/forgot", forgot_submit, R_PUBLIC | R_CSRF, NULL, "account.reset"},
    {"GET", "/password/reset", reset_form, R_PUBLIC | R_PAGE, NULL, NULL},
    {"POST", "/password/reset", reset_submit, R_PUBLIC | R_CSRF, NULL, NULL},
    {"GET", "/account", overview, R_AUTH | R_PAGE | R_MFA_SETUP, NULL, NULL},
    {"GET", "/account/password", password_form, R_AUTH | R_PAGE | R_SESSION_ONLY, NULL, NULL},
    /* wrong current passwords count against the sign-in limit: this form is a password oracle too */
    {"POST", "/account/password", password_submit, R_AUTH | R_CSRF | R_SESSION_ONLY, NULL, "auth.login"},
};

const module account_module = {"account", "nav.account", "/account", ROUTES(routes)};
