/* banco_util.c — the Banco pages' shared request readers (amount, currency, idempotency key), the
 * tenant's standard ledger accounts, and the one mapping from ledger result codes to HTTP answers. */
#include "banco.h"
#include "money.h"
#include "render.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

const char *banco_currency(const char *v)
{
    static const char *const known[] = {"BRL", "USDT", "BTC"};
    for (size_t i = 0; v && i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(v, known[i]))
            return known[i];
    return NULL;
}

int banco_amount(request *req, response *res, const char *currency, long long *minor)
{
    const char *m = req_field(req, "amount_minor"), *typed = req_field(req, "amount");
    long long v = 0;
    int ok;
    if (m && *m)
        /* a plain count of minor units: digits only, so "-5" and "1e3" are refused like in amount */
        ok = strlen(m) <= 18 && strspn(m, "0123456789") == strlen(m) && sscanf(m, "%lld", &v) == 1;
    else
        ok = money_parse(typed ? typed : "", currency, &v) == 0;
    if (!ok || v <= 0 || v > BANCO_MAX_AMOUNT) {
        res_error(req, res, 422, "bad_amount", render_lang_string(req->lang, "banco.err.bad_amount"));
        return -1;
    }
    *minor = v;
    return 0;
}

const char *banco_client_key(request *req, response *res)
{
    const char *k = req_header(req, "HTTP_IDEMPOTENCY_KEY");
    if (!k || !*k)
        k = req_field(req, "key");
    if (!k || !*k)
        return req->request_id;
    size_t n = strlen(k);
    if (n > 64 || strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") != n) {
        res_error(req, res, 422, "bad_key", render_lang_string(req->lang, "banco.err.bad_key"));
        return NULL;
    }
    return k;
}

const char *banco_new_key(request *req)
{
    unsigned char rnd[16];
    char hex[33];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    return arena_strdup(req->a, hex);
}

long long banco_wallet(const ctx *c, const char *currency)
{
    return ledger_account_open(c, currency, "wallet", 0);
}

long long banco_external(const ctx *c, const char *currency)
{
    return ledger_account_open(c, currency, "external", 1);
}

int banco_ledger_status(ledger_code code)
{
    switch (code) {
    case LEDGER_OK:
        return 201;
    case LEDGER_EXISTS:
        return 200;
    case LEDGER_DEBIT_ACCOUNT_NOT_FOUND:
    case LEDGER_CREDIT_ACCOUNT_NOT_FOUND:
    case LEDGER_PENDING_NOT_FOUND:
        return 404;
    case LEDGER_INVALID:
    case LEDGER_ACCOUNTS_MUST_BE_DIFFERENT:
    case LEDGER_CURRENCY_MISMATCH:
    case LEDGER_EXCEEDS_PENDING_AMOUNT:
    case LEDGER_PENDING_NOT_PENDING:
        return 422;
    case LEDGER_DB_ERROR:
        return 503;
    default: /* exceeds_credits, a reused key, a pending transfer decided before: the state refuses it */
        return 409;
    }
}

void banco_ledger_refused(request *req, response *res, ledger_code code)
{
    const char *name = ledger_code_name(code);
    char key[80];
    snprintf(key, sizeof key, "banco.err.%s", name);
    const char *msg = render_lang_string(req->lang, key);
    /* a code without its own sentence still says which refusal it was */
    if (!strcmp(msg, key))
        msg = arena_printf(req->a, "%s (%s)", render_lang_string(req->lang, "banco.err.refused"), name);
    res_error(req, res, banco_ledger_status(code), name, msg);
}
