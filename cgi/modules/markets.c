/* markets.c — market data pages: the list of markets and their candle series, a candlestick chart
 * drawn server-side as SVG with indicator overlays, and the candle CSV import (file or pasted). */
#include "app.h"
#include "cache.h"
#include "candles.h"
#include "config.h"
#include "db.h"
#include "market_store.h"
#include "modules.h"
#include "overlay.h"
#include "render.h"
#include "svg.h"
#include "utf8.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Markets, candles and market_series are platform-wide data (sql/0009, sql/0012): the same rows
 * for every tenant, with no tenant column. That is why the statements below are direct db calls
 * marked "cross-tenant:", as tests/lint/tenant-queries.sh asks.
 */

#define MARKETS_DEFAULT_LIMIT 200
#define MARKETS_MAX_ERRORS 50   /* bad CSV lines listed in a refusal */
#define MARKETS_MAX_MS ((int64_t)253402300799999) /* 9999-12-31T23:59:59.999Z */

static const char *const markets_timeframes[] = {"1m", "5m", "15m", "1h", "4h", "1d"};
#define MARKETS_NTF (sizeof markets_timeframes / sizeof markets_timeframes[0])

static void markets_time_text(char *out, size_t n, int64_t ms)
{
    int y, mo, d, h, mi;
    svg_civil(ms, &y, &mo, &d, &h, &mi);
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d", y, mo, d, h, mi);
}

/* Prices for people: enough digits for a satoshi-priced pair, few for a BTC price. */
static void markets_num_text(char *out, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(out, n, "—");
    else if (fabs(v) >= 1000)
        snprintf(out, n, "%.2f", v);
    else if (fabs(v) >= 1)
        snprintf(out, n, "%.4f", v);
    else
        snprintf(out, n, "%.8g", v);
}

static json_t *markets_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void markets_svg_sink(void *arg, const char *data, size_t len)
{
    buf_append(arg, data, len);
}

/* ---- GET /markets ---- */

/* The list, from the cache or from markets + market_series (never a count over candles). */
static json_t *markets_list_data(request *req)
{
    size_t len = 0;
    char *cached = cache_get(req->a, "markets", "list", "all", &len);
    if (cached) {
        json_t *j = json_loadb(cached, len, 0, NULL);
        if (j)
            return j;
    }
    /* cross-tenant: markets and their series summaries are platform-wide data, not tenant data */
    PGresult *r = db_query(req->a, "markets_list",
                           "SELECT m.exchange, m.symbol, m.base, m.quote, s.timeframe, s.candles, s.first_open_time, "
                           "s.last_open_time, s.last_close FROM markets m "
                           "LEFT JOIN market_series s ON s.market_id = m.id AND s.candles > 0 "
                           "ORDER BY m.exchange, m.symbol, "
                           "array_position(ARRAY['1m','5m','15m','1h','4h','1d'], s.timeframe)",
                           0, NULL);
    if (!r)
        return NULL;
    json_t *list = json_array(), *cur = NULL, *series = NULL;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *ex = PQgetvalue(r, i, 0), *sym = PQgetvalue(r, i, 1);
        if (!cur || strcmp(json_string_value(json_object_get(cur, "exchange")), ex) ||
            strcmp(json_string_value(json_object_get(cur, "symbol")), sym)) {
            series = json_array();
            cur = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "exchange", ex, "symbol", sym, "base",
                            PQgetvalue(r, i, 2), "quote", PQgetvalue(r, i, 3), "url",
                            arena_printf(req->a, "/markets/%s/%s", ex, sym), "candles", (json_int_t)0, "series", series);
            json_array_append_new(list, cur);
        }
        if (PQgetisnull(r, i, 4))
            continue;
        long long n = atoll(PQgetvalue(r, i, 5));
        int64_t first = strtoll(PQgetvalue(r, i, 6), NULL, 10), last = strtoll(PQgetvalue(r, i, 7), NULL, 10);
        double close = strtod(PQgetvalue(r, i, 8), NULL);
        char ft[32], lt[32], ct[40];
        markets_time_text(ft, sizeof ft, first);
        markets_time_text(lt, sizeof lt, last);
        markets_num_text(ct, sizeof ct, close);
        json_array_append_new(series, json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:o, s:s}", "timeframe",
                                                PQgetvalue(r, i, 4), "candles", (json_int_t)n, "first_open_time",
                                                (json_int_t)first, "last_open_time", (json_int_t)last, "first", ft,
                                                "last", lt, "last_close", markets_num(close), "last_close_text", ct));
        json_object_set_new(cur, "candles", json_integer(json_integer_value(json_object_get(cur, "candles")) + n));
    }
    json_t *d = json_pack("{s:o}", "markets", list);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    if (text) {
        const char *tags[] = {"markets"};
        cache_set("markets", "list", "all", text, strlen(text), tags, 1);
        free(text);
    }
    return d;
}

