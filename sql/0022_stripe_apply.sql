-- 0022_stripe_apply.sql — the webhook's state machine next to its tables: each handled Stripe event
-- is stored under its id and applied by one function call, one round trip in its own transaction.
-- lib/stripe_events.c validates the event and calls these; docs/billing.md has the rules.

-- Sets the tenant's plan to its best entitlement (billing_entitlements, sql/0020: live
-- subscriptions, plans held to the period's end, running trials; 'free' when none); internal and
-- influencer tenants are not billed through Stripe and keep theirs. Audited when it changes, with
-- what caused it ({"event": "evt_..."}, {"reason": "dunning"}). The webhook's functions and
-- lib/subscriptions.c (the pages and the worker) all set the plan through this one function.
CREATE FUNCTION billing_sync_plan(p_tenant BIGINT, p_actor BIGINT, p_cause_key TEXT, p_cause TEXT, p_ip TEXT,
                                  p_request_id TEXT)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    v_old TEXT;
    v_new TEXT;
BEGIN
    WITH want AS (SELECT COALESCE((SELECT e.plan FROM billing_entitlements e WHERE e.tenant_id = p_tenant
                    ORDER BY CASE e.plan WHEN 'enterprise' THEN 2 WHEN 'pro' THEN 1 ELSE 0 END DESC LIMIT 1),
                  'free') AS plan),
         old AS (SELECT t.plan FROM tenants t WHERE t.id = p_tenant FOR UPDATE)
    UPDATE tenants t SET plan = want.plan FROM want, old
     WHERE t.id = p_tenant AND t.plan <> want.plan AND t.plan NOT IN ('influencer', 'internal')
    RETURNING old.plan, t.plan INTO v_old, v_new;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM audit_append(p_tenant, p_actor, 'billing.plan_change', 'tenant', p_tenant::text,
                         jsonb_build_object('plan', v_old), jsonb_build_object('plan', v_new, p_cause_key, p_cause),
                         p_ip, p_request_id);
    RETURN true;
END
$$;

