/* utf8.c — the one UTF-8 validator: parsers reject what it refuses, the escaper replaces it.
 * Lead-byte ranges and the overlong/surrogate rules follow RFC 3629. */
#include "utf8.h"
#include <string.h>

size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_seq(s + i, n - i);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

int utf8_label_ok(const char *s, size_t max_chars)
{
    size_t n = s ? strlen(s) : 0, chars = 0;
    if (!n || n > 4 * max_chars || !utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; chars++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return 0;
        size_t k = ch < 0x80 ? 1 : utf8_seq((const unsigned char *)s + i, n - i);
        i += k ? k : 1;
    }
    return chars <= max_chars;
}
