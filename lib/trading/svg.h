/* svg.h — server-side charts as SVG text: candlesticks with overlays and a lower panel, time-series
 * lines (equity, drawdown), grouped bars and heatmaps. Pure: output goes through a sink. */
#ifndef BCF_TRADING_SVG_H
#define BCF_TRADING_SVG_H
#include "candles.h"
#include <stddef.h>
#include <stdint.h>

/*
 * Conventions:
 *  - Output is one <svg> element with a viewBox and no width/height, so CSS sizes it. Colours
 *    come from CSS classes (the portal's CSP has no 'unsafe-inline' for styles, so there is no
 *    style= attribute anywhere); only geometry and fill="none" on lines are attributes.
 *  - Every text (title, legend labels, empty text) is XML-escaped; bytes below 0x20 are dropped.
 *    CSS class names are restricted to [a-z0-9_-] (anything else is left out).
 *  - NaN values are gaps (indicator warm-up): a line is broken there, a bar is not drawn.
 *  - Deterministic: the same input gives the same bytes (fixed number formats, "C" locale
 *    assumed, no clock, no randomness).
 *  - Functions return 0, or -1 for invalid arguments (NULL sink, n > 0 with NULL arrays); the
 *    sink's own failures are the caller's to track (lib/buf.h buffers keep a sticky oom flag).
 */

/* Receives consecutive pieces of the document. buf_append (lib/buf.h) wrapped in a function
 * with this signature is the usual sink. */
typedef void (*svg_sink)(void *arg, const char *data, size_t len);

enum svg_style {
    SVG_LINE = 0, /* polyline through the values */
    SVG_AREA = 1, /* line plus the area between it and the baseline (zero when in range, else the bottom) */
    SVG_BARS = 2, /* one bar per point from the baseline; class "pos" or "neg" added by sign */
};

/* One series of n values (n is the chart's candle or point count). */
typedef struct svg_series {
    const char *label;    /* legend text (NULL = not in the legend) */
    const char *cls;      /* CSS class added to the series' elements, e.g. "s-sma" */
    const double *y;      /* n values; NaN = gap */
    int style;            /* enum svg_style */
    int by_candle;        /* bars of a candle chart: class "up"/"down" from the candle at the same index */
} svg_series;

/* The panel under a candlestick chart (RSI, MACD, volume). */
typedef struct svg_panel {
    const char *label;         /* shown at the panel's top left (NULL = none) */
    const svg_series *series;
    size_t nseries;
    double lo, hi;             /* fixed value range when lo < hi (RSI: 0..100), else taken from the data */
    const double *guides;      /* horizontal guide lines at these values (RSI 30/70, MACD 0) */
    size_t nguides;
} svg_panel;

typedef struct svg_candle_chart {
    const candle *candles;     /* in time order */
    size_t n;
    const svg_series *overlays; /* drawn on the price scale, each with n values */
    size_t noverlays;
    const svg_panel *panel;    /* NULL = no lower panel */
    int64_t tf_ms;             /* candle length: chooses the time label format (0 = from the data) */
    int width, height;         /* viewBox size; 0 = 960 x 440 */
    const char *title;         /* <title> and aria-label (NULL = none) */
    const char *empty_text;    /* written in the plot when n == 0 (NULL = nothing) */
} svg_candle_chart;

/* Candlestick chart: per candle one <line class="wick up|down"> and one <rect class="body up|down">
 * (up when close >= open), inside <g class="candles">; overlays as <path class="overlay CLS">;
 * a right-hand price axis with "nice" ticks (1, 2, 2.5, 5 × 10^k), time labels along the bottom
 * (UTC), a legend, and the panel when given. The price range covers the candles and the overlays. */
int svg_candles(const svg_candle_chart *c, svg_sink sink, void *arg);

typedef struct svg_line_chart {
    const int64_t *x;          /* n epoch-ms times, non-decreasing (spacing may vary) */
    size_t n;
    const svg_series *series;  /* each with n values */
    size_t nseries;
    int zero_line;             /* draw y = 0 (and keep 0 inside the value range) */
    int width, height;         /* viewBox size; 0 = 960 x 320 */
    const char *title;
    const char *empty_text;
    const char *y_suffix;      /* appended to axis labels, e.g. "%" (NULL = none; escaped) */
} svg_line_chart;

/* Line/area chart over time: x scaled by time, a left-hand value axis with nice ticks, time
 * labels, a legend, an optional zero line. Series are drawn in order (areas first is the
 * caller's choice). */
int svg_lines(const svg_line_chart *c, svg_sink sink, void *arg);

/* The colour bins of a heatmap: cells get class "cell h0" (lowest) .. "cell h9" (highest), or
 * "cell hn" when they hold no value. */
#define SVG_HEAT_BINS 10
/* Cells up to this count carry their own <title> (the value under the pointer and for screen
 * readers); larger maps leave them out to keep the page small. */
#define SVG_HEAT_TITLED_MAX 2500

typedef struct svg_heatmap_chart {
    const double *xs;          /* nx column values, left to right */
    size_t nx;
    const double *ys;          /* ny row values, bottom to top */
    size_t ny;
    const double *z;           /* ny rows of nx values: z[y * nx + x]; NaN = no value */
    const char *x_label, *y_label; /* the axes' names (NULL = none) */
    const char *z_label;       /* what the colour means, above the scale (NULL = none) */
    int width, height;         /* viewBox size; 0 = 960 x 480 */
    const char *title;
    const char *empty_text;    /* written when no cell holds a value */
} svg_heatmap_chart;

/* Heatmap of a two-dimensional grid: one <rect class="cell hK"> per cell, the colour bin K from
 * the value's place between the smallest and the largest value (equal bins of the range), the
 * column and row values along the axes (at most about ten labels each), the axes' names, and a
 * colour scale on the right labelled with the range's ends and middle. */
int svg_heatmap(const svg_heatmap_chart *c, svg_sink sink, void *arg);

typedef struct svg_bar_chart {
    const char *const *labels; /* n group labels under the bars */
    size_t n;
    const svg_series *series;  /* each with n values, side by side in each group (style unused) */
    size_t nseries;
    int width, height;         /* viewBox size; 0 = 960 x 320 */
    const char *title;
    const char *empty_text;
    const char *y_suffix;
} svg_bar_chart;

/* Grouped bars from zero: per group one <rect class="bar CLS"> per series, each with a <title>
 * "group · series: value"; a value axis on the left, a zero line, group labels, a legend. */
int svg_bars(const svg_bar_chart *c, svg_sink sink, void *arg);

/* "Nice" axis ticks covering [lo, hi] with about `want` steps: *first is the first tick >= lo,
 * *step the spacing, *count the number of ticks (at most 32); *decimals the digits after the
 * point that label them without noise. Returns 0, or -1 when lo/hi are not finite or lo > hi. */
int svg_nice_ticks(double lo, double hi, int want, double *first, double *step, int *count, int *decimals);

/* Writes s XML-escaped (& < > " ' as entities, bytes below 0x20 dropped). */
void svg_escape(const char *s, svg_sink sink, void *arg);

/* UTC calendar date and time of epoch milliseconds (ms may be negative). */
void svg_civil(int64_t ms, int *year, int *month, int *day, int *hour, int *minute);
#endif