-- Maps a customer to a tenant (the first mapping wins) and adopts the customer's subscriptions
-- that arrived before it. Returns the tenant, or 0 when the tenant does not exist or the customer
-- belongs to another one.
CREATE FUNCTION stripe_link_customer(p_tenant BIGINT, p_customer TEXT, p_event TEXT, p_ip TEXT, p_request_id TEXT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    v_mapped BIGINT;
BEGIN
    INSERT INTO stripe_customers (tenant_id, customer_id)
    SELECT p_tenant, p_customer WHERE EXISTS (SELECT 1 FROM tenants WHERE id = p_tenant)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        PERFORM audit_append(p_tenant, NULL, 'billing.customer_link', 'tenant', p_tenant::text, NULL,
                             jsonb_build_object('customer', p_customer, 'event', p_event), p_ip, p_request_id);
    END IF;
    SELECT c.tenant_id INTO v_mapped FROM stripe_customers c WHERE c.customer_id = p_customer;
    IF v_mapped IS NULL OR v_mapped <> p_tenant THEN
        RETURN 0;
    END IF;
    UPDATE subscriptions SET tenant_id = p_tenant, updated_at = now()
     WHERE stripe_customer_id = p_customer AND tenant_id IS NULL;
    IF FOUND THEN
        PERFORM billing_sync_plan(p_tenant, NULL, 'event', p_event, p_ip, p_request_id);
    END IF;
    RETURN p_tenant;
END
$$;

-- Stores a type we do not act on under its id, with its outcome. False when the id was stored
-- before (a redelivery).
CREATE FUNCTION stripe_event_store(p_event TEXT, p_type TEXT, p_created BIGINT, p_livemode BOOLEAN, p_payload JSONB,
                                   p_outcome TEXT)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stripe_events (event_id, type, created, livemode, payload, outcome)
    VALUES (p_event, p_type, p_created, p_livemode, p_payload, p_outcome)
    ON CONFLICT (event_id) DO NOTHING;
    RETURN FOUND;
END
$$;

-- A handled event is looked up first (a redelivery stops there) and stored last, with its outcome
-- and tenant: one insert instead of an insert and an update of a row holding the whole payload.
-- Two deliveries of one event at once: the second's insert waits for the first's commit and fails
-- on the primary key (SQLSTATE 23505), which rolls its effect back with it; lib/stripe_events.c
-- answers that as a duplicate. stripe_events_pkey is the only unique key these functions can
-- violate: every other insert says ON CONFLICT. Each function answers one row (r_outcome,
-- r_tenant); they are written as plain statements, since every nested call and set-returning
-- query costs PostgreSQL an executor of its own on each event.
CREATE FUNCTION stripe_event_record(p_event TEXT, p_type TEXT, p_created BIGINT, p_livemode BOOLEAN, p_payload JSONB,
                                    p_outcome TEXT, p_tenant BIGINT)
RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO stripe_events (event_id, type, created, livemode, payload, outcome, tenant_id)
    VALUES (p_event, p_type, p_created, p_livemode, p_payload, p_outcome, p_tenant)
$$;

-- checkout.session.completed: maps the session's customer to the tenant it names.
CREATE FUNCTION stripe_apply_checkout(p_event TEXT, p_type TEXT, p_created BIGINT, p_livemode BOOLEAN, p_payload JSONB,
                                      p_customer TEXT, p_hint BIGINT, p_ip TEXT, p_request_id TEXT,
                                      OUT r_outcome TEXT, OUT r_tenant BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM stripe_events WHERE event_id = p_event) THEN
        r_outcome := 'duplicate';
        RETURN;
    END IF;
    IF p_customer IS NOT NULL AND p_hint IS NOT NULL THEN
        r_tenant := NULLIF(stripe_link_customer(p_hint, p_customer, p_event, p_ip, p_request_id), 0);
    END IF;
    r_outcome := CASE WHEN r_tenant IS NULL THEN 'unmatched' ELSE 'applied' END;
    PERFORM stripe_event_record(p_event, p_type, p_created, p_livemode, p_payload, r_outcome, r_tenant);
END
$$;

-- customer.subscription.*: the subscription object is the whole state; it replaces the stored one
-- only when this event is not older than the one applied last, and a canceled subscription stays
-- canceled (Stripe never reopens one). The tenant's plan is set again when the subscription's
-- status, plan or tenant changed (the worker sets it when time alone changes it: sql/0020).
CREATE FUNCTION stripe_apply_subscription(p_event TEXT, p_type TEXT, p_created BIGINT, p_livemode BOOLEAN,
                                          p_payload JSONB, p_sub TEXT, p_customer TEXT, p_price TEXT, p_plan TEXT,
                                          p_status TEXT, p_period_end BIGINT, p_cancel BOOLEAN, p_trial_end BIGINT,
                                          p_hint BIGINT, p_ip TEXT, p_request_id TEXT,
                                          OUT r_outcome TEXT, OUT r_tenant BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_tenant BIGINT;
    v_old    RECORD;
    v_found  BOOLEAN;
BEGIN
    IF EXISTS (SELECT 1 FROM stripe_events WHERE event_id = p_event) THEN
        r_outcome := 'duplicate';
        RETURN;
    END IF;
    SELECT c.tenant_id INTO v_tenant FROM stripe_customers c WHERE c.customer_id = p_customer;
    IF v_tenant IS NULL AND p_hint IS NOT NULL THEN
        v_tenant := NULLIF(stripe_link_customer(p_hint, p_customer, p_event, p_ip, p_request_id), 0);
    END IF;
    -- locked, so the audit's before is the state this event replaces
    SELECT s.status, COALESCE(s.plan, '') AS plan, s.cancel_at_period_end, s.tenant_id INTO v_old
      FROM subscriptions s WHERE s.stripe_subscription_id = p_sub FOR UPDATE;
    v_found := FOUND;
    INSERT INTO subscriptions AS s (tenant_id, stripe_subscription_id, stripe_customer_id, price_id, plan, status,
                                    current_period_end, cancel_at_period_end, trial_end, last_event_created)
    VALUES (v_tenant, p_sub, p_customer, p_price, p_plan, p_status, to_timestamp(p_period_end), p_cancel,
            to_timestamp(p_trial_end), p_created)
    ON CONFLICT (stripe_subscription_id) DO UPDATE SET tenant_id = COALESCE(s.tenant_id, EXCLUDED.tenant_id),
        price_id = EXCLUDED.price_id, plan = EXCLUDED.plan, status = EXCLUDED.status,
        current_period_end = EXCLUDED.current_period_end, cancel_at_period_end = EXCLUDED.cancel_at_period_end,
        trial_end = EXCLUDED.trial_end, last_event_created = EXCLUDED.last_event_created, updated_at = now()
     WHERE s.status <> 'canceled' AND s.last_event_created <= EXCLUDED.last_event_created
    RETURNING s.tenant_id INTO r_tenant;
    IF NOT FOUND THEN
        r_outcome := 'stale';
        PERFORM stripe_event_record(p_event, p_type, p_created, p_livemode, p_payload, r_outcome, NULL);
        RETURN;
    END IF;
    PERFORM audit_append(r_tenant, NULL, 'billing.subscription_update', 'subscription', p_sub,
                         CASE WHEN v_found THEN jsonb_build_object('status', v_old.status, 'plan', v_old.plan,
                                                                   'cancel_at_period_end', v_old.cancel_at_period_end) END,
                         jsonb_build_object('status', p_status, 'plan', COALESCE(p_plan, ''),
                                            'cancel_at_period_end', p_cancel, 'event', p_event, 'type', p_type),
                         p_ip, p_request_id);
    IF r_tenant IS NOT NULL AND (NOT v_found OR v_old.status <> p_status OR v_old.plan <> COALESCE(p_plan, '')
                                 OR v_old.tenant_id IS DISTINCT FROM r_tenant) THEN
        PERFORM billing_sync_plan(r_tenant, NULL, 'event', p_event, p_ip, p_request_id);
    END IF;
    r_outcome := CASE WHEN r_tenant IS NULL THEN 'unmatched' ELSE 'applied' END;
    PERFORM stripe_event_record(p_event, p_type, p_created, p_livemode, p_payload, r_outcome, r_tenant);
END
$$;

-- invoice.* of a subscription: its latest invoice and payment state (dunning reads it), ordered by
-- the invoice events' own created.
CREATE FUNCTION stripe_apply_invoice(p_event TEXT, p_type TEXT, p_created BIGINT, p_livemode BOOLEAN, p_payload JSONB,
                                     p_sub TEXT, p_invoice TEXT, p_state TEXT, p_url TEXT, p_ip TEXT,
                                     p_request_id TEXT, OUT r_outcome TEXT, OUT r_tenant BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM stripe_events WHERE event_id = p_event) THEN
        r_outcome := 'duplicate';
        RETURN;
    END IF;
    UPDATE subscriptions SET latest_invoice_id = p_invoice, latest_invoice_status = p_state,
           latest_invoice_url = p_url, last_invoice_created = p_created, updated_at = now()
     WHERE stripe_subscription_id = p_sub AND (last_invoice_created IS NULL OR last_invoice_created <= p_created)
    RETURNING tenant_id INTO r_tenant;
    IF NOT FOUND THEN
        r_outcome := CASE WHEN EXISTS (SELECT 1 FROM subscriptions WHERE stripe_subscription_id = p_sub)
                          THEN 'stale' ELSE 'unmatched' END;
        PERFORM stripe_event_record(p_event, p_type, p_created, p_livemode, p_payload, r_outcome, NULL);
        RETURN;
    END IF;
    PERFORM audit_append(r_tenant, NULL, 'billing.invoice_update', 'subscription', p_sub, NULL,
                         jsonb_build_object('invoice', p_invoice, 'invoice_status', p_state, 'event', p_event),
                         p_ip, p_request_id);
    r_outcome := 'applied';
    PERFORM stripe_event_record(p_event, p_type, p_created, p_livemode, p_payload, r_outcome, r_tenant);
END
$$;
