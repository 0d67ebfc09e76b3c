/* bots.c — trading bots: list, create and edit (strategy + typed parameters + market + mode),
 * start and stop, the tenant's emergency stop of all its bots and the platform-wide halt. */
#include "app.h"
#include "audit.h"
#include "bots.h"
#include "bots_view.h"
#include "candles.h"
#include "plans.h"
#include "pricing.h"
#include "rbac.h"
#include "config.h"
#include "db.h"
#include "modules.h"
#include "render.h"
#include "tenant.h"
#include "trading_create.h"
#include "trading_form.h"
#include "utf8.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bots_not_found(request *req, response *res)
{
    res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
}

static void bots_money(char *out, size_t n, double v)
{
    snprintf(out, n, "%.2f", isfinite(v) ? v : 0.0);
}

/* The platform halt flag; a database that cannot be read counts as halted (fail closed). */
static int bots_halted(request *req, const char **reason)
{
    /* cross-tenant: the halt is one platform-wide row, not tenant data */
    PGresult *r = db_query(req->a, "bots_halt_get", "SELECT halted, coalesce(reason, '') FROM trading_halt", 0, NULL);
    if (!r || PQntuples(r) != 1)
        return 1;
    if (reason)
        *reason = PQgetvalue(r, 0, 1);
    return !strcmp(PQgetvalue(r, 0, 0), "t");
}

static int bots_list_page(request *req, response *res, long stopped)
{
    PGresult *r = tq_query(&req->cx, "bots_list",
                           "SELECT b.id, b.name, b.exchange, b.symbol, b.timeframe, b.mode, b.status, "
                           "b.config->>'strategy', coalesce(b.equity, b.initial_balance), b.initial_balance, "
                           "(SELECT count(*) FROM bot_trades t WHERE t.tenant_id = $1 AND t.bot_id = b.id "
                           "AND t.kind = 'close') "
                           "FROM bots b WHERE b.tenant_id = $1 ORDER BY b.id",
                           0, NULL);
    if (!r)
        return -1;
    json_t *list = json_array();
    int running = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        double eq = atof(PQgetvalue(r, i, 8)), init = atof(PQgetvalue(r, i, 9));
        char eqs[48], pnls[48];
        bots_money(eqs, sizeof eqs, eq);
        bots_money(pnls, sizeof pnls, eq - init);
        running += !strcmp(PQgetvalue(r, i, 6), "running");
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:i, s:I}", "id",
                            (json_int_t)atoll(PQgetvalue(r, i, 0)), "name", PQgetvalue(r, i, 1), "exchange",
                            PQgetvalue(r, i, 2), "symbol", PQgetvalue(r, i, 3), "timeframe", PQgetvalue(r, i, 4),
                            "mode", PQgetvalue(r, i, 5), "status", PQgetvalue(r, i, 6), "strategy",
                            PQgetvalue(r, i, 7), "equity", eq, "pnl", eq - init, "equity_text", eqs, "pnl_text",
                            pnls, "pnl_sign", eq > init ? 1 : eq < init ? -1 : 0, "trades",
                            (json_int_t)atoll(PQgetvalue(r, i, 10))));
    }
    const char *reason = "";
    int halted = bots_halted(req, &reason);
    json_t *d = json_pack("{s:o, s:b, s:s, s:i, s:b}", "bots", list, "halted", halted, "halt_reason", reason,
                          "running_count", running, "can_halt", rbac_has(req->a, req->cx.user_id, "trading.halt") == 1);
    if (stopped >= 0)
        json_object_set_new(d, "stopped_count", json_integer(stopped));
    res_page(res, "bots/index.cs", "bots.title", d);
    return 0;
}

static int bots_list(request *req, response *res)
{
    return bots_list_page(req, res, -1);
}

/* ---------------------------------------------------------------- the form */

/* The markets a bot can trade: every (exchange, symbol, timeframe) that holds candles. */
static json_t *bots_markets(request *req)
{
    /* cross-tenant: markets and candles are platform-wide data */
    PGresult *r = db_query(req->a, "bots_markets",
                           "SELECT m.exchange, m.symbol, t.tf FROM markets m "
                           "CROSS JOIN unnest(ARRAY['1m','5m','15m','1h','4h','1d']) AS t(tf) "
                           "WHERE EXISTS (SELECT 1 FROM candles c WHERE c.market_id = m.id AND c.timeframe = t.tf) "
                           "ORDER BY m.exchange, m.symbol, t.tf",
                           0, NULL);
    json_t *list = json_array();
    for (int i = 0; r && i < PQntuples(r); i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s+++++}", "exchange", PQgetvalue(r, i, 0), "symbol",
                                              PQgetvalue(r, i, 1), "timeframe", PQgetvalue(r, i, 2), "key",
                                              PQgetvalue(r, i, 0), ":", PQgetvalue(r, i, 1), ":",
                                              PQgetvalue(r, i, 2)));
    return list;
}

