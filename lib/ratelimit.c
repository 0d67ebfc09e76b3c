/* ratelimit.c — placeholder until the implementation lands in this change. */
typedef int ratelimit_placeholder;
