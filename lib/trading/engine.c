/* engine.c — engine_step: fills at the open of the candle after a decision, stop/take-profit/
 * trailing/ROI exits inside the candle (worst case first), then signals and orders on its close. */
#include "engine.h"
#include "fills.h"
#include "signals_inline.h"
#include <math.h>
#include <string.h>

const char *exit_reason_name(int reason)
{
    static const char *const names[EXIT_REASON_COUNT] = {
        [EXIT_NONE] = "none",
        [EXIT_SIGNAL] = "signal",
        [EXIT_STOP_LOSS] = "stop_loss",
        [EXIT_TAKE_PROFIT] = "take_profit",
        [EXIT_TRAILING_STOP] = "trailing_stop",
        [EXIT_ROI] = "roi",
        [EXIT_END_OF_DATA] = "end_of_data",
    };
    if (reason < 0 || reason >= EXIT_REASON_COUNT)
        return "none";
    return names[reason];
}

int engine_exits_armed(const engine_config *cfg)
{
    const risk_config *r = &cfg->risk;
    return r->stop_loss_pct > 0 || r->take_profit_pct > 0 || r->trailing_stop_pct > 0 || r->roi_count > 0 ||
           cfg->kind == STRATEGY_DCA;
}

int engine_init(engine *e, const engine_config *cfg, int nsymbols, double initial_balance)
{
    if (!e || !cfg || nsymbols < 1 || nsymbols > ENGINE_MAX_SYMBOLS || !(initial_balance > 0) ||
        !isfinite(initial_balance) || engine_config_check(cfg, NULL, 0) < 0)
        return ENGINE_EINVAL;
    memset(e, 0, sizeof *e);
    e->cfg = *cfg;
    e->nsymbols = nsymbols;
    e->next_trade_id = 1;
    e->initial_balance = initial_balance;
    e->cash = initial_balance;
    e->exits_armed = engine_exits_armed(cfg);
    for (int s = 0; s < nsymbols; s++) {
        e->sym[s].last_time = INT64_MIN;
        if (sig_init(&e->sym[s].sig, cfg) < 0)
            return ENGINE_EINVAL;
    }
    return 0;
}

double engine_equity(const engine *e)
{
    double eq = e->cash;
    for (int s = 0; s < e->nsymbols; s++)
        if (e->sym[s].open_trades)
            eq += e->sym[s].qty * e->sym[s].last_close;
    return eq;
}

/* ---- fills ---- */

static double eng_fee_rate(const engine *e)
{
    return fill_rate(e->cfg.costs.fee_bps);
}

static double eng_slip(const engine *e)
{
    return fill_rate(e->cfg.costs.slippage_bps);
}

/* A symbol's quantity is re-summed from its trades after each fill, so adds and closes cannot
 * leave a rounding residue behind (and a flat symbol holds exactly 0). */
static void eng_resum_qty(engine *e, int s)
{
    double q = 0;
    for (uint64_t m = e->sym[s].slots; m; m &= m - 1)
        q += e->trades[__builtin_ctzll(m)].qty;
    e->sym[s].qty = q;
}

/* The first open trade of symbol s (dca holds one per symbol); NULL when flat. */
static engine_trade *eng_first_trade(engine *e, int s)
{
    uint64_t m = e->sym[s].slots;
    return m ? &e->trades[__builtin_ctzll(m)] : NULL;
}

