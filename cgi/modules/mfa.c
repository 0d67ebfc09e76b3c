/* mfa.c — the 2FA pages: enrolment with a QR code, confirmation with recovery codes, the step-up
 * check that sensitive actions ask for, turning 2FA off and new recovery codes. */
#include "app.h"
#include "audit.h"
#include "config.h"
#include "mfa.h"
#include "auth.h"
#include "modules.h"
#include "qr.h"
#include "render.h"
#include "secevent.h"
#include "session.h"
#include "totp.h"
#include <stdio.h>
#include <string.h>
#include <time.h>


static int status_page(request *req, response *res)
{
    json_t *d = json_pack("{s:b, s:b, s:b}", "enabled", req->session->mfa_enrolled, "required",
                          app_mfa_required(req->session), "recent",
                          req->session->mfa_at && time(NULL) - req->session->mfa_at <= config_int("session.stepup_s"));
    res_page(res, "mfa/index.cs", "mfa.title", d);
    return 0;
}

static int setup(request *req, response *res)
{
    char *secret = NULL;
    int rc = mfa_begin(&req->cx, &secret);
    if (rc == -2) {
        res_error(req, res, 409, "mfa_already_enabled", render_lang_string(req->lang, "mfa.already"));
        return 0;
    }
    if (rc < 0)
        return -1;
    char *uri = totp_uri(req->a, config_get("totp.issuer"), req->session->email, secret);
    if (!uri)
        return -1;
    json_t *d = json_pack("{s:s, s:s}", "secret", secret, "uri", uri);
    if (!req->api) {
        char *svg = qr_svg(req->a, uri);
        if (svg)
            json_object_set_new(d, "qr_svg", json_string(svg));
    }
    res_page(res, "mfa/setup.cs", "mfa.title", d);
    return 0;
}

/* A fresh session id after a change of privilege (2FA enabled, a step-up); mfa_at = now. When
 * 2FA itself was turned on or off, the user's other sessions end: they carry the old state. */
static int rotate(request *req, response *res, long long mfa_at, int end_others)
{
    char token[64];
    if (session_rotate(req->a, req_cookie(req, session_cookie_name()), req->remote_addr,
                       req_user_agent(req), mfa_at, token, sizeof token) < 0)
        return -1;
    if (end_others) {
        char keep[65];
        session_hash(token, keep);
        if (session_destroy_user(req->a, req->session->user_id, keep) < 0)
            return -1;
    }
    res_header(res, "Set-Cookie", session_cookie(req->a, token));
    return 0;
}

static void codes_page(request *req, response *res, char **codes)
{
    json_t *list = json_array();
    for (int i = 0; i < MFA_RECOVERY_CODES; i++)
        json_array_append_new(list, json_string(codes[i]));
    res_page(res, "mfa/codes.cs", "mfa.title", json_pack("{s:o}", "recovery_codes", list));
}

static void code_error(request *req, response *res, const char *stage)
{
    json_t *d = json_pack("{s:s}", "stage", stage);
    security_event(&req->cx, SECEV_MFA_FAILED, "warning", req->cx.user_id, d);
    json_decref(d);
    res_error(req, res, 422, "mfa_invalid", render_lang_string(req->lang, "auth.mfa_invalid"));
}


static int enable(request *req, response *res)
{
    const char *code = req_field(req, "code");
    char *codes[MFA_RECOVERY_CODES];
    int rc = mfa_enable(&req->cx, code ? code : "", codes);
    if (rc == -2) {
        res_error(req, res, 409, "mfa_not_pending", render_lang_string(req->lang, "mfa.not_pending"));
        return 0;
    }
    if (rc < 0)
        return -1;
    if (rc == 0) {
        code_error(req, res, "enable");
        return 0;
    }
    if (rotate(req, res, (long long)time(NULL), 1) < 0)
        return -1;
    codes_page(req, res, codes);
    return 0;
}

static int verify_form(request *req, response *res)
{
    res_page(res, "mfa/verify.cs", "mfa.title", json_pack("{s:s}", "next", req_local_path(req_query(req, "next"), "/account")));
    return 0;
}

static int verify(request *req, response *res)
{
    const char *code = req_field(req, "code");
    const char *method = "totp";
    /* guesses here feed the sign-in's account lock: a stolen session cannot try codes for ever */
    long wait = auth_guard_wait(req, req->session->email);
    if (wait > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%ld", wait);
        res_header(res, "Retry-After", ra);
        res_error(req, res, 429, "login_locked", render_lang_string(req->lang, "auth.locked"));
        return 0;
    }
    int rc = mfa_verify(&req->cx, req->session->user_id, code ? code : "", &method);
    if (rc == -2) {
        res_error(req, res, 409, "mfa_not_enabled", render_lang_string(req->lang, "error.mfa_required"));
        return 0;
    }
    if (rc < 0)
        return -1;
    if (rc == 0) {
        auth_guard_fail(req, req->session->email, req->session->user_id);
        code_error(req, res, "step_up");
        return 0;
    }
    if (rotate(req, res, (long long)time(NULL), 0) < 0)
        return -1;
    char id[24];
    snprintf(id, sizeof id, "%lld", req->session->user_id);
    json_t *after = json_pack("{s:s}", "method", method);
    audit_record(&req->cx, "mfa.step_up", "user", id, NULL, after);
    json_decref(after);
    if (req->api) {
        res_json(res, 200, json_pack("{s:b, s:s}", "ok", 1, "method", method));
        return 0;
    }
    res_redirect(res, req_local_path(req_form(req, "next"), "/account"));
    return 0;
}

static int disable(request *req, response *res)
{
    if (app_mfa_required(req->session)) {
        res_error(req, res, 409, "mfa_required_for_role", render_lang_string(req->lang, "mfa.cannot_disable"));
        return 0;
    }
    if (mfa_disable(&req->cx) < 0)
        return -1;
    if (rotate(req, res, 0, 1) < 0)
        return -1;
    res_redirect(res, "/account/2fa");
    return 0;
}

static int recovery(request *req, response *res)
{
    char *codes[MFA_RECOVERY_CODES];
    if (mfa_new_recovery_codes(&req->cx, codes) < 0)
        return -1;
    codes_page(req, res, codes);
    return 0;
}

#define MFA_PAGE (R_AUTH | R_PAGE | R_MFA_SETUP | R_SESSION_ONLY)
#define MFA_POST (R_AUTH | R_CSRF | R_PAGE | R_MFA_SETUP | R_SESSION_ONLY)

static const route routes[] = {
    {"GET", "/account/2fa", status_page, MFA_PAGE, NULL, NULL},
    {"POST", "/account/2fa/setup", setup, MFA_POST, NULL, NULL},
    {"POST", "/account/2fa/enable", enable, MFA_POST, NULL, "account.mfa"},
    {"GET", "/account/2fa/verify", verify_form, MFA_PAGE, NULL, NULL},
    {"POST", "/account/2fa/verify", verify, MFA_POST, NULL, "account.mfa"},
    {"POST", "/account/2fa/disable", disable, R_AUTH | R_CSRF | R_STEPUP | R_SESSION_ONLY, NULL, NULL},
    {"POST", "/account/2fa/recovery", recovery, R_AUTH | R_CSRF | R_PAGE | R_STEPUP | R_SESSION_ONLY, NULL, NULL},
};

const module mfa_module = {"mfa", NULL, NULL, ROUTES(routes)};
