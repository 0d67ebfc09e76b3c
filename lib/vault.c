/* vault.c — sealing of third-party secrets with XChaCha20-Poly1305 (libsodium) under master keys
 * read from the key file named by vault.keyfile; keys stay in guarded, locked sodium memory. */
#include "vault.h"
#include "config.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define KEYFILE_MAX (1 << 20)
#define KEYS_MAX 4096
#define ENVELOPE_PLAIN_MAX (1 << 20)
#define VAULT_ID_MAX 1000000000u
/* how often a process looks at the key file again, so a rotation reaches every worker quickly */
#define RELOAD_CHECK_S 1

typedef struct vault_keys {
    unsigned n;
    unsigned current;            /* highest id */
    unsigned *ids;               /* malloc'd; ids are not secret */
    unsigned char *material;     /* sodium_malloc'd: n * KEY_BYTES, read-only between loads */
} vault_keys;

static vault_keys vk;
static char vk_path[1024];       /* the file the keys came from ("" before the first load) */
static struct stat vk_stat;      /* its identity then, to notice a rotation */
static time_t vk_checked;        /* last time the file was looked at (lazy loads and reloads) */
static time_t vk_failed_log;     /* last "cannot load" log line, so a missing file does not flood */
static pthread_mutex_t vk_lock = PTHREAD_MUTEX_INITIALIZER;

static void keys_free(vault_keys *k)
{
    if (k->material)
        sodium_free(k->material); /* zeroes the pages before unmapping */
    free(k->ids);
    memset(k, 0, sizeof *k);
}

