/* plugin_errors.h — what every file of the CUDA plugin shares: the export macro and the way a
 * failure's reason reaches the caller's err buffer (cuda_api.h). */
#ifndef BCF_CUDA_PLUGIN_ERRORS_H
#define BCF_CUDA_PLUGIN_ERRORS_H
#include "cuda_api.h"
#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdio.h>

#define BCF_EXPORT extern "C" __attribute__((visibility("default")))

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4), unused));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return BCF_CUDA_EFAIL;
}

/* A CUDA call that failed: its name and the runtime's reason into err. The error is read back
 * (cudaGetLastError) so a non-sticky one does not poison the next call. */
static int __attribute__((unused)) cuda_fail(char *err, size_t errlen, const char *what, cudaError_t e)
{
    cudaGetLastError();
    return fail(err, errlen, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}
#endif
