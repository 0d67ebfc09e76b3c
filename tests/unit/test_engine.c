/* test_engine.c — unit tests of lib/trading/engine.c, engine_state.c and backtest.c: fills at the
 * next open with fee and slippage, every risk control on crafted candles, grid and DCA, no
 * look-ahead, save/load between every step equal to an uninterrupted run, determinism. */
#include "backtest.h"
#include "engine.h"
#include "synth.h"
#include "unit.h"
#include <math.h>

#define H 3600000LL
#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */

static candle mk(int i, double o, double h, double l, double c)
{
    candle x;
    memset(&x, 0, sizeof x);
    x.open_time = T0 + i * H;
    x.open = o;
    x.high = h;
    x.low = l;
    x.close = c;
    x.volume = 10;
    return x;
}

/* Events of a run, and the step index each came from. */
typedef struct evlog {
    trade_event ev[4096];
    int step[4096];
    int n;
} evlog;

static evlog logbuf, logbuf2;

static void feed(engine *e, int sym, const candle *c, int first, int count, evlog *lg)
{
    trade_event ev[ENGINE_MAX_STEP_EVENTS];
    for (int i = first; i < first + count; i++) {
        int n = engine_step(e, sym, &c[i], ev, ENGINE_MAX_STEP_EVENTS);
        ck_assert_msg(n >= 0, "step %d failed: %d", i, n);
        for (int k = 0; k < n; k++) {
            ck_assert_int_lt(lg->n, 4096);
            lg->ev[lg->n] = ev[k];
            lg->step[lg->n++] = i;
        }
    }
}

/* sma_cross 1/2 (fast = the close, slow = the mean of the last two closes), no costs, 100% stake,
 * 10000 of balance. */
static void base_config(engine_config *cfg)
{
    engine_config_defaults(cfg, STRATEGY_SMA_CROSS);
    cfg->params[STRAT_CROSS_FAST] = 1;
    cfg->params[STRAT_CROSS_SLOW] = 2;
    cfg->costs.fee_bps = 0;
    cfg->costs.slippage_bps = 0;
}

/* Three candles after which sma_cross 1/2 says BUY (closes 100, 100, 101): the entry fills at
 * the open of candle 3. */
static void entry_prefix(candle *c)
{
    c[0] = mk(0, 100, 100.5, 99.5, 100);
    c[1] = mk(1, 100, 100.5, 99.5, 100);
    c[2] = mk(2, 100, 101.5, 99.5, 101);
}

/* Runs cfg over c[0..n) on one symbol and returns the events in logbuf. */
static engine eng;
static void run_one(const engine_config *cfg, const candle *c, int n)
{
    memset(&logbuf, 0, sizeof logbuf);
    ck_assert_int_eq(engine_init(&eng, cfg, 1, 10000), 0);
    feed(&eng, 0, c, 0, n, &logbuf);
}

START_TEST(test_fill_next_open_with_costs)
{
    engine_config cfg;
    base_config(&cfg);
    cfg.costs.fee_bps = 10;
    cfg.costs.slippage_bps = 5;
    candle c[6];
    entry_prefix(c);
    c[3] = mk(3, 112, 116, 111, 115);
    c[4] = mk(4, 114, 114.5, 112, 113); /* close below the mean of the last two: SELL */
    c[5] = mk(5, 111, 112, 110, 111.5);
    memset(&logbuf, 0, sizeof logbuf);
    ck_assert_int_eq(engine_init(&eng, &cfg, 1, 10000), 0);
    feed(&eng, 0, c, 0, 3, &logbuf);
    /* decided on candle 2's close, nothing filled yet: the order waits for the next open */
    ck_assert_int_eq(logbuf.n, 0);
    ck_assert_int_eq(eng.sym[0].last_signal, SIG_BUY);
    ck_assert_int_eq(eng.pending_entries, 1);
    ck_assert(eng.cash == 10000);
    feed(&eng, 0, c, 3, 3, &logbuf);
    ck_assert_int_eq(logbuf.n, 2);
    const trade_event *o = &logbuf.ev[0], *x = &logbuf.ev[1];
    /* the buy: candle 3's open + 5 bps, 10 bps of fee inside the 10000 spent */
    double buy_px = 112 * (1.0 + 0.0005);
    double qty = 10000 / (buy_px * (1.0 + 0.001));
    ck_assert_int_eq(o->kind, TEV_OPEN);
    ck_assert_int_eq(o->side, SIDE_BUY);
    ck_assert_int_eq(logbuf.step[0], 3);
    ck_assert_int_eq(o->time, c[3].open_time);
    ck_assert(o->price == buy_px);
    ck_assert(fabs(o->price - 112.056) < 1e-9);
    ck_assert(o->qty == qty);
    ck_assert(o->fee == qty * buy_px * 0.001); /* 10 bps of the notional */
    ck_assert(fabs(qty * buy_px + o->fee - 10000) < 1e-9); /* notional + fee = the 10000 spent */
    /* the sale: decided on candle 4's close, filled at candle 5's open − 5 bps, fee on the gross */
    double sell_px = 111 * (1.0 - 0.0005);
    double gross = qty * sell_px, fee = gross * 0.001, proceeds = gross - fee;
    ck_assert_int_eq(x->kind, TEV_CLOSE);
    ck_assert_int_eq(x->side, SIDE_SELL);
    ck_assert_int_eq(x->reason, EXIT_SIGNAL);
    ck_assert_int_eq(logbuf.step[1], 5);
    ck_assert_int_eq(x->time, c[5].open_time);
    ck_assert_int_eq(x->entry_time, c[3].open_time);
    ck_assert(x->price == sell_px);
    ck_assert(fabs(x->price - 110.9445) < 1e-9);
    ck_assert(x->qty == qty);
    ck_assert(x->fee == fee);
    ck_assert(x->proceeds == proceeds);
    ck_assert(x->cost == 10000);
    ck_assert(x->fees == o->fee + fee);
    ck_assert(x->pnl == proceeds - 10000);
    ck_assert(fabs(x->pnl_pct - (proceeds / 10000 - 1) * 100) < 1e-9);
    ck_assert(x->entry_price == buy_px);
    ck_assert_int_eq(x->trade_id, o->trade_id);
    ck_assert(eng.cash == proceeds);
    ck_assert(engine_equity(&eng) == proceeds);
    ck_assert(fabs(eng.fees_paid - x->fees) < 1e-12);
    ck_assert_int_eq(eng.open_trades, 0);
}
END_TEST

