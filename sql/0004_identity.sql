-- 0004_identity.sql — departments, roles and permissions (RBAC), account state (verification,
-- 2FA, lifecycle), single-use account tokens, recovery codes, personal API tokens, session
-- timestamps and the e-mail outbox.
CREATE TABLE departments (
    key      TEXT PRIMARY KEY,
    name_pt  TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    position INT NOT NULL
);
INSERT INTO departments (key, name_pt, name_en, position) VALUES
    ('ceo', 'CEO', 'CEO', 1),
    ('financeiro', 'Financeiro', 'Finance', 2),
    ('marketing', 'Marketing', 'Marketing', 3),
    ('vendas', 'Vendas', 'Sales', 4),
    ('seguranca', 'Segurança', 'Security', 5),
    ('sac', 'SAC', 'Customer support', 6),
    ('auditoria', 'Auditoria', 'Audit', 7),
    ('documentos', 'Documentos', 'Documents', 8),
    ('configuracoes', 'Configurações', 'Settings', 9),
    ('assinaturas', 'Assinaturas', 'Subscriptions', 10);

CREATE TABLE permissions (
    key         TEXT PRIMARY KEY,            -- "audit.read": what a route table entry names
    module      TEXT NOT NULL,
    description TEXT NOT NULL
);

-- staff roles belong to a department of the company tenant; trader and influencer are the
-- roles of the one-user tenants
CREATE TABLE roles (
    key            TEXT PRIMARY KEY,
    department_key TEXT REFERENCES departments(key),
    staff          BOOLEAN NOT NULL,
    name_pt        TEXT NOT NULL,
    name_en        TEXT NOT NULL
);

CREATE TABLE role_permissions (
    role_key       TEXT NOT NULL REFERENCES roles(key) ON DELETE CASCADE,
    permission_key TEXT NOT NULL REFERENCES permissions(key) ON DELETE CASCADE,
    PRIMARY KEY (role_key, permission_key)
);

CREATE TABLE user_roles (
    tenant_id  BIGINT NOT NULL REFERENCES tenants(id),
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_key   TEXT NOT NULL REFERENCES roles(key),
    granted_by BIGINT REFERENCES users(id),
    granted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role_key)
);
CREATE INDEX user_roles_tenant_idx ON user_roles (tenant_id);

INSERT INTO permissions (key, module, description) VALUES
    ('trading.use', 'trading', 'run bots, backtests and models on one''s own account'),
    ('credentials.manage', 'credentials', 'store and remove exchange API keys'),
    ('admin.roles.read', 'admin', 'see the permission matrix and who holds which role'),
    ('admin.roles.assign', 'admin', 'grant and revoke staff roles'),
    ('audit.read', 'auditoria', 'read the audit trail'),
    ('audit.export', 'auditoria', 'export the audit trail as CSV'),
    ('security.read', 'seguranca', 'read security events and alerts'),
    ('security.manage', 'seguranca', 'acknowledge alerts and manage address allowlists'),
    ('financeiro.read', 'financeiro', 'read billing, revenue and commissions'),
    ('financeiro.manage', 'financeiro', 'move money: refunds, payouts, adjustments'),
    ('marketing.read', 'marketing', 'read campaigns and referral data'),
    ('marketing.manage', 'marketing', 'run campaigns and manage influencers'),
    ('vendas.read', 'vendas', 'read leads and conversions'),
    ('vendas.manage', 'vendas', 'work leads'),
    ('sac.read', 'sac', 'read support tickets'),
    ('sac.manage', 'sac', 'answer and escalate tickets'),
    ('documentos.read', 'documentos', 'read company documents'),
    ('documentos.manage', 'documentos', 'publish document versions'),
    ('configuracoes.read', 'configuracoes', 'read system settings'),
    ('configuracoes.manage', 'configuracoes', 'change system settings'),
    ('assinaturas.read', 'assinaturas', 'read subscriptions'),
    ('assinaturas.manage', 'assinaturas', 'change plans, renewals and dunning'),
    ('users.read', 'admin', 'see the company''s employees');

INSERT INTO roles (key, department_key, staff, name_pt, name_en) VALUES
    ('ceo', 'ceo', true, 'CEO', 'CEO'),
    ('trader', NULL, false, 'Trader', 'Trader'),
    ('influencer', NULL, false, 'Influenciador', 'Influencer');
