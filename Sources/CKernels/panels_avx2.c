// AVX2 prompt products on the offset 32-element formats (Q4_0, Q5_0). After llama.cpp's 8-row interleave, but done
// per product instead of at load (the weights stay memory-mapped as stored): a chunk of blocks of eight weight rows
// is unpacked into a layout where one maddubs covers 8 bytes of four rows, so the eight rows' integer sums land in
// the eight lanes of one vector and a block's float step (scale, convert, fma) is one vector op for all eight.
// The chunk is then dotted with a tile of up to 16 tokens. Twin: panels_generic.c.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// Eight rows of one block: v[c][h] = elements 8c..8c+7 (unsigned q) of rows 0, 1, 4, 5 (h = 0) or 2, 3, 6, 7
/// (h = 1), 8 bytes per row, so that hadd of the two halves' sums leaves row k in lane k; d: the rows' scales.
typedef struct { __m256i v[4][2]; __m256 d; } p_block;

/// Blocks unpacked at a time (16 × 288 B = 4.5 KB, with a 16-token tile of their activations 14 KB: in L1).
#define P_CHUNK 16
/// Panels of eight rows per pass (their accumulators for a token tile: 8 × 16 × 32 B = 4 KB).
#define P_PANELS 8

/// The 32 unsigned weights of a block, element order.
typedef __m256i (*p_weights_fn)(const uint8_t *b);
INLINE __m256i q4_0_q(const uint8_t *b) { return vpg_nibbles(b + 2); }
INLINE __m256i q5_0_q(const uint8_t *b) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    return _mm256_or_si256(vpg_nibbles(b + 6), _mm256_and_si256(vpg_bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
}

/// out[2c] = bytes 8c..8c+7 of a, b, c, d in that order (a 4 × 4 transpose of 8-byte groups).
INLINE void p_transpose(__m256i a, __m256i b, __m256i c, __m256i d, __m256i *out) {
    const __m256i t0 = _mm256_unpacklo_epi64(a, b), t1 = _mm256_unpackhi_epi64(a, b);
    const __m256i t2 = _mm256_unpacklo_epi64(c, d), t3 = _mm256_unpackhi_epi64(c, d);
    out[0] = _mm256_permute2x128_si256(t0, t2, 0x20);
    out[2] = _mm256_permute2x128_si256(t1, t3, 0x20);
    out[4] = _mm256_permute2x128_si256(t0, t2, 0x31);
    out[6] = _mm256_permute2x128_si256(t1, t3, 0x31);
}

/// Block i of the eight rows, unpacked.
INLINE void p_unpack(const uint8_t *const *row, int64_t offset, p_weights_fn weights, p_block *u) {
    __m256i q[8];
    float d[8];
    for (int k = 0; k < 8; k++) {
        q[k] = weights(row[k] + offset);
        d[k] = vpg_f16(row[k] + offset);
    }
    p_transpose(q[0], q[1], q[4], q[5], &u->v[0][0]);
    p_transpose(q[2], q[3], q[6], q[7], &u->v[0][1]);
    u->d = _mm256_loadu_ps(d);
}

/// Σ q·x of the eight rows (lane k: row k) with one token's 32 activations. Each int16 lane sums 8 products
/// |q·x| ≤ 31·127: no overflow.
INLINE __m256i p_dot(const p_block *u, const int8_t *x) {
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        int64_t g;
        memcpy(&g, x + 8 * c, 8);
        const __m256i xc = _mm256_set1_epi64x(g);
        s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(u->v[c][0], xc));
        s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(u->v[c][1], xc));
    }
    const __m256i one = _mm256_set1_epi16(1);
    return _mm256_hadd_epi32(_mm256_madd_epi16(s0, one), _mm256_madd_epi16(s1, one));
}

/// Σ x of 32 activations.
INLINE int p_sum(const int8_t *x) {
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)x)),
                                        _mm256_set1_epi16(1));
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    return _mm_cvtsi128_si32(h);
}

