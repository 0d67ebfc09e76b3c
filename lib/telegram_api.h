/* telegram_api.h — calls to Telegram's Bot API over the shared HTTP client: JSON bodies POSTed to
 * <telegram.api_base>/bot<token>/<method>, answers {"ok":..., "result"|"error_code","parameters"} read back. */
#ifndef BCF_TELEGRAM_API_H
#define BCF_TELEGRAM_API_H
#include <jansson.h>
#include "arena.h"

typedef enum tg_result {
    TG_OK = 0,
    TG_ERR_UNAVAILABLE = -1,  /* no answer, a 5xx, or the "telegram" circuit breaker open: try later */
    TG_ERR_RATE_LIMITED = -2, /* 429: wait retry_after_s before calling again */
    TG_ERR_REFUSED = -3,      /* Telegram answered ok:false (400 bad request, 403 blocked by the user...) */
    TG_ERR_CONFIG = -4,       /* telegram.bot_token is not set */
    TG_ERR_BAD_ANSWER = -5,   /* an answer that is not the Bot API's JSON */
    TG_ERR_INVALID = -6,      /* refused before sending: a bad method name or params */
} tg_result;

typedef struct tg_error {
    tg_result result;
    long status;              /* HTTP status of the answer, 0 when none came back */
    int error_code;           /* the answer's error_code (or the HTTP status), 0 when none */
    long retry_after_s;       /* parameters.retry_after of a 429, else 0 */
    int sent;                 /* 1 when a request went out (the breaker may refuse before) */
    char description[256];    /* Telegram's description, or our own reason; never the token */
} tg_error;

/* Calls method ("sendMessage", "setWebhook", ...) with params (a JSON object, may be NULL) and
 * stores the answer's "result" in *result (the caller json_decref's it; NULL on error). max_attempts
 * as in http_request (0 = the config's, 1 = no retry: the outbox worker retries itself). Returns a
 * tg_result; e is filled on error (e may be NULL). Logs the method only, never the URL. */
int telegram_call(const char *method, const json_t *params, int max_attempts, json_t **result, tg_error *e);

/* ---- pure parts, exposed for the unit tests ---- */
/* Reads a Bot API answer body (HTTP status http_status) into *result or e. */
int telegram_parse_answer(long http_status, const char *body, size_t len, json_t **result, tg_error *e);
/* s with &, < and > escaped for parse_mode HTML (arena copy, or malloc'd when a is NULL). */
char *telegram_html_escape(arena *a, const char *s);
const char *tg_result_name(tg_result r);
#endif
