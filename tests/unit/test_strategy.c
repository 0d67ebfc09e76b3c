/* test_strategy.c — unit tests of lib/trading/strategy.c and strategy_json.c: the parameter tables
 * (and their labels in both languages), defaults, JSON round trips, one error per rule naming its field. */
#include "engine.h"
#include "strategy.h"
#include "unit.h"
#include <ClearSilver.h>
#include <jansson.h>
#include <math.h>

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "bad test JSON: %s (%s)", text, e.text);
    return j;
}

/* from_json must fail with an error that starts with `field` and mentions `part`, and leave the
 * output untouched. */
static void expect_error(const char *text, const char *field, const char *part)
{
    engine_config c;
    memset(&c, 0xab, sizeof c);
    engine_config before = c;
    char err[256] = "";
    json_t *j = parse(text);
    ck_assert_msg(engine_config_from_json(&c, j, err, sizeof err) == -1, "accepted: %s", text);
    json_decref(j);
    ck_assert_msg(strncmp(err, field, strlen(field)) == 0, "for %s: error '%s' does not start with '%s'", text, err,
                  field);
    ck_assert_msg(strstr(err, part) != NULL, "for %s: error '%s' lacks '%s'", text, err, part);
    ck_assert_msg(memcmp(&c, &before, sizeof c) == 0, "output changed on error for %s", text);
}

START_TEST(test_tables)
{
    int seen = 0;
    for (int k = 0; k < STRATEGY_KIND_COUNT; k++) {
        const strategy_info *info = strategy_get(k);
        ck_assert_ptr_nonnull(info);
        ck_assert_int_le(info->nparams, STRATEGY_MAX_PARAMS);
        ck_assert_int_ge(info->nparams, 2);
        int kind;
        ck_assert_int_eq(strategy_kind_parse(info->name, &kind), 0);
        ck_assert_int_eq(kind, k);
        ck_assert_msg(strncmp(info->label_key, "strategy.kind.", 14) == 0, "%s", info->label_key);
        for (int i = 0; i < info->nparams; i++) {
            const param_spec *p = &info->params[i];
            ck_assert_msg(p->min <= p->def && p->def <= p->max, "%s.%s default outside its range", info->name,
                          p->name);
            ck_assert_msg(strncmp(p->label_key, "strategy.param.", 15) == 0 && strcmp(p->label_key + 15, p->name) == 0,
                          "%s.%s label key %s", info->name, p->name, p->label_key);
            if (p->type == PARAM_BOOL)
                ck_assert(p->min == 0 && p->max == 1);
            if (p->type == PARAM_INT)
                ck_assert(p->def == floor(p->def));
            seen |= 1 << p->type;
        }
        engine_config c;
        ck_assert_int_eq(engine_config_defaults(&c, k), 0);
        char err[160];
        ck_assert_msg(engine_config_check(&c, err, sizeof err) == 0, "defaults of %s invalid: %s", info->name, err);
    }
    ck_assert_int_eq(seen, 7); /* int, double and bool parameters all exist */
    ck_assert_ptr_null(strategy_get(-1));
    ck_assert_ptr_null(strategy_get(STRATEGY_KIND_COUNT));
    int kind;
    ck_assert_int_eq(strategy_kind_parse("martingale", &kind), -1);
    ck_assert_int_eq(strategy_kind_parse(NULL, &kind), -1);
    engine_config c;
    ck_assert_int_eq(engine_config_defaults(&c, 99), -1);
    /* grid defaults: one trade per level, equity split between them */
    engine_config_defaults(&c, STRATEGY_GRID);
    ck_assert_int_eq(c.risk.max_open_trades, 10);
    ck_assert(c.risk.stake_pct == 10);
    ck_assert_str_eq(strategy_timeframe_name(14400000), "4h");
    ck_assert_ptr_null(strategy_timeframe_name(7200000));
}
END_TEST