/* The user's validated exchange keys (live mode needs one). */
static json_t *bots_credentials(request *req)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->cx.user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "bots_credentials",
                           "SELECT id, exchange, label, key_mask FROM credentials WHERE tenant_id = $1 "
                           "AND user_id = $2::bigint AND validated_at IS NOT NULL AND permissions = 'trade' ORDER BY id",
                           1, p);
    json_t *list = json_array();
    for (int i = 0; r && i < PQntuples(r); i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "id", PQgetvalue(r, i, 0), "exchange",
                                              PQgetvalue(r, i, 1), "label", PQgetvalue(r, i, 2), "key_mask",
                                              PQgetvalue(r, i, 3)));
    return list;
}

/* Renders the form; form/config/errors are stolen (NULL = empty). */
static int bots_form_page(request *req, response *res, const char *edit_id, const char *strategy, json_t *form,
                          json_t *config, json_t *errors)
{
    json_t *d = json_object();
    if (tform_fill(req, d, strategy, config, errors) != 0) {
        json_decref(d);
        json_decref(form);
        json_decref(config);
        json_decref(errors);
        res_error(req, res, 400, "bad_strategy", render_lang_string(req->lang, "strategy.unknown"));
        return 0;
    }
    json_decref(config);
    json_object_set_new(d, "markets", bots_markets(req));
    json_object_set_new(d, "credentials", bots_credentials(req));
    json_object_set_new(d, "form", form ? form : json_pack("{s:s, s:s}", "mode", "paper", "initial_balance", "10000"));
    json_object_set_new(d, "errors", errors ? errors : json_object());
    if (edit_id)
        json_object_set_new(d, "edit_id", json_string(edit_id));
    res_page(res, "bots/form.cs", edit_id ? "bots.edit" : "bots.new", d);
    return 0;
}

static int bots_new(request *req, response *res)
{
    return bots_form_page(req, res, NULL, req_query(req, "strategy"), NULL, NULL, NULL);
}

static void bots_err(request *req, json_t *errors, const char *field)
{
    char key[64];
    snprintf(key, sizeof key, "bots.err_%s", field);
    json_object_set_new(errors, field, json_string(render_lang_string(req->lang, key)));
}

static int bots_name_ok(const char *s)
{
    return utf8_label_ok(s, 80);
}

/* Reads and checks the submitted bot (form fields or JSON). Returns 0 when valid; otherwise
 * fills errors (field → message) and returns -1. */
static int bots_read(request *req, bots_input *in, json_t *errors)
{
    memset(in, 0, sizeof *in);
    in->name = req_field(req, "name");
    in->mode = req_field(req, "mode");
    in->credential_id = req_field(req, "credential_id");
    in->balance = req_field(req, "initial_balance");
    in->strategy = req_field(req, "strategy");
    if (in->credential_id && !*in->credential_id)
        in->credential_id = NULL;
    if (!in->mode || !*in->mode)
        in->mode = "paper";
    if (!bots_name_ok(in->name))
        bots_err(req, errors, "name");
    /* market "exchange:symbol:timeframe" (the form), or the three JSON fields */
    const char *market = req_field(req, "market");
    if (market) {
        char *m = arena_strdup(req->a, market), *c1 = strchr(m, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c1 && c2) {
            *c1 = *c2 = '\0';
            in->exchange = m;
            in->symbol = c1 + 1;
            in->timeframe = c2 + 1;
        }
    } else {
        in->exchange = req_field(req, "exchange");
        in->symbol = req_field(req, "symbol");
        in->timeframe = req_field(req, "timeframe");
    }
    int market_ok = 0;
    if (in->exchange && in->symbol && in->timeframe && candle_timeframe_ms(in->timeframe) > 0) {
        const char *p[] = {in->exchange, in->symbol, in->timeframe};
        /* cross-tenant: markets and candles are platform-wide data */
        PGresult *r = db_query(req->a, "bots_market_check",
                               "SELECT 1 FROM markets m WHERE m.exchange = $1 AND m.symbol = $2 AND EXISTS "
                               "(SELECT 1 FROM candles c WHERE c.market_id = m.id AND c.timeframe = $3)",
                               3, p);
        market_ok = r && PQntuples(r) == 1;
    }
    if (!market_ok)
        bots_err(req, errors, "market");
    if (strcmp(in->mode, "paper") && strcmp(in->mode, "live"))
        bots_err(req, errors, "mode");
    char *end = NULL;
    double bal = in->balance ? strtod(in->balance, &end) : NAN;
    if (!in->balance || end == in->balance || *end || !isfinite(bal) || bal < 1 || bal > 1e9)
        bots_err(req, errors, "initial_balance");
    if (!strcmp(in->mode, "live")) {
        if (!plans_allow_live(req->a, req->cx.tenant_id))
            bots_err(req, errors, "live_plan");
        else {
            char uid[24];
            snprintf(uid, sizeof uid, "%lld", req->cx.user_id);
            const char *p[] = {uid, in->credential_id ? in->credential_id : "0", in->exchange ? in->exchange : ""};
            PGresult *r = in->credential_id && req_is_id(in->credential_id)
                              ? tq_query(&req->cx, "bots_cred_check",
                                         "SELECT 1 FROM credentials WHERE tenant_id = $1 AND user_id = $2::bigint "
                                         "AND id = $3::bigint AND exchange = $4 AND validated_at IS NOT NULL "
                                         "AND permissions = 'trade'",
                                         3, p)
                              : NULL;
            if (!r || PQntuples(r) != 1)
                bots_err(req, errors, "credential_id");
        }
    } else {
        in->credential_id = NULL;
    }
    char err[200] = "";
    in->config = tform_config(req, in->strategy, in->timeframe, err, sizeof err);
    if (!in->config)
        json_object_set_new(errors, "config", json_string(err));
    if (json_object_size(errors)) {
        json_decref(in->config);
        in->config = NULL;
        return -1;
    }
    return 0;
}

