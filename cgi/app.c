/* app.c — the request pipeline. Route flags drive every cross-cutting check, so handlers hold
 * only their own logic; every failure becomes a 4xx/5xx in the one error shape, never a crash. */
#include "app.h"
#include "cache.h"
#include "config.h"
#include "kv.h"
#include "lgpd.h"
#include "rbac.h"
#include "ratelimit.h"
#include "secevent.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "render.h"
#include "router.h"
#include "session.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <time.h>

int app_worker_slot = -1;

static const char *status_text(int s)
{
    switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

int app_init(void)
{
    char tdir[1024];
    snprintf(tdir, sizeof tdir, "%s/templates", config_get("app.root"));
    return render_init(tdir);
}

/* Is addr inside list (comma-separated addresses or CIDR blocks)? */
int app_addr_in_list(const char *addr, const char *list)
{
    if (!addr)
        return 0;
    unsigned char want[16];
    int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, addr, want) != 1)
        return 0;
    char item[128];
    while (list && *list) {
        const char *comma = strchr(list, ',');
        size_t n = comma ? (size_t)(comma - list) : strlen(list);
        snprintf(item, sizeof item, "%.*s", (int)(n < sizeof item ? n : sizeof item - 1), list);
        list = comma ? comma + 1 : NULL;
        char *s = item;
        while (isspace((unsigned char)*s))
            s++;
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        int bits = -1;
        char *slash = strchr(s, '/');
        if (slash) {
            *slash = '\0';
            bits = atoi(slash + 1);
        }
        int ifam = strchr(s, ':') ? AF_INET6 : AF_INET;
        unsigned char net[16];
        if (ifam != fam || inet_pton(ifam, s, net) != 1)
            continue;
        int len = fam == AF_INET ? 4 : 16;
        if (bits < 0 || bits > len * 8)
            bits = len * 8;
        int ok = 1;
        for (int b = 0; b < bits && ok; b++)
            if (((want[b / 8] ^ net[b / 8]) >> (7 - b % 8)) & 1)
                ok = 0;
        if (ok)
            return 1;
    }
    return 0;
}

int app_addr_allowed(const char *addr)
{
    return app_addr_in_list(addr, config_get("metrics.allow"));
}

static int valid_request_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '_' && s[n] != '.' && s[n] != ':')
            return 0;
    /* the same rule nginx applies before forwarding a client's id (nginx/dev.conf.in) */
    return n > 0 && n <= 128;
}

static const char *pick_lang(request *req)
{
    const char *c = req_cookie(req, "lang");
    if (c && render_lang_known(c))
        return c;
    const char *q = req_query(req, "lang");
    if (q && render_lang_known(q))
        return q;
    const char *al = req->accept_language;
    if (al) {
        /* the first listed language that we speak wins; quality values are rarely reordered */
        for (const char *p = al; *p;) {
            while (*p == ' ' || *p == ',')
                p++;
            if (!strncasecmp(p, "pt", 2))
                return "pt-BR";
            if (!strncasecmp(p, "en", 2))
                return "en";
            p = strchr(p, ',');
            if (!p)
                break;
        }
    }
    return config_get("app.default_lang");
}

static void security_headers(buf *out)
{
    buf_puts(out, "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
                  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
                  "form-action 'self'; object-src 'none'\r\n"
                  "X-Content-Type-Options: nosniff\r\n"
                  "Referrer-Policy: strict-origin-when-cross-origin\r\n"
                  "X-Frame-Options: DENY\r\n");
}

static void write_response(request *req, response *res, buf *out)
{
    buf_printf(out, "Status: %d %s\r\n", res->status, status_text(res->status));
    buf_printf(out, "Content-Type: %s\r\n", res->content_type ? res->content_type : "text/html; charset=utf-8");
    if (req->request_id)
        buf_printf(out, "X-Request-Id: %s\r\n", req->request_id);
    security_headers(out);
    if (!strstr(res->headers.data ? res->headers.data : "", "Cache-Control:"))
        buf_puts(out, "Cache-Control: no-store\r\n");
    if (res->headers.len)
        buf_append(out, res->headers.data, res->headers.len);
    buf_printf(out, "Content-Length: %zu\r\n\r\n", res->body.len);
    if (!req->is_head && res->body.len)
        buf_append(out, res->body.data, res->body.len);
}

