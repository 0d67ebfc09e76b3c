/* qr.c — QR codes (libqrencode, ECC level M) drawn as one compact inline SVG path: dark modules
 * of a row merge into one rectangle, and a 4-module quiet zone surrounds the symbol. */
#include "qr.h"
#include <qrencode.h>
#include <string.h>
#include "buf.h"

#define QR_QUIET 4

/* Appends the path segments of one row's runs of dark modules. */
static void qr_row(buf *b, const unsigned char *row, int width, int y)
{
    for (int x = 0; x < width;) {
        if (!(row[x] & 1)) {
            x++;
            continue;
        }
        int start = x;
        while (x < width && (row[x] & 1))
            x++;
        int run = x - start;
        buf_printf(b, "M%d %dh%dv1h-%dz", start + QR_QUIET, y + QR_QUIET, run, run);
    }
}

char *qr_svg(arena *a, const char *text)
{
    if (!a || !text || !*text)
        return NULL;
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return NULL;
    char *out = NULL;
    buf b;
    buf_init(&b);
    int n = q->width + 2 * QR_QUIET;
    buf_printf(&b,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" class=\"qr\" role=\"img\" "
               "aria-label=\"QR code\" shape-rendering=\"crispEdges\">"
               "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
               n, n, n, n);
    for (int y = 0; y < q->width; y++)
        qr_row(&b, q->data + (size_t)y * (size_t)q->width, q->width, y);
    buf_puts(&b, "\"/></svg>");
    if (!b.oom)
        out = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    QRcode_free(q);
    return out;
}
