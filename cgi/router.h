/* router.h — static per-module route tables and the matcher over them. Each entry declares
 * everything middleware needs: authentication, permission, CSRF, rate-limit action, page twin. */
#ifndef BCF_ROUTER_H
#define BCF_ROUTER_H
#include "request.h"

typedef int (*handler_fn)(request *req, response *res);

enum route_flags {
    R_PUBLIC = 0,          /* no login needed */
    R_AUTH = 1 << 0,       /* a session (or API token) is required */
    R_CSRF = 1 << 1,       /* state-changing browser request: CSRF token checked */
    R_PAGE = 1 << 2,       /* renders a page; a JSON twin is served at /api/v1<pattern> */
    R_INTERNAL = 1 << 3,   /* only metrics.allow addresses (health/detailed, metrics) */
    R_NO_CSRF_SIGNED = 1 << 4, /* exempt from CSRF because the body carries its own signature */
    R_NOLOG = 1 << 5,      /* no access-log line (liveness probes) */
    R_STEPUP = 1 << 6,     /* 2FA enrolled and checked within session.stepup_s (money, credentials, 2FA) */
    R_MFA_SETUP = 1 << 7,  /* reachable before a user who must enrol in 2FA has done so */
    R_SESSION_ONLY = 1 << 8, /* browser session only: personal API tokens are refused (account security) */
    R_DEV = 1 << 9,        /* exists only when app.env = development (404 otherwise) */
    R_UPLOAD = 1 << 10,    /* file upload: the body may reach http.max_upload_bytes, not http.max_body_bytes */
    R_OWN_LIMIT = 1 << 11, /* signed machine-to-machine endpoint (webhooks): its rate_action replaces the
                            * per-address ratelimit.default, so a sender's burst from few addresses is not refused */
    R_LENIENT_JSON = 1 << 12, /* a JSON body that does not parse reaches the handler with req->json NULL instead
                               * of a 400: for a sender that must be answered 200 so it does not retry (Telegram) */
};

typedef struct route {
    const char *method;       /* "GET", "POST", ... */
    const char *pattern;      /* "/bots/{id}" */
    handler_fn handler;
    unsigned flags;
    const char *permission;   /* "audit.read": needed on top of R_AUTH; NULL = any signed-in user */
    const char *rate_action;  /* "p2p.create_order": config ratelimit.<action>, counted per user
                               * (per address before login); NULL = only the global limits */
} route;

typedef struct module {
    const char *name;         /* "dashboard", "bots", ... */
    const char *nav_key;      /* i18n key of its navigation label, NULL = not in the menu */
    const char *nav_path;     /* where the menu entry points, NULL = not yet available */
    const route *routes;
    size_t n_routes;
} module;

#define ROUTES(arr) (arr), (sizeof(arr) / sizeof((arr)[0]))

/* Flattens the module tables (page routes gain their /api/v1 twin). Call once at start. */
int router_init(const module *const *modules);
size_t router_count(void);
const route *router_at(int idx);
const char *router_name(int idx); /* pattern as registered, for metrics */
const module *const *router_modules(void);

enum { ROUTER_FOUND = 0, ROUTER_NOT_FOUND = -1, ROUTER_BAD_METHOD = -2 };
/* Matches method+path. On ROUTER_FOUND sets *idx and fills req->path_params; on
 * ROUTER_BAD_METHOD writes the Allow header value into allow. */
int router_match(request *req, const char *method, const char *path, int *idx, char *allow, size_t allowlen);
/* The flags of every route matching method+path, OR-ed (0 when none): lets the FastCGI loop pick a
 * body limit before the body arrives. HEAD matches GET routes, as in router_match. */
unsigned router_path_flags(const char *method, const char *path);
/* Is this route index an /api/v1 twin of a page? */
int router_is_twin(int idx);
#endif