/* The refused submission: 422 JSON naming the fields, or the form again with what was typed. */
static int bots_refused(request *req, response *res, const char *edit_id, const bots_input *in, json_t *errors)
{
    if (req->api) {
        json_t *body = json_pack("{s:{s:s, s:s, s:s, s:O}}", "error", "code", "invalid_bot", "message",
                                 render_lang_string(req->lang, "bots.invalid"), "request_id", req->request_id,
                                 "fields", errors);
        json_decref(errors);
        res_json(res, 422, body);
        return 0;
    }
    const char *market = req_field(req, "market");
    json_t *form = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", bots_name_ok(in->name) ? in->name : "", "market",
                             market && strlen(market) < 80 && utf8_valid(market, strlen(market)) ? market : "", "mode",
                             strcmp(in->mode, "live") ? "paper" : "live", "credential_id",
                             in->credential_id && req_is_id(in->credential_id) ? in->credential_id : "",
                             "initial_balance", in->balance && strlen(in->balance) < 24 ? in->balance : "");
    res->status = 422;
    return bots_form_page(req, res, edit_id, in->strategy, form, tform_submitted(req, in->strategy), errors);
}

typedef struct bots_save {
    const ctx *c;
    const bots_input *in;
    const char *id; /* NULL = create */
    char new_id[24];
    int outcome; /* 0 saved, 1 not found, 2 running, 3 over the plan's bot limit */
    plan_refusal refusal;
} bots_save;

static int bots_save_tx(void *arg)
{
    bots_save *s = arg;
    const bots_input *in = s->in;
    char *cfg = json_dumps(in->config, JSON_COMPACT | JSON_SORT_KEYS);
    if (!cfg)
        return -1;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", s->c->user_id);
    PGresult *r;
    if (!s->id) {
        int fits = plans_check_one_more(s->c, PLAN_BOTS, "bots_count", "SELECT count(*) FROM bots WHERE tenant_id = $1",
                                        &s->refusal);
        if (fits <= 0) {
            free(cfg);
            s->outcome = 3;
            return fits < 0 ? -1 : 0;
        }
        const char *p[] = {uid, in->name, in->exchange, in->symbol, in->timeframe, in->mode, in->credential_id, cfg,
                           in->balance};
        r = tq_query(s->c, "bots_insert",
                     "INSERT INTO bots (tenant_id, user_id, name, exchange, symbol, timeframe, mode, credential_id, "
                     "config, initial_balance) SELECT u.tenant_id, u.id, $3, $4, $5, $6, $7, $8::bigint, $9::jsonb, "
                     "$10::float8 FROM users u WHERE u.id = $2::bigint AND u.tenant_id = $1 RETURNING id",
                     9, p);
    } else {
        const char *p[] = {s->id, in->name, in->exchange, in->symbol, in->timeframe, in->mode, in->credential_id, cfg,
                           in->balance};
        /* the saved engine state belongs to the old configuration: the next start begins afresh */
        r = tq_query(s->c, "bots_update",
                     "UPDATE bots SET name = $3, exchange = $4, symbol = $5, timeframe = $6, mode = $7, "
                     "credential_id = $8::bigint, config = $9::jsonb, initial_balance = $10::float8, state = NULL, "
                     "start_ms = NULL, last_candle_ms = NULL, equity = NULL, error = NULL, updated_at = now() "
                     "WHERE tenant_id = $1 AND id = $2::bigint AND status <> 'running' RETURNING id",
                     9, p);
    }
    free(cfg);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        s->outcome = 1;
        return 0;
    }
    snprintf(s->new_id, sizeof s->new_id, "%s", PQgetvalue(r, 0, 0));
    json_t *after = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "name", in->name, "exchange", in->exchange, "symbol",
                              in->symbol, "timeframe", in->timeframe, "mode", in->mode, "config", in->config);
    int rc = after ? audit_record(s->c, s->id ? "bots.update" : "bots.create", "bot", s->new_id, NULL, after) : -1;
    json_decref(after);
    return rc;
}

