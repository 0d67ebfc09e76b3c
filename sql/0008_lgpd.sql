-- 0008_lgpd.sql — LGPD: versioned legal documents (terms of use, privacy policy) in pt-BR and
-- English, and the consent records (append-only: the latest row per user and document is the state).
CREATE TABLE legal_documents (
    document     TEXT NOT NULL CHECK (document IN ('terms', 'privacy')),
    version      INT NOT NULL CHECK (version > 0),
    published_at TIMESTAMPTZ NOT NULL DEFAULT now(),   -- a future date schedules a version
    title_pt     TEXT NOT NULL,
    title_en     TEXT NOT NULL,
    body_pt      TEXT NOT NULL,                         -- plain text, paragraphs separated by a blank line
    body_en      TEXT NOT NULL,
    PRIMARY KEY (document, version)
);
-- a published version is what people agreed to: it is never rewritten, only followed by a new one
REVOKE UPDATE, DELETE ON legal_documents FROM bcf_app;

-- document is 'terms' or 'privacy' (with the version accepted) or a purpose such as 'marketing'
-- (version 0). Rows are proof of consent, a legal record: they are added, never changed, and
-- they stay when the account is deleted (the user row is anonymised, not removed).
CREATE TABLE consents (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id),
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    document    TEXT NOT NULL CHECK (document ~ '^[a-z][a-z_]{0,31}$'),
    version     INT NOT NULL DEFAULT 0 CHECK (version >= 0),
    granted     BOOLEAN NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consents_user_idx ON consents (tenant_id, user_id, document, at DESC);
REVOKE UPDATE, DELETE ON consents FROM bcf_app;