/* Every field set to a non-default value, read, written, read again: equal structs, equal JSON. */
START_TEST(test_round_trip)
{
    const char *texts[] = {
        "{\"strategy\":\"sma_cross\",\"timeframe\":\"15m\",\"params\":{\"fast\":7,\"slow\":50},"
        "\"risk\":{\"stop_loss_pct\":3.5,\"take_profit_pct\":12.25,\"trailing_stop_pct\":2,\"trailing_offset_pct\":1.5,"
        "\"stake_pct\":33.3,\"max_open_trades\":3,\"cooldown_candles\":4,"
        "\"roi\":[{\"minutes\":0,\"profit_pct\":10},{\"minutes\":60,\"profit_pct\":4.5},{\"minutes\":240,\"profit_pct\":0}]},"
        "\"costs\":{\"fee_bps\":7.5,\"slippage_bps\":2}}",
        "{\"strategy\":\"ema_cross\",\"params\":{\"fast\":5,\"slow\":21}}",
        "{\"strategy\":\"rsi_reversion\",\"timeframe\":\"1d\",\"params\":{\"period\":9,\"oversold\":25.5,\"overbought\":80}}",
        "{\"strategy\":\"bollinger_breakout\",\"params\":{\"period\":30,\"k\":2.5,\"exit_on_middle\":false}}",
        "{\"strategy\":\"macd_trend\",\"timeframe\":\"5m\",\"params\":{\"fast\":8,\"slow\":17,\"signal\":9,\"above_zero\":true}}",
        "{\"strategy\":\"grid\",\"params\":{\"levels\":5,\"spacing_pct\":0.75,\"reference\":42000.5}}",
        "{\"strategy\":\"dca\",\"timeframe\":\"4h\",\"params\":{\"interval\":6,\"max_buys\":20,\"safety_orders\":2,"
        "\"safety_step_pct\":3,\"take_profit_pct\":1.5},\"risk\":{\"stake_pct\":5}}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        engine_config a, b;
        char err[200];
        json_t *j = parse(texts[i]);
        ck_assert_msg(engine_config_from_json(&a, j, err, sizeof err) == 0, "%s: %s", texts[i], err);
        json_decref(j);
        json_t *out = engine_config_to_json(&a);
        ck_assert_ptr_nonnull(out);
        char *s1 = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
        json_t *again = parse(s1);
        ck_assert_msg(engine_config_from_json(&b, again, err, sizeof err) == 0, "%s: %s", s1, err);
        ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "round trip differs for %s", s1);
        json_t *out2 = engine_config_to_json(&b);
        char *s2 = json_dumps(out2, JSON_SORT_KEYS | JSON_COMPACT);
        ck_assert_str_eq(s1, s2);
        free(s1);
        free(s2);
        json_decref(out);
        json_decref(out2);
        json_decref(again);
    }
    /* the first text's values landed where they belong */
    engine_config c;
    json_t *j = parse(texts[0]);
    ck_assert_int_eq(engine_config_from_json(&c, j, NULL, 0), 0);
    json_decref(j);
    ck_assert_int_eq(c.kind, STRATEGY_SMA_CROSS);
    ck_assert_int_eq(c.timeframe_ms, 900000);
    ck_assert(c.params[STRAT_CROSS_FAST] == 7 && c.params[STRAT_CROSS_SLOW] == 50);
    ck_assert(c.risk.stop_loss_pct == 3.5 && c.risk.take_profit_pct == 12.25 && c.risk.trailing_stop_pct == 2 &&
              c.risk.trailing_offset_pct == 1.5 && c.risk.stake_pct == 33.3);
    ck_assert(c.risk.max_open_trades == 3 && c.risk.cooldown_candles == 4 && c.risk.roi_count == 3);
    ck_assert(c.risk.roi[1].minutes == 60 && c.risk.roi[1].profit_pct == 4.5);
    ck_assert(c.costs.fee_bps == 7.5 && c.costs.slippage_bps == 2);
    /* a minimal config takes the defaults; grid's follow its levels */
    j = parse("{\"strategy\":\"grid\",\"params\":{\"levels\":4}}");
    ck_assert_int_eq(engine_config_from_json(&c, j, NULL, 0), 0);
    json_decref(j);
    ck_assert_int_eq(c.risk.max_open_trades, 4);
    ck_assert(c.risk.stake_pct == 25);
    ck_assert(c.costs.fee_bps == 10 && c.costs.slippage_bps == 5 && c.timeframe_ms == 3600000);
    /* an integral real is accepted for an int field */
    j = parse("{\"strategy\":\"sma_cross\",\"params\":{\"fast\":5.0}}");
    ck_assert_int_eq(engine_config_from_json(&c, j, NULL, 0), 0);
    json_decref(j);
    ck_assert(c.params[STRAT_CROSS_FAST] == 5);
}
END_TEST

