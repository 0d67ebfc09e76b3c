/* privacy.c — LGPD pages: the terms of use and privacy policy (every version, both languages),
 * the user's consents, "my data" as a JSON download, and account deletion by anonymisation. */
#include "app.h"
#include "audit.h"
#include "db.h"
#include "lgpd.h"
#include "modules.h"
#include "password.h"
#include "render.h"
#include "session.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* A positive version number of at most 6 digits, else 0. */
static int parse_version(const char *s)
{
    if (!s || !*s || strlen(s) > 6 || strspn(s, "0123456789") != strlen(s))
        return 0;
    return atoi(s);
}

/* Plain-text body to paragraphs (blank-line separated), so the template escapes each one. */
static json_t *paragraphs(const char *body)
{
    json_t *list = json_array();
    const char *p = body;
    while (list && p && *p) {
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (p[n - 1] == '\n' || p[n - 1] == ' '))
            n--;
        if (n)
            json_array_append_new(list, json_stringn(p, n));
        p = end ? end + 2 : NULL;
        while (p && *p == '\n')
            p++;
    }
    return list;
}

/* ---- GET /terms[?document=privacy][&version=N] ---- */

static int terms_page(request *req, response *res)
{
    const char *doc = req_query(req, "document");
    if (!doc || !*doc)
        doc = "terms";
    const char *vq = req_query(req, "version");
    int version = vq ? parse_version(vq) : 0;
    if ((strcmp(doc, "terms") && strcmp(doc, "privacy")) || (vq && !version)) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    int en = req->lang && !strcmp(req->lang, "en");
    char ver[16];
    snprintf(ver, sizeof ver, "%d", version);
    const char *p[] = {doc, ver};
    /* cross-tenant: published legal documents are the same for every visitor */
    PGresult *r = db_query(req->a, en ? "privacy_doc_en" : "privacy_doc_pt",
                           en ? "SELECT version, title_en, body_en, to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
                                "FROM legal_documents WHERE document = $1 AND published_at <= now() "
                                "AND ($2::int = 0 OR version = $2::int) ORDER BY version DESC LIMIT 1"
                              : "SELECT version, title_pt, body_pt, to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
                                "FROM legal_documents WHERE document = $1 AND published_at <= now() "
                                "AND ($2::int = 0 OR version = $2::int) ORDER BY version DESC LIMIT 1",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    /* cross-tenant: the list of published versions, for links to earlier ones */
    PGresult *v = db_query(req->a, "privacy_doc_versions",
                           "SELECT version, to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM legal_documents "
                           "WHERE document = $1 AND published_at <= now() ORDER BY version DESC",
                           1, p);
    if (!v)
        return -1;
    json_t *versions = json_array();
    int current = 0;
    for (int i = 0; i < PQntuples(v); i++) {
        int n = atoi(PQgetvalue(v, i, 0));
        if (n > current)
            current = n;
        json_array_append_new(versions, json_pack("{s:i, s:s}", "version", n, "published", PQgetvalue(v, i, 1)));
    }
    int shown = atoi(PQgetvalue(r, 0, 0));
    json_t *d = json_pack("{s:s, s:i, s:i, s:b, s:s, s:s, s:o, s:o}", "document", doc, "version", shown,
                          "current_version", current, "is_current", shown == current, "title", PQgetvalue(r, 0, 1),
                          "published", PQgetvalue(r, 0, 3), "paragraphs", paragraphs(PQgetvalue(r, 0, 2)),
                          "versions", versions);
    if (!d)
        return -1;
    res_page(res, "privacy/terms.cs", !strcmp(doc, "terms") ? "privacy.terms_title" : "privacy.policy_title", d);
    return 0;
}

/* ---- GET /privacy: consent state, history and the ways out ---- */

static json_t *legal_state(json_t *latest, const char *doc, int current)
{
    json_t *row = json_object_get(latest, doc);
    int granted = row && json_is_true(json_object_get(row, "granted"));
    int version = row ? (int)json_integer_value(json_object_get(row, "version")) : 0;
    const char *at = row ? json_string_value(json_object_get(row, "at")) : NULL;
    return json_pack("{s:i, s:i, s:s, s:b}", "current_version", current, "accepted_version", granted ? version : 0,
                     "accepted_at", granted && at ? at : "", "up_to_date", granted && current > 0 && version == current);
}

static int privacy_page(request *req, response *res)
{
    int cur_terms = lgpd_current_version(req->a, "terms"), cur_privacy = lgpd_current_version(req->a, "privacy");
    if (cur_terms < 0 || cur_privacy < 0)
        return -1;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "privacy_consents",
                           "SELECT document, version, granted::int, "
                           "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ip FROM consents "
                           "WHERE tenant_id = $1 AND user_id = $2::bigint ORDER BY at DESC, id DESC LIMIT 200",
                           1, p);
    if (!r)
        return -1;
    /* newest first: the first row seen per document is its state */
    json_t *latest = json_object(), *history = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *doc = PQgetvalue(r, i, 0);
        json_t *row = json_pack("{s:s, s:i, s:b, s:s, s:s}", "document", doc, "version", atoi(PQgetvalue(r, i, 1)),
                                "granted", atoi(PQgetvalue(r, i, 2)), "at", PQgetvalue(r, i, 3), "ip",
                                PQgetvalue(r, i, 4));
        if (!json_object_get(latest, doc))
            json_object_set(latest, doc, row);
        json_array_append_new(history, row);
    }
    json_t *mk = json_object_get(latest, "marketing");
    const char *mk_at = mk ? json_string_value(json_object_get(mk, "at")) : NULL;
    json_t *d = json_pack("{s:o, s:o, s:{s:b, s:s}, s:o}", "terms", legal_state(latest, "terms", cur_terms), "privacy",
                          legal_state(latest, "privacy", cur_privacy), "marketing", "granted",
                          mk && json_is_true(json_object_get(mk, "granted")), "at", mk_at ? mk_at : "", "history",
                          history);
    json_decref(latest);
    if (!d)
        return -1;
    res_page(res, "privacy/index.cs", "privacy.title", d);
    return 0;
}