/* Runs the entry prefix plus `rest` candles from index 3 with cfg; returns logbuf. */
static void run_entry(const engine_config *cfg, const candle *rest, int nrest)
{
    candle c[32];
    entry_prefix(c);
    for (int i = 0; i < nrest; i++)
        c[3 + i] = rest[i];
    run_one(cfg, c, 3 + nrest);
    ck_assert_msg(logbuf.n >= 1 && logbuf.ev[0].kind == TEV_OPEN && logbuf.ev[0].price == 101,
                  "the entry did not fill at 101");
}

static const trade_event *only_close(void)
{
    ck_assert_msg(logbuf.n == 2, "expected an open and a close, got %d events", logbuf.n);
    ck_assert_int_eq(logbuf.ev[1].kind, TEV_CLOSE);
    return &logbuf.ev[1];
}

START_TEST(test_stop_loss)
{
    engine_config cfg;
    base_config(&cfg);
    cfg.risk.stop_loss_pct = 5; /* stop at 101 × 0.95 = 95.95 */
    candle r[2] = {mk(3, 101, 102, 95, 102)};
    run_entry(&cfg, r, 1);
    const trade_event *x = only_close();
    ck_assert_int_eq(x->reason, EXIT_STOP_LOSS);
    ck_assert(x->price == 101 * (1.0 - 0.05));
    ck_assert_int_eq(logbuf.step[1], 3); /* inside the entry candle itself */
    ck_assert_int_eq(x->time, r[0].open_time);
    ck_assert(x->pnl < 0);
    /* a gap below the stop fills at the open, not at the stop */
    r[0] = mk(3, 101, 102, 100, 102);
    r[1] = mk(4, 90, 103, 89, 103);
    run_entry(&cfg, r, 2);
    x = only_close();
    ck_assert_int_eq(x->reason, EXIT_STOP_LOSS);
    ck_assert(x->price == 90);
    ck_assert_int_eq(logbuf.step[1], 4);
    /* a low just above the stop does nothing */
    r[0] = mk(3, 101, 102, 95.96, 102);
    run_entry(&cfg, r, 1);
    ck_assert_int_eq(logbuf.n, 1);
}
END_TEST

START_TEST(test_take_profit_and_worst_case)
{
    engine_config cfg;
    base_config(&cfg);
    cfg.risk.take_profit_pct = 10; /* 111.1 */
    candle r[2] = {mk(3, 101, 112, 100.5, 102)};
    run_entry(&cfg, r, 1);
    const trade_event *x = only_close();
    ck_assert_int_eq(x->reason, EXIT_TAKE_PROFIT);
    ck_assert(x->price == 101 * (1.0 + 0.1));
    ck_assert(x->pnl > 0);
    /* a gap above the target fills at the open */
    r[0] = mk(3, 101, 102, 100.5, 102);
    r[1] = mk(4, 115, 116, 114, 115.5);
    run_entry(&cfg, r, 2);
    x = only_close();
    ck_assert_int_eq(x->reason, EXIT_TAKE_PROFIT);
    ck_assert(x->price == 115);
    /* the candle reaches both the stop and the target: the stop is assumed to come first */
    cfg.risk.stop_loss_pct = 5;
    r[0] = mk(3, 101, 112, 95, 102);
    run_entry(&cfg, r, 1);
    x = only_close();
    ck_assert_int_eq(x->reason, EXIT_STOP_LOSS);
    ck_assert(x->price == 101 * (1.0 - 0.05));
}
END_TEST

START_TEST(test_trailing_stop)
{
    engine_config cfg;
    base_config(&cfg);
    cfg.risk.trailing_stop_pct = 2;
    cfg.risk.trailing_offset_pct = 3; /* armed once the peak reached 104.03 */
    /* candle 3 lifts the peak to 105 (not armed during it: its own high is not used); candle 4
     * has the stop at 105 × 0.98 = 102.9 */
    candle r[2] = {mk(3, 101, 105, 100.5, 104), mk(4, 104.5, 106, 102, 104.5)};
    run_entry(&cfg, r, 2);
    const trade_event *x = only_close();
    ck_assert_int_eq(x->reason, EXIT_TRAILING_STOP);
    ck_assert(x->price == 105 * (1.0 - 0.02));
    ck_assert_int_eq(logbuf.step[1], 4);
    /* not armed: the offset asks for 107.06 */
    cfg.risk.trailing_offset_pct = 6;
    run_entry(&cfg, r, 2);
    ck_assert_int_eq(logbuf.n, 1);
    /* armed from the start (offset 0): a candle whose own high would put the stop above its
     * low does not stop itself out; the next candle does */
    cfg.risk.trailing_offset_pct = 0;
    r[0] = mk(3, 101, 110, 100.9, 104);
    r[1] = mk(4, 108, 109, 107, 108);
    run_entry(&cfg, r, 2);
    x = only_close();
    ck_assert_int_eq(logbuf.step[1], 4);
    ck_assert_int_eq(x->reason, EXIT_TRAILING_STOP);
    ck_assert(x->price == 110 * (1.0 - 0.02));
    /* the higher of stop-loss and trailing stop is the one met first; ties name the stop-loss */
    cfg.risk.stop_loss_pct = 1; /* 99.99, below the trailing 107.8 */
    run_entry(&cfg, r, 2);
    ck_assert_int_eq(only_close()->reason, EXIT_TRAILING_STOP);
    /* a gap below the trailing stop fills at the open */
    r[1] = mk(4, 106, 109, 105, 108);
    run_entry(&cfg, r, 2);
    x = only_close();
    ck_assert_int_eq(x->reason, EXIT_TRAILING_STOP);
    ck_assert(x->price == 106);
}
END_TEST

