// AVX2 attention of a group of query heads over one key/value head (twins: attend_generic.c). Each key and
// value row is read and widened once for every query head of its group, in 8-wide steps along the head.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// Values c..c+7 of a cache row, as f32.
INLINE __m256 load8(const uint8_t *row, int c, const int f16) {
    return f16 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * c))) : _mm256_loadu_ps((const float *)row + c);
}

/// G query heads (a compile-time count, so that the per-head accumulators stay in registers).
INLINE void attend(const float *q, const uint8_t *k, const uint8_t *v, int64_t row_bytes, int64_t length, int head_dim,
                   float scale, float *scores, float *out, const int G, const int f16) {
    for (int64_t j = 0; j < length; j++) {
        const uint8_t *row = k + j * row_bytes;
        __m256 acc[8];
        for (int g = 0; g < G; g++) acc[g] = _mm256_setzero_ps();
        for (int c = 0; c < head_dim; c += 8) {
            const __m256 x = load8(row, c, f16);
            for (int g = 0; g < G; g++) acc[g] = _mm256_fmadd_ps(x, _mm256_loadu_ps(q + g * head_dim + c), acc[g]);
        }
        for (int g = 0; g < G; g++) scores[g * length + j] = vpg_hsum(acc[g]) * scale;
    }
    vpg_softmax_rows(scores, G, length);
    // One 8-wide slice of the output heads at a time, over every value row.
    for (int c = 0; c < head_dim; c += 8) {
        __m256 o[8];
        for (int g = 0; g < G; g++) o[g] = _mm256_setzero_ps();
        for (int64_t j = 0; j < length; j++) {
            const __m256 x = load8(v + j * row_bytes, c, f16);
            for (int g = 0; g < G; g++) o[g] = _mm256_fmadd_ps(_mm256_broadcast_ss(scores + g * length + j), x, o[g]);
        }
        for (int g = 0; g < G; g++) _mm256_storeu_ps(out + g * head_dim + c, o[g]);
    }
}

#define ENTRY(NAME, F16)                                                                                   \
    AVX2 void NAME(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length,       \
                   int group, int head_dim, float scale, float *scores, float *out) {                      \
        if (head_dim % 8 != 0 || group > 8) {                                                              \
            vpg_attend_rows(F16 ? vpg_dequant_kernel(1, VPG_PATH) : NULL, q, k0, v0, row_bytes, length, \
                            group, head_dim, scale, scores, out);                                          \
            return;                                                                                        \
        }                                                                                                  \
        switch (group) {                                                                                   \
        case 1: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 1, F16); break;          \
        case 2: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 2, F16); break;          \
        case 3: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 3, F16); break;          \
        case 4: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 4, F16); break;          \
        case 5: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 5, F16); break;          \
        case 6: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 6, F16); break;          \
        case 7: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 7, F16); break;          \
        default: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 8, F16); break;         \
        }                                                                                                  \
    }
ENTRY(VPG_FN(vpg_attend_f32), 0)
ENTRY(VPG_FN(vpg_attend_f16), 1)

/// q8_0 rows: widened by the AVX2 row kernel, then the plain loops.
void VPG_FN(vpg_attend_q8_0)(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length,
                          int group, int head_dim, float scale, float *scores, float *out) {
    vpg_attend_rows(vpg_dequant_kernel(8, VPG_PATH), q, k0, v0, row_bytes, length, group, head_dim, scale, scores, out);
}

#elif !defined(VPG_BUILD_AVXVNNI) && !defined(VPG_BUILD_AVX512)
// Other CPUs: the AVX2 names lead to the generic twins.
void vpg_attend_f32_avx2(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length, int group,
                         int head_dim, float scale, float *scores, float *out) {
    vpg_attend_f32_generic(q, k0, v0, row_bytes, length, group, head_dim, scale, scores, out);
}
void vpg_attend_f16_avx2(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length, int group,
                         int head_dim, float scale, float *scores, float *out) {
    vpg_attend_f16_generic(q, k0, v0, row_bytes, length, group, head_dim, scale, scores, out);
}
void vpg_attend_q8_0_avx2(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length, int group,
                          int head_dim, float scale, float *scores, float *out) {
    vpg_attend_q8_0_generic(q, k0, v0, row_bytes, length, group, head_dim, scale, scores, out);
}
#endif
