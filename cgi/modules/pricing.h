/* pricing.h — the public pricing page, and the one answer every page gives when the tenant's
 * plan refuses something (a limit reached), so all refusals look and read alike. */
#ifndef BCF_PRICING_H
#define BCF_PRICING_H
#include "plans.h"
#include "request.h"

/* 403 plan_limit: JSON {"error": {code, message, request_id, plan, limit, allowed, used, why,
 * pricing}} or the HTML error page with the translated message and the way to /pricing. */
void pricing_refuse(request *req, response *res, const plan_refusal *r);
/* The translated explanation of a refusal ("Limite do plano Free: 2 robôs; 2 em uso."). */
const char *pricing_refusal_message(request *req, const plan_refusal *r);
#endif
