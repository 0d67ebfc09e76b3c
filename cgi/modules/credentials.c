/* credentials.c — exchange API keys: checked against the exchange, then stored only as vault envelopes,
 * listed by their stored mask (never decrypted for display), added and removed behind a recent 2FA check (step-up). */
#include "app.h"
#include "audit.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "exchange.h"
#include "log.h"
#include "modules.h"
#include "render.h"
#include "tenant.h"
#include "utf8.h"
#include "vault.h"
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const credentials_exchanges[] = {"binance",  "bybit",          "okx",  "kraken",
                                                    "coinbase", "mercadobitcoin", "other"};
#define CREDENTIALS_NEXCHANGES (sizeof credentials_exchanges / sizeof credentials_exchanges[0])


/* The page: the user's credentials by their masks, and the add form (values and field errors
 * when a submission was refused). */
static int credentials_page(request *req, response *res, json_t *form, json_t *errors)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "credentials_list",
                           "SELECT id, exchange, label, key_mask, permissions, passphrase IS NOT NULL, "
                           "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "coalesce(to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ''), "
                           "coalesce(to_char(validated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ''), "
                           "coalesce(can_trade, false), coalesce(validation_error, '') "
                           "FROM credentials WHERE tenant_id = $1 AND user_id = $2::bigint ORDER BY id",
                           1, p);
    if (!r) {
        json_decref(form);
        json_decref(errors);
        return -1;
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *c = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "id", (json_int_t)atoll(PQgetvalue(r, i, 0)),
                              "exchange", PQgetvalue(r, i, 1), "label", PQgetvalue(r, i, 2), "key_mask",
                              PQgetvalue(r, i, 3), "permissions", PQgetvalue(r, i, 4), "has_passphrase",
                              !strcmp(PQgetvalue(r, i, 5), "t"), "created", PQgetvalue(r, i, 6), "last_used",
                              PQgetvalue(r, i, 7));
        /* validated_at "" = never checked (no adapter, or the last check refused the key) */
        json_object_set_new(c, "validated", json_boolean(PQgetvalue(r, i, 8)[0] != '\0'));
        json_object_set_new(c, "validated_at", json_string(PQgetvalue(r, i, 8)));
        json_object_set_new(c, "can_trade", json_boolean(!strcmp(PQgetvalue(r, i, 9), "t")));
        json_object_set_new(c, "validation_error", json_string(PQgetvalue(r, i, 10)));
        json_object_set_new(c, "checkable", json_boolean(exchange_find(PQgetvalue(r, i, 1)) != NULL));
        json_array_append_new(list, c);
    }
    json_t *exchanges = json_array();
    for (size_t i = 0; i < CREDENTIALS_NEXCHANGES; i++)
        json_array_append_new(exchanges, json_string(credentials_exchanges[i]));
    const session_info *si = req->session;
    long long age = (long long)time(NULL) - si->mfa_at;
    json_t *d = json_pack("{s:o, s:o, s:b, s:b}", "credentials", list, "exchanges", exchanges, "mfa_enrolled",
                          si->mfa_enrolled, "stepup_recent",
                          si->mfa_enrolled && si->mfa_at && age <= config_int("session.stepup_s"));
    if (form)
        json_object_set_new(d, "form", form);
    if (errors)
        json_object_set_new(d, "errors", errors);
    res_page(res, "credentials/index.cs", "credentials.title", d);
    return 0;
}

static int credentials_list(request *req, response *res)
{
    return credentials_page(req, res, NULL, NULL);
}

/* Printable ASCII between lo and hi bytes long; spaces only when allowed (passphrases). The
 * secret may also hold line breaks: some exchanges issue PEM private keys. */
static int credentials_ascii_ok(const char *s, size_t lo, size_t hi, int spaces, int newlines)
{
    size_t n = strlen(s);
    if (n < lo || n > hi)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch > 0x20 && ch < 0x7f) || (spaces && ch == ' ') || (newlines && (ch == '\n' || ch == '\r')))
            continue;
        return 0;
    }
    return 1;
}

