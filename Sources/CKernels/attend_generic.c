// Plain C attention of a group of query heads over one key/value head: the specification of attend_avx2.c.
#include <math.h>
#include "CKernels.h"
#include "quant_blocks.h"

void vpg_softmax_rows(float *scores, int rows, int64_t length) {
    for (int g = 0; g < rows; g++) {
        float *s = scores + g * length;
        float m = -INFINITY;
        for (int64_t j = 0; j < length; j++) m = fmaxf(m, s[j]);
        float sum = 0;
        for (int64_t j = 0; j < length; j++) {
            s[j] = expf(s[j] - m);
            sum += s[j];
        }
        const float inv = 1 / sum;
        for (int64_t j = 0; j < length; j++) s[j] *= inv;
    }
}

void vpg_attend_rows(vpg_dequant_fn expand, const float *q, const void *k0, const void *v0, int64_t row_bytes,
                     int64_t length, int group, int head_dim, float scale, float *scores, float *out) {
    float buffer[VPG_ATTEND_MAX_HEAD_DIM];   // [head_dim] one cache row in f32
    const uint8_t *k = k0, *v = v0;
    for (int64_t j = 0; j < length; j++) {
        const float *row = (const float *)(k + j * row_bytes);
        if (expand) { expand(k + j * row_bytes, buffer, head_dim); row = buffer; }
        for (int g = 0; g < group; g++) {
            float s = 0;
            for (int d = 0; d < head_dim; d++) s += q[g * head_dim + d] * row[d];
            scores[g * length + j] = s * scale;
        }
    }
    vpg_softmax_rows(scores, group, length);
    for (int i = 0; i < group * head_dim; i++) out[i] = 0;
    for (int64_t j = 0; j < length; j++) {
        const float *row = (const float *)(v + j * row_bytes);
        if (expand) { expand(v + j * row_bytes, buffer, head_dim); row = buffer; }
        for (int g = 0; g < group; g++) {
            const float p = scores[g * length + j];
            for (int d = 0; d < head_dim; d++) out[g * head_dim + d] += p * row[d];
        }
    }
}

#define GENERIC(NAME, TYPE)                                                                                \
    void NAME(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length, int group,  \
              int head_dim, float scale, float *scores, float *out) {                                      \
        vpg_attend_rows(TYPE < 0 ? NULL : vpg_dequant_kernel(TYPE, VPG_PATH_GENERIC), q, k0, v0, row_bytes,   \
                        length, group, head_dim, scale, scores, out);                                      \
    }
GENERIC(vpg_attend_f32_generic, -1)
GENERIC(vpg_attend_f16_generic, 1)
GENERIC(vpg_attend_q8_0_generic, 8)
