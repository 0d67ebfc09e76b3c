-- 0017_billing.sql — what Stripe tells us: every webhook event once (its id is the idempotency key),
-- the tenant of each Stripe customer, and each subscription's latest state ordered by event time.
CREATE TABLE stripe_customers (
    tenant_id    BIGINT PRIMARY KEY REFERENCES tenants(id),
    customer_id  TEXT NOT NULL UNIQUE CHECK (customer_id ~ '^cus_[A-Za-z0-9]+$'),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per event id, inserted in the same transaction as the event's effect: a redelivery finds
-- the row and changes nothing. outcome says what the event did.
CREATE TABLE stripe_events (
    event_id     TEXT PRIMARY KEY CHECK (event_id ~ '^evt_[A-Za-z0-9_]+$'),
    type         TEXT NOT NULL,
    created      BIGINT NOT NULL,                 -- Stripe's unix seconds, the ordering key
    livemode     BOOLEAN NOT NULL DEFAULT false,
    payload      JSONB NOT NULL,
    tenant_id    BIGINT REFERENCES tenants(id),    -- NULL while the customer is not mapped
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    outcome      TEXT NOT NULL DEFAULT 'received' CHECK (outcome IN (
                     'received',   -- being processed (never seen committed)
                     'applied',    -- changed state
                     'stale',      -- older than the state already stored: recorded, not applied
                     'unmatched',  -- no tenant known for its customer yet
                     'ignored'))   -- a type we do not act on, acknowledged and kept
);
CREATE INDEX stripe_events_type_idx ON stripe_events (type, created);
CREATE INDEX stripe_events_tenant_idx ON stripe_events (tenant_id, received_at) WHERE tenant_id IS NOT NULL;
REVOKE DELETE ON stripe_events FROM bcf_app;

-- tenant_id is NULL when a subscription's events arrive before the customer's mapping (checkout
-- completes later); the mapping then adopts it.
CREATE TABLE subscriptions (
    id                     BIGSERIAL PRIMARY KEY,
    tenant_id              BIGINT REFERENCES tenants(id),
    stripe_subscription_id TEXT NOT NULL UNIQUE CHECK (stripe_subscription_id ~ '^sub_[A-Za-z0-9]+$'),
    stripe_customer_id     TEXT NOT NULL,
    price_id               TEXT,
    plan                   TEXT CHECK (plan IN ('free', 'pro', 'enterprise', 'influencer', 'internal')), -- NULL: price not mapped
    status                 TEXT NOT NULL CHECK (status IN ('incomplete', 'incomplete_expired', 'trialing', 'active',
                                                           'past_due', 'canceled', 'unpaid', 'paused')),
    current_period_end     TIMESTAMPTZ,
    cancel_at_period_end   BOOLEAN NOT NULL DEFAULT false,
    trial_end              TIMESTAMPTZ,
    latest_invoice_id      TEXT,
    latest_invoice_status  TEXT CHECK (latest_invoice_status IN ('paid', 'payment_failed', 'payment_action_required')),
    latest_invoice_url     TEXT,                 -- Stripe-hosted invoice page
    last_event_created     BIGINT NOT NULL,      -- created of the subscription event applied last
    last_invoice_created   BIGINT,               -- created of the invoice event applied last
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_tenant_idx ON subscriptions (tenant_id);
CREATE INDEX subscriptions_customer_idx ON subscriptions (stripe_customer_id);
