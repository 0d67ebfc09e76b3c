/* buf.h — a growable heap byte buffer for output that outlives one call (responses, logs).
 * Lengths are explicit; the data is always NUL-terminated for convenience. */
#ifndef BCF_BUF_H
#define BCF_BUF_H
#include <stddef.h>
#include <stdarg.h>

typedef struct buf {
    char *data;
    size_t len, cap;
    int oom; /* sticky: set when an allocation failed; later appends are ignored */
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_clear(buf *b);
int buf_reserve(buf *b, size_t extra);
int buf_append(buf *b, const void *data, size_t n);
int buf_puts(buf *b, const char *s);
int buf_putc(buf *b, char c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Appends s as the inside of a JSON string (no quotes added); invalid UTF-8 becomes U+FFFD. */
int buf_json_escape(buf *b, const char *s, size_t n);
/* Drops the first n bytes (consumed output). */
void buf_consume(buf *b, size_t n);
#endif
