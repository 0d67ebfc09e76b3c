/* banco.c — Banco, the tenant's money: wallets per currency with their balances and history, pockets
 * ("caixinhas") and transfers between them. Deposits and withdrawals are in banco_requests.c. */
#include "audit.h"
#include "banco.h"
#include "config.h"
#include "db.h"
#include "modules.h"
#include "money.h"
#include "render.h"
#include "tenant.h"
#include "utf8.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANCO_ENTRIES 20
#define BANCO_REQUESTS 20
#define BANCO_MAX_POCKETS 50

static const char *const banco_currencies[] = {"BRL", "USDT", "BTC"};
#define BANCO_NCUR (sizeof banco_currencies / sizeof banco_currencies[0])

/* The accounts a user may see and move money between: the wallets and the named pockets. One
 * statement, so a page shows one moment of every balance. */
static PGresult *banco_accounts(request *req)
{
    return tq_query(&req->cx, "banco_accounts",
                    "SELECT a.id, a.currency, a.code = 'wallet', coalesce(p.name, ''), "
                    "a.credits_posted - a.debits_posted - a.debits_pending, a.credits_posted - a.debits_posted, "
                    "a.credits_pending, a.debits_pending "
                    "FROM ledger_accounts a LEFT JOIN banco_pockets p ON p.account_id = a.id "
                    "WHERE a.tenant_id = $1 AND (a.code = 'wallet' OR p.id IS NOT NULL) "
                    "ORDER BY array_position(ARRAY['BRL', 'USDT', 'BTC'], a.currency), a.code <> 'wallet', p.name, a.id",
                    0, NULL);
}

static json_t *banco_money(request *req, json_t *o, const char *name, long long minor, const char *cur)
{
    json_object_set_new(o, arena_printf(req->a, "%s_minor", name), json_integer((json_int_t)minor));
    json_object_set_new(o, name, json_string(money_format_a(req->a, minor, cur, req->lang)));
    return o;
}

/* The accounts as JSON, and per currency the sum of what is available. */
static json_t *banco_accounts_json(request *req, PGresult *r, json_t *currencies)
{
    json_t *list = json_array();
    long long total[BANCO_NCUR] = {0};
    for (int i = 0; i < PQntuples(r); i++) {
        const char *cur = PQgetvalue(r, i, 1);
        int wallet = PQgetvalue(r, i, 2)[0] == 't';
        long long available = atoll(PQgetvalue(r, i, 4));
        json_t *a = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)atoll(PQgetvalue(r, i, 0)), "currency", cur,
                              "kind", wallet ? "wallet" : "pocket", "name",
                              wallet ? render_lang_string(req->lang, "banco.wallet") : PQgetvalue(r, i, 3));
        banco_money(req, a, "available", available, cur);
        banco_money(req, a, "posted", atoll(PQgetvalue(r, i, 5)), cur);
        banco_money(req, a, "pending_in", atoll(PQgetvalue(r, i, 6)), cur);
        banco_money(req, a, "pending_out", atoll(PQgetvalue(r, i, 7)), cur);
        json_array_append_new(list, a);
        for (size_t k = 0; k < BANCO_NCUR; k++)
            if (!strcmp(cur, banco_currencies[k]))
                total[k] += available;
    }
    for (size_t k = 0; k < BANCO_NCUR; k++)
        json_array_append_new(currencies, banco_money(req, json_pack("{s:s}", "currency", banco_currencies[k]),
                                                      "available", total[k], banco_currencies[k]));
    return list;
}

/* The balance history of the wallets and pockets, newest first. */
static json_t *banco_entries(request *req)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", BANCO_ENTRIES);
    const char *p[] = {lim};
    PGresult *r = tq_query(&req->cx, "banco_entries",
                           "SELECT e.transfer_id, to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
                           "a.currency, a.code = 'wallet', coalesce(p.name, ''), t.kind, t.code, "
                           "e.delta_credits_posted - e.delta_debits_posted, e.credits_posted - e.debits_posted, "
                           "e.delta_credits_pending - e.delta_debits_pending, a.id "
                           "FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id "
                           "JOIN ledger_transfers t ON t.id = e.transfer_id "
                           "LEFT JOIN banco_pockets p ON p.account_id = a.id "
                           "WHERE a.tenant_id = $1 AND (a.code = 'wallet' OR p.id IS NOT NULL) "
                           "ORDER BY e.id DESC LIMIT $2::bigint",
                           1, p);
    if (!r)
        return NULL;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *cur = PQgetvalue(r, i, 2);
        int wallet = PQgetvalue(r, i, 3)[0] == 't';
        json_t *e = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s}", "transfer_id",
                              (json_int_t)atoll(PQgetvalue(r, i, 0)), "at", PQgetvalue(r, i, 1), "currency", cur,
                              "account_id", (json_int_t)atoll(PQgetvalue(r, i, 10)), "account",
                              wallet ? render_lang_string(req->lang, "banco.wallet") : PQgetvalue(r, i, 4), "kind",
                              PQgetvalue(r, i, 5), "code", PQgetvalue(r, i, 6));
        banco_money(req, e, "change", atoll(PQgetvalue(r, i, 7)), cur);
        banco_money(req, e, "balance_after", atoll(PQgetvalue(r, i, 8)), cur);
        banco_money(req, e, "pending_change", atoll(PQgetvalue(r, i, 9)), cur);
        json_array_append_new(list, e);
    }
    return list;
}

