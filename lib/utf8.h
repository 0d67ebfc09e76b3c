/* utf8.h — strict UTF-8 checks shared by the parsers and the JSON/log escaper: no overlong
 * forms, no surrogates, nothing beyond U+10FFFF. */
#ifndef BCF_UTF8_H
#define BCF_UTF8_H
#include <stddef.h>

/* Length (2-4) of the valid multi-byte sequence at s, or 0 when the bytes there are not one. */
size_t utf8_seq(const unsigned char *s, size_t n);
/* 1 when all n bytes are valid UTF-8. */
int utf8_valid(const char *s, size_t n);
/* A name or label a user typed: 1 to max_chars characters of valid UTF-8 without control
 * characters (so it is safe in a log line, a CSV cell or an e-mail subject). */
int utf8_label_ok(const char *s, size_t max_chars);
#endif