/* Sells the whole trade at market price px (before slippage, fills.h) and frees its slot. */
static void eng_close(engine *e, engine_trade *t, double px, int64_t time, int reason, trade_event *ev)
{
    double price, fee;
    double proceeds = fill_sell(t->qty, px, eng_fee_rate(e), eng_slip(e), &price, &fee);
    int s = t->sym;
    engine_symbol *sym = &e->sym[s];
    memset(ev, 0, sizeof *ev);
    ev->kind = TEV_CLOSE;
    ev->sym = s;
    ev->side = SIDE_SELL;
    ev->reason = reason;
    ev->tag = t->tag;
    ev->trade_id = t->id;
    ev->time = time;
    ev->price = price;
    ev->qty = t->qty;
    ev->fee = fee;
    ev->entry_time = t->entry_time;
    ev->entry_price = t->entry_price;
    ev->cost = t->cost;
    ev->proceeds = proceeds;
    ev->fees = t->fees + fee;
    ev->pnl = proceeds - t->cost;
    ev->pnl_pct = ev->pnl / t->cost * 100.0;
    e->cash += proceeds;
    e->fees_paid += fee;
    if (t->tag > 0)
        sym->grid_held &= ~(1u << (t->tag - 1));
    if (ev->pnl < 0 && e->cfg.risk.cooldown_candles > 0)
        sym->cooldown = e->cfg.risk.cooldown_candles;
    sym->slots &= ~(1ULL << (t - e->trades));
    memset(t, 0, sizeof *t);
    sym->open_trades--;
    e->open_trades--;
    eng_resum_qty(e, s);
}

/* Spends up to `amount` quote (capped by cash) at market price px (before slippage): cash goes
 * down by exactly the amount spent (*spent), which buys qty = amount / (price × (1 + fee rate)),
 * the fee being fee rate × qty × price (fill_buy_amount in fills.h, which the paper exchange
 * shares). Returns qty, or 0 when nothing could be bought. */
static double eng_buy(engine *e, double amount, double px, double *price, double *fee, double *spent)
{
    if (amount > e->cash)
        amount = e->cash;
    if (!(amount > 0))
        return 0;
    double qty = fill_buy_amount(amount, px, eng_fee_rate(e), eng_slip(e), price, fee);
    *spent = amount;
    e->cash -= amount;
    e->fees_paid += *fee;
    return qty;
}

static void eng_fill_event(trade_event *ev, int kind, const engine_trade *t, int64_t time, double price, double qty,
                           double fee)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->sym = t->sym;
    ev->side = SIDE_BUY;
    ev->tag = t->tag;
    ev->trade_id = t->id;
    ev->time = time;
    ev->price = price;
    ev->qty = qty;
    ev->fee = fee;
}

/* Opens a new trade of symbol s at market price px; 1 when an event was written. */
static int eng_open(engine *e, int s, int tag, double amount, double px, double open_price, int64_t time,
                    trade_event *ev)
{
    int slot = -1;
    for (int i = 0; i < ENGINE_MAX_TRADES; i++)
        if (!e->trades[i].id) {
            slot = i;
            break;
        }
    double price = 0, fee = 0, spent = 0, qty;
    if (slot < 0 || e->open_trades >= e->cfg.risk.max_open_trades ||
        !((qty = eng_buy(e, amount, px, &price, &fee, &spent)) > 0)) {
        e->orders_skipped++;
        return 0;
    }
    engine_trade *t = &e->trades[slot];
    t->id = e->next_trade_id++;
    t->entry_time = time;
    t->qty = qty;
    t->cost = spent;
    t->fees = fee;
    t->entry_price = price;
    t->first_price = price;
    t->base_amount = t->cost;
    t->peak = open_price;
    t->sym = s;
    t->tag = tag;
    t->buys = 1;
    e->open_trades++;
    e->sym[s].open_trades++;
    e->sym[s].slots |= 1ULL << slot;
    if (tag > 0)
        e->sym[s].grid_held |= 1u << (tag - 1);
    eng_resum_qty(e, s);
    eng_fill_event(ev, TEV_OPEN, t, time, price, qty, fee);
    return 1;
}

