/* financeiro.c — Financeiro, the company's money pages (staff): the revenue dashboard from the
 * subscriptions Stripe reports, the ledger's transfer history with filters and CSV, the invoices. */
#include "app.h"
#include "audit.h"
#include "bots_view.h"
#include "buf.h"
#include "csv.h"
#include "db.h"
#include "modules.h"
#include "money.h"
#include "paging.h"
#include "parse.h"
#include "plans.h"
#include "render.h"
#include "revenue.h"
#include "svg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIN_PAGE 50
#define FIN_EXPORT_BATCH 5000
#define FIN_EXPORT_MAX 100000
#define FIN_MRR_MONTHS 12
#define FIN_INVOICES 200

static const char *fin_money(request *req, long long cents)
{
    return money_format_a(req->a, cents, "BRL", req->lang);
}

/* svg output as an arena string ("" when it could not be made). */
static const char *fin_svg_take(request *req, buf *b)
{
    const char *out = b->data && !b->oom ? arena_strndup(req->a, b->data, b->len) : "";
    buf_free(b);
    return out;
}

/* ---------------------------------------------------------------- the dashboard */

/* Every subscription with its plan price and lifetime, ordered by tenant (revenue.h). A
 * subscription started at its first stored event; a canceled one ended at the event applied last. */
static revenue_sub *fin_subscriptions(request *req, size_t *n)
{
    /* cross-tenant: the company's revenue is every tenant's subscriptions (financeiro.read only) */
    PGresult *r = db_query(req->a, NULL,
                           "SELECT coalesce(s.tenant_id, 0), s.plan, s.status, "
                           "least(coalesce(e.started, s.last_event_created), s.last_event_created), "
                           "CASE WHEN s.status = 'canceled' THEN s.last_event_created ELSE 0 END "
                           "FROM subscriptions s LEFT JOIN (SELECT payload->'data'->'object'->>'id' AS sid, "
                           "min(created) AS started FROM stripe_events WHERE type LIKE 'customer.subscription.%' "
                           "GROUP BY 1) e ON e.sid = s.stripe_subscription_id "
                           "ORDER BY 1, s.id",
                           0, NULL);
    if (!r)
        return NULL;
    *n = (size_t)PQntuples(r);
    revenue_sub *subs = arena_calloc(req->a, *n ? *n : 1, sizeof *subs);
    for (size_t i = 0; subs && i < *n; i++) {
        revenue_sub *s = &subs[i];
        s->tenant_id = atoll(PQgetvalue(r, (int)i, 0));
        s->plan = PQgetisnull(r, (int)i, 1) ? NULL : PQgetvalue(r, (int)i, 1);
        s->status = PQgetvalue(r, (int)i, 2);
        s->started = atoll(PQgetvalue(r, (int)i, 3));
        s->canceled_at = atoll(PQgetvalue(r, (int)i, 4));
        long long cents = 0;
        if (s->plan && plans_catalog_limit(s->plan, PLAN_PRICE_BRL_CENTS, &cents) == 0)
            s->price_cents = cents;
    }
    return subs;
}

/* invoice.paid against invoice.payment_failed events since start: {paid, failed, rate (null
 * when neither happened), rate_text}. */
static json_t *fin_payments(request *req, long long start)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", start);
    const char *p[] = {s};
    /* cross-tenant: every tenant's invoice events (financeiro.read only) */
    PGresult *r = db_query(req->a, NULL,
                           "SELECT count(*) FILTER (WHERE type = 'invoice.paid'), "
                           "count(*) FILTER (WHERE type = 'invoice.payment_failed') FROM stripe_events "
                           "WHERE type IN ('invoice.paid', 'invoice.payment_failed') AND created >= $1::bigint",
                           1, p);
    if (!r)
        return NULL;
    long long paid = atoll(PQgetvalue(r, 0, 0)), failed = atoll(PQgetvalue(r, 0, 1));
    json_t *o = json_pack("{s:I, s:I}", "paid", (json_int_t)paid, "failed", (json_int_t)failed);
    if (paid + failed > 0) {
        double rate = (double)paid / (double)(paid + failed);
        json_object_set_new(o, "rate", json_real(rate));
        json_object_set_new(o, "rate_text", json_string(arena_printf(req->a, "%.1f%%", rate * 100)));
    } else {
        json_object_set_new(o, "rate", json_null());
        json_object_set_new(o, "rate_text", json_string("—"));
    }
    return o;
}

