/* trading_form.h — the strategy part of the bot and backtest forms, built from the engine's
 * parameter specs: the inputs to show, and the submitted fields (or JSON) read into a config. */
#ifndef BCF_TRADING_FORM_H
#define BCF_TRADING_FORM_H
#include <jansson.h>
#include <stddef.h>
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
/* The strategy's name in the request's language ("" for an unknown key). */
const char *tform_strategy_label(request *req, const char *key);
#endif