INLINE void panels(p_weights_fn weights, int offset, int64_t block_bytes, const void *rows, int64_t row_bytes,
                   const void *xq, int64_t stride, int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1,
                   int64_t cols) {
    const int64_t blocks = cols / 32;
    for (int64_t p0 = r0; p0 < r1; p0 += 8 * P_PANELS) {
        const int64_t p1 = p0 + 8 * P_PANELS < r1 ? p0 + 8 * P_PANELS : r1;
        const int panels = (int)((p1 - p0 + 7) / 8);
        for (int64_t t0 = 0; t0 < tokens; t0 += VPG_DOTQ_MAX_ROWS) {
            const int T = tokens - t0 < VPG_DOTQ_MAX_ROWS ? (int)(tokens - t0) : VPG_DOTQ_MAX_ROWS;
            const vpg_q8_32 *x[VPG_DOTQ_MAX_ROWS];   // the tile's activation rows
            for (int t = 0; t < T; t++) x[t] = (const vpg_q8_32 *)((const uint8_t *)xq + (t0 + t) * stride);
            __m256 acc[P_PANELS][VPG_DOTQ_MAX_ROWS];   // [panel][token], lane k: row 8·panel + k
            for (int p = 0; p < panels; p++)
                for (int t = 0; t < T; t++) acc[p][t] = _mm256_setzero_ps();
            for (int64_t i0 = 0; i0 < blocks; i0 += P_CHUNK) {
                const int n = blocks - i0 < P_CHUNK ? (int)(blocks - i0) : P_CHUNK;
                int32_t osum[VPG_DOTQ_MAX_ROWS][P_CHUNK];   // o·Σ x per token and block
                for (int t = 0; t < T; t++)
                    for (int i = 0; i < n; i++) osum[t][i] = offset * p_sum(x[t][i0 + i].q);
                for (int p = 0; p < panels; p++) {
                    const uint8_t *row[8];   // rows past r1 repeat the last one; their lanes are not written
                    for (int k = 0; k < 8; k++) {
                        const int64_t r = p0 + 8 * p + k < p1 ? p0 + 8 * p + k : p1 - 1;
                        row[k] = (const uint8_t *)rows + r * row_bytes;
                    }
                    p_block u[P_CHUNK];
                    for (int i = 0; i < n; i++) p_unpack(row, (i0 + i) * block_bytes, weights, &u[i]);
                    for (int t = 0; t < T; t++) {
                        __m256 a = acc[p][t];
                        for (int i = 0; i < n; i++) {
                            const vpg_q8_32 *xi = x[t] + i0 + i;
                            const __m256i s = _mm256_sub_epi32(p_dot(&u[i], xi->q), _mm256_set1_epi32(osum[t][i]));
                            a = _mm256_fmadd_ps(_mm256_mul_ps(u[i].d, _mm256_set1_ps(xi->d)), _mm256_cvtepi32_ps(s), a);
                        }
                        acc[p][t] = a;
                    }
                }
            }
            for (int p = 0; p < panels; p++) {
                const int64_t first = p0 + 8 * p, count = p1 - first < 8 ? p1 - first : 8;
                for (int t = 0; t < T; t++) {
                    float lanes[8];
                    _mm256_storeu_ps(lanes, acc[p][t]);
                    for (int k = 0; k < count; k++) y[(t0 + t) * ldy + first + k - r0] = lanes[k];
                }
            }
        }
    }
}

AVX2 void vpg_matmul_panels_q4_0_avx2(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                      int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    panels(q4_0_q, 8, 18, rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);
}

AVX2 void vpg_matmul_panels_q5_0_avx2(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                      int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    panels(q5_0_q, 16, 22, rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);
}

#else
void vpg_matmul_panels_q4_0_avx2(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens,
                                 float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    vpg_matmul_panels_q4_0_generic(rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);
}
void vpg_matmul_panels_q5_0_avx2(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens,
                                 float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    vpg_matmul_panels_q5_0_generic(rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);
}
#endif
