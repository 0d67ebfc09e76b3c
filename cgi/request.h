/* request.h — what a handler sees: the parsed request (params, query, form, JSON, cookies,
 * session) and the response it fills. Everything lives in the request arena. */
#ifndef BCF_REQUEST_H
#define BCF_REQUEST_H
#include <jansson.h>
#include "arena.h"
#include "buf.h"
#include "ctx.h"
#include "parse.h"

struct route;

typedef struct session_info {
    long long user_id;
    long long tenant_id;
    const char *email;
    const char *name;
    const char *role;
    const char *sid_hash; /* hex SHA-256 of the session id, the Redis key suffix */
    const char *csrf;     /* the session's CSRF token */
    const char *tenant_kind; /* company, trader or influencer */
    long long mfa_at;     /* unix time of the last 2FA check in this session (0 = never) */
    int mfa_enrolled;     /* the user has TOTP enabled */
    int staff;            /* holds a company (department) role */
    long long token_id;   /* > 0 when authenticated by a personal API token, not a cookie */
    const char *const *scopes; /* the token's scopes (NULL-terminated), NULL for sessions */
    const char *const *perms;  /* the user's permissions (NULL-terminated) */
} session_info;

typedef struct request {
    arena *a;
    const char *method;
    int method_idx;
    int is_head;
    const char *path;          /* decoded, normalised by nginx ($document_uri) */
    const char *query_string;
    const char *content_type;
    const char *remote_addr;
    const char *request_id;
    const char *accept_language;
    const char *lang;          /* pt-BR or en */
    kvlist params;             /* FastCGI params (CGI variables, HTTP_* headers) */
    kvlist query, form, cookies, path_params;
    json_t *json;              /* parsed body when Content-Type is JSON */
    const char *body;
    size_t body_len;
    int api;                   /* under /api/: errors and data as JSON */
    const struct route *route;
    int route_idx;
    session_info *session;
    ctx cx;                    /* the actor for lib calls: user, tenant, address, request id */
    const char *csrf;          /* token forms must echo (session's, or the anonymous cookie) */
    double started;
} request;

typedef struct response {
    int status;
    const char *content_type;
    buf headers;       /* extra "Name: value\r\n" lines */
    buf body;
    json_t *data;      /* page data: rendered through template, or as JSON under /api/v1 */
    const char *template;
    const char *title_key;
    const char *error_code; /* set by errors, for the log line */
} response;

const char *req_param(const request *r, const char *name);
const char *req_header(const request *r, const char *http_name); /* e.g. "HTTP_ACCEPT" */
const char *req_query(const request *r, const char *name);
const char *req_form(const request *r, const char *name);
const char *req_cookie(const request *r, const char *name);
const char *req_path_param(const request *r, const char *name);
/* A form field, or the same member of a JSON body (true/false as "1"/"0", integers as text):
 * one handler serves the browser form and the /api/v1 twin. */
const char *req_field(request *r, const char *name);
/* A path parameter that is a positive decimal id (at most 18 digits), else NULL. */
const char *req_id_param(const request *r, const char *name);
/* Is v a positive decimal id (at most 18 digits, no leading zero)? For ids in fields. */
int req_is_id(const char *v);
/* The User-Agent as stored in sessions and shown to users: valid UTF-8, at most 300 bytes
 * ("?" when the client sent bytes that are not UTF-8). */
const char *req_user_agent(request *r);
/* next when it is a path on this site ("/x", not "//host" or "/\\host"), else fallback. */
const char *req_local_path(const char *next, const char *fallback);

void res_header(response *res, const char *name, const char *value);
void res_json(response *res, int status, json_t *obj); /* steals obj */
void res_text(response *res, int status, const char *ctype, const char *body, size_t len);
void res_redirect(response *res, const char *location);
/* The one error shape: JSON {"error":{"code","message","request_id"}} or the HTML error page. */
void res_error(request *req, response *res, int status, const char *code, const char *message);
/* A page: data plus template; HTML or JSON twin decided by the core. Steals data. */
void res_page(response *res, const char *template_name, const char *title_key, json_t *data);
#endif
