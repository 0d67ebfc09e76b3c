/* report_json.c — the JSON form of a backtest report (summary metrics, exit reasons, months,
 * trades, sampled equity and drawdown curves); undefined numbers become null, never NaN. */
#include "report.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* json_object_set_new that remembers a failure, so each builder checks once at its end */
static void rj_set(json_t *obj, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new(obj, key, v) < 0)
        *bad = 1;
}

static void rj_push(json_t *arr, json_t *v, int *bad)
{
    if (!v || json_array_append_new(arr, v) < 0)
        *bad = 1;
}

/* A number, or null when it is NAN or infinite (JSON has neither). */
static json_t *rj_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *rj_int(int64_t v)
{
    return json_integer((json_int_t)v);
}

/* "2024-01" for the month starting at ms (days-to-civil after H. Hinnant's public algorithm). */
static void rj_month_label(int64_t ms, char *out, size_t outlen)
{
    int64_t z = ms / 86400000LL;
    if (ms < 0 && ms % 86400000LL)
        z--;
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(out, outlen, "%04lld-%02lld", (long long)y, (long long)m);
}

static json_t *rj_symbol(const char *const *symbols, int s)
{
    if (symbols && symbols[s])
        return json_string(symbols[s]);
    char buf[16];
    snprintf(buf, sizeof buf, "%d", s);
    return json_string(buf);
}

static json_t *rj_summary(const bt_metrics *m, int *bad)
{
    json_t *o = json_object();
    if (!o) {
        *bad = 1;
        return NULL;
    }
    rj_set(o, "initial_balance", rj_num(m->initial_balance), bad);
    rj_set(o, "final_equity", rj_num(m->final_equity), bad);
    rj_set(o, "profit_abs", rj_num(m->profit_abs), bad);
    rj_set(o, "profit_pct", rj_num(m->profit_pct), bad);
    rj_set(o, "cagr_pct", rj_num(m->cagr_pct), bad);
    rj_set(o, "sharpe", rj_num(m->sharpe), bad);
    rj_set(o, "sortino", rj_num(m->sortino), bad);
    rj_set(o, "calmar", rj_num(m->calmar), bad);
    rj_set(o, "max_drawdown_abs", rj_num(m->max_drawdown_abs), bad);
    rj_set(o, "max_drawdown_pct", rj_num(m->max_drawdown_pct), bad);
    rj_set(o, "drawdown_peak_time", m->drawdown_peak_time ? rj_int(m->drawdown_peak_time) : json_null(), bad);
    rj_set(o, "drawdown_trough_time", m->drawdown_trough_time ? rj_int(m->drawdown_trough_time) : json_null(), bad);
    rj_set(o, "trades", rj_int(m->trades), bad);
    rj_set(o, "wins", rj_int(m->wins), bad);
    rj_set(o, "losses", rj_int(m->losses), bad);
    rj_set(o, "draws", rj_int(m->draws), bad);
    rj_set(o, "win_rate_pct", rj_num(m->win_rate_pct), bad);
    rj_set(o, "gross_profit", rj_num(m->gross_profit), bad);
    rj_set(o, "gross_loss", rj_num(m->gross_loss), bad);
    rj_set(o, "profit_factor", rj_num(m->profit_factor), bad);
    rj_set(o, "expectancy", rj_num(m->expectancy), bad);
    rj_set(o, "expectancy_pct", rj_num(m->expectancy_pct), bad);
    rj_set(o, "avg_win", rj_num(m->avg_win), bad);
    rj_set(o, "avg_loss", rj_num(m->avg_loss), bad);
    rj_set(o, "avg_duration_ms", rj_num(m->avg_duration_ms), bad);
    rj_set(o, "avg_win_duration_ms", rj_num(m->avg_win_duration_ms), bad);
    rj_set(o, "avg_loss_duration_ms", rj_num(m->avg_loss_duration_ms), bad);
    rj_set(o, "best_trade_pct", rj_num(m->best_trade_pct), bad);
    rj_set(o, "worst_trade_pct", rj_num(m->worst_trade_pct), bad);
    rj_set(o, "best_trade_abs", rj_num(m->best_trade_abs), bad);
    rj_set(o, "worst_trade_abs", rj_num(m->worst_trade_abs), bad);
    rj_set(o, "max_consecutive_wins", rj_int(m->max_consecutive_wins), bad);
    rj_set(o, "max_consecutive_losses", rj_int(m->max_consecutive_losses), bad);
    rj_set(o, "exposure_pct", rj_num(m->exposure_pct), bad);
    rj_set(o, "market_change_pct", rj_num(m->market_change_pct), bad);
    rj_set(o, "total_fees", rj_num(m->total_fees), bad);
    rj_set(o, "orders_skipped", rj_int(m->orders_skipped), bad);
    rj_set(o, "start_time", rj_int(m->start_time), bad);
    rj_set(o, "end_time", rj_int(m->end_time), bad);
    rj_set(o, "candles", rj_int(m->candles), bad);
    rj_set(o, "years", rj_num(m->years), bad);
    rj_set(o, "periods_per_year", rj_num(m->periods_per_year), bad);
    return o;
}

static json_t *rj_reasons(const bt_metrics *m, int *bad)
{
    json_t *a = json_array();
    if (!a) {
        *bad = 1;
        return NULL;
    }
    for (int k = 0; k < EXIT_REASON_COUNT; k++) {
        const bt_reason_row *row = &m->reasons[k];
        if (!row->trades)
            continue;
        json_t *o = json_object();
        rj_push(a, o, bad);
        if (!o)
            break;
        rj_set(o, "reason", json_string(exit_reason_name(k)), bad);
        rj_set(o, "trades", rj_int(row->trades), bad);
        rj_set(o, "wins", rj_int(row->wins), bad);
        rj_set(o, "losses", rj_int(row->losses), bad);
        rj_set(o, "profit_abs", rj_num(row->pnl), bad);
        rj_set(o, "avg_profit_pct", rj_num(row->avg_pnl_pct), bad);
    }
    return a;
}

