/* test_svg.c — unit tests for lib/trading/svg.c (well-formed, bounded, escaped, deterministic
 * charts) and lib/trading/overlay.c (indicator spec parsing, warm-up, computation). */
#include "buf.h"
#include "indicators.h"
#include "overlay.h"
#include "svg.h"
#include "synth.h"
#include "unit.h"
#include <ctype.h>
#include <math.h>
#include <stdint.h>

#define H 3600000LL
#define JAN1 1704067200000LL /* 2024-01-01T00:00:00Z */

static void to_buf(void *arg, const char *data, size_t len)
{
    buf_append(arg, data, len);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* A value between quotes after name=" inside the tag [tag, end). */
static int attr_num(const char *tag, const char *end, const char *name, double *out)
{
    char pat[32];
    snprintf(pat, sizeof pat, " %s=\"", name);
    const char *p = strstr(tag, pat);
    if (!p || p >= end)
        return 0;
    *out = strtod(p + strlen(pat), NULL);
    return 1;
}

/* Every number of a path's d="..." as (x, y) pairs inside the box. */
static void check_path(const char *d, const char *end, double w, double h)
{
    const char *p = d;
    int idx = 0;
    while (p < end && *p != '"') {
        if (isalpha((unsigned char)*p) || *p == ' ') {
            p++;
            continue;
        }
        char *next;
        double v = strtod(p, &next);
        ck_assert_msg(next != p, "bad path data near: %.20s", p);
        ck_assert_msg(isfinite(v), "non-finite path number");
        if (idx % 2 == 0)
            ck_assert_msg(v >= 0 && v <= w, "path x %g outside 0..%g", v, w);
        else
            ck_assert_msg(v >= 0 && v <= h, "path y %g outside 0..%g", v, h);
        idx++;
        p = next;
    }
    ck_assert_msg(idx % 2 == 0, "odd number of path coordinates");
}

/* A small XML checker: tags balance, attribute values and text hold no raw '<' or '>', every
 * '&' starts a known entity, and every coordinate lies inside the viewBox (w x h). */
static void check_svg(const char *s, double w, double h)
{
    char want_vb[64];
    snprintf(want_vb, sizeof want_vb, "viewBox=\"0 0 %g %g\"", w, h);
    ck_assert_msg(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 40) == 0, "starts with <svg: %.60s", s);
    ck_assert_msg(strstr(s, want_vb) != NULL, "viewBox %s", want_vb);
    ck_assert_msg(strstr(s, "style=") == NULL, "no style attributes (CSP)");
    char stack[64][16];
    int depth = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            ck_assert_msg(!strncmp(p, "&amp;", 5) || !strncmp(p, "&lt;", 4) || !strncmp(p, "&gt;", 4) ||
                              !strncmp(p, "&quot;", 6) || !strncmp(p, "&#39;", 5),
                          "bare & near: %.20s", p);
            p++;
            continue;
        }
        ck_assert_msg(*p != '>', "stray > in text near: %.30s", p);
        if (*p != '<') {
            ck_assert_msg(depth > 0, "text outside the root element");
            p++;
            continue;
        }
        const char *tag = p;
        int closing = p[1] == '/';
        p += closing ? 2 : 1;
        char name[16];
        size_t nl = 0;
        while (isalnum((unsigned char)*p) && nl < sizeof name - 1)
            name[nl++] = *p++;
        name[nl] = '\0';
        ck_assert_msg(nl > 0, "empty tag name near: %.20s", tag);
        int quoted = 0;
        while (*p && (quoted || *p != '>')) {
            if (*p == '"')
                quoted = !quoted;
            else if (quoted)
                ck_assert_msg(*p != '<' && *p != '>', "raw < or > inside an attribute near: %.30s", p);
            else
                ck_assert_msg(*p != '<', "< inside a tag near: %.30s", p);
            p++;
        }
        ck_assert_msg(*p == '>', "unterminated tag");
        const char *end = p;
        int self = end[-1] == '/';
        p++;
        if (closing) {
            ck_assert_msg(depth > 0 && !strcmp(stack[depth - 1], name), "</%s> closes %s", name,
                          depth ? stack[depth - 1] : "nothing");
            depth--;
            ck_assert_msg(depth > 0 || *p == '\0', "content after the root element");
            continue;
        }
        /* geometry inside the viewBox */
        double x = 0, y = 0, v;
        int hx = attr_num(tag, end, "x", &x), hy = attr_num(tag, end, "y", &y);
        if (hx)
            ck_assert_msg(x >= 0 && x <= w, "<%s> x=%g outside", name, x);
        if (hy)
            ck_assert_msg(y >= 0 && y <= h, "<%s> y=%g outside", name, y);
        if (attr_num(tag, end, "width", &v) && hx)
            ck_assert_msg(v >= 0 && x + v <= w + 0.05, "<%s> x+width %g outside", name, x + v);
        if (attr_num(tag, end, "height", &v) && hy)
            ck_assert_msg(v >= 0 && y + v <= h + 0.05, "<%s> y+height %g outside", name, y + v);
        for (int k = 1; k <= 2; k++) {
            char an[4];
            snprintf(an, sizeof an, "x%d", k);
            if (attr_num(tag, end, an, &v))
                ck_assert_msg(v >= 0 && v <= w, "<%s> %s=%g outside", name, an, v);
            snprintf(an, sizeof an, "y%d", k);
            if (attr_num(tag, end, an, &v))
                ck_assert_msg(v >= 0 && v <= h, "<%s> %s=%g outside", name, an, v);
        }
        const char *d = strstr(tag, " d=\"");
        if (d && d < end)
            check_path(d + 4, end, w, h);
        if (!self) {
            ck_assert_msg(depth < 64, "too deep");
            snprintf(stack[depth++], sizeof stack[0], "%s", name);
        } else {
            ck_assert_msg(depth > 0, "self-closed root");
        }
    }
    ck_assert_msg(depth == 0, "%d unclosed elements (innermost <%s>)", depth, depth ? stack[depth - 1] : "");
}

