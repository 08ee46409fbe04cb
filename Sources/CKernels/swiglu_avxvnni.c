// The SwiGLU kernel of swiglu_avx2.c, built for the avxvnni path (simd_path.h).
#define VPG_BUILD_AVXVNNI 1
#include "swiglu_avx2.c"