/* Step 1: the orders decided on the previous candle, at this candle's open. */
__attribute__((noinline)) static int eng_fill_pending(engine *e, int s, const candle *c, trade_event *ev)
{
    engine_symbol *sym = &e->sym[s];
    int n = 0;
    if (sym->pend_sell) {
        for (uint64_t m = sym->slots; m; m &= m - 1) {
            engine_trade *t = &e->trades[__builtin_ctzll(m)];
            int hit = t->tag > 0 ? (sym->pend_sell >> (t->tag - 1)) & 1u : sym->pend_sell & 1u;
            if (hit)
                eng_close(e, t, c->open, c->open_time, EXIT_SIGNAL, &ev[n++]);
        }
        sym->pend_sell = 0;
    }
    if (sym->pend_buy) {
        for (int b = 0; b < STRATEGY_MAX_GRID_LEVELS; b++) {
            if (!((sym->pend_buy >> b) & 1u))
                continue;
            e->pending_entries--;
            int tag = e->cfg.kind == STRATEGY_GRID ? b + 1 : 0;
            n += eng_open(e, s, tag, sym->pend_amount, c->open, c->open, c->open_time, &ev[n]);
            if (e->cfg.kind == STRATEGY_DCA)
                sym->dca_wait = 0;
        }
        sym->pend_buy = 0;
        sym->pend_amount = 0;
    }
    if (sym->pend_add_kind) {
        engine_trade *t = eng_first_trade(e, s);
        double price = 0, fee = 0, spent = 0, qty;
        if (!t || !((qty = eng_buy(e, sym->pend_add, c->open, &price, &fee, &spent)) > 0)) {
            e->orders_skipped++;
        } else {
            double q = t->qty + qty;
            t->entry_price = (t->entry_price * t->qty + price * qty) / q;
            t->qty = q;
            t->cost += spent;
            t->fees += fee;
            if (sym->pend_add_kind & 1)
                t->buys++;
            if (sym->pend_add_kind & 2)
                t->safety++;
            eng_resum_qty(e, s);
            eng_fill_event(&ev[n++], TEV_ADD, t, c->open_time, price, qty, fee);
        }
        sym->pend_add_kind = 0;
        sym->pend_add = 0;
    }
    return n;
}

/* ---- step 2: risk exits inside the candle ---- */

/* The ROI target's profit fraction for a trade of this age, or NAN when no row applies. */
static double eng_roi(const risk_config *r, int64_t age_ms)
{
    double pct = NAN;
    int64_t minutes = age_ms / 60000;
    for (int i = 0; i < r->roi_count && r->roi[i].minutes <= minutes; i++)
        pct = r->roi[i].profit_pct;
    return pct / 100.0;
}

__attribute__((noinline)) static int eng_check_exits(engine *e, int s, const candle *c, trade_event *ev)
{
    const risk_config *r = &e->cfg.risk;
    double sl = r->stop_loss_pct / 100.0, tp = r->take_profit_pct / 100.0;
    double trail = r->trailing_stop_pct / 100.0, offset = r->trailing_offset_pct / 100.0;
    double dca_tp = e->cfg.kind == STRATEGY_DCA ? e->cfg.params[STRAT_DCA_TAKE_PROFIT] / 100.0 : 0;
    int n = 0;
    for (uint64_t m = e->sym[s].slots; m; m &= m - 1) {
        engine_trade *t = &e->trades[__builtin_ctzll(m)];
        double avg = t->entry_price;
        /* downside first: the higher of the two stops is the one a falling price meets first */
        double stop = 0;
        int stop_reason = EXIT_NONE;
        if (sl > 0) {
            stop = avg * (1.0 - sl);
            stop_reason = EXIT_STOP_LOSS;
        }
        if (trail > 0 && t->peak >= avg * (1.0 + offset)) {
            double ts = t->peak * (1.0 - trail);
            if (ts > stop) {
                stop = ts;
                stop_reason = EXIT_TRAILING_STOP;
            }
        }
        if (stop_reason != EXIT_NONE) {
            if (c->open <= stop) {
                eng_close(e, t, c->open, c->open_time, stop_reason, &ev[n++]);
                continue;
            }
            if (c->low <= stop) {
                eng_close(e, t, stop, c->open_time, stop_reason, &ev[n++]);
                continue;
            }
        }
        /* upside: the lowest target is the one a rising price meets first */
        double target = INFINITY;
        int target_reason = EXIT_NONE;
        if (tp > 0) {
            target = avg * (1.0 + tp);
            target_reason = EXIT_TAKE_PROFIT;
        }
        if (dca_tp > 0 && avg * (1.0 + dca_tp) < target) {
            target = avg * (1.0 + dca_tp);
            target_reason = EXIT_TAKE_PROFIT;
        }
        if (r->roi_count) {
            double roi = eng_roi(r, c->open_time - t->entry_time);
            if (!isnan(roi) && avg * (1.0 + roi) < target) {
                target = avg * (1.0 + roi);
                target_reason = EXIT_ROI;
            }
        }
        if (target_reason != EXIT_NONE) {
            if (c->open >= target) {
                eng_close(e, t, c->open, c->open_time, target_reason, &ev[n++]);
                continue;
            }
            if (c->high >= target) {
                eng_close(e, t, target, c->open_time, target_reason, &ev[n++]);
                continue;
            }
        }
        if (c->high > t->peak)
            t->peak = c->high;
    }
    return n;
}

