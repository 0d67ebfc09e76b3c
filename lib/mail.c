/* mail.c — the e-mail outbox: handlers queue messages inside their transaction, the worker claims
 * due rows (SKIP LOCKED, so two workers never send one message) and hands each to SMTP or the capture folder. */
#include "mail.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "utf8.h"
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAIL_ADDR_MAX = 254 };
/* the circuit breaker (lib/http.c's table) and config name of the SMTP channel */
#define MAIL_SMTP_SERVICE "smtp"

/* One bare address: header injection and multiple recipients both start with characters that
 * an address in our forms never needs. */
static int addr_ok(const char *to)
{
    size_t n = to ? strlen(to) : 0;
    if (n < 3 || n > MAIL_ADDR_MAX)
        return 0;
    const char *at = strchr(to, '@');
    if (!at || at == to || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (const unsigned char *p = (const unsigned char *)to; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr(",;<>()[]\"\\:", *p))
            return 0;
    return utf8_valid(to, n);
}

long long mail_queue(const ctx *c, const char *to, const char *subject, const char *body_text)
{
    if (!addr_ok(to) || !subject || strpbrk(subject, "\r\n") || !utf8_valid(subject, strlen(subject)) ||
        strlen(subject) > 900 || !body_text || !utf8_valid(body_text, strlen(body_text))) {
        db_set_error("22023", "mail_queue: invalid recipient, subject or body");
        return -1;
    }
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", c ? c->tenant_id : 0);
    const char *p[] = {tid, to, subject, body_text};
    arena *a = c ? c->a : NULL;
    PGresult *r = db_query(a, "mail_queue",
                           "INSERT INTO mail_outbox (tenant_id, to_addr, subject, body_text) "
                           "VALUES (NULLIF($1::bigint, 0), $2, $3, $4) RETURNING id",
                           4, p);
    if (!r)
        return -1;
    long long id = PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : -1;
    if (!a)
        PQclear(r);
    return id;
}

/* ---- building the RFC 5322 message ---- */

/* The bare address inside mail.from ("Name <addr>" or "addr"), and the display name. */
static void from_parts(const char *from, char *addr, size_t addrlen, char *name, size_t namelen)
{
    const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt) {
        snprintf(addr, addrlen, "%.*s", (int)(gt - lt - 1), lt + 1);
        size_t n = (size_t)(lt - from);
        while (n && from[n - 1] == ' ')
            n--;
        snprintf(name, namelen, "%.*s", (int)n, from);
    } else {
        snprintf(addr, addrlen, "%s", from);
        name[0] = '\0';
    }
}

static int is_plain_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return 0;
    return 1;
}

/* RFC 2047 B-encoding in words of at most 45 bytes (72 characters encoded), folded onto
 * continuation lines and never splitting a UTF-8 sequence. */
