/* fuzz_config.c — fuzz target for config_parse_text (lib/config.c): any bytes as a config file
 * (NUL-terminated copy); errors must come with a message, and accepted keys must read back. */
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[256];
    err[0] = '\0';
    config_free();
    int rc = config_parse_text(text, err, sizeof err);
    if (rc != 0 && (rc != -1 || err[0] == '\0'))
        abort();
    if (rc == 0) {
        /* every default key still answers (file value or default), and the getters do not crash */
        for (const struct config_default *d = config_defaults; d->key; d++) {
            (void)config_get(d->key);
            (void)config_int(d->key);
            (void)config_bool(d->key);
        }
        char path[512];
        config_path("fcgi.socket", path, sizeof path);
        /* secrets never come through the file */
        if (config_get("db.password") && !getenv("BCF_DB_PASSWORD"))
            abort();
    }
    config_free();
    free(text);
    return 0;
}
