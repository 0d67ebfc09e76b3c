/* mail.c — placeholder until the implementation lands in this change. */
typedef int mail_placeholder;
