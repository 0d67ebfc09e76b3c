/* exchange.c — `botctl exchange ...`: an operator's direct line to an exchange adapter (ping, clock,
 * prices, balances, orders, key checks), with --repeat to watch retries and the circuit breaker at work. */
#include "arena.h"
#include "audit.h"
#include "commands.h"
#include "db.h"
#include "exchange.h"
#include "http.h"
#include "vault.h"
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct exchange_cli {
    const char *exchange, *credential, *client_id, *order_id, *tif, *from, *to;
    int repeat, trade;
    long interval_ms, limit;
    const char *args[6];
    int nargs;
    long long tenant_id, user_id; /* of the stored credential, 0 for keys from the environment */
} exchange_cli;

static void exchange_usage(void)
{
    fprintf(stderr,
            "usage: botctl exchange [--exchange binance] [--credential ID] [--repeat N] [--interval-ms MS] COMMAND\n"
            "  ping | time | info SYMBOL | ticker SYMBOL\n"
            "  klines SYMBOL TF [--from DATE] [--to DATE] [--limit N]\n"
            "  balances | open-orders [SYMBOL] | validate [--trade]\n"
            "  order SYMBOL BUY|SELL MARKET|LIMIT QTY [PRICE] [--client-id ID] [--tif GTC|IOC|FOK]\n"
            "  get-order SYMBOL (--order-id ID | --client-id ID)\n"
            "  cancel SYMBOL (--order-id ID | --client-id ID)\n"
            "Signed calls use the stored credential --credential ID (opened through the vault), or the\n"
            "BOTCTL_API_KEY and BOTCTL_API_SECRET environment variables; keys never go on the command line.\n"
            "Each try prints one line: \"ok ...\" or \"error KIND: message\"; the exit status is that of the last.\n");
}

