/* candles.h — OHLCV candles: the struct the trading engine passes around, timeframes, and
 * validated parsing of Binance kline CSV and generic OHLCV CSV (pure: the caller does the I/O). */
#ifndef BCF_TRADING_CANDLES_H
#define BCF_TRADING_CANDLES_H
#include <stddef.h>
#include <stdint.h>

/* Prices and volumes are doubles: market data is measured, not owed, so binary floating point
 * is exact enough and fast for indicators. Times are UTC epoch milliseconds, the unit exchanges use. */
typedef struct candle {
    int64_t open_time;
    double open, high, low, close, volume;
} candle;

typedef enum candle_format {
    CANDLE_FORMAT_BINANCE, /* kline CSV: 12 columns, no header (a leading "open_time,..." row is skipped) */
    CANDLE_FORMAT_GENERIC, /* header "timestamp,open,high,low,close,volume", then rows */
} candle_format;

/* One rejected row: its 1-based line number in the file and why. */
typedef struct candle_error {
    int line;
    char reason[112];
} candle_error;

/* Milliseconds in a timeframe ("1m", "5m", "15m", "1h", "4h", "1d"); 0 for anything else. */
int64_t candle_timeframe_ms(const char *tf);
/* "binance" or "generic" into *out; 0, or -1 when unknown. */
int candle_format_parse(const char *name, candle_format *out);
/* UTC epoch ms of the first instant of the calendar month holding ms (ms >= 0). */
int64_t candle_month_start_ms(int64_t ms);
/* "2024-01-02", "2024-01-02T03:04:05Z" (optional .fff, "Z" or "+00:00") into epoch ms; 0 or -1. */
int candle_parse_time(const char *s, size_t len, int64_t *ms);

/* The row rules the database also enforces: finite numbers, low > 0, high >= max(open, close),
 * low <= min(open, close), volume >= 0, open_time >= 0 and a multiple of tf_ms. Returns 0, or -1
 * with the reason in reason. */
int candle_check(const candle *c, int64_t tf_ms, char *reason, size_t reasonlen);

/* Parses one line (without its newline; a trailing '\r' is ignored). Returns 1 with *out filled,
 * 0 for a line that holds no candle (blank, or the header row when is_first), or -1 with the
 * reason. Checks the row on its own (candle_check) but not its order against other rows. */
int candle_parse_line(candle_format fmt, const char *line, size_t len, int is_first, int64_t tf_ms, candle *out,
                      char *reason, size_t reasonlen);

/* Parses a whole file held in data[0..len): every line is checked, and rows must have strictly
 * increasing open times. On success (return 0) *rows (malloc'd, the caller frees) holds *nrows
 * candles. When any line is bad, returns -1, *rows is NULL, the first maxerr problems are in errs
 * and *nerr counts them all. -2 when out of memory. */
int candles_parse(candle_format fmt, const char *data, size_t len, int64_t tf_ms, candle **rows, size_t *nrows,
                  candle_error *errs, size_t maxerr, size_t *nerr);
#endif
