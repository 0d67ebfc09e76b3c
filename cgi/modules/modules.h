/* modules.h — the list of every module's route table. Adding a module means adding its file,
 * declaring it here and listing it in modules.c. */
#ifndef BCF_MODULES_H
#define BCF_MODULES_H
#include "router.h"

extern const module system_module;
extern const module auth_module;
extern const module dashboard_module;
extern const module account_module;     /* account.c: registration, e-mail verification, password change/reset */
extern const module mfa_module;         /* mfa.c: 2FA enrolment, the login's second step, recovery codes */
extern const module sessions_module;    /* sessions.c: "your sessions" and personal API tokens */
extern const module admin_module;       /* admin.c: permission matrix and role assignment */
extern const module credentials_module; /* credentials.c: exchange API keys in the vault */
extern const module auditoria_module;   /* auditoria.c: the audit trail, filters, CSV */
extern const module seguranca_module;   /* seguranca.c: security events and alerts */
extern const module privacy_module;     /* privacy.c: LGPD terms, consent, export, deletion */
extern const module bots_module;        /* bots.c: trading bots, the emergency stop and the trading halt */
extern const module backtests_module;   /* backtests.c: backtests queued as jobs, reports, comparison */
extern const module optimizations_module; /* optimizations.c: parameter searches, results, heatmap */
extern const module walkforward_module; /* walkforward.c: walk-forward analyses and their reports */
extern const module models_module;      /* models.c: ML models: training, versions, metrics, prediction runs */
extern const module entregas_module;    /* entregas.c: failed notification and bot deliveries (staff) */
extern const module devmail_module;     /* devmail.c: captured e-mail, development only */
extern const module jobs_module;        /* jobs.c: the tenant's jobs: progress, results, cancel, retry */
extern const module pricing_module;      /* pricing.c: the public plans and pricing page */
extern const module markets_module;     /* markets.c: markets list, candlestick charts, candle CSV import */
extern const module financeiro_module;  /* financeiro.c: revenue dashboard, ledger transfers and CSV, invoices (staff) */
extern const module assinaturas_module; /* assinaturas.c: the tenant's plan, usage, subscription and dunning */
extern const module stripe_webhook_module; /* stripe_webhook.c: POST /webhooks/stripe, signed by Stripe */
extern const module comissoes_module; /* comissoes.c: commission balances and payout runs */
extern const module assinaturas_actions_module; /* assinaturas_actions.c: Stripe checkout and billing portal */
extern const module banco_module;       /* banco.c: wallets, balances, history, pockets and transfers */
extern const module banco_requests_module; /* banco_requests.c: deposits and withdrawals, and staff decisions */
extern const module assinaturas_plan_module;    /* assinaturas_plan.c: plan change, cancel/resume, trial */
extern const module notificacoes_module; /* notificacoes.c: the notifications list, mark read, preferences */
extern const module telegram_module; /* telegram.c: the bot's webhook, linking a chat from the portal */
extern const module *const all_modules[];
#endif
