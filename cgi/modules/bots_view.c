/* bots_view.c — display helpers of the bot pages: UTC times, open positions read off the trade
 * list, and the realised-profit chart (lib/trading/svg.h). */
#include "bots_view.h"
#include "buf.h"
#include "svg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *bots_time_text(arena *a, int64_t ms)
{
    int y, mo, d, h, mi;
    svg_civil(ms, &y, &mo, &d, &h, &mi);
    return arena_printf(a, "%04d-%02d-%02d %02d:%02d UTC", y, mo, d, h, mi);
}

void bots_open_positions(const json_t *trades, json_t *open)
{
    /* trades are newest first, so a trade's close is met before its buys; grid bots hold several
     * trades of one symbol at once, hence the match on the engine's trade id, not the symbol */
    json_t *closed = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(trades, i, t)
    {
        const char *kind = json_string_value(json_object_get(t, "kind"));
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(json_object_get(t, "trade_id")));
        if (!kind)
            continue;
        if (!strcmp(kind, "close"))
            json_object_set_new(closed, key, json_true());
        else if (!json_object_get(closed, key))
            json_array_insert(open, 0, t); /* oldest first */
    }
    json_decref(closed);
}

void bots_svg_sink(void *arg, const char *data, size_t len)
{
    buf_append(arg, data, len);
}

char *bots_pnl_svg(arena *a, const json_t *trades, double initial_balance)
{
    size_t n = 0, i;
    json_t *t;
    json_array_foreach(trades, i, t) n += !strcmp(json_string_value(json_object_get(t, "kind")) ?: "", "close");
    if (!n)
        return NULL;
    int64_t *x = arena_alloc(a, (n + 1) * sizeof *x);
    double *y = arena_alloc(a, (n + 1) * sizeof *y);
    if (!x || !y)
        return NULL;
    /* oldest close first, the curve starting at zero just before it */
    size_t k = n;
    double sum = 0;
    for (size_t j = json_array_size(trades); j-- > 0;) {
        t = json_array_get(trades, j);
        if (strcmp(json_string_value(json_object_get(t, "kind")) ?: "", "close"))
            continue;
        sum += json_number_value(json_object_get(t, "pnl"));
        size_t at = n - --k;
        x[at] = json_integer_value(json_object_get(t, "time_ms"));
        y[at] = sum / initial_balance * 100.0;
    }
    x[0] = x[1];
    y[0] = 0;
    svg_series s = {NULL, "s-equity", y, SVG_AREA, 0};
    svg_line_chart c = {x, n + 1, &s, 1, 1, 0, 240, NULL, NULL, "%"};
    buf b = {0};
    svg_lines(&c, bots_svg_sink, &b);
    char *out = b.data ? arena_strndup(a, b.data, b.len) : NULL;
    buf_free(&b);
    return out;
}
