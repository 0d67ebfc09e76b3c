/* candles.c — `botctl candles import|synth`: loads a validated candle CSV, or a seeded synthetic
 * series, into the candles table in one audited, idempotent transaction (all rows or none). */
#include "arena.h"
#include "audit.h"
#include "candles.h"
#include "commands.h"
#include "db.h"
#include "exchange.h"
#include "sync.h"
#include "synth.h"
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CANDLES_MAX_REPORTED 20             /* bad lines printed before "... and N more" */
#define CANDLES_BATCH 2000                  /* rows per INSERT statement */
#define CANDLES_MAX_FILE (1024L * 1024 * 1024) /* a year of 1m candles is ~60 MiB of Binance CSV */
#define CANDLES_MAX_SYNTH 5000000

typedef struct candles_opts {
    const char *exchange, *symbol, *base, *quote, *timeframe, *format, *from, *to, *file;
    long long count;
    uint64_t seed;
    double price;
    int have_seed;
} candles_opts;

/* One store: the market, the rows, and what the audit record says about them. */
typedef struct candles_job {
    arena *a;
    const candles_opts *o;
    const char *action; /* candles.import or candles.synth */
    const candle *rows;
    size_t n;
    long long market_id;
    long inserted;
    json_t *after;
} candles_job;

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