/* Does the signed-in user hold perm? (Only decides which links a page shows; routes check.) */
static int markets_holds(const request *req, const char *perm)
{
    for (const char *const *p = req->session ? req->session->perms : NULL; p && *p; p++)
        if (!strcmp(*p, perm))
            return 1;
    return 0;
}

static int markets_list(request *req, response *res)
{
    json_t *d = markets_list_data(req);
    if (!d)
        return -1;
    json_object_set_new(d, "can_import", json_boolean(markets_holds(req, "markets.import")));
    res_page(res, "markets/index.cs", "markets.title", d);
    return 0;
}

/* ---- GET /markets/{exchange}/{symbol} ---- */

typedef struct markets_query {
    const char *tf;
    int64_t tf_ms, from, to;
    int has_from, has_to;
    long limit;
    overlay ov[OVERLAY_MAX];
    size_t nov;
    overlay panel;
    int has_panel;
    const char *from_text, *to_text;
} markets_query;

/* Epoch milliseconds, or a UTC date/time; a bare date as `to` means the end of that day. */
static int markets_time_param(const char *s, int end_of_day, int64_t *out)
{
    size_t n = strlen(s);
    if (n >= 1 && n <= 15 && strspn(s, "0123456789") == n)
        *out = strtoll(s, NULL, 10);
    else if (candle_parse_time(s, n, out) != 0)
        return -1;
    else if (end_of_day && n == 10)
        *out += 86400000 - 1;
    return *out >= 0 && *out <= MARKETS_MAX_MS ? 0 : -1;
}

static int markets_bad(request *req, response *res, const char *key, const char *detail)
{
    const char *m = render_lang_string(req->lang, key);
    res_error(req, res, 400, "bad_parameter", detail ? arena_printf(req->a, "%s: %s", m, detail) : m);
    return 0;
}

/* Reads and checks every query parameter; 1 when fine, 0 when the 400 is written. */
static int markets_parse_query(request *req, response *res, const char *default_tf, markets_query *q)
{
    long max = config_int("markets.chart_max_candles");
    if (max < 1)
        max = 500;
    const char *tf = req_query(req, "tf");
    q->tf = tf && *tf ? tf : default_tf;
    q->tf_ms = candle_timeframe_ms(q->tf);
    if (!q->tf_ms)
        return markets_bad(req, res, "markets.err_tf", NULL);
    const char *from = req_query(req, "from"), *to = req_query(req, "to"), *limit = req_query(req, "limit");
    q->has_from = from && *from;
    q->has_to = to && *to;
    if (q->has_from && markets_time_param(from, 0, &q->from) != 0)
        return markets_bad(req, res, "markets.err_from", NULL);
    if (q->has_to && markets_time_param(to, 1, &q->to) != 0)
        return markets_bad(req, res, "markets.err_to", NULL);
    q->from_text = q->has_from ? from : "";
    q->to_text = q->has_to ? to : "";
    if (q->has_from && q->has_to && q->from > q->to)
        return markets_bad(req, res, "markets.err_order", NULL);
    q->limit = max < MARKETS_DEFAULT_LIMIT ? max : MARKETS_DEFAULT_LIMIT;
    if (limit && *limit) {
        size_t n = strlen(limit);
        if (n > 6 || strspn(limit, "0123456789") != n || atol(limit) < 1 || atol(limit) > max)
            return markets_bad(req, res, "markets.err_limit", arena_printf(req->a, "1..%ld", max));
        q->limit = atol(limit);
    } else if (q->has_from && q->has_to) {
        q->limit = max;
    }
    if (q->has_from && q->has_to) {
        /* a range wider than the chart can draw is refused rather than silently cut */
        int64_t span = (q->to - q->from) / q->tf_ms + 1;
        if (span > max)
            return markets_bad(req, res, "markets.err_range",
                               arena_printf(req->a, "%" PRId64 " × %s > %ld", span, q->tf, max));
    }
    char err[160];
    if (overlay_parse_list(req_query(req, "overlay"), q->ov, OVERLAY_MAX, &q->nov, err, sizeof err) != 0)
        return markets_bad(req, res, "markets.err_overlay", err);
    if (overlay_parse_panel(req_query(req, "panel"), &q->panel, &q->has_panel, err, sizeof err) != 0)
        return markets_bad(req, res, "markets.err_panel", err);
    return 1;
}

