/* ledger.h — the double-entry ledger (Banco): accounts per tenant and currency in integer minor
 * units, idempotent immutable transfers, linked batches, two-phase pending transfers. docs/ledger.md. */
#ifndef BCF_LEDGER_H
#define BCF_LEDGER_H
#include "ctx.h"
#include <stddef.h>
#include <time.h>

typedef enum ledger_kind {
    LEDGER_SINGLE,  /* posted at once */
    LEDGER_PENDING, /* reserves the amount: debits_pending/credits_pending */
    LEDGER_POST,    /* posts a pending transfer, in full or in part (the rest is released) */
    LEDGER_VOID     /* releases a pending transfer */
} ledger_kind;

/* Result codes, after TigerBeetle's. Only OK and EXISTS mean the transfer is in the ledger. */
typedef enum ledger_code {
    LEDGER_OK = 0,
    LEDGER_EXISTS,                  /* the key was used before with the same body: the first result */
    LEDGER_LINKED_EVENT_FAILED,     /* another transfer of the linked batch failed */
    LEDGER_EXISTS_WITH_DIFFERENT_FIELDS, /* the key was used before for another transfer or batch */
    LEDGER_INVALID,                 /* no key, amount <= 0, unknown kind, missing pending id */
    LEDGER_ACCOUNTS_MUST_BE_DIFFERENT,
    LEDGER_DEBIT_ACCOUNT_NOT_FOUND,
    LEDGER_CREDIT_ACCOUNT_NOT_FOUND,
    LEDGER_CURRENCY_MISMATCH,
    LEDGER_EXCEEDS_CREDITS,         /* the debit account would go below zero */
    LEDGER_PENDING_NOT_FOUND,
    LEDGER_PENDING_NOT_PENDING,     /* pending_id names a transfer that is not a pending one */
    LEDGER_PENDING_ALREADY_POSTED,
    LEDGER_PENDING_ALREADY_VOIDED,
    LEDGER_PENDING_EXPIRED,
    LEDGER_EXCEEDS_PENDING_AMOUNT,  /* a post for more than was reserved */
    LEDGER_DB_ERROR                 /* nothing was decided; retry with the same keys */
} ledger_code;

typedef struct ledger_transfer_req {
    const char *key;              /* idempotency key, unique per tenant (1..128 bytes) */
    ledger_kind kind;
    long long debit_account_id;   /* single and pending; post and void take the pending one's */
    long long credit_account_id;
    long long amount;             /* minor units, > 0; for a post 0 means the whole pending amount */
    long long pending_id;         /* post and void */
    int timeout_s;                /* pending: ledger_expire voids it after this; 0 = never */
    const char *code;             /* what it is for ("deposit", "escrow", "commission"); NULL = "" */
} ledger_transfer_req;

typedef struct ledger_result {
    ledger_code code;
    long long transfer_id; /* OK and EXISTS: the transfer's id */
} ledger_result;

/* Opens (or finds, when tenant, currency and code match) an account; returns its id, or -1 when
 * the arguments are invalid, an account of that code exists with other flags, or the database
 * fails. currency is "BRL", "USDT" or "BTC". */
long long ledger_account_open(const ctx *c, const char *currency, const char *code, int allow_negative);

/* The most requests one call takes (TigerBeetle's batch size); a longer batch is refused whole:
 * -1 with every result LEDGER_DB_ERROR, as nothing was decided. */
#define LEDGER_MAX_BATCH 8190

/* Applies reqs[0..n) for c->tenant_id in one transaction: with n > 1 they are linked, all applied
 * or none. results[i] tells each one's outcome. Returns 0 when every one is OK or EXISTS, 1 when
 * the batch was refused (nothing written; the failing ones carry their reason and the others
 * LEDGER_LINKED_EVENT_FAILED), -1 on a database failure (all LEDGER_DB_ERROR). A new batch
 * writes one audit record ("ledger.transfer") in the same transaction. A key used twice in one
 * batch makes the later request LEDGER_INVALID. */
int ledger_transfer(const ctx *c, const ledger_transfer_req *reqs, size_t n, ledger_result *results);

/* The same in one transaction, but each request succeeds or fails on its own, in order (a later
 * one sees the balances the earlier ones left): payouts, settlements, many clients' transfers
 * gathered into one round of statements. Returns 0 when every one is OK or EXISTS, 1 when some
 * were refused (the others are applied), -1 on a database failure (nothing applied, all
 * LEDGER_DB_ERROR). One audit record lists the new transfers. */
int ledger_transfer_each(const ctx *c, const ledger_transfer_req *reqs, size_t n, ledger_result *results);

/* Voids every pending transfer whose timeout is at or before now, each in its own transaction.
 * Returns how many were voided, or -1 on a database failure. For the worker or botctl. */
long ledger_expire(time_t now);

/* Checks every account's four totals against the sum of its entries and the last entry's
 * totals, every transfer's entries against each other, and that debits equal credits per
 * currency. Returns 0 when all hold, the number of problems (each passed to report), or -1 when
 * the database cannot be read. */
long ledger_verify(void (*report)(const char *msg, void *arg), void *arg);

const char *ledger_code_name(ledger_code code);
#endif
