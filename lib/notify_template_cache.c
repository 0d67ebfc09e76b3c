/* notify_template_cache.c — a process-wide, mutex-guarded cache of notification template files, so
 * notify_send and the delivery worker do not open and read a file per recipient and message. */
#include "notify_template_cache.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEXT_MAX (256 * 1024)

typedef struct {
    char *path;                  /* malloc'd; NULL marks a free slot */
    char *text;                  /* malloc'd, NUL-terminated */
    size_t len;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int racy;                    /* modified too close to when it was read: the mtime cannot vouch for it */
    unsigned long long used;     /* last use, for evicting the least recently used */
} cached_file;

static cached_file slots[NOTIFY_TEMPLATE_CACHE_SLOTS];
static unsigned long long use_clock;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void slot_clear(cached_file *f)
{
    free(f->path);
    free(f->text);
    memset(f, 0, sizeof *f);
}

static int unchanged(const cached_file *f, const struct stat *st)
{
    return !f->racy && f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
           f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static cached_file *find_locked(const char *path)
{
    for (int i = 0; i < NOTIFY_TEMPLATE_CACHE_SLOTS; i++)
        if (slots[i].path && !strcmp(slots[i].path, path))
            return &slots[i];
    return NULL;
}

/* the slot for path: its own, else a free one, else the least recently used */
static cached_file *slot_for_locked(const char *path)
{
    cached_file *f = find_locked(path), *oldest = &slots[0];
    if (f)
        return f;
    for (int i = 0; i < NOTIFY_TEMPLATE_CACHE_SLOTS; i++) {
        if (!slots[i].path)
            return &slots[i];
        if (slots[i].used < oldest->used)
            oldest = &slots[i];
    }
    slot_clear(oldest);
    return oldest;
}

/* Reads the file whole; st is the identity of what was read (fstat of the open file, so a rename
 * between a stat and the open cannot pair new text with an old identity). */
static char *read_whole(const char *path, size_t *len, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *text = NULL;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
        goto out;
    size_t want = st->st_size < TEXT_MAX ? (size_t)st->st_size : TEXT_MAX, n = 0;
    text = malloc(want + 1);
    if (!text)
        goto out;
    while (n < want) {
        ssize_t r = read(fd, text + n, want - n);
        if (r < 0) {
            free(text);
            text = NULL;
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    text[n] = '\0';
    *len = n;
out:
    close(fd);
    return text;
}

static void forget(const char *path)
{
    pthread_mutex_lock(&lock);
    cached_file *f = find_locked(path);
    if (f)
        slot_clear(f);
    pthread_mutex_unlock(&lock);
}

char *notify_template_file(arena *a, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        forget(path); /* a missing file is never served from the cache */
        return NULL;
    }
    char *out = NULL;
    pthread_mutex_lock(&lock);
    cached_file *f = find_locked(path);
    if (f && unchanged(f, &st)) {
        f->used = ++use_clock;
        out = arena_strndup(a, f->text, f->len);
        pthread_mutex_unlock(&lock);
        return out;
    }
    pthread_mutex_unlock(&lock);

    /* read outside the lock: other templates stay served meanwhile */
    size_t len = 0;
    char *text = read_whole(path, &len, &st), *key = text ? strdup(path) : NULL;
    if (!key) {
        free(text);
        forget(path);
        return NULL;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    pthread_mutex_lock(&lock);
    f = slot_for_locked(path);
    slot_clear(f);
    *f = (cached_file){key, text, len, st.st_dev, st.st_ino, st.st_size, st.st_mtim,
                       /* a write within the same timestamp tick as this read would keep size and mtime
                        * (coarse file-system clocks): until the file is older than that, read it again */
                       now.tv_sec - st.st_mtim.tv_sec <= 1, ++use_clock};
    out = arena_strndup(a, f->text, f->len);
    pthread_mutex_unlock(&lock);
    return out;
}

void notify_template_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < NOTIFY_TEMPLATE_CACHE_SLOTS; i++)
        slot_clear(&slots[i]);
    pthread_mutex_unlock(&lock);
}

size_t notify_template_cache_size(void)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < NOTIFY_TEMPLATE_CACHE_SLOTS; i++)
        n += slots[i].path != NULL;
    pthread_mutex_unlock(&lock);
    return n;
}