/* MRR and paying subscriptions per plan, and the bar chart of the MRR per plan. */
static json_t *fin_per_plan(request *req, const revenue_sub *subs, size_t n, const char **chart)
{
    static const char *const known[] = {"free", "pro", "enterprise", "influencer", "internal"};
    enum { KNOWN = sizeof known / sizeof known[0] };
    long long mrr[KNOWN] = {0}, count[KNOWN] = {0};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < KNOWN; k++)
            if (subs[i].plan && revenue_paying(subs[i].status) && !strcmp(subs[i].plan, known[k])) {
                mrr[k] += subs[i].price_cents;
                count[k]++;
            }
    json_t *rows = json_array();
    const char *labels[KNOWN];
    double values[KNOWN];
    size_t shown = 0;
    for (int k = 0; k < KNOWN; k++) {
        if (!count[k])
            continue;
        const char *name = render_lang_string(req->lang, arena_printf(req->a, "plans.name.%s", known[k]));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:I, s:s}", "plan", known[k], "name", name,
                                              "subscriptions", (json_int_t)count[k], "mrr_cents", (json_int_t)mrr[k],
                                              "mrr", fin_money(req, mrr[k])));
        labels[shown] = name;
        values[shown++] = (double)mrr[k] / 100;
    }
    svg_series s = {render_lang_string(req->lang, "financeiro.mrr"), "s-mrr", values, SVG_BARS, 0};
    svg_bar_chart c = {labels, shown, &s, 1, 0, 280, render_lang_string(req->lang, "financeiro.chart_plans"),
                       render_lang_string(req->lang, "financeiro.chart_empty"), NULL};
    buf b = {0};
    svg_bars(&c, bots_svg_sink, &b);
    *chart = fin_svg_take(req, &b);
    return rows;
}

/* The MRR at the end of each of the last FIN_MRR_MONTHS months and now, as a line chart. */
static const char *fin_mrr_chart(request *req, const revenue_sub *subs, size_t n, long long now, json_t *series)
{
    int64_t x[FIN_MRR_MONTHS + 1];
    double y[FIN_MRR_MONTHS + 1];
    struct tm tm;
    time_t t = (time_t)now;
    gmtime_r(&t, &tm);
    for (int i = 0; i < FIN_MRR_MONTHS; i++) {
        /* the first second of month (now's month - (FIN_MRR_MONTHS - 1 - i)), minus one */
        struct tm m = {0};
        m.tm_year = tm.tm_year;
        m.tm_mon = tm.tm_mon - (FIN_MRR_MONTHS - 1 - i);
        m.tm_mday = 1;
        long long end = (long long)timegm(&m) - 1;
        x[i] = (int64_t)end * 1000;
        y[i] = (double)revenue_mrr_at(subs, n, end) / 100;
    }
    x[FIN_MRR_MONTHS] = (int64_t)now * 1000;
    y[FIN_MRR_MONTHS] = (double)revenue_mrr_at(subs, n, now) / 100;
    for (int i = 0; i <= FIN_MRR_MONTHS; i++)
        json_array_append_new(series, json_pack("{s:I, s:I}", "at", (json_int_t)(x[i] / 1000), "mrr_cents",
                                                (json_int_t)(y[i] * 100 + (y[i] >= 0 ? 0.5 : -0.5))));
    svg_series s = {render_lang_string(req->lang, "financeiro.mrr"), "s-mrr", y, SVG_AREA, 0};
    svg_line_chart c = {x, FIN_MRR_MONTHS + 1, &s, 1, 1, 0, 280, render_lang_string(req->lang, "financeiro.chart_mrr"),
                        render_lang_string(req->lang, "financeiro.chart_empty"), NULL};
    buf b = {0};
    svg_lines(&c, bots_svg_sink, &b);
    return fin_svg_take(req, &b);
}