/* ---- step 3: decisions on the close ---- */

/* Room for one more entry in the portfolio (open trades plus entries already waiting). */
static int eng_has_room(const engine *e)
{
    return e->open_trades + e->pending_entries < e->cfg.risk.max_open_trades;
}

static double eng_stake(const engine *e)
{
    return engine_equity(e) * (e->cfg.risk.stake_pct / 100.0);
}

static void eng_decide_grid(engine *e, int s, const candle *c)
{
    engine_symbol *sym = &e->sym[s];
    const double *p = e->cfg.params;
    if (sym->grid_ref == 0)
        sym->grid_ref = p[STRAT_GRID_REFERENCE] > 0 ? p[STRAT_GRID_REFERENCE] : c->close;
    int levels = (int)p[STRAT_GRID_LEVELS];
    double step = sym->grid_ref * (p[STRAT_GRID_SPACING] / 100.0);
    double amount = -1;
    for (int lv = 1; lv <= levels; lv++) {
        uint32_t bit = 1u << (lv - 1);
        if (sym->grid_held & bit) {
            /* sell one level up: at the buy price of the level above (level 1: the reference) */
            if (c->close >= sym->grid_ref - (lv - 1) * step)
                sym->pend_sell |= bit;
        } else if (!sym->cooldown && c->close <= sym->grid_ref - lv * step && eng_has_room(e)) {
            if (amount < 0)
                amount = eng_stake(e);
            sym->pend_buy |= bit;
            sym->pend_amount = amount;
            e->pending_entries++;
        }
    }
}

static void eng_decide_dca(engine *e, int s, const candle *c)
{
    engine_symbol *sym = &e->sym[s];
    const double *p = e->cfg.params;
    if (!sym->open_trades) {
        if (!sym->cooldown && eng_has_room(e)) {
            sym->pend_buy = 1;
            sym->pend_amount = eng_stake(e);
            e->pending_entries++;
        }
        return;
    }
    engine_trade *t = eng_first_trade(e, s);
    int kind = 0, n = 0;
    if (t->buys < (int)p[STRAT_DCA_MAX_BUYS] && ++sym->dca_wait >= (int)p[STRAT_DCA_INTERVAL]) {
        kind |= 1;
        n++;
        sym->dca_wait = 0;
    }
    int k = t->safety + 1;
    if (k <= (int)p[STRAT_DCA_SAFETY_ORDERS] &&
        c->close <= t->first_price * (1.0 - k * p[STRAT_DCA_SAFETY_STEP] / 100.0)) {
        kind |= 2;
        n++;
    }
    if (kind) {
        sym->pend_add_kind = kind;
        sym->pend_add = t->base_amount * n;
    }
}

__attribute__((noinline)) static void eng_decide(engine *e, int s, const candle *c, int sig)
{
    engine_symbol *sym = &e->sym[s];
    switch (e->cfg.kind) {
    case STRATEGY_GRID:
        eng_decide_grid(e, s, c);
        break;
    case STRATEGY_DCA:
        eng_decide_dca(e, s, c);
        break;
    default:
        if (sig == SIG_SELL && sym->open_trades)
            sym->pend_sell = 1;
        else if (sig == SIG_BUY && !sym->open_trades && !sym->cooldown && eng_has_room(e)) {
            sym->pend_buy = 1;
            sym->pend_amount = eng_stake(e);
            e->pending_entries++;
        }
        break;
    }
    if (sym->cooldown)
        sym->cooldown--;
}

