/* engine.h — the event-driven trading engine shared by backtests, paper bots and live bots: one
 * closed candle at a time, fills at the next open, risk exits inside the candle, a flat saved state. */
#ifndef BCF_TRADING_ENGINE_H
#define BCF_TRADING_ENGINE_H
#include "candles.h"
#include "signals.h"
#include "strategy.h"
#include <stddef.h>
#include <stdint.h>

/*
 * The order of work inside engine_step(e, sym, c) — the whole contract, see docs/trading.md:
 *
 *  1. Fills. Orders decided on this symbol's previous closed candle are filled at THIS candle's
 *     open: sells first (they free cash), then buys. Buys fill at open × (1 + slippage), sells at
 *     open × (1 − slippage); the fee is charged on the notional of each fill.
 *  2. Risk exits, against this candle's range, for every open trade of the symbol (those just
 *     filled included). When the open is already beyond a level, the fill is at the open. The
 *     downside is checked first: if the low reaches the stop-loss or trailing stop, the trade
 *     closes there even when the high also reached the take-profit — a candle does not say which
 *     came first, so the engine assumes the worse. Then take-profit and ROI against the high.
 *     The trailing stop of this candle uses the peak of the previous candles only.
 *  3. Signals. The strategy's indicators take this candle's close and decide orders, which wait
 *     for the next candle's open (step 1 of the next call). Nothing decided on candle t can fill
 *     before t + 1 opens, so no decision can use a price it could not have seen.
 *
 * Long-only spot. One cash balance for the portfolio; max_open_trades counts every open trade
 * and every pending entry across all symbols. Symbols are indexes 0..nsymbols-1; the caller maps
 * them to markets.
 */

#define ENGINE_MAX_SYMBOLS 8
#define ENGINE_MAX_TRADES STRATEGY_MAX_OPEN_TRADES
/* Most events one step can write: every trade slot closes once, and at most one buy per grid
 * level (or one entry and one DCA add) is filled. */
#define ENGINE_MAX_STEP_EVENTS (ENGINE_MAX_TRADES + STRATEGY_MAX_GRID_LEVELS + 2)

#define ENGINE_MAGIC 0x45464342u /* "BCFE" little-endian */
#define ENGINE_VERSION 1u

/* Error returns of the engine functions. */
#define ENGINE_EINVAL (-1) /* bad argument: symbol out of range, buffer too small, bad config */
#define ENGINE_ECANDLE (-2) /* invalid candle (not finite, low <= 0, high/low not around open/close) */
#define ENGINE_EORDER (-3)  /* the candle's open time is not after the symbol's previous candle */
#define ENGINE_ESTATE (-4)  /* a saved state that does not belong to this build or is corrupt */

typedef enum exit_reason {
    EXIT_NONE = 0,
    EXIT_SIGNAL,        /* the strategy said so (filled at the next open) */
    EXIT_STOP_LOSS,     /* low reached entry × (1 − stop_loss) */
    EXIT_TAKE_PROFIT,   /* high reached entry × (1 + take_profit) (dca: its own take_profit_pct) */
    EXIT_TRAILING_STOP, /* low reached peak × (1 − trailing_stop) once armed */
    EXIT_ROI,           /* high reached the ROI table's target for the trade's age */
    EXIT_END_OF_DATA,   /* closed by engine_close_all at the last close (end of a backtest) */
    EXIT_REASON_COUNT
} exit_reason;

/* "signal", "stop_loss", "take_profit", "trailing_stop", "roi", "end_of_data"; "none" else. */
const char *exit_reason_name(int reason);

typedef enum trade_event_kind {
    TEV_OPEN = 1,  /* a new trade: buy */
    TEV_ADD = 2,   /* dca: a periodic or safety buy added to an open trade */
    TEV_CLOSE = 3, /* the trade closed: sell of its whole quantity */
} trade_event_kind;

typedef enum trade_side { SIDE_BUY = 1, SIDE_SELL = 2 } trade_side;