/* The anonymous double-submit cookie: __Host- when cookies are Secure, so a sibling subdomain
 * cannot plant one (and with it a login CSRF). */
static const char *csrf_cookie_name(void)
{
    return config_bool("session.secure_cookie") ? "__Host-bcf_csrf" : "bcf_csrf";
}

/* Turns page data into HTML (or the JSON twin) once the handler is done. */
static void finish_page(request *req, response *res)
{
    if (!res->template)
        return;
    if (req->api) {
        json_t *d = res->data ? res->data : json_object();
        res->data = NULL;
        res_json(res, res->status ? res->status : 200, d);
        return;
    }
    if (!req->csrf) {
        char t[64];
        random_token(t, sizeof t, 24);
        req->csrf = arena_strdup(req->a, t);
        char *c = arena_printf(req->a, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", csrf_cookie_name(), t,
                               config_bool("session.secure_cookie") ? "; Secure" : "");
        if (c)
            res_header(res, "Set-Cookie", c);
    }
    char err[256];
    buf_clear(&res->body);
    if (render_page(req, res, &res->body, err, sizeof err) != 0) {
        log_error("render %s failed: %s", res->template, err);
        /* a template failure still answers with a readable page */
        buf_clear(&res->body);
        res->status = 500;
        res->error_code = "render_failed";
        buf_printf(&res->body,
                   "<!doctype html><html><head><meta charset=\"utf-8\"><title>500</title></head><body>"
                   "<h1>500</h1><p>%s</p><p>request id: %s</p></body></html>",
                   render_lang_string(req->lang, "error.internal"), req->request_id);
    }
    res->content_type = "text/html; charset=utf-8";
}

static void access_log(request *req, response *res, double dur)
{
    if (req->route && (req->route->flags & R_NOLOG) && res->status < 400)
        return;
    if (!log_enabled(res->status >= 500 ? LOG_ERROR : LOG_INFO))
        return;
    buf f;
    buf_init(&f);
    log_field_str(&f, "request_id", req->request_id);
    log_field_str(&f, "method", req->method);
    log_field_str(&f, "path", req->path);
    log_field_str(&f, "route", req->route_idx >= 0 ? router_name(req->route_idx) : "unmatched");
    log_field_int(&f, "status", res->status);
    log_field_double(&f, "duration_ms", dur * 1000.0);
    log_field_str(&f, "remote_addr", req->remote_addr);
    if (res->error_code)
        log_field_str(&f, "error", res->error_code);
    if (req->session) {
        log_field_int(&f, "user_id", req->session->user_id);
        log_field_int(&f, "tenant_id", req->session->tenant_id);
    }
    log_write(res->status >= 500 ? LOG_ERROR : LOG_INFO, "request", f.data);
    buf_free(&f);
}

static void json_decref_cb(void *p)
{
    json_decref(p);
}

static int load_session(request *req)
{
    const char *tok = req_cookie(req, session_cookie_name());
    if (!tok)
        return 0;
    session_data *s = session_lookup(req->a, tok);
    if (!s)
        return 0;
    session_info *si = arena_calloc(req->a, 1, sizeof(*si));
    if (!si)
        return -1;
    si->user_id = s->user_id;
    si->tenant_id = s->tenant_id;
    si->email = s->email;
    si->name = s->name;
    si->role = s->role;
    si->sid_hash = s->sid_hash;
    si->csrf = s->csrf;
    si->tenant_kind = s->tenant_kind;
    si->mfa_at = s->mfa_at;
    si->mfa_enrolled = s->mfa_enrolled;
    req->session = si;
    return 0;
}

/* A personal API token (Bearer, /api/v1 only). The row is cached by prefix; the secret is
 * checked against its SHA-256 in constant time. 0 = signed in, -1 = invalid, -2 = unavailable. */