static int exchange_parse(int argc, char **argv, exchange_cli *o)
{
    for (int i = 0; i < argc; i++) {
        const char *k = argv[i];
        if (!strcmp(k, "--trade")) {
            o->trade = 1;
            continue;
        }
        if (k[0] != '-' || k[1] != '-') {
            if (o->nargs >= (int)(sizeof o->args / sizeof o->args[0]))
                return -1;
            o->args[o->nargs++] = k;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        char *end;
        if (!strcmp(k, "--exchange"))
            o->exchange = v;
        else if (!strcmp(k, "--credential"))
            o->credential = v;
        else if (!strcmp(k, "--client-id"))
            o->client_id = v;
        else if (!strcmp(k, "--order-id"))
            o->order_id = v;
        else if (!strcmp(k, "--tif"))
            o->tif = v;
        else if (!strcmp(k, "--from"))
            o->from = v;
        else if (!strcmp(k, "--to"))
            o->to = v;
        else if (!strcmp(k, "--repeat") || !strcmp(k, "--interval-ms") || !strcmp(k, "--limit")) {
            errno = 0;
            long n = strtol(v, &end, 10);
            if (*end || errno || end == v || n < 0 || n > 1000000)
                return -1;
            if (!strcmp(k, "--repeat"))
                o->repeat = (int)n;
            else if (!strcmp(k, "--interval-ms"))
                o->interval_ms = n;
            else
                o->limit = n;
        } else
            return -1;
    }
    return o->nargs ? 0 : -1;
}

/* Opens the stored credential through the vault (bound to its owner, as the web app sealed it). */
static int exchange_stored(arena *a, exchange_cli *o, char **key, char **secret)
{
    const char *p[] = {o->credential};
    PGresult *r = db_query(a, NULL,
                           "SELECT tenant_id, user_id, exchange, api_key, api_secret FROM credentials "
                           "WHERE id = $1::bigint",
                           1, p);
    if (!r || PQntuples(r) != 1) {
        fprintf(stderr, "botctl exchange: no credential %s%s%s\n", o->credential, r ? "" : ": ", r ? "" : db_error());
        return -1;
    }
    o->tenant_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    o->user_id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    if (o->exchange && strcmp(o->exchange, PQgetvalue(r, 0, 2))) {
        fprintf(stderr, "botctl exchange: credential %s belongs to %s\n", o->credential, PQgetvalue(r, 0, 2));
        return -1;
    }
    o->exchange = arena_strdup(a, PQgetvalue(r, 0, 2));
    size_t n;
    if (vault_open(a, vault_context(a, "credentials.api_key", o->user_id), o->tenant_id, PQgetvalue(r, 0, 3), key,
                   &n) != 0 ||
        vault_open(a, vault_context(a, "credentials.api_secret", o->user_id), o->tenant_id, PQgetvalue(r, 0, 4),
                   secret, &n) != 0) {
        fprintf(stderr, "botctl exchange: credential %s cannot be opened with the vault's keys\n", o->credential);
        return -1;
    }
    return 0;
}

static int exchange_fail_line(exchange *ex, int rc)
{
    const exchange_error *e = exchange_last_error(ex);
    printf("error %s: %s", exchange_err_name(rc), e->message);
    if (e->retry_after_ms >= 0 && rc == EXCHANGE_ERR_RATE_LIMIT)
        printf(" (retry after %ld ms)", e->retry_after_ms);
    printf("\n");
    return 1;
}

static int parse_time(const char *s, int64_t *ms)
{
    return s && candle_parse_time(s, strlen(s), ms) == 0 ? 0 : -1;
}

static void print_order(const exchange_order *o)
{
    printf("ok order %s client %s %s %s %s status %s price %s qty %s executed %s\n", o->order_id, o->client_order_id,
           o->symbol, o->side, o->type, o->status, o->price, o->orig_qty, o->executed_qty);
}

/* Writes the audit row of an order or a cancel before it is sent: a change we cannot record is
 * not made. */
static int exchange_audit(arena *a, const exchange_cli *o, const char *action, const char *object_id, json_t *after)
{
    ctx c = {.a = a, .user_id = o->user_id, .tenant_id = o->tenant_id, .ip = "", .request_id = ""};
    json_object_set_new(after, "exchange", json_string(o->exchange));
    json_object_set_new(after, "via", json_string("botctl"));
    if (o->credential)
        json_object_set_new(after, "credential", json_string(o->credential));
    int rc = audit_record(&c, action, "exchange_order", object_id, NULL, after);
    json_decref(after);
    if (rc != 0)
        fprintf(stderr, "botctl exchange: the audit record could not be written; nothing sent: %s\n", db_error());
    return rc;
}

static int exchange_order_cmd(exchange *ex, arena *a, const exchange_cli *o)
{
    if (o->nargs < 5 || o->nargs > 6)
        return -2;
    exchange_order_req rq = {.symbol = o->args[1]};
    if (!strcmp(o->args[2], "BUY"))
        rq.side = EXCHANGE_BUY;
    else if (!strcmp(o->args[2], "SELL"))
        rq.side = EXCHANGE_SELL;
    else
        return -2;
    if (!strcmp(o->args[3], "LIMIT"))
        rq.type = EXCHANGE_LIMIT;
    else if (strcmp(o->args[3], "MARKET"))
        return -2;
    if ((rq.type == EXCHANGE_LIMIT) != (o->nargs == 6))
        return -2;
    rq.tif = !o->tif || !strcmp(o->tif, "GTC") ? EXCHANGE_GTC : !strcmp(o->tif, "IOC") ? EXCHANGE_IOC : EXCHANGE_FOK;
    char *end;
    double qty = strtod(o->args[4], &end);
    if (*end || !(qty > 0))
        return -2;
    double price = 0;
    if (rq.type == EXCHANGE_LIMIT) {
        price = strtod(o->args[5], &end);
        if (*end || !(price > 0))
            return -2;
    }
    /* the symbol's step and tick sizes shape the strings that go on the wire */
    exchange_symbol si;
    int rc = exchange_symbol_info(ex, rq.symbol, &si);
    if (rc != 0)
        return exchange_fail_line(ex, rc);
    char q[EXCHANGE_DEC], p[EXCHANGE_DEC], why[200];
    rc = exchange_fit_order(&si, qty, price, q, p, why, sizeof why);
    if (rc != 0) {
        printf("error %s: %s\n", exchange_err_name(rc), why);
        return 1;
    }
    rq.quantity = q;
    rq.price = rq.type == EXCHANGE_LIMIT ? p : NULL;
    char idbuf[40];
    if (o->client_id) {
        rq.client_order_id = o->client_id;
    } else {
        unsigned char rnd[12];
        randombytes_buf(rnd, sizeof rnd);
        int w = snprintf(idbuf, sizeof idbuf, "bcf-");
        for (size_t i = 0; i < sizeof rnd; i++)
            w += snprintf(idbuf + w, sizeof idbuf - (size_t)w, "%02x", rnd[i]);
        rq.client_order_id = idbuf;
    }
    json_t *after = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "symbol", rq.symbol, "side", o->args[2], "type",
                              o->args[3], "quantity", q, "price", rq.price ? rq.price : "", "client_order_id",
                              rq.client_order_id);
    if (exchange_audit(a, o, "exchange.order_place", rq.client_order_id, after) != 0)
        return 1;
    exchange_order out;
    rc = exchange_place_order(ex, &rq, &out);
    if (rc != 0)
        return exchange_fail_line(ex, rc);
    print_order(&out);
    return 0;
}