/* Reads the whole file into sodium memory (it is key material) after checking its mode. */
static int read_keyfile(const char *path, unsigned char **out, size_t *len, struct stat *st, char *err, size_t errlen)
{
    int rc = -1;
    unsigned char *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC); /* symlinks allowed (secret mounts); the target's mode counts */
    if (fd < 0) {
        snprintf(err, errlen, "cannot open vault key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, st) != 0) {
        snprintf(err, errlen, "cannot stat vault key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "vault key file %s is not a regular file", path);
        goto out;
    }
    if (st->st_mode & 077) {
        snprintf(err, errlen, "vault key file %s has mode %04o: group/other access is refused (chmod 600 it)", path,
                 (unsigned)(st->st_mode & 07777));
        goto out;
    }
    if (st->st_size > KEYFILE_MAX) {
        snprintf(err, errlen, "vault key file %s is larger than %d bytes", path, KEYFILE_MAX);
        goto out;
    }
    data = sodium_malloc((size_t)st->st_size + 1);
    if (!data) {
        snprintf(err, errlen, "out of locked memory reading the vault key file");
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st->st_size) {
        ssize_t r = read(fd, data + got, (size_t)st->st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "cannot read vault key file %s: %s", path, r < 0 ? strerror(errno) : "short read");
            goto out;
        }
        got += (size_t)r;
    }
    data[got] = '\0';
    *out = data;
    *len = got;
    data = NULL;
    rc = 0;
out:
    if (data)
        sodium_free(data);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* "123" → 123; digits only, no sign, no leading zero, 1..VAULT_ID_MAX. 0 when not an id. */
static unsigned parse_id(const char *s, size_t n)
{
    if (n == 0 || n > 10 || s[0] == '0')
        return 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= VAULT_ID_MAX ? (unsigned)v : 0;
}

/* Parses the key file text into k. Messages name the line, never its content. */
static int parse_keys(char *text, size_t len, vault_keys *k, char *err, size_t errlen)
{
    unsigned cap = 0;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n';
    cap = cap + 1 > KEYS_MAX ? KEYS_MAX : cap + 1;
    k->ids = calloc(cap, sizeof *k->ids);
    k->material = sodium_malloc((size_t)cap * KEY_BYTES);
    if (!k->ids || !k->material) {
        snprintf(err, errlen, "out of memory loading vault keys");
        return -1;
    }
    int lineno = 0;
    char *line = text, *end = text + len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        char *eol = nl ? nl : end;
        lineno++;
        char *p = line;
        while (p < eol && (*p == ' ' || *p == '\t'))
            p++;
        char *q = eol;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
            q--;
        line = nl ? nl + 1 : end;
        if (p == q || *p == '#')
            continue;
        char *sp = p;
        while (sp < q && *sp != ' ' && *sp != '\t')
            sp++;
        unsigned id = parse_id(p, (size_t)(sp - p));
        if (!id) {
            snprintf(err, errlen, "vault key file line %d: the key id must be a positive integer", lineno);
            return -1;
        }
        while (sp < q && (*sp == ' ' || *sp == '\t'))
            sp++;
        if (sp == q) {
            snprintf(err, errlen, "vault key file line %d: key %u has no key", lineno, id);
            return -1;
        }
        for (unsigned i = 0; i < k->n; i++)
            if (k->ids[i] == id) {
                snprintf(err, errlen, "vault key file line %d: duplicate key id %u", lineno, id);
                return -1;
            }
        if (k->n >= cap) {
            snprintf(err, errlen, "vault key file line %d: more than %d keys", lineno, KEYS_MAX);
            return -1;
        }
        size_t bin_len = 0;
        const char *b64_end = NULL;
        unsigned char *dst = k->material + (size_t)k->n * KEY_BYTES;
        if (sodium_base642bin(dst, KEY_BYTES, sp, (size_t)(q - sp), NULL, &bin_len, &b64_end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            b64_end != q) {
            sodium_memzero(dst, KEY_BYTES);
            snprintf(err, errlen, "vault key file line %d: key %u is not base64 of %d bytes", lineno, id, KEY_BYTES);
            return -1;
        }
        if (bin_len != KEY_BYTES) {
            sodium_memzero(dst, KEY_BYTES);
            snprintf(err, errlen, "vault key file line %d: key %u is %zu bytes, not %d", lineno, id, bin_len,
                     KEY_BYTES);
            return -1;
        }
        k->ids[k->n++] = id;
        if (id > k->current)
            k->current = id;
    }
    if (k->n == 0) {
        snprintf(err, errlen, "vault key file has no keys");
        return -1;
    }
    return 0;
}

/* Called with vk_lock held. The previous keys are wiped only once the new set is in place. */
static int load_locked(const char *path, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not initialise");
        return -1;
    }
    unsigned char *text = NULL;
    size_t len = 0;
    struct stat st;
    vault_keys k = {0};
    int rc = read_keyfile(path, &text, &len, &st, err, errlen);
    if (rc == 0)
        rc = parse_keys((char *)text, len, &k, err, errlen);
    if (text)
        sodium_free(text);
    if (rc != 0) {
        keys_free(&k);
        return -1;
    }
    sodium_mprotect_readonly(k.material);
    keys_free(&vk);
    vk = k;
    snprintf(vk_path, sizeof vk_path, "%s", path);
    vk_stat = st;
    return 0;
}

int vault_load(const char *path, char *err, size_t errlen)
{
    pthread_mutex_lock(&vk_lock);
    int rc = load_locked(path, err, errlen);
    vk_checked = time(NULL);
    pthread_mutex_unlock(&vk_lock);
    return rc;
}

/* With vk_lock held: loads the configured file on first use, and reloads it when it was replaced
 * (a rotation renames a new file into place). force skips the once-a-second throttle. */
static void refresh_locked(int force)
{
    time_t now = time(NULL);
    if (!force && vk_checked && now - vk_checked < RELOAD_CHECK_S)
        return;
    vk_checked = now;
    char path[1024];
    if (vk.n)
        snprintf(path, sizeof path, "%s", vk_path);
    else
        config_path("vault.keyfile", path, sizeof path);
    if (vk.n) {
        struct stat st;
        if (stat(path, &st) != 0 || (st.st_ino == vk_stat.st_ino && st.st_dev == vk_stat.st_dev &&
                                     st.st_mtim.tv_sec == vk_stat.st_mtim.tv_sec &&
                                     st.st_mtim.tv_nsec == vk_stat.st_mtim.tv_nsec && st.st_size == vk_stat.st_size))
            return;
    }
    char err[512];
    if (load_locked(path, err, sizeof err) != 0 && (!vk_failed_log || now - vk_failed_log >= 60)) {
        /* keys already loaded stay in use; a missing file is reported once a minute */
        vk_failed_log = now;
        log_error("vault: %s", err);
    }
}

