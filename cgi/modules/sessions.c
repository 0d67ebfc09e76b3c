/* sessions.c — "your sessions" (where you are signed in, with revoke) and personal API tokens
 * (hashed, scoped read/write, revocable, shown once) for /api/v1 with Authorization: Bearer. */
#include "app.h"
#include "audit.h"
#include "cache.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "modules.h"
#include "plans.h"
#include "pricing.h"
#include "notify.h"
#include "render.h"
#include "session.h"
#include "tenant.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int list_sessions(request *req, response *res)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid, req->session->sid_hash ? req->session->sid_hash : ""};
    /* the public handle is a prefix of the hash of the stored hash: it can name a session in a
     * form without exposing the key it is stored under */
    PGresult *r = tq_query(&req->cx, "sessions_list",
                           "SELECT left(encode(sha256(convert_to(id_hash, 'UTF8')), 'hex'), 20), "
                           "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ip, user_agent, "
                           "(id_hash = $3)::int, (mfa_at IS NOT NULL)::int FROM sessions "
                           "WHERE tenant_id = $1 AND user_id = $2::bigint AND revoked_at IS NULL "
                           "AND expires_at > now() ORDER BY seen_at DESC LIMIT 100",
                           2, p);
    if (!r)
        return -1;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "id", PQgetvalue(r, i, 0),
                                              "created", PQgetvalue(r, i, 1), "seen", PQgetvalue(r, i, 2), "ip",
                                              PQgetvalue(r, i, 3), "user_agent", PQgetvalue(r, i, 4), "current",
                                              atoi(PQgetvalue(r, i, 5)), "mfa", atoi(PQgetvalue(r, i, 6))));
    res_page(res, "sessions/index.cs", "sessions.title", json_pack("{s:o}", "sessions", list));
    return 0;
}

static int revoke_where(request *req, response *res, const char *handle, int others)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *cur = req->session->sid_hash ? req->session->sid_hash : "";
    const char *p[] = {uid, others ? cur : handle};
    json_t *after = json_pack("{s:s}", "scope", others ? "others" : "one");
    PGresult *r = others ? audit_tq(&req->cx, "sessions_revoke_others",
                                    "UPDATE sessions SET revoked_at = now() WHERE tenant_id = $1 AND user_id = $2::bigint "
                                    "AND revoked_at IS NULL AND id_hash <> $3 RETURNING id_hash",
                                    2, p, "account.sessions_revoke_others", "user", uid, after)
                         : audit_tq(&req->cx, "sessions_revoke_one",
                                    "UPDATE sessions SET revoked_at = now() WHERE tenant_id = $1 AND user_id = $2::bigint "
                                    "AND revoked_at IS NULL "
                                    "AND left(encode(sha256(convert_to(id_hash, 'UTF8')), 'hex'), 20) = $3 RETURNING id_hash",
                                    2, p, "account.session_revoke", "session", handle, after);
    json_decref(after);
    if (!r)
        return -1;
    int n = PQntuples(r);
    if (!others && n == 0) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    /* the Redis copies go too; near caches follow through tracking */
    for (int i = 0; i < n; i++)
        kv_cmd(req->a, "DEL s:%s", PQgetvalue(r, i, 0));
    /* revoking the session in use signs this browser out */
    int self = 0;
    for (int i = 0; i < n; i++)
        self |= !strcmp(PQgetvalue(r, i, 0), cur);
    if (self) {
        res_header(res, "Set-Cookie", session_cookie(req->a, NULL));
        res_redirect(res, "/login");
        return 0;
    }
    if (req->api)
        res_json(res, 200, json_pack("{s:i}", "revoked", n));
    else
        res_redirect(res, "/account/sessions");
    return 0;
}

static int revoke_one(request *req, response *res)
{
    const char *h = req_path_param(req, "id");
    if (!h || strlen(h) != 20 || strspn(h, "0123456789abcdef") != 20) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    return revoke_where(req, res, h, 0);
}

static int revoke_others(request *req, response *res)
{
    return revoke_where(req, res, NULL, 1);
}

/* ---- personal API tokens ---- */

static int list_tokens(request *req, response *res)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "tokens_list",
                           "SELECT id, name, prefix, array_to_string(scopes, ','), "
                           "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "coalesce(to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ''), "
                           "coalesce(to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '') FROM api_tokens "
                           "WHERE tenant_id = $1 AND user_id = $2::bigint AND revoked_at IS NULL "
                           "AND (expires_at IS NULL OR expires_at > now()) ORDER BY id DESC",
                           1, p);
    if (!r)
        return -1;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                                              (json_int_t)atoll(PQgetvalue(r, i, 0)), "name", PQgetvalue(r, i, 1),
                                              "prefix", PQgetvalue(r, i, 2), "scopes", PQgetvalue(r, i, 3), "created",
                                              PQgetvalue(r, i, 4), "last_used", PQgetvalue(r, i, 5), "expires",
                                              PQgetvalue(r, i, 6)));
    json_t *d = json_pack("{s:o}", "tokens", list);
    if (res->data) {
        /* a just-created token is shown on the same page, once */
        json_object_update(d, res->data);
        json_decref(res->data);
        res->data = NULL;
    }
    res_page(res, "sessions/tokens.cs", "sessions.tokens_title", d);
    return 0;
}


