// e^x as exp_table.h computes it (on glibc, libm's expf bits for every float), eight lanes at a time on the 256-bit
// paths: two halves of four doubles, the table entries gathered; lanes with |x| ≥ 88, infinities and NaNs take the
// scalar function. Used by SwiGLU (swiglu_avx2.c) and attention's softmax (attend_avx2.c).
#ifndef VPGEA_EXP_TABLE_AVX2_H
#define VPGEA_EXP_TABLE_AVX2_H
#if defined(__x86_64__)
#include "exp_table.h"
#include "simd_avx2.h"

#pragma clang fp contract(off)

/// e^x for four floats in double: x·32/ln2 = k + r, 2^(k/32) from the table, the cubic in r; rounded to float.
AVX2 static inline __m128 vpg_exp_table4(__m128 x) {
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

/// e^x for eight floats (vpg_exp_table4 on each half; the large, infinite and NaN lanes one by one).
AVX2 static inline __m256 vpg_exp_table8(__m256 x) {
    __m256 e = _mm256_set_m128(vpg_exp_table4(_mm256_extractf128_ps(x, 1)), vpg_exp_table4(_mm256_castps256_ps128(x)));
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

#endif
#endif
