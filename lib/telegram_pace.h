/* telegram_pace.h — the Bot API's sending limits shared by every worker process: at most
 * telegram.rate_global_per_s messages a second overall and telegram.rate_chat_per_s to one chat. */
#ifndef BCF_TELEGRAM_PACE_H
#define BCF_TELEGRAM_PACE_H

/* Reserves the next send slot for chat_id (chat_id 0 = only the overall limit, for calls such as
 * answerCallbackQuery that are not messages to a chat). Returns 0 when the caller may send now,
 * the microseconds to wait before asking again, or -1 when Redis is unavailable (nothing is sent:
 * without the shared clock no process can tell what the others sent). */
long long telegram_pace_reserve(long long chat_id);
/* A 429's retry_after: nothing to chat_id (0 = to anyone) before retry_after_s from now. 0 or -1. */
int telegram_pace_hold(long long chat_id, long retry_after_s);
#endif