static int candles_match(const char *re, const char *s)
{
    regex_t r;
    if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

/* Splits SYM into base and quote by its quote-asset suffix, unless --base/--quote say. */
static int candles_assets(arena *a, const candles_opts *o, const char **base, const char **quote)
{
    static const char *quotes[] = {"USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BRL", "EUR", "USD", "BTC", "ETH", "BNB"};
    *base = o->base;
    *quote = o->quote;
    size_t sl = strlen(o->symbol);
    for (size_t i = 0; !*quote && i < sizeof quotes / sizeof quotes[0]; i++) {
        size_t ql = strlen(quotes[i]);
        if (sl > ql && !strcmp(o->symbol + sl - ql, quotes[i])) {
            *quote = quotes[i];
            if (!*base)
                *base = arena_strndup(a, o->symbol, sl - ql);
        }
    }
    if (*quote && !*base && sl > strlen(*quote) && !strcmp(o->symbol + sl - strlen(*quote), *quote))
        *base = arena_strndup(a, o->symbol, sl - strlen(*quote));
    if (!*base || !*quote || !candles_match("^[A-Z0-9]{1,16}$", *base) || !candles_match("^[A-Z0-9]{1,16}$", *quote)) {
        fprintf(stderr, "botctl candles: cannot tell the base and quote assets of %s: pass --base and --quote\n",
                o->symbol);
        return -1;
    }
    return 0;
}

static int candles_market(candles_job *j, int *created)
{
    const char *base, *quote;
    if (candles_assets(j->a, j->o, &base, &quote) < 0)
        return -1;
    const char *p[] = {j->o->exchange, j->o->symbol, base, quote};
    PGresult *r = db_query(j->a, NULL,
                           "INSERT INTO markets (exchange, symbol, base, quote) VALUES ($1, $2, $3, $4) "
                           "ON CONFLICT (exchange, symbol) DO NOTHING RETURNING id",
                           4, p);
    if (!r)
        return -1;
    *created = PQntuples(r) == 1;
    if (!*created) {
        r = db_query(j->a, NULL, "SELECT id FROM markets WHERE exchange = $1 AND symbol = $2", 2, p);
        if (!r || PQntuples(r) != 1)
            return -1;
    }
    j->market_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    return 0;
}

/* Appends rows[from..to) field f as a PostgreSQL array literal: "{v,v,...}". */
static char *candles_array(const candle *rows, size_t from, size_t to, int f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    fputc('{', m);
    for (size_t i = from; i < to; i++) {
        const candle *c = &rows[i];
        if (i > from)
            fputc(',', m);
        if (f == 0)
            fprintf(m, "%" PRId64, c->open_time);
        else {
            /* 17 significant digits give back the same double after the round trip */
            double v = f == 1 ? c->open : f == 2 ? c->high : f == 3 ? c->low : f == 4 ? c->close : c->volume;
            fprintf(m, "%.17g", v);
        }
    }
    fputc('}', m);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int candles_insert_batch(candles_job *j, size_t from, size_t to)
{
    char mid[32];
    snprintf(mid, sizeof mid, "%lld", j->market_id);
    char *arr[6] = {0};
    int rc = -1;
    for (int f = 0; f < 6; f++)
        if (!(arr[f] = candles_array(j->rows, from, to, f)))
            goto done;
    const char *p[] = {mid, j->o->timeframe, arr[0], arr[1], arr[2], arr[3], arr[4], arr[5]};
    /* new rows are counted before the upsert: RETURNING cannot read xmax on a partitioned table */
    PGresult *r = db_query(j->a, NULL,
                           "SELECT count(*) FROM candles WHERE market_id = $1::bigint AND timeframe = $2 "
                           "AND open_time = ANY ($3::bigint[])",
                           3, p);
    if (!r || PQntuples(r) != 1)
        goto done;
    long existing = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    if (db_exec(j->a, NULL,
                "INSERT INTO candles (market_id, timeframe, open_time, open, high, low, close, volume) "
                "SELECT $1::bigint, $2, t.* FROM unnest($3::bigint[], $4::float8[], $5::float8[], $6::float8[], "
                "$7::float8[], $8::float8[]) AS t "
                "ON CONFLICT (market_id, timeframe, open_time) DO UPDATE SET open = EXCLUDED.open, "
                "high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume",
                8, p) != (long)(to - from))
        goto done;
    j->inserted += (long)(to - from) - existing;
    rc = 0;
done:
    for (int f = 0; f < 6; f++)
        free(arr[f]);
    return rc;
}

static int candles_store_tx(void *arg)
{
    candles_job *j = arg;
    int created = 0;
    j->inserted = 0;
    if (candles_market(j, &created) < 0)
        return -1;
    /* rows are in time order, so each month shows up as one run */
    int64_t month = -1;
    for (size_t i = 0; i < j->n; i++) {
        int64_t m = candle_month_start_ms(j->rows[i].open_time);
        if (m == month)
            continue;
        month = m;
        char ms[32];
        snprintf(ms, sizeof ms, "%" PRId64, m);
        const char *p[] = {ms};
        if (!db_query(j->a, "candles_ensure_partition", "SELECT candles_ensure_partition($1::bigint)", 1, p))
            return -1;
    }
    for (size_t from = 0; from < j->n; from += CANDLES_BATCH)
        if (candles_insert_batch(j, from, from + CANDLES_BATCH < j->n ? from + CANDLES_BATCH : j->n) < 0)
            return -1;
    json_object_set_new(j->after, "new", json_integer(j->inserted));
    json_object_set_new(j->after, "market_created", json_boolean(created));
    ctx c = {.a = j->a, .user_id = 0, .tenant_id = 0, .ip = "", .request_id = ""};
    char id[32];
    snprintf(id, sizeof id, "%lld", j->market_id);
    return audit_record(&c, j->action, "market", id, NULL, j->after) == 0 ? 0 : -1;
}

static int candles_store(arena *a, const candles_opts *o, const char *action, const candle *rows, size_t n,
                         json_t *after, long *inserted)
{
    candles_job j = {.a = a, .o = o, .action = action, .rows = rows, .n = n, .after = after};
    json_object_set_new(after, "exchange", json_string(o->exchange));
    json_object_set_new(after, "symbol", json_string(o->symbol));
    json_object_set_new(after, "timeframe", json_string(o->timeframe));
    json_object_set_new(after, "rows", json_integer((json_int_t)n));
    json_object_set_new(after, "first_open_time", json_integer(rows[0].open_time));
    json_object_set_new(after, "last_open_time", json_integer(rows[n - 1].open_time));
    if (db_tx(candles_store_tx, &j) != 0) {
        fprintf(stderr, "botctl candles: nothing stored: %s\n", *db_error() ? db_error() : "the database refused");
        return -1;
    }
    *inserted = j.inserted;
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
    if (!o.exchange || !candles_match("^[a-z0-9_]{1,32}$", o.exchange) || !o.symbol ||
        !candles_match("^[A-Z0-9]{2,32}$", o.symbol) || tf_ms == 0) {
        fprintf(stderr, "botctl candles: need --exchange (lower case), --symbol (upper case, e.g. BTCUSDT) and "
                        "--timeframe (1m, 5m, 15m, 1h, 4h, 1d)\n");
        return 2;
    }
    if (sync)
        return candles_sync(&o);
    arena a;
    arena_init(&a, 16384);
    int rc = import ? candles_import(&a, &o, tf_ms) : candles_synth(&a, &o, tf_ms);
    arena_destroy(&a);
    return rc;
}