static json_t *rj_months(const bt_metrics *m, int *bad)
{
    json_t *a = json_array();
    if (!a) {
        *bad = 1;
        return NULL;
    }
    for (size_t i = 0; i < m->nmonths; i++) {
        const bt_month *mo = &m->months[i];
        char label[24];
        rj_month_label(mo->start, label, sizeof label);
        json_t *o = json_object();
        rj_push(a, o, bad);
        if (!o)
            break;
        rj_set(o, "month", json_string(label), bad);
        rj_set(o, "start", rj_int(mo->start), bad);
        rj_set(o, "trades", rj_int(mo->trades), bad);
        rj_set(o, "wins", rj_int(mo->wins), bad);
        rj_set(o, "losses", rj_int(mo->losses), bad);
        rj_set(o, "profit_abs", rj_num(mo->pnl), bad);
        rj_set(o, "start_equity", rj_num(mo->start_equity), bad);
        rj_set(o, "end_equity", rj_num(mo->end_equity), bad);
        rj_set(o, "return_pct", rj_num(mo->return_pct), bad);
    }
    return a;
}

static json_t *rj_trades(const bt_result *r, const char *const *symbols, int *bad)
{
    json_t *a = json_array();
    if (!a) {
        *bad = 1;
        return NULL;
    }
    for (size_t i = 0; i < r->ntrades && !*bad; i++) {
        const bt_trade *t = &r->trades[i];
        json_t *o = json_object();
        rj_push(a, o, bad);
        if (!o)
            break;
        rj_set(o, "id", rj_int(t->id), bad);
        rj_set(o, "symbol", rj_symbol(symbols, t->sym), bad);
        if (t->tag)
            rj_set(o, "grid_level", rj_int(t->tag), bad);
        rj_set(o, "entry_time", rj_int(t->entry_time), bad);
        rj_set(o, "exit_time", rj_int(t->exit_time), bad);
        rj_set(o, "duration_ms", rj_int(t->exit_time - t->entry_time), bad);
        rj_set(o, "entry_price", rj_num(t->entry_price), bad);
        rj_set(o, "exit_price", rj_num(t->exit_price), bad);
        rj_set(o, "qty", rj_num(t->qty), bad);
        rj_set(o, "cost", rj_num(t->cost), bad);
        rj_set(o, "proceeds", rj_num(t->proceeds), bad);
        rj_set(o, "fees", rj_num(t->fees), bad);
        rj_set(o, "profit_abs", rj_num(t->pnl), bad);
        rj_set(o, "profit_pct", rj_num(t->pnl_pct), bad);
        rj_set(o, "exit_reason", json_string(exit_reason_name(t->reason)), bad);
    }
    return a;
}

/* The sampled equity and drawdown curves (drawdown from the running peak of the FULL curve). */
static int rj_curves(json_t *root, const bt_result *r, size_t max_points, int *bad)
{
    size_t *idx = malloc((max_points < 2 ? 2 : max_points) * sizeof *idx);
    json_t *et = json_array(), *ev = json_array(), *dt = json_array(), *dv = json_array();
    json_t *eq = json_object(), *dd = json_object();
    if (!idx || !et || !ev || !dt || !dv || !eq || !dd) {
        *bad = 1;
        json_decref(et);
        json_decref(ev);
        json_decref(dt);
        json_decref(dv);
        json_decref(eq);
        json_decref(dd);
        free(idx);
        return -1;
    }
    size_t n = bt_curve_sample(r, max_points, idx);
    double peak = r->initial_balance;
    size_t k = 0;
    for (size_t i = 0; i < r->npoints && k < n && !*bad; i++) {
        if (r->equity[i] > peak)
            peak = r->equity[i];
        if (idx[k] != i)
            continue;
        k++;
        rj_push(et, rj_int(r->times[i]), bad);
        rj_push(ev, rj_num(r->equity[i]), bad);
        rj_push(dt, rj_int(r->times[i]), bad);
        rj_push(dv, rj_num(peak > 0 ? (peak - r->equity[i]) / peak * 100.0 : 0), bad);
    }
    free(idx);
    rj_set(eq, "time", et, bad);
    rj_set(eq, "equity", ev, bad);
    rj_set(dd, "time", dt, bad);
    rj_set(dd, "drawdown_pct", dv, bad);
    rj_set(root, "equity_curve", eq, bad);
    rj_set(root, "drawdown_curve", dd, bad);
    return 0;
}

json_t *bt_report_json(const bt_result *r, const bt_metrics *m, const char *const *symbols, size_t max_points)
{
    int bad = 0;
    json_t *root = json_object();
    if (!root)
        return NULL;
    json_t *syms = json_array();
    for (int s = 0; s < r->nsymbols && syms; s++)
        rj_push(syms, rj_symbol(symbols, s), &bad);
    rj_set(root, "symbols", syms, &bad);
    rj_set(root, "config", engine_config_to_json(&r->cfg), &bad);
    rj_set(root, "summary", rj_summary(m, &bad), &bad);
    rj_set(root, "exit_reasons", rj_reasons(m, &bad), &bad);
    rj_set(root, "monthly", rj_months(m, &bad), &bad);
    rj_set(root, "trades", rj_trades(r, symbols, &bad), &bad);
    rj_curves(root, r, max_points, &bad);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}