static candle *make_candles(size_t n, uint64_t seed)
{
    synth_params p;
    synth_defaults(&p);
    p.seed = seed;
    p.start_ms = JAN1;
    p.tf_ms = H;
    candle *c = malloc(n * sizeof *c);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(synth_generate(&p, c, n, NULL), 0);
    return c;
}

/* The path data of the first <path> whose class list holds cls. */
static const char *path_of(const char *svg, const char *cls)
{
    char pat[64];
    snprintf(pat, sizeof pat, "class=\"line %s\"", cls);
    const char *p = strstr(svg, pat);
    ck_assert_msg(p != NULL, "no line %s", cls);
    p = strstr(p, " d=\"");
    ck_assert_ptr_nonnull(p);
    return p + 4;
}

static size_t count_until_quote(const char *d, char ch)
{
    size_t n = 0;
    for (; *d && *d != '"'; d++)
        n += *d == ch;
    return n;
}

START_TEST(test_candles_structure)
{
    enum { N = 120 };
    candle *c = make_candles(N, 7);
    double *sma = malloc(N * sizeof *sma), *lo = malloc(N * sizeof *lo), *mid = malloc(N * sizeof *mid),
           *up = malloc(N * sizeof *up), *rsi = malloc(N * sizeof *rsi), *close = malloc(N * sizeof *close);
    for (size_t i = 0; i < N; i++)
        close[i] = c[i].close;
    ck_assert_int_eq(ind_sma_batch(close, N, 20, sma), 0);
    ck_assert_int_eq(ind_bbands_batch(close, N, 20, 2, lo, mid, up), 0);
    ck_assert_int_eq(ind_rsi_batch(close, N, 14, rsi), 0);
    svg_series ov[] = {{"SMA 20", "s-sma", sma, SVG_LINE, 0},
                       {"BB lower", "s-bb", lo, SVG_LINE, 0},
                       {NULL, "s-bb", mid, SVG_LINE, 0},
                       {NULL, "s-bb", up, SVG_LINE, 0}};
    double guides[] = {30, 70};
    svg_series ps[] = {{"RSI 14", "s-rsi", rsi, SVG_LINE, 0}};
    svg_panel panel = {"RSI 14", ps, 1, 0, 100, guides, 2};
    svg_candle_chart ch = {.candles = c, .n = N, .overlays = ov, .noverlays = 4, .panel = &panel, .tf_ms = H,
                           .title = "BTCUSDT 1h"};
    buf b = {0}, b2 = {0};
    ck_assert_int_eq(svg_candles(&ch, to_buf, &b), 0);
    ck_assert(!b.oom);
    check_svg(b.data, 960, 440);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"body "), N);
    ck_assert_uint_eq(count_of(b.data, "<line class=\"wick "), N);
    size_t ups = 0;
    for (size_t i = 0; i < N; i++)
        ups += c[i].close >= c[i].open;
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"body up\""), ups);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"body down\""), N - ups);
    /* the SMA's warm-up (19 NaN) is skipped: one continuous line of N-19 points */
    const char *d = path_of(b.data, "s-sma");
    ck_assert_uint_eq(count_until_quote(d, 'M'), 1);
    ck_assert_uint_eq(count_until_quote(d, 'L'), N - 19 - 1);
    /* RSI guides and the legend */
    ck_assert_uint_eq(count_of(b.data, "<line class=\"guide\""), 2);
    ck_assert_ptr_nonnull(strstr(b.data, ">SMA 20</text>"));
    ck_assert_ptr_nonnull(strstr(b.data, "<title>BTCUSDT 1h</title>"));
    /* time labels are UTC, in the middle of groups of 18 candles: candle 9 opens 2024-01-01 09:00; a
     * span of 5 days is labelled MM-DD HH:MM */
    ck_assert_ptr_nonnull(strstr(b.data, ">01-01 09:00</text>"));
    /* deterministic */
    ck_assert_int_eq(svg_candles(&ch, to_buf, &b2), 0);
    ck_assert_uint_eq(b.len, b2.len);
    ck_assert_int_eq(memcmp(b.data, b2.data, b.len), 0);
    buf_free(&b);
    buf_free(&b2);
    free(c);
    free(sma);
    free(lo);
    free(mid);
    free(up);
    free(rsi);
    free(close);
}
END_TEST