/* What engine_step reports. Opens/adds fill the first block; a close fills all of it. */
typedef struct trade_event {
    int32_t kind;     /* trade_event_kind */
    int32_t sym;      /* symbol index */
    int32_t side;     /* trade_side: opens and adds buy, closes sell */
    int32_t reason;   /* close: exit_reason; else EXIT_NONE */
    int32_t tag;      /* grid: the level (1-based); else 0 */
    int32_t reserved;
    int64_t trade_id; /* 1, 2, ... in the order trades open */
    int64_t time;     /* fill time: the candle's open time (exits inside a candle too; end of data:
                         the last candle's close time) */
    double price;     /* fill price, slippage included */
    double qty;       /* base quantity of this fill */
    double fee;       /* fee of this fill, in quote */
    /* closes only (0 otherwise): */
    int64_t entry_time;  /* when the trade opened */
    double entry_price;  /* average entry fill price, weighted by quantity */
    double cost;         /* quote spent on its buys, their fees included */
    double proceeds;     /* quote received for the sale, net of its fee */
    double fees;         /* every fee of the trade (buys and the sale) */
    double pnl;          /* proceeds − cost */
    double pnl_pct;      /* pnl / cost × 100 */
} trade_event;

/* An open trade (a slot of the portfolio). */
typedef struct engine_trade {
    int64_t id;         /* 0: the slot is free */
    int64_t entry_time;
    double qty;         /* base quantity held */
    double cost;        /* quote spent, fees included */
    double fees;        /* fees paid so far */
    double entry_price; /* average fill price (risk levels are relative to it) */
    double first_price; /* dca: the first buy's fill price (safety orders step down from it) */
    double base_amount; /* dca: quote amount of the first buy (every later buy repeats it) */
    double peak;        /* highest high since entry, up to the previous candle (trailing stop; kept
                           only while exits_armed) */
    int32_t sym;
    int32_t tag;        /* grid level (1-based), else 0 */
    int32_t buys;       /* dca: periodic buys filled (the first included) */
    int32_t safety;     /* dca: safety orders filled */
} engine_trade;

/* Per symbol: the market's last prices, orders waiting for the next open, the strategy's state. */
typedef struct engine_symbol {
    int64_t last_time;    /* open time of the last candle; INT64_MIN before the first (the
                             count of candles processed is sig.candles) */
    double first_open;    /* open of the first candle (buy-and-hold reference) */
    double last_close;    /* close of the last candle (marks positions to market) */
    double qty;           /* base quantity held over all its trades */
    double pend_amount;   /* quote to spend on each pending entry */
    double pend_add;      /* dca: quote to add to the open trade at the next open */
    double grid_ref;      /* grid: reference price (0 until set) */
    uint64_t slots;       /* bit i: trades[i] is an open trade of this symbol */
    uint32_t pend_buy;    /* entries pending: bit 0 (grid: bit level-1) */
    uint32_t pend_sell;   /* exits pending: bit 0 = every trade (grid: bit level-1) */
    uint32_t grid_held;   /* grid: levels with an open trade (bit level-1) */
    int32_t pend_add_kind; /* dca: 1 periodic, 2 safety, 3 both */
    int32_t open_trades;  /* open trades of this symbol */
    int32_t cooldown;     /* candles left before an entry may be decided again */
    int32_t dca_wait;     /* dca: candles since the last periodic buy was decided */
    int32_t last_signal;  /* sig_value of the last candle */
    sig_state sig;
} engine_symbol;

/*
 * The whole engine: a flat value (no pointers), so it can be copied, saved as bytes between the
 * ticks of a paper bot and resumed; a resumed engine continues bit for bit as if never stopped.
 * Its size is about 8.4 KiB per symbol plus 6 KiB; engine_save writes only the symbols in use.
 */
typedef struct engine {
    engine_config cfg;
    int32_t nsymbols;
    int32_t open_trades;      /* over all symbols */
    int32_t pending_entries;  /* entries decided, waiting for their open */
    int32_t exits_armed;      /* 1 when some in-candle exit is configured (derived from cfg) */
    int64_t next_trade_id;
    int64_t orders_skipped;   /* buys not filled: no cash left, or no free slot */
    double initial_balance;
    double cash;              /* quote currency, never negative */
    double fees_paid;         /* all fees so far */
    engine_trade trades[ENGINE_MAX_TRADES];
    engine_symbol sym[ENGINE_MAX_SYMBOLS]; /* last: saved states hold only the first nsymbols */
} engine;