/* The tenant's deposit and withdrawal requests, newest first; a withdrawal whose reservation the
 * ledger let expire shows as expired. */
static json_t *banco_requests_json(request *req)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", BANCO_REQUESTS);
    const char *p[] = {lim};
    PGresult *r = tq_query(&req->cx, "banco_requests_list",
                           "SELECT r.id, r.kind, r.currency, r.amount, r.reference, r.destination, "
                           "CASE WHEN r.status = 'pending' AND x.kind = 'expire' THEN 'expired' ELSE r.status END, "
                           "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "coalesce(to_char(t.timeout_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '') "
                           "FROM banco_requests r LEFT JOIN ledger_transfers t ON t.id = r.transfer_id "
                           "LEFT JOIN ledger_transfers x ON r.kind = 'withdrawal' AND x.pending_id = r.transfer_id "
                           "WHERE r.tenant_id = $1 ORDER BY r.id DESC LIMIT $2::bigint",
                           1, p);
    if (!r)
        return NULL;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *kind = PQgetvalue(r, i, 1), *cur = PQgetvalue(r, i, 2), *status = PQgetvalue(r, i, 6);
        json_t *q = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                              (json_int_t)atoll(PQgetvalue(r, i, 0)), "kind", kind, "currency", cur, "reference",
                              PQgetvalue(r, i, 4), "destination", PQgetvalue(r, i, 5), "status", status, "status_label",
                              render_lang_string(req->lang, arena_printf(req->a, "banco.status.%s", status)), "created",
                              PQgetvalue(r, i, 7), "expires", PQgetvalue(r, i, 8));
        banco_money(req, q, "amount", atoll(PQgetvalue(r, i, 3)), cur);
        json_object_set_new(q, "cancelable", json_boolean(!strcmp(kind, "withdrawal") && !strcmp(status, "pending")));
        json_array_append_new(list, q);
    }
    return list;
}

static int banco_index(request *req, response *res)
{
    PGresult *r = banco_accounts(req);
    if (!r)
        return -1;
    int wallets = 0;
    for (int i = 0; i < PQntuples(r); i++)
        wallets += PQgetvalue(r, i, 2)[0] == 't';
    /* the first visit opens the wallets, so every currency has one to show and to move from */
    if (wallets < (int)BANCO_NCUR) {
        for (size_t k = 0; k < BANCO_NCUR; k++)
            if (banco_wallet(&req->cx, banco_currencies[k]) < 0)
                return -1;
        if (!(r = banco_accounts(req)))
            return -1;
    }
    json_t *currencies = json_array(), *accounts = banco_accounts_json(req, r, currencies);
    json_t *entries = banco_entries(req), *requests = entries ? banco_requests_json(req) : NULL;
    if (!requests) {
        json_decref(currencies);
        json_decref(accounts);
        json_decref(entries);
        return -1;
    }
    const session_info *si = req->session;
    long long age = (long long)time(NULL) - si->mfa_at;
    json_t *d = json_pack("{s:o, s:o, s:o, s:o, s:s, s:b, s:b, s:I}", "accounts", accounts, "currencies", currencies,
                          "entries", entries, "requests", requests, "key", banco_new_key(req), "mfa_enrolled",
                          si->mfa_enrolled, "stepup_recent",
                          si->mfa_enrolled && si->mfa_at && age <= config_int("session.stepup_s"),
                          "withdraw_timeout_s", (json_int_t)config_int("banco.withdraw_timeout_s"));
    res_page(res, "banco/index.cs", "banco.title", d);
    return 0;
}

/* ---------------------------------------------------------------- pockets */

/* The ledger code of a pocket: a hash of its currency and name, so a retried creation finds the
 * account the first one opened. */
static const char *banco_pocket_code(request *req, const char *currency, const char *name)
{
    unsigned char h[8];
    char hex[17];
    const char *msg = arena_printf(req->a, "%s\n%s", currency, name);
    if (!msg || crypto_generichash(h, sizeof h, (const unsigned char *)msg, strlen(msg), NULL, 0) != 0)
        return NULL;
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return arena_printf(req->a, "pocket.%s", hex);
}