START_TEST(test_roi_table)
{
    engine_config cfg;
    base_config(&cfg);
    cfg.risk.roi_count = 3;
    cfg.risk.roi[0] = (roi_row){0, 20};
    cfg.risk.roi[1] = (roi_row){120, 5};
    cfg.risk.roi[2] = (roi_row){240, 0};
    /* ages at the candles' opens: 0, 60, 120 minutes; 20% (121.2) until 120 minutes, then 5% (106.05) */
    candle r[3] = {mk(3, 101, 110, 100.5, 102), mk(4, 102, 110, 101, 103), mk(5, 103, 107, 102, 104)};
    run_entry(&cfg, r, 3);
    const trade_event *x = only_close();
    ck_assert_int_eq(x->reason, EXIT_ROI);
    ck_assert_int_eq(logbuf.step[1], 5);
    ck_assert(x->price == 101 * (1.0 + 0.05));
    /* opening above the target fills at the open */
    r[2] = mk(5, 108, 109, 107.5, 108);
    run_entry(&cfg, r, 3);
    x = only_close();
    ck_assert_int_eq(x->reason, EXIT_ROI);
    ck_assert(x->price == 108);
    /* from 240 minutes, break-even: candle 7 opens at 101 exactly */
    candle r2[5] = {mk(3, 101, 102, 100.5, 102), mk(4, 102, 103, 101, 103), mk(5, 103, 104, 100, 104),
                    mk(6, 104, 105, 103, 105), mk(7, 101, 105.5, 101, 105.5)};
    cfg.risk.roi[1].profit_pct = 50;
    run_entry(&cfg, r2, 5);
    x = only_close();
    ck_assert_int_eq(logbuf.step[1], 7);
    ck_assert(x->price == 101);
    ck_assert(x->pnl == 0);
    /* a take-profit below the ROI target is met first */
    cfg.risk.roi_count = 1;
    cfg.risk.roi[0] = (roi_row){0, 8};
    memset(&cfg.risk.roi[1], 0, 2 * sizeof cfg.risk.roi[0]);
    cfg.risk.take_profit_pct = 6;
    candle r3[1] = {mk(3, 101, 112, 100.5, 102)};
    run_entry(&cfg, r3, 1);
    ck_assert_int_eq(only_close()->reason, EXIT_TAKE_PROFIT);
    cfg.risk.take_profit_pct = 9;
    run_entry(&cfg, r3, 1);
    x = only_close();
    ck_assert_int_eq(x->reason, EXIT_ROI);
    ck_assert(x->price == 101 * (1.0 + 0.08));
}
END_TEST

/* Two symbols with the same candles, interleaved by time. */
static void run_two(const engine_config *cfg, const candle *c, int n)
{
    memset(&logbuf, 0, sizeof logbuf);
    ck_assert_int_eq(engine_init(&eng, cfg, 2, 10000), 0);
    for (int i = 0; i < n; i++) {
        feed(&eng, 0, c, i, 1, &logbuf);
        feed(&eng, 1, c, i, 1, &logbuf);
    }
}

START_TEST(test_max_open_trades_and_stake)
{
    engine_config cfg;
    base_config(&cfg);
    cfg.risk.stake_pct = 50;
    candle c[5];
    entry_prefix(c);
    c[3] = mk(3, 101, 102, 100.5, 102);
    c[4] = mk(4, 102, 103, 101.5, 103);
    /* one slot: the first symbol's entry takes it, the second's is refused at the decision */
    run_two(&cfg, c, 5);
    ck_assert_int_eq(logbuf.n, 1);
    ck_assert_int_eq(logbuf.ev[0].sym, 0);
    ck_assert_int_eq(logbuf.ev[0].kind, TEV_OPEN);
    ck_assert(eng.cash == 5000); /* 50% of the equity went into the trade */
    ck_assert_int_eq(eng.open_trades, 1);
    ck_assert_int_eq(eng.pending_entries, 0);
    /* two slots: both, each 50% of the equity at its decision */
    cfg.risk.max_open_trades = 2;
    run_two(&cfg, c, 5);
    ck_assert_int_eq(logbuf.n, 2);
    ck_assert_int_eq(logbuf.ev[0].sym, 0);
    ck_assert_int_eq(logbuf.ev[1].sym, 1);
    ck_assert(fabs(eng.cash) < 1e-9);
    ck_assert_int_eq(eng.open_trades, 2);
    /* 25% stake */
    cfg.risk.stake_pct = 25;
    run_two(&cfg, c, 5);
    ck_assert(fabs(logbuf.ev[0].qty * 101 - 2500) < 1e-9);
    ck_assert(eng.cash == 5000);
}
END_TEST

START_TEST(test_cooldown_after_loss)
{
    engine_config cfg;
    base_config(&cfg);
    cfg.risk.stop_loss_pct = 5;
    cfg.risk.cooldown_candles = 3;
    candle c[9];
    entry_prefix(c);
    c[3] = mk(3, 101, 102, 95, 102);     /* stopped out with a loss: cooldown 3 */
    c[4] = mk(4, 102, 102.5, 100, 101);  /* blocked (2 left) */
    c[5] = mk(5, 101, 103.5, 100.5, 103); /* BUY, blocked (last candle of the cooldown) */
    c[6] = mk(6, 103, 103.5, 101.5, 102);
    c[7] = mk(7, 102, 104.5, 101.5, 104); /* BUY, allowed */
    c[8] = mk(8, 104, 105, 103.5, 104.5);
    run_one(&cfg, c, 9);
    ck_assert_int_eq(logbuf.n, 3);
    ck_assert_int_eq(logbuf.ev[1].reason, EXIT_STOP_LOSS);
    ck_assert_int_eq(logbuf.ev[2].kind, TEV_OPEN);
    ck_assert_int_eq(logbuf.step[2], 8);
    /* without the cooldown the entry comes at candle 6 */
    cfg.risk.cooldown_candles = 0;
    run_one(&cfg, c, 9);
    ck_assert_int_eq(logbuf.ev[2].kind, TEV_OPEN);
    ck_assert_int_eq(logbuf.step[2], 6);
    /* a winning exit starts no cooldown */
    cfg.risk.stop_loss_pct = 0;
    cfg.risk.take_profit_pct = 0.5; /* 101.505: candle 3's high */
    cfg.risk.cooldown_candles = 3;
    run_one(&cfg, c, 9);
    ck_assert_int_eq(logbuf.ev[1].reason, EXIT_TAKE_PROFIT);
    ck_assert_int_eq(logbuf.ev[2].kind, TEV_OPEN);
    ck_assert_int_eq(logbuf.step[2], 6);
}
END_TEST

