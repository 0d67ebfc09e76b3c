/* config.h — one config file of `key = value` lines, overridden by BCF_* environment variables.
 * Every key has a documented default (docs/configuration.md); secrets come only from files or env. */
#ifndef BCF_CONFIG_H
#define BCF_CONFIG_H
#include <stddef.h>

/* Loads path (NULL: defaults + environment only). Replaces any previous config.
 * On error returns -1 and writes a message into err. */
int config_load(const char *path, char *err, size_t errlen);
/* Parses config text (used by config_load and the unit tests). */
int config_parse_text(const char *text, char *err, size_t errlen);
void config_free(void);
/* Value for key (memoised until the next load: the environment is read once per load): environment (BCF_ + key upper-cased, '.' -> '_') wins over the file,
 * which wins over the built-in default. Unknown keys return NULL. */
const char *config_get(const char *key);
long config_int(const char *key);
int config_bool(const char *key);
/* A secret: the env var, else the contents of the file named by `<key>_file` (trimmed).
 * Returns a malloc'd string the caller frees, or NULL when unset. */
char *config_secret(const char *key);
/* Resolves a path key relative to app.root unless absolute; returns a static buffer copy. */
const char *config_path(const char *key, char *out, size_t outlen);

struct config_default {
    const char *key;
    const char *value;
    const char *doc;
};
extern const struct config_default config_defaults[];
#endif
