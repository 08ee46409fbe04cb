// swiglu_avx2.c built for the avx512 path through SIMDe.
#if defined(__x86_64__)
#define VPG_EMULATED 1
#define VPG_BUILD_AVX512 1
#include "../../Sources/CKernels/swiglu_avx2.c"
#endif
