/* money.h — amounts for people: integer minor units (centavos, 10^-6 USDT, satoshis) written with
 * the currency's own decimals and the language's separators, never through a float. */
#ifndef BCF_MONEY_H
#define BCF_MONEY_H
#include "arena.h"
#include <stddef.h>

/* Digits after the decimal point of a currency's minor unit: BRL 2, USDT 6, BTC 8; -1 unknown. */
int money_decimals(const char *currency);

/* Writes minor units of currency for lang: pt-BR "R$ 1.234,56", "USDT 12,500000"; English (any
 * other lang) "BRL 1,234.56", "BTC 0.00100000". A negative amount starts with "-". Returns the
 * length written (as snprintf: the output is cut at cap - 1), or -1 for an unknown currency. */
int money_format(char *out, size_t cap, long long minor, const char *currency, const char *lang);

/* The amount as a plain decimal for files and programs: "-1234.56", "0.00100000" (no symbol, no
 * grouping, a point). Returns the length written, or -1 for an unknown currency. */
int money_plain(char *out, size_t cap, long long minor, const char *currency);

/* The same into the arena; "—" for an unknown currency or when the arena is full. */
const char *money_format_a(arena *a, long long minor, const char *currency, const char *lang);
/* Reads an amount as a person types it: digits with at most the currency's decimals after one '.'
 * or ',' ("12,50", "0.001", "7"); no sign, no grouping, no exponent. 0 with *minor set (zero
 * included: the caller decides whether zero is allowed), or -1 for anything else, an unknown
 * currency or an amount past LLONG_MAX minor units. */
int money_parse(const char *text, const char *currency, long long *minor);
#endif