INSERT INTO legal_documents (document, version, title_pt, title_en, body_pt, body_en) VALUES
('terms', 1, 'Termos de Uso', 'Terms of Use',
$pt$1. Quem somos. A BotCriptoFy oferece, por assinatura, uma plataforma para operar criptoativos com robôs, backtests e modelos de previsão. Ao criar uma conta você aceita estes Termos e a Política de Privacidade.

2. Sua conta. Você é responsável pelas credenciais da sua conta e pelas chaves de API de corretoras que cadastrar. Recomendamos ativar a verificação em duas etapas. Avise-nos imediatamente sobre qualquer uso indevido.

3. Riscos. Operar criptoativos envolve alto risco e pode causar a perda de todo o capital. Resultados passados, backtests e previsões não garantem resultados futuros. A BotCriptoFy não é corretora, não guarda seus ativos e não presta recomendação de investimento: as decisões e as ordens enviadas pelos seus robôs são suas.

4. Uso aceitável. É proibido usar a plataforma para fraude, lavagem de dinheiro, manipulação de mercado, para contornar limites técnicos ou para acessar dados de outros clientes. Podemos suspender contas que violem estes Termos ou a lei.

5. Planos e pagamentos. Os planos pagos são cobrados de forma recorrente até o cancelamento. Os preços e limites de cada plano são informados antes da contratação.

6. Disponibilidade e responsabilidade. Trabalhamos para manter o serviço disponível, mas falhas de corretoras, de redes ou do próprio serviço podem ocorrer. Nossa responsabilidade limita-se ao previsto na legislação brasileira, inclusive o Código de Defesa do Consumidor.

7. Encerramento. Você pode excluir sua conta a qualquer momento em Privacidade e dados. Registros financeiros e de auditoria são mantidos pelo prazo exigido em lei.

8. Alterações e foro. Novas versões destes Termos serão publicadas com data e pediremos um novo aceite. Aplica-se a lei brasileira. Contato: dpo@botcriptofy.dev.$pt$,
$en$1. Who we are. BotCriptoFy provides, by subscription, a platform to trade crypto assets with bots, backtests and price models. By creating an account you accept these Terms and the Privacy Policy.

2. Your account. You are responsible for your account's credentials and for the exchange API keys you register. We recommend turning on two-step verification. Tell us at once about any misuse.

3. Risks. Trading crypto assets is highly risky and may lose all of your capital. Past results, backtests and predictions do not guarantee future results. BotCriptoFy is not a broker, does not hold your assets and gives no investment advice: the decisions and the orders your bots send are yours.

4. Acceptable use. You may not use the platform for fraud, money laundering or market manipulation, to get around technical limits or to reach other customers' data. We may suspend accounts that break these Terms or the law.

5. Plans and payments. Paid plans are billed on a recurring basis until cancelled. Each plan's prices and limits are shown before you subscribe.

6. Availability and liability. We work to keep the service available, but exchanges, networks or the service itself may fail. Our liability is limited as provided by Brazilian law, including the Consumer Protection Code.

7. Closing your account. You may delete your account at any time under Privacy and data. Financial and audit records are kept for as long as the law requires.

8. Changes and jurisdiction. New versions of these Terms will be published with their date and we will ask for a new acceptance. Brazilian law applies. Contact: dpo@botcriptofy.dev.$en$),
('privacy', 1, 'Política de Privacidade', 'Privacy Policy',
$pt$1. Controlador. A BotCriptoFy é a controladora dos dados pessoais tratados na plataforma, nos termos da Lei Geral de Proteção de Dados (Lei 13.709/2018, LGPD). Encarregado (DPO): dpo@botcriptofy.dev.

2. Dados que tratamos. Dados de cadastro (nome, e-mail, idioma), dados de acesso (endereço IP, navegador, horários de sessão), dados de segurança (eventos de login e verificação em duas etapas), chaves de API de corretoras (guardadas cifradas; mostramos apenas uma máscara), dados de operações e de assinatura, notificações e registros de consentimento.

3. Finalidades e bases legais. Prestar o serviço contratado (execução de contrato); proteger sua conta e prevenir fraudes (legítimo interesse e proteção do crédito); cumprir obrigações legais e regulatórias, inclusive fiscais e de auditoria (obrigação legal); enviar comunicações de marketing somente com o seu consentimento, que pode ser retirado a qualquer momento.

4. Compartilhamento. Compartilhamos dados apenas com operadores necessários ao serviço (hospedagem, e-mail, pagamentos) e com as corretoras que você conectar, sob contrato e na medida necessária, ou quando a lei ou uma autoridade exigir. Não vendemos dados pessoais.

5. Retenção. Mantemos os dados enquanto a conta existir. Ao excluir a conta, seus dados pessoais são apagados ou anonimizados; registros financeiros e de auditoria, e a prova dos consentimentos, são mantidos pelo prazo exigido em lei.

6. Segurança. Senhas são guardadas apenas como hash lento e resistente a força bruta, segredos são cifrados, todo acesso é registrado em trilha de auditoria encadeada e o acesso interno é limitado por função.

7. Seus direitos. Você pode confirmar a existência de tratamento e acessar seus dados, baixar uma cópia em formato legível por máquina (portabilidade), corrigir dados, pedir a exclusão, retirar consentimentos e obter informação sobre compartilhamento, diretamente em Privacidade e dados ou pelo e-mail dpo@botcriptofy.dev. Você também pode reclamar à ANPD.

8. Alterações. Novas versões desta Política serão publicadas com data e pediremos um novo aceite.$pt$,
$en$1. Controller. BotCriptoFy is the controller of the personal data processed on the platform under Brazil's General Data Protection Law (Law 13,709/2018, LGPD). Data protection officer (DPO): dpo@botcriptofy.dev.

2. Data we process. Registration data (name, e-mail, language), access data (IP address, browser, session times), security data (sign-in and two-step verification events), exchange API keys (stored encrypted; we only show a mask), trading and subscription data, notifications and consent records.

3. Purposes and legal bases. Providing the service you signed up for (performance of a contract); protecting your account and preventing fraud (legitimate interest and credit protection); meeting legal and regulatory duties, including tax and audit duties (legal obligation); sending marketing messages only with your consent, which you may withdraw at any time.

4. Sharing. We share data only with processors the service needs (hosting, e-mail, payments) and with the exchanges you connect, under contract and as far as needed, or when the law or an authority requires it. We do not sell personal data.

5. Retention. We keep data while the account exists. When you delete the account your personal data is erased or anonymised; financial and audit records, and the proof of consents, are kept for as long as the law requires.

6. Security. Passwords are stored only as a slow, brute-force resistant hash, secrets are encrypted, every access is written to a chained audit trail and internal access is limited by role.

7. Your rights. You may confirm that we process your data and access it, download a copy in a machine-readable format (portability), correct data, ask for deletion, withdraw consents and learn with whom data is shared, directly under Privacy and data or by e-mail to dpo@botcriptofy.dev. You may also complain to the ANPD, Brazil's data protection authority.

8. Changes. New versions of this Policy will be published with their date and we will ask for a new acceptance.$en$);

-- Accounts that existed before this migration (the demo accounts) accepted the first versions
-- when they were made; without these rows they would be asked again on every sign-in.
INSERT INTO consents (tenant_id, user_id, document, version, granted, ip, user_agent)
    SELECT u.tenant_id, u.id, d.document, 1, true, '', 'migration 0008'
    FROM users u CROSS JOIN (VALUES ('terms'), ('privacy')) AS d(document)
    WHERE u.status <> 'deleted';