/* Checks cfg (engine_config_check) and starts an engine with nsymbols (1..ENGINE_MAX_SYMBOLS)
 * and initial_balance (> 0, finite) of quote currency. Returns 0 or ENGINE_EINVAL. */
int engine_init(engine *e, const engine_config *cfg, int nsymbols, double initial_balance);

/* Processes one CLOSED candle of symbol sym (see the order above). Writes what happened to
 * ev[0..) and returns the number of events (0..ENGINE_MAX_STEP_EVENTS), or a negative
 * ENGINE_E* with the engine unchanged. maxev must be at least ENGINE_MAX_STEP_EVENTS.
 * A symbol's candles must come in increasing open time; symbols may interleave freely. */
int engine_step(engine *e, int sym, const candle *c, trade_event *ev, int maxev);

/* What engine_run records after each candle (the backtest's equity curve). */
typedef struct engine_curve {
    double *equity;  /* equity[i] = engine_equity() after c[i]; NULL: not recorded */
    int64_t *times;  /* times[i] = c[i].open_time + timeframe (its close); NULL: not recorded */
    size_t exposed;  /* incremented for each candle after which a trade is open */
} engine_curve;

/* engine_step over c[0..n) of one symbol, for backtests: stops after the first candle that
 * produced events (they are in ev, the return value counts them) or after the last candle;
 * *done = candles consumed. curve (may be NULL) receives one point per candle consumed.
 * Returns the events of the last candle consumed (0..), or a negative ENGINE_E* for c[*done]
 * (the candles before it were processed). The same code as engine_step, candle for candle. */
int engine_run(engine *e, int sym, const candle *c, size_t n, engine_curve *curve, size_t *done, trade_event *ev,
               int maxev);

/* Closes every open trade of sym (−1: of every symbol) at its last close, with slippage and
 * fee, reason end_of_data, at time `time`; pending orders are dropped. Returns the number of
 * events, or ENGINE_EINVAL. Backtests call it after the last candle. */
int engine_close_all(engine *e, int sym, int64_t time, trade_event *ev, int maxev);

/* 1 when cfg has an exit checked inside candles (stop-loss, take-profit, trailing stop, ROI
 * table, or dca's take-profit); the engine skips that check otherwise. */
int engine_exits_armed(const engine_config *cfg);

/* How many candles before the first traded one the strategy's indicators need to be settled:
 * the longest period (three times it for the exponentially smoothed ones: EMA, MACD, RSI);
 * 0 for grid and dca. Backtests and bots warm the engine on that many candles (at most
 * backtests.warmup_max), so both start from the same state. */
int engine_warmup_candles(const engine_config *cfg);
/* Feeds one closed candle before the start to sym's indicators only: no fills, exits, orders,
 * equity or candle count. Call before the first engine_step of sym, candles in order.
 * 0, ENGINE_EINVAL or ENGINE_ECANDLE. */
int engine_warm(engine *e, int sym, const candle *c);

/* ml_signal: the value the next candle of sym is judged by (a model's up-probability for that
 * candle, NAN for none). Set it before each engine_step or engine_warm of the symbol; engine_run
 * judges every candle of its run by the value last set, so per-candle values mean one candle per
 * call. 0, or ENGINE_EINVAL (another strategy, a bad symbol). */
int engine_set_external(engine *e, int sym, double value);

/* Cash plus every position at its symbol's last close. */
double engine_equity(const engine *e);

/* Bytes engine_save writes for e: a header (magic, version, sizeof(engine), nsymbols, checksum)
 * and the state up to the last symbol in use. */
size_t engine_state_size(const engine *e);
/* Writes the state to buf (len >= engine_state_size(e)); returns the bytes written or
 * ENGINE_EINVAL. */
long engine_save(const engine *e, void *buf, size_t len);
/* Restores a state written by engine_save. Refuses (ENGINE_ESTATE, *e unchanged) a blob of
 * another magic, version or struct size, a wrong length, a checksum mismatch, or contents that
 * fail validation. Returns 0 (ENGINE_EINVAL when out of memory for the check). */
int engine_load(engine *e, const void *buf, size_t len);
#endif
