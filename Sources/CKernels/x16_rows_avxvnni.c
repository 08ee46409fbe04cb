// The interleaved Q4_0 row kernel of x16_rows_avx2.c, built for the avxvnni path (simd_path.h).
#define VPG_BUILD_AVXVNNI 1
#include "x16_rows_avx2.c"
