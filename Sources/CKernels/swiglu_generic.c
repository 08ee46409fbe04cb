// Plain twin of swiglu_avx2.c: SwiGLU and its backward one element at a time.
#include "CKernels.h"
#include "exp_table.h"

void vpg_swiglu_generic(const float *gate, const float *up, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1 + vpg_exp_table_f32(-g)) * up[i];
    }
}

void vpg_swiglu_backward_generic(const float *gate, const float *up, const float *dh, float *dgate, float *dup,
                                 int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i], s = 1 / (1 + vpg_exp_table_f32(-g));
        dup[i] = dh[i] * g * s;
        dgate[i] = dh[i] * up[i] * s * (1 + g * (1 - s));
    }
}