static int fin_dashboard(request *req, response *res)
{
    const char *dv = query_value(req, "days");
    long days = dv ? strtol(dv, NULL, 10) : 30;
    if (dv && (strspn(dv, "0123456789") != strlen(dv) || days < 1 || days > 366)) {
        res_error(req, res, 422, "bad_filter", render_lang_string(req->lang, "financeiro.bad_days"));
        return 0;
    }
    long long now = (long long)time(NULL), start = now - days * 86400LL;
    size_t n = 0;
    revenue_sub *subs = fin_subscriptions(req, &n);
    json_t *payments = subs ? fin_payments(req, start) : NULL;
    if (!payments)
        return -1;
    revenue_summary s;
    revenue_summarize(subs, n, start, now, &s);
    const char *plans_chart = "";
    json_t *per_plan = fin_per_plan(req, subs, n, &plans_chart), *mrr_series = json_array();
    const char *mrr_chart = fin_mrr_chart(req, subs, n, now, mrr_series);
    json_t *d = json_pack(
        "{s:i, s:I, s:s, s:I, s:s, s:I, s:I, s:s, s:I, s:I, s:o, s:o, s:o, s:s, s:s}", "days", (int)days, "mrr_cents",
        (json_int_t)s.mrr_cents, "mrr", fin_money(req, s.mrr_cents), "arr_cents", (json_int_t)s.arr_cents, "arr",
        fin_money(req, s.arr_cents), "paying_subscriptions", (json_int_t)s.paying_subs, "paying_tenants",
        (json_int_t)s.paying_tenants, "arpu", fin_money(req, s.arpu_cents), "active_at_start",
        (json_int_t)s.active_at_start, "canceled_in_period", (json_int_t)s.canceled_in_period, "payments", payments,
        "per_plan", per_plan, "mrr_series", mrr_series, "plans_chart_svg", plans_chart, "mrr_chart_svg", mrr_chart);
    json_object_set_new(d, "arpu_cents", json_integer((json_int_t)s.arpu_cents));
    json_object_set_new(d, "churn", s.churn < 0 ? json_null() : json_real(s.churn));
    json_object_set_new(d, "churn_text",
                        json_string(s.churn < 0 ? "—" : arena_printf(req->a, "%.1f%%", s.churn * 100)));
    json_object_set_new(d, "ltv_cents", s.ltv_cents < 0 ? json_null() : json_integer((json_int_t)s.ltv_cents));
    json_object_set_new(d, "ltv", json_string(s.ltv_cents < 0 ? "—" : fin_money(req, s.ltv_cents)));
    res_page(res, "financeiro/index.cs", "financeiro.title", d);
    return 0;
}

/* ---------------------------------------------------------------- transfers */

typedef struct fin_filters {
    const char *from, *to, *currency, *account, *kind, *tenant;
    keyset page;
} fin_filters;

static int fin_one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

/* Reads and checks the filters: 0, or -1 after answering 422. */
static int fin_filters_read(request *req, response *res, fin_filters *f)
{
    static const char *const currencies[] = {"BRL", "USDT", "BTC", NULL};
    static const char *const kinds[] = {"single", "pending", "post", "void", "expire", NULL};
    f->from = query_value(req, "from");
    f->to = query_value(req, "to");
    f->currency = query_value(req, "currency");
    f->account = query_value(req, "account");
    f->kind = query_value(req, "kind");
    f->tenant = query_value(req, "tenant");
    int ok = (!f->from || parse_date_ymd(f->from)) && (!f->to || parse_date_ymd(f->to)) &&
             (!f->currency || fin_one_of(f->currency, currencies)) && (!f->kind || fin_one_of(f->kind, kinds)) &&
             (!f->tenant || parse_id(f->tenant)) && keyset_read(req, &f->page) == 0 &&
             (!f->account || (strlen(f->account) <= 64 && f->account[0] >= 'a' && f->account[0] <= 'z' &&
                              strspn(f->account, "abcdefghijklmnopqrstuvwxyz0123456789_.") == strlen(f->account)));
    if (ok && f->from && f->to && strcmp(f->from, f->to) > 0)
        ok = 0;
    if (!ok) {
        res_error(req, res, 422, "bad_filter", render_lang_string(req->lang, "financeiro.bad_filter"));
        return -1;
    }
    return 0;
}

