// Nothing to compile: the target only exports the declaration in include/CLibFuzzer.h (SwiftPM wants one source file).
#include "CLibFuzzer.h"
