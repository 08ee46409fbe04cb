// Plain twin of swiglu_avx2.c: SwiGLU one element at a time.
#include "CKernels.h"
#include "exp_table.h"

void vpg_swiglu_generic(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        gate[i] = g / (1 + vpg_exp_table_f32(-g)) * up[i];
    }
}
