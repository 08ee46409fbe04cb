// AVX2 integer dot kernels with 8-bit activations, for one to four activation rows at once (batched generation:
// each weight block is unpacked once and dotted with every row). The one-row kernels are the same code with a row
// count of 1, so each row of a batch gets exactly the one-row result. Twins: dotq_generic.c, dotq4_generic.c.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// The activation row t of a batch: rows are `stride` bytes apart.
#define ROW(T, xq, stride, t) ((const T *)((const uint8_t *)(xq) + (t) * (stride)))

/// Σ a_i·b_i of 32 signed bytes as 8 int32 partial sums, with |a| precomputed once per weight block
/// (|a| ≤ 128, |b| ≤ 127: no int16 overflow).
INLINE __m256i idot32_abs(__m256i abs_a, __m256i a, __m256i b) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(abs_a, _mm256_sign_epi8(b, a)), _mm256_set1_epi16(1));
}

/// The 32-element formats: blocks in pairs with two accumulators per row, the odd last block into the first.
INLINE void block_pairs(const uint8_t *b, int64_t bytes, __m256i (*weights)(const uint8_t *), const void *xq,
                        int64_t stride, float *out, int64_t n, const int T) {
    __m256 acc0[4], acc1[4];
    for (int t = 0; t < T; t++) acc0[t] = acc1[t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < n / 32; i += 2, b += 2 * bytes) {
        const uint8_t *b0 = b, *b1 = b + bytes;
        const __m256i w0 = weights(b0), w1 = weights(b1);
        const __m256i a0 = _mm256_sign_epi8(w0, w0), a1 = _mm256_sign_epi8(w1, w1);
        const float d0 = vpg_f16(b0), d1 = vpg_f16(b1);
        for (int t = 0; t < T; t++) {
            const vpg_q8_32 *y = ROW(vpg_q8_32, xq, stride, t);
            const __m256i x0 = _mm256_loadu_si256((const __m256i *)y[i].q);
            const __m256i x1 = _mm256_loadu_si256((const __m256i *)y[i + 1].q);
            acc0[t] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * y[i].d), _mm256_cvtepi32_ps(idot32_abs(a0, w0, x0)), acc0[t]);
            acc1[t] = _mm256_fmadd_ps(_mm256_set1_ps(d1 * y[i + 1].d), _mm256_cvtepi32_ps(idot32_abs(a1, w1, x1)), acc1[t]);
        }
    }
    if (i < n / 32) {
        const __m256i w0 = weights(b), a0 = _mm256_sign_epi8(w0, w0);
        const float d0 = vpg_f16(b);
        for (int t = 0; t < T; t++) {
            const vpg_q8_32 *y = ROW(vpg_q8_32, xq, stride, t);
            const __m256i x0 = _mm256_loadu_si256((const __m256i *)y[i].q);
            acc0[t] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * y[i].d), _mm256_cvtepi32_ps(idot32_abs(a0, w0, x0)), acc0[t]);
        }
    }
    for (int t = 0; t < T; t++) out[t] = vpg_hsum(_mm256_add_ps(acc0[t], acc1[t]));
}

/// The signed 8-bit weights of one block.
INLINE __m256i q8_0_weights(const uint8_t *b) { return _mm256_loadu_si256((const __m256i *)(b + 2)); }
INLINE __m256i q4_0_weights(const uint8_t *b) { return _mm256_sub_epi8(vpg_nibbles(b + 2), _mm256_set1_epi8(8)); }
INLINE __m256i q5_0_weights(const uint8_t *b) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    const __m256i high = _mm256_and_si256(vpg_bits_to_bytes(qh), _mm256_set1_epi8(0x10));
    return _mm256_sub_epi8(_mm256_or_si256(vpg_nibbles(b + 6), high), _mm256_set1_epi8(16));
}

/// Σ_j a_j·b_j of two vectors of 16 int16, as an int.
INLINE int isum16(__m256i a, __m256i b) {
    const __m256i p = _mm256_madd_epi16(a, b);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

INLINE void q4_k_rows(const uint8_t *b, const void *xq, int64_t stride, float *out, int64_t n, const int T) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[4];
    float minsum[4];
    for (int t = 0; t < T; t++) { acc[t] = _mm256_setzero_ps(); minsum[t] = 0; }
    for (int64_t i = 0; i < n / 256; i++, b += 144) {
        const uint8_t *q = b + 4;
        int16_t sc[8], mn[8];
        for (int j = 0; j < 4; j++) {
            sc[j] = q[j] & 63;
            mn[j] = q[j + 4] & 63;
            sc[j + 4] = (q[j + 8] & 0xF) | ((q[j] >> 6) << 4);
            mn[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
        }
        const __m256i mins16 = _mm256_set_epi16(mn[7], mn[7], mn[6], mn[6], mn[5], mn[5], mn[4], mn[4],
                                                mn[3], mn[3], mn[2], mn[2], mn[1], mn[1], mn[0], mn[0]);
        __m256i dots[4];
        for (int t = 0; t < T; t++) dots[t] = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * c));
            const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            const __m256i s1 = _mm256_set1_epi16(sc[2 * c]), s2 = _mm256_set1_epi16(sc[2 * c + 1]);
            for (int t = 0; t < T; t++) {
                const int8_t *x = ROW(vpg_q8_256, xq, stride, t)[i].q + 64 * c;
                const __m256i p1 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)x));
                const __m256i p2 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(x + 32)));
                dots[t] = _mm256_add_epi32(dots[t], _mm256_madd_epi16(p1, s1));
                dots[t] = _mm256_add_epi32(dots[t], _mm256_madd_epi16(p2, s2));
            }
        }
        const float d = vpg_f16(b), dmin = vpg_f16(b + 2);
        for (int t = 0; t < T; t++) {
            const vpg_q8_256 *y = ROW(vpg_q8_256, xq, stride, t) + i;
            const int mins = isum16(_mm256_loadu_si256((const __m256i *)y->bsums), mins16);
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * y->d), _mm256_cvtepi32_ps(dots[t]), acc[t]);
            minsum[t] += dmin * y->d * (float)mins;
        }
    }
    for (int t = 0; t < T; t++) out[t] = vpg_hsum(acc[t]) - minsum[t];
}

