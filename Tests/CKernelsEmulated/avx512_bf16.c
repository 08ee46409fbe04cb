// bf16_avx512.c built through SIMDe.
#if defined(__x86_64__)
#define VPG_EMULATED 1
#include "../../Sources/CKernels/bf16_avx512.c"
#endif
