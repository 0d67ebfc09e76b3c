/* candles.c — `botctl candles import|synth`: loads a validated candle CSV, or a seeded synthetic
 * series, into the candles table in one audited, idempotent transaction (all rows or none). */
#include "arena.h"
#include "candles.h"
#include "commands.h"
#include "db.h"
#include "exchange.h"
#include "sync.h"
#include "market_store.h"
#include "synth.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CANDLES_MAX_REPORTED 20             /* bad lines printed before "... and N more" */
#define CANDLES_MAX_FILE (1024L * 1024 * 1024) /* a year of 1m candles is ~60 MiB of Binance CSV */
#define CANDLES_MAX_SYNTH 5000000

typedef struct candles_opts {
    const char *exchange, *symbol, *base, *quote, *timeframe, *format, *from, *to, *file;
    long long count;
    uint64_t seed;
    double price;
    int have_seed;
} candles_opts;

static void candles_usage(void)
{
    fprintf(stderr,
            "usage: botctl candles import --exchange EX --symbol SYM --timeframe TF --format binance|generic FILE\n"
            "       botctl candles synth --exchange EX --symbol SYM --timeframe TF --from DATE --count N --seed S\n"
            "                            [--price P]\n"
            "       botctl candles sync --exchange EX --symbol SYM --timeframe TF --from DATE [--to DATE]\n"
            "                            (closed candles from the exchange; --to defaults to now)\n"
            "  TF is 1m, 5m, 15m, 1h, 4h or 1d; EX is lower case (binance, demo); SYM upper case (BTCUSDT);\n"
            "  --base/--quote name the assets when SYM does not end in a known quote asset.\n");
}

/* Through the shared store (lib/market_store.h), as the web upload does; the operator acts, so
 * the audit record has no user and no tenant. */
static int candles_store(arena *a, const candles_opts *o, const char *action, const candle *rows, size_t n,
                         json_t *extra, long *inserted)
{
    ctx c = {.a = a, .user_id = 0, .tenant_id = 0, .ip = "", .request_id = ""};
    market_ref m = {o->exchange, o->symbol, o->base, o->quote};
    market_store_result res;
    int rc = market_store_candles(&c, &m, o->timeframe, action, rows, n, extra, &res);
    if (rc != 0) {
        fprintf(stderr, "botctl candles: nothing stored: %s\n",
                rc == MARKET_STORE_EINVAL ? "invalid market or timeframe"
                : *db_error()             ? db_error()
                                          : "the database refused");
        return -1;
    }
    *inserted = res.inserted;
    return 0;
}

