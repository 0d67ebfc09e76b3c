-- 0016_ledger.sql — the double-entry ledger (Banco): accounts with TigerBeetle-style running totals,
-- immutable transfers under client idempotency keys, and one entry per account per transfer.
-- Transfers and entries are append-only for everyone; accounts change only in their four totals.

CREATE TABLE ledger_accounts (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    currency        TEXT NOT NULL CHECK (currency IN ('BRL', 'USDT', 'BTC')),
    -- what the account is for ("wallet", "escrow", "revenue", "bank"): one per tenant and currency
    code            TEXT NOT NULL CHECK (code ~ '^[a-z][a-z0-9_.]{0,63}$'),
    -- debits may exceed credits: the outside world's side of deposits, platform clearing accounts
    allow_negative  BOOLEAN NOT NULL DEFAULT false,
    -- integer minor units (centavos, 10^-6 USDT, satoshis); changed only together with an entry
    debits_pending  BIGINT NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    debits_posted   BIGINT NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_pending BIGINT NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    credits_posted  BIGINT NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, currency, code),
    -- the target of the transfers' (account, currency) keys, which make both sides share a currency
    UNIQUE (id, currency),
    -- the last line of defence behind lib/ledger.c's check: a normal account never goes negative
    CONSTRAINT ledger_accounts_no_overdraft CHECK (allow_negative OR debits_posted + debits_pending <= credits_posted)
);

CREATE TABLE ledger_transfers (
    id                BIGSERIAL PRIMARY KEY,
    tenant_id         BIGINT NOT NULL REFERENCES tenants(id),
    idempotency_key   TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 128),
    -- single: posted at once; pending: reserved; post/void: resolve a pending one (pending_id);
    -- expire: the void written by ledger_expire when the pending one's timeout passed
    kind              TEXT NOT NULL CHECK (kind IN ('single', 'pending', 'post', 'void', 'expire')),
    debit_account_id  BIGINT NOT NULL,
    credit_account_id BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    amount            BIGINT NOT NULL CHECK (amount > 0),
    pending_id        BIGINT REFERENCES ledger_transfers(id),
    timeout_s         INTEGER NOT NULL DEFAULT 0 CHECK (timeout_s >= 0),
    timeout_at        TIMESTAMPTZ,
    -- the first transfer of a linked batch (all of it committed together); NULL for a batch of one
    batch_id          BIGINT,
    code              TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (debit_account_id, currency) REFERENCES ledger_accounts (id, currency),
    FOREIGN KEY (credit_account_id, currency) REFERENCES ledger_accounts (id, currency),
    CHECK (debit_account_id <> credit_account_id),
    CHECK ((kind IN ('post', 'void', 'expire')) = (pending_id IS NOT NULL)),
    CHECK (kind = 'pending' OR (timeout_s = 0 AND timeout_at IS NULL))
);
-- a pending transfer is resolved at most once, whoever races to post, void or expire it
CREATE UNIQUE INDEX ledger_transfers_resolved_once ON ledger_transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_transfers_timeouts ON ledger_transfers (timeout_at) WHERE kind = 'pending' AND timeout_at IS NOT NULL;
CREATE INDEX ledger_transfers_tenant ON ledger_transfers (tenant_id, id);

-- Balance history: one row per account touched by a transfer, with the change of each total
-- and the totals after it. botctl ledger verify sums these against the accounts.
CREATE TABLE ledger_entries (
    id                    BIGSERIAL PRIMARY KEY,
    transfer_id           BIGINT NOT NULL REFERENCES ledger_transfers(id),
    account_id            BIGINT NOT NULL REFERENCES ledger_accounts(id),
    delta_debits_pending  BIGINT NOT NULL,
    delta_debits_posted   BIGINT NOT NULL,
    delta_credits_pending BIGINT NOT NULL,
    delta_credits_posted  BIGINT NOT NULL,
    debits_pending        BIGINT NOT NULL,
    debits_posted         BIGINT NOT NULL,
    credits_pending       BIGINT NOT NULL,
    credits_posted        BIGINT NOT NULL,
    UNIQUE (transfer_id, account_id)
);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE OR DELETE ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- the application adds transfers and entries and moves the four totals; nothing else
REVOKE ALL ON ledger_accounts, ledger_transfers, ledger_entries FROM bcf_app;
GRANT SELECT, INSERT ON ledger_accounts, ledger_transfers, ledger_entries TO bcf_app;
GRANT UPDATE (debits_pending, debits_posted, credits_pending, credits_posted) ON ledger_accounts TO bcf_app;
