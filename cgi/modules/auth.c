/* auth.c — sign-in, sign-out and the language switch: the minimum the portal needs to know who
 * is there. Registration, 2FA, password reset and API tokens belong to the identity module. */
#include "app.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "modules.h"
#include "render.h"
#include "session.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Only local paths: an open redirect would let a phishing link bounce through the portal. */
static const char *safe_next(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strpbrk(next, "\r\n"))
        return "/dashboard";
    return next;
}

static int login_form(request *req, response *res)
{
    if (req->session && !req->api) {
        res_redirect(res, "/dashboard");
        return 0;
    }
    json_t *d = json_pack("{s:s}", "next", safe_next(req_query(req, "next")));
    res_page(res, "auth/login.cs", "auth.title", d);
    return 0;
}

static int login_submit(request *req, response *res)
{
    const char *email = req_form(req, "email"), *password = req_form(req, "password");
    const char *next = safe_next(req_form(req, "next"));
    if (!email || !password || !*email || !*password || strlen(email) > 254 || strlen(password) > 1024) {
        res->status = 422;
        res_page(res, "auth/login.cs", "auth.title",
                 json_pack("{s:s, s:s, s:s}", "next", next, "error", render_lang_string(req->lang, "auth.missing"),
                           "email", email ? email : ""));
        return 0;
    }
    const char *p[] = {email};
    PGresult *r = db_query(req->a, "auth_user", "SELECT id, password_hash FROM users WHERE lower(email) = lower($1)", 1, p);
    if (!r)
        return -1;
    /* verify against a real hash when the user is unknown so timing does not reveal accounts */
    static char dummy[crypto_pwhash_STRBYTES];
    if (!dummy[0]) {
        char pw[32];
        random_token(pw, sizeof pw, 16);
        if (crypto_pwhash_str(dummy, pw, strlen(pw), 2, 19u << 20) != 0)
            return -1;
    }
    int found = PQntuples(r) == 1;
    const char *hash = found ? PQgetvalue(r, 0, 1) : dummy;
    int ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && found;
    if (!ok) {
        log_fmt(LOG_INFO, "login failed for a %s account", found ? "known" : "unknown");
        res->status = 401;
        res_page(res, "auth/login.cs", "auth.title",
                 json_pack("{s:s, s:s, s:s}", "next", next, "error", render_lang_string(req->lang, "auth.invalid"),
                           "email", email));
        return 0;
    }
    char token[64];
    long long uid = atoll(PQgetvalue(r, 0, 0));
    if (session_create(req->a, uid, req->remote_addr, req_header(req, "HTTP_USER_AGENT"), token, sizeof token) < 0)
        return -1;
    /* a new session id on every login; an old one the browser still holds is ended */
    const char *old = req_cookie(req, session_cookie_name());
    if (old)
        session_destroy(req->a, old);
    res_header(res, "Set-Cookie", session_cookie(req->a, token));
    res_redirect(res, next);
    return 0;
}

static int logout(request *req, response *res)
{
    session_destroy(req->a, req_cookie(req, session_cookie_name()));
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
    res_redirect(res, safe_next(req_form(req, "next")));
    return 0;
}

static int root(request *req, response *res)
{
    res_redirect(res, req->session ? "/dashboard" : "/login");
    return 0;
}

static const route routes[] = {
    {"GET", "/", root, R_PUBLIC, NULL, NULL},
    {"GET", "/login", login_form, R_PUBLIC | R_PAGE, NULL, "auth.login"},
    {"POST", "/login", login_submit, R_PUBLIC | R_CSRF, NULL, "auth.login"},
    {"POST", "/logout", logout, R_AUTH | R_CSRF, NULL, NULL},
    {"POST", "/lang", set_lang, R_PUBLIC | R_CSRF, NULL, NULL},
};

const module auth_module = {"auth", NULL, NULL, ROUTES(routes)};
