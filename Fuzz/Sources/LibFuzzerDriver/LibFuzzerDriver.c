// Only the header matters: LLVMFuzzerRunDriver is defined by libclang_rt.fuzzer, linked by -sanitize=fuzzer.
#include "LibFuzzerDriver.h"