/* ---- POST /privacy/consent ---- */

static int consent_submit(request *req, response *res)
{
    const char *doc = req_field(req, "document"), *g = req_field(req, "granted");
    const char *vs = req_field(req, "version");
    int granted = g && !strcmp(g, "1") ? 1 : g && !strcmp(g, "0") ? 0 : -1;
    int legal = doc && (!strcmp(doc, "terms") || !strcmp(doc, "privacy"));
    if (!doc || (!legal && strcmp(doc, "marketing")) || granted < 0) {
        res_error(req, res, 422, "bad_consent", render_lang_string(req->lang, "privacy.bad_consent"));
        return 0;
    }
    int version = 0;
    if (legal) {
        /* the terms are the contract: leaving them means deleting the account */
        if (!granted) {
            res_error(req, res, 422, "consent_required", render_lang_string(req->lang, "privacy.withdraw_terms"));
            return 0;
        }
        version = lgpd_current_version(req->a, doc);
        if (version < 0)
            return -1;
        if (version == 0 || (vs && *vs && parse_version(vs) != version)) {
            res_error(req, res, 422, "not_current_version", render_lang_string(req->lang, "privacy.not_current"));
            return 0;
        }
    }
    int rc = lgpd_record_consent_ua(&req->cx, req->session->user_id, doc, version, granted,
                                    req_user_agent(req));
    if (rc == -2) {
        res_error(req, res, 422, "bad_consent", render_lang_string(req->lang, "privacy.bad_consent"));
        return 0;
    }
    if (rc < 0)
        return -1;
    if (req->api)
        res_json(res, 200, json_pack("{s:s, s:i, s:b}", "document", doc, "version", version, "granted", granted));
    else
        res_redirect(res, "/privacy");
    return 0;
}

