/* commissions.h — commissions owed to affiliates and MMN uplines, kept in the ledger: accrued from
 * the platform's commission_expense to commission_payable.<tenant>, paid to the tenant's wallet. */
#ifndef BCF_COMMISSIONS_H
#define BCF_COMMISSIONS_H
#include "ctx.h"

typedef enum commission_rc {
    COMMISSION_OK = 0,       /* recorded (accrue) or run (payout) */
    COMMISSION_EXISTS = 1,   /* accrue: the key was used before with the same fields; nothing changed */
    COMMISSION_INVALID = -2, /* bad argument: unknown currency or beneficiary, amount <= 0, bad key... */
    COMMISSION_CONFLICT = -3, /* the key was used before with other fields (or another currency/minimum) */
    COMMISSION_DB_ERROR = -1 /* nothing was decided: retry with the same key */
} commission_rc;

/* Records a commission of amount_minor (> 0) owed to beneficiary_tenant_id: one ledger transfer in
 * the platform (company) tenant from commission_expense (allow_negative) to
 * commission_payable.<beneficiary>, and a commissions row saying why (source_type like
 * "affiliate.signup", source_id up to 128 bytes). idempotency_key (1..100 bytes) is global: a retry
 * answers COMMISSION_EXISTS with the first commission's id. c names the actor for the audit
 * record ("commission.accrue"); its tenant is not used. *commission_id may be NULL. */
commission_rc commission_accrue(const ctx *c, long long beneficiary_tenant_id, const char *currency,
                                long long amount_minor, const char *source_type, const char *source_id,
                                const char *idempotency_key, long long *commission_id);

typedef struct commission_payout_totals {
    long paid;              /* beneficiaries paid by this call */
    long already_paid;      /* paid before under the same run_key (a re-run) */
    long skipped;           /* a payable balance under the minimum */
    long failed;            /* a transfer refused or a database failure: retry the run */
    long long total_minor;  /* paid by this call */
    long long run_total_minor; /* paid by the run so far, this call included */
} commission_payout_totals;

/* Pays every beneficiary whose commission_payable balance in currency is at least minimum_minor
 * (and above 0): one ledger transfer each, key "<run_key>:<tenant>", to the tenant's "wallet"
 * account in that currency, and marks its accrued commissions paid. run_key ([A-Za-z0-9_-], 1..64)
 * names the run: running it again pays nobody twice and finishes what a failure left; the same key
 * with another currency or minimum is COMMISSION_CONFLICT. One audit record
 * ("financeiro.commission_payout") per call. Returns COMMISSION_OK even when some failed (see
 * totals->failed). */
commission_rc commission_payout_run(const ctx *c, const char *currency, long long minimum_minor, const char *run_key,
                                    commission_payout_totals *totals);

/* The platform (company) tenant's id, or -1. */
long long commission_platform_tenant(void);

/* Is s a valid run key? */
int commission_run_key_valid(const char *s);
#endif
