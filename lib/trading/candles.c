/* candles.c — timeframes, UTC calendar arithmetic and the CSV parsers for candle files. Pure: no
 * I/O and no global state, so the same bytes give the same candles and the same errors everywhere. */
#include "candles.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CANDLE_MAX_FIELDS 16
#define CANDLE_FIELD_MAX 64

int64_t candle_timeframe_ms(const char *tf)
{
    static const struct {
        const char *name;
        int64_t ms;
    } tfs[] = {{"1m", 60000LL},    {"5m", 300000LL},    {"15m", 900000LL},
               {"1h", 3600000LL}, {"4h", 14400000LL}, {"1d", 86400000LL}};
    if (!tf)
        return 0;
    for (size_t i = 0; i < sizeof tfs / sizeof tfs[0]; i++)
        if (!strcmp(tf, tfs[i].name))
            return tfs[i].ms;
    return 0;
}

int candle_format_parse(const char *name, candle_format *out)
{
    if (name && !strcmp(name, "binance"))
        *out = CANDLE_FORMAT_BINANCE;
    else if (name && !strcmp(name, "generic"))
        *out = CANDLE_FORMAT_GENERIC;
    else
        return -1;
    return 0;
}

/* Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian, exact in integers,
 * independent of the process time zone (timegm would be too, but is not standard C). */
static int64_t candle_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void candle_civil_from_days(int64_t z, int64_t *y, int *m)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t candle_month_start_ms(int64_t ms)
{
    int64_t y;
    int m;
    candle_civil_from_days(ms / 86400000LL, &y, &m);
    return candle_days_from_civil(y, m, 1) * 86400000LL;
}

