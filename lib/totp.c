/* totp.c — placeholder until the implementation lands in this change. */
typedef int totp_placeholder;