START_TEST(test_errors)
{
    expect_error("[]", "config", "object");
    expect_error("{}", "strategy", "required");
    expect_error("{\"strategy\":\"martingale\"}", "strategy", "must be one of");
    expect_error("{\"strategy\":7}", "strategy", "must be one of");
    expect_error("{\"strategy\":\"sma_cross\",\"leverage\":10}", "leverage", "unknown field");
    expect_error("{\"strategy\":\"sma_cross\",\"timeframe\":\"2h\"}", "timeframe", "must be one of");
    expect_error("{\"strategy\":\"sma_cross\",\"params\":[]}", "params", "object");
    expect_error("{\"strategy\":\"sma_cross\",\"params\":{\"period\":3}}", "params.period", "unknown parameter");
    expect_error("{\"strategy\":\"sma_cross\",\"params\":{\"fast\":\"10\"}}", "params.fast", "whole number");
    expect_error("{\"strategy\":\"sma_cross\",\"params\":{\"fast\":2.5}}", "params.fast", "whole number");
    expect_error("{\"strategy\":\"sma_cross\",\"params\":{\"fast\":0}}", "params.fast", "between 1 and 511");
    expect_error("{\"strategy\":\"sma_cross\",\"params\":{\"slow\":513}}", "params.slow", "between 2 and 512");
    expect_error("{\"strategy\":\"sma_cross\",\"params\":{\"fast\":30,\"slow\":30}}", "params.slow", "greater than");
    expect_error("{\"strategy\":\"macd_trend\",\"params\":{\"fast\":26,\"slow\":12}}", "params.slow", "greater than");
    expect_error("{\"strategy\":\"rsi_reversion\",\"params\":{\"oversold\":50,\"overbought\":50}}",
                 "params.overbought", "greater than");
    expect_error("{\"strategy\":\"rsi_reversion\",\"params\":{\"oversold\":\"low\"}}", "params.oversold",
                 "must be a number");
    expect_error("{\"strategy\":\"bollinger_breakout\",\"params\":{\"exit_on_middle\":1}}", "params.exit_on_middle",
                 "true or false");
    expect_error("{\"strategy\":\"bollinger_breakout\",\"params\":{\"k\":9}}", "params.k", "between 0.5 and 5");
    expect_error("{\"strategy\":\"grid\",\"params\":{\"levels\":33}}", "params.levels", "between 1 and 32");
    expect_error("{\"strategy\":\"grid\",\"params\":{\"levels\":20,\"spacing_pct\":5}}", "params.spacing_pct",
                 "below 100");
    expect_error("{\"strategy\":\"dca\",\"params\":{\"safety_orders\":10,\"safety_step_pct\":10}}",
                 "params.safety_step_pct", "below 100");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":3}", "risk", "object");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"stoploss\":3}}", "risk.stoploss", "unknown field");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"stop_loss_pct\":100}}", "risk.stop_loss_pct", "between");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"stop_loss_pct\":-1}}", "risk.stop_loss_pct", "between");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"take_profit_pct\":null}}", "risk.take_profit_pct",
                 "must be a number");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"trailing_stop_pct\":true}}", "risk.trailing_stop_pct",
                 "must be a number");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"trailing_offset_pct\":1e9}}", "risk.trailing_offset_pct",
                 "between");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"stake_pct\":0}}", "risk.stake_pct", "between 0.01 and 100");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"stake_pct\":100.5}}", "risk.stake_pct", "between");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"max_open_trades\":0}}", "risk.max_open_trades",
                 "between 1 and 64");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"max_open_trades\":1e30}}", "risk.max_open_trades", "between");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"cooldown_candles\":-2}}", "risk.cooldown_candles",
                 "between 0 and 100000");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":{}}}", "risk.roi", "array");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":[1]}}", "risk.roi[0]", "object");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":[{\"minutes\":0}]}}", "risk.roi[0].profit_pct",
                 "required");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":[{\"profit_pct\":1}]}}", "risk.roi[0].minutes",
                 "required");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":[{\"minutes\":0,\"profit_pct\":1,\"x\":1}]}}",
                 "risk.roi[0].x", "unknown field");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":[{\"minutes\":60,\"profit_pct\":2},"
                 "{\"minutes\":30,\"profit_pct\":1}]}}",
                 "risk.roi[1].minutes", "greater than the row before");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":[{\"minutes\":0,\"profit_pct\":-100}]}}",
                 "risk.roi[0].profit_pct", "between");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":[{\"minutes\":1.5,\"profit_pct\":1}]}}",
                 "risk.roi[0].minutes", "whole number");
    expect_error("{\"strategy\":\"sma_cross\",\"risk\":{\"roi\":[{\"minutes\":0,\"profit_pct\":1},{\"minutes\":1,"
                 "\"profit_pct\":1},{\"minutes\":2,\"profit_pct\":1},{\"minutes\":3,\"profit_pct\":1},{\"minutes\":4,"
                 "\"profit_pct\":1},{\"minutes\":5,\"profit_pct\":1},{\"minutes\":6,\"profit_pct\":1},{\"minutes\":7,"
                 "\"profit_pct\":1},{\"minutes\":8,\"profit_pct\":1}]}}",
                 "risk.roi", "at most 8");
    expect_error("{\"strategy\":\"sma_cross\",\"costs\":{\"fee_bps\":1001}}", "costs.fee_bps", "between 0 and 1000");
    expect_error("{\"strategy\":\"sma_cross\",\"costs\":{\"slippage_bps\":-0.5}}", "costs.slippage_bps", "between");
    expect_error("{\"strategy\":\"sma_cross\",\"costs\":{\"spread\":1}}", "costs.spread", "unknown field");
    expect_error("{\"strategy\":\"sma_cross\",\"costs\":\"cheap\"}", "costs", "object");
}
END_TEST

