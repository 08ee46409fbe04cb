// The interleaved Q4_K and Q6_K row kernels of x16_krows_avx2.c, built for the avxvnni path (simd_path.h).
#define VPG_BUILD_AVXVNNI 1
#include "x16_krows_avx2.c"