int bots_insert(request *req, response *res, const bots_input *in)
{
    bots_save s = {.c = &req->cx, .in = in};
    if (db_tx(bots_save_tx, &s) != 0)
        return -1;
    if (s.outcome == 3) {
        pricing_refuse(req, res, &s.refusal);
        return 0;
    }
    if (s.outcome)
        return -1;
    if (req->api) {
        res_json(res, 201, json_pack("{s:I}", "id", (json_int_t)atoll(s.new_id)));
        return 0;
    }
    res_redirect(res, arena_printf(req->a, "/bots/%s", s.new_id));
    return 0;
}

static int bots_create(request *req, response *res)
{
    bots_input in;
    json_t *errors = json_object();
    if (bots_read(req, &in, errors) != 0)
        return bots_refused(req, res, NULL, &in, errors);
    json_decref(errors);
    int rc = bots_insert(req, res, &in);
    json_decref(in.config);
    return rc;
}

/* ---------------------------------------------------------------- one bot */

static int bots_show(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    if (!id) {
        bots_not_found(req, res);
        return 0;
    }
    const char *p[] = {id};
    PGresult *r = tq_query(&req->cx, "bots_show",
                           "SELECT b.id, b.name, b.exchange, b.symbol, b.timeframe, b.mode, b.status, b.config, "
                           "b.initial_balance, coalesce(b.equity, b.initial_balance), coalesce(b.error, ''), "
                           "coalesce(to_char(to_timestamp(b.last_candle_ms / 1000.0) AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD HH24:MI'), ''), coalesce(c.label || ' ' || c.key_mask, ''), "
                           "coalesce(b.start_ms, 0), coalesce(b.last_candle_ms, 0) "
                           "FROM bots b LEFT JOIN credentials c ON c.id = b.credential_id AND c.tenant_id = $1 "
                           "WHERE b.tenant_id = $1 AND b.id = $2::bigint",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        bots_not_found(req, res);
        return 0;
    }
    json_error_t je;
    json_t *config = json_loads(PQgetvalue(r, 0, 7), 0, &je);
    double init = atof(PQgetvalue(r, 0, 8)), eq = atof(PQgetvalue(r, 0, 9));
    char eqs[48], pnls[48], inits[48];
    bots_money(eqs, sizeof eqs, eq);
    bots_money(pnls, sizeof pnls, eq - init);
    bots_money(inits, sizeof inits, init);
    const char *strategy = config ? json_string_value(json_object_get(config, "strategy")) : NULL;
    json_t *bot = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:f, s:f, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "id",
        (json_int_t)atoll(PQgetvalue(r, 0, 0)), "name", PQgetvalue(r, 0, 1), "exchange", PQgetvalue(r, 0, 2),
        "symbol", PQgetvalue(r, 0, 3), "timeframe", PQgetvalue(r, 0, 4), "mode", PQgetvalue(r, 0, 5), "status",
        PQgetvalue(r, 0, 6), "config", config ? config : json_null(), "strategy_label",
        tform_strategy_label(req, strategy), "initial_balance", init, "equity", eq, "equity_text", eqs, "pnl_text",
        pnls, "initial_balance_text", inits, "pnl_sign", eq > init ? 1 : eq < init ? -1 : 0, "error",
        PQgetvalue(r, 0, 10), "last_candle", PQgetvalue(r, 0, 11), "credential", PQgetvalue(r, 0, 12));
    PGresult *t = tq_query(&req->cx, "bots_trades",
                           "SELECT kind, symbol, time_ms, price, qty, fee, pnl, coalesce(reason, ''), seq, trade_id "
                           "FROM bot_trades WHERE tenant_id = $1 AND bot_id = $2::bigint ORDER BY seq DESC LIMIT 200",
                           1, p);
    json_t *trades = json_array(), *open = json_array();
    long closed = 0;
    for (int i = 0; t && i < PQntuples(t); i++) {
        int is_close = !strcmp(PQgetvalue(t, i, 0), "close");
        double pnl = PQgetisnull(t, i, 6) ? 0 : atof(PQgetvalue(t, i, 6));
        json_t *row = json_pack("{s:s, s:s, s:I, s:s, s:f, s:f, s:f, s:s, s:i, s:I, s:I}", "kind", PQgetvalue(t, i, 0),
                                "symbol", PQgetvalue(t, i, 1), "time_ms", (json_int_t)atoll(PQgetvalue(t, i, 2)), "time",
                                bots_time_text(req->a, atoll(PQgetvalue(t, i, 2))), "price", atof(PQgetvalue(t, i, 3)),
                                "qty", atof(PQgetvalue(t, i, 4)), "fee", atof(PQgetvalue(t, i, 5)), "reason",
                                PQgetvalue(t, i, 7), "pnl_sign", pnl > 0 ? 1 : pnl < 0 ? -1 : 0, "seq",
                                (json_int_t)atoll(PQgetvalue(t, i, 8)), "trade_id",
                                (json_int_t)atoll(PQgetvalue(t, i, 9)));
        if (is_close) {
            json_object_set_new(row, "pnl", json_real(pnl));
            closed++;
        }
        json_array_append_new(trades, row);
    }
    /* the open positions are the buys (opens and DCA adds) of trades not yet closed, oldest first */
    bots_open_positions(trades, open);
    json_object_set_new(bot, "closed_trades", json_integer(closed));
    PGresult *o = tq_query(&req->cx, "bots_orders",
                           "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), side, qty, "
                           "coalesce(fill_price::text, ''), status, coalesce(error, '') FROM bot_orders "
                           "WHERE tenant_id = $1 AND bot_id = $2::bigint ORDER BY id DESC LIMIT 100",
                           1, p);
    json_t *orders = json_array();
    for (int i = 0; o && i < PQntuples(o); i++)
        json_array_append_new(orders, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "created", PQgetvalue(o, i, 0),
                                                "side", PQgetvalue(o, i, 1), "qty", PQgetvalue(o, i, 2), "fill_price",
                                                PQgetvalue(o, i, 3), "status", PQgetvalue(o, i, 4), "error",
                                                PQgetvalue(o, i, 5)));
    json_t *d = json_pack("{s:o, s:o, s:o, s:o, s:b}", "bot", bot, "trades", trades, "open_trades", open, "orders",
                          orders, "halted", bots_halted(req, NULL));
    if (!req->api) {
        char *svg = bots_pnl_svg(req->a, trades, init);
        if (svg)
            json_object_set_new(d, "pnl_svg", json_string(svg));
    }
    res_page(res, "bots/show.cs", "bots.title", d);
    return 0;
}