static int markets_rows(PGresult *r, candle *out, int reverse)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        candle *c = &out[reverse ? n - 1 - i : i];
        c->open_time = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        c->open = strtod(PQgetvalue(r, i, 1), NULL);
        c->high = strtod(PQgetvalue(r, i, 2), NULL);
        c->low = strtod(PQgetvalue(r, i, 3), NULL);
        c->close = strtod(PQgetvalue(r, i, 4), NULL);
        c->volume = strtod(PQgetvalue(r, i, 5), NULL);
    }
    return n;
}

/* The candles to draw, preceded by up to `warm_want` earlier ones for the indicators' warm-up.
 * *all (arena) holds warm + n candles; -1 when the database failed. */
static int markets_fetch(request *req, const char *mid, const markets_query *q, size_t warm_want, candle **all,
                         size_t *warm, size_t *n)
{
    char from[24], to[24], lim[24];
    snprintf(from, sizeof from, "%" PRId64, q->has_from ? q->from : 0);
    snprintf(to, sizeof to, "%" PRId64, q->has_to ? q->to : MARKETS_MAX_MS);
    snprintf(lim, sizeof lim, "%ld", q->limit);
    PGresult *r;
    int forward = q->has_from && !q->has_to;
    if (forward) {
        const char *p[] = {mid, q->tf, from, lim};
        /* cross-tenant: candles are platform-wide market data */
        r = db_query(req->a, "markets_candles_from",
                     "SELECT open_time, open, high, low, close, volume FROM candles WHERE market_id = $1::bigint "
                     "AND timeframe = $2 AND open_time >= $3::bigint ORDER BY open_time LIMIT $4::bigint",
                     4, p);
    } else {
        const char *p[] = {mid, q->tf, from, to, lim};
        /* cross-tenant: candles are platform-wide market data */
        r = db_query(req->a, "markets_candles_last",
                     "SELECT open_time, open, high, low, close, volume FROM candles WHERE market_id = $1::bigint "
                     "AND timeframe = $2 AND open_time >= $3::bigint AND open_time <= $4::bigint "
                     "ORDER BY open_time DESC LIMIT $5::bigint",
                     5, p);
    }
    if (!r)
        return -1;
    size_t nv = (size_t)PQntuples(r);
    PGresult *w = NULL;
    if (nv && warm_want) {
        /* the first visible open time, whichever order the rows came in */
        const char *first = PQgetvalue(r, forward ? 0 : (int)nv - 1, 0);
        char wl[24];
        snprintf(wl, sizeof wl, "%zu", warm_want);
        const char *p[] = {mid, q->tf, first, wl};
        /* cross-tenant: candles are platform-wide market data */
        w = db_query(req->a, "markets_candles_warm",
                     "SELECT open_time, open, high, low, close, volume FROM candles WHERE market_id = $1::bigint "
                     "AND timeframe = $2 AND open_time < $3::bigint ORDER BY open_time DESC LIMIT $4::bigint",
                     4, p);
        if (!w)
            return -1;
    }
    size_t nw = w ? (size_t)PQntuples(w) : 0;
    candle *c = arena_alloc(req->a, (nw + nv + 1) * sizeof *c);
    if (!c)
        return -1;
    if (w)
        markets_rows(w, c, 1);
    markets_rows(r, c + nw, !forward);
    *all = c;
    *warm = nw;
    *n = nv;
    return 0;
}

/* "SMA 20", "BB 20 2", "MACD 12 26 9": the spec in capitals with spaces. */
static char *markets_label(request *req, const overlay *o)
{
    if (o->kind == OVL_VOLUME)
        return arena_strdup(req->a, render_lang_string(req->lang, "markets.volume"));
    char *s = arena_strdup(req->a, o->id);
    for (char *p = s; p && *p; p++)
        *p = *p == ':' ? ' ' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
    return s;
}

/* One computed indicator: its spec and its series over warm + n candles. */
typedef struct markets_ind {
    const overlay *o;
    double *y[OVERLAY_MAX_SERIES];
} markets_ind;

