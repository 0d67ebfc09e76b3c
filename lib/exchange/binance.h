/* binance.h — the pure parts of the Binance spot adapter (request signing, error-code mapping),
 * exposed for the unit tests; everything else goes through exchange.h. */
#ifndef BCF_EXCHANGE_BINANCE_H
#define BCF_EXCHANGE_BINANCE_H
#include "exchange.h"

/* HMAC-SHA256 of query followed by body (either may be NULL or ""), keyed by secret, as 64
 * lower-case hex digits in out. 0, or -1 when OpenSSL fails. */
int binance_sign(const char *secret, const char *query, const char *body, char out[65]);
/* Our error for an answer with this HTTP status, Binance code (0 when the body had none) and msg. */
exchange_err binance_map_error(long http_status, long code, const char *msg);
#endif