static int load_token(request *req, const char *bearer)
{
    char prefix[16], secret[64];
    if (api_token_split(bearer, prefix, sizeof prefix, secret, sizeof secret) < 0)
        return -1;
    size_t len = 0;
    char *v = cache_get(req->a, "apitoken", "prefix", prefix, &len);
    json_t *j = NULL;
    if (v) {
        j = json_loadb(v, len, 0, NULL);
    } else {
        const char *p[] = {prefix};
        PGresult *r = db_query(req->a, "apitoken_load",
                               "SELECT t.id, t.user_id, t.tenant_id, t.token_hash, array_to_string(t.scopes, ','), "
                               "coalesce(floor(extract(epoch from t.expires_at))::bigint, 0), u.email, u.display_name, u.role, "
                               "tn.kind, (u.totp_enabled_at IS NOT NULL)::int "
                               "FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.tenant_id = t.tenant_id "
                               "AND u.status = 'active' JOIN tenants tn ON tn.id = t.tenant_id "
                               "WHERE t.prefix = $1 AND t.revoked_at IS NULL",
                               1, p);
        if (!r)
            return -2;
        if (PQntuples(r) != 1)
            return -1;
        j = json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:i}", "id",
                      (json_int_t)atoll(PQgetvalue(r, 0, 0)), "uid", (json_int_t)atoll(PQgetvalue(r, 0, 1)), "tid",
                      (json_int_t)atoll(PQgetvalue(r, 0, 2)), "hash", PQgetvalue(r, 0, 3), "scopes",
                      PQgetvalue(r, 0, 4), "exp", (json_int_t)atoll(PQgetvalue(r, 0, 5)), "email",
                      PQgetvalue(r, 0, 6), "name", PQgetvalue(r, 0, 7), "role", PQgetvalue(r, 0, 8), "tkind",
                      PQgetvalue(r, 0, 9), "mfa", atoi(PQgetvalue(r, 0, 10)));
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text) {
            char t1[48], t2[40];
            snprintf(t1, sizeof t1, "apitoken:%s", prefix);
            snprintf(t2, sizeof t2, "user:%s", PQgetvalue(r, 0, 1));
            const char *tags[] = {t1, t2};
            cache_set("apitoken", "prefix", prefix, text, strlen(text), tags, 2);
            free(text);
        }
    }
    if (!j)
        return -2;
    arena_on_cleanup(req->a, json_decref_cb, j);
    char hash[65];
    session_hash(secret, hash);
    const char *want = json_string_value(json_object_get(j, "hash"));
    long long exp = json_integer_value(json_object_get(j, "exp"));
    if (!want || strlen(want) != 64 || sodium_memcmp(want, hash, 64) != 0)
        return -1;
    if (exp && exp <= (long long)time(NULL))
        return -1;
    session_info *si = arena_calloc(req->a, 1, sizeof(*si));
    const char *scopes = json_string_value(json_object_get(j, "scopes"));
    char *sc = arena_strdup(req->a, scopes ? scopes : "");
    const char **list = arena_calloc(req->a, 8, sizeof(*list));
    if (!si || !sc || !list)
        return -2;
    size_t k = 0;
    for (char *save = NULL, *t = strtok_r(sc, ",", &save); t && k < 7; t = strtok_r(NULL, ",", &save))
        list[k++] = t;
    si->token_id = json_integer_value(json_object_get(j, "id"));
    si->user_id = json_integer_value(json_object_get(j, "uid"));
    si->tenant_id = json_integer_value(json_object_get(j, "tid"));
    si->email = json_string_value(json_object_get(j, "email"));
    si->name = json_string_value(json_object_get(j, "name"));
    si->role = json_string_value(json_object_get(j, "role"));
    si->tenant_kind = json_string_value(json_object_get(j, "tkind"));
    si->mfa_enrolled = (int)json_integer_value(json_object_get(j, "mfa"));
    si->scopes = list;
    req->session = si;
    /* last use, written at most once a minute per token */
    redisReply *rr = kv_cmd(req->a, "SET atu:%lld 1 EX 60 NX", si->token_id);
    if (rr && rr->type == REDIS_REPLY_STATUS) {
        char id[24];
        snprintf(id, sizeof id, "%lld", si->token_id);
        const char *p[] = {id};
        db_exec(req->a, "apitoken_touch", "UPDATE api_tokens SET last_used_at = now() WHERE id = $1::bigint", 1, p);
    }
    return 0;
}