/* One page of transfers under the filters at the cursor k, newest first unless k reads upwards
 * (keyset_row puts them in order). */
static PGresult *fin_transfers(request *req, const fin_filters *f, const keyset *k, long limit)
{
    sql_where w = {0};
    char sql[3072], lim[24];
    where_add(&w, f->from, "t.created_at >= ($?::date)::timestamp AT TIME ZONE 'UTC'");
    where_add(&w, f->to, "t.created_at < ($?::date + 1)::timestamp AT TIME ZONE 'UTC'");
    where_add(&w, f->currency, "t.currency = $?");
    where_add(&w, f->kind, "t.kind = $?");
    where_add(&w, f->tenant, "t.tenant_id = $?::bigint");
    /* an account code matches either side of the transfer */
    where_add(&w, f->account, "(da.code = $? OR ca.code = $?)");
    const char *order = keyset_where(k, &w, "t.id");
    snprintf(lim, sizeof lim, "%ld", limit);
    int nlim = where_param(&w, lim);
    if (w.overflow)
        return NULL;
    int n = snprintf(sql, sizeof sql,
                     "SELECT t.id, to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                     "t.tenant_id, t.kind, t.currency, t.amount, da.tenant_id, da.code, ca.tenant_id, ca.code, "
                     "t.code, t.idempotency_key, coalesce(t.pending_id::text, ''), "
                     "coalesce((SELECT e.credits_posted - e.debits_posted FROM ledger_entries e "
                     "WHERE e.transfer_id = t.id AND e.account_id = t.credit_account_id), 0) "
                     "FROM ledger_transfers t JOIN ledger_accounts da ON da.id = t.debit_account_id "
                     "JOIN ledger_accounts ca ON ca.id = t.credit_account_id WHERE true%s "
                     "ORDER BY t.id %s LIMIT $%d::bigint",
                     w.sql, order, nlim);
    if (n < 0 || (size_t)n >= sizeof sql)
        return NULL;
    /* cross-tenant: Financeiro reads the whole ledger; only financeiro.read holders get here */
    return db_query(NULL, NULL, sql, w.n, w.params);
}

static const char *const fin_filter_names[] = {"from", "to", "currency", "account", "kind", "tenant"};
enum { FIN_FILTERS = sizeof fin_filter_names / sizeof fin_filter_names[0] };

static const char *fin_filters_query(request *req, const fin_filters *f)
{
    const char *vals[FIN_FILTERS] = {f->from, f->to, f->currency, f->account, f->kind, f->tenant};
    return url_query(req->a, fin_filter_names, vals, FIN_FILTERS);
}

static json_t *fin_filters_json(const fin_filters *f)
{
    const char *vals[FIN_FILTERS] = {f->from, f->to, f->currency, f->account, f->kind, f->tenant};
    return filters_json(fin_filter_names, vals, FIN_FILTERS);
}

static const char *const fin_csv_head[] = {"id", "at", "tenant_id", "kind", "currency", "amount_minor", "amount",
                                           "debit_tenant_id", "debit_account", "credit_tenant_id", "credit_account",
                                           "code", "idempotency_key", "pending_id"};
enum { FIN_CSV_COLS = sizeof fin_csv_head / sizeof fin_csv_head[0] };

