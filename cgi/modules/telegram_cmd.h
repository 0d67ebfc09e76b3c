/* telegram_cmd.h — what the bot does with one update: linking a chat, the commands and the
 * inline-keyboard confirmations, each reply written to telegram_outbox in the update's transaction. */
#ifndef BCF_TELEGRAM_CMD_H
#define BCF_TELEGRAM_CMD_H
#include "request.h"
#include "telegram_update.h"

/* Handles u (not malformed) once: in one transaction stores it in telegram_updates with its
 * outcome and writes every reply; a redelivered update_id changes nothing. Jobs (a backtest, a
 * bot's first tick) go on the stream after the COMMIT. Returns 0 handled, 1 duplicate, -1 when
 * the database failed (nothing stored: Telegram may deliver it again). */
int tgc_handle(request *req, const tg_update *u);
/* SHA-256 of a link code, hex: the only form telegram_link_codes stores (out: 65 bytes). */
void tgc_code_hash(const char *code, char out[65]);
#endif