START_TEST(test_candles_volume_panel_and_sizes)
{
    enum { N = 500 };
    candle *c = make_candles(N, 11);
    double *vol = malloc(N * sizeof *vol);
    for (size_t i = 0; i < N; i++)
        vol[i] = c[i].volume;
    svg_series ps[] = {{"Volume", "s-volume", vol, SVG_BARS, 1}};
    svg_panel panel = {"Volume", ps, 1, 0, 0, NULL, 0};
    svg_candle_chart ch = {.candles = c, .n = N, .panel = &panel, .width = 1200, .height = 600};
    buf b = {0};
    ck_assert_int_eq(svg_candles(&ch, to_buf, &b), 0);
    check_svg(b.data, 1200, 600);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"body "), N);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"bar up\"") + count_of(b.data, "<rect class=\"bar down\""), N);
    /* 500 hours span 20 days: labels carry the date */
    ck_assert_ptr_null(strstr(b.data, "<title>"));
    buf_free(&b);

    /* daily candles are labelled by date (candle 1 is the first label of groups of 2) */
    for (size_t i = 0; i < 10; i++)
        c[i].open_time = JAN1 + (int64_t)i * 86400000;
    svg_candle_chart d = {.candles = c, .n = 10, .tf_ms = 86400000};
    ck_assert_int_eq(svg_candles(&d, to_buf, &b), 0);
    check_svg(b.data, 960, 440);
    ck_assert_ptr_nonnull(strstr(b.data, ">2024-01-02</text>"));
    ck_assert_ptr_null(strstr(b.data, ">2024-01-01</text>"));
    buf_free(&b);

    /* a single flat candle still has a range */
    candle flat = {JAN1, 5, 5, 5, 5, 0};
    svg_candle_chart one = {.candles = &flat, .n = 1};
    ck_assert_int_eq(svg_candles(&one, to_buf, &b), 0);
    check_svg(b.data, 960, 440);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"body up\""), 1);
    buf_free(&b);
    free(vol);
    free(c);
}
END_TEST

