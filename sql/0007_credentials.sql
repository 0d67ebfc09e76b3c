-- 0007_credentials.sql — exchange API credentials: key, secret and passphrase kept only as vault
-- envelopes (lib/vault.c), with the key's mask stored beside them so listing never decrypts.
CREATE TABLE credentials (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants(id),
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    exchange     TEXT NOT NULL CHECK (exchange IN ('binance', 'bybit', 'okx', 'kraken', 'coinbase', 'mercadobitcoin', 'other')),
    label        TEXT NOT NULL CHECK (char_length(label) BETWEEN 1 AND 60),
    api_key      TEXT NOT NULL,               -- vault envelope "<key_id>|<nonce>|<ciphertext>"
    api_secret   TEXT NOT NULL,               -- vault envelope
    passphrase   TEXT,                        -- vault envelope, for exchanges that use one
    key_mask     TEXT NOT NULL,               -- "abcd…wxyz": never more than a quarter of the key
    permissions  TEXT NOT NULL DEFAULT 'trade' CHECK (permissions IN ('read', 'trade')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    -- envelopes only: a plain value written here by mistake is refused by the database too
    CHECK (api_key ~ '^[1-9][0-9]*\|[A-Za-z0-9_-]+\|[A-Za-z0-9_-]+$'),
    CHECK (api_secret ~ '^[1-9][0-9]*\|[A-Za-z0-9_-]+\|[A-Za-z0-9_-]+$'),
    CHECK (passphrase IS NULL OR passphrase ~ '^[1-9][0-9]*\|[A-Za-z0-9_-]+\|[A-Za-z0-9_-]+$')
);
CREATE INDEX credentials_owner_idx ON credentials (tenant_id, user_id);
