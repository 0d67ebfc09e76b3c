/* lgpd.c — placeholder until the implementation lands in this change. */
typedef int lgpd_placeholder;