int vault_loaded(void)
{
    pthread_mutex_lock(&vk_lock);
    int n = vk.n > 0;
    pthread_mutex_unlock(&vk_lock);
    return n;
}

unsigned vault_current_key(void)
{
    pthread_mutex_lock(&vk_lock);
    unsigned id = vk.current;
    pthread_mutex_unlock(&vk_lock);
    return id;
}

static const unsigned char *key_for(unsigned id)
{
    for (unsigned i = 0; i < vk.n; i++)
        if (vk.ids[i] == id)
            return vk.material + (size_t)i * KEY_BYTES;
    return NULL;
}

/* The additional data: "<key_id>\0<tenant_id>\0<column>". */
static size_t make_ad(char *ad, size_t adlen, unsigned id, long long tenant_id, const char *column)
{
    int a = snprintf(ad, adlen, "%u", id);
    int b = snprintf(ad + a + 1, adlen - (size_t)a - 1, "%lld", tenant_id);
    int c = snprintf(ad + a + b + 2, adlen - (size_t)a - (size_t)b - 2, "%s", column);
    size_t total = (size_t)a + (size_t)b + (size_t)c + 2;
    return total < adlen ? total : 0;
}

char *vault_seal(arena *a, const char *column, long long tenant_id, const void *plain, size_t n)
{
    if (!a || !column || !*column || (!plain && n) || n > ENVELOPE_PLAIN_MAX)
        return NULL;
    char ad[300];
    unsigned char nonce[NONCE_BYTES];
    size_t ct_len = n + TAG_BYTES;
    unsigned char *ct = arena_alloc(a, ct_len);
    size_t nonce_b64 = sodium_base64_ENCODED_LEN(NONCE_BYTES, B64URL);
    size_t ct_b64 = sodium_base64_ENCODED_LEN(ct_len, B64URL);
    char *env = arena_alloc(a, 16 + nonce_b64 + ct_b64);
    if (!ct || !env)
        return NULL;
    pthread_mutex_lock(&vk_lock);
    refresh_locked(0);
    unsigned id = vk.current;
    const unsigned char *key = id ? key_for(id) : NULL;
    size_t adlen = key ? make_ad(ad, sizeof ad, id, tenant_id, column) : 0;
    if (adlen) {
        randombytes_buf(nonce, sizeof nonce);
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, plain, n, (const unsigned char *)ad, adlen, NULL, nonce,
                                                   key);
    }
    pthread_mutex_unlock(&vk_lock);
    if (!adlen) {
        if (!id)
            log_error("vault: cannot seal %s: no key loaded", column);
        return NULL;
    }
    int off = snprintf(env, 16, "%u|", id);
    sodium_bin2base64(env + off, nonce_b64, nonce, sizeof nonce, B64URL);
    off += (int)strlen(env + off);
    env[off++] = '|';
    sodium_bin2base64(env + off, ct_b64, ct, ct_len, B64URL);
    return env;
}

unsigned vault_envelope_key(const char *envelope)
{
    if (!envelope)
        return 0;
    const char *bar = strchr(envelope, '|');
    return bar ? parse_id(envelope, (size_t)(bar - envelope)) : 0;
}

/* Plaintext handed out by vault_open carries its length in front, for the arena cleanup. */
typedef struct opened {
    size_t len;
    char text[];
} opened;

static void wipe_opened(void *p)
{
    opened *o = p;
    sodium_memzero(o->text, o->len + 1);
}

/* Decodes base64url text [s, e) into dst (at most cap bytes); -1 unless it is all consumed. */
static int b64url_decode(unsigned char *dst, size_t cap, const char *s, const char *e, size_t *out)
{
    const char *end = NULL;
    if (sodium_base642bin(dst, cap, s, (size_t)(e - s), NULL, out, &end, B64URL) != 0 || end != e)
        return -1;
    return 0;
}