START_TEST(test_escaping)
{
    candle c[3];
    for (int i = 0; i < 3; i++)
        c[i] = (candle){JAN1 + i * H, 10, 12, 9, 11, 1};
    double y[3] = {10, 10.5, 11};
    svg_series ov[] = {{"<b>x</b> & \"q\" 'a'", "bad class\" onload=\"x", y, SVG_LINE, 0}};
    svg_candle_chart ch = {.candles = c, .n = 3, .overlays = ov, .noverlays = 1,
                           .title = "<script>alert('x')</script>\x01"};
    buf b = {0};
    ck_assert_int_eq(svg_candles(&ch, to_buf, &b), 0);
    check_svg(b.data, 960, 440);
    ck_assert_ptr_null(strstr(b.data, "<script"));
    ck_assert_ptr_null(strstr(b.data, "<b>"));
    ck_assert_ptr_null(strstr(b.data, "onload"));
    ck_assert_ptr_null(strstr(b.data, "\x01"));
    ck_assert_ptr_nonnull(strstr(b.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(b.data, "&lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot; &#39;a&#39;"));
    /* the line is drawn, without the refused class */
    ck_assert_ptr_nonnull(strstr(b.data, "<path class=\"line\" fill=\"none\" d=\"M"));
    buf_free(&b);
}
END_TEST

START_TEST(test_empty_and_invalid)
{
    buf b = {0};
    svg_candle_chart ch = {.n = 0, .empty_text = "No candles <yet>", .title = "Empty"};
    ck_assert_int_eq(svg_candles(&ch, to_buf, &b), 0);
    check_svg(b.data, 960, 440);
    ck_assert_ptr_nonnull(strstr(b.data, ">No candles &lt;yet&gt;</text>"));
    ck_assert_ptr_null(strstr(b.data, "class=\"body"));
    buf_clear(&b);
    svg_line_chart lc = {.n = 0, .empty_text = "nothing"};
    ck_assert_int_eq(svg_lines(&lc, to_buf, &b), 0);
    check_svg(b.data, 960, 320);
    ck_assert_ptr_nonnull(strstr(b.data, ">nothing</text>"));
    buf_free(&b);
    /* invalid arguments */
    svg_candle_chart bad = {.candles = NULL, .n = 3};
    ck_assert_int_eq(svg_candles(&bad, to_buf, &b), -1);
    ck_assert_int_eq(svg_candles(&ch, NULL, &b), -1);
    candle c = {JAN1, 1, 2, 0.5, 1.5, 1};
    svg_series nul = {"x", "s", NULL, SVG_LINE, 0};
    svg_candle_chart bad2 = {.candles = &c, .n = 1, .overlays = &nul, .noverlays = 1};
    ck_assert_int_eq(svg_candles(&bad2, to_buf, &b), -1);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(test_lines)
{
    enum { N = 50 };
    int64_t x[N];
    double eq[N], dd[N];
    for (int i = 0; i < N; i++) {
        /* uneven spacing: x is time, not index */
        x[i] = JAN1 + (int64_t)i * i * 86400000 / 10;
        eq[i] = 10000 + 50.0 * i - (i % 7) * 30.0;
        dd[i] = -(i % 7) * 0.3;
    }
    eq[20] = NAN; /* a gap */
    svg_series s[] = {{"Drawdown", "s-dd", dd, SVG_AREA, 0}, {"Equity", "s-eq", eq, SVG_LINE, 0}};
    svg_line_chart c = {.x = x, .n = N, .series = s, .nseries = 2, .zero_line = 1, .title = "Equity & drawdown",
                        .y_suffix = "%"};
    buf b = {0};
    ck_assert_int_eq(svg_lines(&c, to_buf, &b), 0);
    check_svg(b.data, 960, 320);
    ck_assert_ptr_nonnull(strstr(b.data, "<title>Equity &amp; drawdown</title>"));
    ck_assert_uint_eq(count_of(b.data, "<line class=\"zero\""), 1);
    ck_assert_uint_eq(count_of(b.data, "<path class=\"area s-dd\""), 1);
    /* the NaN breaks the equity line in two */
    ck_assert_uint_eq(count_until_quote(path_of(b.data, "s-eq"), 'M'), 2);
    ck_assert_ptr_nonnull(strstr(b.data, "%</text>"));
    /* span of 240 days: labels are dates, first and last exact */
    ck_assert_ptr_nonnull(strstr(b.data, ">2024-01-01</text>"));
    int yy, mo, dd2, hh, mi;
    svg_civil(x[N - 1], &yy, &mo, &dd2, &hh, &mi);
    char last[32];
    snprintf(last, sizeof last, ">%04d-%02d-%02d</text>", yy, mo, dd2);
    ck_assert_ptr_nonnull(strstr(b.data, last));
    /* bars, and a single point */
    buf_clear(&b);
    s[0].style = SVG_BARS;
    c.n = 1;
    ck_assert_int_eq(svg_lines(&c, to_buf, &b), 0);
    check_svg(b.data, 960, 320);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"bar "), 1);
    buf_clear(&b);
    c.n = N;
    ck_assert_int_eq(svg_lines(&c, to_buf, &b), 0);
    check_svg(b.data, 960, 320);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"bar neg\""), N - (N + 6) / 7);
    buf_free(&b);
}
END_TEST

