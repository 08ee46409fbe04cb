// SwiGLU, out ← gate / (1 + e^−gate) · up, and its backward, eight lanes at a time: e^x as exp_table.h computes it, in two halves of
// four doubles (the table entries gathered), with the float steps of the plain twin; lanes with |x| ≥ 88 or NaN
// take the scalar function. The same bits as swiglu_generic.c. The per-element expf calls it replaced were a few
// percent of a prompt's time.
#include "CKernels.h"
#include "exp_table.h"

// The plain twins (swiglu_generic.c), which also take the last n mod 8 elements.
void vpg_swiglu_generic(const float *gate, const float *up, float *out, int64_t n);
void vpg_swiglu_backward_generic(const float *gate, const float *up, const float *dh, float *dgate, float *dup, int64_t n);

#if defined(__x86_64__)
#include "simd_avx2.h"
#include "exp_table_avx2.h"

/// 1 + e^−g for eight gates.
AVX2 static inline __m256 one_plus_exp_neg8(__m256 g) {
    return _mm256_add_ps(_mm256_set1_ps(1), vpg_exp_table8(_mm256_xor_ps(g, _mm256_set1_ps(-0.0f))));
}

AVX2 void VPG_FN(vpg_swiglu)(const float *gate, const float *up, float *out, int64_t n) {
    const int64_t body = n / 8 * 8;
    for (int64_t i = 0; i < body; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, one_plus_exp_neg8(g)), _mm256_loadu_ps(up + i)));
    }
    vpg_swiglu_generic(gate + body, up + body, out + body, n - body);
}

AVX2 void VPG_FN(vpg_swiglu_backward)(const float *gate, const float *up, const float *dh, float *dgate, float *dup,
                                      int64_t n) {
    const int64_t body = n / 8 * 8;
    const __m256 one = _mm256_set1_ps(1);
    for (int64_t i = 0; i < body; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i), d = _mm256_loadu_ps(dh + i);
        const __m256 s = _mm256_div_ps(one, one_plus_exp_neg8(g));
        _mm256_storeu_ps(dup + i, _mm256_mul_ps(_mm256_mul_ps(d, g), s));
        const __m256 slope = _mm256_add_ps(one, _mm256_mul_ps(g, _mm256_sub_ps(one, s)));
        _mm256_storeu_ps(dgate + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(d, _mm256_loadu_ps(up + i)), s), slope));
    }
    vpg_swiglu_backward_generic(gate + body, up + body, dh + body, dgate + body, dup + body, n - body);
}
#elif !defined(VPG_BUILD_AVXVNNI) && !defined(VPG_BUILD_AVX512)
// Other CPUs: the AVX2 names lead to the generic twins.
void vpg_swiglu_avx2(const float *gate, const float *up, float *out, int64_t n) { vpg_swiglu_generic(gate, up, out, n); }
void vpg_swiglu_backward_avx2(const float *gate, const float *up, const float *dh, float *dgate, float *dup, int64_t n) {
    vpg_swiglu_backward_generic(gate, up, dh, dgate, dup, n);
}
#endif