int vault_open(arena *a, const char *column, long long tenant_id, const char *envelope, char **out, size_t *n)
{
    if (!a || !column || !*column || !envelope || !out)
        return -1;
    *out = NULL;
    if (n)
        *n = 0;
    unsigned id = vault_envelope_key(envelope);
    const char *b1 = strchr(envelope, '|');
    const char *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
    if (!id || !b2 || strchr(b2 + 1, '|'))
        return -1;
    const char *ct_txt = b2 + 1, *ct_end = ct_txt + strlen(ct_txt);
    size_t ct_cap = (size_t)(ct_end - ct_txt) / 4 * 3 + 3;
    if (ct_cap > ENVELOPE_PLAIN_MAX + TAG_BYTES + 3)
        return -1;
    unsigned char nonce[NONCE_BYTES];
    size_t nonce_len = 0, ct_len = 0;
    unsigned char *ct = arena_alloc(a, ct_cap);
    if (!ct || b64url_decode(nonce, sizeof nonce, b1 + 1, b2, &nonce_len) != 0 || nonce_len != NONCE_BYTES ||
        b64url_decode(ct, ct_cap, ct_txt, ct_end, &ct_len) != 0 || ct_len < TAG_BYTES)
        return -1;
    opened *o = arena_alloc(a, sizeof *o + ct_len - TAG_BYTES + 1);
    if (!o)
        return -1;
    o->len = ct_len - TAG_BYTES;
    /* registered before decrypting, so a failure midway still leaves nothing behind */
    if (arena_on_cleanup(a, wipe_opened, o) != 0)
        return -1;
    char ad[300];
    size_t adlen = make_ad(ad, sizeof ad, id, tenant_id, column);
    int rc = -1;
    pthread_mutex_lock(&vk_lock);
    refresh_locked(0);
    const unsigned char *key = key_for(id);
    if (!key) {
        /* an id newer than ours means the file was rotated since the last look */
        refresh_locked(1);
        key = key_for(id);
    }
    if (key && adlen)
        rc = crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)o->text, NULL, NULL, ct, ct_len,
                                                        (const unsigned char *)ad, adlen, nonce, key);
    int have_keys = vk.n > 0;
    pthread_mutex_unlock(&vk_lock);
    if (rc != 0) {
        sodium_memzero(o->text, o->len + 1);
        if (!key && have_keys)
            log_warn("vault: envelope in %s is under unknown key %u", column, id);
        else if (!have_keys)
            log_error("vault: cannot open %s: no key loaded", column);
        else
            log_warn("vault: an envelope in %s failed authentication (tampered, or another tenant's or column's)",
                     column);
        return -1;
    }
    o->text[o->len] = '\0';
    *out = o->text;
    if (n)
        *n = o->len;
    return 0;
}

/* The number of characters shown at each end: 4 at most, and both ends together never more
 * than a quarter of the secret. */
static size_t mask_visible(size_t len)
{
    if (len < 12)
        return 0;
    size_t k = len / 8;
    return k > 4 ? 4 : k;
}

char *vault_mask(arena *a, const char *plain)
{
    if (!a)
        return NULL;
    size_t len = plain ? strlen(plain) : 0;
    size_t k = mask_visible(len);
    /* only plain ASCII is shown, so a mask never splits a multi-byte character */
    for (size_t i = 0; i < k; i++)
        if ((unsigned char)plain[i] < 0x21 || (unsigned char)plain[i] > 0x7e ||
            (unsigned char)plain[len - 1 - i] < 0x21 || (unsigned char)plain[len - 1 - i] > 0x7e)
            k = 0;
    if (!k)
        return arena_strdup(a, "••••");
    return arena_printf(a, "%.*s…%.*s", (int)k, plain, (int)k, plain + len - k);
}

int vault_new_key_line(unsigned key_id, char *out, size_t outlen)
{
    if (!key_id || key_id > VAULT_ID_MAX || !out)
        return -1;
    if (sodium_init() < 0)
        return -1;
    unsigned char key[KEY_BYTES];
    char b64[sodium_base64_ENCODED_LEN(KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    int w = snprintf(out, outlen, "%u %s", key_id, b64);
    sodium_memzero(key, sizeof key);
    sodium_memzero(b64, sizeof b64);
    if (w < 0 || (size_t)w >= outlen) {
        sodium_memzero(out, outlen);
        return -1;
    }
    return 0;
}

char *vault_context(arena *a, const char *column, long long owner_id)
{
    return arena_printf(a, "%s#%lld", column, owner_id);
}
