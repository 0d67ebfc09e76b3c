-- 0018_billing_manage.sql — the permission to pay for one's own tenant's plan (Stripe checkout and
-- billing portal): held by traders; assinaturas.manage stays the staff's permission over all tenants.
INSERT INTO permissions (key, module, description) VALUES
    ('billing.manage', 'assinaturas', 'subscribe, change plan and manage payment of one''s own tenant');
INSERT INTO role_permissions (role_key, permission_key) VALUES
    ('trader', 'billing.manage'), ('ceo', 'billing.manage');