static int token_has_scope(const session_info *si, const char *scope)
{
    for (const char *const *s = si->scopes; s && *s; s++)
        if (!strcmp(*s, scope))
            return 1;
    return 0;
}

/* One GCRA step; on refusal writes the 429 (or the 503 of a fail-closed action) and returns 1.
 * A refused client is recorded as a security event once per limit and minute, not per request. */
static int rate_limited(request *req, response *res, const char *name, const char *key)
{
    rl_policy p = rl_policy_for(name);
    if (p.limit <= 0)
        return 0;
    rl_result rr;
    if (rl_check(name, key, &p, &rr) < 0) {
        if (!rl_fail_closed(name))
            return 0;
        res_error(req, res, 503, "rate_limit_unavailable", render_lang_string(req->lang, "error.unavailable"));
        return 1;
    }
    if (rr.allowed)
        return 0;
    long secs = (rr.retry_after_ms + 999) / 1000;
    char ra[24];
    snprintf(ra, sizeof ra, "%ld", secs < 1 ? 1 : secs);
    res_header(res, "Retry-After", ra);
    res_error(req, res, 429, "rate_limited", render_lang_string(req->lang, "error.rate_limited"));
    redisReply *seen = kv_cmd(req->a, "SET rlv:%s:%s 1 EX 60 NX", name, key);
    if (seen && seen->type == REDIS_REPLY_STATUS) {
        json_t *d = json_pack("{s:s, s:s, s:I}", "limit", name, "route",
                              req->route_idx >= 0 ? router_name(req->route_idx) : "", "retry_after_s", (json_int_t)secs);
        security_event(&req->cx, SECEV_RATE_LIMITED, "warning", req->cx.user_id, d);
        json_decref(d);
    }
    return 1;
}

/* security.ip_allow.<role>: a staff role may be limited to some addresses. A user passes when
 * every one of their restricted roles allows the address. 1 pass, 0 refused, -1 unknown. */
static int ip_allowed_for_roles(request *req)
{
    const char *const *roles = rbac_roles(req->a, req->session->user_id);
    if (!roles)
        return -1; /* unknown roles: the allowlist cannot be checked, so nobody passes */
    for (const char *const *r = roles; r && *r; r++) {
        char key[96];
        snprintf(key, sizeof key, "security.ip_allow.%s", *r);
        const char *list = config_get(key);
        if (list && *list && !app_addr_in_list(req->remote_addr, list))
            return 0;
    }
    return 1;
}

