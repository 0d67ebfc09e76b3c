/* config.c — loads the config file, applies environment overrides and built-in defaults.
 * Lookups are linear over a few dozen keys: cheap, and done once per process at start. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct config_default config_defaults[] = {
    {"app.env", "production", "production, development or test; development shows debug pages"},
    {"app.root", "/usr/share/botcriptofy", "where templates/, static/ and sql/ live"},
    {"app.base_url", "http://127.0.0.1:8080", "public URL of the portal, used in links and e-mails"},
    {"app.default_lang", "pt-BR", "language when the user chose none (pt-BR or en)"},
    {"fcgi.socket", "/run/botcriptofy/fcgi.sock", "unix socket nginx connects to"},
    {"fcgi.pidfile", "/run/botcriptofy/fcgi.pid", "pid file of the pool master"},
    {"fcgi.workers", "0", "worker processes; 0 = one per CPU core"},
    {"fcgi.max_conns", "1024", "FastCGI connections one worker keeps open"},
    {"fcgi.shutdown_timeout_s", "30", "how long a stopping worker may finish in-flight requests"},
    {"http.max_body_bytes", "1048576", "largest request body; beyond it the answer is 413"},
    {"http.max_upload_bytes", "8388608", "largest body of an upload route (candle CSV import); at most nginx's client_max_body_size"},
    {"http.max_params_bytes", "65536", "largest total of FastCGI params (headers); beyond it 431"},
    {"http.max_fields", "256", "most query/form/cookie fields parsed per request"},
    {"http.max_json_depth", "32", "deepest JSON nesting accepted in a body"},
    {"db.dsn", "dbname=botcriptofy", "libpq connection string (the password belongs in db.password or PGPASSFILE)"},
    {"db.migrate_dsn", NULL, "connection string of the role that owns the schema (botctl migrate); unset = db.dsn"},
    {"db.password", NULL, "secret: BCF_DB_PASSWORD or db.password_file"},
    {"db.connect_timeout_s", "3", "libpq connect_timeout"},
    {"db.statement_timeout_ms", "5000", "statement_timeout set on every connection"},
    {"db.retry_max", "3", "retries of a transaction that hit SQLSTATE 40001/40P01"},
    {"db.reconnect_max_ms", "2000", "ceiling of the reconnect backoff"},
    {"redis.host", "127.0.0.1", "Redis host"},
    {"redis.port", "6379", "Redis port"},
    {"redis.password", NULL, "secret: BCF_REDIS_PASSWORD or redis.password_file"},
    {"redis.timeout_ms", "200", "connect and command timeout"},
    {"redis.reconnect_max_ms", "2000", "ceiling of the reconnect backoff"},
    {"cache.enabled", "1", "0 bypasses the cache entirely"},
    {"cache.near_max_entries", "4096", "entries in each process's near cache"},
    {"cache.ttl.default", "300", "TTL (s) for a cache key with no module policy"},
    {"cache.ttl.dashboard", "30", "TTL (s) of the dashboard summary"},
    {"cache.ttl.financeiro.user_balance", "300", "write-through"},
    {"cache.ttl.financeiro.transaction_history", "3600", "write-behind"},
    {"cache.ttl.financeiro.commission_rates", "86400", "write-through"},
    {"cache.ttl.marketing.user_achievements", "1800", "write-through"},
    {"cache.ttl.marketing.referral_stats", "600", "write-behind"},
    {"cache.ttl.marketing.campaign_metrics", "3600", "write-through"},
    {"cache.ttl.p2p.active_orders", "60", "write-through"},
    {"cache.ttl.p2p.user_reputation", "1800", "write-through"},
    {"cache.ttl.p2p.market_prices", "30", "write-through"},
    {"cache.ttl.markets.list", "30", "write-through: dropped by every candle import"},
    {"session.cookie", "__Host-bcf_session", "session cookie name (the __Host- prefix needs HTTPS)"},
    {"session.idle_s", "1800", "idle timeout of a session"},
    {"session.absolute_s", "43200", "absolute lifetime of a session"},
    {"session.secure_cookie", "1", "Secure flag; development over plain HTTP sets 0 and drops __Host-"},
    {"session.stepup_s", "300", "how long a 2FA check counts as recent for step-up actions (withdrawals, credentials, 2FA)"},
    {"session.mfa_pending_s", "300", "time allowed between the password and the 2FA code at login"},
    {"security.mfa_required_kinds", "company", "tenant kinds (comma-separated) whose users must enrol in 2FA before using the portal"},
    {"security.login.account_max_failures", "5", "failed logins of one account before a temporary lock"},
    {"security.login.ip_max_failures", "20", "failed logins from one address before a temporary lock of that address"},
    {"security.login.lock_s", "900", "duration of a login lock"},
    {"security.login.delay_after", "3", "failures after which each further attempt must wait (doubling from 1 s)"},
    {"security.anomaly.failed_logins_per_min", "50", "platform-wide failed logins per minute that raise a Segurança alert"},
    {"security.anomaly.account_failures_per_min", "5", "failed logins of one account per minute that raise an alert"},
    {"security.anomaly.rate_limited_per_min", "100", "refused clients per minute (one event per client, limit and minute) that raise an alert; 0 turns a rule off"},
    {"security.anomaly.denials_per_min", "20", "permission denials per minute that raise an alert"},
    {"ratelimit.enabled", "1", "0 turns every rate limit off"},
    {"ratelimit.default", "100/min", "global default per client address (every request that is not a probe)"},
    {"ratelimit.user", "600/min", "per signed-in user or API token, across all routes"},
    {"ratelimit.fail_closed", "financeiro.create_transaction,financeiro.process_payment,financeiro.withdraw_funds,p2p.create_order,p2p.create_ad,affiliate.calculate_commission,banco.transfer", "actions refused with 503 when Redis is unavailable (money moves); all others fail open"},
    {"ratelimit.stripe.webhook", "100/s", "Stripe webhook deliveries per sender address (instead of ratelimit.default)"},
    {"ratelimit.auth.login", "20/min", "login form posts per address"},
    {"ratelimit.account.register", "10/h", "registrations per address"},
    {"ratelimit.account.reset", "5/h", "password-reset requests per address"},
    {"ratelimit.account.mfa", "10/min", "2FA code attempts per user"},
    {"ratelimit.financeiro.create_transaction", "10/min", "per user"},
    {"ratelimit.financeiro.process_payment", "5/min", "per user"},
    {"ratelimit.financeiro.withdraw_funds", "3/h", "per user"},
    {"ratelimit.p2p.create_order", "20/min", "per user"},
    {"ratelimit.p2p.create_ad", "5/h", "per user"},
    {"ratelimit.p2p.send_message", "30/min", "per user"},
    {"ratelimit.affiliate.create_invite", "10/h", "per user"},
    {"ratelimit.affiliate.revoke_invite", "5/h", "per user"},
    {"ratelimit.affiliate.calculate_commission", "100/min", "per user"},
    {"ratelimit.credentials.validate", "10/min", "exchange keys checked against the exchange (added or revalidated), per user"},
    {"ratelimit.banco.transfer", "30/min", "Banco transfers between wallet and pockets, and pockets opened, per user"},
    {"ratelimit.billing.stripe", "10/min", "Stripe checkout and billing portal sessions opened per user"},
    {"ratelimit.jobs.enqueue", "60/min", "jobs a user starts from the jobs page or its API"},
    {"ratelimit.markets.import", "30/h", "candle CSV imports per user"},
    {"ratelimit.bots.write", "30/min", "bot creations, edits, starts and deletions per user"},
    {"ratelimit.backtests.create", "20/min", "backtests queued per user (the daily quota is queue.quota.backtest.per_day)"},
    {"ratelimit.optimizations.create", "10/min", "optimizations and walk-forward analyses queued per user (daily quotas: queue.quota.optimize.per_day, queue.quota.walk_forward.per_day)"},
    {"ratelimit.models.write", "20/min", "ML model trainings, prediction runs and deletions per user (daily quotas: queue.quota.ml_train.per_day, queue.quota.ml_predict.per_day)"},
    {"ratelimit.notificacoes.write", "60/min", "notification mark-read and preference changes per user"},
    {"ratelimit.telegram.webhook", "100/s", "Telegram webhook deliveries per sender address (instead of ratelimit.default)"},
    {"ratelimit.telegram.link", "20/min", "Telegram link codes and unlinks per user"},
    {"ml.max_candles", "1000000", "most candles one model may train on, or one prediction run predict"},
    {"backtests.max_candles", "5000000", "most candle steps (candles x symbols) one backtest may cover"},
    {"optimize.max_sets", "1000000", "most parameter sets one optimization (or one walk-forward window) may evaluate"},
    {"optimize.checkpoint_ms", "2000", "how often a running optimization stores its resumable state and best results"},
    {"worker.compute_threads", "0", "threads a worker gives an optimization's sweep (0: every online CPU)"},
    {"backtests.warmup_max", "1000", "most candles before the start fed to the indicators (bots and backtests alike)"},
    {"plans.live_trading", "pro,enterprise,internal", "plans (comma-separated) whose bots may trade with real money"},
    {"plans.public", "free,pro,enterprise", "plans listed on the pricing page, in order (influencer and internal are given, not sold)"},
    {"plans.free.bots", "2", "free plan: bots the tenant may have (\"unlimited\" = no limit)"},
    {"plans.free.backtests_per_day", "20", "free plan: backtests the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.free.optimizations_per_day", "3", "free plan: optimizations and walk-forward analyses (together) the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.free.optimization_sets", "10000", "free plan: parameter sets one optimization (or walk-forward window) may evaluate; optimize.max_sets caps every plan (\"unlimited\" = no limit)"},
    {"plans.free.ml_trainings_per_day", "3", "free plan: ML model trainings the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.free.api_tokens", "2", "free plan: personal API tokens in force (not revoked, not expired) in the tenant (\"unlimited\" = no limit)"},
    {"plans.free.price_brl_cents", "0", "free plan: monthly price shown on the pricing page, in centavos (Stripe charges its own price)"},
    {"plans.free.trial_days", "0", "free plan: free days before the first charge"},
    {"plans.pro.bots", "20", "pro plan: bots the tenant may have (\"unlimited\" = no limit)"},
    {"plans.pro.backtests_per_day", "500", "pro plan: backtests the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.pro.optimizations_per_day", "100", "pro plan: optimizations and walk-forward analyses (together) the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.pro.optimization_sets", "1000000", "pro plan: parameter sets one optimization (or walk-forward window) may evaluate; optimize.max_sets caps every plan (\"unlimited\" = no limit)"},
    {"plans.pro.ml_trainings_per_day", "100", "pro plan: ML model trainings the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.pro.api_tokens", "10", "pro plan: personal API tokens in force (not revoked, not expired) in the tenant (\"unlimited\" = no limit)"},
    {"plans.pro.price_brl_cents", "9900", "pro plan: monthly price shown on the pricing page, in centavos (Stripe charges its own price)"},
    {"plans.pro.trial_days", "14", "pro plan: free days before the first charge"},
    {"plans.enterprise.bots", "200", "enterprise plan: bots the tenant may have (\"unlimited\" = no limit)"},
    {"plans.enterprise.backtests_per_day", "unlimited", "enterprise plan: backtests the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.enterprise.optimizations_per_day", "unlimited", "enterprise plan: optimizations and walk-forward analyses (together) the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.enterprise.optimization_sets", "unlimited", "enterprise plan: parameter sets one optimization (or walk-forward window) may evaluate; optimize.max_sets caps every plan (\"unlimited\" = no limit)"},
    {"plans.enterprise.ml_trainings_per_day", "unlimited", "enterprise plan: ML model trainings the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.enterprise.api_tokens", "50", "enterprise plan: personal API tokens in force (not revoked, not expired) in the tenant (\"unlimited\" = no limit)"},
    {"plans.enterprise.price_brl_cents", "49900", "enterprise plan: monthly price shown on the pricing page, in centavos (Stripe charges its own price)"},
    {"plans.enterprise.trial_days", "14", "enterprise plan: free days before the first charge"},
    {"plans.influencer.bots", "5", "influencer plan: bots the tenant may have (\"unlimited\" = no limit)"},
    {"plans.influencer.backtests_per_day", "50", "influencer plan: backtests the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.influencer.optimizations_per_day", "5", "influencer plan: optimizations and walk-forward analyses (together) the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.influencer.optimization_sets", "100000", "influencer plan: parameter sets one optimization (or walk-forward window) may evaluate; optimize.max_sets caps every plan (\"unlimited\" = no limit)"},
    {"plans.influencer.ml_trainings_per_day", "5", "influencer plan: ML model trainings the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.influencer.api_tokens", "2", "influencer plan: personal API tokens in force (not revoked, not expired) in the tenant (\"unlimited\" = no limit)"},
    {"plans.influencer.price_brl_cents", "0", "influencer plan: monthly price shown on the pricing page, in centavos (Stripe charges its own price)"},
    {"plans.influencer.trial_days", "0", "influencer plan: free days before the first charge"},
    {"plans.internal.bots", "unlimited", "internal plan: bots the tenant may have (\"unlimited\" = no limit)"},
    {"plans.internal.backtests_per_day", "unlimited", "internal plan: backtests the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.internal.optimizations_per_day", "unlimited", "internal plan: optimizations and walk-forward analyses (together) the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.internal.optimization_sets", "unlimited", "internal plan: parameter sets one optimization (or walk-forward window) may evaluate; optimize.max_sets caps every plan (\"unlimited\" = no limit)"},
    {"plans.internal.ml_trainings_per_day", "unlimited", "internal plan: ML model trainings the tenant may start per UTC day (\"unlimited\" = no limit)"},
    {"plans.internal.api_tokens", "unlimited", "internal plan: personal API tokens in force (not revoked, not expired) in the tenant (\"unlimited\" = no limit)"},
    {"plans.internal.price_brl_cents", "0", "internal plan: monthly price shown on the pricing page, in centavos (Stripe charges its own price)"},
    {"plans.internal.trial_days", "0", "internal plan: free days before the first charge"},
    {"bots.max_candles_per_tick", "5000", "most candles one bot tick feeds the engine (a bot far behind catches up over several ticks)"},
    {"banco.withdraw_timeout_s", "604800", "how long a withdrawal's money stays reserved awaiting staff approval before the ledger releases it"},
    {"ledger.expire_poll_ms", "1000", "how often each worker voids the pending ledger transfers whose timeout has passed"},
    {"bots.schedule_poll_ms", "1000", "how often the worker looks for running bots whose candle has closed"},
    {"password.min_length", "10", "shortest password accepted"},
    {"password.opslimit", "2", "argon2id passes (t); raising it rehashes each password at its next login"},
    {"password.memlimit_kib", "19456", "argon2id memory in KiB (19 MiB); raising it rehashes at the next login"},
    {"password.common_list", "data/common-passwords.txt", "passwords refused as too common (one per line)"},
    {"account.verify_ttl_s", "86400", "lifetime of an e-mail verification link"},
    {"account.reset_ttl_s", "3600", "lifetime of a password-reset link"},
    {"totp.issuer", "BotCriptoFy", "issuer shown by authenticator apps"},
    {"vault.keyfile", "/etc/botcriptofy/vault.keys", "master keys of the credential vault (outside the database; mode 0600)"},
    {"mail.from", "BotCriptoFy <no-reply@botcriptofy.dev>", "sender of every e-mail"},
    {"mail.smtp_url", NULL, "SMTP server (smtp://host:port or smtps://...); unset = write each message to mail.capture_dir"},
    {"mail.smtp_user", NULL, "SMTP user name"},
    {"mail.smtp_password", NULL, "secret: BCF_MAIL_SMTP_PASSWORD or mail.smtp_password_file"},
    {"mail.capture_dir", "var/mail", "where messages are written when no SMTP server is set (shown at /dev/mail in development)"},
    {"mail.poll_ms", "1000", "how often the worker looks for queued e-mail"},
    {"mail.max_attempts", "8", "delivery attempts before a message is marked failed"},
    {"telegram.webhook_secret", NULL, "secret: BCF_TELEGRAM_WEBHOOK_SECRET or telegram.webhook_secret_file (the secret_token given to setWebhook, sent back in X-Telegram-Bot-Api-Secret-Token; botctl telegram set-webhook registers it; unset = every update is refused with 401)"},
    {"telegram.bot_username", "BotCriptoFyBot", "the bot's @username without the @, for the deep link https://t.me/<name>?start=<code>"},
    {"telegram.link_code_ttl_s", "900", "lifetime of a one-time code that links a Telegram chat to the portal user"},
    {"telegram.staff_chat_id", "", "chat that receives the staff's Segurança and Financeiro alerts (empty or 0 = none)"},
    {"notify.templates_dir", "templates/notify", "notification templates, one <name>.txt per template (lang.channel.part = text)"},
    {"stripe.webhook_secret", NULL, "secret: BCF_STRIPE_WEBHOOK_SECRET or stripe.webhook_secret_file (the endpoint's whsec_... signing secret; unset = every webhook is refused)"},
    {"stripe.webhook_tolerance_s", "300", "most seconds between a webhook's signed timestamp and now, either way (0 = no check)"},
    {"stripe.price.pro", "", "Stripe price ids (comma-separated: monthly, yearly...) that grant the pro plan"},
    {"stripe.price.enterprise", "", "Stripe price ids (comma-separated) that grant the enterprise plan"},
    {"stripe.secret_key", NULL, "secret: BCF_STRIPE_SECRET_KEY or stripe.secret_key_file (the sk_... or rk_... key outbound calls use; unset = checkout and portal answer 503)"},
    {"stripe.api_version", "2024-06-20", "Stripe-Version sent on every call; the webhook reads objects of this version"},
    {"stripe.api_base", "https://api.stripe.com", "where Stripe calls go (BCF_STRIPE_API_BASE; tests point it at a local server)"},
    {"telegram.bot_token", NULL, "secret: BCF_TELEGRAM_BOT_TOKEN or telegram.bot_token_file (the token @BotFather gave; unset = nothing is sent to Telegram)"},
    {"telegram.api_base", "https://api.telegram.org", "where Bot API calls go (BCF_TELEGRAM_API_BASE; tests point it at a local server)"},
    {"telegram.rate_global_per_s", "30", "most Bot API messages per second over all chats, shared by every worker (Redis)"},
    {"telegram.rate_chat_per_s", "1", "most Bot API messages per second to one chat (answerCallbackQuery excepted)"},
    {"telegram.max_attempts", "8", "delivery attempts of one Telegram message (a 429 not counted) before it is marked failed"},
    {"telegram.backoff_base_ms", "2000", "ceiling of the first retry's backoff of a Telegram delivery (a random pick in its upper half); it doubles per attempt"},
    {"telegram.backoff_max_ms", "3600000", "largest backoff ceiling of a Telegram delivery"},
    {"telegram.poll_ms", "250", "how often the worker looks for due Telegram and e-mail deliveries"},
    {"telegram.tick_ms", "1000", "longest one worker pass spends sending Telegram messages before it lets other work run"},
    {"billing.dunning_grace_days", "7", "days after a failed subscription payment by which Assinaturas asks the tenant to update the payment method; past them the worker moves the tenant to the free plan"},
    {"billing.dunning_grace_s", "0", "when > 0, the dunning grace in seconds instead of billing.dunning_grace_days (tests)"},
    {"billing.expire_poll_ms", "60000", "how often each worker ends expired trials, held plans and overdue subscriptions past their grace"},
    {"audit.export_max_rows", "100000", "most rows one CSV export of the audit log holds"},
    {"markets.chart_max_candles", "500", "most candles one chart draws (the limit parameter's ceiling)"},
    {"metrics.allow", "127.0.0.1,::1", "addresses (comma-separated, CIDR allowed) that may read /metrics and /health/detailed"},
    {"log.level", "info", "debug, info, warn or error"},
    {"log.file", NULL, "log file; unset = stderr"},
    {"worker.id", NULL, "worker name in heartbeats; unset = hostname:pid"},
    {"worker.heartbeat_s", "5", "seconds between worker heartbeats"},
    {"worker.stale_s", "30", "heartbeat age after which /health/detailed calls the worker down"},
    {"worker.threads", "0", "compute threads; 0 = one per core"},
    {"worker.backend", "auto", "compute backend: auto (CUDA when the plugin loads and sees a GPU, else CPU), cpu or cuda (fail at start without a GPU); --backend overrides it"},
    {"worker.cuda_plugin", NULL, "the CUDA plugin; unset = worker/cuda/botcriptofy-cuda.so next to the worker binary (build tree), else botcriptofy-cuda.so in the package's lib directory"},
    {"queue.stream", "bcf:jobs", "Redis stream carrying job ids"},
    {"queue.group", "workers", "consumer group of the job stream"},
    {"queue.lag_warn", "1000", "queued jobs beyond which /health/detailed says degraded"},
    {"http.client.timeout_ms", "10000", "outbound HTTP: whole-request timeout of one attempt; http.client.<service>.<key> overrides any http.client key for one service (binance, stripe, ...)"},
    {"http.client.connect_timeout_ms", "3000", "outbound HTTP: connect timeout of one attempt"},
    {"http.client.max_attempts", "3", "outbound HTTP: attempts per request, the first included (1 = no retry)"},
    {"http.client.backoff_base_ms", "200", "outbound HTTP: ceiling of the first retry's full-jitter backoff; it doubles per retry"},
    {"http.client.backoff_max_ms", "5000", "outbound HTTP: largest backoff ceiling"},
    {"http.client.retry_after_max_ms", "10000", "outbound HTTP: longest Retry-After honoured by waiting; a longer one ends the retries"},
    {"http.client.max_response_bytes", "16777216", "outbound HTTP: largest answer body read"},
    {"http.client.breaker_failures", "5", "outbound HTTP: consecutive failures (connect, timeout, 5xx) that open a service's circuit breaker"},
    {"http.client.breaker_cooldown_ms", "30000", "outbound HTTP: how long an open breaker refuses before one probe is let through"},
    {"exchange.binance.base_url", "https://api.binance.com", "Binance spot REST endpoint (tests point it at a local server)"},
    {"exchange.binance.recv_window_ms", "5000", "recvWindow sent with signed requests (at most 60000)"},
    {"exchange.binance.weight_limit_1m", "6000", "request weight Binance allows per minute and address"},
    {"exchange.binance.weight_reserve_pct", "10", "share of the weight limit left unused, for other processes on the same address"},
    {"exchange.binance.max_wait_ms", "5000", "longest a call waits for the weight budget or a ban to pass; longer waits fail as rate_limited"},
    {"exchange.binance.time_resync_s", "600", "age after which the server-time offset is measured again"},
    {"exchange.binance.klines_limit", "1000", "candles asked for per klines request (Binance allows 1000)"},
    {"queue.max_attempts", "5", "attempts a job gets when its enqueue names none (errors and lost runners both count)"},
    {"queue.visibility_ms", "30000", "a runner's lease on a job; progress reports extend it; past it the job (and its stream entry) is reclaimed"},
    {"queue.backoff_base_ms", "1000", "retry delay after the first failed attempt; doubles per attempt, half of it jittered"},
    {"queue.backoff_max_ms", "300000", "ceiling of the retry delay"},
    {"queue.sweep_ms", "1000", "how often each worker reclaims expired leases, re-sends due jobs and XAUTOCLAIMs stalled entries"},
    {"queue.resend_ms", "10000", "a queued, due job whose id went on the stream longer ago than this is sent again"},
    {"queue.batch", "16", "stream entries one worker reads at a time (each carries up to 16 job ids)"},
    {"queue.hold_ms", "1000", "after a job that ran longer than this, the rest of the worker's batch is given back to the queue"},
    {"queue.progress_ms", "500", "least interval between two progress writes of one job (a report also extends the lease)"},
    {"queue.max_params_bytes", "65536", "largest params JSON of one job"},
    {"queue.stream_maxlen", "100000", "approximate length the stream is trimmed to (lost ids are re-sent from PostgreSQL)"},
    {"queue.web_types", "noop", "job types users may start from the jobs page (comma-separated); test and development add sleep, fail and crash"},
    {"queue.consumer_drop_s", "3600", "consumers of the group idle this long with nothing pending are removed (stopped workers)"},
    {"worker.shutdown_grace_s", "20", "on SIGTERM, how long the job in hand may run on before it is given back to the queue"},
    {NULL, NULL, NULL},
};

struct kv {
    char *key, *value;
};

static struct kv *entries;
static size_t n_entries;

/* Lookups happen on every request, so resolved values are memoised by key; a (re)load bumps
 * the generation and empties the memo. The environment is therefore read once per load. */
