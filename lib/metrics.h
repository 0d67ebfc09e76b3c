/* metrics.h — counters and histograms in one shared-memory region mapped by the pool master
 * before fork, so /metrics from any worker reports the sum of all workers (Prometheus text). */
#ifndef BCF_METRICS_H
#define BCF_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

enum { METRICS_MAX_ROUTES = 512, METRICS_MAX_SLOTS = 128 };
enum { M_GET, M_HEAD, M_POST, M_PUT, M_PATCH, M_DELETE, M_OPTIONS, M_OTHER, M_METHODS };

/* Maps the shared region (idempotent). Call in the master before forking workers. */
int metrics_init(void);
int metrics_method_index(const char *method);
const char *metrics_method_name(int idx);
void metrics_http(int route_idx, int method_idx, int status, double seconds);
void metrics_db(double seconds, int ok);
void metrics_redis(double seconds, int ok);
void metrics_cache(const char *module, int hit);
/* A named counter: name is the metric name, labels the inside of {} or NULL. */
void metrics_count(const char *name, const char *labels, uint64_t n);
uint64_t metrics_counter_value(const char *name, const char *labels);
/* Per-process gauges: each worker owns a slot and reports its own RSS there. */
void metrics_slot_set(int slot, int pid, long rss_bytes);
void metrics_slot_clear(int slot);
long metrics_self_rss(void);
/* route_name(i) names route i (NULL = unknown). */
void metrics_render(buf *out, const char *(*route_name)(int));
#endif