static int banco_pocket_create(request *req, response *res)
{
    const char *cur = banco_currency(req_field(req, "currency"));
    const char *name = req_field(req, "name");
    if (!cur) {
        res_error(req, res, 422, "bad_currency", render_lang_string(req->lang, "banco.err.bad_currency"));
        return 0;
    }
    if (!name || !utf8_label_ok(name, 60)) {
        res_error(req, res, 422, "bad_name", render_lang_string(req->lang, "banco.err.bad_name"));
        return 0;
    }
    PGresult *n = tq_query(&req->cx, "banco_pocket_count", "SELECT count(*) FROM banco_pockets WHERE tenant_id = $1",
                           0, NULL);
    if (!n)
        return -1;
    if (atoll(PQgetvalue(n, 0, 0)) >= BANCO_MAX_POCKETS) {
        res_error(req, res, 409, "too_many_pockets", render_lang_string(req->lang, "banco.err.too_many_pockets"));
        return 0;
    }
    const char *code = banco_pocket_code(req, cur, name);
    long long account = code ? ledger_account_open(&req->cx, cur, code, 0) : -1;
    if (account < 0)
        return -1;
    char acc[24];
    snprintf(acc, sizeof acc, "%lld", account);
    const char *p[] = {acc, cur, name};
    json_t *after = json_pack("{s:s, s:s, s:I}", "currency", cur, "name", name, "account_id", (json_int_t)account);
    PGresult *r = audit_tq(&req->cx, "banco_pocket_create",
                           "INSERT INTO banco_pockets (tenant_id, account_id, currency, name) "
                           "SELECT a.tenant_id, a.id, $3, $4 FROM ledger_accounts a "
                           "WHERE a.id = $2::bigint AND a.tenant_id = $1 ON CONFLICT DO NOTHING RETURNING id",
                           3, p, "banco.pocket_create", "banco_pocket", NULL, after);
    json_decref(after);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        res_error(req, res, 409, "pocket_exists", render_lang_string(req->lang, "banco.err.pocket_exists"));
        return 0;
    }
    if (!req->api) {
        res_redirect(res, "/banco");
        return 0;
    }
    res_json(res, 201,
             json_pack("{s:{s:I, s:I, s:s, s:s}}", "pocket", "id", (json_int_t)atoll(PQgetvalue(r, 0, 0)), "account_id",
                       (json_int_t)account, "currency", cur, "name", name));
    return 0;
}

/* ---------------------------------------------------------------- transfers */

/* Moves money between two of the tenant's wallets and pockets. The ledger would move it between any
 * two accounts, so the caller's ownership of both is checked here; another tenant's account, or the
 * tenant's own outside-world account, answers as one that does not exist. */
static int banco_transfer(request *req, response *res)
{
    const char *key = banco_client_key(req, res);
    if (!key)
        return 0;
    const char *from = req_field(req, "from"), *to = req_field(req, "to");
    if (!from || !to || !req_is_id(from) || !req_is_id(to)) {
        res_error(req, res, 422, "bad_account", render_lang_string(req->lang, "banco.err.bad_account"));
        return 0;
    }
    if (!strcmp(from, to)) {
        banco_ledger_refused(req, res, LEDGER_ACCOUNTS_MUST_BE_DIFFERENT);
        return 0;
    }
    const char *p[] = {from, to};
    PGresult *r = tq_query(&req->cx, "banco_transfer_accounts",
                           "SELECT a.currency FROM ledger_accounts a "
                           "LEFT JOIN banco_pockets p ON p.account_id = a.id "
                           "WHERE a.tenant_id = $1 AND a.id IN ($2::bigint, $3::bigint) "
                           "AND (a.code = 'wallet' OR p.id IS NOT NULL)",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 2) {
        res_error(req, res, 404, "account_not_found", render_lang_string(req->lang, "banco.err.account_not_found"));
        return 0;
    }
    if (strcmp(PQgetvalue(r, 0, 0), PQgetvalue(r, 1, 0))) {
        banco_ledger_refused(req, res, LEDGER_CURRENCY_MISMATCH);
        return 0;
    }
    const char *cur = banco_currency(PQgetvalue(r, 0, 0));
    long long amount;
    if (banco_amount(req, res, cur, &amount) < 0)
        return 0;
    ledger_transfer_req t = {.key = arena_printf(req->a, "transfer:%s", key),
                             .kind = LEDGER_SINGLE,
                             .debit_account_id = atoll(from),
                             .credit_account_id = atoll(to),
                             .amount = amount,
                             .code = "pocket"};
    ledger_result out;
    int rc = ledger_transfer(&req->cx, &t, 1, &out);
    if (rc != 0) {
        banco_ledger_refused(req, res, rc < 0 ? LEDGER_DB_ERROR : out.code);
        return 0;
    }
    if (!req->api) {
        res_redirect(res, "/banco");
        return 0;
    }
    json_t *d = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:s}", "transfer_id", (json_int_t)out.transfer_id, "result",
                          ledger_code_name(out.code), "key", key, "from", (json_int_t)atoll(from), "to",
                          (json_int_t)atoll(to), "amount_minor", (json_int_t)amount, "currency", cur);
    res_json(res, banco_ledger_status(out.code), d);
    return 0;
}

#define BANCO_WRITE (R_AUTH | R_CSRF | R_PAGE)
static const route routes[] = {
    {"GET", "/banco", banco_index, R_AUTH | R_PAGE, "banco.use", NULL},
    {"POST", "/banco/caixinhas", banco_pocket_create, BANCO_WRITE, "banco.use", "banco.transfer"},
    {"POST", "/banco/transferencias", banco_transfer, BANCO_WRITE, "banco.use", "banco.transfer"},
};

const module banco_module = {"banco", "nav.banco", "/banco", ROUTES(routes)};
