// The dot kernels of dot_avx2.c, built for the avx512 path (simd_path.h).
#define VPG_BUILD_AVX512 1
#include "dot_avx2.c"