/* Low above zero, high finite and at or above open and close, low at or below them (so all
 * four are finite); NaN fails every comparison. Bitwise & keeps it to one branch. */
static inline int eng_candle_ok(const candle *c)
{
    return (c->low > 0) & (c->high < INFINITY) & (c->high >= c->open) & (c->high >= c->close) &
           (c->low <= c->open) & (c->low <= c->close);
}

/* One step without the argument checks (see engine_step). Inlined into engine_step and into
 * each of engine_run's loops, so they are the same code; `kind` is e->cfg.kind, a constant in
 * engine_run's loops so that the compiler drops the other strategies' branches. The rare work
 * (fills, exits, decisions) stays in out-of-line functions to keep this small. */
static inline __attribute__((always_inline)) int eng_step(engine *e, int s, const candle *c, trade_event *ev,
                                                          const int kind)
{
    engine_symbol *sym = &e->sym[s];
    if (!eng_candle_ok(c))
        return ENGINE_ECANDLE;
    if (c->open_time <= sym->last_time)
        return ENGINE_EORDER;
    int n = 0;
    if (sym->pend_sell | sym->pend_buy | (uint32_t)sym->pend_add_kind)
        n += eng_fill_pending(e, s, c, ev);
    if (sym->slots && e->exits_armed)
        n += eng_check_exits(e, s, c, ev + n);
    if (sym->last_time == INT64_MIN)
        sym->first_open = c->open;
    sym->last_time = c->open_time;
    sym->last_close = c->close;
    int sig = sig_update_kind(&sym->sig, c, kind);
    sym->last_signal = sig;
    /* the hot path: only an entry signal while flat, an exit signal while in a position, a
     * cooldown to count down, or a grid or dca (they decide on every candle) need a decision */
    if (kind == STRATEGY_GRID || kind == STRATEGY_DCA || (sig == SIG_BUY && !sym->slots) ||
        (sig == SIG_SELL && sym->slots) || sym->cooldown)
        eng_decide(e, s, c, sig);
    return n;
}

int engine_set_external(engine *e, int s, double value)
{
    if (!e || s < 0 || s >= e->nsymbols || e->cfg.kind != STRATEGY_ML_SIGNAL)
        return ENGINE_EINVAL;
    e->sym[s].sig.u.ext.value = value;
    return 0;
}

int engine_warm(engine *e, int s, const candle *c)
{
    if (!e || s < 0 || s >= e->nsymbols || !c)
        return ENGINE_EINVAL;
    if (!eng_candle_ok(c))
        return ENGINE_ECANDLE;
    sig_update_kind(&e->sym[s].sig, c, e->cfg.kind);
    return 0;
}

int engine_warmup_candles(const engine_config *cfg)
{
    const double *p = cfg->params;
    double n = 0;
    switch (cfg->kind) {
    case STRATEGY_SMA_CROSS:
        n = p[STRAT_CROSS_SLOW];
        break;
    case STRATEGY_EMA_CROSS:
        n = 3 * p[STRAT_CROSS_SLOW];
        break;
    case STRATEGY_RSI_REVERSION:
        n = 3 * p[STRAT_RSI_PERIOD];
        break;
    case STRATEGY_BOLLINGER_BREAKOUT:
        n = p[STRAT_BB_PERIOD];
        break;
    case STRATEGY_MACD_TREND:
        n = 3 * (p[STRAT_MACD_SLOW] + p[STRAT_MACD_SIGNAL]);
        break;
    default:
        n = 0;
    }
    return n > 0 && n < 100000 ? (int)n : 0;
}

int engine_step(engine *e, int s, const candle *c, trade_event *ev, int maxev)
{
    if (!e || s < 0 || s >= e->nsymbols || !c || !ev || maxev < ENGINE_MAX_STEP_EVENTS)
        return ENGINE_EINVAL;
    return eng_step(e, s, c, ev, e->cfg.kind);
}