static int credentials_label_ok(const char *s)
{
    return utf8_label_ok(s, 60);
}

/* Copy-pasted keys often carry surrounding blanks; they are never part of a key. */
static char *credentials_trim(arena *a, const char *s)
{
    if (!s)
        return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return arena_strndup(a, s, n);
}

typedef struct credentials_wipe {
    void *p;
    size_t n;
} credentials_wipe;

static void credentials_wipe_cb(void *arg)
{
    credentials_wipe *w = arg;
    sodium_memzero(w->p, w->n);
}

/* Zeroes [p, p+n) when the request arena is released: the plaintext must not outlive the
 * request in memory that the next request reuses. */
static void credentials_wipe_later(arena *a, const void *p, size_t n)
{
    credentials_wipe *w = p && n ? arena_alloc(a, sizeof *w) : NULL;
    if (!w)
        return;
    w->p = (void *)(uintptr_t)p;
    w->n = n;
    arena_on_cleanup(a, credentials_wipe_cb, w);
}

/* A secret field: trimmed copy, with the copy, the parsed value and the raw body wiped later. */
static char *credentials_secret(request *req, const char *name)
{
    const char *v = req_field(req, name);
    if (!v)
        return NULL;
    credentials_wipe_later(req->a, v, strlen(v));
    char *t = credentials_trim(req->a, v);
    if (t)
        credentials_wipe_later(req->a, t, strlen(t));
    return t;
}

typedef struct credentials_new {
    const ctx *c;
    /* $2.. : user, exchange, label, key, secret, passphrase, mask, permissions, validated, can_trade */
    const char *params[10];
    char id[24];
} credentials_new;

static int credentials_insert_tx(void *arg)
{
    credentials_new *n = arg;
    PGresult *r = tq_query(n->c, "credentials_insert",
                           "INSERT INTO credentials (tenant_id, user_id, exchange, label, api_key, api_secret, "
                           "passphrase, key_mask, permissions, validated_at, can_trade) "
                           "SELECT u.tenant_id, u.id, $3, $4, $5, $6, $7, $8, $9, "
                           "CASE WHEN $10::boolean THEN now() END, $11::boolean FROM users u "
                           "WHERE u.id = $2::bigint AND u.tenant_id = $1 RETURNING id",
                           10, n->params);
    if (!r || PQntuples(r) != 1)
        return -1;
    snprintf(n->id, sizeof n->id, "%s", PQgetvalue(r, 0, 0));
    /* the summary names the key by its mask: the audit log never holds a secret */
    json_t *after = json_pack("{s:s, s:s, s:s, s:s, s:b}", "exchange", n->params[1], "label", n->params[2],
                              "key_mask", n->params[6], "permissions", n->params[7], "validated",
                              !strcmp(n->params[8], "true"));
    int rc = after ? audit_record(n->c, "credentials.create", "credential", n->id, NULL, after) : -1;
    json_decref(after);
    return rc;
}

/* What the exchange said about a key. */
typedef struct credentials_check {
    int checkable;               /* the exchange has an adapter */
    int result;                  /* EXCHANGE_OK or a negative exchange_err */
    int can_trade;
    char message[EXCHANGE_MSG];  /* the adapter's words (never the key) */
} credentials_check;

/* Asks the exchange whether it accepts the key (and, with need_trade, lets it trade). Blocks this
 * worker for at most the http.client.binance timeouts; exchanges without an adapter are not asked. */
static void credentials_validate(const char *exchange_name, const char *key, const char *secret, const char *pass,
                                 int need_trade, credentials_check *out)
{
    memset(out, 0, sizeof *out);
    if (!exchange_find(exchange_name))
        return;
    out->checkable = 1;
    exchange_credentials ec = {key, secret, pass && *pass ? pass : NULL};
    exchange *ex = exchange_open(exchange_name, &ec);
    if (!ex) {
        out->result = EXCHANGE_ERR_UNAVAILABLE;
        snprintf(out->message, sizeof out->message, "out of memory");
        return;
    }
    exchange_account acct;
    out->result = exchange_validate_credentials(ex, need_trade, &acct);
    out->can_trade = out->result == EXCHANGE_OK && acct.can_trade;
    snprintf(out->message, sizeof out->message, "%s", out->result ? exchange_last_error(ex)->message : "");
    exchange_close(ex);
    log_info("credentials: %s key check: %s", exchange_name, exchange_err_name(out->result));
}