static int markets_compute(request *req, const overlay *o, const overlay_cols *cols, size_t warm, markets_ind *out)
{
    out->o = o;
    for (int s = 0; s < overlay_nseries(o); s++)
        if (!(out->y[s] = arena_alloc(req->a, (cols->n + 1) * sizeof(double))))
            return -1;
    return overlay_compute(o, cols, warm, out->y);
}

/* JSON of one indicator over the drawn candles: {id, label, series: {name: [v|null...]}}. */
static json_t *markets_ind_json(request *req, const markets_ind *m, size_t warm, size_t n)
{
    json_t *series = json_object();
    for (int s = 0; s < overlay_nseries(m->o); s++) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, markets_num(m->y[s][warm + i]));
        json_object_set_new(series, overlay_series_name(m->o, s), a);
    }
    return json_pack("{s:s, s:s, s:o}", "id", m->o->id, "label", markets_label(req, m->o), "series", series);
}

/* Rows of the "last values" table: the last candle's close and every indicator's last value. */
static void markets_last_values(request *req, json_t *rows, const markets_ind *m, size_t warm, size_t n)
{
    for (int s = 0; s < overlay_nseries(m->o); s++) {
        double v = m->y[s][warm + n - 1];
        char t[40];
        markets_num_text(t, sizeof t, v);
        const char *label = markets_label(req, m->o);
        if (overlay_nseries(m->o) > 1)
            label = arena_printf(req->a, "%s %s", label, overlay_series_name(m->o, s));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:o, s:s}", "id", m->o->id, "name", label, "value",
                                              markets_num(v), "text", t));
    }
}

static const char *markets_cls(int k)
{
    static const char *cls[OVERLAY_MAX] = {"ov1", "ov2", "ov3", "ov4", "ov5", "ov6"};
    return cls[k % OVERLAY_MAX];
}