START_TEST(test_nice_ticks_and_civil)
{
    double first, step;
    int count, dec;
    ck_assert_int_eq(svg_nice_ticks(0, 100, 5, &first, &step, &count, &dec), 0);
    ck_assert(first == 0 && step == 20 && count == 6 && dec == 0);
    ck_assert_int_eq(svg_nice_ticks(41000, 43000, 6, &first, &step, &count, &dec), 0);
    ck_assert(step == 250 && first == 41000 && count == 9 && dec == 0);
    ck_assert_int_eq(svg_nice_ticks(0.001, 0.0042, 4, &first, &step, &count, &dec), 0);
    ck_assert_double_eq_tol(step, 0.001, 1e-15);
    ck_assert_int_eq(dec, 3);
    ck_assert_int_eq(count, 4);
    ck_assert_int_eq(svg_nice_ticks(0, 1, 4, &first, &step, &count, &dec), 0);
    ck_assert_double_eq_tol(step, 0.25, 1e-15);
    ck_assert_int_eq(dec, 2);
    ck_assert_int_eq(svg_nice_ticks(-3.2, 7.9, 5, &first, &step, &count, &dec), 0);
    ck_assert(step == 2 && first == -2 && count == 5);
    ck_assert_int_eq(svg_nice_ticks(5, 5, 4, &first, &step, &count, &dec), 0);
    ck_assert(count >= 2 && step > 0);
    ck_assert_int_eq(svg_nice_ticks(NAN, 1, 4, &first, &step, &count, &dec), -1);
    ck_assert_int_eq(svg_nice_ticks(2, 1, 4, &first, &step, &count, &dec), -1);

    int y, mo, d, h, mi;
    svg_civil(0, &y, &mo, &d, &h, &mi);
    ck_assert(y == 1970 && mo == 1 && d == 1 && h == 0 && mi == 0);
    svg_civil(JAN1, &y, &mo, &d, &h, &mi);
    ck_assert(y == 2024 && mo == 1 && d == 1);
    svg_civil(1709210040000LL, &y, &mo, &d, &h, &mi); /* 2024-02-29T12:34:00Z */
    ck_assert(y == 2024 && mo == 2 && d == 29 && h == 12 && mi == 34);
    svg_civil(-60000, &y, &mo, &d, &h, &mi);
    ck_assert(y == 1969 && mo == 12 && d == 31 && h == 23 && mi == 59);
    svg_civil(951782400000LL, &y, &mo, &d, &h, &mi); /* 2000-02-29 */
    ck_assert(y == 2000 && mo == 2 && d == 29);
}
END_TEST

