/* trading_form.h — what the trading forms share: the strategy part built from the engine's
 * parameter specs (inputs to show, submitted fields or JSON read into a config) and the markets. */
#ifndef BCF_TRADING_FORM_H
#define BCF_TRADING_FORM_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "request.h"

/* Adds to page data d: "strategies" [{key,label}], "strategy" (the chosen key; NULL picks the
 * config's or the first), "params" and "risk" [{name,label,type,value,min,max,error}] with values
 * from config (an engine config JSON, borrowed, or NULL for the defaults) and messages from errors
 * (borrowed; its "config" member names the refused field). -1 when strategy is not a kind. */
int tform_fill(request *req, json_t *d, const char *strategy, const json_t *config, const json_t *errors);
/* The submitted configuration, validated: from the JSON body's "config" object (API), or from
 * the form's p.<param>, r.<risk> and r.<cost> fields. timeframe ("1h") is the market's. Returns
 * the complete config JSON (engine_config_to_json, every default filled in), or NULL with
 * "field: reason" in err. */
json_t *tform_config(request *req, const char *strategy, const char *timeframe, char *err, size_t errlen);
/* What was typed, shaped like a config (strings as typed), to show a refused form again. */
json_t *tform_submitted(request *req, const char *strategy);
/* Every stored candle series, for a market select: [{exchange, symbol, timeframe, first, last
 * (dates), key "exchange:symbol:timeframe", selected}], selected when its key is one of the
 * strings of selected (borrowed, may be NULL). */
json_t *tform_markets(request *req, const json_t *selected);
/* A market key "exchange:symbol:timeframe" naming a stored candle series: its parts (buffers of
 * 40, 40 and 8 bytes) and the open times of its first and last candle (either may be NULL).
 * 1 when it exists; 0 when malformed, unknown or unreadable. */
int tform_market(request *req, const char *key, char *exchange, char *symbol, char *timeframe, int64_t *first,
                 int64_t *last);
/* The strategy's name in the request's language ("" for an unknown key). */
const char *tform_strategy_label(request *req, const char *key);
#endif