static char *candles_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "botctl candles: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *g = cap <= (size_t)CANDLES_MAX_FILE ? realloc(buf, cap) : NULL;
            if (!g) {
                fprintf(stderr, "botctl candles: %s: too large or out of memory\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = g;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "botctl candles: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int candles_import(arena *a, const candles_opts *o, int64_t tf_ms)
{
    candle_format fmt;
    if (!o->format || candle_format_parse(o->format, &fmt) != 0) {
        fprintf(stderr, "botctl candles: --format must be binance or generic\n");
        return 2;
    }
    size_t len;
    char *data = candles_read_file(o->file, &len);
    if (!data)
        return 1;
    candle *rows = NULL;
    size_t n = 0, nerr = 0;
    candle_error errs[CANDLES_MAX_REPORTED];
    int prc = candles_parse(fmt, data, len, tf_ms, &rows, &n, errs, CANDLES_MAX_REPORTED, &nerr);
    free(data);
    int rc = 1;
    if (prc == -2) {
        fprintf(stderr, "botctl candles: out of memory\n");
        goto done;
    }
    if (prc < 0) {
        for (size_t i = 0; i < nerr && i < CANDLES_MAX_REPORTED; i++)
            fprintf(stderr, "line %d: %s\n", errs[i].line, errs[i].reason);
        if (nerr > CANDLES_MAX_REPORTED)
            fprintf(stderr, "... and %zu more bad lines\n", nerr - CANDLES_MAX_REPORTED);
        fprintf(stderr, "botctl candles: %s: %zu bad line%s, nothing imported\n", o->file, nerr, nerr == 1 ? "" : "s");
        goto done;
    }
    if (n == 0) {
        fprintf(stderr, "botctl candles: %s: no candles in the file, nothing imported\n", o->file);
        goto done;
    }
    json_t *after = json_object();
    json_object_set_new(after, "format", json_string(o->format));
    long inserted = 0;
    if (candles_store(a, o, "candles.import", rows, n, after, &inserted) == 0) {
        printf("imported %zu candles (%ld new)\n", n, inserted);
        rc = 0;
    }
    json_decref(after);
done:
    free(rows);
    return rc;
}

static int candles_synth(arena *a, const candles_opts *o, int64_t tf_ms)
{
    synth_params sp;
    synth_defaults(&sp);
    sp.tf_ms = tf_ms;
    if (!o->from || candle_parse_time(o->from, strlen(o->from), &sp.start_ms) != 0 || sp.start_ms % tf_ms != 0) {
        fprintf(stderr, "botctl candles: --from must be a UTC date or time (2024-01-01, 2024-01-01T05:00:00Z) "
                        "aligned to the timeframe\n");
        return 2;
    }
    if (o->count < 1 || o->count > CANDLES_MAX_SYNTH || !o->have_seed) {
        fprintf(stderr, "botctl candles: synth needs --seed and --count between 1 and %d\n", CANDLES_MAX_SYNTH);
        return 2;
    }
    sp.seed = o->seed;
    if (o->price > 0)
        sp.start_price = o->price;
    size_t n = (size_t)o->count;
    candle *rows = malloc(n * sizeof *rows);
    if (!rows || synth_generate(&sp, rows, n, NULL) != 0) {
        fprintf(stderr, "botctl candles: cannot generate the series\n");
        free(rows);
        return 1;
    }
    json_t *after = json_object();
    json_object_set_new(after, "seed", json_integer((json_int_t)sp.seed));
    json_object_set_new(after, "start_price", json_real(sp.start_price));
    long inserted = 0;
    int rc = 1;
    if (candles_store(a, o, "candles.synth", rows, n, after, &inserted) == 0) {
        printf("generated %zu candles (%ld new)\n", n, inserted);
        rc = 0;
    }
    json_decref(after);
    free(rows);
    return rc;
}

/* Fetches a range of closed candles from the exchange's adapter and upserts them. */
static int candles_sync(const candles_opts *o)
{
    int64_t from, to;
    if (!o->from || candle_parse_time(o->from, strlen(o->from), &from) != 0 ||
        (o->to && candle_parse_time(o->to, strlen(o->to), &to) != 0)) {
        fprintf(stderr, "botctl candles: sync needs --from (and optionally --to) as a UTC date or time\n");
        return 2;
    }
    if (!o->to)
        to = (int64_t)time(NULL) * 1000;
    exchange *ex = exchange_open(o->exchange, NULL);
    if (!ex) {
        fprintf(stderr, "botctl candles: no exchange adapter for '%s'\n", o->exchange);
        return 2;
    }
    exchange_sync_result r;
    int rc = exchange_sync_klines(ex, o->symbol, o->timeframe, from, to, &r);
    if (rc == EXCHANGE_SYNC_ERR_DB)
        fprintf(stderr, "botctl candles: nothing stored: %s\n", *db_error() ? db_error() : "the database refused");
    else if (rc != 0)
        fprintf(stderr, "botctl candles: nothing stored: %s: %s\n", exchange_err_name(rc),
                exchange_last_error(ex)->message);
    else
        printf("synced %ld candles (%ld new) in %d requests\n", r.fetched, r.inserted, r.pages);
    exchange_close(ex);
    return rc == 0 ? 0 : 1;
}

static int candles_parse_opts(int argc, char **argv, candles_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (k[0] != '-' || k[1] != '-') {
            if (o->file)
                return -1;
            o->file = k;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        char *end;
        if (!strcmp(k, "--exchange"))
            o->exchange = v;
        else if (!strcmp(k, "--symbol"))
            o->symbol = v;
        else if (!strcmp(k, "--base"))
            o->base = v;
        else if (!strcmp(k, "--quote"))
            o->quote = v;
        else if (!strcmp(k, "--timeframe"))
            o->timeframe = v;
        else if (!strcmp(k, "--format"))
            o->format = v;
        else if (!strcmp(k, "--from"))
            o->from = v;
        else if (!strcmp(k, "--to"))
            o->to = v;
        else if (!strcmp(k, "--count")) {
            errno = 0;
            o->count = strtoll(v, &end, 10);
            if (*end || errno || end == v)
                return -1;
        } else if (!strcmp(k, "--seed")) {
            errno = 0;
            o->seed = strtoull(v, &end, 10);
            if (*end || errno || end == v || v[0] == '-')
                return -1;
            o->have_seed = 1;
        } else if (!strcmp(k, "--price")) {
            o->price = strtod(v, &end);
            if (*end || end == v || !(o->price > 0))
                return -1;
        } else
            return -1;
    }
    return 0;
}

int cmd_candles(int argc, char **argv)
{
    candles_opts o = {0};
    int import = argc >= 1 && !strcmp(argv[0], "import");
    int synth = argc >= 1 && !strcmp(argv[0], "synth");
    int sync = argc >= 1 && !strcmp(argv[0], "sync");
    if ((!import && !synth && !sync) || candles_parse_opts(argc, argv, &o) != 0 || (import && !o.file) ||
        ((synth || sync) && o.file)) {
        candles_usage();
        return 2;
    }
    int64_t tf_ms = candle_timeframe_ms(o.timeframe);
    if (!market_exchange_ok(o.exchange) || !market_symbol_ok(o.symbol) || tf_ms == 0) {
        fprintf(stderr, "botctl candles: need --exchange (lower case), --symbol (upper case, e.g. BTCUSDT) and "
                        "--timeframe (1m, 5m, 15m, 1h, 4h, 1d)\n");
        return 2;
    }
    if (sync)
        return candles_sync(&o);
    arena a;
    arena_init(&a, 16384);
    const char *base, *quote;
    if (market_assets(&a, o.symbol, o.base, o.quote, &base, &quote) != 0) {
        fprintf(stderr, "botctl candles: cannot tell the base and quote assets of %s: pass --base and --quote\n",
                o.symbol);
        arena_destroy(&a);
        return 2;
    }
    int rc = import ? candles_import(&a, &o, tf_ms) : candles_synth(&a, &o, tf_ms);
    arena_destroy(&a);
    return rc;
}