INSERT INTO roles (key, department_key, staff, name_pt, name_en)
    SELECT d.key || '.' || r.k, d.key, true, d.name_pt || ' — ' || r.pt, d.name_en || ' — ' || r.en
    FROM departments d, (VALUES ('manager', 'gestor', 'manager'), ('member', 'equipe', 'member')) AS r(k, pt, en)
    WHERE d.key <> 'ceo';

-- the CEO holds everything but trading (so the CEO can grant every department role, and only
-- permissions one holds can be granted); a department's manager reads and manages its module,
-- a member reads it
INSERT INTO role_permissions (role_key, permission_key) SELECT 'ceo', key FROM permissions
    WHERE key <> 'trading.use';
INSERT INTO role_permissions (role_key, permission_key) VALUES
    ('trader', 'trading.use'), ('trader', 'credentials.manage'),
    ('influencer', 'trading.use'),
    ('auditoria.manager', 'audit.read'), ('auditoria.manager', 'audit.export'), ('auditoria.member', 'audit.read'),
    ('seguranca.manager', 'security.read'), ('seguranca.manager', 'security.manage'), ('seguranca.member', 'security.read'),
    ('seguranca.manager', 'audit.read'),
    ('configuracoes.manager', 'admin.roles.read'), ('configuracoes.manager', 'admin.roles.assign'),
    ('configuracoes.manager', 'users.read'), ('configuracoes.member', 'admin.roles.read'),
    ('financeiro.manager', 'credentials.manage');
INSERT INTO role_permissions (role_key, permission_key)
    SELECT r.key, split_part(r.key, '.', 1) || CASE WHEN r.key LIKE '%.manager' THEN s.suffix ELSE '.read' END
    FROM roles r, (VALUES ('.read'), ('.manage')) AS s(suffix)
    WHERE r.staff AND r.key <> 'ceo' AND split_part(r.key, '.', 1) IN
          ('financeiro', 'marketing', 'vendas', 'sac', 'documentos', 'configuracoes', 'assinaturas')
    ON CONFLICT DO NOTHING;

-- account lifecycle and 2FA
ALTER TABLE users
    ADD COLUMN email_verified_at   TIMESTAMPTZ,
    ADD COLUMN password_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN totp_secret         TEXT,        -- vault envelope, never plain
    ADD COLUMN totp_enabled_at     TIMESTAMPTZ,
    ADD COLUMN totp_last_step      BIGINT NOT NULL DEFAULT 0,  -- replay guard: last accepted 30 s step
    ADD COLUMN status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
    ADD COLUMN deleted_at          TIMESTAMPTZ;

-- accounts made before e-mail verification existed count as verified
UPDATE users SET email_verified_at = created_at;

-- existing users keep their role as a granted role
INSERT INTO user_roles (tenant_id, user_id, role_key)
    SELECT u.tenant_id, u.id, u.role FROM users u JOIN roles r ON r.key = u.role ON CONFLICT DO NOTHING;

-- single-use links sent by e-mail: verification and password reset; only the hash is kept
CREATE TABLE account_tokens (
    token_hash  TEXT PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id),
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify', 'reset')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);

CREATE TABLE recovery_codes (
    tenant_id  BIGINT NOT NULL REFERENCES tenants(id),
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,                 -- hex SHA-256 of the normalised code
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

-- personal API tokens: "bcf_<prefix>_<secret>"; the prefix finds the row, the hash proves it
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants(id),
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL,
    scopes       TEXT[] NOT NULL,              -- "read", "trade", or a permission key
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user_idx ON api_tokens (tenant_id, user_id);

ALTER TABLE sessions
    ADD COLUMN tenant_id  BIGINT REFERENCES tenants(id),
    ADD COLUMN expires_at TIMESTAMPTZ,
    ADD COLUMN mfa_at     TIMESTAMPTZ;
UPDATE sessions s SET tenant_id = u.tenant_id FROM users u WHERE u.id = s.user_id;
UPDATE sessions SET expires_at = created_at + interval '12 hours' WHERE expires_at IS NULL;

-- e-mail waits here until the worker hands it to SMTP (or the capture folder)
CREATE TABLE mail_outbox (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT REFERENCES tenants(id),
    to_addr      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body_text    TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts     INT NOT NULL DEFAULT 0,
    next_try_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at      TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_try_at) WHERE status = 'queued';
