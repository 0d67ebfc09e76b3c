/* mail.h — outgoing e-mail: handlers queue messages in mail_outbox (inside their transaction);
 * the worker delivers them over SMTP with libcurl, or writes them to mail.capture_dir. */
#ifndef BCF_MAIL_H
#define BCF_MAIL_H
#include "ctx.h"

/* Queues one plain-text UTF-8 message. Returns the outbox id, or -1. */
long long mail_queue(const ctx *c, const char *to, const char *subject, const char *body_text);
/* Delivers up to max due messages (worker side); retries with backoff up to mail.max_attempts.
 * SMTP sends go through the process's circuit breaker for service "smtp" (lib/http.h): while it
 * is open nothing is claimed, and after the cool-down one message is the probe.
 * Returns messages sent, or -1 when the database is unavailable. */
int mail_deliver_due(int max);
#endif