START_TEST(test_grid)
{
    engine_config cfg;
    engine_config_defaults(&cfg, STRATEGY_GRID);
    cfg.params[STRAT_GRID_LEVELS] = 3;
    cfg.params[STRAT_GRID_SPACING] = 1;
    cfg.params[STRAT_GRID_REFERENCE] = 100; /* buys at 99, 98, 97; each sells at the level above */
    cfg.risk.max_open_trades = 3;
    cfg.risk.stake_pct = 30;
    cfg.costs.fee_bps = cfg.costs.slippage_bps = 0;
    candle c[5] = {
        mk(0, 100, 100.2, 98.4, 98.5), /* below 99: level 1 */
        mk(1, 98.5, 98.6, 97.4, 97.5), /* below 98: level 2 */
        mk(2, 97.5, 99.5, 97.4, 99.2), /* at or above 99: sell level 2 */
        mk(3, 99.3, 100.3, 99, 100.1), /* at or above 100: sell level 1 */
        mk(4, 100.2, 100.5, 100, 100.3),
    };
    run_one(&cfg, c, 5);
    ck_assert_int_eq(logbuf.n, 4);
    ck_assert(logbuf.ev[0].kind == TEV_OPEN && logbuf.ev[0].tag == 1 && logbuf.step[0] == 1 &&
              logbuf.ev[0].price == 98.5);
    ck_assert(fabs(logbuf.ev[0].qty * 98.5 - 3000) < 1e-9); /* 30% of the equity */
    ck_assert(logbuf.ev[1].kind == TEV_OPEN && logbuf.ev[1].tag == 2 && logbuf.step[1] == 2 &&
              logbuf.ev[1].price == 97.5);
    ck_assert(logbuf.ev[2].kind == TEV_CLOSE && logbuf.ev[2].tag == 2 && logbuf.step[2] == 3 &&
              logbuf.ev[2].price == 99.3 && logbuf.ev[2].reason == EXIT_SIGNAL);
    ck_assert(logbuf.ev[3].kind == TEV_CLOSE && logbuf.ev[3].tag == 1 && logbuf.step[3] == 4 &&
              logbuf.ev[3].price == 100.2);
    ck_assert(logbuf.ev[2].pnl > 0 && logbuf.ev[3].pnl > 0);
    ck_assert_int_eq(eng.sym[0].grid_held, 0);
    /* the reference defaults to the first close; a cap of one trade holds one level at a time */
    cfg.params[STRAT_GRID_REFERENCE] = 0;
    cfg.risk.max_open_trades = 1;
    candle d[3] = {mk(0, 100, 100.2, 99.8, 100), mk(1, 100, 100, 96, 96.5), mk(2, 96.5, 97, 96, 96.8)};
    run_one(&cfg, d, 3);
    ck_assert(eng.sym[0].grid_ref == 100);
    ck_assert_int_eq(logbuf.n, 1);
    ck_assert_int_eq(logbuf.ev[0].tag, 1);
}
END_TEST

START_TEST(test_dca)
{
    engine_config cfg;
    engine_config_defaults(&cfg, STRATEGY_DCA);
    cfg.params[STRAT_DCA_INTERVAL] = 2;
    cfg.params[STRAT_DCA_MAX_BUYS] = 3;
    cfg.params[STRAT_DCA_SAFETY_ORDERS] = 1;
    cfg.params[STRAT_DCA_SAFETY_STEP] = 5;
    cfg.params[STRAT_DCA_TAKE_PROFIT] = 3;
    cfg.risk.stake_pct = 10;
    cfg.costs.fee_bps = cfg.costs.slippage_bps = 0;
    candle c[7] = {
        mk(0, 100, 100.5, 99.5, 100), /* first buy decided */
        mk(1, 100, 100.5, 99, 99.5),  /* filled at 100 */
        mk(2, 99.5, 99.8, 98.8, 99),  /* two candles since: periodic buy */
        mk(3, 99, 99.2, 94, 94.5),    /* filled at 99; close 5% under the first price: safety order */
        mk(4, 94.5, 95, 94, 94.8),    /* safety filled at 94.5; periodic buy (the third and last) */
        mk(5, 95, 96, 94.5, 95.5),    /* filled at 95 */
        mk(6, 96, 101, 95.5, 99),     /* the high reaches the average × 1.03 */
    };
    run_one(&cfg, c, 7);
    ck_assert_int_eq(logbuf.n, 5);
    const double px[4] = {100, 99, 94.5, 95};
    const int steps[4] = {1, 3, 4, 5};
    double qty = 0, avg = 0;
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(logbuf.ev[i].kind, i ? TEV_ADD : TEV_OPEN);
        ck_assert_int_eq(logbuf.step[i], steps[i]);
        ck_assert(logbuf.ev[i].price == px[i]);
        double q = 1000 / px[i]; /* every buy repeats the first: 10% of 10000 */
        ck_assert(logbuf.ev[i].qty == q);
        avg = i ? (avg * qty + px[i] * q) / (qty + q) : px[i];
        qty += q;
    }
    const trade_event *x = &logbuf.ev[4];
    ck_assert_int_eq(x->kind, TEV_CLOSE);
    ck_assert_int_eq(x->reason, EXIT_TAKE_PROFIT);
    ck_assert_int_eq(logbuf.step[4], 6);
    ck_assert(x->entry_price == avg);
    ck_assert(x->price == avg * (1.0 + 0.03));
    ck_assert(x->qty == qty);
    ck_assert(fabs(x->cost - 4000) < 1e-9);
    ck_assert(fabs(x->pnl - (qty * avg * 1.03 - 4000)) < 1e-9);
    /* the next deal starts on the exit candle's close */
    ck_assert_int_eq(eng.pending_entries, 1);
}
END_TEST