/* engine_run's loop. `fast` (a constant) is the backtest's case: one symbol in use and a curve
 * with both arrays, so the loop has no tests for them. */
static inline __attribute__((always_inline)) int eng_run(engine *e, int s, const candle *c, size_t n,
                                                         engine_curve *curve, size_t *done, trade_event *ev,
                                                         const int kind, const int fast)
{
    /* locals, not stores through the pointers: those could alias the engine and the curve,
     * which would keep the compiler from holding anything in registers */
    double *equity = curve ? curve->equity : NULL;
    int64_t *times = curve ? curve->times : NULL;
    const int64_t tf = e->cfg.timeframe_ms;
    const engine_symbol *sym0 = &e->sym[0];
    size_t i = 0, held = 0;
    int k = 0;
    while (i < n) {
        k = eng_step(e, s, &c[i], ev, kind);
        if (__builtin_expect(k < 0, 0))
            break;
        if (fast) {
            /* engine_equity with one symbol (the same arithmetic, without its loop) */
            times[i] = c[i].open_time + tf;
            equity[i] = sym0->slots ? e->cash + sym0->qty * sym0->last_close : e->cash;
            held += sym0->slots != 0;
        } else {
            if (times)
                times[i] = c[i].open_time + tf;
            if (equity)
                equity[i] = engine_equity(e);
            held += e->open_trades > 0;
        }
        i++;
        if (__builtin_expect(k != 0, 0))
            break;
    }
    *done = i;
    if (curve)
        curve->exposed += held;
    return k;
}

#define ENG_RUN_KIND(K)                                                                            \
    case K:                                                                                        \
        return fast ? eng_run(e, s, c, n, curve, done, ev, K, 1) : eng_run(e, s, c, n, curve, done, ev, K, 0)

int engine_run(engine *e, int s, const candle *c, size_t n, engine_curve *curve, size_t *done, trade_event *ev,
               int maxev)
{
    *done = 0;
    if (!e || s < 0 || s >= e->nsymbols || (n && !c) || !ev || maxev < ENGINE_MAX_STEP_EVENTS)
        return ENGINE_EINVAL;
    int fast = e->nsymbols == 1 && curve && curve->equity && curve->times;
    switch (e->cfg.kind) {
        ENG_RUN_KIND(STRATEGY_SMA_CROSS);
        ENG_RUN_KIND(STRATEGY_EMA_CROSS);
        ENG_RUN_KIND(STRATEGY_RSI_REVERSION);
        ENG_RUN_KIND(STRATEGY_BOLLINGER_BREAKOUT);
        ENG_RUN_KIND(STRATEGY_MACD_TREND);
        ENG_RUN_KIND(STRATEGY_GRID);
        ENG_RUN_KIND(STRATEGY_ML_SIGNAL);
    default:
        return fast ? eng_run(e, s, c, n, curve, done, ev, STRATEGY_DCA, 1)
                    : eng_run(e, s, c, n, curve, done, ev, STRATEGY_DCA, 0);
    }
}

int engine_close_all(engine *e, int s, int64_t time, trade_event *ev, int maxev)
{
    if (!e || s < -1 || s >= e->nsymbols || !ev || maxev < ENGINE_MAX_TRADES)
        return ENGINE_EINVAL;
    int n = 0;
    for (int i = 0; i < ENGINE_MAX_TRADES; i++) {
        engine_trade *t = &e->trades[i];
        if (t->id && (s < 0 || t->sym == s))
            eng_close(e, t, e->sym[t->sym].last_close, time, EXIT_END_OF_DATA, &ev[n++]);
    }
    for (int k = 0; k < e->nsymbols; k++) {
        engine_symbol *sym = &e->sym[k];
        if (s >= 0 && k != s)
            continue;
        e->pending_entries -= __builtin_popcount(sym->pend_buy);
        sym->pend_buy = sym->pend_sell = 0;
        sym->pend_amount = sym->pend_add = 0;
        sym->pend_add_kind = 0;
    }
    return n;
}