START_TEST(test_overlay_parse)
{
    overlay o[OVERLAY_MAX];
    size_t n;
    char err[160];
    ck_assert_int_eq(overlay_parse_list("sma:20,ema:50,bb:20:2.5,vwap,wma:3,bb:10", o, OVERLAY_MAX, &n, err, sizeof err),
                     0);
    ck_assert_uint_eq(n, 6);
    ck_assert_str_eq(o[0].id, "sma:20");
    ck_assert_int_eq(o[1].kind, OVL_EMA);
    ck_assert_int_eq(o[1].p[0], 50);
    ck_assert_str_eq(o[2].id, "bb:20:2.5");
    ck_assert_double_eq(o[2].k, 2.5);
    ck_assert_str_eq(o[3].id, "vwap");
    ck_assert_str_eq(o[5].id, "bb:10:2");
    ck_assert_int_eq(overlay_parse_list(NULL, o, OVERLAY_MAX, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(overlay_parse_list("", o, OVERLAY_MAX, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 0);
    static const char *bad[] = {"sma",       "sma:0",    "sma:513", "sma:020", "foo:3",   "bb:20:0", "bb:20:11",
                                "bb:20:1.",  "SMA:20",   "sma:20,", ",sma:20", "rsi:14",  "sma:-1",  "vwap:2",
                                "sma:1:2",   "sma:2<x>", "ema:1e2", "sma:20,sma:20,sma:20,sma:20,sma:20,sma:20,sma:20",
                                "bb:20:2:3", "a:b:c:d:e"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(overlay_parse_list(bad[i], o, OVERLAY_MAX, &n, err, sizeof err) == -1, "accepted %s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no reason for %s", bad[i]);
        ck_assert_msg(!strchr(err, '<'), "reason echoes markup: %s", err);
    }
    ck_assert_int_eq(overlay_parse_list("sma:513", o, OVERLAY_MAX, &n, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "1 to 512"));

    int has;
    overlay p;
    ck_assert_int_eq(overlay_parse_panel("rsi", &p, &has, err, sizeof err), 0);
    ck_assert(has && p.kind == OVL_RSI && p.p[0] == 14);
    ck_assert_str_eq(p.id, "rsi:14");
    ck_assert_int_eq(overlay_parse_panel("macd", &p, &has, err, sizeof err), 0);
    ck_assert_str_eq(p.id, "macd:12:26:9");
    ck_assert_int_eq(overlay_parse_panel("macd:5:35:5", &p, &has, err, sizeof err), 0);
    ck_assert(p.p[0] == 5 && p.p[1] == 35 && p.p[2] == 5);
    ck_assert_int_eq(overlay_parse_panel("volume", &p, &has, err, sizeof err), 0);
    ck_assert_int_eq(p.kind, OVL_VOLUME);
    ck_assert_int_eq(overlay_parse_panel("none", &p, &has, err, sizeof err), 0);
    ck_assert_int_eq(has, 0);
    ck_assert_int_eq(overlay_parse_panel("", &p, &has, err, sizeof err), 0);
    ck_assert_int_eq(has, 0);
    static const char *badp[] = {"macd:26:12:9", "macd:12:26", "rsi:0", "sma:20", "volume:2", "rsi:14,macd", "bogus"};
    for (size_t i = 0; i < sizeof badp / sizeof badp[0]; i++)
        ck_assert_msg(overlay_parse_panel(badp[i], &p, &has, err, sizeof err) == -1, "accepted panel %s", badp[i]);
}
END_TEST

START_TEST(test_overlay_compute)
{
    enum { N = 300 };
    candle *c = make_candles(N, 3);
    double h[N], l[N], cl[N], v[N];
    overlay_cols cols = {h, l, cl, v, 0};
    overlay_columns(c, N, &cols);
    ck_assert_uint_eq(cols.n, N);
    double a[N], b[N], d[N], ref[N], ref2[N], ref3[N];
    double *out[3] = {a, b, d};
    overlay o[1];
    size_t n;
    char err[128];

    ck_assert_int_eq(overlay_parse_list("sma:20", o, 1, &n, err, sizeof err), 0);
    ck_assert_uint_eq(overlay_warmup(&o[0]), 19);
    ck_assert_int_eq(overlay_nseries(&o[0]), 1);
    ck_assert_int_eq(overlay_compute(&o[0], &cols, 0, out), 0);
    ind_sma_batch(cl, N, 20, ref);
    for (int i = 0; i < N; i++)
        ck_assert(isnan(ref[i]) ? isnan(a[i]) : a[i] == ref[i]);

    ck_assert_int_eq(overlay_parse_list("bb:20:2", o, 1, &n, err, sizeof err), 0);
    ck_assert_int_eq(overlay_nseries(&o[0]), 3);
    ck_assert_str_eq(overlay_series_name(&o[0], 0), "lower");
    ck_assert_str_eq(overlay_series_name(&o[0], 2), "upper");
    ck_assert_int_eq(overlay_compute(&o[0], &cols, 0, out), 0);
    ind_bbands_batch(cl, N, 20, 2, ref, ref2, ref3);
    ck_assert(a[100] == ref[100] && b[100] == ref2[100] && d[100] == ref3[100]);

    ck_assert_int_eq(overlay_parse_list("ema:10", o, 1, &n, err, sizeof err), 0);
    ck_assert_uint_eq(overlay_warmup(&o[0]), 50);

    /* VWAP anchored at index 100: NaN before, cumulative from there */
    ck_assert_int_eq(overlay_parse_list("vwap", o, 1, &n, err, sizeof err), 0);
    ck_assert_uint_eq(overlay_warmup(&o[0]), 0);
    ck_assert_int_eq(overlay_compute(&o[0], &cols, 100, out), 0);
    ck_assert(isnan(a[99]));
    double tp = (h[100] + l[100] + cl[100]) / 3;
    ck_assert_double_eq_tol(a[100], tp, 1e-9 * tp);
    ind_vwap_batch(h + 100, l + 100, cl + 100, v + 100, N - 100, ref);
    ck_assert(a[N - 1] == ref[N - 101]);

    int has;
    overlay p;
    ck_assert_int_eq(overlay_parse_panel("macd", &p, &has, err, sizeof err), 0);
    ck_assert_uint_eq(overlay_warmup(&p), 5 * 26 + 5 * 9);
    ck_assert_str_eq(overlay_series_name(&p, 2), "hist");
    ck_assert_int_eq(overlay_compute(&p, &cols, 0, out), 0);
    ind_macd_batch(cl, N, 12, 26, 9, ref, ref2, ref3);
    ck_assert(a[200] == ref[200] && b[200] == ref2[200] && d[200] == ref3[200]);
    ck_assert_int_eq(overlay_parse_panel("rsi:14", &p, &has, err, sizeof err), 0);
    ck_assert_uint_eq(overlay_warmup(&p), 141);
    ck_assert_int_eq(overlay_parse_panel("volume", &p, &has, err, sizeof err), 0);
    ck_assert_int_eq(overlay_compute(&p, &cols, 0, out), 0);
    ck_assert(a[7] == v[7]);
    free(c);
}
END_TEST

START_TEST(test_heatmap)
{
    /* 4 columns x 3 rows; the value grows with x and y; one cell without a value */
    double xs[] = {5, 10, 15, 20}, ys[] = {1, 2, 3}, z[12];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            z[y * 4 + x] = x + 4.0 * y - 3.0;
    z[5] = NAN;
    svg_heatmap_chart c = {.xs = xs, .nx = 4, .ys = ys, .ny = 3, .z = z, .x_label = "fast", .y_label = "stop <%>",
                           .z_label = "Sharpe", .title = "Sharpe by fast & stop"};
    buf b = {0};
    ck_assert_int_eq(svg_heatmap(&c, to_buf, &b), 0);
    check_svg(b.data, 960, 480);
    ck_assert_ptr_nonnull(strstr(b.data, "aria-label=\"Sharpe by fast &amp; stop\""));
    /* 12 cells and 10 scale swatches */
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"cell "), 12 + SVG_HEAT_BINS);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"cell hn\""), 1);
    /* the two smallest values are the lowest bin, the two largest the highest (plus each bin's swatch) */
    ck_assert_ptr_nonnull(strstr(b.data, "<title>fast 5, stop &lt;%&gt; 1: -3</title>"));
    ck_assert_ptr_nonnull(strstr(b.data, "<title>fast 20, stop &lt;%&gt; 3: 8</title>"));
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"cell h0\""), 2 + 1);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"cell h9\""), 2 + 1);
    ck_assert_ptr_nonnull(strstr(b.data, "<title>fast 10, stop &lt;%&gt; 2: —</title>"));
    /* the scale names its ends and middle */
    ck_assert_ptr_nonnull(strstr(b.data, ">-3</text>"));
    ck_assert_ptr_nonnull(strstr(b.data, ">2.5</text>"));
    ck_assert_ptr_nonnull(strstr(b.data, ">8</text>"));
    /* the first row's cells sit at the bottom: row 0 lower on the page than row 2 */
    double y0, y2;
    const char *r0 = strstr(b.data, "<title>fast 5, stop &lt;%&gt; 1:"), *r2 = strstr(b.data, "<title>fast 5, stop &lt;%&gt; 3:");
    const char *t0 = r0, *t2 = r2;
    while (strncmp(t0, "<rect", 5))
        t0--;
    while (strncmp(t2, "<rect", 5))
        t2--;
    ck_assert(attr_num(t0, r0, "y", &y0) && attr_num(t2, r2, "y", &y2) && y0 > y2);
    /* deterministic */
    buf b2 = {0};
    ck_assert_int_eq(svg_heatmap(&c, to_buf, &b2), 0);
    ck_assert_str_eq(b.data, b2.data);
    /* a big map leaves the per-cell titles out */
    enum { BX = 60, BY = 50 };
    double bxs[BX], bys[BY], *bz = malloc(sizeof(double) * BX * BY);
    ck_assert_ptr_nonnull(bz);
    for (int i = 0; i < BX; i++)
        bxs[i] = i;
    for (int i = 0; i < BY; i++)
        bys[i] = i * 0.5;
    for (int i = 0; i < BX * BY; i++)
        bz[i] = sin(i * 0.01);
    svg_heatmap_chart big = {.xs = bxs, .nx = BX, .ys = bys, .ny = BY, .z = bz, .width = 800, .height = 600};
    buf_clear(&b);
    ck_assert_int_eq(svg_heatmap(&big, to_buf, &b), 0);
    /* (check_svg is quadratic in the element count: the small map above stands for the structure) */
    ck_assert_ptr_nonnull(strstr(b.data, "viewBox=\"0 0 800 600\""));
    ck_assert_str_eq(b.data + b.len - 6, "</svg>");
    ck_assert_uint_eq(count_of(b.data, "<title>"), 0);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"cell "), BX * BY + SVG_HEAT_BINS);
    /* ten labels at most per axis */
    ck_assert_uint_le(count_of(b.data, "text-anchor=\"middle\">"), 10);
    free(bz);
    /* nothing to show, and invalid arguments */
    for (int i = 0; i < 12; i++)
        z[i] = NAN;
    svg_heatmap_chart none = {.xs = xs, .nx = 4, .ys = ys, .ny = 3, .z = z, .empty_text = "No feasible result"};
    buf_clear(&b);
    ck_assert_int_eq(svg_heatmap(&none, to_buf, &b), 0);
    check_svg(b.data, 960, 480);
    ck_assert_ptr_nonnull(strstr(b.data, "No feasible result"));
    svg_heatmap_chart bad = {.xs = xs, .nx = 4, .ys = ys, .ny = 3, .z = NULL};
    ck_assert_int_eq(svg_heatmap(&bad, to_buf, &b), -1);
    ck_assert_int_eq(svg_heatmap(&c, NULL, &b), -1);
    buf_free(&b);
    buf_free(&b2);
}
END_TEST

