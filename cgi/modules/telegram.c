/* telegram.c — POST /telegram/webhook (Telegram's updates, authenticated by the secret token
 * header) and the portal's /telegram page: a one-time link code as a deep link, and unlinking. */
#include "app.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "modules.h"
#include "render.h"
#include "telegram_cmd.h"
#include "telegram_update.h"
#include "tenant.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int secret_ok(request *req)
{
    char *secret = config_secret("telegram.webhook_secret");
    const char *got = req_header(req, "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN");
    size_t n = secret ? strlen(secret) : 0;
    int ok = n > 0 && got && strlen(got) == n && sodium_memcmp(got, secret, n) == 0;
    if (secret) {
        sodium_memzero(secret, n);
        free(secret);
    }
    return ok;
}

static int webhook(request *req, response *res)
{
    req->api = 1;
    if (!secret_ok(req)) {
        log_warn("telegram webhook refused: missing or wrong secret token (address %s)",
                 req->remote_addr ? req->remote_addr : "-");
        res_error(req, res, 401, "unauthorized", "missing or wrong X-Telegram-Bot-Api-Secret-Token");
        return 0;
    }
    tg_update u;
    if (tg_update_parse(req->json, &u) == TG_MALFORMED) {
        /* answered 200 so Telegram does not send it again; only its id is kept, to say so */
        log_warn("telegram webhook: malformed update (update_id %lld, %zu bytes)", u.update_id, req->body_len);
        if (u.update_id >= 0) {
            char id[24];
            snprintf(id, sizeof id, "%lld", u.update_id);
            const char *p[] = {id};
            /* cross-tenant: an update belongs to no tenant until its chat is known */
            db_exec(req->a, "telegram_malformed",
                    "INSERT INTO telegram_updates (update_id, kind, outcome) VALUES ($1::bigint, 'malformed', 'malformed') "
                    "ON CONFLICT (update_id) DO NOTHING",
                    1, p);
        }
        res_json(res, 200, json_pack("{s:b, s:s}", "ok", 1, "outcome", "malformed"));
        return 0;
    }
    int rc = tgc_handle(req, &u);
    if (rc < 0) {
        /* nothing was stored: a 5xx makes Telegram deliver the update again later */
        res_error(req, res, 503, "unavailable", "the update could not be stored; retry");
        return 0;
    }
    res_json(res, 200, json_pack("{s:b, s:s}", "ok", 1, "outcome", rc == 1 ? "duplicate" : "handled"));
    return 0;
}

/* ---------------------------------------------------------------- the portal side */

static int page(request *req, response *res, const char *code)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->cx.user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "telegram_link_show",
                           "SELECT to_char(linked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM telegram_links "
                           "WHERE tenant_id = $1 AND user_id = $2::bigint",
                           1, p);
    if (!r)
        return -1;
    const char *bot = config_get("telegram.bot_username");
    json_t *d = json_pack("{s:b, s:s, s:s}", "linked", PQntuples(r) == 1, "linked_at",
                          PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "", "bot_username", bot ? bot : "");
    if (code) {
        json_object_set_new(d, "code", json_string(code));
        json_object_set_new(d, "deep_link", json_string(arena_printf(req->a, "https://t.me/%s?start=%s", bot ? bot : "", code)));
        json_object_set_new(d, "expires_in_s", json_integer(config_int("telegram.link_code_ttl_s")));
    }
    res_page(res, "telegram/index.cs", "telegram.title", d);
    return 0;
}

static int show(request *req, response *res)
{
    return page(req, res, NULL);
}

typedef struct code_tx_arg {
    const ctx *c;
    const char *hash, *ttl;
} code_tx_arg;

static int code_tx(void *arg)
{
    code_tx_arg *k = arg;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", k->c->user_id);
    const char *p[] = {uid, k->hash, k->ttl};
    /* one live code per user: a new one replaces those not used yet */
    if (tq_exec(k->c, "telegram_code_drop",
                "DELETE FROM telegram_link_codes WHERE tenant_id = $1 AND user_id = $2::bigint AND used_at IS NULL", 1, p) < 0 ||
        tq_exec(k->c, "telegram_code_new",
                "INSERT INTO telegram_link_codes (code_hash, user_id, tenant_id, expires_at) "
                "SELECT $3, u.id, u.tenant_id, now() + make_interval(secs => $4::int) FROM users u "
                "WHERE u.id = $2::bigint AND u.tenant_id = $1",
                3, p) != 1)
        return -1;
    return audit_record(k->c, "telegram.link_code", "user", uid, NULL, NULL);
}

static int new_code(request *req, response *res)
{
    unsigned char raw[16];
    char code[33], hash[65], ttl[24];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(code, sizeof code, raw, sizeof raw);
    tgc_code_hash(code, hash);
    snprintf(ttl, sizeof ttl, "%ld", config_int("telegram.link_code_ttl_s"));
    code_tx_arg k = {&req->cx, hash, ttl};
    if (db_tx(code_tx, &k) != 0)
        return -1;
    if (req->api)
        res->status = 201;
    return page(req, res, code);
}

static int unlink_chat(request *req, response *res)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->cx.user_id);
    const char *p[] = {uid};
    PGresult *r = audit_tq(&req->cx, "telegram_unlink_portal",
                           "DELETE FROM telegram_links WHERE tenant_id = $1 AND user_id = $2::bigint RETURNING user_id", 1, p,
                           "telegram.unlink", "user", uid, NULL);
    if (!r)
        return -1;
    if (req->api)
        return page(req, res, NULL);
    res_redirect(res, "/telegram");
    return 0;
}

static const route routes[] = {
    /* Telegram delivers from a few addresses: its own limit instead of the per-address default */
    {"POST", "/telegram/webhook", webhook, R_PUBLIC | R_NO_CSRF_SIGNED | R_OWN_LIMIT | R_LENIENT_JSON, NULL,
     "telegram.webhook"},
    {"GET", "/telegram", show, R_AUTH | R_PAGE, NULL, NULL},
    /* linking gives a chat the account's alerts and its bots' controls: a browser session only, as for 2FA */
    {"POST", "/telegram/code", new_code, R_AUTH | R_CSRF | R_PAGE | R_SESSION_ONLY, NULL, "telegram.link"},
    {"POST", "/telegram/unlink", unlink_chat, R_AUTH | R_CSRF | R_PAGE | R_SESSION_ONLY, NULL, "telegram.link"},
};

const module telegram_module = {"telegram", NULL, NULL, ROUTES(routes)};
