-- 0020_subscriptions.sql — what the tenant asked Stripe for (a plan change, cancellation) until the
-- webhook confirms it, the plan paid for until period end after a downgrade, trials and dunning.

-- requested_*: the last change this portal asked Stripe for; the page says "pending" while the
-- stored state (which only the webhook writes) differs. held_plan: after a downgrade Stripe bills
-- the lower price from the next period on, and the higher plan stays until held_until (the period
-- end that was paid for). dunning_expired_for: the latest_invoice_id ('' when none) whose failed
-- payment outlived billing.dunning_grace_days; the subscription gives no plan while it is still
-- past_due on that invoice.
ALTER TABLE subscriptions
    ADD COLUMN requested_plan      TEXT CHECK (requested_plan IN ('free', 'pro', 'enterprise')),
    ADD COLUMN requested_cancel    BOOLEAN,
    ADD COLUMN requested_at        TIMESTAMPTZ,
    ADD COLUMN held_plan           TEXT CHECK (held_plan IN ('pro', 'enterprise')),
    ADD COLUMN held_until          TIMESTAMPTZ,
    ADD COLUMN dunning_expired_for TEXT;

-- A trial without a card: the plan for trial_days, once per tenant (the primary key), ended by the
-- worker when ends_at passes (ended_at) or early when a paid subscription takes over.
CREATE TABLE plan_trials (
    tenant_id   BIGINT PRIMARY KEY REFERENCES tenants(id),
    plan        TEXT NOT NULL CHECK (plan IN ('pro', 'enterprise')),
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    ends_at     TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    CHECK (ends_at > started_at)
);
CREATE INDEX plan_trials_running_idx ON plan_trials (ends_at) WHERE ended_at IS NULL;
REVOKE DELETE ON plan_trials FROM bcf_app;

-- Every plan a tenant is entitled to now; its best one is tenants.plan (stripe_events.c's sync and
-- lib/subscriptions.c read this one view, so the webhook and the worker agree).
CREATE VIEW billing_entitlements AS
    SELECT tenant_id, plan FROM subscriptions
     WHERE tenant_id IS NOT NULL AND plan IS NOT NULL AND status IN ('active', 'trialing', 'past_due')
       AND NOT (status = 'past_due' AND dunning_expired_for IS NOT DISTINCT FROM coalesce(latest_invoice_id, ''))
    UNION ALL
    SELECT tenant_id, held_plan FROM subscriptions
     WHERE tenant_id IS NOT NULL AND held_plan IS NOT NULL AND held_until > now() AND status IN ('active', 'trialing')
    UNION ALL
    SELECT tenant_id, plan FROM plan_trials WHERE ended_at IS NULL AND ends_at > now();
GRANT SELECT ON billing_entitlements TO bcf_app;
