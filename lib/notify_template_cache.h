/* notify_template_cache.h — the text of notification template files through a process-wide cache,
 * so rendering per recipient does not open and read the file each time. */
#ifndef BCF_NOTIFY_TEMPLATE_CACHE_H
#define BCF_NOTIFY_TEMPLATE_CACHE_H
#include <stddef.h>
#include "arena.h"

/* At most this many files are kept; the least recently used one makes room. */
#define NOTIFY_TEMPLATE_CACHE_SLOTS 64

/* An arena copy (NUL-terminated, at most 256 KiB) of the file at path. Every call stat()s the file:
 * the cached text is used only while its device, inode, size and modification time are unchanged,
 * else the file is read again; a file that cannot be read gives NULL and is dropped from the cache.
 * Thread-safe. */
char *notify_template_file(arena *a, const char *path);

/* Forgets every cached file. */
void notify_template_cache_clear(void);
/* How many files are cached now. */
size_t notify_template_cache_size(void);
#endif
