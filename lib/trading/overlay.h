/* overlay.h — chart indicator specs ("sma:20", "bb:20:2", "macd:12:26:9"): strict parsing, the
 * warm-up each needs, and their series computed over candles with the batch indicators. */
#ifndef BCF_TRADING_OVERLAY_H
#define BCF_TRADING_OVERLAY_H
#include "candles.h"
#include <stddef.h>

typedef enum overlay_kind {
    OVL_SMA,    /* on the price scale */
    OVL_EMA,
    OVL_WMA,
    OVL_BB,
    OVL_VWAP,
    OVL_RSI,    /* lower panel */
    OVL_MACD,
    OVL_VOLUME,
} overlay_kind;

#define OVERLAY_MAX 6         /* price overlays on one chart */
#define OVERLAY_MAX_SERIES 3  /* series one indicator yields (Bollinger, MACD) */

typedef struct overlay {
    overlay_kind kind;
    int p[3];      /* sma/ema/wma/bb/rsi: p[0] = period; macd: fast, slow, signal */
    double k;      /* Bollinger: band width in standard deviations */
    char id[40];   /* canonical spelling: "sma:20", "bb:20:2", "macd:12:26:9", "vwap" */
} overlay;

/* Parses a comma-separated list of price overlays: sma:N, ema:N, wma:N, bb:N[:K] (K in (0, 10],
 * default 2), vwap; N in 1..IND_MAX_PERIOD. NULL or "" is an empty list. Returns 0 with *n
 * filled, or -1 with a reason in err (more than max entries, unknown name, bad number). */
int overlay_parse_list(const char *s, overlay *out, size_t max, size_t *n, char *err, size_t errlen);

/* Parses the panel: rsi[:N] (default 14), macd[:F:S:G] (default 12:26:9, F < S), volume, or
 * NULL/""/"none" for no panel (*has = 0). Returns 0, or -1 with a reason in err. */
int overlay_parse_panel(const char *s, overlay *out, int *has, char *err, size_t errlen);

/* Candles needed before the first drawn one for its value to be right: period-1 for the windowed
 * ones (SMA, WMA, Bollinger); for the recursive ones enough that the seed's weight is below
 * 0.01% (EMA 5n, RSI 10n+1, MACD 5·slow + 5·signal); 0 for VWAP and volume. */
size_t overlay_warmup(const overlay *o);

/* How many series the indicator yields, and the name of series i: "sma"/"ema"/"wma"/"vwap"/
 * "rsi"/"volume"; "lower", "middle", "upper" (bb); "macd", "signal", "hist" (macd). */
int overlay_nseries(const overlay *o);
const char *overlay_series_name(const overlay *o, int i);

/* Column views of a candle array, filled by overlay_columns (each n doubles, caller-owned). */
typedef struct overlay_cols {
    double *high, *low, *close, *volume;
    size_t n;
} overlay_cols;
void overlay_columns(const candle *c, size_t n, overlay_cols *cols);

/* Fills out[0..overlay_nseries) (n doubles each) over the n candles of cols. VWAP is anchored at
 * index `anchor` (the first drawn candle): NaN before it, cumulative from it. Warm-up
 * positions are NaN. Returns 0, or -1 for invalid parameters. */
int overlay_compute(const overlay *o, const overlay_cols *cols, size_t anchor, double *const *out);
#endif
