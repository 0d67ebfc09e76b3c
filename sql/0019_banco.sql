-- 0019_banco.sql — the Banco pages: pockets ("caixinhas") over ledger accounts, and deposit and
-- withdrawal requests whose money moves in the ledger (docs/ledger.md, "Banco pages").
INSERT INTO permissions (key, module, description) VALUES
    ('banco.use', 'banco', 'hold money in one''s own tenant''s wallet and pockets: deposits, withdrawals, transfers');
INSERT INTO role_permissions (role_key, permission_key) VALUES
    ('trader', 'banco.use'), ('influencer', 'banco.use'), ('ceo', 'banco.use');

-- A pocket is a ledger account of the tenant (code "pocket.<hash of currency and name>") with the
-- name the user gave it; the ledger keeps its money, this row only its name.
CREATE TABLE banco_pockets (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id),
    account_id  BIGINT NOT NULL UNIQUE REFERENCES ledger_accounts(id),
    currency    TEXT NOT NULL CHECK (currency IN ('BRL', 'USDT', 'BTC')),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 240),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, currency, name)
);

-- What a user asked to bring in or take out, and what staff decided. The ledger is the truth about
-- the money: transfer_id is the deposit's credit (external -> wallet) or the withdrawal's pending
-- reservation (wallet -> external), whose post or void decides the withdrawal.
CREATE TABLE banco_requests (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id),
    user_id     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('deposit', 'withdrawal')),
    currency    TEXT NOT NULL CHECK (currency IN ('BRL', 'USDT', 'BTC')),
    amount      BIGINT NOT NULL CHECK (amount > 0),
    -- quoted by the user on the bank transfer (deposits) and by staff when paying out
    reference   TEXT NOT NULL UNIQUE,
    -- where a withdrawal is paid (PIX key, bank account, wallet address), as the user typed it
    destination TEXT NOT NULL DEFAULT '' CHECK (length(destination) <= 240),
    status      TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected', 'canceled', 'approved', 'expired')),
    transfer_id BIGINT REFERENCES ledger_transfers(id),
    -- the client's idempotency key: a retried request finds its first row
    client_key  TEXT CHECK (length(client_key) BETWEEN 1 AND 64),
    decided_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    decided_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, kind, client_key),
    UNIQUE (transfer_id)
);
CREATE INDEX banco_requests_tenant ON banco_requests (tenant_id, id);
CREATE INDEX banco_requests_pending ON banco_requests (id) WHERE status = 'pending';

-- money records are kept: the application may change a request's state, never remove it
REVOKE DELETE, TRUNCATE ON banco_requests FROM bcf_app;
REVOKE DELETE, TRUNCATE ON banco_pockets FROM bcf_app;