/* ?format=csv: every matching transfer (up to FIN_EXPORT_MAX) in batches, the export audited. */
static int fin_transfers_csv(request *req, response *res, const fin_filters *f)
{
    buf *b = &res->body;
    buf_clear(b);
    for (int c = 0; c < FIN_CSV_COLS; c++)
        csv_field(b, fin_csv_head[c], c == FIN_CSV_COLS - 1);
    long rows = 0;
    int truncated = 0;
    char last[24] = "";
    /* the export reads downwards from the page's before cursor (or the newest) */
    keyset k = {.before = f->page.before};
    for (;;) {
        PGresult *r = fin_transfers(req, f, &k, FIN_EXPORT_BATCH);
        if (!r)
            goto fail;
        int n = PQntuples(r);
        for (int i = 0; i < n && !truncated; i++) {
            if (rows == FIN_EXPORT_MAX) {
                truncated = 1;
                break;
            }
            char amount[48];
            if (money_plain(amount, sizeof amount, atoll(PQgetvalue(r, i, 5)), PQgetvalue(r, i, 4)) < 0)
                amount[0] = '\0';
            const char *v[FIN_CSV_COLS] = {PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                                           PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5), amount,
                                           PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8),
                                           PQgetvalue(r, i, 9), PQgetvalue(r, i, 10), PQgetvalue(r, i, 11),
                                           PQgetvalue(r, i, 12)};
            for (int c = 0; c < FIN_CSV_COLS; c++)
                csv_field(b, v[c], c == FIN_CSV_COLS - 1);
            rows++;
        }
        if (n > 0)
            snprintf(last, sizeof last, "%s", PQgetvalue(r, n - 1, 0));
        PQclear(r);
        if (truncated || n < FIN_EXPORT_BATCH)
            break;
        k.before = last;
    }
    if (b->oom)
        goto fail;
    json_t *after = json_pack("{s:o, s:I, s:b}", "filters", fin_filters_json(f), "rows", (json_int_t)rows,
                              "truncated", truncated);
    int rc = audit_record(&req->cx, "financeiro.export", "ledger_transfers", "", NULL, after);
    json_decref(after);
    if (rc < 0)
        goto fail;
    res->status = 200;
    res->content_type = "text/csv; charset=utf-8";
    res_header(res, "Content-Disposition", "attachment; filename=\"ledger-transfers.csv\"");
    if (truncated)
        res_header(res, "X-Truncated", "1");
    return 0;
fail:
    buf_clear(b);
    return -1;
}

static int fin_transacoes(request *req, response *res)
{
    fin_filters f;
    if (fin_filters_read(req, res, &f) < 0)
        return 0;
    const char *format = query_value(req, "format");
    if (format && !strcmp(format, "csv"))
        return fin_transfers_csv(req, res, &f);
    PGresult *r = fin_transfers(req, &f, &f.page, FIN_PAGE + 1);
    if (!r)
        return -1;
    int n = PQntuples(r), shown = keyset_shown(n, FIN_PAGE);
    json_t *rows = json_array();
    for (int row = 0; row < shown; row++) {
        int i = keyset_row(&f.page, row, shown);
        long long amount = atoll(PQgetvalue(r, i, 5));
        const char *cur = PQgetvalue(r, i, 4);
        json_array_append_new(
            rows, json_pack("{s:I, s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "id",
                            (json_int_t)atoll(PQgetvalue(r, i, 0)), "at", PQgetvalue(r, i, 1), "tenant_id",
                            (json_int_t)atoll(PQgetvalue(r, i, 2)), "kind", PQgetvalue(r, i, 3), "currency", cur,
                            "amount_minor", (json_int_t)amount, "amount", money_format_a(req->a, amount, cur, req->lang),
                            "debit_tenant_id", (json_int_t)atoll(PQgetvalue(r, i, 6)), "debit_account",
                            PQgetvalue(r, i, 7), "credit_tenant_id", (json_int_t)atoll(PQgetvalue(r, i, 8)),
                            "credit_account", PQgetvalue(r, i, 9), "code", PQgetvalue(r, i, 10), "idempotency_key",
                            PQgetvalue(r, i, 11), "pending_id", PQgetvalue(r, i, 12), "credit_balance_after",
                            money_format_a(req->a, atoll(PQgetvalue(r, i, 13)), cur, req->lang)));
    }
    const char *qs = fin_filters_query(req, &f);
    json_t *d = json_pack("{s:o, s:o, s:s, s:s}", "rows", rows, "filters", fin_filters_json(&f), "query", qs,
                          "csv_url", arena_printf(req->a, "/financeiro/transacoes?%s%sformat=csv", qs, *qs ? "&" : ""));
    keyset_links(req, &f.page, r, n, FIN_PAGE, 0, "/financeiro/transacoes", qs, d);
    PQclear(r);
    res_page(res, "financeiro/transacoes.cs", "financeiro.transacoes", d);
    return 0;
}

