/* entregas.c — Configurações → Entregas: the notification and bot messages the worker gave up on (status
 * failed), newest first with their last error, so the staff see what Telegram or e-mail refused. */
#include "app.h"
#include "db.h"
#include "modules.h"
#include "render.h"
#include <stdlib.h>

static int failed_list(request *req, response *res)
{
    /* cross-tenant: delivery health is the platform's, read by its staff (admin.roles.read); both
     * branches read their failed-row partial indexes */
    PGresult *r = db_query(
        req->a, "entregas_failed",
        "(SELECT 'notification' AS source, d.id, d.channel, d.tenant_id, d.user_id, NULL::bigint AS chat_id, "
        "n.template, d.attempts, coalesce(d.last_error, ''), to_char(d.created_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created FROM notification_deliveries d "
        "JOIN notifications n ON n.id = d.notification_id WHERE d.status = 'failed' ORDER BY d.created_at DESC LIMIT 100) "
        "UNION ALL (SELECT 'bot', o.id, 'telegram', NULL, NULL, o.chat_id, o.method, o.attempts, coalesce(o.last_error, ''), "
        "to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM telegram_outbox o "
        "WHERE o.status = 'failed' ORDER BY o.created_at DESC LIMIT 100) ORDER BY created DESC LIMIT 100",
        0, NULL);
    if (!r)
        return -1;
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:i, s:s, s:s}", "source", PQgetvalue(r, i, 0), "id",
                              (json_int_t)atoll(PQgetvalue(r, i, 1)), "channel", PQgetvalue(r, i, 2), "what",
                              PQgetvalue(r, i, 6), "attempts", atoi(PQgetvalue(r, i, 7)), "last_error",
                              PQgetvalue(r, i, 8), "created_at", PQgetvalue(r, i, 9));
        for (int k = 3; k <= 5; k++) {
            static const char *const names[] = {"tenant_id", "user_id", "chat_id"};
            json_object_set_new(o, names[k - 3],
                                PQgetisnull(r, i, k) ? json_null() : json_integer(atoll(PQgetvalue(r, i, k))));
        }
        json_array_append_new(rows, o);
    }
    res_page(res, "admin/entregas.cs", "entregas.title", json_pack("{s:o}", "failed", rows));
    return 0;
}

static const route routes[] = {
    {"GET", "/configuracoes/entregas", failed_list, R_AUTH | R_PAGE, "admin.roles.read", NULL},
};

const module entregas_module = {"entregas", NULL, NULL, ROUTES(routes)};
