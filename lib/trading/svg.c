/* svg.c — candlestick, line/area, grouped-bar and heatmap charts written as SVG text through a sink,
 * with nice axis ticks and UTC time labels; no allocation, no clock: the same data, the same bytes. */
#include "svg.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SVG_LEGEND_H 22.0 /* room above the plot for the legend */
#define SVG_TIME_H 22.0   /* room under the plot for the time labels */
#define SVG_PANEL_GAP 14.0

typedef struct svg_w {
    svg_sink sink;
    void *arg;
} svg_w;

static void put(svg_w *w, const char *s)
{
    w->sink(w->arg, s, strlen(s));
}

static void putf(svg_w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(svg_w *w, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    w->sink(w->arg, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Coordinates with one decimal; -0.0 would print as "-0.0", so tiny values become 0. */
static double c1(double v)
{
    return fabs(v) < 0.05 ? 0.0 : v;
}

void svg_escape(const char *s, svg_sink sink, void *arg)
{
    if (!s || !sink)
        return;
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char ch = (unsigned char)*p;
        const char *ent = NULL;
        int drop = 0;
        switch (ch) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default: drop = ch != 0 && ch < 0x20; break;
        }
        if (ch == 0 || ent || drop) {
            if (p > run)
                sink(arg, run, (size_t)(p - run));
            if (ent)
                sink(arg, ent, strlen(ent));
            run = p + 1;
        }
        if (ch == 0)
            break;
    }
}

static void put_esc(svg_w *w, const char *s)
{
    svg_escape(s, w->sink, w->arg);
}

static int cls_ok(const char *c)
{
    if (!c || !*c)
        return 0;
    for (const char *p = c; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* " CLS" when the class name is acceptable, nothing otherwise. */
static void put_cls(svg_w *w, const char *c)
{
    if (cls_ok(c)) {
        put(w, " ");
        put(w, c);
    }
}

void svg_civil(int64_t ms, int *year, int *month, int *day, int *hour, int *minute)
{
    int64_t days = ms / 86400000;
    int64_t rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    /* days to civil date (H. Hinnant's algorithm, proleptic Gregorian) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (m <= 2));
    *month = (int)m;
    *day = (int)d;
    *hour = (int)(rem / 3600000);
    *minute = (int)(rem % 3600000 / 60000);
}

int svg_nice_ticks(double lo, double hi, int want, double *first, double *step, int *count, int *decimals)
{
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        return -1;
    if (want < 1)
        want = 1;
    double range = hi - lo;
    if (range <= 0) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.01 : 1.0;
        lo -= pad;
        hi += pad;
        range = hi - lo;
    }
    double rough = range / want;
    double mag = pow(10.0, floor(log10(rough)));
    double norm = rough / mag;
    double f = norm < 1.5 ? 1.0 : norm < 2.25 ? 2.0 : norm < 3.5 ? 2.5 : norm < 7.5 ? 5.0 : 10.0;
    double st = f * mag;
    double fi = ceil(lo / st - 1e-9) * st;
    int cnt = (int)floor((hi - fi) / st + 1e-9) + 1;
    if (cnt < 1)
        cnt = 1;
    if (cnt > 32)
        cnt = 32;
    int dec = 0;
    /* the fewest digits after the point that write every multiple of the step exactly */
    while (dec < 12) {
        double s = st * pow(10.0, dec);
        if (fabs(s - round(s)) <= 1e-6 * s)
            break;
        dec++;
    }
    *first = fi;
    *step = st;
    *count = cnt;
    *decimals = dec;
    return 0;
}

/* A tick value as text: the step's decimals, and no "-0". */
static void fmt_tick(char *out, size_t n, double v, double step, int dec, const char *suffix)
{
    if (fabs(v) < step * 1e-9)
        v = 0.0;
    snprintf(out, n, "%.*f%s", dec, v, suffix ? suffix : "");
}

/* Maps point index i to x. Candle charts space points evenly; line charts by time. */
typedef struct xmap {
    double x0, x1, slot;
    const int64_t *t;
    int64_t t0, t1;
} xmap;

static double xmap_at(const xmap *m, size_t i)
{
    if (!m->t)
        return m->x0 + ((double)i + 0.5) * m->slot;
    if (m->t1 == m->t0)
        return (m->x0 + m->x1) / 2;
    return m->x0 + (double)(m->t[i] - m->t0) / (double)(m->t1 - m->t0) * (m->x1 - m->x0);
}

/* Maps a value to y inside [top, bottom]. */
typedef struct ymap {
    double lo, hi, top, bottom;
} ymap;

static double ymap_at(const ymap *m, double v)
{
    return m->bottom - (v - m->lo) / (m->hi - m->lo) * (m->bottom - m->top);
}

/* Widens [lo, hi] by frac of its span on each side (and gives a flat range some height). */
static void pad_range(double *lo, double *hi, double frac)
{
    if (*hi - *lo <= 0) {
        double pad = fabs(*lo) > 0 ? fabs(*lo) * 0.01 : 1.0;
        *lo -= pad;
        *hi += pad;
        return;
    }
    double p = (*hi - *lo) * frac;
    *lo -= p;
    *hi += p;
}

static void range_of(const double *y, size_t n, double *lo, double *hi, int *any)
{
    for (size_t i = 0; y && i < n; i++) {
        if (!isfinite(y[i]))
            continue;
        if (!*any || y[i] < *lo)
            *lo = y[i];
        if (!*any || y[i] > *hi)
            *hi = y[i];
        *any = 1;
    }
}

static void open_svg(svg_w *w, int width, int height, const char *kind, const char *title)
{
    putf(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" class=\"chart %s\" role=\"img\"", width,
         height, kind);
    if (title && *title) {
        put(w, " aria-label=\"");
        put_esc(w, title);
        put(w, "\"><title>");
        put_esc(w, title);
        put(w, "</title>");
    } else {
        put(w, ">");
    }
}

static void empty_plot(svg_w *w, int width, int height, const char *text)
{
    putf(w, "<rect class=\"frame\" x=\"0.5\" y=\"0.5\" width=\"%d\" height=\"%d\" fill=\"none\"/>", width - 1,
         height - 1);
    if (text && *text) {
        putf(w, "<text class=\"empty\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", width / 2, height / 2);
        put_esc(w, text);
        put(w, "</text>");
    }
    put(w, "</svg>");
}

/* Horizontal grid lines and their labels, on the right (label_x > x1) or left (< x0) side. */
static void value_axis(svg_w *w, const ymap *ym, double x0, double x1, int want, const char *suffix, int right)
{
    double first, step;
    int count, dec;
    if (svg_nice_ticks(ym->lo, ym->hi, want, &first, &step, &count, &dec) != 0)
        return;
    for (int k = 0; k < count; k++) {
        double v = first + step * k;
        if (v < ym->lo || v > ym->hi)
            continue;
        double y = ymap_at(ym, v);
        char label[64];
        fmt_tick(label, sizeof label, v, step, dec, NULL);
        putf(w, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c1(x0), c1(y), c1(x1), c1(y));
        if (right)
            putf(w, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">", c1(x1 + 6), c1(y + 4));
        else
            putf(w, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", c1(x0 - 6), c1(y + 4));
        put_esc(w, label);
        if (suffix)
            put_esc(w, suffix);
        put(w, "</text>");
    }
}

static void time_label(char *out, size_t n, int64_t ms, int style)
{
    int y, mo, d, h, mi;
    svg_civil(ms, &y, &mo, &d, &h, &mi);
    if (style == 0)
        snprintf(out, n, "%04d-%02d-%02d", y, mo, d);
    else if (style == 1)
        snprintf(out, n, "%02d-%02d %02d:%02d", mo, d, h, mi);
    else
        snprintf(out, n, "%02d:%02d", h, mi);
}

static void time_tick(svg_w *w, double x, double top, double bottom, double label_y, const char *label,
                      const char *anchor)
{
    putf(w, "<line class=\"grid v\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c1(x), c1(top), c1(x),
         c1(bottom));
    putf(w, "<text class=\"axis time\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", c1(x), c1(label_y), anchor);
    put_esc(w, label);
    put(w, "</text>");
}

/* The legend row: a colour key and the label of every series that has one. */
static void legend(svg_w *w, double x, double y, const svg_series *const *groups, const size_t *counts, int ngroups)
{
    put(w, "<g class=\"legend\">");
    for (int g = 0; g < ngroups; g++) {
        for (size_t i = 0; i < counts[g]; i++) {
            const svg_series *s = &groups[g][i];
            if (!s->label || !*s->label)
                continue;
            put(w, "<rect class=\"key");
            put_cls(w, s->cls);
            putf(w, "\" x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\"/>", c1(x), c1(y - 9));
            putf(w, "<text x=\"%.1f\" y=\"%.1f\">", c1(x + 14), c1(y));
            put_esc(w, s->label);
            put(w, "</text>");
            x += 24 + 6.5 * (double)strlen(s->label);
        }
    }
    put(w, "</g>");
}

/* One series: a broken polyline, areas closed to the baseline, or bars from it. dir, when
 * given, names the candle direction per point for bars coloured by candle. */
static void draw_series(svg_w *w, const svg_series *s, size_t n, const xmap *xm, const ymap *ym, double base_y,
                        double bar_w, const candle *dir)
{
    if (!s->y || n == 0)
        return;
    if (s->style == SVG_BARS) {
        put(w, "<g class=\"bars");
        put_cls(w, s->cls);
        put(w, "\">");
        for (size_t i = 0; i < n; i++) {
            double v = s->y[i];
            if (!isfinite(v))
                continue;
            double x = xmap_at(xm, i), y = ymap_at(ym, v);
            double top = y < base_y ? y : base_y, h = fabs(base_y - y);
            const char *k = dir ? (dir[i].close >= dir[i].open ? "up" : "down") : (v >= 0 ? "pos" : "neg");
            putf(w, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", k,
                 c1(x - bar_w / 2), c1(top), bar_w, h < 0.5 ? 0.5 : h);
        }
        put(w, "</g>");
        return;
    }
    if (s->style == SVG_AREA) {
        put(w, "<path class=\"area");
        put_cls(w, s->cls);
        put(w, "\" d=\"");
        size_t i = 0;
        while (i < n) {
            while (i < n && !isfinite(s->y[i]))
                i++;
            if (i >= n)
                break;
            putf(w, "M%.1f %.1f", c1(xmap_at(xm, i)), c1(base_y));
            for (; i < n && isfinite(s->y[i]); i++)
                putf(w, "L%.1f %.1f", c1(xmap_at(xm, i)), c1(ymap_at(ym, s->y[i])));
            putf(w, "L%.1f %.1fZ", c1(xmap_at(xm, i - 1)), c1(base_y));
        }
        put(w, "\"/>");
    }
    put(w, "<path class=\"line");
    put_cls(w, s->cls);
    put(w, "\" fill=\"none\" d=\"");
    int pen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(s->y[i])) {
            pen = 0;
            continue;
        }
        putf(w, "%c%.1f %.1f", pen ? 'L' : 'M', c1(xmap_at(xm, i)), c1(ymap_at(ym, s->y[i])));
        pen = 1;
    }
    put(w, "\"/>");
}

static int series_ok(const svg_series *s, size_t ns, size_t n)
{
    if (ns && !s)
        return 0;
    for (size_t i = 0; i < ns; i++)
        if (n && !s[i].y)
            return 0;
    return 1;
}

int svg_candles(const svg_candle_chart *c, svg_sink sink, void *arg)
{
    if (!c || !sink || (c->n && !c->candles) || !series_ok(c->overlays, c->noverlays, c->n) ||
        (c->panel && !series_ok(c->panel->series, c->panel->nseries, c->n)))
        return -1;
    svg_w w = {sink, arg};
    int width = c->width > 0 ? c->width : 960, height = c->height > 0 ? c->height : 440;
    open_svg(&w, width, height, "chart-candles", c->title);
    if (c->n == 0) {
        empty_plot(&w, width, height, c->empty_text);
        return 0;
    }
    const size_t n = c->n;
    const double x0 = 8, x1 = width - 76.0, top = SVG_LEGEND_H;
    const double bottom_all = height - SVG_TIME_H;
    double main_bottom = bottom_all, ptop = 0;
    if (c->panel) {
        main_bottom = top + (bottom_all - top) * 0.70;
        ptop = main_bottom + SVG_PANEL_GAP;
    }

    /* price range: the candles and whatever the overlays draw */
    double lo = c->candles[0].low, hi = c->candles[0].high;
    for (size_t i = 0; i < n; i++) {
        if (c->candles[i].low < lo)
            lo = c->candles[i].low;
        if (c->candles[i].high > hi)
            hi = c->candles[i].high;
    }
    int any = 1;
    for (size_t k = 0; k < c->noverlays; k++)
        range_of(c->overlays[k].y, n, &lo, &hi, &any);
    if (!isfinite(lo) || !isfinite(hi))
        return -1;
    pad_range(&lo, &hi, 0.04);
    ymap ym = {lo, hi, top, main_bottom};
    xmap xm = {x0, x1, (x1 - x0) / (double)n, NULL, 0, 0};

    putf(&w, "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x0, top, x1 - x0,
         main_bottom - top);
    value_axis(&w, &ym, x0, x1, 6, NULL, 1);

    /* time labels: about seven, evenly spaced in candles */
    int64_t tf = c->tf_ms > 0 ? c->tf_ms : (n > 1 ? c->candles[1].open_time - c->candles[0].open_time : 0);
    int64_t span = c->candles[n - 1].open_time - c->candles[0].open_time;
    int style = tf >= 86400000 ? 0 : span >= 2 * 86400000LL ? 1 : 2;
    size_t every = (n + 6) / 7;
    if (every < 1)
        every = 1;
    /* labels sit in the middle of each group of `every` candles, so none is cut at an edge */
    for (size_t i = every / 2; i < n; i += every) {
        char label[32];
        time_label(label, sizeof label, c->candles[i].open_time, style);
        time_tick(&w, xmap_at(&xm, i), top, c->panel ? bottom_all : main_bottom, height - 6.0, label, "middle");
    }

    double bw = xm.slot * 0.7;
    if (bw < 1)
        bw = 1;
    put(&w, "<g class=\"candles\">");
    for (size_t i = 0; i < n; i++) {
        const candle *k = &c->candles[i];
        const char *dir = k->close >= k->open ? "up" : "down";
        double x = xmap_at(&xm, i);
        double yo = ymap_at(&ym, k->open), yc = ymap_at(&ym, k->close);
        double bt = yo < yc ? yo : yc, bh = fabs(yo - yc);
        putf(&w, "<line class=\"wick %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", dir, c1(x),
             c1(ymap_at(&ym, k->high)), c1(x), c1(ymap_at(&ym, k->low)));
        putf(&w, "<rect class=\"body %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", dir, c1(x - bw / 2),
             c1(bt), bw, bh < 1 ? 1.0 : bh);
    }
    put(&w, "</g>");

    put(&w, "<g class=\"overlays\">");
    for (size_t k = 0; k < c->noverlays; k++)
        draw_series(&w, &c->overlays[k], n, &xm, &ym, main_bottom, bw, c->overlays[k].by_candle ? c->candles : NULL);
    put(&w, "</g>");

    if (c->panel) {
        const svg_panel *p = c->panel;
        double plo = p->lo, phi = p->hi;
        if (!(plo < phi)) {
            int pany = 0;
            for (size_t k = 0; k < p->nseries; k++) {
                range_of(p->series[k].y, n, &plo, &phi, &pany);
                if (p->series[k].style == SVG_BARS) {
                    /* bars grow from zero, so zero is in the range */
                    double z = 0;
                    range_of(&z, 1, &plo, &phi, &pany);
                }
            }
            for (size_t g = 0; g < p->nguides; g++)
                range_of(&p->guides[g], 1, &plo, &phi, &pany);
            if (!pany) {
                plo = 0;
                phi = 1;
            }
            pad_range(&plo, &phi, 0.05);
        }
        ymap pm = {plo, phi, ptop, bottom_all};
        putf(&w, "<g class=\"panel\"><rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x0,
             ptop, x1 - x0, bottom_all - ptop);
        value_axis(&w, &pm, x0, x1, 3, NULL, 1);
        for (size_t g = 0; g < p->nguides; g++) {
            if (!isfinite(p->guides[g]) || p->guides[g] < plo || p->guides[g] > phi)
                continue;
            double y = ymap_at(&pm, p->guides[g]);
            putf(&w, "<line class=\"guide\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, c1(y), x1, c1(y));
        }
        double base = 0 >= plo && 0 <= phi ? ymap_at(&pm, 0) : bottom_all;
        for (size_t k = 0; k < p->nseries; k++) {
            const svg_series *s = &p->series[k];
            draw_series(&w, s, n, &xm, &pm, base, bw, s->by_candle ? c->candles : NULL);
        }
        if (p->label && *p->label) {
            putf(&w, "<text class=\"panel-label\" x=\"%.1f\" y=\"%.1f\">", x0 + 4, ptop + 12);
            put_esc(&w, p->label);
            put(&w, "</text>");
        }
        put(&w, "</g>");
    }

    const svg_series *groups[2] = {c->overlays, c->panel ? c->panel->series : NULL};
    size_t counts[2] = {c->noverlays, c->panel ? c->panel->nseries : 0};
    legend(&w, x0, 15, groups, counts, 2);
    put(&w, "</svg>");
    return 0;
}

/* The frame the line and bar charts share: the value range of the series (with zero when asked),
 * padded, the plot's rectangle and its value axis on the left, between x SVG_VALUE_X0 and
 * width - 16. -1, with nothing drawn, when no series holds a finite value. */
#define SVG_VALUE_X0 72.0
static int value_frame(svg_w *w, const svg_series *s, size_t ns, size_t n, int zero, int width, int height,
                       const char *suffix, ymap *ym)
{
    double lo = 0, hi = 0;
    int any = 0;
    for (size_t k = 0; k < ns; k++)
        range_of(s[k].y, n, &lo, &hi, &any);
    if (n == 0 || !any)
        return -1;
    if (zero) {
        double z = 0;
        range_of(&z, 1, &lo, &hi, &any);
    }
    pad_range(&lo, &hi, 0.05);
    const double x0 = SVG_VALUE_X0, x1 = width - 16.0, top = SVG_LEGEND_H, bottom = height - SVG_TIME_H;
    *ym = (ymap){lo, hi, top, bottom};
    putf(w, "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x0, top, x1 - x0,
         bottom - top);
    value_axis(w, ym, x0, x1, 5, suffix, 0);
    return 0;
}

int svg_lines(const svg_line_chart *c, svg_sink sink, void *arg)
{
    if (!c || !sink || (c->n && !c->x) || !series_ok(c->series, c->nseries, c->n))
        return -1;
    svg_w w = {sink, arg};
    int width = c->width > 0 ? c->width : 960, height = c->height > 0 ? c->height : 320;
    open_svg(&w, width, height, "chart-lines", c->title);
    ymap ym;
    if (value_frame(&w, c->series, c->nseries, c->n, c->zero_line, width, height, c->y_suffix, &ym) != 0) {
        empty_plot(&w, width, height, c->empty_text);
        return 0;
    }
    const size_t n = c->n;
    const double x0 = SVG_VALUE_X0, x1 = width - 16.0, top = ym.top, bottom = ym.bottom, lo = ym.lo, hi = ym.hi;
    xmap xm = {x0, x1, 0, c->x, c->x[0], c->x[n - 1]};
    int64_t span = xm.t1 - xm.t0;
    int style = span >= 2 * 86400000LL ? 0 : 1;
    int labels = span > 0 ? 6 : 1;
    for (int k = 0; k < labels; k++) {
        /* integer arithmetic: the labels do not depend on floating-point rounding */
        int64_t t = labels > 1 ? xm.t0 + span / (labels - 1) * k + span % (labels - 1) * k / (labels - 1) : xm.t0;
        double x = labels > 1 ? x0 + (x1 - x0) * k / (labels - 1) : (x0 + x1) / 2;
        char label[32];
        time_label(label, sizeof label, t, style);
        /* the last label ends at the right edge of the plot instead of running past the picture */
        time_tick(&w, x, top, bottom, height - 6.0, label, labels > 1 && k == labels - 1 ? "end" : "middle");
    }
    double base = 0 >= lo && 0 <= hi ? ymap_at(&ym, 0) : bottom;
    if (c->zero_line)
        putf(&w, "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, c1(base), x1, c1(base));
    double bw = (x1 - x0) / (double)n * 0.7;
    if (bw < 1)
        bw = 1;
    put(&w, "<g class=\"series\">");
    for (size_t k = 0; k < c->nseries; k++)
        draw_series(&w, &c->series[k], n, &xm, &ym, base, bw, NULL);
    put(&w, "</g>");
    const svg_series *groups[1] = {c->series};
    size_t counts[1] = {c->nseries};
    legend(&w, x0, 15, groups, counts, 1);
    put(&w, "</svg>");
    return 0;
}

/* ---- heatmap ---- */

/* A coordinate rounded to the 0.1 the output prints, so neighbouring cells share their edges. */
static double r1(double v)
{
    return round(v * 10.0) / 10.0;
}

/* The colour bin of v within [lo, hi]: 0..SVG_HEAT_BINS-1 (a flat range is the middle bin). */
static int heat_bin(double v, double lo, double hi)
{
    if (!(hi > lo))
        return SVG_HEAT_BINS / 2;
    int b = (int)floor((v - lo) / (hi - lo) * SVG_HEAT_BINS);
    return b < 0 ? 0 : b >= SVG_HEAT_BINS ? SVG_HEAT_BINS - 1 : b;
}

/* An axis or scale value: six significant digits, no "-0". */
static void fmt_value(char *out, size_t n, double v)
{
    snprintf(out, n, "%.6g", v == 0 ? 0.0 : v);
}

int svg_heatmap(const svg_heatmap_chart *c, svg_sink sink, void *arg)
{
    if (!c || !sink || (c->nx && !c->xs) || (c->ny && !c->ys) || (c->nx && c->ny && !c->z))
        return -1;
    svg_w w = {sink, arg};
    int width = c->width > 0 ? c->width : 960, height = c->height > 0 ? c->height : 480;
    open_svg(&w, width, height, "chart-heatmap", c->title);
    const size_t nx = c->nx, ny = c->ny, cells = nx * ny;
    double lo = 0, hi = 0;
    int any = 0;
    range_of(c->z, cells, &lo, &hi, &any);
    if (!any) {
        empty_plot(&w, width, height, c->empty_text);
        return 0;
    }
    const double x0 = 80, x1 = width - 110.0, top = 12, bottom = height - 48.0;
    const double cw = (x1 - x0) / (double)nx, ch = (bottom - top) / (double)ny;
    char a[64], b[64], v[64];
    put(&w, "<g class=\"cells\">");
    for (size_t yi = 0; yi < ny; yi++) {
        double ya = r1(bottom - (double)(yi + 1) * ch), yb = r1(bottom - (double)yi * ch);
        for (size_t xi = 0; xi < nx; xi++) {
            double z = c->z[yi * nx + xi];
            double xa = r1(x0 + (double)xi * cw), xb = r1(x0 + (double)(xi + 1) * cw);
            if (isfinite(z))
                putf(&w, "<rect class=\"cell h%d\"", heat_bin(z, lo, hi));
            else
                put(&w, "<rect class=\"cell hn\"");
            putf(&w, " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", c1(xa), c1(ya), xb - xa, yb - ya);
            if (cells > SVG_HEAT_TITLED_MAX) {
                put(&w, "/>");
                continue;
            }
            fmt_value(a, sizeof a, c->xs[xi]);
            fmt_value(b, sizeof b, c->ys[yi]);
            if (isfinite(z))
                fmt_value(v, sizeof v, z);
            else
                snprintf(v, sizeof v, "—");
            put(&w, "><title>");
            put_esc(&w, c->x_label ? c->x_label : "x");
            put(&w, " ");
            put_esc(&w, a);
            put(&w, ", ");
            put_esc(&w, c->y_label ? c->y_label : "y");
            put(&w, " ");
            put_esc(&w, b);
            put(&w, ": ");
            put_esc(&w, v);
            put(&w, "</title></rect>");
        }
    }
    put(&w, "</g><g class=\"axis-labels\">");
    /* about ten labels per axis, at cell centres */
    size_t every = (nx + 9) / 10;
    for (size_t xi = 0; xi < nx; xi += every) {
        fmt_value(a, sizeof a, c->xs[xi]);
        putf(&w, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", c1(x0 + ((double)xi + 0.5) * cw),
             bottom + 16);
        put_esc(&w, a);
        put(&w, "</text>");
    }
    every = (ny + 9) / 10;
    for (size_t yi = 0; yi < ny; yi += every) {
        fmt_value(a, sizeof a, c->ys[yi]);
        putf(&w, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 6,
             c1(bottom - ((double)yi + 0.5) * ch + 4));
        put_esc(&w, a);
        put(&w, "</text>");
    }
    if (c->x_label && *c->x_label) {
        putf(&w, "<text class=\"axis-name\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (x0 + x1) / 2, height - 8.0);
        put_esc(&w, c->x_label);
        put(&w, "</text>");
    }
    if (c->y_label && *c->y_label) {
        double yc = (top + bottom) / 2;
        putf(&w, "<text class=\"axis-name\" x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">",
             yc, yc);
        put_esc(&w, c->y_label);
        put(&w, "</text>");
    }
    /* the colour scale: one swatch per bin, lowest at the bottom */
    const double sx = x1 + 24, sh = (bottom - top - 20) / SVG_HEAT_BINS, sb = bottom;
    put(&w, "</g><g class=\"scale\">");
    if (c->z_label && *c->z_label) {
        putf(&w, "<text class=\"axis-name\" x=\"%.1f\" y=\"%.1f\">", sx, top + 8);
        put_esc(&w, c->z_label);
        put(&w, "</text>");
    }
    for (int k = 0; k < SVG_HEAT_BINS; k++)
        putf(&w, "<rect class=\"cell h%d\" x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\"/>", k, sx,
             r1(sb - (k + 1) * sh), r1(sb - k * sh) - r1(sb - (k + 1) * sh));
    const double marks[3] = {lo, (lo + hi) / 2, hi};
    for (int k = 0; k < 3; k++) {
        fmt_value(a, sizeof a, marks[k]);
        putf(&w, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">", sx + 20, c1(sb - (double)k / 2 * SVG_HEAT_BINS * sh + 4));
        put_esc(&w, a);
        put(&w, "</text>");
    }
    put(&w, "</g></svg>");
    return 0;
}

/* ---- grouped bars ---- */

int svg_bars(const svg_bar_chart *c, svg_sink sink, void *arg)
{
    if (!c || !sink || (c->n && !c->labels) || !series_ok(c->series, c->nseries, c->n))
        return -1;
    svg_w w = {sink, arg};
    int width = c->width > 0 ? c->width : 960, height = c->height > 0 ? c->height : 320;
    open_svg(&w, width, height, "chart-bars", c->title);
    ymap ym;
    if (value_frame(&w, c->series, c->nseries, c->n, 1, width, height, c->y_suffix, &ym) != 0) {
        empty_plot(&w, width, height, c->empty_text);
        return 0;
    }
    const double x0 = SVG_VALUE_X0, x1 = width - 16.0;
    double base = ymap_at(&ym, 0);
    putf(&w, "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, c1(base), x1, c1(base));
    const double slot = (x1 - x0) / (double)c->n, bw = slot * 0.8 / (double)(c->nseries ? c->nseries : 1);
    size_t every = (c->n + 11) / 12;
    put(&w, "<g class=\"series\">");
    for (size_t i = 0; i < c->n; i++) {
        double gx = x0 + (double)i * slot + slot * 0.1;
        if (i % every == 0) {
            putf(&w, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", c1(x0 + ((double)i + 0.5) * slot),
                 height - 6.0);
            put_esc(&w, c->labels[i] ? c->labels[i] : "");
            put(&w, "</text>");
        }
        for (size_t k = 0; k < c->nseries; k++) {
            const svg_series *s = &c->series[k];
            double v = s->y[i];
            if (!isfinite(v))
                continue;
            double y = ymap_at(&ym, v);
            put(&w, "<rect class=\"bar");
            put_cls(&w, s->cls);
            putf(&w, "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>", c1(gx + (double)k * bw),
                 c1(y < base ? y : base), bw, c1(fabs(base - y)));
            put_esc(&w, c->labels[i] ? c->labels[i] : "");
            if (s->label) {
                put(&w, " · ");
                put_esc(&w, s->label);
            }
            char t[64];
            fmt_value(t, sizeof t, v);
            put(&w, ": ");
            put_esc(&w, t);
            if (c->y_suffix)
                put_esc(&w, c->y_suffix);
            put(&w, "</title></rect>");
        }
    }
    put(&w, "</g>");
    const svg_series *groups[1] = {c->series};
    size_t counts[1] = {c->nseries};
    legend(&w, x0, 15, groups, counts, 1);
    put(&w, "</svg>");
    return 0;
}
