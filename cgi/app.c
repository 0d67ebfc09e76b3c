/* app.c — the request pipeline. Route flags drive every cross-cutting check, so handlers hold
 * only their own logic; every failure becomes a 4xx/5xx in the one error shape, never a crash. */
#include "app.h"
#include "config.h"
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

/* metrics.allow: comma-separated addresses or CIDR blocks */
int app_addr_allowed(const char *addr)
{
    if (!addr)
        return 0;
    unsigned char want[16];
    int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, addr, want) != 1)
        return 0;
    const char *list = config_get("metrics.allow");
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
        char *c = arena_printf(req->a, "bcf_csrf=%s; Path=/; HttpOnly; SameSite=Lax%s", t,
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
    req->session = si;
    return 0;
}

/* CSRF: the session's token, or (before login) a double-submit cookie. */
static int csrf_ok(request *req)
{
    const char *sent = req_form(req, "_csrf");
    if (!sent)
        sent = req_header(req, "HTTP_X_CSRF_TOKEN");
    if (!sent && req->json && json_is_object(req->json))
        sent = json_string_value(json_object_get(req->json, "_csrf"));
    const char *expected = req->session ? req->session->csrf : req_cookie(req, "bcf_csrf");
    if (!sent || !expected || strlen(expected) < 32)
        return 0;
    size_t n = strlen(expected);
    return strlen(sent) == n && sodium_memcmp(sent, expected, n) == 0;
}

static int parse_body(request *req, response *res)
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

static void json_decref_cb(void *p)
{
    json_decref(p);
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
    if ((r->flags & R_INTERNAL) && !app_addr_allowed(req->remote_addr)) {
        res_error(req, res, 403, "forbidden", "not allowed from this address");
        return;
    }
    if (!(r->flags & R_NOLOG) && load_session(req) < 0) {
        res_error(req, res, 503, "unavailable", "out of memory");
        return;
    }
    /* forms echo the session's token, or before login a double-submit cookie (set on render) */
    req->csrf = req->session ? req->session->csrf : req_cookie(req, "bcf_csrf");
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
    if (parse_body(req, res) < 0)
        return;
    if (req->json)
        arena_on_cleanup(req->a, json_decref_cb, req->json);
    if ((r->flags & R_CSRF) && !csrf_ok(req)) {
        res_error(req, res, 403, "csrf", render_lang_string(req->lang, "error.csrf"));
        return;
    }
    int rc = r->handler(req, res);
    if (rc < 0 && res->status < 400) {
        /* handlers return negative when a dependency failed mid-way */
        res_error(req, res, 503, "unavailable", render_lang_string(req->lang, "error.unavailable"));
    }
    if (!res->status)
        res->status = 200;
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
