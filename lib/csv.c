/* csv.c — RFC 4180 fields with spreadsheet formulas neutralised: a tab or CR in front would hide a
 * formula's first character from naive checks, so they are guarded too. */
#include "csv.h"
#include <string.h>

void csv_field(buf *b, const char *s, int last)
{
    int formula = s[0] && strchr("=+-@\t\r", s[0]);
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        buf_putc(b, '"');
    if (formula)
        buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            buf_putc(b, '"');
        buf_putc(b, *p);
    }
    if (quote)
        buf_putc(b, '"');
    buf_puts(b, last ? "\r\n" : ",");
}