/* The answer to a key the exchange refused (422) or could not be asked about (503); its lang key
 * and the error code. */
static int credentials_check_status(const credentials_check *k, const char **code, const char **lang_key)
{
    if (k->result == EXCHANGE_ERR_AUTH) {
        *code = "credential_rejected";
        *lang_key = "credentials.rejected";
        return 422;
    }
    if (k->result == EXCHANGE_ERR_PERMISSION) {
        *code = "credential_cannot_trade";
        *lang_key = "credentials.cannot_trade";
        return 422;
    }
    *code = "exchange_unavailable";
    *lang_key = "credentials.exchange_unavailable";
    return 503;
}

static void credentials_error(request *req, json_t *errors, const char *field)
{
    char key[64];
    snprintf(key, sizeof key, "credentials.err_%s", field);
    json_object_set_new(errors, field, json_string(render_lang_string(req->lang, key)));
}

static int credentials_create(request *req, response *res)
{
    const char *exname = req_field(req, "exchange");
    const char *label = credentials_trim(req->a, req_field(req, "label"));
    const char *perms = req_field(req, "permissions");
    char *key = credentials_secret(req, "api_key");
    char *secret = credentials_secret(req, "api_secret");
    char *pass = credentials_secret(req, "passphrase");
    credentials_wipe_later(req->a, req->body, req->body_len);
    if (!perms || !*perms)
        perms = "trade";

    json_t *errors = json_object();
    int known = 0;
    for (size_t i = 0; exname && i < CREDENTIALS_NEXCHANGES; i++)
        known |= !strcmp(exname, credentials_exchanges[i]);
    if (!known)
        credentials_error(req, errors, "exchange");
    if (!label || !credentials_label_ok(label))
        credentials_error(req, errors, "label");
    if (!key || !credentials_ascii_ok(key, 8, 256, 0, 0))
        credentials_error(req, errors, "api_key");
    if (!secret || !credentials_ascii_ok(secret, 8, 512, 0, 1))
        credentials_error(req, errors, "api_secret");
    if (pass && *pass && !credentials_ascii_ok(pass, 1, 128, 1, 0))
        credentials_error(req, errors, "passphrase");
    if (strcmp(perms, "read") && strcmp(perms, "trade"))
        credentials_error(req, errors, "permissions");
    if (json_object_size(errors)) {
        if (req->api) {
            /* the one error shape, naming the refused fields (never their values) */
            buf names = {0};
            const char *f;
            json_t *v;
            json_object_foreach(errors, f, v)
            {
                buf_puts(&names, names.len ? ", " : "");
                buf_puts(&names, f);
            }
            char *msg = arena_printf(req->a, "%s: %s", render_lang_string(req->lang, "credentials.invalid"),
                                     names.data ? names.data : "");
            buf_free(&names);
            json_decref(errors);
            res_error(req, res, 422, "invalid_credential", msg);
            return 0;
        }
        /* the form comes back with what was typed, except the secrets */
        json_t *form = json_pack("{s:s, s:s, s:s}", "exchange", exname && known ? exname : "", "label",
                                 label && strlen(label) <= 240 && utf8_valid(label, strlen(label)) ? label : "",
                                 "permissions", strcmp(perms, "read") ? "trade" : "read");
        res->status = 422;
        return credentials_page(req, res, form, errors);
    }
    json_decref(errors);

    /* the exchange checks the key before anything is stored: a refused or unchecked key leaves no row */
    credentials_check chk;
    credentials_validate(exname, key, secret, pass, !strcmp(perms, "trade"), &chk);
    if (chk.checkable && chk.result != EXCHANGE_OK) {
        const char *code, *lang_key;
        int status = credentials_check_status(&chk, &code, &lang_key);
        const char *text = render_lang_string(req->lang, lang_key);
        /* the exchange's own words follow ours when it refused the key */
        char *msg = status == 422 && chk.result == EXCHANGE_ERR_AUTH && chk.message[0]
                        ? arena_printf(req->a, "%s (%s)", text, chk.message)
                        : arena_strdup(req->a, text);
        if (req->api) {
            res_error(req, res, status, code, msg);
            return 0;
        }
        json_t *form = json_pack("{s:s, s:s, s:s}", "exchange", exname, "label", label, "permissions",
                                 strcmp(perms, "read") ? "trade" : "read");
        json_t *ferr = json_pack("{s:s}", status == 422 ? "api_key" : "exchange", msg);
        res->status = status;
        return credentials_page(req, res, form, ferr);
    }

    long long tenant = req->cx.tenant_id;
    char *mask = vault_mask(req->a, key);
    /* bound to the tenant, the column and this user: a copy on another row does not open */
    long long owner = req->session->user_id;
    char *skey = vault_seal(req->a, vault_context(req->a, "credentials.api_key", owner), tenant, key, strlen(key));
    char *ssecret =
        vault_seal(req->a, vault_context(req->a, "credentials.api_secret", owner), tenant, secret, strlen(secret));
    char *spass = pass && *pass ? vault_seal(req->a, vault_context(req->a, "credentials.passphrase", owner), tenant,
                                             pass, strlen(pass))
                                : NULL;
    if (!mask || !skey || !ssecret || (pass && *pass && !spass)) {
        res_error(req, res, 503, "vault_unavailable", render_lang_string(req->lang, "credentials.vault_unavailable"));
        return 0;
    }
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    int validated = chk.checkable && chk.result == EXCHANGE_OK;
    credentials_new n = {&req->cx,
                         {uid, exname, label, skey, ssecret, spass, mask, perms, validated ? "true" : "false",
                          validated ? (chk.can_trade ? "true" : "false") : NULL},
                         ""};
    if (db_tx(credentials_insert_tx, &n) != 0)
        return -1;
    if (req->api) {
        res->status = 201;
        return credentials_list(req, res);
    }
    res_redirect(res, "/credentials");
    return 0;
}

