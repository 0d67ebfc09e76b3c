/* bots_view.h — what the bot pages compute for display: times as text, the open positions from
 * the trade list, and the cumulative profit curve as an inline SVG chart. */
#ifndef BCF_BOTS_VIEW_H
#define BCF_BOTS_VIEW_H
#include <jansson.h>
#include <stdint.h>
#include "arena.h"

/* "2024-01-02 03:04 UTC" for epoch ms. */
const char *bots_time_text(arena *a, int64_t ms);
/* From trades (newest first, as the page lists them: kind open/add/close, trade_id), appends to
 * open, oldest first, the opens and adds of every trade id that has no close yet. */
void bots_open_positions(const json_t *trades, json_t *open);
/* The realised profit over time from the closes in trades (newest first), as an SVG line chart
 * starting at 0; NULL when there is no close. */
char *bots_pnl_svg(arena *a, const json_t *trades, double initial_balance);
/* An svg_sink writing into a lib/buf.h buffer. */
void bots_svg_sink(void *arg, const char *data, size_t len);
#endif
