// AVX2 softmax parts: x ← exp(x − max x) and the sum (in Double), eight lanes at a time (exp as in exp_poly.h).
// Twin: softmax_generic.c.
#include <math.h>
#include "CKernels.h"
#include "exp_poly.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

AVX2 static inline __m256 exp_poly8(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(VPG_EXP_MIN));
    const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(VPG_EXP_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(VPG_EXP_LN2_LO), _mm256_fnmadd_ps(k, _mm256_set1_ps(VPG_EXP_LN2_HI), x));
    __m256 p = _mm256_set1_ps(VPG_EXP_C7);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VPG_EXP_C6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VPG_EXP_C5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VPG_EXP_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VPG_EXP_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VPG_EXP_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i scaled = _mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_cvtps_epi32(k), 23));
    return _mm256_castsi256_ps(scaled);
}

AVX2 double VPG_FN(vpg_exp_shifted)(float *x, int64_t n, float *max_out) {
    const int64_t body = n / 8 * 8;
    __m256 mv = _mm256_set1_ps(-INFINITY);
    for (int64_t i = 0; i < body; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
    float lanes[8], m = -INFINITY;
    _mm256_storeu_ps(lanes, mv);
    for (int j = 0; j < 8; j++) m = lanes[j] > m ? lanes[j] : m;
    for (int64_t i = body; i < n; i++) m = x[i] > m ? x[i] : m;
    const __m256 shift = _mm256_set1_ps(m);
    __m256d low = _mm256_setzero_pd(), high = _mm256_setzero_pd();   // sums of elements 8i + 0..3 and 8i + 4..7
    for (int64_t i = 0; i < body; i += 8) {
        const __m256 e = exp_poly8(_mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
        _mm256_storeu_ps(x + i, e);
        low = _mm256_add_pd(low, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        high = _mm256_add_pd(high, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    const __m256d s4 = _mm256_add_pd(low, high);
    const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
    double tail = 0;
    for (int64_t i = body; i < n; i++) {
        float one[8] = {x[i] - m};
        _mm256_storeu_ps(one, exp_poly8(_mm256_loadu_ps(one)));
        tail += x[i] = one[0];
    }
    *max_out = m;
    return (_mm_cvtsd_f64(s2) + _mm_cvtsd_f64(_mm_unpackhi_pd(s2, s2))) + tail;
}
#elif !defined(VPG_BUILD_AVXVNNI) && !defined(VPG_BUILD_AVX512)
// Other CPUs: the AVX2 names lead to the generic twins.
double vpg_exp_shifted_avx2(float *x, int64_t n, float *max_out) { return vpg_exp_shifted_generic(x, n, max_out); }
#endif