/* ---- GET /privacy/export.json: everything we hold about the user, as a download ---- */

static int export_json(request *req, response *res)
{
    json_t *doc = lgpd_export(&req->cx, req->session->user_id);
    if (!doc)
        return -1;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    json_t *after = json_pack("{s:i}", "sections", (int)json_object_size(doc) - 3);
    int rc = audit_record(&req->cx, "privacy.export", "user", uid, NULL, after);
    json_decref(after);
    char *text = rc == 0 ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text)
        return -1;
    char day[16], disp[96];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(disp, sizeof disp, "attachment; filename=\"botcriptofy-my-data-%s.json\"", day);
    res_text(res, 200, "application/json; charset=utf-8", text, strlen(text));
    free(text);
    res_header(res, "Content-Disposition", disp);
    res_header(res, "Cache-Control", "no-store");
    return 0;
}

/* ---- GET/POST /privacy/delete ---- */

static void delete_page(request *req, response *res, int status, const char *error_key)
{
    json_t *d = json_pack("{s:s}", "confirm_word", render_lang_string(req->lang, "privacy.confirm_word"));
    if (d && error_key)
        json_object_set_new(d, "error", json_string(render_lang_string(req->lang, error_key)));
    res->status = status;
    res_page(res, "privacy/delete.cs", "privacy.delete_title", d);
}

static int delete_form(request *req, response *res)
{
    delete_page(req, res, 200, NULL);
    return 0;
}

static void delete_refuse(request *req, response *res, int status, const char *code, const char *key)
{
    if (req->api)
        res_error(req, res, status, code, render_lang_string(req->lang, key));
    else
        delete_page(req, res, status, key);
}

static int delete_submit(request *req, response *res)
{
    const char *password = req_field(req, "password"), *confirm = req_field(req, "confirm");
    /* the word shown on the page, in either language (the page may have been opened in the other) */
    if (!confirm || (strcmp(confirm, render_lang_string("pt-BR", "privacy.confirm_word")) &&
                     strcmp(confirm, render_lang_string("en", "privacy.confirm_word")))) {
        delete_refuse(req, res, 422, "confirm_mismatch", "privacy.confirm_mismatch");
        return 0;
    }
    if (!password || !*password || strlen(password) > 1024) {
        delete_refuse(req, res, 422, "wrong_password", "privacy.wrong_password");
        return 0;
    }
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "privacy_pwhash",
                           "SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2::bigint AND status = 'active'",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1 || !password_verify(PQgetvalue(r, 0, 0), password)) {
        delete_refuse(req, res, 422, "wrong_password", "privacy.wrong_password");
        return 0;
    }
    int rc = lgpd_delete_account(&req->cx, req->session->user_id);
    if (rc == -2) {
        delete_refuse(req, res, 409, "last_ceo", "privacy.last_ceo");
        return 0;
    }
    if (rc < 0)
        return -1;
    res_header(res, "Set-Cookie", session_cookie(req->a, NULL));
    res_redirect(res, "/login?deleted=1");
    return 0;
}

static const route routes[] = {
    {"GET", "/terms", terms_page, R_PUBLIC | R_PAGE, NULL, NULL},
    {"GET", "/privacy", privacy_page, R_AUTH | R_PAGE | R_MFA_SETUP, NULL, NULL},
    {"POST", "/privacy/consent", consent_submit, R_AUTH | R_CSRF | R_PAGE | R_MFA_SETUP, NULL, NULL},
    {"GET", "/privacy/export.json", export_json, R_AUTH | R_SESSION_ONLY, NULL, NULL},
    {"GET", "/privacy/delete", delete_form, R_AUTH | R_PAGE, NULL, NULL},
    /* a password check: counted like sign-in attempts, per user */
    {"POST", "/privacy/delete", delete_submit, R_AUTH | R_CSRF | R_SESSION_ONLY, NULL, "auth.login"},
};

const module privacy_module = {"privacy", "privacy.nav", "/privacy", ROUTES(routes)};
