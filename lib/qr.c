/* qr.c — placeholder until the implementation lands in this change. */
typedef int qr_placeholder;
