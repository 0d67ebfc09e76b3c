/* money.c — integer minor units to text: the magnitude is taken as unsigned (LLONG_MIN included),
 * split at the currency's decimals, and grouped by thousands with the language's separators. */
#include "money.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>

int money_decimals(const char *currency)
{
    if (!currency)
        return -1;
    if (!strcmp(currency, "BRL"))
        return 2;
    if (!strcmp(currency, "USDT"))
        return 6;
    if (!strcmp(currency, "BTC"))
        return 8;
    return -1;
}

/* The magnitude of minor as "<whole><point><fraction>", the whole part grouped by thousands
 * unless group is '\0'. 0, or -1 for an unknown currency. */
static int money_digits(char *out, size_t cap, long long minor, const char *currency, char group, char point)
{
    int decimals = money_decimals(currency);
    if (decimals < 0)
        return -1;
    unsigned long long mag = minor < 0 ? 0ULL - (unsigned long long)minor : (unsigned long long)minor;
    unsigned long long scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    char digits[32];
    snprintf(digits, sizeof digits, "%llu", mag / scale);
    /* the whole part grouped by thousands, written from the left */
    char whole[48];
    size_t n = strlen(digits), w = 0;
    for (size_t i = 0; i < n; i++) {
        if (group && i > 0 && (n - i) % 3 == 0)
            whole[w++] = group;
        whole[w++] = digits[i];
    }
    whole[w] = '\0';
    int len = snprintf(out, cap, "%s%c%0*llu", whole, point, decimals, mag % scale);
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

int money_format(char *out, size_t cap, long long minor, const char *currency, const char *lang)
{
    int pt = lang && !strcmp(lang, "pt-BR");
    char digits[64];
    if (money_digits(digits, sizeof digits, minor, currency, pt ? '.' : ',', pt ? ',' : '.') < 0)
        return -1;
    const char *symbol = pt && !strcmp(currency, "BRL") ? "R$" : currency;
    return snprintf(out, cap, "%s%s %s", minor < 0 ? "-" : "", symbol, digits);
}

int money_plain(char *out, size_t cap, long long minor, const char *currency)
{
    char digits[64];
    if (money_digits(digits, sizeof digits, minor, currency, '\0', '.') < 0)
        return -1;
    return snprintf(out, cap, "%s%s", minor < 0 ? "-" : "", digits);
}

const char *money_format_a(arena *a, long long minor, const char *currency, const char *lang)
{
    char tmp[80];
    if (money_format(tmp, sizeof tmp, minor, currency, lang) < 0)
        return "—";
    const char *s = arena_strndup(a, tmp, strlen(tmp));
    return s ? s : "—";
}

int money_parse(const char *text, const char *currency, long long *minor)
{
    int decimals = money_decimals(currency);
    if (!text || decimals < 0 || !*text)
        return -1;
    long long v = 0;
    int seen_point = 0, frac = 0, digits = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '.' || *p == ',') {
            if (seen_point || !digits)
                return -1;
            seen_point = 1;
            continue;
        }
        if (*p < '0' || *p > '9' || (seen_point && ++frac > decimals))
            return -1;
        if (v > (LLONG_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
        digits++;
    }
    if (!digits || (seen_point && !frac))
        return -1;
    for (; frac < decimals; frac++) {
        if (v > LLONG_MAX / 10)
            return -1;
        v *= 10;
    }
    *minor = v;
    return 0;
}
