#ifndef C_LIB_FUZZER_H
#define C_LIB_FUZZER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver, for programs with their own `main` (libFuzzer's FuzzerDriver.cpp; the toolchain ships no header
// for it). Parses libFuzzer's flags from argc/argv and runs `callback` on every input; returns the exit code. Linked
// in by `-sanitize=fuzzer`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