typedef struct credentials_del {
    const ctx *c;
    const char *uid, *id;
    int found;
} credentials_del;

static int credentials_delete_tx(void *arg)
{
    credentials_del *d = arg;
    const char *p[] = {d->uid, d->id};
    d->found = 0;
    PGresult *r = tq_query(d->c, "credentials_delete",
                           "DELETE FROM credentials WHERE tenant_id = $1 AND user_id = $2::bigint AND id = $3::bigint "
                           "RETURNING exchange, label, key_mask",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    d->found = 1;
    json_t *before = json_pack("{s:s, s:s, s:s}", "exchange", PQgetvalue(r, 0, 0), "label", PQgetvalue(r, 0, 1),
                               "key_mask", PQgetvalue(r, 0, 2));
    int rc = before ? audit_record(d->c, "credentials.delete", "credential", d->id, before, NULL) : -1;
    json_decref(before);
    return rc;
}

static int credentials_delete(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    /* someone else's id answers exactly like one that does not exist */
    if (!id) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    credentials_del d = {&req->cx, uid, id, 0};
    if (db_tx(credentials_delete_tx, &d) != 0)
        return -1;
    if (!d.found) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    if (req->api)
        return credentials_list(req, res);
    res_redirect(res, "/credentials");
    return 0;
}

/* Checks a stored key again: the vault opens it, the exchange answers, and the row records the
 * outcome (validated_at and can_trade, or the refusal in validation_error). An exchange that cannot
 * be reached changes nothing (503). */
static int credentials_revalidate(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *p[] = {uid, id};
    PGresult *r = id ? tq_query(&req->cx, "credentials_for_check",
                                "SELECT exchange, api_key, api_secret, passphrase, permissions FROM credentials "
                                "WHERE tenant_id = $1 AND user_id = $2::bigint AND id = $3::bigint",
                                2, p)
                     : NULL;
    if (id && !r)
        return -1;
    if (!r || PQntuples(r) != 1) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    const char *exname = PQgetvalue(r, 0, 0);
    if (!exchange_find(exname)) {
        res_error(req, res, 422, "not_checkable", render_lang_string(req->lang, "credentials.not_checkable"));
        return 0;
    }
    long long tenant = req->cx.tenant_id, owner = req->session->user_id;
    char *key = NULL, *secret = NULL, *pass = NULL;
    size_t n;
    if (vault_open(req->a, vault_context(req->a, "credentials.api_key", owner), tenant, PQgetvalue(r, 0, 1), &key, &n) ||
        vault_open(req->a, vault_context(req->a, "credentials.api_secret", owner), tenant, PQgetvalue(r, 0, 2), &secret,
                   &n) ||
        (!PQgetisnull(r, 0, 3) && vault_open(req->a, vault_context(req->a, "credentials.passphrase", owner), tenant,
                                              PQgetvalue(r, 0, 3), &pass, &n))) {
        res_error(req, res, 503, "vault_unavailable", render_lang_string(req->lang, "credentials.vault_unavailable"));
        return 0;
    }
    credentials_check chk;
    credentials_validate(exname, key, secret, pass, !strcmp(PQgetvalue(r, 0, 4), "trade"), &chk);
    const char *code, *lang_key;
    if (chk.result != EXCHANGE_OK && credentials_check_status(&chk, &code, &lang_key) == 503) {
        res_error(req, res, 503, code, render_lang_string(req->lang, lang_key));
        return 0;
    }
    int ok = chk.result == EXCHANGE_OK;
    char why[320] = "";
    if (!ok) {
        credentials_check_status(&chk, &code, &lang_key);
        snprintf(why, sizeof why, "%.290s", chk.result == EXCHANGE_ERR_AUTH && chk.message[0] ? chk.message
                                                : render_lang_string(req->lang, lang_key));
    }
    const char *u[] = {uid, id, ok ? "true" : "false", ok ? (chk.can_trade ? "true" : "false") : NULL, ok ? NULL : why};
    json_t *after = json_pack("{s:b, s:b, s:s}", "validated", ok, "can_trade", ok && chk.can_trade, "error", why);
    PGresult *w = audit_tq(&req->cx, "credentials_checked",
                           "UPDATE credentials SET validated_at = CASE WHEN $4::boolean THEN now() END, "
                           "can_trade = $5::boolean, validation_error = $6 "
                           "WHERE tenant_id = $1 AND user_id = $2::bigint AND id = $3::bigint RETURNING id",
                           5, u, "credentials.revalidate", "credential", id, after);
    json_decref(after);
    if (!w)
        return -1;
    if (PQntuples(w) != 1) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    if (req->api)
        return credentials_list(req, res);
    res_redirect(res, "/credentials");
    return 0;
}

#define CREDENTIALS_WRITE (R_AUTH | R_CSRF | R_PAGE | R_STEPUP | R_SESSION_ONLY)

static const route routes[] = {
    {"GET", "/credentials", credentials_list, R_AUTH | R_PAGE, "credentials.manage", NULL},
    {"POST", "/credentials", credentials_create, CREDENTIALS_WRITE, "credentials.manage", "credentials.validate"},
    {"POST", "/credentials/{id}/delete", credentials_delete, CREDENTIALS_WRITE, "credentials.manage", NULL},
    /* no step-up: a check reveals and changes no secret, it only asks the exchange again */
    {"POST", "/credentials/{id}/revalidate", credentials_revalidate, R_AUTH | R_CSRF | R_PAGE | R_SESSION_ONLY,
     "credentials.manage", "credentials.validate"},
};

const module credentials_module = {"credentials", NULL, NULL, ROUTES(routes)};
