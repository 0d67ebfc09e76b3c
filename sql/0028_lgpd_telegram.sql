-- 0028_lgpd_telegram.sql — what account deletion needs to erase a user's Telegram chat (lib/lgpd.c,
-- docs/security.md "LGPD"): nothing else in the application removes these rows or rewrites them.

-- The bot's messages to the deleted user's chat carry their texts (balances, names): they go.
GRANT DELETE ON telegram_outbox TO bcf_app;
-- An update's row stays (update_id makes a redelivery change nothing); only its chat is forgotten.
GRANT UPDATE (chat_id) ON telegram_updates TO bcf_app;
