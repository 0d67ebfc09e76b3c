/* comissoes.c — Financeiro's commission page (staff): what the platform owes each beneficiary, the
 * past payout runs, and the button that runs a payout (lib/commissions.c does the money). */
#include "app.h"
#include "commissions.h"
#include "db.h"
#include "modules.h"
#include "money.h"
#include "rbac.h"
#include "render.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define COMISSOES_ROWS 200
#define COMISSOES_RUNS 50
#define COMISSOES_MAX_MINIMUM 1000000000000000LL

/* Payable balances above zero, one row per beneficiary and currency, largest first. */
static json_t *comissoes_balances(request *req, long long platform)
{
    char tid[24], lim[24];
    snprintf(tid, sizeof tid, "%lld", platform);
    snprintf(lim, sizeof lim, "%d", COMISSOES_ROWS);
    const char *p[] = {tid, lim};
    /* cross-tenant: the platform's payable accounts name every beneficiary tenant (financeiro.read only) */
    PGresult *r = db_query(req->a, NULL,
                           "SELECT b.tenant, coalesce(t.name, ''), b.currency, b.balance, "
                           "(SELECT count(*) FROM commissions c WHERE c.beneficiary_tenant_id = b.tenant "
                           "AND c.currency = b.currency AND c.state = 'accrued') "
                           "FROM (SELECT substr(code, length('commission_payable.') + 1)::bigint AS tenant, currency, "
                           "credits_posted - debits_posted - debits_pending AS balance FROM ledger_accounts "
                           "WHERE tenant_id = $1::bigint AND code LIKE 'commission\\_payable.%') b "
                           "LEFT JOIN tenants t ON t.id = b.tenant WHERE b.balance > 0 "
                           "ORDER BY b.currency, b.balance DESC, b.tenant LIMIT $2::bigint",
                           2, p);
    if (!r)
        return NULL;
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        long long amount = atoll(PQgetvalue(r, i, 3));
        const char *cur = PQgetvalue(r, i, 2);
        json_array_append_new(rows, json_pack("{s:I, s:s, s:s, s:I, s:s, s:I}", "tenant_id",
                                              (json_int_t)atoll(PQgetvalue(r, i, 0)), "tenant_name", PQgetvalue(r, i, 1),
                                              "currency", cur, "balance_minor", (json_int_t)amount, "balance",
                                              money_format_a(req->a, amount, cur, req->lang), "unpaid_commissions",
                                              (json_int_t)atoll(PQgetvalue(r, i, 4))));
    }
    return rows;
}

static json_t *comissoes_runs(request *req)
{
    char lim[24];
    snprintf(lim, sizeof lim, "%d", COMISSOES_RUNS);
    const char *p[] = {lim};
    /* cross-tenant: payout runs are the platform's (financeiro.read only) */
    PGresult *r = db_query(req->a, NULL,
                           "SELECT r.run_key, r.currency, r.minimum, coalesce(u.email, ''), "
                           "to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                           "coalesce(to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
                           "r.beneficiaries, r.total FROM commission_payout_runs r "
                           "LEFT JOIN users u ON u.id = r.started_by ORDER BY r.started_at DESC, r.run_key LIMIT $1::bigint",
                           1, p);
    if (!r)
        return NULL;
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *cur = PQgetvalue(r, i, 1);
        long long minimum = atoll(PQgetvalue(r, i, 2)), total = atoll(PQgetvalue(r, i, 7));
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "run_key", PQgetvalue(r, i, 0),
                            "currency", cur, "minimum_minor", (json_int_t)minimum, "minimum",
                            money_format_a(req->a, minimum, cur, req->lang), "started_by", PQgetvalue(r, i, 3),
                            "started_at", PQgetvalue(r, i, 4), "finished_at", PQgetvalue(r, i, 5), "beneficiaries",
                            (json_int_t)atoll(PQgetvalue(r, i, 6)), "total_minor", (json_int_t)total, "total",
                            money_format_a(req->a, total, cur, req->lang)));
    }
    return rows;
}

/* A fresh run key for the form: a resubmitted page reuses it, so the run pays once. */
static const char *comissoes_run_key(request *req)
{
    unsigned char raw[12];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return NULL;
    char hex[2 * sizeof raw + 1];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return arena_printf(req->a, "payout-%s", hex);
}

static int comissoes_index(request *req, response *res)
{
    long long platform = commission_platform_tenant();
    json_t *balances = platform > 0 ? comissoes_balances(req, platform) : json_array();
    json_t *runs = balances ? comissoes_runs(req) : NULL;
    const char *key = comissoes_run_key(req);
    if (!runs || !key) {
        json_decref(balances);
        json_decref(runs);
        return -1;
    }
    json_t *d = json_pack("{s:o, s:o, s:s, s:b}", "balances", balances, "runs", runs, "run_key", key, "can_pay",
                          rbac_has(req->a, req->session->user_id, "financeiro.manage") == 1);
    const char *done = req_query(req, "run");
    if (done && commission_run_key_valid(done))
        json_object_set_new(d, "done_run", json_string(done));
    res_page(res, "financeiro/comissoes.cs", "comissoes.title", d);
    return 0;
}

static int comissoes_payout(request *req, response *res)
{
    const char *cur = req_field(req, "currency"), *min = req_field(req, "minimum_minor");
    const char *key = req_field(req, "run_key");
    char *end = NULL;
    long long minimum = min && *min && strspn(min, "0123456789") == strlen(min) && strlen(min) <= 16
                            ? strtoll(min, &end, 10)
                            : -1;
    if (!cur || money_decimals(cur) < 0 || minimum < 0 || minimum > COMISSOES_MAX_MINIMUM || !key ||
        !commission_run_key_valid(key)) {
        res_error(req, res, 422, "bad_payout", render_lang_string(req->lang, "comissoes.bad_payout"));
        return 0;
    }
    commission_payout_totals t;
    commission_rc rc = commission_payout_run(&req->cx, cur, minimum, key, &t);
    if (rc == COMMISSION_CONFLICT) {
        res_error(req, res, 409, "run_key_conflict", render_lang_string(req->lang, "comissoes.run_conflict"));
        return 0;
    }
    if (rc == COMMISSION_INVALID) {
        res_error(req, res, 422, "bad_payout", render_lang_string(req->lang, "comissoes.bad_payout"));
        return 0;
    }
    if (rc != COMMISSION_OK)
        return -1;
    if (req->api)
        res_json(res, 200, json_pack("{s:s, s:s, s:I, s:i, s:i, s:i, s:i, s:I, s:I}", "run_key", key, "currency", cur,
                                     "minimum_minor", (json_int_t)minimum, "paid", (int)t.paid, "already_paid",
                                     (int)t.already_paid, "skipped", (int)t.skipped, "failed", (int)t.failed,
                                     "total_minor", (json_int_t)t.total_minor, "run_total_minor",
                                     (json_int_t)t.run_total_minor));
    else
        res_redirect(res, arena_printf(req->a, "/financeiro/comissoes?run=%s", key));
    return 0;
}

static const route routes[] = {
    {"GET", "/financeiro/comissoes", comissoes_index, R_AUTH | R_PAGE, "financeiro.read", NULL},
    /* money moves: a fresh 2FA check, and the commission limit that fails closed without Redis */
    {"POST", "/financeiro/comissoes/payout", comissoes_payout, R_AUTH | R_CSRF | R_PAGE | R_STEPUP | R_SESSION_ONLY,
     "financeiro.manage", "affiliate.calculate_commission"},
};

const module comissoes_module = {"comissoes", NULL, NULL, ROUTES(routes)};
