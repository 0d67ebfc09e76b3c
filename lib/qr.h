/* qr.h — QR codes as inline SVG (libqrencode), so the 2FA enrolment page needs no image route
 * and no script. */
#ifndef BCF_QR_H
#define BCF_QR_H
#include "arena.h"
/* An <svg> element (one <path>, quiet zone included) encoding text at ECC level M. NULL on failure. */
char *qr_svg(arena *a, const char *text);
#endif
