/* modules.c — the registry: the order here is the navigation order. Modules still to come are
 * listed by name so the menu shows the whole product from the first release. */
#include "modules.h"

static const module upcoming[] = {
    {"p2p", "nav.p2p", NULL, NULL, 0},
    {"affiliate", "nav.affiliate", NULL, NULL, 0},
    {"mmn", "nav.mmn", NULL, NULL, 0},
    {"marketing", "nav.marketing", NULL, NULL, 0},
    {"vendas", "nav.vendas", NULL, NULL, 0},
    {"sac", "nav.sac", NULL, NULL, 0},
    {"documentos", "nav.documentos", NULL, NULL, 0},
};

const module *const all_modules[] = {
    &dashboard_module, &bots_module, &markets_module, &jobs_module, &banco_module,  &upcoming[0],  &upcoming[1],
    &upcoming[2],      &notificacoes_module, &financeiro_module, &upcoming[3],  &upcoming[4],  &seguranca_module, &upcoming[5],
    &auditoria_module, &upcoming[6], &admin_module, &assinaturas_module, &account_module, &mfa_module,
    &sessions_module,  &credentials_module, &backtests_module,
    &optimizations_module, &walkforward_module, &models_module, &privacy_module, &devmail_module, &auth_module,
    &pricing_module, &system_module, &stripe_webhook_module, &assinaturas_actions_module, &assinaturas_plan_module,
    &comissoes_module, &banco_requests_module, &entregas_module, &telegram_module,
    NULL,
};