START_TEST(test_engine_errors)
{
    engine_config cfg;
    base_config(&cfg);
    trade_event ev[ENGINE_MAX_STEP_EVENTS];
    ck_assert_int_eq(engine_init(&eng, &cfg, 0, 10000), ENGINE_EINVAL);
    ck_assert_int_eq(engine_init(&eng, &cfg, ENGINE_MAX_SYMBOLS + 1, 10000), ENGINE_EINVAL);
    ck_assert_int_eq(engine_init(&eng, &cfg, 1, 0), ENGINE_EINVAL);
    ck_assert_int_eq(engine_init(&eng, &cfg, 1, NAN), ENGINE_EINVAL);
    engine_config bad = cfg;
    bad.params[STRAT_CROSS_SLOW] = 1;
    ck_assert_int_eq(engine_init(&eng, &bad, 1, 10000), ENGINE_EINVAL);
    ck_assert_int_eq(engine_init(&eng, &cfg, 1, 10000), 0);
    candle c = mk(5, 100, 101, 99, 100);
    ck_assert_int_eq(engine_step(&eng, 1, &c, ev, ENGINE_MAX_STEP_EVENTS), ENGINE_EINVAL);
    ck_assert_int_eq(engine_step(&eng, -1, &c, ev, ENGINE_MAX_STEP_EVENTS), ENGINE_EINVAL);
    ck_assert_int_eq(engine_step(&eng, 0, &c, ev, ENGINE_MAX_STEP_EVENTS - 1), ENGINE_EINVAL);
    ck_assert_int_eq(engine_step(&eng, 0, &c, ev, ENGINE_MAX_STEP_EVENTS), 0);
    static engine snap;
    snap = eng;
    /* the same time again, an earlier time, broken prices: refused, nothing changes */
    ck_assert_int_eq(engine_step(&eng, 0, &c, ev, ENGINE_MAX_STEP_EVENTS), ENGINE_EORDER);
    candle early = mk(4, 100, 101, 99, 100);
    ck_assert_int_eq(engine_step(&eng, 0, &early, ev, ENGINE_MAX_STEP_EVENTS), ENGINE_EORDER);
    candle bads[] = {mk(6, NAN, 101, 99, 100), mk(6, 100, 101, 99, NAN), mk(6, 100, INFINITY, 99, 100),
                     mk(6, 100, 99.5, 99, 100), mk(6, 100, 101, 100.5, 100.7), mk(6, 100, 101, 0, 100),
                     mk(6, 100, 101, -1, 100), mk(6, 100, 101, 99, 101.5)};
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
        ck_assert_int_eq(engine_step(&eng, 0, &bads[i], ev, ENGINE_MAX_STEP_EVENTS), ENGINE_ECANDLE);
    ck_assert(memcmp(&snap, &eng, sizeof eng) == 0);
    ck_assert_int_eq(engine_close_all(&eng, 3, 0, ev, ENGINE_MAX_STEP_EVENTS), ENGINE_EINVAL);
    size_t done = 7;
    ck_assert_int_eq(engine_run(&eng, 0, bads, 1, NULL, &done, ev, ENGINE_MAX_STEP_EVENTS), ENGINE_ECANDLE);
    ck_assert_uint_eq(done, 0);
}
END_TEST

/* ---- synthetic runs: look-ahead, save/load, backtest equivalence, determinism ---- */

#define NSYN 3000
static candle syn[2][NSYN];

static void make_synth(void)
{
    for (int s = 0; s < 2; s++) {
        synth_params p;
        synth_defaults(&p);
        p.seed = 1000 + (uint64_t)s;
        p.tf_ms = H;
        p.start_ms = T0;
        p.start_price = s ? 2500 : 40000;
        p.switch_prob = 0.01;
        ck_assert_int_eq(synth_generate(&p, syn[s], NSYN, NULL), 0);
    }
}

/* The configurations the synthetic tests run: every kind, with risk controls switched on. */
static int synth_config(int i, engine_config *cfg)
{
    if (i >= 9)
        return 0;
    static const int kinds[9] = {STRATEGY_SMA_CROSS, STRATEGY_SMA_CROSS, STRATEGY_EMA_CROSS,
                                 STRATEGY_RSI_REVERSION, STRATEGY_BOLLINGER_BREAKOUT, STRATEGY_MACD_TREND,
                                 STRATEGY_GRID, STRATEGY_DCA, STRATEGY_RSI_REVERSION};
    engine_config_defaults(cfg, kinds[i]);
    cfg->risk.max_open_trades = cfg->kind == STRATEGY_GRID ? 12 : 2;
    cfg->risk.stake_pct = cfg->kind == STRATEGY_GRID ? 8 : 45;
    switch (i) {
    case 0:
        cfg->params[STRAT_CROSS_FAST] = 5;
        cfg->params[STRAT_CROSS_SLOW] = 20;
        break;
    case 1: /* every control at once */
        cfg->params[STRAT_CROSS_FAST] = 4;
        cfg->params[STRAT_CROSS_SLOW] = 12;
        cfg->risk.stop_loss_pct = 1.5;
        cfg->risk.take_profit_pct = 3;
        cfg->risk.trailing_stop_pct = 0.8;
        cfg->risk.trailing_offset_pct = 1;
        cfg->risk.roi_count = 2;
        cfg->risk.roi[0] = (roi_row){0, 5};
        cfg->risk.roi[1] = (roi_row){600, 0.5};
        cfg->risk.cooldown_candles = 5;
        break;
    case 6:
        cfg->params[STRAT_GRID_LEVELS] = 12;
        cfg->params[STRAT_GRID_SPACING] = 0.6;
        cfg->risk.stop_loss_pct = 8;
        break;
    case 7:
        cfg->params[STRAT_DCA_INTERVAL] = 12;
        cfg->risk.stake_pct = 5;
        cfg->risk.stop_loss_pct = 10;
        break;
    case 8:
        cfg->params[STRAT_RSI_PERIOD] = 6;
        cfg->risk.trailing_stop_pct = 1;
        cfg->risk.cooldown_candles = 2;
        break;
    default:
        cfg->risk.stop_loss_pct = 2;
        cfg->risk.take_profit_pct = 4;
        break;
    }
    char err[160];
    ck_assert_msg(engine_config_check(cfg, err, sizeof err) == 0, "config %d: %s", i, err);
    return 1;
}

/* Steps both symbols interleaved over candles [0, n); sig[] gets each step's last_signal. */
static void run_synth(engine *e, const engine_config *cfg, int n, evlog *lg, int *sig, int save_load)
{
    static unsigned char blob[sizeof(engine) + 64];
    memset(lg, 0, sizeof *lg);
    ck_assert_int_eq(engine_init(e, cfg, 2, 100000), 0);
    for (int i = 0; i < n; i++)
        for (int s = 0; s < 2; s++) {
            if (save_load) {
                size_t len = engine_state_size(e);
                ck_assert_uint_le(len, sizeof blob);
                ck_assert_int_eq(engine_save(e, blob, sizeof blob), (long)len);
                memset(e, 0x5a, sizeof *e);
                ck_assert_int_eq(engine_load(e, blob, len), 0);
            }
            feed(e, s, syn[s], i, 1, lg);
            if (sig)
                sig[2 * i + s] = e->sym[s].last_signal;
        }
}

static int count_closes(const evlog *lg)
{
    int n = 0;
    for (int i = 0; i < lg->n; i++)
        n += lg->ev[i].kind == TEV_CLOSE;
    return n;
}

static engine e_a, e_b;
static int sig_a[2 * NSYN], sig_b[2 * NSYN];

