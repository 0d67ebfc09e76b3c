/* log.h — JSON-lines logging: one object per line with ts, level, msg, pid and extra fields.
 * Secrets never reach here: callers log ids and outcomes, not credentials. */
#ifndef BCF_LOG_H
#define BCF_LOG_H
#include "buf.h"

enum { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Opens the log target (NULL or "" = stderr) and sets the level by name. */
int log_open(const char *path, const char *level, const char *component);
void log_close(void);
int log_enabled(int level);
/* Buffered mode (FastCGI workers): lines collect in memory and go out in one write(2) per
 * event-loop turn via log_flush(); each write holds whole lines, so nothing interleaves. */
void log_set_buffered(int on);
void log_flush(void);
/* fields: a JSON fragment of extra members without braces (e.g. "\"status\":200"), or NULL. */
void log_write(int level, const char *msg, const char *fields);
void log_fmt(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Helpers to build the fields fragment. */
void log_field_str(buf *b, const char *key, const char *value);
void log_field_int(buf *b, const char *key, long long value);
void log_field_double(buf *b, const char *key, double value);

#define log_debug(...) log_fmt(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_fmt(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_fmt(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_fmt(LOG_ERROR, __VA_ARGS__)
#endif
