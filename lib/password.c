/* password.c — placeholder until the implementation lands in this change. */
typedef int password_placeholder;
