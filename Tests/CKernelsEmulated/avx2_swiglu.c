// swiglu_avx2.c built for the avx2 path through SIMDe.
#if defined(__x86_64__)
#define VPG_EMULATED 1
#include "../../Sources/CKernels/swiglu_avx2.c"
#endif