static int create_token(request *req, response *res)
{
    const char *name = req_field(req, "name"), *scope = req_field(req, "scope");
    const char *days = req_field(req, "expires_days");
    long ndays = days && *days ? strtol(days, NULL, 10) : 90;
    if (!name || !*name || strlen(name) > 60 || !scope || (strcmp(scope, "read") && strcmp(scope, "write")) ||
        ndays < 1 || ndays > 365) {
        res_error(req, res, 422, "bad_token_request", render_lang_string(req->lang, "sessions.token_invalid"));
        return 0;
    }
    /* counted before the insert: two tokens created at the same instant may pass one over the limit */
    PGresult *in_force = tq_query(&req->cx, "tokens_in_force",
                                  "SELECT count(*) FROM api_tokens WHERE tenant_id = $1 AND revoked_at IS NULL "
                                  "AND expires_at > now()",
                                  0, NULL);
    if (!in_force)
        return -1;
    plan_refusal refusal;
    if (plans_check(req->a, req->cx.tenant_id, PLAN_API_TOKENS, atoll(PQgetvalue(in_force, 0, 0)), 1, &refusal) != 1) {
        pricing_refuse(req, res, &refusal);
        return 0;
    }
    unsigned char raw[6];
    randombytes_buf(raw, sizeof raw);
    char prefix[13], secret[64], hash[65];
    sodium_bin2hex(prefix, sizeof prefix, raw, sizeof raw);
    random_token(secret, sizeof secret, 32);
    session_hash(secret, hash);
    char uid[24], nd[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    snprintf(nd, sizeof nd, "%ld", ndays);
    const char *scopes = !strcmp(scope, "write") ? "{read,write}" : "{read}";
    const char *p[] = {uid, name, prefix, hash, scopes, nd};
    json_t *after = json_pack("{s:s, s:s, s:s, s:i}", "name", name, "prefix", prefix, "scope", scope, "days", (int)ndays);
    PGresult *r = audit_tq(&req->cx, "tokens_create",
                           "INSERT INTO api_tokens (tenant_id, user_id, name, prefix, token_hash, scopes, expires_at) "
                           "SELECT u.tenant_id, u.id, $3, $4, $5, $6::text[], now() + make_interval(days => $7::int) "
                           "FROM users u WHERE u.id = $2::bigint AND u.tenant_id = $1 RETURNING id",
                           6, p, "account.token_create", "api_token", NULL, after);
    json_decref(after);
    if (!r || PQntuples(r) != 1)
        return -1;
    /* a token outlives the session that made it: its owner hears of every new one */
    json_t *notice = json_pack("{s:s, s:s, s:s}", "name", name, "prefix", prefix, "scope", scope);
    notify_msg m = {.tenant_id = req->session->tenant_id,
                    .user_id = req->session->user_id,
                    .category = "seguranca",
                    .template_name = "account.token_created",
                    .data = notice,
                    .priority = NOTIFY_NORMAL};
    if (!notice || notify_send(&req->cx, &m) < 0)
        log_warn("tokens: the notice of token %s was not written", prefix);
    json_decref(notice);
    char *token = arena_printf(req->a, "bcf_%s_%s", prefix, secret);
    sodium_memzero(secret, sizeof secret);
    if (req->api) {
        res_json(res, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)atoll(PQgetvalue(r, 0, 0)), "token", token,
                                     "prefix", prefix));
        return 0;
    }
    res->data = json_pack("{s:s}", "new_token", token);
    return list_tokens(req, res);
}

static int revoke_token(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    if (!id) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid, id};
    PGresult *r = audit_tq(&req->cx, "tokens_revoke",
                           "UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = $1 AND user_id = $2::bigint "
                           "AND id = $3::bigint AND revoked_at IS NULL RETURNING prefix",
                           2, p, "account.token_revoke", "api_token", id, NULL);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    char tag[48];
    snprintf(tag, sizeof tag, "apitoken:%s", PQgetvalue(r, 0, 0));
    cache_invalidate_tag(tag);
    if (req->api)
        res_json(res, 200, json_pack("{s:b}", "revoked", 1));
    else
        res_redirect(res, "/account/tokens");
    return 0;
}

#define PAGE (R_AUTH | R_PAGE | R_SESSION_ONLY | R_MFA_SETUP)
#define POST (R_AUTH | R_CSRF | R_SESSION_ONLY | R_MFA_SETUP)

static const route routes[] = {
    {"GET", "/account/sessions", list_sessions, PAGE, NULL, NULL},
    {"POST", "/account/sessions/{id}/revoke", revoke_one, POST | R_PAGE, NULL, NULL},
    {"POST", "/account/sessions/revoke-others", revoke_others, POST | R_PAGE, NULL, NULL},
    {"GET", "/account/tokens", list_tokens, R_AUTH | R_PAGE | R_SESSION_ONLY, NULL, NULL},
    {"POST", "/account/tokens", create_token, R_AUTH | R_CSRF | R_PAGE | R_SESSION_ONLY, NULL, NULL},
    {"POST", "/account/tokens/{id}/revoke", revoke_token, R_AUTH | R_CSRF | R_PAGE | R_SESSION_ONLY, NULL, NULL},
};

const module sessions_module = {"sessions", NULL, NULL, ROUTES(routes)};