static int bots_edit(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    const char *p[] = {id ? id : "0"};
    PGresult *r = id ? tq_query(&req->cx, "bots_edit_get",
                                "SELECT name, exchange || ':' || symbol || ':' || timeframe, mode, "
                                "coalesce(credential_id::text, ''), initial_balance::text, config, status "
                                "FROM bots WHERE tenant_id = $1 AND id = $2::bigint",
                                1, p)
                     : NULL;
    if (id && !r)
        return -1;
    if (!r || PQntuples(r) != 1) {
        bots_not_found(req, res);
        return 0;
    }
    json_error_t je;
    json_t *config = json_loads(PQgetvalue(r, 0, 5), 0, &je);
    const char *strategy = req_query(req, "strategy");
    if (!strategy && config)
        strategy = arena_strdup(req->a, json_string_value(json_object_get(config, "strategy")));
    else if (config && strategy && strcmp(strategy, json_string_value(json_object_get(config, "strategy")) ?: "")) {
        /* another strategy chosen: its defaults, not this bot's values */
        json_decref(config);
        config = NULL;
    }
    json_t *form = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", PQgetvalue(r, 0, 0), "market", PQgetvalue(r, 0, 1),
                             "mode", PQgetvalue(r, 0, 2), "credential_id", PQgetvalue(r, 0, 3), "initial_balance",
                             PQgetvalue(r, 0, 4));
    return bots_form_page(req, res, id, strategy, form, config, NULL);
}