INLINE void q6_k_rows(const uint8_t *b, const void *xq, int64_t stride, float *out, int64_t n, const int T) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    __m256 acc[4];
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++, b += 210) {
        const int8_t *sc = (const int8_t *)(b + 192);
        __m256i dots[4];
        for (int t = 0; t < T; t++) dots[t] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * h));
            // The 6-bit values plus 32 (0..63); the 32 is taken off below through bsums.
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4)),
            };
            for (int k = 0; k < 4; k++) {
                const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(sc[8 * h + 2 * k + 1]), _mm_set1_epi16(sc[8 * h + 2 * k]));
                for (int t = 0; t < T; t++) {
                    const int8_t *x = ROW(vpg_q8_256, xq, stride, t)[i].q + 128 * h + 32 * k;
                    const __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)x));
                    dots[t] = _mm256_add_epi32(dots[t], _mm256_madd_epi16(p, scales));
                }
            }
        }
        const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        const float d = vpg_f16(b + 208);
        for (int t = 0; t < T; t++) {
            const vpg_q8_256 *y = ROW(vpg_q8_256, xq, stride, t) + i;
            const int offset = isum16(scales16, _mm256_loadu_si256((const __m256i *)y->bsums));
            dots[t] = _mm256_sub_epi32(dots[t], _mm256_setr_epi32(32 * offset, 0, 0, 0, 0, 0, 0, 0));
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * y->d), _mm256_cvtepi32_ps(dots[t]), acc[t]);
        }
    }
    for (int t = 0; t < T; t++) out[t] = vpg_hsum(acc[t]);
}

// One entry point per type: the row count becomes a compile-time constant, so every per-row loop unrolls and
// the accumulators stay in registers.
#define ENTRY(NAME, CALL)                                                                                  \
    AVX2 void NAME(const void *row, const void *xq, int64_t stride, int rows, float *out, int64_t n) {     \
        switch (rows) {                                                                                    \
        case 1: CALL(1); break;                                                                            \
        case 2: CALL(2); break;                                                                            \
        case 3: CALL(3); break;                                                                            \
        default: CALL(4); break;                                                                           \
        }                                                                                                  \
    }
#define Q8_0(T) block_pairs(row, 34, q8_0_weights, xq, stride, out, n, T)
#define Q4_0(T) block_pairs(row, 18, q4_0_weights, xq, stride, out, n, T)
#define Q5_0(T) block_pairs(row, 22, q5_0_weights, xq, stride, out, n, T)
#define Q4_K(T) q4_k_rows(row, xq, stride, out, n, T)
#define Q6_K(T) q6_k_rows(row, xq, stride, out, n, T)
ENTRY(vpg_dotq4_q8_0_avx2, Q8_0)
ENTRY(vpg_dotq4_q4_0_avx2, Q4_0)
ENTRY(vpg_dotq4_q5_0_avx2, Q5_0)
ENTRY(vpg_dotq4_q4_k_avx2, Q4_K)
ENTRY(vpg_dotq4_q6_k_avx2, Q6_K)

// The one-row kernels (generation of one sequence).
#define ONE(NAME, CALL)                                                                                    \
    AVX2 float NAME(const void *row, const void *xq, int64_t n) {                                          \
        const int64_t stride = 0;                                                                          \
        float out[1];                                                                                      \
        CALL(1);                                                                                           \
        return out[0];                                                                                     \
    }
ONE(vpg_dotq_q8_0_avx2, Q8_0)
ONE(vpg_dotq_q4_0_avx2, Q4_0)
ONE(vpg_dotq_q5_0_avx2, Q5_0)
ONE(vpg_dotq_q4_k_avx2, Q4_K)
ONE(vpg_dotq_q6_k_avx2, Q6_K)

#else
#define FALLBACK(NAME, GENERIC)                                                                            \
    void NAME(const void *row, const void *xq, int64_t stride, int rows, float *out, int64_t n) {          \
        GENERIC(row, xq, stride, rows, out, n);                                                            \
    }
FALLBACK(vpg_dotq4_q8_0_avx2, vpg_dotq4_q8_0_generic)
FALLBACK(vpg_dotq4_q4_0_avx2, vpg_dotq4_q4_0_generic)
FALLBACK(vpg_dotq4_q5_0_avx2, vpg_dotq4_q5_0_generic)
FALLBACK(vpg_dotq4_q4_k_avx2, vpg_dotq4_q4_k_generic)
FALLBACK(vpg_dotq4_q6_k_avx2, vpg_dotq4_q6_k_generic)
float vpg_dotq_q8_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q8_0_generic(r, x, n); }
float vpg_dotq_q4_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q4_0_generic(r, x, n); }
float vpg_dotq_q5_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q5_0_generic(r, x, n); }
float vpg_dotq_q4_k_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q4_k_generic(r, x, n); }
float vpg_dotq_q6_k_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q6_k_generic(r, x, n); }
#endif
