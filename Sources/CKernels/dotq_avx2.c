// AVX2 integer dot kernels with 8-bit activations; twins of dotq_generic.c.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

/// Σ a_i·b_i of 32 signed bytes, as 8 int32 partial sums (|a| ≤ 128, |b| ≤ 127: no int16 overflow).
AVX2 static inline __m256i idot32(__m256i a, __m256i b) {
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

// The 32-element kernels work on two blocks per step with two accumulators, so that consecutive blocks do
// not wait on each other's fused multiply-add.
#define BLOCK_PAIR_LOOP(BYTES, WEIGHTS)                                                              \
    const uint8_t *b = row;                                                                      \
    const vpg_q8_32 *y = xq;                                                                     \
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                               \
    int64_t i = 0;                                                                               \
    for (; i + 1 < n / 32; i += 2, b += 2 * (BYTES)) {                                            \
        const uint8_t *b0 = b, *b1 = b + (BYTES);                                                \
        const __m256i w0 = WEIGHTS(b0), w1 = WEIGHTS(b1);                                        \
        const __m256i x0 = _mm256_loadu_si256((const __m256i *)y[i].q);                         \
        const __m256i x1 = _mm256_loadu_si256((const __m256i *)y[i + 1].q);                     \
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b0) * y[i].d), _mm256_cvtepi32_ps(idot32(w0, x0)), acc0); \
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b1) * y[i + 1].d), _mm256_cvtepi32_ps(idot32(w1, x1)), acc1); \
    }                                                                                            \
    if (i < n / 32) {                                                                            \
        const __m256i w0 = WEIGHTS(b);                                                           \
        const __m256i x0 = _mm256_loadu_si256((const __m256i *)y[i].q);                         \
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b) * y[i].d), _mm256_cvtepi32_ps(idot32(w0, x0)), acc0); \
    }                                                                                            \
    return vpg_hsum(_mm256_add_ps(acc0, acc1));

/// The signed 8-bit weights of one block, for each 32-element format.
AVX2 static inline __m256i q8_0_weights(const uint8_t *b) { return _mm256_loadu_si256((const __m256i *)(b + 2)); }
AVX2 static inline __m256i q4_0_weights(const uint8_t *b) {
    return _mm256_sub_epi8(vpg_nibbles(b + 2), _mm256_set1_epi8(8));
}
AVX2 static inline __m256i q5_0_weights(const uint8_t *b) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    const __m256i high = _mm256_and_si256(vpg_bits_to_bytes(qh), _mm256_set1_epi8(0x10));
    return _mm256_sub_epi8(_mm256_or_si256(vpg_nibbles(b + 6), high), _mm256_set1_epi8(16));
}

AVX2 float vpg_dotq_q8_0_avx2(const void *row, const void *xq, int64_t n) { BLOCK_PAIR_LOOP(34, q8_0_weights) }
AVX2 float vpg_dotq_q4_0_avx2(const void *row, const void *xq, int64_t n) { BLOCK_PAIR_LOOP(18, q4_0_weights) }
AVX2 float vpg_dotq_q5_0_avx2(const void *row, const void *xq, int64_t n) { BLOCK_PAIR_LOOP(22, q5_0_weights) }

/// Σ_j a_j·b_j of two vectors of 16 int16, as an int.
AVX2 static inline int isum16(__m256i a, __m256i b) {
    const __m256i p = _mm256_madd_epi16(a, b);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

AVX2 float vpg_dotq_q4_k_avx2(const void *row, const void *xq, int64_t n) {
    const uint8_t *b = row;
    const vpg_q8_256 *y = xq;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    float minsum = 0;
    for (int64_t i = 0; i < n / 256; i++, b += 144) {
        // The 8 six-bit scales and mins, unpacked without branches (layout: Quants' scaleMinK4).
        const uint8_t *q = b + 4;
        int16_t sc[8], mn[8];
        for (int j = 0; j < 4; j++) {
            sc[j] = q[j] & 63;
            mn[j] = q[j + 4] & 63;
            sc[j + 4] = (q[j + 8] & 0xF) | ((q[j] >> 6) << 4);
            mn[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
        }
        // Σ_j m_j · (sum of the activations of sub-block j): bsums pair up into the 8 sub-blocks.
        const __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);   // [16] int16
        const __m256i mins16 = _mm256_set_epi16(mn[7], mn[7], mn[6], mn[6], mn[5], mn[5], mn[4], mn[4],
                                                mn[3], mn[3], mn[2], mn[2], mn[1], mn[1], mn[0], mn[0]);
        const int mins = isum16(bs, mins16);
        __m256i dots = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * c));
            const __m256i x1 = _mm256_loadu_si256((const __m256i *)(y[i].q + 64 * c));
            const __m256i x2 = _mm256_loadu_si256((const __m256i *)(y[i].q + 64 * c + 32));
            // Unsigned nibbles × signed activations, pairs summed, then times the sub-block scale.
            const __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(v, m4), x1);
            const __m256i p2 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), x2);
            dots = _mm256_add_epi32(dots, _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * c])));
            dots = _mm256_add_epi32(dots, _mm256_madd_epi16(p2, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b) * y[i].d), _mm256_cvtepi32_ps(dots), acc);
        minsum += vpg_f16(b + 2) * y[i].d * (float)mins;
    }
    return vpg_hsum(acc) - minsum;
}

AVX2 float vpg_dotq_q6_k_avx2(const void *row, const void *xq, int64_t n) {
    const uint8_t *b = row;
    const vpg_q8_256 *y = xq;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++, b += 210) {
        const int8_t *sc = (const int8_t *)(b + 192);
        __m256i dots = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * h));
            // The 6-bit values plus 32 (0..63, unsigned); the 32 is taken off below through bsums.
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4)),
            };
            for (int k = 0; k < 4; k++) {
                const __m256i x = _mm256_loadu_si256((const __m256i *)(y[i].q + 128 * h + 32 * k));
                const __m256i p = _mm256_maddubs_epi16(q[k], x);
                const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(sc[8 * h + 2 * k + 1]), _mm_set1_epi16(sc[8 * h + 2 * k]));
                dots = _mm256_add_epi32(dots, _mm256_madd_epi16(p, scales));
            }
        }
        // Σ_g scale_g · (sum of the activations of group g): the offset of 32 in every quant.
        const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        const int offset = isum16(scales16, _mm256_loadu_si256((const __m256i *)y[i].bsums));
        dots = _mm256_sub_epi32(dots, _mm256_setr_epi32(32 * offset, 0, 0, 0, 0, 0, 0, 0));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b + 208) * y[i].d), _mm256_cvtepi32_ps(dots), acc);
    }
    return vpg_hsum(acc);
}

#else
float vpg_dotq_q8_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q8_0_generic(r, x, n); }
float vpg_dotq_q4_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q4_0_generic(r, x, n); }
float vpg_dotq_q5_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q5_0_generic(r, x, n); }
float vpg_dotq_q4_k_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q4_k_generic(r, x, n); }
float vpg_dotq_q6_k_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q6_k_generic(r, x, n); }
#endif