START_TEST(test_bars)
{
    const char *labels[] = {"W1", "W2", "W3"};
    double is[] = {1.5, 2.0, 0.8}, oos[] = {0.4, -0.6, NAN};
    svg_series s[] = {{"In sample", "s-is", is, SVG_BARS, 0}, {"Out of sample", "s-oos", oos, SVG_BARS, 0}};
    svg_bar_chart c = {.labels = labels, .n = 3, .series = s, .nseries = 2, .title = "Scores <per> window"};
    buf b = {0};
    ck_assert_int_eq(svg_bars(&c, to_buf, &b), 0);
    check_svg(b.data, 960, 320);
    ck_assert_ptr_nonnull(strstr(b.data, "<title>Scores &lt;per&gt; window</title>"));
    /* five bars: the NaN is left out */
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"bar s-is\""), 3);
    ck_assert_uint_eq(count_of(b.data, "<rect class=\"bar s-oos\""), 2);
    ck_assert_ptr_nonnull(strstr(b.data, "<title>W2 · Out of sample: -0.6</title>"));
    ck_assert_uint_eq(count_of(b.data, "<line class=\"zero\""), 1);
    /* a negative bar hangs from the zero line, a positive one stands on it */
    const char *neg = strstr(b.data, "<title>W2 · Out of sample"), *pos = strstr(b.data, "<title>W2 · In sample");
    const char *tn = neg, *tp = pos;
    while (strncmp(tn, "<rect", 5))
        tn--;
    while (strncmp(tp, "<rect", 5))
        tp--;
    double yn, hn, yp, hp;
    ck_assert(attr_num(tn, neg, "y", &yn) && attr_num(tn, neg, "height", &hn));
    ck_assert(attr_num(tp, pos, "y", &yp) && attr_num(tp, pos, "height", &hp));
    ck_assert(fabs(yn - (yp + hp)) < 0.11); /* both meet at the zero line */
    ck_assert(hp > hn);
    /* the legend names both series; empty and invalid input */
    ck_assert_ptr_nonnull(strstr(b.data, ">Out of sample</text>"));
    svg_bar_chart none = {.labels = labels, .n = 0, .series = s, .nseries = 2, .empty_text = "No windows"};
    buf_clear(&b);
    ck_assert_int_eq(svg_bars(&none, to_buf, &b), 0);
    check_svg(b.data, 960, 320);
    ck_assert_ptr_nonnull(strstr(b.data, "No windows"));
    svg_bar_chart bad = {.labels = NULL, .n = 3, .series = s, .nseries = 2};
    ck_assert_int_eq(svg_bars(&bad, to_buf, &b), -1);
    buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svg");
    UNIT_ADD(s, test_candles_structure);
    UNIT_ADD(s, test_candles_volume_panel_and_sizes);
    UNIT_ADD(s, test_escaping);
    UNIT_ADD(s, test_empty_and_invalid);
    UNIT_ADD(s, test_lines);
    UNIT_ADD(s, test_heatmap);
    UNIT_ADD(s, test_bars);
    UNIT_ADD(s, test_nice_ticks_and_civil);
    UNIT_ADD(s, test_overlay_parse);
    UNIT_ADD(s, test_overlay_compute);
    return unit_run(s);
}