static void put_encoded_words(buf *b, const char *s)
{
    size_t n = strlen(s), i = 0;
    int first = 1;
    while (i < n) {
        size_t take = 0;
        while (i + take < n) {
            const unsigned char *c = (const unsigned char *)s + i + take;
            size_t seq = *c < 0x80 ? 1 : utf8_seq(c, n - i - take);
            if (!seq)
                seq = 1;
            if (take + seq > 45)
                break;
            take += seq;
        }
        char enc[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(enc, sizeof enc, (const unsigned char *)s + i, take, sodium_base64_VARIANT_ORIGINAL);
        buf_printf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
        first = 0;
        i += take;
    }
}

static void put_header_text(buf *b, const char *s)
{
    if (is_plain_ascii(s) && strlen(s) < 900)
        buf_puts(b, s);
    else
        put_encoded_words(b, s);
}

/* Lines longer than SMTP allows, or any byte outside ASCII, make the body base64. */
static int body_needs_base64(const char *body)
{
    size_t line = 0;
    for (const unsigned char *p = (const unsigned char *)body; *p; p++) {
        if (*p > 0x7e || (*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t'))
            return 1;
        line = (*p == '\n' || *p == '\r') ? 0 : line + 1;
        if (line > 900)
            return 1;
    }
    return 0;
}

/* The body with every line ending made CRLF. */
static void crlf_body(buf *out, const char *body)
{
    for (const char *p = body; *p; p++) {
        if (*p == '\r') {
            if (p[1] == '\n')
                p++;
            buf_puts(out, "\r\n");
        } else if (*p == '\n') {
            buf_puts(out, "\r\n");
        } else {
            buf_putc(out, *p);
        }
    }
    if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
        buf_puts(out, "\r\n");
}

static int build_message(buf *m, const char *to, const char *subject, const char *body)
{
    const char *from = config_get("mail.from");
    char addr[MAIL_ADDR_MAX + 1], name[256];
    from_parts(from ? from : "", addr, sizeof addr, name, sizeof name);
    const char *at = strrchr(addr, '@');
    const char *host = at && at[1] ? at + 1 : "localhost";
    unsigned char rnd[16];
    char rhex[33], date[64];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(rhex, sizeof rhex, rnd, sizeof rnd);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    /* %a and %b are the English names RFC 5322 wants: the worker never calls setlocale */
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    buf_puts(m, "From: ");
    if (name[0]) {
        if (is_plain_ascii(name) && !strpbrk(name, "\"\\()<>,;:@[]"))
            buf_puts(m, name);
        else
            put_encoded_words(m, name);
        buf_printf(m, " <%s>\r\n", addr);
    } else {
        buf_printf(m, "%s\r\n", addr);
    }
    buf_printf(m, "To: %s\r\nSubject: ", to);
    put_header_text(m, subject);
    buf_printf(m, "\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n",
               date, rhex, host);
    buf text;
    buf_init(&text);
    crlf_body(&text, body);
    if (!body_needs_base64(body)) {
        buf_puts(m, "Content-Transfer-Encoding: 7bit\r\n\r\n");
        buf_append(m, text.data, text.len);
    } else {
        buf_puts(m, "Content-Transfer-Encoding: base64\r\n\r\n");
        /* 57 bytes per line: 76 base64 characters, as RFC 2045 asks */
        for (size_t i = 0; i < text.len; i += 57) {
            size_t take = text.len - i < 57 ? text.len - i : 57;
            char enc[sodium_base64_ENCODED_LEN(57, sodium_base64_VARIANT_ORIGINAL)];
            sodium_bin2base64(enc, sizeof enc, (const unsigned char *)text.data + i, take,
                              sodium_base64_VARIANT_ORIGINAL);
            buf_printf(m, "%s\r\n", enc);
        }
    }
    int oom = text.oom || m->oom;
    buf_free(&text);
    return oom ? -1 : 0;
}

/* ---- delivery ---- */

struct upload {
    const char *data;
    size_t len, off;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
    struct upload *u = arg;
    size_t room = size * nmemb, left = u->len - u->off;
    size_t n = left < room ? left : room;
    memcpy(dst, u->data + u->off, n);
    u->off += n;
    return n;
}

/* Sends one message over SMTP. 0, or -1 with a reason in err; *server_down is set when the
 * failure concerns the server rather than this message (the rest of the batch then waits). */
static int send_smtp(const char *url, const char *to, const buf *msg, char *err, size_t errlen, int *server_down)
{
    /* one libcurl setup per process, shared with the HTTP client (and safe across threads) */
    if (http_global_init() != 0) {
        snprintf(err, errlen, "curl_global_init failed");
        *server_down = 1;
        return -1;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "curl_easy_init failed");
        *server_down = 1;
        return -1;
    }
    char from_addr[MAIL_ADDR_MAX + 1], name[256], envelope_from[MAIL_ADDR_MAX + 3], rcpt[MAIL_ADDR_MAX + 3];
    const char *from = config_get("mail.from");
    from_parts(from ? from : "", from_addr, sizeof from_addr, name, sizeof name);
    snprintf(envelope_from, sizeof envelope_from, "<%s>", from_addr);
    snprintf(rcpt, sizeof rcpt, "<%s>", to);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    struct upload up = {msg->data, msg->len, 0};
    char cerr[CURL_ERROR_SIZE] = "";
    char *password = config_secret("mail.smtp_password");
    const char *user = config_get("mail.smtp_user");
    curl_easy_setopt(h, CURLOPT_URL, url);
    /* a mistyped URL must not turn this into a file or HTTP client */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, envelope_from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    /* smtps:// is TLS from the first byte; smtp:// upgrades with STARTTLS when offered (a
     * loopback relay or the test server offers none) */
    curl_easy_setopt(h, CURLOPT_USE_SSL, strncmp(url, "smtps://", 8) == 0 ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    if (user && *user)
        curl_easy_setopt(h, CURLOPT_USERNAME, user);
    if (password)
        curl_easy_setopt(h, CURLOPT_PASSWORD, password);
    CURLcode rc = rcpts ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        /* curl's messages name the step and the server's code, never the credentials */
        snprintf(err, errlen, "%s (smtp %ld)%s%s", curl_easy_strerror(rc), code, cerr[0] ? ": " : "", cerr);
        *server_down = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                       rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_LOGIN_DENIED ||
                       rc == CURLE_USE_SSL_FAILED || rc == CURLE_OUT_OF_MEMORY;
    }
    if (password) {
        sodium_memzero(password, strlen(password));
        free(password);
    }
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
}

static int mkdir_p(const char *dir)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0750) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0750) < 0 && errno != EEXIST ? -1 : 0;
}

/* Writes the message as <dir>/<unix-time>-<id>.eml; the temporary name is renamed into place so
 * a reader never sees half a file. */