/* The chart as SVG text (arena copy). */
static char *markets_svg(request *req, const char *title, const candle *c, size_t n, size_t warm,
                         const markets_ind *ov, size_t nov, const markets_ind *panel, const markets_query *q)
{
    svg_series *s = arena_calloc(req->a, nov * OVERLAY_MAX_SERIES + 1, sizeof *s);
    svg_series ps[OVERLAY_MAX_SERIES];
    memset(ps, 0, sizeof ps);
    if (!s)
        return NULL;
    size_t ns = 0;
    for (size_t k = 0; k < nov; k++) {
        int nser = overlay_nseries(ov[k].o);
        for (int j = 0; j < nser; j++) {
            /* Bollinger: one legend entry (on the middle band) for its three lines */
            int labelled = nser == 1 || j == 1;
            s[ns++] = (svg_series){labelled ? markets_label(req, ov[k].o) : NULL, markets_cls((int)k), ov[k].y[j] + warm,
                                   SVG_LINE, 0};
        }
    }
    svg_panel p = {0};
    static const double rsi_guides[] = {30, 70}, zero[] = {0};
    if (panel) {
        const overlay *o = panel->o;
        p.label = markets_label(req, o);
        if (o->kind == OVL_RSI) {
            ps[0] = (svg_series){NULL, "p-rsi", panel->y[0] + warm, SVG_LINE, 0};
            p.nseries = 1;
            p.lo = 0;
            p.hi = 100;
            p.guides = rsi_guides;
            p.nguides = 2;
        } else if (o->kind == OVL_MACD) {
            ps[0] = (svg_series){NULL, "p-hist", panel->y[2] + warm, SVG_BARS, 0};
            ps[1] = (svg_series){"MACD", "p-macd", panel->y[0] + warm, SVG_LINE, 0};
            ps[2] = (svg_series){render_lang_string(req->lang, "markets.signal"), "p-signal", panel->y[1] + warm,
                                 SVG_LINE, 0};
            p.nseries = 3;
            p.guides = zero;
            p.nguides = 1;
        } else {
            ps[0] = (svg_series){NULL, "p-volume", panel->y[0] + warm, SVG_BARS, 1};
            p.nseries = 1;
        }
        p.series = ps;
    }
    svg_candle_chart ch = {.candles = c + warm,
                           .n = n,
                           .overlays = s,
                           .noverlays = ns,
                           .panel = panel ? &p : NULL,
                           .tf_ms = q->tf_ms,
                           .title = title,
                           .empty_text = render_lang_string(req->lang, "markets.no_candles")};
    buf b = {0};
    char *out = NULL;
    if (svg_candles(&ch, markets_svg_sink, &b) == 0 && !b.oom)
        out = arena_strndup(req->a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return out;
}

/* A link to the same chart with other from/to (NULL = left out). */
static char *markets_link(request *req, const char *base, const markets_query *q, const char *from, const char *to,
                          const char *ovtext)
{
    const char *ov = ovtext && *ovtext ? url_encode(req->a, ovtext) : NULL;
    const char *pn = q->has_panel ? url_encode(req->a, q->panel.id) : NULL;
    return arena_printf(req->a, "%s?tf=%s&limit=%ld%s%s%s%s%s%s%s%s", base, q->tf, q->limit, from ? "&from=" : "",
                        from ? from : "", to ? "&to=" : "", to ? to : "", ov ? "&overlay=" : "", ov ? ov : "",
                        pn ? "&panel=" : "", pn ? pn : "");
}

static int markets_show(request *req, response *res)
{
    const char *ex = req_path_param(req, "exchange"), *sym = req_path_param(req, "symbol");
    if (!market_exchange_ok(ex) || !market_symbol_ok(sym)) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    const char *p[] = {ex, sym};
    /* cross-tenant: markets and their series summaries are platform-wide data */
    PGresult *r = db_query(req->a, "markets_show",
                           "SELECT m.id, m.base, m.quote, s.timeframe, s.candles, s.first_open_time, s.last_open_time "
                           "FROM markets m "
                           "LEFT JOIN market_series s ON s.market_id = m.id AND s.candles > 0 "
                           "WHERE m.exchange = $1 AND m.symbol = $2",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "markets.not_found"));
        return 0;
    }
    const char *mid = PQgetvalue(r, 0, 0);
    /* the series this market has, in timeframe order; the default is 1h when it exists */
    long long counts[MARKETS_NTF] = {0};
    int64_t firsts[MARKETS_NTF] = {0}, lasts[MARKETS_NTF] = {0};
    const char *default_tf = NULL;
    for (int i = 0; i < PQntuples(r); i++)
        for (size_t t = 0; !PQgetisnull(r, i, 3) && t < MARKETS_NTF; t++)
            if (!strcmp(PQgetvalue(r, i, 3), markets_timeframes[t])) {
                counts[t] = atoll(PQgetvalue(r, i, 4));
                firsts[t] = strtoll(PQgetvalue(r, i, 5), NULL, 10);
                lasts[t] = strtoll(PQgetvalue(r, i, 6), NULL, 10);
            }
    for (size_t t = 0; t < MARKETS_NTF; t++)
        if (counts[t] && (!default_tf || !strcmp(markets_timeframes[t], "1h")))
            default_tf = markets_timeframes[t];
    markets_query q;
    memset(&q, 0, sizeof q);
    if (!markets_parse_query(req, res, default_tf ? default_tf : "1h", &q))
        return 0;

    size_t warm_want = 0;
    for (size_t k = 0; k < q.nov; k++)
        if (overlay_warmup(&q.ov[k]) > warm_want)
            warm_want = overlay_warmup(&q.ov[k]);
    if (q.has_panel && overlay_warmup(&q.panel) > warm_want)
        warm_want = overlay_warmup(&q.panel);
    candle *c = NULL;
    size_t warm = 0, n = 0;
    if (markets_fetch(req, mid, &q, warm_want, &c, &warm, &n) < 0)
        return -1;

    size_t total = warm + n;
    overlay_cols cols = {arena_alloc(req->a, (total + 1) * sizeof(double)),
                         arena_alloc(req->a, (total + 1) * sizeof(double)),
                         arena_alloc(req->a, (total + 1) * sizeof(double)),
                         arena_alloc(req->a, (total + 1) * sizeof(double)), 0};
    markets_ind ov[OVERLAY_MAX], pind;
    if (!cols.high || !cols.low || !cols.close || !cols.volume)
        return -1;
    overlay_columns(c, total, &cols);
    for (size_t k = 0; k < q.nov; k++)
        if (markets_compute(req, &q.ov[k], &cols, warm, &ov[k]) != 0)
            return -1;
    if (q.has_panel && markets_compute(req, &q.panel, &cols, warm, &pind) != 0)
        return -1;

    /* the canonical overlay list, for links and the form */
    char ovtext[OVERLAY_MAX * 41 + 1] = "";
    for (size_t k = 0; k < q.nov; k++) {
        strcat(ovtext, k ? "," : "");
        strcat(ovtext, q.ov[k].id);
    }
    char *base = arena_printf(req->a, "/markets/%s/%s", ex, sym);
    json_t *tfs = json_array();
    for (size_t t = 0; t < MARKETS_NTF; t++)
        json_array_append_new(tfs, json_pack("{s:s, s:I, s:b}", "timeframe", markets_timeframes[t], "candles",
                                             (json_int_t)counts[t], "current", !strcmp(q.tf, markets_timeframes[t])));
    json_t *d = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:o, s:{s:s, s:s, s:s, s:I, s:s, s:s}, s:I, s:I, s:I}",
                          "market", "exchange", ex, "symbol", sym, "base", PQgetvalue(r, 0, 1), "quote",
                          PQgetvalue(r, 0, 2), "url", base, "timeframe", q.tf, "timeframes", tfs, "params", "tf", q.tf,
                          "from", q.from_text, "to", q.to_text, "limit", (json_int_t)q.limit, "overlay", ovtext,
                          "panel", q.has_panel ? q.panel.id : "", "count", (json_int_t)n, "warmup", (json_int_t)warm,
                          "max_candles", (json_int_t)config_int("markets.chart_max_candles"));
    if (!d)
        return -1;
    json_t *last = json_array();
    if (n) {
        char ft[32], lt[32];
        markets_time_text(ft, sizeof ft, c[warm].open_time);
        markets_time_text(lt, sizeof lt, c[total - 1].open_time);
        json_object_set_new(d, "first", json_string(ft));
        json_object_set_new(d, "last", json_string(lt));
        const candle *k = &c[total - 1];
        static const char *names[] = {"open", "high", "low", "close", "volume"};
        double vals[] = {k->open, k->high, k->low, k->close, k->volume};
        for (int i = 0; i < 5; i++) {
            char t[40];
            markets_num_text(t, sizeof t, vals[i]);
            char key[48];
            snprintf(key, sizeof key, "markets.%s", names[i]);
            json_array_append_new(last, json_pack("{s:s, s:s, s:o, s:s}", "id", names[i], "name",
                                                  render_lang_string(req->lang, key), "value", json_real(vals[i]),
                                                  "text", t));
        }
        for (size_t k2 = 0; k2 < q.nov; k2++)
            markets_last_values(req, last, &ov[k2], warm, n);
        if (q.has_panel && q.panel.kind != OVL_VOLUME)
            markets_last_values(req, last, &pind, warm, n);
        /* earlier and later pages of the same chart, when the series reaches beyond this one */
        for (size_t t = 0; t < MARKETS_NTF; t++) {
            if (strcmp(q.tf, markets_timeframes[t]) != 0)
                continue;
            if (firsts[t] < c[warm].open_time) {
                char to[24];
                snprintf(to, sizeof to, "%" PRId64, c[warm].open_time - 1);
                json_object_set_new(d, "earlier", json_string(markets_link(req, base, &q, NULL, to, ovtext)));
            }
            if (lasts[t] > c[total - 1].open_time) {
                char from[24];
                snprintf(from, sizeof from, "%" PRId64, c[total - 1].open_time + q.tf_ms);
                json_object_set_new(d, "later", json_string(markets_link(req, base, &q, from, NULL, ovtext)));
            }
        }
    }
    json_object_set_new(d, "last_values", last);
    if (req->api) {
        /* the data behind the chart: the drawn candles and each indicator over them */
        json_t *cj = json_array(), *oj = json_array();
        for (size_t i = warm; i < total; i++)
            json_array_append_new(cj, json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "open_time",
                                                (json_int_t)c[i].open_time, "open", c[i].open, "high", c[i].high,
                                                "low", c[i].low, "close", c[i].close, "volume", c[i].volume));
        for (size_t k = 0; k < q.nov; k++)
            json_array_append_new(oj, markets_ind_json(req, &ov[k], warm, n));
        json_object_set_new(d, "candles", cj);
        json_object_set_new(d, "overlays", oj);
        json_object_set_new(d, "panel", q.has_panel ? markets_ind_json(req, &pind, warm, n) : json_null());
    } else {
        char *title = arena_printf(req->a, "%s · %s · %s", sym, ex, q.tf);
        char *svg = markets_svg(req, title, c, n, warm, ov, q.nov, q.has_panel ? &pind : NULL, &q);
        if (!svg) {
            json_decref(d);
            return -1;
        }
        json_object_set_new(d, "chart_svg", json_string(svg));
    }
    res_page(res, "markets/show.cs", "markets.chart_title", d);
    return 0;
}

