-- 0021_commissions.sql — commissions owed to affiliates and MMN uplines, and the payout runs that pay
-- them; the money itself lives in the ledger (platform accounts commission_expense and
-- commission_payable.<tenant>), these rows say why it is owed and when it was paid. docs/billing.md.

CREATE TABLE commission_payout_runs (
    run_key        TEXT PRIMARY KEY CHECK (run_key ~ '^[A-Za-z0-9_-]{1,64}$'),
    currency       TEXT NOT NULL CHECK (currency IN ('BRL', 'USDT', 'BTC')),
    minimum        BIGINT NOT NULL CHECK (minimum >= 0),
    started_by     BIGINT REFERENCES users(id),
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at    TIMESTAMPTZ,
    -- filled when the run ends: beneficiaries paid by it and what they got, in minor units
    beneficiaries  INTEGER NOT NULL DEFAULT 0,
    total          BIGINT NOT NULL DEFAULT 0
);

-- one ledger transfer per beneficiary and run (key <run_key>:<tenant> in the platform tenant)
CREATE TABLE commission_payouts (
    id                    BIGSERIAL PRIMARY KEY,
    run_key               TEXT NOT NULL REFERENCES commission_payout_runs(run_key),
    beneficiary_tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    currency              TEXT NOT NULL,
    amount                BIGINT NOT NULL CHECK (amount > 0),
    transfer_id           BIGINT NOT NULL UNIQUE REFERENCES ledger_transfers(id),
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (run_key, beneficiary_tenant_id)
);
CREATE INDEX commission_payouts_beneficiary ON commission_payouts (beneficiary_tenant_id, currency, transfer_id);

CREATE TABLE commissions (
    id                    BIGSERIAL PRIMARY KEY,
    beneficiary_tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    -- what earned it ("affiliate.signup", "mmn.subscription"...) and that thing's id
    source_type           TEXT NOT NULL CHECK (source_type ~ '^[a-z][a-z0-9_.]{0,63}$'),
    source_id             TEXT NOT NULL CHECK (length(source_id) BETWEEN 1 AND 128),
    currency              TEXT NOT NULL CHECK (currency IN ('BRL', 'USDT', 'BTC')),
    amount                BIGINT NOT NULL CHECK (amount > 0),
    idempotency_key       TEXT NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 100),
    state                 TEXT NOT NULL DEFAULT 'accrued' CHECK (state IN ('accrued', 'paid')),
    accrual_transfer_id   BIGINT NOT NULL UNIQUE REFERENCES ledger_transfers(id),
    payout_id             BIGINT REFERENCES commission_payouts(id),
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    paid_at               TIMESTAMPTZ,
    CHECK ((state = 'paid') = (payout_id IS NOT NULL))
);
CREATE INDEX commissions_unpaid ON commissions (beneficiary_tenant_id, currency) WHERE state = 'accrued';

-- the application adds rows and marks them paid; it deletes nothing
REVOKE ALL ON commissions, commission_payouts, commission_payout_runs FROM bcf_app;
GRANT SELECT, INSERT ON commissions, commission_payouts, commission_payout_runs TO bcf_app;
GRANT UPDATE (state, payout_id, paid_at) ON commissions TO bcf_app;
GRANT UPDATE (finished_at, beneficiaries, total) ON commission_payout_runs TO bcf_app;