static int capture(const char *id, const buf *msg, char *err, size_t errlen)
{
    char dir[1024], tmp[1200], final[1200];
    config_path("mail.capture_dir", dir, sizeof dir);
    if (mkdir_p(dir) < 0) {
        snprintf(err, errlen, "cannot create the capture folder: %s", strerror(errno));
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%d", dir, id, (int)getpid());
    snprintf(final, sizeof final, "%s/%lld-%s.eml", dir, (long long)time(NULL), id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write the capture file: %s", strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < msg->len) {
        ssize_t w = write(fd, msg->data + off, msg->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int ok = off == msg->len && close(fd) == 0;
    if (off != msg->len)
        close(fd);
    if (!ok || rename(tmp, final) < 0) {
        snprintf(err, errlen, "cannot write the capture file: %s", strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "?";
}

static void mark_sent(const char *id)
{
    const char *p[] = {id};
    db_exec(NULL, "mail_sent", "UPDATE mail_outbox SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1::bigint",
            1, p);
}

/* Records a failed attempt; after mail.max_attempts the message is given up. 1 when it was. */
static int mark_failed(const char *id, const char *error, int attempts)
{
    char max[24];
    snprintf(max, sizeof max, "%ld", config_int("mail.max_attempts"));
    const char *p[] = {id, error, max};
    db_exec(NULL, "mail_failed",
            "UPDATE mail_outbox SET last_error = left($2, 500), "
            "status = CASE WHEN attempts >= $3::int THEN 'failed' ELSE 'queued' END WHERE id = $1::bigint",
            3, p);
    return attempts >= config_int("mail.max_attempts");
}

/* A claimed message that was not tried because the server was down gets its attempt back; it
 * keeps the later next_try_at of the claim, so it waits with the others. */
static void unclaim(const char *id)
{
    const char *p[] = {id};
    db_exec(NULL, "mail_unclaim", "UPDATE mail_outbox SET attempts = greatest(attempts - 1, 0) WHERE id = $1::bigint", 1,
            p);
}

int mail_deliver_due(int max)
{
    if (max <= 0)
        return 0;
    if (sodium_init() < 0)
        return -1;
    const char *url = config_get("mail.smtp_url");
    int use_smtp = url && *url;
    if (use_smtp) {
        /* an open breaker claims nothing, so a dead server leaves the queue's attempts alone;
         * once the cool-down has passed, one message is the probe */
        if (!http_service_ready(MAIL_SMTP_SERVICE))
            return 0;
        if (http_breaker_state_of(MAIL_SMTP_SERVICE) != HTTP_BREAKER_CLOSED)
            max = 1;
    }
    char lim[24];
    snprintf(lim, sizeof lim, "%d", max);
    const char *p[] = {lim};
    /* claimed and pushed back by the backoff in one statement: a worker that dies mid-send
     * leaves the message to be retried later, and no second worker picks it up meanwhile */
    PGresult *r = db_query(NULL, "mail_claim",
                           "UPDATE mail_outbox SET attempts = attempts + 1, "
                           "next_try_at = now() + make_interval(secs => least(30 * power(2, least(attempts, 20)), 3600)) "
                           "WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'queued' AND next_try_at <= now() "
                           "ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED) "
                           "RETURNING id, to_addr, subject, body_text, attempts",
                           1, p);
    if (!r)
        return -1;
    int sent = 0, down = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0), *to = PQgetvalue(r, i, 1);
        int attempts = atoi(PQgetvalue(r, i, 4));
        if (down) {
            unclaim(id);
            continue;
        }
        char err[512] = "";
        buf msg;
        buf_init(&msg);
        int refused = 0;
        int rc = build_message(&msg, to, PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
        if (rc < 0)
            snprintf(err, sizeof err, "out of memory building the message");
        else if (use_smtp && (refused = !http_service_allow(MAIL_SMTP_SERVICE)))
            down = 1; /* the breaker opened during this batch: the rest wait for the cool-down */
        else if (use_smtp) {
            rc = send_smtp(url, to, &msg, err, sizeof err, &down);
            http_service_record(MAIL_SMTP_SERVICE, !down);
        } else if ((rc = capture(id, &msg, err, sizeof err)) < 0)
            down = 1;
        sodium_memzero(msg.data, msg.len);
        buf_free(&msg);
        if (refused) {
            unclaim(id);
            continue;
        }
        /* bodies carry tokens: only the id and the recipient's domain reach the log */
        if (rc == 0) {
            mark_sent(id);
            log_info("mail %s to @%s %s", id, domain_of(to), use_smtp ? "sent" : "captured");
            sent++;
        } else {
            int gave_up = mark_failed(id, err, attempts);
            log_warn("mail %s to @%s: attempt %d failed%s: %s", id, domain_of(to), attempts,
                     gave_up ? ", giving up" : "", err);
        }
    }
    PQclear(r);
    return sent;
}
