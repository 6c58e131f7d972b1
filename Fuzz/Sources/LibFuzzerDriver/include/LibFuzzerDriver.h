// libFuzzer's entry point for programs that have their own `main` (libclang_rt.fuzzer, LLVM 11 and later).
//
// SwiftPM links every executable target with `--defsym main=<Module>_main`, so the linked program starts in the
// target's `@main` and never in libFuzzer's own `main`; each fuzzer's `@main` hands over to libFuzzer with this.
#ifndef LIBFUZZER_DRIVER_H
#define LIBFUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