START_TEST(test_no_look_ahead)
{
    make_synth();
    engine_config cfg;
    for (int k = 0; synth_config(k, &cfg); k++) {
        const int cut = 2000;
        run_synth(&e_a, &cfg, NSYN, &logbuf, sig_a, 0);
        run_synth(&e_b, &cfg, cut, &logbuf2, sig_b, 0);
        ck_assert_msg(count_closes(&logbuf) >= 5, "config %d closed only %d trades", k, count_closes(&logbuf));
        ck_assert_msg(memcmp(sig_a, sig_b, sizeof(int) * 2 * cut) == 0, "config %d: signals differ", k);
        /* every event of the truncated run is in the full run, identical and at the same step */
        int m = 0;
        while (m < logbuf.n && logbuf.step[m] < cut)
            m++;
        ck_assert_msg(m == logbuf2.n, "config %d: %d events before the cut, %d in the truncated run", k, m,
                      logbuf2.n);
        ck_assert_msg(memcmp(logbuf.ev, logbuf2.ev, sizeof(trade_event) * (size_t)m) == 0 &&
                          memcmp(logbuf.step, logbuf2.step, sizeof(int) * (size_t)m) == 0,
                      "config %d: events differ on the overlap", k);
        /* a different future cannot change the past either */
        static candle saved[2][NSYN];
        memcpy(saved, syn, sizeof syn);
        for (int s = 0; s < 2; s++)
            for (int i = cut; i < NSYN; i++) {
                syn[s][i].open *= 0.9;
                syn[s][i].high *= 0.9;
                syn[s][i].low *= 0.9;
                syn[s][i].close *= 0.9;
            }
        run_synth(&e_b, &cfg, NSYN, &logbuf2, sig_b, 0);
        memcpy(syn, saved, sizeof syn);
        ck_assert_msg(memcmp(sig_a, sig_b, sizeof(int) * 2 * cut) == 0, "config %d: altered future", k);
        ck_assert_msg(memcmp(logbuf.ev, logbuf2.ev, sizeof(trade_event) * (size_t)m) == 0,
                      "config %d: altered future changed past events", k);
    }
}
END_TEST

START_TEST(test_save_load_every_step)
{
    make_synth();
    engine_config cfg;
    for (int k = 0; synth_config(k, &cfg); k++) {
        run_synth(&e_a, &cfg, NSYN, &logbuf, sig_a, 0);
        run_synth(&e_b, &cfg, NSYN, &logbuf2, sig_b, 1);
        ck_assert_int_eq(logbuf.n, logbuf2.n);
        ck_assert_msg(memcmp(logbuf.ev, logbuf2.ev, sizeof(trade_event) * (size_t)logbuf.n) == 0,
                      "config %d: events differ after save/load", k);
        ck_assert_msg(memcmp(&e_a, &e_b, sizeof e_a) == 0, "config %d: final states differ", k);
        /* the same again at the end of data */
        trade_event ev[ENGINE_MAX_STEP_EVENTS], ev2[ENGINE_MAX_STEP_EVENTS];
        int n1 = engine_close_all(&e_a, -1, T0 + NSYN * H, ev, ENGINE_MAX_STEP_EVENTS);
        int n2 = engine_close_all(&e_b, -1, T0 + NSYN * H, ev2, ENGINE_MAX_STEP_EVENTS);
        ck_assert_int_eq(n1, n2);
        ck_assert(memcmp(ev, ev2, sizeof ev[0] * (size_t)n1) == 0);
        ck_assert_int_eq(e_a.open_trades, 0);
        ck_assert(memcmp(&e_a, &e_b, sizeof e_a) == 0);
    }
}
END_TEST

/* backtest_run (engine_run for one symbol, the merge for two) makes the same trades as feeding
 * the engine one candle at a time through save/load, as a paper bot does. */
START_TEST(test_backtest_equals_paper)
{
    make_synth();
    engine_config cfg;
    for (int k = 0; synth_config(k, &cfg); k++) {
        for (int nsym = 1; nsym <= 2; nsym++) {
            static unsigned char blob[sizeof(engine) + 64];
            memset(&logbuf, 0, sizeof logbuf);
            ck_assert_int_eq(engine_init(&e_a, &cfg, nsym, 100000), 0);
            for (int i = 0; i < NSYN; i++)
                for (int s = 0; s < nsym; s++) {
                    size_t len = engine_state_size(&e_a);
                    ck_assert_int_eq(engine_save(&e_a, blob, sizeof blob), (long)len);
                    ck_assert_int_eq(engine_load(&e_b, blob, len), 0);
                    feed(&e_b, s, syn[s], i, 1, &logbuf);
                    e_a = e_b;
                }
            trade_event ev[ENGINE_MAX_STEP_EVENTS];
            for (int s = 0; s < nsym; s++) {
                int n = engine_close_all(&e_a, s, syn[s][NSYN - 1].open_time + H, ev, ENGINE_MAX_STEP_EVENTS);
                for (int j = 0; j < n; j++)
                    logbuf.ev[logbuf.n++] = ev[j];
            }
            bt_series series[2] = {{syn[0], NSYN}, {syn[1], NSYN}};
            bt_result r;
            char err[160];
            ck_assert_int_eq(backtest_run(&cfg, series, nsym, 100000, NULL, NULL, &r, err, sizeof err), 0);
            int closes = 0;
            for (int i = 0; i < logbuf.n; i++) {
                const trade_event *x = &logbuf.ev[i];
                if (x->kind != TEV_CLOSE)
                    continue;
                ck_assert_int_lt(closes, (int)r.ntrades);
                const bt_trade *t = &r.trades[closes++];
                ck_assert_msg(t->id == x->trade_id && t->exit_time == x->time && t->entry_time == x->entry_time &&
                                  t->exit_price == x->price && t->qty == x->qty && t->pnl == x->pnl &&
                                  t->reason == x->reason && t->sym == x->sym,
                              "config %d, %d symbols: trade %d differs", k, nsym, closes - 1);
            }
            ck_assert_int_eq(closes, (int)r.ntrades);
            ck_assert(r.final_equity == e_a.cash);
            ck_assert_uint_eq(r.npoints, NSYN);
            bt_result_free(&r);
        }
    }
}
END_TEST

