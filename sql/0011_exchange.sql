-- 0011_exchange.sql — exchange keys checked against the exchange before they are stored: when the
-- last check passed, whether the key may trade, and why a later check (revalidate) failed.
-- Keys of exchanges without an adapter are stored unchecked (validated_at NULL); live trading
-- requires validated_at, and can_trade for a 'trade' key.
ALTER TABLE credentials
    ADD COLUMN validated_at     TIMESTAMPTZ,
    ADD COLUMN can_trade        BOOLEAN,
    ADD COLUMN validation_error TEXT CHECK (validation_error IS NULL OR char_length(validation_error) <= 300),
    -- a validated key has an answer to "may it trade?"; an unchecked one has none
    ADD CONSTRAINT credentials_validated_has_trade CHECK (validated_at IS NULL OR can_trade IS NOT NULL);
