/* log.c — writes JSON lines with one write(2) each so lines from many processes never interleave.
 * Timestamps are UTC with milliseconds; the component names the binary (fcgi, worker, botctl). */
#include "log.h"
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static int log_level = LOG_INFO;
static char log_component[32] = "bcf";
static const char *level_names[] = {"debug", "info", "warn", "error"};
static int buffered;
static buf pending;

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(log_fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

void log_set_buffered(int on)
{
    if (!on)
        log_flush();
    buffered = on;
}

void log_flush(void)
{
    if (pending.len)
        write_all(pending.data, pending.len);
    buf_clear(&pending);
}

int log_open(const char *path, const char *level, const char *component)
{
    if (component)
        snprintf(log_component, sizeof log_component, "%s", component);
    if (level) {
        for (int i = 0; i < 4; i++)
            if (strcmp(level, level_names[i]) == 0)
                log_level = i;
    }
    if (path && *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return -1;
        if (log_fd > 2)
            close(log_fd);
        log_fd = fd;
    }
    return 0;
}

void log_close(void)
{
    log_flush();
    buf_free(&pending);
    if (log_fd > 2)
        close(log_fd);
    log_fd = 2;
}

int log_enabled(int level)
{
    return level >= log_level;
}

void log_write(int level, const char *msg, const char *fields)
{
    if (level < log_level)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[96];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
    buf b;
    buf_init(&b);
    buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"pid\":%d,\"msg\":\"", ts,
               level_names[level], log_component, (int)getpid());
    buf_json_escape(&b, msg, strlen(msg));
    buf_putc(&b, '"');
    if (fields && *fields) {
        buf_putc(&b, ',');
        buf_puts(&b, fields);
    }
    buf_puts(&b, "}\n");
    if (!b.oom) {
        if (buffered && level < LOG_ERROR) {
            buf_append(&pending, b.data, b.len);
            if (pending.len > 65536 || pending.oom)
                log_flush();
        } else {
            log_flush(); /* keep order: earlier buffered lines first */
            write_all(b.data, b.len);
        }
    }
    buf_free(&b);
}

void log_fmt(int level, const char *fmt, ...)
{
    if (level < log_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_write(level, msg, NULL);
}

static void sep(buf *b)
{
    if (b->len)
        buf_putc(b, ',');
}

void log_field_str(buf *b, const char *key, const char *value)
{
    if (!value)
        return;
    sep(b);
    buf_printf(b, "\"%s\":\"", key);
    buf_json_escape(b, value, strlen(value));
    buf_putc(b, '"');
}

void log_field_int(buf *b, const char *key, long long value)
{
    sep(b);
    buf_printf(b, "\"%s\":%lld", key, value);
}

void log_field_double(buf *b, const char *key, double value)
{
    sep(b);
    buf_printf(b, "\"%s\":%.3f", key, value);
}