int app_mfa_required(const session_info *si)
{
    const char *kinds = config_get("security.mfa_required_kinds");
    if (!kinds || !si->tenant_kind || !*si->tenant_kind)
        return 0;
    size_t n = strlen(si->tenant_kind);
    for (const char *p = kinds; (p = strstr(p, si->tenant_kind)) != NULL; p += n)
        if ((p == kinds || p[-1] == ',' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

static void deny(request *req, response *res, const char *code, const char *msg_key, const char *permission)
{
    json_t *d = json_pack("{s:s, s:s, s:s}", "route", req->route_idx >= 0 ? router_name(req->route_idx) : "",
                          "method", req->method, "permission", permission ? permission : "");
    security_event(&req->cx, SECEV_PERMISSION_DENIED, "warning", req->cx.user_id, d);
    json_decref(d);
    res_error(req, res, 403, code, render_lang_string(req->lang, msg_key));
}

/* CSRF: the session's token, or (before login) a double-submit cookie. */
static int csrf_ok(request *req)
{
    const char *sent = req_form(req, "_csrf");
    if (!sent)
        sent = req_header(req, "HTTP_X_CSRF_TOKEN");
    if (!sent && req->json && json_is_object(req->json))
        sent = json_string_value(json_object_get(req->json, "_csrf"));
    const char *expected = req->session ? req->session->csrf : req_cookie(req, csrf_cookie_name());
    if (!sent || !expected || strlen(expected) < 32)
        return 0;
    size_t n = strlen(expected);
    return strlen(sent) == n && sodium_memcmp(sent, expected, n) == 0;
}

static int parse_body(request *req, response *res, unsigned flags)
{
    if (req->body_len == 0)
        return 0;
    const char *ct = req->content_type ? req->content_type : "";
    if (!strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
        int rc = parse_urlencoded(req->a, req->body, req->body_len, (size_t)config_int("http.max_fields"), &req->form);
        if (rc == PARSE_ETOOMANY) {
            res_error(req, res, 413, "too_many_fields", "too many form fields");
            return -1;
        }
        if (rc) {
            res_error(req, res, 400, "bad_form", "malformed form body");
            return -1;
        }
        return 0;
    }
    if (!strncasecmp(ct, "application/json", 16)) {
        int rc = parse_json(req->body, req->body_len, (size_t)config_int("http.max_json_depth"), &req->json);
        if (rc && (flags & R_LENIENT_JSON)) {
            req->json = NULL; /* the handler answers it (and logs it) itself */
            return 0;
        }
        if (rc == PARSE_ETOOBIG) {
            res_error(req, res, 400, "json_too_deep", "JSON nested too deeply");
            return -1;
        }
        if (rc) {
            res_error(req, res, 400, "bad_json", "malformed JSON body");
            return -1;
        }
        return 0;
    }
    if (!strncasecmp(ct, "multipart/form-data", 19) || !strncasecmp(ct, "text/csv", 8) ||
        !strncasecmp(ct, "application/octet-stream", 24))
        return 0; /* raw body left to the handler (uploads) */
    res_error(req, res, 415, "unsupported_media_type", "unsupported Content-Type");
    return -1;
}

/* Who is asking: a personal API token (API only; cookies are then ignored) or the session
 * cookie; fills the actor (req->cx). -1 when the answer is already written (401, 503). */
static int identify(request *req, response *res)
{
    const char *authz = req_header(req, "HTTP_AUTHORIZATION");
    if (authz && req->api && !strncasecmp(authz, "Bearer ", 7)) {
        int t = load_token(req, authz + 7);
        if (t == -2) {
            res_error(req, res, 503, "unavailable", render_lang_string(req->lang, "error.unavailable"));
            return -1;
        }
        if (t < 0) {
            res_header(res, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
            res_error(req, res, 401, "invalid_token", "invalid or revoked API token");
            return -1;
        }
    } else if (!(req->route->flags & R_NOLOG) && load_session(req) < 0) {
        res_error(req, res, 503, "unavailable", "out of memory");
        return -1;
    }
    req->cx.a = req->a;
    req->cx.ip = req->remote_addr ? req->remote_addr : "";
    req->cx.request_id = req->request_id;
    if (req->session) {
        req->cx.user_id = req->session->user_id;
        req->cx.tenant_id = req->session->tenant_id;
    }
    return 0;
}

/* What a signed-in user may reach: permissions and staff flag, the role's address allowlist,
 * 2FA enrolment for staff, acceptance of new terms, the token's scope, the route's permission.
 * -1 when the answer is already written. */
static int authorize(request *req, response *res, const route *r)
{
    session_info *si = req->session;
    si->perms = rbac_permissions(req->a, si->user_id);
    int staff = rbac_is_staff(req->a, si->user_id);
    int ip_ok = staff > 0 ? ip_allowed_for_roles(req) : 1;
    if (!si->perms || staff < 0 || ip_ok < 0) {
        res_error(req, res, 503, "unavailable", render_lang_string(req->lang, "error.unavailable"));
        return -1;
    }
    si->staff = staff;
    if (!ip_ok) {
        json_t *d = json_pack("{s:s}", "route", router_name(req->route_idx));
        security_event(&req->cx, SECEV_IP_BLOCKED, "warning", si->user_id, d);
        json_decref(d);
        res_error(req, res, 403, "ip_not_allowed", render_lang_string(req->lang, "error.ip_not_allowed"));
        return -1;
    }
    /* staff (security.mfa_required_kinds) enrol in 2FA before anything else */
    if ((r->flags & R_AUTH) && !(r->flags & R_MFA_SETUP) && !si->mfa_enrolled && app_mfa_required(si)) {
        if (!req->api && !strcmp(req->method, "GET"))
            res_redirect(res, "/account/2fa");
        else
            res_error(req, res, 403, "mfa_enrollment_required",
                      render_lang_string(req->lang, "error.mfa_enrollment_required"));
        return -1;
    }
    /* a new version of the terms or privacy policy is accepted before pages are used again */
    if (!si->token_id && !req->api && !strcmp(req->method, "GET") && (r->flags & R_AUTH) &&
        !(r->flags & R_MFA_SETUP) && lgpd_acceptance_pending(&req->cx, si->user_id) == 1) {
        res_redirect(res, "/privacy?accept=1");
        return -1;
    }
    if (si->token_id) {
        int writes = strcmp(req->method, "GET") && strcmp(req->method, "HEAD");
        if ((r->flags & (R_SESSION_ONLY | R_STEPUP)) || (writes && !token_has_scope(si, "write")) ||
            (!writes && !token_has_scope(si, "read") && !token_has_scope(si, "write"))) {
            deny(req, res, "token_scope", "error.token_scope", r->permission);
            return -1;
        }
    }
    /* the router guarantees a permission only on R_AUTH routes */
    if (r->permission) {
        int has = rbac_has(req->a, si->user_id, r->permission);
        if (has < 0) {
            res_error(req, res, 503, "unavailable", render_lang_string(req->lang, "error.unavailable"));
            return -1;
        }
        if (!has) {
            deny(req, res, "forbidden", "error.forbidden", r->permission);
            return -1;
        }
    }
    return 0;
}

static void run(request *req, response *res, fcgi_req *fr)
{
    if (fr->params_too_large) {
        res_error(req, res, 431, "headers_too_large", "request headers too large");
        return;
    }
    if (fr->body_too_large) {
        res_error(req, res, 413, "body_too_large", "request body too large");
        return;
    }
    if (!req->method || !req->path) {
        res_error(req, res, 400, "bad_request", "missing request line");
        return;
    }
    if (!utf8_valid(req->path, strlen(req->path))) {
        /* the bytes are not echoed anywhere: not in the page, not in the log */
        req->path = "/";
        res_error(req, res, 400, "bad_path", "path is not valid UTF-8");
        return;
    }
    const char *qs = req->query_string ? req->query_string : "";
    int qrc = parse_urlencoded(req->a, qs, strlen(qs), (size_t)config_int("http.max_fields"), &req->query);
    if (qrc) {
        res_error(req, res, qrc == PARSE_ETOOMANY ? 414 : 400, "bad_query", "malformed query string");
        return;
    }
    req->lang = pick_lang(req);
    char allow[128];
    int idx = -1;
    int m = router_match(req, req->method, req->path, &idx, allow, sizeof allow);
    if (m == ROUTER_NOT_FOUND) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return;
    }
    if (m == ROUTER_BAD_METHOD) {
        res_header(res, "Allow", allow);
        res_error(req, res, 405, "method_not_allowed", "method not allowed");
        return;
    }
    req->route_idx = idx;
    req->route = router_at(idx);
    if (router_is_twin(idx))
        req->api = 1;
    const route *r = req->route;
    if ((r->flags & R_DEV) && strcmp(config_get("app.env"), "development") != 0) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return;
    }
    if ((r->flags & R_INTERNAL) && !app_addr_allowed(req->remote_addr)) {
        res_error(req, res, 403, "forbidden", "not allowed from this address");
        return;
    }
    if (identify(req, res) < 0)
        return;
    /* global limits: per client address, then per user (probes, internal routes and signed
     * machine-to-machine routes, which have their own limit below, exempt) */
    if (!(r->flags & (R_NOLOG | R_INTERNAL | R_OWN_LIMIT))) {
        char key[96];
        snprintf(key, sizeof key, "ip:%s", req->remote_addr ? req->remote_addr : "-");
        if (rate_limited(req, res, "default", key))
            return;
        if (req->session) {
            snprintf(key, sizeof key, "u:%lld", req->session->user_id);
            if (rate_limited(req, res, "user", key))
                return;
        }
    }
    /* forms echo the session's token, or before login a double-submit cookie (set on render) */
    req->csrf = req->session ? req->session->csrf : req_cookie(req, csrf_cookie_name());
    if (req->csrf && strlen(req->csrf) < 32)
        req->csrf = NULL;
    if ((r->flags & R_AUTH) && !req->session) {
        if (req->api) {
            res_error(req, res, 401, "unauthenticated", "login required");
        } else {
            const char *enc = url_encode(req->a, req->path);
            char *next = enc ? arena_printf(req->a, "/login?next=%s", enc) : NULL;
            res_redirect(res, next ? next : "/login");
        }
        return;
    }
    if (req->session && authorize(req, res, r) < 0)
        return;
    if (parse_body(req, res, r->flags) < 0)
        return;
    if (req->json)
        arena_on_cleanup(req->a, json_decref_cb, req->json);
    session_info *si = req->session;
    /* a Bearer token is not sent by browsers on their own, so it needs no CSRF token */
    if ((r->flags & R_CSRF) && !(si && si->token_id) && !csrf_ok(req)) {
        json_t *d = json_pack("{s:s}", "route", router_name(req->route_idx));
        security_event(&req->cx, SECEV_CSRF_FAILED, "warning", req->cx.user_id, d);
        json_decref(d);
        res_error(req, res, 403, "csrf", render_lang_string(req->lang, "error.csrf"));
        return;
    }
    if (r->rate_action) {
        char key[160];
        if (si)
            snprintf(key, sizeof key, "a:%s:u:%lld", r->rate_action, si->user_id);
        else
            snprintf(key, sizeof key, "a:%s:ip:%s", r->rate_action, req->remote_addr ? req->remote_addr : "-");
        if (rate_limited(req, res, r->rate_action, key))
            return;
    }
    /* the router guarantees R_STEPUP only on R_AUTH routes, so si is set here */
    if (r->flags & R_STEPUP) {
        long long age = (long long)time(NULL) - si->mfa_at;
        if (!si->mfa_enrolled || !si->mfa_at || age > config_int("session.stepup_s")) {
            res_error(req, res, 403, si->mfa_enrolled ? "step_up_required" : "mfa_required",
                      render_lang_string(req->lang, si->mfa_enrolled ? "error.step_up_required" : "error.mfa_required"));
            return;
        }
    }
    int rc = r->handler(req, res);
    if (rc < 0 && res->status < 400) {
        /* handlers return negative when a dependency failed mid-way */
        res_error(req, res, 503, "unavailable", render_lang_string(req->lang, "error.unavailable"));
    }
    if (!res->status)
        res->status = 200;
}

/* Work a handler leaves for after its response (app_defer); the request's arena still lives. */
#define APP_DEFER_MAX 4
static struct {
    void (*fn)(void *arg);
    void *arg;
} deferred[APP_DEFER_MAX];
static int n_deferred;

int app_defer(void (*fn)(void *arg), void *arg)
{
    if (n_deferred >= APP_DEFER_MAX)
        return -1;
    deferred[n_deferred].fn = fn;
    deferred[n_deferred].arg = arg;
    n_deferred++;
    return 0;
}

int app_after_response(int run)
{
    if (!run)
        return n_deferred;
    for (int i = 0; i < n_deferred; i++)
        deferred[i].fn(deferred[i].arg);
    n_deferred = 0;
    return 0;
}

size_t app_body_limit(const unsigned char *params, size_t len)
{
    size_t ml = 0, pl = 0;
    const char *m = fcgi_param_find(params, len, "REQUEST_METHOD", &ml);
    const char *p = fcgi_param_find(params, len, "DOCUMENT_URI", &pl);
    char method[16], path[512];
    /* only a short, plain request line can name an upload route */
    if (!m || !p || ml == 0 || ml >= sizeof method || pl == 0 || pl >= sizeof path || memchr(p, '\0', pl))
        return 0;
    memcpy(method, m, ml);
    method[ml] = '\0';
    memcpy(path, p, pl);
    path[pl] = '\0';
    if (!(router_path_flags(method, path) & R_UPLOAD))
        return 0;
    long lim = config_int("http.max_upload_bytes");
    return lim > 0 ? (size_t)lim : 0;
}

/* Response buffers are reused from request to request (one request at a time per process). */
static buf keep_headers, keep_body;

static void keep(buf *keeper, buf *used)
{
    *keeper = *used;
    if (keeper->cap > 262144)
        buf_free(keeper);
    buf_clear(keeper);
}

void app_dispatch(fcgi_req *fr, buf *out)
{
    request req;
    response res;
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    res.headers = keep_headers;
    res.body = keep_body;
    buf_clear(&res.headers);
    buf_clear(&res.body);
    req.a = fr->a;
    req.params = fr->params;
    req.started = now_s();
    req.route_idx = -1;
    /* one pass over the params for everything the pipeline needs (first occurrence wins) */
    const char *rid_header = NULL, *rid_nginx = NULL, *cookie = NULL, *script_name = NULL;
    for (size_t i = 0; i < req.params.n; i++) {
        const char *k = req.params.items[i].key, *v = req.params.items[i].value;
#define TAKE(name, slot)                                                                                               \
    if (!(slot) && strcmp(k, name) == 0) {                                                                             \
        (slot) = v;                                                                                                    \
        continue;                                                                                                      \
    }
        switch (k[0]) {
        case 'R':
            TAKE("REQUEST_METHOD", req.method);
            TAKE("REMOTE_ADDR", req.remote_addr);
            TAKE("REQUEST_ID", rid_nginx);
            break;
        case 'D':
            TAKE("DOCUMENT_URI", req.path);
            break;
        case 'Q':
            TAKE("QUERY_STRING", req.query_string);
            break;
        case 'C':
            TAKE("CONTENT_TYPE", req.content_type);
            break;
        case 'S':
            TAKE("SCRIPT_NAME", script_name);
            break;
        case 'H':
            TAKE("HTTP_COOKIE", cookie);
            TAKE("HTTP_X_REQUEST_ID", rid_header);
            TAKE("HTTP_ACCEPT_LANGUAGE", req.accept_language);
            break;
        }
#undef TAKE
    }
    req.method_idx = req.method ? metrics_method_index(req.method) : M_OTHER;
    req.is_head = req.method && strcmp(req.method, "HEAD") == 0;
    if (!req.path)
        req.path = script_name;
    req.body = fr->body;
    req.body_len = fr->body_len;
    req.api = req.path && strncmp(req.path, "/api/", 5) == 0;
    const char *rid = rid_header;
    if (!rid || !valid_request_id(rid))
        rid = rid_nginx;
    if (!rid || !valid_request_id(rid)) {
        char gen[40];
        random_token(gen, sizeof gen, 16);
        rid = arena_strdup(req.a, gen);
    }
    req.request_id = rid;
    if (cookie)
        parse_cookies(req.a, cookie, strlen(cookie), (size_t)config_int("http.max_fields"), &req.cookies);
    if (!req.lang)
        req.lang = config_get("app.default_lang");

    run(&req, &res, fr);
    finish_page(&req, &res);
    write_response(&req, &res, out);

    double dur = now_s() - req.started;
    metrics_http(req.route_idx, req.method_idx, res.status, dur);
    access_log(&req, &res, dur);
    if (res.data)
        json_decref(res.data);
    keep(&keep_headers, &res.headers);
    keep(&keep_body, &res.body);
}