static int exchange_once(exchange *ex, arena *a, const exchange_cli *o)
{
    const char *cmd = o->args[0];
    int rc;
    if (!strcmp(cmd, "ping") && o->nargs == 1) {
        if ((rc = exchange_ping(ex)) != 0)
            return exchange_fail_line(ex, rc);
        printf("ok\n");
    } else if (!strcmp(cmd, "time") && o->nargs == 1) {
        int64_t ms;
        if ((rc = exchange_server_time(ex, &ms)) != 0)
            return exchange_fail_line(ex, rc);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t local = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        printf("ok server_time %" PRId64 " offset_ms %" PRId64 "\n", ms, ms - local);
    } else if (!strcmp(cmd, "info") && o->nargs == 2) {
        exchange_symbol si;
        if ((rc = exchange_symbol_info(ex, o->args[1], &si)) != 0)
            return exchange_fail_line(ex, rc);
        printf("ok %s base %s quote %s status %s step %s min_qty %s tick %s min_notional %s\n", si.symbol, si.base,
               si.quote, si.status, si.step_size, si.min_qty, si.tick_size, si.min_notional[0] ? si.min_notional : "-");
    } else if (!strcmp(cmd, "ticker") && o->nargs == 2) {
        exchange_price t;
        if ((rc = exchange_ticker(ex, o->args[1], &t)) != 0)
            return exchange_fail_line(ex, rc);
        printf("ok %s %s\n", t.symbol, t.price);
    } else if (!strcmp(cmd, "klines") && o->nargs == 3) {
        int64_t from = -1, to = -1;
        if ((o->from && parse_time(o->from, &from)) || (o->to && parse_time(o->to, &to)))
            return -2;
        candle *rows;
        size_t n;
        if ((rc = exchange_klines(ex, o->args[1], o->args[2], from, to, (int)o->limit, &rows, &n)) != 0)
            return exchange_fail_line(ex, rc);
        printf("ok %zu candles\n", n);
        for (size_t i = 0; i < n; i++)
            printf("%" PRId64 " %.10g %.10g %.10g %.10g %.10g\n", rows[i].open_time, rows[i].open, rows[i].high,
                   rows[i].low, rows[i].close, rows[i].volume);
        free(rows);
    } else if (!strcmp(cmd, "balances") && o->nargs == 1) {
        exchange_balance *rows;
        size_t n;
        if ((rc = exchange_balances(ex, &rows, &n)) != 0)
            return exchange_fail_line(ex, rc);
        printf("ok %zu balances\n", n);
        for (size_t i = 0; i < n; i++)
            printf("%s free %s locked %s\n", rows[i].asset, rows[i].free, rows[i].locked);
        free(rows);
    } else if (!strcmp(cmd, "open-orders") && o->nargs <= 2) {
        exchange_order *rows;
        size_t n;
        if ((rc = exchange_open_orders(ex, o->nargs == 2 ? o->args[1] : NULL, &rows, &n)) != 0)
            return exchange_fail_line(ex, rc);
        printf("ok %zu open orders\n", n);
        for (size_t i = 0; i < n; i++)
            print_order(&rows[i]);
        free(rows);
    } else if (!strcmp(cmd, "validate") && o->nargs == 1) {
        exchange_account acct;
        if ((rc = exchange_validate_credentials(ex, o->trade, &acct)) != 0)
            return exchange_fail_line(ex, rc);
        printf("ok can_trade %d can_withdraw %d account %s permissions %s\n", acct.can_trade, acct.can_withdraw,
               acct.account_type, acct.permissions);
    } else if (!strcmp(cmd, "order")) {
        return exchange_order_cmd(ex, a, o);
    } else if ((!strcmp(cmd, "get-order") || !strcmp(cmd, "cancel")) && o->nargs == 2 &&
               (!o->order_id != !o->client_id)) {
        exchange_order out;
        if (!strcmp(cmd, "cancel")) {
            json_t *after = json_pack("{s:s, s:s, s:s}", "symbol", o->args[1], "order_id", o->order_id ? o->order_id : "",
                                      "client_order_id", o->client_id ? o->client_id : "");
            if (exchange_audit(a, o, "exchange.order_cancel", o->order_id ? o->order_id : o->client_id, after) != 0)
                return 1;
            rc = exchange_cancel_order(ex, o->args[1], o->order_id, o->client_id, &out);
        } else {
            rc = exchange_get_order(ex, o->args[1], o->order_id, o->client_id, &out);
        }
        if (rc != 0)
            return exchange_fail_line(ex, rc);
        print_order(&out);
    } else {
        return -2;
    }
    return 0;
}

int cmd_exchange(int argc, char **argv)
{
    exchange_cli o = {.repeat = 1};
    if (exchange_parse(argc, argv, &o) != 0 || o.repeat < 1) {
        exchange_usage();
        return 2;
    }
    arena a;
    arena_init(&a, 16384);
    char *key = NULL, *secret = NULL;
    int rc = 1;
    if (o.credential) {
        if (exchange_stored(&a, &o, &key, &secret) != 0)
            goto out;
    } else {
        key = getenv("BOTCTL_API_KEY");
        secret = getenv("BOTCTL_API_SECRET");
    }
    if (!o.exchange)
        o.exchange = "binance";
    exchange_credentials cred = {key, secret, NULL};
    exchange *ex = exchange_open(o.exchange, &cred);
    if (!ex) {
        fprintf(stderr, "botctl exchange: no adapter for '%s'\n", o.exchange);
        goto out;
    }
    for (int i = 0; i < o.repeat; i++) {
        if (i && o.interval_ms) {
            struct timespec ts = {o.interval_ms / 1000, (o.interval_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        rc = exchange_once(ex, &a, &o);
        fflush(stdout);
        if (rc == -2) {
            exchange_usage();
            rc = 2;
            break;
        }
    }
    exchange_close(ex);
out:
    arena_destroy(&a);
    return rc;
}