/* ---------------------------------------------------------------- invoices */

/* The newest state of each subscription invoice Stripe told us about, newest first. */
static int fin_faturas(request *req, response *res)
{
    char lim[24];
    snprintf(lim, sizeof lim, "%d", FIN_INVOICES);
    const char *p[] = {lim};
    /* cross-tenant: every tenant's invoices (financeiro.read only) */
    PGresult *r = db_query(
        req->a, NULL,
        "SELECT * FROM (SELECT DISTINCT ON (o->>'id') o->>'id', coalesce(e.tenant_id::text, ''), "
        "coalesce(o->>'customer', ''), coalesce(o->>'subscription', ''), e.type, "
        "CASE WHEN e.type = 'invoice.paid' THEN o->>'amount_paid' ELSE o->>'amount_due' END, "
        "upper(coalesce(o->>'currency', '')), coalesce(o->>'hosted_invoice_url', ''), "
        "to_char(to_timestamp(e.created) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), e.created "
        "FROM stripe_events e, LATERAL (SELECT e.payload->'data'->'object' AS o) x "
        "WHERE e.type IN ('invoice.paid', 'invoice.payment_failed', 'invoice.payment_action_required') "
        "AND o->>'id' IS NOT NULL ORDER BY o->>'id', e.created DESC, e.received_at DESC) i "
        "ORDER BY 10 DESC, 1 LIMIT $1::bigint",
        1, p);
    if (!r)
        return -1;
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *state = PQgetvalue(r, i, 4) + strlen("invoice."), *url = PQgetvalue(r, i, 7);
        const char *amount_s = PQgetvalue(r, i, 5), *cur = PQgetvalue(r, i, 6);
        int has_amount = !PQgetisnull(r, i, 5) && *amount_s && strspn(amount_s, "-0123456789") == strlen(amount_s);
        long long amount = has_amount ? atoll(amount_s) : 0;
        json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", PQgetvalue(r, i, 0), "tenant_id",
                                PQgetvalue(r, i, 1), "customer", PQgetvalue(r, i, 2), "subscription",
                                PQgetvalue(r, i, 3), "status", state, "status_label",
                                render_lang_string(req->lang, arena_printf(req->a, "financeiro.invoice.%s", state)),
                                "currency", cur, "at", PQgetvalue(r, i, 8),
                                /* only Stripe's pages are linked: the URL came in a webhook payload */
                                "url", !strncmp(url, "https://", 8) ? url : "");
        json_object_set_new(row, "amount_minor", has_amount ? json_integer((json_int_t)amount) : json_null());
        json_object_set_new(row, "amount", json_string(has_amount ? money_format_a(req->a, amount, cur, req->lang)
                                                                  : "—"));
        json_array_append_new(rows, row);
    }
    res_page(res, "financeiro/faturas.cs", "financeiro.faturas", json_pack("{s:o}", "invoices", rows));
    return 0;
}

static const route routes[] = {
    {"GET", "/financeiro", fin_dashboard, R_AUTH | R_PAGE, "financeiro.read", NULL},
    {"GET", "/financeiro/transacoes", fin_transacoes, R_AUTH | R_PAGE, "financeiro.read", NULL},
    {"GET", "/financeiro/faturas", fin_faturas, R_AUTH | R_PAGE, "financeiro.read", NULL},
};

const module financeiro_module = {"financeiro", "nav.financeiro", "/financeiro", ROUTES(routes)};
