/* render.h — ClearSilver rendering: parsed templates cached per process, page data converted
 * from the same JSON the /api/v1 twin returns, language strings from templates/lang/<lang>.hdf. */
#ifndef BCF_RENDER_H
#define BCF_RENDER_H
#include <jansson.h>
#include "buf.h"
#include "request.h"

int render_init(const char *templates_dir);
void render_shutdown(void);
/* Renders res->template with res->data into out (HTML). Returns 0, or -1 with a message. */
int render_page(request *req, response *res, buf *out, char *err, size_t errlen);
/* Language string for key in lang (falls back to pt-BR, then to the key itself). */
const char *render_lang_string(const char *lang, const char *key);
int render_lang_known(const char *lang);
#endif