/* ---- GET/POST /markets/import ---- */

static json_t *markets_import_data(request *req, json_t *form)
{
    json_t *tfs = json_array();
    for (size_t t = 0; t < MARKETS_NTF; t++)
        json_array_append_new(tfs, json_string(markets_timeframes[t]));
    json_t *d = json_pack("{s:o, s:I}", "timeframes", tfs, "max_bytes", (json_int_t)config_int("http.max_upload_bytes"));
    json_object_set_new(d, "max_mib", json_integer((json_int_t)(config_int("http.max_upload_bytes") >> 20)));
    json_object_set_new(d, "form", form ? form
                                         : json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "exchange", "binance", "symbol",
                                                     "", "timeframe", "1h", "format", "binance", "base", "", "quote",
                                                     ""));
    return d;
}

static int markets_import_form(request *req, response *res)
{
    res_page(res, "markets/import.cs", "markets.import_title", markets_import_data(req, NULL));
    return 0;
}

/* A refused import: JSON {"error": {code, message, request_id, ...extra}} under /api, else the
 * form again with the message and the details. Steals extra and form. */
static int markets_import_refuse(request *req, response *res, int status, const char *code, const char *msg,
                                 json_t *extra, json_t *form)
{
    if (req->api) {
        json_t *e = json_pack("{s:s, s:s, s:s}", "code", code, "message", msg, "request_id",
                              req->request_id ? req->request_id : "");
        if (extra)
            json_object_update(e, extra);
        json_decref(extra);
        json_decref(form);
        res->error_code = code;
        res_json(res, status, json_pack("{s:o}", "error", e));
        return 0;
    }
    json_t *d = markets_import_data(req, form);
    json_object_set_new(d, "error", json_string(msg));
    if (extra) {
        json_object_update(d, extra);
        json_decref(extra);
    }
    res->status = status;
    res->error_code = code;
    res_page(res, "markets/import.cs", "markets.import_title", d);
    return 0;
}