static int bots_update(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    if (!id) {
        bots_not_found(req, res);
        return 0;
    }
    bots_input in;
    json_t *errors = json_object();
    if (bots_read(req, &in, errors) != 0)
        return bots_refused(req, res, id, &in, errors);
    json_decref(errors);
    const char *p[] = {id};
    PGresult *r = tq_query(&req->cx, "bots_status_get", "SELECT status FROM bots WHERE tenant_id = $1 AND id = $2::bigint",
                           1, p);
    if (!r || PQntuples(r) != 1) {
        json_decref(in.config);
        if (!r)
            return -1;
        bots_not_found(req, res);
        return 0;
    }
    if (!strcmp(PQgetvalue(r, 0, 0), "running")) {
        json_decref(in.config);
        res_error(req, res, 409, "bot_running", render_lang_string(req->lang, "bots.err_running"));
        return 0;
    }
    bots_save s = {.c = &req->cx, .in = &in, .id = id};
    int rc = db_tx(bots_save_tx, &s);
    json_decref(in.config);
    if (rc != 0)
        return -1;
    if (s.outcome) {
        /* it started (or vanished) between the two statements */
        res_error(req, res, 409, "bot_running", render_lang_string(req->lang, "bots.err_running"));
        return 0;
    }
    if (req->api)
        return bots_show(req, res);
    res_redirect(res, arena_printf(req->a, "/bots/%s", id));
    return 0;
}

/* ---------------------------------------------------------------- start, stop, delete */

typedef struct bots_change {
    const ctx *c;
    const char *id;
    const char *action; /* start, stop, delete */
    int found, refused;
    long long tf_ms;
    long long start_ms; /* start: a past candle to paper-trade from (0 = now) */
} bots_change;

