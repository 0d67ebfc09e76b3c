/* fuzz.h — the one entry point every fuzz target defines; libFuzzer calls it, or replay.c's
 * main() does when the target is built as a plain program that replays a corpus (make check). */
#ifndef BCF_FUZZ_H
#define BCF_FUZZ_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