static int candle_digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int candle_days_in_month(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

int candle_parse_time(const char *s, size_t len, int64_t *ms)
{
    int64_t y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
    if (len < 10 || s[4] != '-' || s[7] != '-' || candle_digits(s, 4, &y) || candle_digits(s + 5, 2, &mo) ||
        candle_digits(s + 8, 2, &d))
        return -1;
    size_t i = 10;
    if (i < len) {
        if ((s[i] != 'T' && s[i] != ' ') || len < i + 9 || s[i + 3] != ':' || s[i + 6] != ':' ||
            candle_digits(s + i + 1, 2, &h) || candle_digits(s + i + 4, 2, &mi) || candle_digits(s + i + 7, 2, &se))
            return -1;
        i += 9;
        if (i < len && s[i] == '.') {
            /* up to millisecond precision is kept; more digits must be zeros (no sub-ms candles) */
            size_t start = ++i;
            while (i < len && isdigit((unsigned char)s[i])) {
                size_t k = i - start;
                if (k < 3)
                    frac = frac * 10 + (s[i] - '0');
                else if (s[i] != '0')
                    return -1;
                i++;
            }
            if (i == start)
                return -1;
            for (size_t k = i - start; k < 3; k++)
                frac *= 10;
        }
        if (i + 1 == len && s[i] == 'Z')
            i++;
        else if (i + 6 == len && !memcmp(s + i, "+00:00", 6))
            i += 6;
        else
            return -1; /* a time without a zone, or another zone, would be guessed: refuse it */
    }
    if (i != len || mo < 1 || mo > 12 || d < 1 || d > candle_days_in_month(y, (int)mo) || h > 23 || mi > 59 ||
        se > 59 || y < 1970)
        return -1;
    *ms = ((candle_days_from_civil(y, (int)mo, (int)d) * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + frac;
    return 0;
}

static void candle_reason(char *reason, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void candle_reason(char *reason, size_t len, const char *fmt, ...)
{
    if (!reason || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, len, fmt, ap);
    va_end(ap);
}

int candle_check(const candle *c, int64_t tf_ms, char *reason, size_t reasonlen)
{
    const char *names[] = {"open", "high", "low", "close", "volume"};
    const double v[] = {c->open, c->high, c->low, c->close, c->volume};
    for (int i = 0; i < 5; i++)
        if (!isfinite(v[i])) {
            candle_reason(reason, reasonlen, "%s is not a finite number", names[i]);
            return -1;
        }
    if (c->open_time < 0) {
        candle_reason(reason, reasonlen, "open time is before 1970");
        return -1;
    }
    if (tf_ms > 0 && c->open_time % tf_ms != 0) {
        candle_reason(reason, reasonlen, "open time %lld is not aligned to the timeframe (%lld ms)",
                      (long long)c->open_time, (long long)tf_ms);
        return -1;
    }
    if (!(c->low > 0)) {
        candle_reason(reason, reasonlen, "low must be positive");
        return -1;
    }
    if (!(c->high >= fmax(c->open, c->close))) {
        candle_reason(reason, reasonlen, "high is below max(open, close)");
        return -1;
    }
    if (!(c->low <= fmin(c->open, c->close))) {
        candle_reason(reason, reasonlen, "low is above min(open, close)");
        return -1;
    }
    if (!(c->volume >= 0)) {
        candle_reason(reason, reasonlen, "volume is negative");
        return -1;
    }
    return 0;
}

/* Splits line into comma-separated fields trimmed of blanks (no quoting: neither format uses it). */
static int candle_split(const char *line, size_t len, const char **f, size_t *fl, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ',')
            continue;
        if (n == max)
            return max + 1;
        size_t a = start, b = i;
        while (a < b && isspace((unsigned char)line[a]))
            a++;
        while (b > a && isspace((unsigned char)line[b - 1]))
            b--;
        f[n] = line + a;
        fl[n] = b - a;
        n++;
        start = i + 1;
    }
    return n;
}

static int candle_number(const char *s, size_t len, double *out)
{
    char buf[CANDLE_FIELD_MAX];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    /* strtod accepts "nan" and "inf": they are caught as not finite by candle_check */
    if (*end || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

/* An epoch timestamp: up to 13 digits is milliseconds; 16 digits is microseconds (Binance's files
 * from 2025 on), which must name a whole millisecond. */
static int candle_epoch(const char *s, size_t len, int64_t *ms)
{
    int64_t v;
    if (len == 0 || len > 16 || (len > 13 && len < 16) || candle_digits(s, len, &v))
        return -1;
    if (len == 16) {
        if (v % 1000)
            return -1;
        v /= 1000;
    }
    *ms = v;
    return 0;
}

int candle_parse_line(candle_format fmt, const char *line, size_t len, int is_first, int64_t tf_ms, candle *out,
                      char *reason, size_t reasonlen)
{
    if (len && line[len - 1] == '\r')
        len--;
    const char *f[CANDLE_MAX_FIELDS];
    size_t fl[CANDLE_MAX_FIELDS];
    int n = candle_split(line, len, f, fl, CANDLE_MAX_FIELDS);
    if (n == 1 && fl[0] == 0)
        return 0;
    int want = fmt == CANDLE_FORMAT_BINANCE ? 12 : 6;
    if (is_first) {
        if (fmt == CANDLE_FORMAT_GENERIC) {
            static const char *hdr[] = {"timestamp", "open", "high", "low", "close", "volume"};
            int ok = n == 6;
            for (int i = 0; ok && i < 6; i++)
                ok = fl[i] == strlen(hdr[i]) && !strncasecmp(f[i], hdr[i], fl[i]);
            if (ok)
                return 0;
            candle_reason(reason, reasonlen, "the first line must be the header timestamp,open,high,low,close,volume");
            return -1;
        }
        if (n >= 1 && fl[0] == 9 && !strncasecmp(f[0], "open_time", 9))
            return 0;
    }
    if (n != want) {
        candle_reason(reason, reasonlen, "expected %d fields, got %s%d", want, n > CANDLE_MAX_FIELDS ? "more than " : "",
                      n > CANDLE_MAX_FIELDS ? CANDLE_MAX_FIELDS : n);
        return -1;
    }
    candle c;
    int ts_ok = candle_epoch(f[0], fl[0], &c.open_time) == 0 ||
                (fmt == CANDLE_FORMAT_GENERIC && candle_parse_time(f[0], fl[0], &c.open_time) == 0);
    if (!ts_ok) {
        candle_reason(reason, reasonlen, "%s",
                      fmt == CANDLE_FORMAT_BINANCE
                          ? "bad open time: want epoch milliseconds (13 digits) or microseconds (16 digits)"
                          : "bad timestamp: want epoch milliseconds or ISO 8601 UTC (2024-01-02T03:04:05Z)");
        return -1;
    }
    static const char *names[] = {"open", "high", "low", "close", "volume"};
    double *dst[] = {&c.open, &c.high, &c.low, &c.close, &c.volume};
    for (int i = 0; i < 5; i++)
        if (candle_number(f[i + 1], fl[i + 1], dst[i]) != 0) {
            candle_reason(reason, reasonlen, "%s is not a number", names[i]);
            return -1;
        }
    if (candle_check(&c, tf_ms, reason, reasonlen) != 0)
        return -1;
    *out = c;
    return 1;
}

static int candle_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

int candles_parse(candle_format fmt, const char *data, size_t len, int64_t tf_ms, candle **rows, size_t *nrows,
                  candle_error *errs, size_t maxerr, size_t *nerr)
{
    candle *out = NULL;
    size_t n = 0, cap = 0, bad = 0;
    int rc = 0, lineno = 0, seen_content = 0;
    int64_t prev = -1;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        candle c;
        char why[sizeof errs[0].reason];
        int r = candle_parse_line(fmt, p, ll, !seen_content, tf_ms, &c, why, sizeof why);
        /* the header is looked for on the first non-blank line only */
        if (!candle_blank(p, ll))
            seen_content = 1;
        if (r == 1 && c.open_time <= prev) {
            snprintf(why, sizeof why, "open time %lld is not after the previous row's (%lld)", (long long)c.open_time,
                     (long long)prev);
            r = -1;
        }
        if (r < 0) {
            if (bad < maxerr) {
                errs[bad].line = lineno;
                snprintf(errs[bad].reason, sizeof errs[bad].reason, "%s", why);
            }
            bad++;
        } else if (r == 1) {
            prev = c.open_time;
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                candle *grown = realloc(out, ncap * sizeof *out);
                if (!grown) {
                    rc = -2;
                    goto done;
                }
                out = grown;
                cap = ncap;
            }
            out[n++] = c;
        }
        p = nl ? nl + 1 : end;
    }
    if (bad)
        rc = -1;
done:
    *nerr = bad;
    if (rc != 0) {
        free(out);
        out = NULL;
        n = 0;
    }
    *rows = out;
    *nrows = n;
    return rc;
}