/* engine_config_check on structs built in C: what JSON cannot express (NaN, junk in unused
 * slots) is refused too, and to_json refuses to write an invalid config. */
START_TEST(test_check_struct)
{
    engine_config c;
    char err[160];
    engine_config_defaults(&c, STRATEGY_SMA_CROSS);
    c.params[STRAT_CROSS_FAST] = NAN;
    ck_assert_int_eq(engine_config_check(&c, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, "params.fast", 11) == 0, "%s", err);
    ck_assert_ptr_null(engine_config_to_json(&c));
    engine_config_defaults(&c, STRATEGY_SMA_CROSS);
    c.params[4] = 1;
    ck_assert_int_eq(engine_config_check(&c, err, sizeof err), -1);
    engine_config_defaults(&c, STRATEGY_SMA_CROSS);
    c.risk.roi[5].minutes = 3;
    ck_assert_int_eq(engine_config_check(&c, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "risk.roi[5]") != NULL, "%s", err);
    engine_config_defaults(&c, STRATEGY_SMA_CROSS);
    c.timeframe_ms = 7;
    ck_assert_int_eq(engine_config_check(&c, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, "timeframe", 9) == 0, "%s", err);
    engine_config_defaults(&c, STRATEGY_SMA_CROSS);
    c.kind = 42;
    ck_assert_int_eq(engine_config_check(&c, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, "strategy", 8) == 0, "%s", err);
    engine_config_defaults(&c, STRATEGY_SMA_CROSS);
    c.risk.stake_pct = INFINITY;
    ck_assert_int_eq(engine_config_check(&c, err, sizeof err), -1);
    /* a NULL err buffer is allowed */
    ck_assert_int_eq(engine_config_check(&c, NULL, 0), -1);
}
END_TEST

static void assert_label(HDF *hdf, const char *file, const char *key)
{
    char name[160];
    snprintf(name, sizeof name, "Lang.%s", key);
    const char *v = hdf_get_value(hdf, name, NULL);
    ck_assert_msg(v && *v, "%s has no %s", file, name);
}

/* Every kind, parameter and exit reason has its label in pt-BR and in English, so forms and
 * reports built from the tables never show a bare key. */
START_TEST(test_labels_in_both_languages)
{
    const char *files[] = {"pt-BR.hdf", "en.hdf"};
    for (int f = 0; f < 2; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/templates/lang/%s", unit_srcdir(), files[f]);
        HDF *hdf = NULL;
        NEOERR *err = hdf_init(&hdf);
        ck_assert_msg(err == STATUS_OK, "hdf_init");
        err = hdf_read_file(hdf, path);
        if (err != STATUS_OK) {
            nerr_ignore(&err);
            ck_abort_msg("cannot read %s", path);
        }
        for (int k = 0; k < STRATEGY_KIND_COUNT; k++) {
            const strategy_info *info = strategy_get(k);
            assert_label(hdf, files[f], info->label_key);
            for (int i = 0; i < info->nparams; i++)
                assert_label(hdf, files[f], info->params[i].label_key);
        }
        for (int r = EXIT_SIGNAL; r < EXIT_REASON_COUNT; r++) {
            char key[64];
            snprintf(key, sizeof key, "strategy.exit.%s", exit_reason_name(r));
            assert_label(hdf, files[f], key);
        }
        hdf_destroy(&hdf);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    UNIT_ADD(s, test_tables);
    UNIT_ADD(s, test_round_trip);
    UNIT_ADD(s, test_errors);
    UNIT_ADD(s, test_check_struct);
    UNIT_ADD(s, test_labels_in_both_languages);
    return unit_run(s);
}
