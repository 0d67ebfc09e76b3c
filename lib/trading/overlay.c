/* overlay.c — parsing of chart indicator specs and their computation through the batch
 * indicators, so a chart shows exactly what the engine computes. */
#include "overlay.h"
#include "indicators.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVERLAY_TOKEN_MAX 32

static void ovl_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ovl_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A whole number in lo..hi written with plain digits (no sign, no leading zero). */
static int ovl_int(const char *s, int lo, int hi, int *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 6 || strspn(s, "0123456789") != n || (n > 1 && s[0] == '0'))
        return -1;
    long v = strtol(s, NULL, 10);
    if (v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* digits[.digits], in (0, 10]. */
static int ovl_k(const char *s, double *out)
{
    size_t n = strlen(s), int_part = strspn(s, "0123456789");
    if (n == 0 || n > 8 || int_part == 0)
        return -1;
    size_t frac = int_part < n ? n - int_part - 1 : 0;
    if (int_part < n && (s[int_part] != '.' || frac == 0 || strspn(s + int_part + 1, "0123456789") != frac))
        return -1;
    double v = strtod(s, NULL);
    if (!(v > 0 && v <= 10))
        return -1;
    *out = v;
    return 0;
}

/* Splits "name:a:b:c" in place; returns the number of parts (at most 4), -1 beyond. */
static int ovl_split(char *tok, char **parts)
{
    int np = 0;
    for (char *p = tok;;) {
        if (np == 4)
            return -1;
        parts[np++] = p;
        char *c = strchr(p, ':');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return np;
}

/* One token of either kind into *o; panel selects which names are allowed. */
static int ovl_parse_one(const char *text, int panel, overlay *o, char *err, size_t errlen)
{
    size_t len = strlen(text);
    if (len == 0 || len > OVERLAY_TOKEN_MAX || strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789:.") != len) {
        ovl_err(err, errlen, "%s: use lower-case names and numbers such as %s", panel ? "panel" : "overlay",
                panel ? "rsi:14, macd or volume" : "sma:20, ema:50, bb:20:2 or vwap");
        return -1;
    }
    char tok[OVERLAY_TOKEN_MAX + 1];
    memcpy(tok, text, len + 1);
    char *parts[4];
    int np = ovl_split(tok, parts);
    memset(o, 0, sizeof *o);
    const char *name = parts[0];
    if (np < 0)
        goto bad_shape;
    if (!panel && (!strcmp(name, "sma") || !strcmp(name, "ema") || !strcmp(name, "wma"))) {
        o->kind = name[0] == 's' ? OVL_SMA : name[0] == 'e' ? OVL_EMA : OVL_WMA;
        if (np != 2 || ovl_int(parts[1], 1, IND_MAX_PERIOD, &o->p[0]) != 0)
            goto bad_period;
        snprintf(o->id, sizeof o->id, "%s:%d", name, o->p[0]);
        return 0;
    }
    if (!panel && !strcmp(name, "bb")) {
        o->kind = OVL_BB;
        o->k = 2;
        if (np < 2 || np > 3 || ovl_int(parts[1], 1, IND_MAX_PERIOD, &o->p[0]) != 0)
            goto bad_period;
        if (np == 3 && ovl_k(parts[2], &o->k) != 0) {
            ovl_err(err, errlen, "overlay %s: the band width must be a number above 0 and at most 10", text);
            return -1;
        }
        snprintf(o->id, sizeof o->id, "bb:%d:%g", o->p[0], o->k);
        return 0;
    }
    if (!panel && !strcmp(name, "vwap")) {
        o->kind = OVL_VWAP;
        if (np != 1)
            goto bad_shape;
        snprintf(o->id, sizeof o->id, "vwap");
        return 0;
    }
    if (panel && !strcmp(name, "rsi")) {
        o->kind = OVL_RSI;
        o->p[0] = 14;
        if (np > 2 || (np == 2 && ovl_int(parts[1], 1, IND_MAX_PERIOD, &o->p[0]) != 0))
            goto bad_period;
        snprintf(o->id, sizeof o->id, "rsi:%d", o->p[0]);
        return 0;
    }
    if (panel && !strcmp(name, "macd")) {
        o->kind = OVL_MACD;
        o->p[0] = 12;
        o->p[1] = 26;
        o->p[2] = 9;
        if (np != 1 && (np != 4 || ovl_int(parts[1], 1, IND_MAX_PERIOD, &o->p[0]) != 0 ||
                        ovl_int(parts[2], 1, IND_MAX_PERIOD, &o->p[1]) != 0 ||
                        ovl_int(parts[3], 1, IND_MAX_PERIOD, &o->p[2]) != 0 || o->p[0] >= o->p[1])) {
            ovl_err(err, errlen, "panel %s: write macd or macd:FAST:SLOW:SIGNAL with FAST < SLOW, each 1..%d", text,
                    IND_MAX_PERIOD);
            return -1;
        }
        snprintf(o->id, sizeof o->id, "macd:%d:%d:%d", o->p[0], o->p[1], o->p[2]);
        return 0;
    }
    if (panel && !strcmp(name, "volume")) {
        o->kind = OVL_VOLUME;
        if (np != 1)
            goto bad_shape;
        snprintf(o->id, sizeof o->id, "volume");
        return 0;
    }
    ovl_err(err, errlen, "%s %s: unknown indicator (%s)", panel ? "panel" : "overlay", text,
            panel ? "rsi, macd or volume" : "sma, ema, wma, bb or vwap");
    return -1;
bad_period:
    ovl_err(err, errlen, "%s %s: the period must be a whole number from 1 to %d", panel ? "panel" : "overlay", text,
            IND_MAX_PERIOD);
    return -1;
bad_shape:
    ovl_err(err, errlen, "%s %s: unexpected parameters", panel ? "panel" : "overlay", text);
    return -1;
}

int overlay_parse_list(const char *s, overlay *out, size_t max, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    if (!s || !*s)
        return 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (*n >= max) {
            ovl_err(err, errlen, "at most %zu overlays", max);
            return -1;
        }
        char tok[OVERLAY_TOKEN_MAX + 1];
        if (len > OVERLAY_TOKEN_MAX) {
            ovl_err(err, errlen, "overlay %zu is too long", *n + 1);
            return -1;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        if (ovl_parse_one(tok, 0, &out[*n], err, errlen) != 0)
            return -1;
        (*n)++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

int overlay_parse_panel(const char *s, overlay *out, int *has, char *err, size_t errlen)
{
    *has = 0;
    if (!s || !*s || !strcmp(s, "none"))
        return 0;
    if (ovl_parse_one(s, 1, out, err, errlen) != 0)
        return -1;
    *has = 1;
    return 0;
}

size_t overlay_warmup(const overlay *o)
{
    switch (o->kind) {
    case OVL_SMA:
    case OVL_WMA:
    case OVL_BB: return (size_t)o->p[0] - 1;
    case OVL_EMA: return 5 * (size_t)o->p[0];
    case OVL_RSI: return 10 * (size_t)o->p[0] + 1;
    case OVL_MACD: return 5 * (size_t)o->p[1] + 5 * (size_t)o->p[2];
    case OVL_VWAP:
    case OVL_VOLUME: return 0;
    }
    return 0;
}

int overlay_nseries(const overlay *o)
{
    return o->kind == OVL_BB || o->kind == OVL_MACD ? 3 : 1;
}

const char *overlay_series_name(const overlay *o, int i)
{
    static const char *bb[] = {"lower", "middle", "upper"}, *macd[] = {"macd", "signal", "hist"};
    switch (o->kind) {
    case OVL_SMA: return "sma";
    case OVL_EMA: return "ema";
    case OVL_WMA: return "wma";
    case OVL_VWAP: return "vwap";
    case OVL_RSI: return "rsi";
    case OVL_VOLUME: return "volume";
    case OVL_BB: return i >= 0 && i < 3 ? bb[i] : NULL;
    case OVL_MACD: return i >= 0 && i < 3 ? macd[i] : NULL;
    }
    return NULL;
}

void overlay_columns(const candle *c, size_t n, overlay_cols *cols)
{
    for (size_t i = 0; i < n; i++) {
        cols->high[i] = c[i].high;
        cols->low[i] = c[i].low;
        cols->close[i] = c[i].close;
        cols->volume[i] = c[i].volume;
    }
    cols->n = n;
}

int overlay_compute(const overlay *o, const overlay_cols *cols, size_t anchor, double *const *out)
{
    size_t n = cols->n;
    switch (o->kind) {
    case OVL_SMA: return ind_sma_batch(cols->close, n, o->p[0], out[0]);
    case OVL_EMA: return ind_ema_batch(cols->close, n, o->p[0], out[0]);
    case OVL_WMA: return ind_wma_batch(cols->close, n, o->p[0], out[0]);
    case OVL_BB: return ind_bbands_batch(cols->close, n, o->p[0], o->k, out[0], out[1], out[2]);
    case OVL_RSI: return ind_rsi_batch(cols->close, n, o->p[0], out[0]);
    case OVL_MACD: return ind_macd_batch(cols->close, n, o->p[0], o->p[1], o->p[2], out[0], out[1], out[2]);
    case OVL_VOLUME:
        if (n)
            memcpy(out[0], cols->volume, n * sizeof(double));
        return 0;
    case OVL_VWAP: {
        if (anchor > n)
            anchor = n;
        for (size_t i = 0; i < anchor; i++)
            out[0][i] = NAN;
        return ind_vwap_batch(cols->high + anchor, cols->low + anchor, cols->close + anchor, cols->volume + anchor,
                              n - anchor, out[0] + anchor);
    }
    }
    return -1;
}
