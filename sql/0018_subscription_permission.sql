-- 0018_subscription_permission.sql — a tenant's own subscription (Assinaturas: plan, usage, change
-- plan, payment method) is its holder's to see and change; staff read everyone's through Financeiro.
INSERT INTO permissions (key, module, description) VALUES
    ('subscription.manage', 'assinaturas', 'see and change one''s own tenant''s plan and payment method');
INSERT INTO role_permissions (role_key, permission_key) VALUES
    ('trader', 'subscription.manage'), ('influencer', 'subscription.manage'), ('ceo', 'subscription.manage');
