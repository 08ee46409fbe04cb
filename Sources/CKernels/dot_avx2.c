// AVX2 + FMA dot kernels: each has a plain twin in dot_generic.c, which the tests compare it with.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

/// Σ q_i·x_i over 32 int8 values, as 8 partial sums.
AVX2 static inline __m256 dot32(__m256i q, const float *x) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    __m256 acc = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_loadu_ps(x));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), _mm256_loadu_ps(x + 8), acc);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), _mm256_loadu_ps(x + 16), acc);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), _mm256_loadu_ps(x + 24), acc);
}

/// The same with the first 16 values scaled by sa and the last 16 by sb.
AVX2 static inline __m256 dot32_scaled(__m256i q, const float *x, float sa, float sb) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    __m256 a = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_loadu_ps(x));
    a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), _mm256_loadu_ps(x + 8), a);
    __m256 b = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), _mm256_loadu_ps(x + 16));
    b = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), _mm256_loadu_ps(x + 24), b);
    return _mm256_fmadd_ps(_mm256_set1_ps(sb), b, _mm256_mul_ps(_mm256_set1_ps(sa), a));
}

/// Σ x_i over 32 floats, as 8 partial sums.
AVX2 static inline __m256 sum32(const float *x) {
    return _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8)),
                         _mm256_add_ps(_mm256_loadu_ps(x + 16), _mm256_loadu_ps(x + 24)));
}

/// Eight f16 (F16C) or bf16 (shifted up by 16 bits: the high half of its f32) weights as f32, exactly.
AVX2 static inline __m256 f16x8(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
AVX2 static inline __m256 bf16x8(const uint8_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

/// A row of 16-bit floats · f32 vector: 32 at a time into four accumulators (the rows stream from memory in
/// generation, and one chain of fmas would wait on each one's latency; their lines are asked for ahead), then 8 at a
/// time into the first, the tail in scalar code.
#define HALF_DOT(NAME, LOAD, SCALAR)                                                                               \
    AVX2 float NAME(const void *row, const float *x, int64_t n) {                                                  \
        const uint8_t *b = row;                                                                                    \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps(); \
        int64_t i = 0;                                                                                             \
        for (; i + 32 <= n; i += 32) {                                                                             \
            vpg_prefetch_ahead(b + 2 * i, 64);                                                                     \
            a0 = _mm256_fmadd_ps(LOAD(b + 2 * i), _mm256_loadu_ps(x + i), a0);                                     \
            a1 = _mm256_fmadd_ps(LOAD(b + 2 * i + 16), _mm256_loadu_ps(x + i + 8), a1);                            \
            a2 = _mm256_fmadd_ps(LOAD(b + 2 * i + 32), _mm256_loadu_ps(x + i + 16), a2);                           \
            a3 = _mm256_fmadd_ps(LOAD(b + 2 * i + 48), _mm256_loadu_ps(x + i + 24), a3);                           \
        }                                                                                                          \
        for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(LOAD(b + 2 * i), _mm256_loadu_ps(x + i), a0);              \
        float sum = vpg_hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));                         \
        for (; i < n; i++) sum += SCALAR(b + 2 * i) * x[i];                                                        \
        return sum;                                                                                                \
    }
HALF_DOT(VPG_FN(vpg_dot_f16), f16x8, vpg_f16)
HALF_DOT(VPG_FN(vpg_dot_bf16), bf16x8, vpg_bf16)

AVX2 float VPG_FN(vpg_dot_q8_0)(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 32, b += 34, x += 32) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(b + 2));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b)), dot32(q, x), acc);
    }
    return vpg_hsum(acc);
}

AVX2 float VPG_FN(vpg_dot_q4_0)(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 32, b += 18, x += 32) {
        const __m256i q = _mm256_sub_epi8(vpg_nibbles(b + 2), _mm256_set1_epi8(8));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b)), dot32(q, x), acc);
    }
    return vpg_hsum(acc);
}

AVX2 float VPG_FN(vpg_dot_q5_0)(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 32, b += 22, x += 32) {
        uint32_t qh;
        memcpy(&qh, b + 2, 4);
        const __m256i high = _mm256_and_si256(vpg_bits_to_bytes(qh), _mm256_set1_epi8(0x10));
        const __m256i q = _mm256_sub_epi8(_mm256_or_si256(vpg_nibbles(b + 6), high), _mm256_set1_epi8(16));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b)), dot32(q, x), acc);
    }
    return vpg_hsum(acc);
}

AVX2 float VPG_FN(vpg_dot_q4_k)(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 256, b += 144, x += 256) {
        const float d = vpg_f16(b), dmin = vpg_f16(b + 2);
        for (int c = 0; c < 4; c++) {
            int s1, m1, s2, m2;
            vpg_scale_min_k4(2 * c, b + 4, &s1, &m1);
            vpg_scale_min_k4(2 * c + 1, b + 4, &s2, &m2);
            const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * c));
            const float *xc = x + 64 * c;
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)s1), dot32(_mm256_and_si256(v, m4), xc), acc);
            acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * (float)m1), sum32(xc), acc);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)s2), dot32(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), xc + 32), acc);
            acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * (float)m2), sum32(xc + 32), acc);
        }
    }
    return vpg_hsum(acc);
}

AVX2 float VPG_FN(vpg_dot_q6_k)(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03), k32 = _mm256_set1_epi8(32);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 256, b += 210, x += 256) {
        const float d = vpg_f16(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * h));
            const __m256i q1 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql0, m4),
                _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)), k32);
            const __m256i q2 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql1, m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)), k32);
            const __m256i q3 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)), k32);
            const __m256i q4 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4)), k32);
            const int8_t *s = sc + 8 * h;
            const float *xh = x + 128 * h;
            __m256 part = dot32_scaled(q1, xh, (float)s[0], (float)s[1]);
            part = _mm256_add_ps(part, dot32_scaled(q2, xh + 32, (float)s[2], (float)s[3]));
            part = _mm256_add_ps(part, dot32_scaled(q3, xh + 64, (float)s[4], (float)s[5]));
            part = _mm256_add_ps(part, dot32_scaled(q4, xh + 96, (float)s[6], (float)s[7]));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d), part, acc);
        }
    }
    return vpg_hsum(acc);
}

#elif !defined(VPG_BUILD_AVXVNNI) && !defined(VPG_BUILD_AVX512)
// Other CPUs: the AVX2 names lead to the generic twins.
// Not x86: the AVX2 names resolve to the generic kernels so the table below stays the same.
float vpg_dot_f16_avx2(const void *r, const float *x, int64_t n) { return vpg_dot_f16_generic(r, x, n); }
float vpg_dot_bf16_avx2(const void *r, const float *x, int64_t n) { return vpg_dot_bf16_generic(r, x, n); }
float vpg_dot_q8_0_avx2(const void *r, const float *x, int64_t n) { return vpg_dot_q8_0_generic(r, x, n); }
float vpg_dot_q4_0_avx2(const void *r, const float *x, int64_t n) { return vpg_dot_q4_0_generic(r, x, n); }
float vpg_dot_q5_0_avx2(const void *r, const float *x, int64_t n) { return vpg_dot_q5_0_generic(r, x, n); }
float vpg_dot_q4_k_avx2(const void *r, const float *x, int64_t n) { return vpg_dot_q4_k_generic(r, x, n); }
float vpg_dot_q6_k_avx2(const void *r, const float *x, int64_t n) { return vpg_dot_q6_k_generic(r, x, n); }
#endif
