// The SwiGLU kernel of swiglu_avx2.c, built for the avx512 path (simd_path.h).
#define VPG_BUILD_AVX512 1
#include "swiglu_avx2.c"
