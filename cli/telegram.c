/* telegram.c — `botctl telegram set-webhook URL | delete-webhook | info`: registers the bot's webhook
 * with the Bot API (setWebhook with the secret token and the update kinds we handle) and shows what Telegram holds. */
#include "commands.h"
#include "config.h"
#include "telegram_api.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void telegram_usage(void)
{
    fprintf(stderr, "usage: botctl telegram set-webhook URL [--secret-from-config] | delete-webhook | info\n"
                    "  set-webhook URL   register URL (https://.../telegram/webhook) for message and callback_query updates;\n"
                    "                    --secret-from-config (the default) sends telegram.webhook_secret as secret_token\n"
                    "  delete-webhook    remove the webhook (pending updates are kept)\n"
                    "  info              print getWebhookInfo as JSON\n");
}

/* Calls method and prints its result as JSON; 0, or 1 with Telegram's reason on stderr. */
static int call_and_print(const char *method, json_t *params)
{
    json_t *result = NULL;
    tg_error e;
    int rc = telegram_call(method, params, 0, &result, &e);
    json_decref(params);
    if (rc != TG_OK) {
        fprintf(stderr, "botctl telegram: %s failed (%s): %s\n", method, tg_result_name((tg_result)rc), e.description);
        return 1;
    }
    char *s = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    printf("%s\n", s ? s : "null");
    free(s);
    json_decref(result);
    return 0;
}

static int set_webhook(int argc, char **argv)
{
    const char *url = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--secret-from-config"))
            continue;
        if (url || strncmp(argv[i], "https://", 8) != 0) {
            /* Telegram delivers webhooks over HTTPS only */
            telegram_usage();
            return 2;
        }
        url = argv[i];
    }
    if (!url) {
        telegram_usage();
        return 2;
    }
    char *secret = config_secret("telegram.webhook_secret");
    if (!secret || !*secret) {
        free(secret);
        fprintf(stderr, "botctl telegram: telegram.webhook_secret is not set (BCF_TELEGRAM_WEBHOOK_SECRET or "
                        "telegram.webhook_secret_file); the webhook would refuse every update\n");
        return 1;
    }
    json_t *params = json_pack("{s:s, s:s, s:[s,s], s:b}", "url", url, "secret_token", secret, "allowed_updates",
                               "message", "callback_query", "drop_pending_updates", 0);
    sodium_memzero(secret, strlen(secret));
    free(secret);
    return call_and_print("setWebhook", params);
}

int cmd_telegram(int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "set-webhook"))
        return set_webhook(argc - 1, argv + 1);
    if (argc == 1 && !strcmp(argv[0], "delete-webhook"))
        return call_and_print("deleteWebhook", json_pack("{s:b}", "drop_pending_updates", 0));
    if (argc == 1 && !strcmp(argv[0], "info"))
        return call_and_print("getWebhookInfo", NULL);
    telegram_usage();
    return 2;
}