START_TEST(test_state_blob_refused)
{
    make_synth();
    engine_config cfg;
    synth_config(1, &cfg);
    run_synth(&e_a, &cfg, 500, &logbuf, NULL, 0);
    static unsigned char blob[sizeof(engine) + 64], bad[sizeof(engine) + 64];
    size_t len = engine_state_size(&e_a);
    ck_assert_uint_gt(len, 0);
    ck_assert_uint_lt(len, sizeof(engine)); /* 2 of 8 symbols: the unused ones are not written */
    ck_assert_int_eq(engine_save(&e_a, blob, len - 1), ENGINE_EINVAL);
    ck_assert_int_eq(engine_save(&e_a, blob, sizeof blob), (long)len);
    memset(&e_b, 0x33, sizeof e_b);
    static engine before;
    before = e_b;
    /* wrong length, magic, version, struct size, a flipped byte (checksum) */
    ck_assert_int_eq(engine_load(&e_b, blob, len - 1), ENGINE_ESTATE);
    ck_assert_int_eq(engine_load(&e_b, blob, len + 1), ENGINE_ESTATE);
    ck_assert_int_eq(engine_load(&e_b, blob, 10), ENGINE_ESTATE);
    size_t offs[] = {0, 4, 8, 12, 200, len - 1};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        memcpy(bad, blob, len);
        bad[offs[i]] ^= 0x10;
        ck_assert_msg(engine_load(&e_b, bad, len) == ENGINE_ESTATE, "flipped byte %zu accepted", offs[i]);
    }
    /* contents that break an invariant, with a valid checksum: refused by validation */
    static engine broken;
    broken = e_a;
    broken.open_trades += 1;
    ck_assert_int_eq(engine_save(&broken, bad, sizeof bad), (long)len);
    ck_assert_int_eq(engine_load(&e_b, bad, len), ENGINE_ESTATE);
    broken = e_a;
    broken.sym[0].pend_buy = 0x80;
    ck_assert_int_eq(engine_save(&broken, bad, sizeof bad), (long)len);
    ck_assert_int_eq(engine_load(&e_b, bad, len), ENGINE_ESTATE);
    broken = e_a;
    broken.sym[1].sig.u.sma.slow.pos = broken.sym[1].sig.u.sma.slow.period; /* would index past the ring */
    ck_assert_int_eq(engine_save(&broken, bad, sizeof bad), (long)len);
    ck_assert_int_eq(engine_load(&e_b, bad, len), ENGINE_ESTATE);
    broken = e_a;
    broken.sym[0].slots ^= 1ULL << 63; /* a slot that holds no trade of this symbol */
    ck_assert_int_eq(engine_save(&broken, bad, sizeof bad), (long)len);
    ck_assert_int_eq(engine_load(&e_b, bad, len), ENGINE_ESTATE);
    broken = e_a;
    broken.cfg.params[STRAT_CROSS_SLOW] = 2;
    ck_assert_int_eq(engine_save(&broken, bad, sizeof bad), (long)len);
    ck_assert_int_eq(engine_load(&e_b, bad, len), ENGINE_ESTATE);
    ck_assert_msg(memcmp(&e_b, &before, sizeof e_b) == 0, "a refused load changed the engine");
    /* the good blob loads into an equal engine */
    ck_assert_int_eq(engine_load(&e_b, blob, len), 0);
    ck_assert(memcmp(&e_a, &e_b, sizeof e_a) == 0);
}
END_TEST

static int progress_calls;
static double progress_last;
static int progress_cb(double f, void *ud)
{
    int stop_at = *(int *)ud;
    ck_assert(f > progress_last && f <= 1.0);
    progress_last = f;
    return ++progress_calls == stop_at;
}

START_TEST(test_backtest_driver)
{
    engine_config cfg;
    synth_config(0, &cfg);
    /* 200000 candles of one symbol: progress at every 65536 and at the end; cancel on the 2nd */
    size_t n = 200000;
    candle *c = malloc(n * sizeof *c);
    ck_assert_ptr_nonnull(c);
    synth_params p;
    synth_defaults(&p);
    p.seed = 7;
    p.tf_ms = H;
    p.start_ms = T0;
    ck_assert_int_eq(synth_generate(&p, c, n, NULL), 0);
    bt_series s1 = {c, n};
    bt_result r, r2;
    char err[160];
    int stop_at = 0;
    progress_calls = 0;
    progress_last = 0;
    ck_assert_int_eq(backtest_run(&cfg, &s1, 1, 1000, progress_cb, &stop_at, &r, err, sizeof err), 0);
    ck_assert_int_eq(progress_calls, 4);
    ck_assert(progress_last == 1.0);
    ck_assert_uint_eq(r.npoints, n);
    ck_assert_int_eq(r.candles, (int64_t)n);
    ck_assert_int_eq(r.start_time, T0);
    ck_assert_int_eq(r.end_time, T0 + (int64_t)n * H);
    ck_assert_int_eq(r.times[0], T0 + H);
    ck_assert(r.equity[n - 1] == r.final_equity);
    ck_assert(r.first_open[0] == c[0].open && r.last_close[0] == c[n - 1].close);
    /* determinism: a second run is identical to the bit */
    ck_assert_int_eq(backtest_run(&cfg, &s1, 1, 1000, NULL, NULL, &r2, err, sizeof err), 0);
    ck_assert_uint_eq(r.ntrades, r2.ntrades);
    ck_assert(memcmp(r.trades, r2.trades, r.ntrades * sizeof *r.trades) == 0);
    ck_assert(memcmp(r.equity, r2.equity, n * sizeof *r.equity) == 0);
    ck_assert(memcmp(r.times, r2.times, n * sizeof *r.times) == 0);
    bt_result_free(&r2);
    bt_result_free(&r);
    stop_at = 2;
    progress_calls = 0;
    progress_last = 0;
    ck_assert_int_eq(backtest_run(&cfg, &s1, 1, 1000, progress_cb, &stop_at, &r, err, sizeof err), BT_ECANCELLED);
    ck_assert_ptr_null(r.trades);
    ck_assert_ptr_null(r.equity);
    /* a candle out of order: BT_EDATA naming it */
    c[70000].open_time = c[69999].open_time;
    ck_assert_int_eq(backtest_run(&cfg, &s1, 1, 1000, NULL, NULL, &r, err, sizeof err), BT_EDATA);
    ck_assert_msg(strstr(err, "candle 70000") && strstr(err, "not after"), "%s", err);
    c[70000].open_time = c[69999].open_time + H;
    c[5].low = -1;
    ck_assert_int_eq(backtest_run(&cfg, &s1, 1, 1000, NULL, NULL, &r, err, sizeof err), BT_EDATA);
    ck_assert_msg(strstr(err, "candle 5") && strstr(err, "invalid"), "%s", err);
    free(c);
    /* bad arguments */
    ck_assert_int_eq(backtest_run(&cfg, &s1, 0, 1000, NULL, NULL, &r, err, sizeof err), BT_EINVAL);
    bt_series empty = {NULL, 0};
    ck_assert_int_eq(backtest_run(&cfg, &empty, 1, 1000, NULL, NULL, &r, err, sizeof err), BT_EINVAL);
    ck_assert_int_eq(backtest_run(&cfg, &s1, 1, -5, NULL, NULL, &r, err, sizeof err), BT_EINVAL);
    engine_config bad = cfg;
    bad.risk.stake_pct = 0;
    ck_assert_int_eq(backtest_run(&bad, &s1, 1, 1000, NULL, NULL, &r, err, sizeof err), BT_EINVAL);
    ck_assert_msg(strstr(err, "risk.stake_pct") != NULL, "%s", err);
}
END_TEST