static int bots_change_tx(void *arg)
{
    bots_change *ch = arg;
    const char *p[] = {ch->id};
    ch->found = ch->refused = 0;
    PGresult *r = tq_query(ch->c, "bots_lock", "SELECT status, timeframe, mode FROM bots WHERE tenant_id = $1 AND id = $2::bigint FOR UPDATE",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    ch->found = 1;
    const char *status = PQgetvalue(r, 0, 0);
    ch->tf_ms = candle_timeframe_ms(PQgetvalue(r, 0, 1));
    long n;
    if (!strcmp(ch->action, "start")) {
        if (!strcmp(status, "running"))
            return 0; /* already running: nothing changes, nothing to audit */
        if (!strcmp(PQgetvalue(r, 0, 2), "live")) {
            /* checked again at every start: the plan may have changed, the key lost its validation */
            if (!plans_allow_live(ch->c->a, ch->c->tenant_id)) {
                ch->refused = BOTS_REFUSED_PLAN;
                return 0;
            }
            PGresult *k = tq_query(ch->c, "bots_start_key",
                                   "SELECT 1 FROM bots b JOIN credentials c ON c.id = b.credential_id AND "
                                   "c.tenant_id = b.tenant_id WHERE b.tenant_id = $1 AND b.id = $2::bigint "
                                   "AND c.validated_at IS NOT NULL AND c.can_trade",
                                   1, p);
            if (!k)
                return -1;
            if (PQntuples(k) != 1) {
                ch->refused = BOTS_REFUSED_KEY;
                return 0;
            }
        }
        /* a fresh bot starts at the candle now forming; a stopped one resumes where it was */
        char tf[24], from[24];
        snprintf(tf, sizeof tf, "%lld", ch->tf_ms);
        snprintf(from, sizeof from, "%lld", ch->start_ms);
        /* live bots trade from now: replaying the past would send orders for old decisions */
        int past = ch->start_ms > 0 && strcmp(PQgetvalue(r, 0, 2), "live");
        const char *q[] = {ch->id, tf, past ? from : NULL};
        /* the first start fixes where trading begins: the candle now forming, or (paper bots)
         * a past candle asked for; a stopped bot resumes where it was */
        n = tq_exec(ch->c, "bots_start",
                    "UPDATE bots SET status = 'running', error = NULL, updated_at = now(), start_ms = coalesce(start_ms, "
                    "(coalesce($4::bigint, (extract(epoch FROM now()) * 1000)::bigint) / $3::bigint) * $3::bigint) "
                    "WHERE tenant_id = $1 AND id = $2::bigint",
                    3, q);
    } else if (!strcmp(ch->action, "stop")) {
        if (strcmp(status, "running"))
            return 0;
        n = tq_exec(ch->c, "bots_stop", "UPDATE bots SET status = 'stopped', updated_at = now() WHERE tenant_id = $1 AND id = $2::bigint",
                    1, p);
    } else {
        if (!strcmp(status, "running")) {
            ch->refused = BOTS_REFUSED_RUNNING;
            return 0;
        }
        n = tq_exec(ch->c, "bots_delete", "DELETE FROM bots WHERE tenant_id = $1 AND id = $2::bigint", 1, p);
    }
    if (n != 1)
        return -1;
    return audit_record(ch->c, arena_printf(ch->c->a, "bots.%s", ch->action), "bot", ch->id, NULL, NULL);
}

int bots_set_state(const ctx *c, const char *id, const char *action, long long start_ms, int *refused)
{
    bots_change ch = {c, id, action, 0, 0, 0, start_ms};
    if (db_tx(bots_change_tx, &ch) != 0)
        return -1;
    *refused = ch.refused;
    return ch.found;
}

static int bots_change_route(request *req, response *res, const char *action)
{
    const char *id = req_id_param(req, "id");
    if (!id) {
        bots_not_found(req, res);
        return 0;
    }
    if (!strcmp(action, "start") && bots_halted(req, NULL)) {
        res_error(req, res, 409, "trading_halted", render_lang_string(req->lang, "bots.err_halted"));
        return 0;
    }
    bots_change ch = {&req->cx, id, action, 0, 0, 0, 0};
    const char *from = !strcmp(action, "start") ? req_field(req, "start") : NULL;
    if (from && *from) {
        int64_t ms;
        if (candle_parse_time(from, strlen(from), &ms) != 0 || ms <= 0) {
            res_error(req, res, 422, "invalid_start", render_lang_string(req->lang, "bots.err_start"));
            return 0;
        }
        ch.start_ms = ms;
    }
    ch.found = bots_set_state(ch.c, id, action, ch.start_ms, &ch.refused);
    if (ch.found < 0)
        return -1;
    if (!ch.found) {
        bots_not_found(req, res);
        return 0;
    }
    if (ch.refused == BOTS_REFUSED_RUNNING) {
        res_error(req, res, 409, "bot_running", render_lang_string(req->lang, "bots.err_running"));
        return 0;
    }
    if (ch.refused) {
        res_error(req, res, 422, ch.refused == BOTS_REFUSED_PLAN ? "live_plan" : "credential_id",
                  render_lang_string(req->lang, ch.refused == BOTS_REFUSED_PLAN ? "bots.err_live_plan" : "bots.err_credential_id"));
        return 0;
    }
    if (!strcmp(action, "start"))
        bots_schedule_tick(&req->cx, atoll(id)); /* the first tick now; the scheduler does the rest */
    if (!strcmp(action, "stop"))
        bots_cancel_orders_later(&req->cx, atoll(id));
    if (!strcmp(action, "delete")) {
        if (req->api) {
            res_json(res, 200, json_pack("{s:b}", "deleted", 1));
            return 0;
        }
        res_redirect(res, "/bots");
        return 0;
    }
    if (req->api)
        return bots_show(req, res);
    res_redirect(res, arena_printf(req->a, "/bots/%s", id));
    return 0;
}

static int bots_start(request *req, response *res)
{
    return bots_change_route(req, res, "start");
}

static int bots_stop(request *req, response *res)
{
    return bots_change_route(req, res, "stop");
}

static int bots_delete(request *req, response *res)
{
    return bots_change_route(req, res, "delete");
}

/* ---------------------------------------------------------------- emergencies */

typedef struct bots_stop_all_tx_arg {
    const ctx *c;
    PGresult *stopped;
} bots_stop_all_tx_arg;

static int bots_stop_all_tx(void *arg)
{
    bots_stop_all_tx_arg *s = arg;
    s->stopped = tq_query(s->c, "bots_stop_all",
                          "UPDATE bots SET status = 'stopped', updated_at = now() WHERE tenant_id = $1 "
                          "AND status = 'running' RETURNING id, mode",
                          0, NULL);
    if (!s->stopped)
        return -1;
    if (!PQntuples(s->stopped))
        return 0;
    json_t *ids = json_array();
    for (int i = 0; i < PQntuples(s->stopped); i++)
        json_array_append_new(ids, json_integer(atoll(PQgetvalue(s->stopped, i, 0))));
    json_t *after = json_pack("{s:o}", "bots", ids);
    int rc = after ? audit_record(s->c, "bots.stop_all", "tenant", NULL, NULL, after) : -1;
    json_decref(after);
    return rc;
}

/* One click stops every running bot of the tenant; live bots' open orders are then cancelled
 * on the exchange by queued jobs, which retry until the exchange answers. The request must say
 * confirm=1 so that a stray or replayed empty POST never stops a trader's bots. */
static int bots_stop_all(request *req, response *res)
{
    const char *confirm = req_field(req, "confirm");
    if (!confirm || strcmp(confirm, "1") != 0) {
        res_error(req, res, 422, "confirm_required", render_lang_string(req->lang, "bots.stop_all_confirm"));
        return 0;
    }
    bots_stop_all_tx_arg s = {&req->cx, NULL};
    if (db_tx(bots_stop_all_tx, &s) != 0)
        return -1;
    long n = PQntuples(s.stopped);
    for (long i = 0; i < n; i++)
        if (!strcmp(PQgetvalue(s.stopped, (int)i, 1), "live"))
            bots_cancel_orders_later(&req->cx, atoll(PQgetvalue(s.stopped, (int)i, 0)));
    if (req->api) {
        res_json(res, 200, json_pack("{s:I}", "stopped", (json_int_t)n));
        return 0;
    }
    return bots_list_page(req, res, n);
}

typedef struct bots_halt_arg {
    const ctx *c;
    int halt;
    const char *reason;
} bots_halt_arg;

static int bots_halt_tx(void *arg)
{
    bots_halt_arg *h = arg;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", h->c->user_id);
    const char *p[] = {h->halt ? "t" : "f", h->halt ? h->reason : NULL, uid};
    /* cross-tenant: the halt is one platform-wide row; the permission trading.halt guards it */
    if (db_exec(h->c->a, "bots_halt_set",
                "UPDATE trading_halt SET halted = $1::boolean, reason = $2, changed_by = $3::bigint, changed_at = now()",
                3, p) != 1)
        return -1;
    json_t *after = json_pack("{s:b, s:s?}", "halted", h->halt, "reason", h->halt ? h->reason : NULL);
    int rc = after ? audit_record(h->c, h->halt ? "trading.halt" : "trading.resume", "platform", NULL, NULL, after) : -1;
    json_decref(after);
    return rc;
}

static int bots_halt_route(request *req, response *res, int halt)
{
    const char *reason = req_field(req, "reason");
    if (halt && (!reason || !*reason || strlen(reason) > 200 || !utf8_valid(reason, strlen(reason)))) {
        res_error(req, res, 422, "invalid_reason", render_lang_string(req->lang, "bots.halt_reason"));
        return 0;
    }
    bots_halt_arg h = {&req->cx, halt, reason};
    if (db_tx(bots_halt_tx, &h) != 0)
        return -1;
    if (req->api) {
        res_json(res, 200, json_pack("{s:b}", "halted", halt));
        return 0;
    }
    res_redirect(res, "/bots");
    return 0;
}

static int bots_halt(request *req, response *res)
{
    return bots_halt_route(req, res, 1);
}

static int bots_resume(request *req, response *res)
{
    return bots_halt_route(req, res, 0);
}

#define BOTS_WRITE (R_AUTH | R_CSRF | R_PAGE)

static const route routes[] = {
    {"GET", "/bots", bots_list, R_AUTH | R_PAGE, "trading.use", NULL},
    {"GET", "/bots/new", bots_new, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/bots", bots_create, BOTS_WRITE, "trading.use", "bots.write"},
    {"POST", "/bots/stop-all", bots_stop_all, BOTS_WRITE, "trading.use", NULL},
    {"GET", "/bots/{id}", bots_show, R_AUTH | R_PAGE, "trading.use", NULL},
    {"GET", "/bots/{id}/edit", bots_edit, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/bots/{id}", bots_update, BOTS_WRITE, "trading.use", "bots.write"},
    {"POST", "/bots/{id}/start", bots_start, BOTS_WRITE, "trading.use", "bots.write"},
    {"POST", "/bots/{id}/stop", bots_stop, BOTS_WRITE, "trading.use", NULL},
    {"POST", "/bots/{id}/delete", bots_delete, BOTS_WRITE, "trading.use", "bots.write"},
    /* halting is an emergency: no step-up wait; resuming trading is not, so it asks for one */
    {"POST", "/trading/halt", bots_halt, BOTS_WRITE, "trading.halt", NULL},
    {"POST", "/trading/resume", bots_resume, BOTS_WRITE | R_STEPUP, "trading.halt", NULL},
};

const module bots_module = {"bots", "nav.trading", "/bots", ROUTES(routes)};