struct memo {
    char key[96];
    const char *value;
    unsigned gen;
};
#define MEMO_SLOTS 1024
#define MEMO_PROBES 4
static struct memo memo[MEMO_SLOTS];
static unsigned memo_gen = 1;

void config_free(void)
{
    memo_gen++;
    for (size_t i = 0; i < n_entries; i++) {
        free(entries[i].key);
        free(entries[i].value);
    }
    free(entries);
    entries = NULL;
    n_entries = 0;
}

static const struct config_default *find_default(const char *key)
{
    for (const struct config_default *d = config_defaults; d->key; d++)
        if (strcmp(d->key, key) == 0)
            return d;
    return NULL;
}

static int known_key(const char *key)
{
    /* cache.ttl.* accepts any module/key so operators can add policies without a rebuild */
    if (find_default(key) != NULL || strncmp(key, "cache.ttl.", 10) == 0)
        return 1;
    /* per-service overrides of the outbound HTTP client: http.client.<service>.<key> */
    if (strncmp(key, "http.client.", 12) == 0) {
        const char *last = strrchr(key, '.');
        char base[96];
        snprintf(base, sizeof base, "http.client%s", last);
        if (last > key + 11 && find_default(base) != NULL)
            return 1;
    }
    /* rate limits of new module actions and per-role address allowlists, likewise */
    if (strncmp(key, "ratelimit.", 10) == 0 || strncmp(key, "security.ip_allow.", 18) == 0)
        return 1;
    /* queue.quota.<type>.per_day for any job type */
    if (strncmp(key, "queue.quota.", 12) == 0)
        return 1;
    /* plans.<plan>.<limit> for a plan added by the operator: any limit the free plan has */
    if (strncmp(key, "plans.", 6) == 0) {
        const char *last = strrchr(key, '.');
        char base[96];
        snprintf(base, sizeof base, "plans.free%s", last);
        if (last > key + 6 && find_default(base) != NULL)
            return 1;
    }
    /* <secret>_file names the file holding a secret */
    size_t n = strlen(key);
    if (n > 5 && strcmp(key + n - 5, "_file") == 0) {
        char base[128];
        snprintf(base, sizeof base, "%.*s", (int)(n - 5), key);
        const struct config_default *d = find_default(base);
        return d && d->value == NULL && strncmp(d->doc, "secret:", 7) == 0;
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int set_entry(const char *key, const char *value)
{
    memo_gen++;
    for (size_t i = 0; i < n_entries; i++) {
        if (strcmp(entries[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v)
                return -1;
            free(entries[i].value);
            entries[i].value = v;
            return 0;
        }
    }
    struct kv *ne = realloc(entries, (n_entries + 1) * sizeof(*ne));
    if (!ne)
        return -1;
    entries = ne;
    entries[n_entries].key = strdup(key);
    entries[n_entries].value = strdup(value);
    if (!entries[n_entries].key || !entries[n_entries].value)
        return -1;
    n_entries++;
    return 0;
}

int config_parse_text(const char *text, char *err, size_t errlen)
{
    char *copy = strdup(text);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int lineno = 0, rc = 0;
    for (char *p = copy; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *line = p;
        p = nl ? nl + 1 : NULL;
        /* '#' starts a comment unless it is inside a quoted value */
        int quoted = 0;
        for (char *q = line; *q; q++) {
            if (*q == '"')
                quoted = !quoted;
            else if (*q == '#' && !quoted) {
                *q = '\0';
                break;
            }
        }
        line = trim(line);
        if (!*line)
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            snprintf(err, errlen, "line %d: expected key = value", lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(line), *value = trim(eq + 1);
        if (!known_key(key)) {
            snprintf(err, errlen, "line %d: unknown key '%s'", lineno, key);
            rc = -1;
            break;
        }
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        const struct config_default *d = find_default(key);
        if (d && d->value == NULL && strncmp(d->doc, "secret:", 7) == 0) {
            snprintf(err, errlen, "line %d: '%s' is a secret: set it in the environment or %s_file",
                     lineno, key, key);
            rc = -1;
            break;
        }
        if (set_entry(key, value) < 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    free(copy);
    return rc;
}

int config_load(const char *path, char *err, size_t errlen)
{
    if (!path) {
        config_free();
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t cap = 0, len = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        char *t = realloc(text, cap = len + n + 1);
        if (!t) {
            free(text);
            fclose(f);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        text = t;
        memcpy(text + len, chunk, n);
        len += n;
    }
    fclose(f);
    (void)cap;
    if (!text) {
        config_free(); /* an empty file: defaults only */
        return 0;
    }
    text[len] = '\0';
    char inner[200];
    /* parse aside and swap in only on success: a bad reload keeps the running config */
    struct kv *old = entries;
    size_t n_old = n_entries;
    entries = NULL;
    n_entries = 0;
    int rc = config_parse_text(text, inner, sizeof inner);
    free(text);
    if (rc == 0) {
        struct kv *fresh = entries;
        size_t n_fresh = n_entries;
        entries = old;
        n_entries = n_old;
        config_free();
        entries = fresh;
        n_entries = n_fresh;
    } else {
        config_free();
        entries = old;
        n_entries = n_old;
    }
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, inner);
    return rc;
}

static const char *env_for(const char *key)
{
    char name[160] = "BCF_";
    size_t j = 4;
    for (const char *p = key; *p && j < sizeof name - 1; p++)
        name[j++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
    name[j] = '\0';
    return getenv(name);
}

static const char *resolve(const char *key);

const char *config_get(const char *key)
{
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    /* a few probes, so two hot keys that share a slot do not evict each other forever */
    struct memo *free_slot = NULL;
    for (int i = 0; i < MEMO_PROBES; i++) {
        struct memo *m = &memo[(h + (uint32_t)i) % MEMO_SLOTS];
        if (m->gen != memo_gen) {
            if (!free_slot)
                free_slot = m;
            continue;
        }
        if (strcmp(m->key, key) == 0)
            return m->value;
    }
    const char *v = resolve(key);
    if (!free_slot)
        free_slot = &memo[h % MEMO_SLOTS];
    if (strlen(key) < sizeof free_slot->key) {
        strcpy(free_slot->key, key);
        free_slot->value = v;
        free_slot->gen = memo_gen;
    }
    return v;
}

static const char *resolve(const char *key)
{
    const char *e = env_for(key);
    if (e)
        return e;
    for (size_t i = 0; i < n_entries; i++)
        if (strcmp(entries[i].key, key) == 0)
            return entries[i].value;
    const struct config_default *d = find_default(key);
    return d ? d->value : NULL;
}

long config_int(const char *key)
{
    const char *v = config_get(key);
    return v ? strtol(v, NULL, 10) : 0;
}

int config_bool(const char *key)
{
    const char *v = config_get(key);
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "on") == 0);
}

char *config_secret(const char *key)
{
    const char *e = env_for(key);
    if (e)
        return strdup(e);
    char fkey[160];
    snprintf(fkey, sizeof fkey, "%s_file", key);
    const char *path = env_for(fkey);
    for (size_t i = 0; !path && i < n_entries; i++)
        if (strcmp(entries[i].key, fkey) == 0)
            path = entries[i].value;
    if (!path)
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[1024];
    char *r = fgets(line, sizeof line, f) ? strdup(trim(line)) : NULL;
    fclose(f);
    return r;
}

const char *config_path(const char *key, char *out, size_t outlen)
{
    const char *v = config_get(key);
    if (!v)
        v = "";
    if (v[0] == '/')
        snprintf(out, outlen, "%s", v);
    else
        snprintf(out, outlen, "%s/%s", config_get("app.root"), v);
    return out;
}
