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

/// e^x for four floats in double: x·32/ln2 = k + r, 2^(k/32) from the table, the cubic in r; rounded to float.
AVX2 static inline __m128 exp_table4(__m128 x) {
    const __m256d xd = _mm256_cvtps_pd(x), scale = _mm256_set1_pd(VPG_EXP_SCALE);
    const __m256d shifted = _mm256_add_pd(_mm256_mul_pd(scale, xd), _mm256_set1_pd(VPG_EXP_ROUND));
    const __m256i k = _mm256_castpd_si256(shifted);
    const __m256d r = _mm256_fmadd_pd(scale, xd, _mm256_sub_pd(_mm256_set1_pd(VPG_EXP_ROUND), shifted));
    const __m256i entry = _mm256_i64gather_epi64((const long long *)vpg_exp_table,
                                                 _mm256_and_si256(k, _mm256_set1_epi64x(31)), 8);
    const __m256d s = _mm256_castsi256_pd(_mm256_add_epi64(entry, _mm256_slli_epi64(k, 47)));
    const __m256d cubic = _mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(_mm256_set1_pd(VPG_EXP_P3), r), _mm256_set1_pd(VPG_EXP_P2)),
                                        _mm256_mul_pd(r, r));
    const __m256d linear = _mm256_add_pd(_mm256_mul_pd(_mm256_set1_pd(VPG_EXP_P1), r), _mm256_set1_pd(1.0));
    return _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_add_pd(cubic, linear), s));
}

/// e^x for eight floats (exp_table4 on each half; the large, infinite and NaN lanes one by one).
AVX2 static inline __m256 exp_table8(__m256 x) {
    __m256 e = _mm256_set_m128(exp_table4(_mm256_extractf128_ps(x, 1)), exp_table4(_mm256_castps256_ps128(x)));
    const __m256i magnitude = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x7fffffff));
    const int large = _mm256_movemask_ps(_mm256_castsi256_ps(
        _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32((int)VPG_EXP_LARGE - 1))));
    if (large) {
        float in[8], out[8];
        _mm256_storeu_ps(in, x);
        _mm256_storeu_ps(out, e);
        for (int l = 0; l < 8; l++)
            if (large >> l & 1) out[l] = vpg_exp_table_f32(in[l]);
        e = _mm256_loadu_ps(out);
    }
    return e;
}

/// 1 + e^−g for eight gates.
AVX2 static inline __m256 one_plus_exp_neg8(__m256 g) {
    return _mm256_add_ps(_mm256_set1_ps(1), exp_table8(_mm256_xor_ps(g, _mm256_set1_ps(-0.0f))));
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