/* Two symbols merged by time: one equity point per distinct time, ties in symbol order, a
 * symbol that starts later joins the portfolio then. */
START_TEST(test_backtest_merge)
{
    engine_config cfg;
    base_config(&cfg);
    cfg.risk.max_open_trades = 2;
    cfg.risk.stake_pct = 50;
    candle a[6], b[4];
    entry_prefix(a);
    a[3] = mk(3, 101, 102, 100.5, 102);
    a[4] = mk(4, 102, 103, 101.5, 103);
    a[5] = mk(5, 103, 104, 102.5, 104);
    /* b starts two hours later with the same shape: its entry fills at time index 5 */
    for (int i = 0; i < 4; i++) {
        b[i] = a[i];
        b[i].open_time += 2 * H;
    }
    bt_series s[2] = {{a, 6}, {b, 4}};
    bt_result r;
    char err[160];
    ck_assert_int_eq(backtest_run(&cfg, s, 2, 10000, NULL, NULL, &r, err, sizeof err), 0);
    ck_assert_uint_eq(r.npoints, 6); /* times 0..5 */
    for (size_t i = 0; i < r.npoints; i++)
        ck_assert_int_eq(r.times[i], T0 + (int64_t)(i + 1) * H);
    ck_assert_int_eq(r.candles, 10);
    ck_assert_uint_eq(r.ntrades, 2); /* both closed at the end of data */
    ck_assert_int_eq(r.trades[0].sym, 0);
    ck_assert_int_eq(r.trades[0].reason, EXIT_END_OF_DATA);
    ck_assert_int_eq(r.trades[0].exit_time, T0 + 6 * H);
    ck_assert_int_eq(r.trades[1].sym, 1);
    ck_assert_int_eq(r.trades[1].entry_time, T0 + 5 * H);
    ck_assert(r.trades[1].exit_price == 102); /* b's last close */
    /* a's trade spent 50% of 10000; b's 50% of the equity at its decision (time 4's close) */
    ck_assert(r.trades[0].cost == 5000);
    ck_assert_uint_eq(r.exposed_points, 3);
    ck_assert(r.final_equity == r.equity[5]);
    ck_assert(fabs(r.final_equity - (10000 + r.trades[0].pnl + r.trades[1].pnl)) < 1e-9);
    bt_result_free(&r);
}
END_TEST

/* ml_signal: the external probability of each candle decides; an entry is the candle it rises
 * above buy_above, an exit every candle below sell_below; no prediction (NAN) decides nothing. */
START_TEST(test_ml_signal_external)
{
    candle c[12];
    double p[12] = {NAN, 0.5, 0.7, 0.8, 0.6, 0.5, 0.3, NAN, 0.9, 0.9, 0.2, 0.5};
    for (int i = 0; i < 12; i++)
        c[i] = mk(i, 100 + i, 101 + i, 99 + i, 100 + i);
    engine_config cfg;
    engine_config_defaults(&cfg, STRATEGY_ML_SIGNAL);
    cfg.costs.fee_bps = 0;
    cfg.costs.slippage_bps = 0;
    cfg.params[STRAT_ML_BUY_ABOVE] = 0.65;
    cfg.params[STRAT_ML_SELL_BELOW] = 0.35;
    bt_series s = {c, 12, 0, p};
    bt_result r;
    char err[128];
    ck_assert_int_eq(backtest_run(&cfg, &s, 1, 1000, NULL, NULL, &r, err, sizeof err), 0);
    /* buy decided on candle 2 (0.7 rises above 0.65), filled at 3's open; sell decided on 6
     * (0.3), filled at 7's open; buy on 8 (0.9 after NAN), filled at 9; sell on 10, at 11 */
    ck_assert_uint_eq(r.ntrades, 2);
    ck_assert_int_eq(r.trades[0].entry_time, T0 + 3 * H);
    ck_assert_int_eq(r.trades[0].exit_time, T0 + 7 * H);
    ck_assert_int_eq(r.trades[1].entry_time, T0 + 9 * H);
    ck_assert_int_eq(r.trades[1].exit_time, T0 + 11 * H);
    bt_result_free(&r);
    /* without predictions nothing trades */
    s.ext = NULL;
    ck_assert_int_eq(backtest_run(&cfg, &s, 1, 1000, NULL, NULL, &r, err, sizeof err), 0);
    ck_assert_uint_eq(r.ntrades, 0);
    bt_result_free(&r);
    /* the external value belongs to ml_signal only */
    engine e;
    engine_config sma;
    engine_config_defaults(&sma, STRATEGY_SMA_CROSS);
    ck_assert_int_eq(engine_init(&e, &sma, 1, 1000), 0);
    ck_assert_int_eq(engine_set_external(&e, 0, 0.9), ENGINE_EINVAL);
    ck_assert_int_eq(engine_init(&e, &cfg, 1, 1000), 0);
    ck_assert_int_eq(engine_set_external(&e, 1, 0.9), ENGINE_EINVAL);
    ck_assert_int_eq(engine_set_external(&e, 0, 0.9), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine");
    UNIT_ADD(s, test_fill_next_open_with_costs);
    UNIT_ADD(s, test_stop_loss);
    UNIT_ADD(s, test_take_profit_and_worst_case);
    UNIT_ADD(s, test_trailing_stop);
    UNIT_ADD(s, test_roi_table);
    UNIT_ADD(s, test_max_open_trades_and_stake);
    UNIT_ADD(s, test_cooldown_after_loss);
    UNIT_ADD(s, test_grid);
    UNIT_ADD(s, test_dca);
    UNIT_ADD(s, test_ml_signal_external);
    UNIT_ADD(s, test_engine_errors);
    UNIT_ADD(s, test_state_blob_refused);
    UNIT_ADD(s, test_backtest_merge);
    /* generous ceilings for sanitizer builds, not speed assertions */
    TCase *tc = tcase_create("synthetic");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_no_look_ahead);
    tcase_add_test(tc, test_save_load_every_step);
    tcase_add_test(tc, test_backtest_equals_paper);
    tcase_add_test(tc, test_backtest_driver);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