static void markets_field_error(request *req, json_t *errors, const char *field)
{
    char key[64];
    snprintf(key, sizeof key, "markets.err_%s", field);
    json_object_set_new(errors, field, json_string(render_lang_string(req->lang, key)));
}

static int markets_import(request *req, response *res)
{
    const char *ct = req->content_type ? req->content_type : "";
    /* the script sends the file itself as the body, with the fields in the query string; the
     * form without script posts the pasted text as the field "csv" */
    int raw = !strncasecmp(ct, "text/csv", 8) || !strncasecmp(ct, "application/octet-stream", 24);
    if (!strncasecmp(ct, "multipart/form-data", 19)) {
        res_error(req, res, 415, "unsupported_media_type", render_lang_string(req->lang, "markets.err_multipart"));
        return 0;
    }
#define FIELD(name) (raw ? req_query(req, name) : req_field(req, name))
    const char *exchange = FIELD("exchange"), *symbol = FIELD("symbol"), *tf = FIELD("timeframe"),
               *format = FIELD("format"), *base = FIELD("base"), *quote = FIELD("quote");
#undef FIELD
    const char *data = raw ? req->body : req_field(req, "csv");
    size_t len = raw ? req->body_len : data ? strlen(data) : 0;
    if (base && !*base)
        base = NULL;
    if (quote && !*quote)
        quote = NULL;

    json_t *errors = json_object();
    candle_format fmt = CANDLE_FORMAT_BINANCE;
    const char *b = NULL, *qa = NULL;
    if (!market_exchange_ok(exchange))
        markets_field_error(req, errors, "exchange");
    if (!market_symbol_ok(symbol))
        markets_field_error(req, errors, "symbol");
    else if ((base && !market_asset_ok(base)) || (quote && !market_asset_ok(quote)) ||
             market_assets(req->a, symbol, base, quote, &b, &qa) != 0)
        markets_field_error(req, errors, "assets");
    int64_t tf_ms = tf ? candle_timeframe_ms(tf) : 0;
    if (!tf_ms)
        markets_field_error(req, errors, "timeframe");
    if (!format || candle_format_parse(format, &fmt) != 0)
        markets_field_error(req, errors, "format");
    if (!data || len == 0)
        markets_field_error(req, errors, "csv");
    /* what was typed comes back in the form (only valid spellings; the CSV when it was pasted) */
    json_t *form = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "exchange", market_exchange_ok(exchange) ? exchange : "",
                             "symbol", market_symbol_ok(symbol) ? symbol : "", "timeframe", tf_ms ? tf : "1h", "format",
                             fmt == CANDLE_FORMAT_GENERIC ? "generic" : "binance", "base",
                             market_asset_ok(base) ? base : "", "quote", market_asset_ok(quote) ? quote : "");
    if (!raw && data && len <= 262144 && utf8_valid(data, len))
        json_object_set_new(form, "csv", json_string(data));
    if (json_object_size(errors)) {
        buf names = {0};
        const char *f;
        json_t *v;
        json_object_foreach(errors, f, v)
        {
            buf_puts(&names, names.len ? ", " : "");
            buf_puts(&names, f);
        }
        char *msg = arena_printf(req->a, "%s: %s", render_lang_string(req->lang, "markets.invalid_import"),
                                 names.data ? names.data : "");
        buf_free(&names);
        return markets_import_refuse(req, res, 422, "invalid_import", msg, json_pack("{s:o}", "fields", errors), form);
    }
    json_decref(errors);

    candle *rows = NULL;
    size_t n = 0, nerr = 0;
    candle_error errs[MARKETS_MAX_ERRORS];
    int prc = candles_parse(fmt, data, len, tf_ms, &rows, &n, errs, MARKETS_MAX_ERRORS, &nerr);
    if (rows)
        arena_on_cleanup(req->a, free, rows);
    if (prc == -2) {
        json_decref(form);
        return -1;
    }
    if (prc < 0) {
        json_t *lines = json_array();
        for (size_t i = 0; i < nerr && i < MARKETS_MAX_ERRORS; i++)
            json_array_append_new(lines, json_pack("{s:i, s:s}", "line", errs[i].line, "reason", errs[i].reason));
        char *msg = arena_printf(req->a, "%s (%zu)", render_lang_string(req->lang, "markets.bad_lines"), nerr);
        return markets_import_refuse(req, res, 422, "invalid_csv", msg,
                                     json_pack("{s:o, s:I}", "lines", lines, "bad_lines", (json_int_t)nerr), form);
    }
    if (n == 0)
        return markets_import_refuse(req, res, 422, "empty_csv", render_lang_string(req->lang, "markets.err_empty"),
                                     NULL, form);

    market_ref m = {exchange, symbol, base, quote};
    market_store_result sr;
    json_t *extra = json_pack("{s:s, s:s, s:I}", "format", format, "source", raw ? "upload" : "form", "bytes",
                              (json_int_t)len);
    int rc = market_store_candles(&req->cx, &m, tf, "candles.import", rows, n, extra, &sr);
    json_decref(extra);
    if (rc != 0) {
        json_decref(form);
        return -1;
    }
    char ft[32], lt[32];
    markets_time_text(ft, sizeof ft, rows[0].open_time);
    markets_time_text(lt, sizeof lt, rows[n - 1].open_time);
    json_t *result = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:I, s:s, s:s, s:s}", "exchange", exchange,
                               "symbol", symbol, "timeframe", tf, "rows", (json_int_t)n, "new", (json_int_t)sr.inserted,
                               "market_created", sr.market_created, "first_open_time", (json_int_t)rows[0].open_time,
                               "last_open_time", (json_int_t)rows[n - 1].open_time, "first", ft, "last", lt, "chart",
                               arena_printf(req->a, "/markets/%s/%s?tf=%s", exchange, symbol, tf));
    json_t *d = markets_import_data(req, form);
    json_object_set_new(d, "imported", result);
    res_page(res, "markets/import.cs", "markets.import_title", d);
    return 0;
}

static const route routes[] = {
    {"GET", "/markets", markets_list, R_AUTH | R_PAGE, "markets.view", NULL},
    {"GET", "/markets/import", markets_import_form, R_AUTH | R_PAGE, "markets.import", NULL},
    {"POST", "/markets/import", markets_import, R_AUTH | R_CSRF | R_PAGE | R_UPLOAD, "markets.import",
     "markets.import"},
    {"GET", "/markets/{exchange}/{symbol}", markets_show, R_AUTH | R_PAGE, "markets.view", NULL},
};

const module markets_module = {"markets", "nav.markets", "/markets", ROUTES(routes)};
