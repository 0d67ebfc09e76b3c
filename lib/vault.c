/* vault.c — placeholder until the implementation lands in this change. */
typedef int vault_placeholder;
