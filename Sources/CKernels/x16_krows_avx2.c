// Q4_K and Q6_K rows interleaved by sixteen (CKernels.h) on the 256-bit paths (AVX2 and AVX-VNNI, simd_path.h):
// one-token generation and small batches. The stored rows' kernels (dotq_avx2.c) keep eight float lanes per row and
// block and decode each row's scales in general registers, so on these paths one-token generation of a Q4_K_M model
// waited on instructions. Here the numerics are the panel kernels' (panels_avx2.c, p_step256: a pair of groups' exact
// integer sum per row, one fma per pair, the minimums' term once per block; vpg_rows_as_panels), with each row's
// scales decoded in its lane, eight rows per vector: each 64-byte vector of the layout is two halves of eight rows,
// both read in one pass over the group. The port of AVX-512's x16_step_pq4_k and x16_step_pq6_k (panels_avx512.c) to
// eight-row halves. Twin: the path's panel kernel on the rows put back.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__) && !defined(VPG_BUILD_AVX512)
#include "simd_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// Token t's four activations at q, in every lane.
INLINE __m256i k8_four(const int8_t *q) {
    int32_t four;
    memcpy(&four, q, 4);
    return _mm256_set1_epi32(four);
}

/// A group's sum times each lane's scale: AVX2's two int16 pair sums per lane (maddubs columns) times (s, s) in a
/// madd; VNNI's int32 sum (vpdpbusd columns; 32 weights' products need more than an int16) times the int32 s.
INLINE __m256i k8_scaled(__m256i sum, __m256i scale) {
#if VPG_VNNI
    return _mm256_mullo_epi32(sum, scale);
#else
    return _mm256_madd_epi16(sum, scale);
#endif
}

/// Bytes ahead of a Q4_K column (six blocks) or a Q6_K column (four blocks) that the first half's pass asks for,
/// one line at a time as it reads the column (`ask`). On Zen 3 the hardware alone left the rows at ~75% (Q4_K) and
/// ~70% (Q6_K) of a plain read from memory; whole blocks asked for at once (vpg_prefetch_ahead, Intel's choice)
/// were slower still there (Benchmarks/README.md).
#define K8_Q4_K_AHEAD 13824
#define K8_Q6_K_AHEAD 13440

/// One half's step of an interleaved Q4_K block for TT ≤ 4 tokens (x16_step_pq4_k's operations on eight rows).
INLINE void k8_step_q4_k(const uint8_t *blk, int h8, const vpg_q8_256 *const *x, __m256 *acc, const int TT,
                         const int ask) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i a = vpg_half8(blk + 64, h8), b = vpg_half8(blk + 128, h8), c = vpg_half8(blk + 192, h8);
    if (ask)
        for (int o = 0; o < 256; o += 64) _mm_prefetch((const char *)blk + K8_Q4_K_AHEAD + o, _MM_HINT_T0);
    __m256i sc[2], mn[2];
    vpg_q4_k_scales8(a, b, c, sc, mn);
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h8)));
    const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 32 + 16 * h8)));
    __m256 ddx[4];
    __m256i mins[4];
    for (int t = 0; t < TT; t++) {
        ddx[t] = _mm256_mul_ps(d, _mm256_set1_ps(x[t]->d));
        mins[t] = _mm256_setzero_si256();
    }
#pragma clang loop unroll(full)
    for (int h = 0; h < 4; h++) {   // groups 2h (low nibbles) and 2h + 1 (high nibbles)
        const int k_lo = (2 * h) % 4, k_hi = (2 * h + 1) % 4;
        const __m256i s_lo = vpg_pick256(sc[h / 2], k_lo, 0x80, VPG_VNNI ? 0x80 : k_lo, 0x80);
        const __m256i s_hi = vpg_pick256(sc[h / 2], k_hi, 0x80, VPG_VNNI ? 0x80 : k_hi, 0x80);
        __m256i lo_sum[4], hi_sum[4];   // [token]: AVX2's int16 pair sums (8 columns: ≤ 16·15·127 each), or int32
        for (int t = 0; t < TT; t++) lo_sum[t] = hi_sum[t] = _mm256_setzero_si256();
#pragma clang loop unroll(full)
        for (int c = 0; c < 8; c++) {
            const __m256i q = vpg_half8(blk + 256 + 64 * (8 * h + c), h8);
            if (ask) _mm_prefetch((const char *)blk + K8_Q4_K_AHEAD + 256 + 64 * (8 * h + c), _MM_HINT_T0);
            const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            for (int t = 0; t < TT; t++) {
                const __m256i xl = k8_four(x[t]->q + 64 * h + 4 * c), xh = k8_four(x[t]->q + 64 * h + 32 + 4 * c);
#if VPG_VNNI
                lo_sum[t] = VPG_DPBUSD256(lo_sum[t], lo, xl);
                hi_sum[t] = VPG_DPBUSD256(hi_sum[t], hi, xh);
#else
                lo_sum[t] = _mm256_add_epi16(lo_sum[t], _mm256_maddubs_epi16(lo, xl));
                hi_sum[t] = _mm256_add_epi16(hi_sum[t], _mm256_maddubs_epi16(hi, xh));
#endif
            }
        }
        const __m256i m_lo = vpg_pick256(mn[h / 2], k_lo, 0x80, k_lo, 0x80);
        const __m256i m_hi = vpg_pick256(mn[h / 2], k_hi, 0x80, k_hi, 0x80);
        for (int t = 0; t < TT; t++) {
            const __m256i dots = _mm256_add_epi32(k8_scaled(lo_sum[t], s_lo), k8_scaled(hi_sum[t], s_hi));
            int32_t pair[2];
            memcpy(pair, x[t]->bsums + 4 * h, 8);
            mins[t] = _mm256_add_epi32(mins[t], _mm256_add_epi32(_mm256_madd_epi16(m_lo, _mm256_set1_epi32(pair[0])),
                                                                 _mm256_madd_epi16(m_hi, _mm256_set1_epi32(pair[1]))));
            acc[t] = _mm256_fmadd_ps(ddx[t], _mm256_cvtepi32_ps(dots), acc[t]);
        }
    }
    for (int t = 0; t < TT; t++)
        acc[t] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, _mm256_set1_ps(x[t]->d)), _mm256_cvtepi32_ps(mins[t]), acc[t]);
}

/// Scale s of each row, signed: as an int32 (`wide`), or as the int16 pair (s, s).
INLINE __m256i k8_q6_scale(const __m256i *sv, int s, int wide) {
    const __m256i sign = _mm256_set1_epi32(0x80);   // (b ^ 0x80) − 0x80: the byte b sign-extended
    return wide ? _mm256_sub_epi32(_mm256_xor_si256(vpg_pick256(sv[s / 4], s % 4, 0x80, 0x80, 0x80), sign), sign)
                : _mm256_srai_epi16(vpg_pick256(sv[s / 4], 0x80, s % 4, 0x80, s % 4), 8);
}

/// Bits s, s + 1 of each byte of qh, moved to bits 4 and 5 (a 6-bit weight's top bits).
INLINE __m256i k8_q6_high(__m256i qh, const int s) {
    return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, s), _mm256_set1_epi8(0x03)), 4);
}

/// One half's step of an interleaved Q6_K block for TT ≤ 4 tokens (x16_step_pq6_k's integers and float steps on
/// eight rows). Each column's three vectors are decoded once into the four groups 4n..4n+3 they hold (the layout's
/// order; decoding one group at a time took twice the operations). A 16-weight part's sum (≤ 16·63·127) does not fit
/// an int16: AVX2 scales each two columns' pair sums (≤ 4·63·127) in a madd, VNNI each part's int32 sum in a 32-bit
/// multiply. Four tokens would want 24 accumulators of the 16 registers: the walk gives it three at most.
INLINE void k8_step_q6_k(const uint8_t *blk, int h8, const vpg_q8_256 *const *x, __m256 *acc, const int TT,
                         const int ask) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i sv[4];
    for (int v = 0; v < 4; v++) sv[v] = vpg_half8(blk + 64 * v, h8);
    const char *ahead = (const char *)blk + K8_Q6_K_AHEAD;
    if (ask) {   // the scale and d lines
        for (int o = 0; o < 256; o += 64) _mm_prefetch(ahead + o, _MM_HINT_T0);
        _mm_prefetch(ahead + 3328, _MM_HINT_T0);
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 3328 + 16 * h8)));
    __m256 ddx[4];
    for (int t = 0; t < TT; t++) ddx[t] = _mm256_mul_ps(d, _mm256_set1_ps(x[t]->d));
    // The loop over n stays rolled: unrolled, the compiler's order of the loads ran at a third of the speed from
    // memory (the columns' loops unrolled doubled the speed from cache; Benchmarks/README.md).
    for (int n = 0; n < 2; n++) {   // groups 4n..4n+3: the pairs g = 4n and 4n + 2
        __m256i dots[2][4], sums[4][4];   // [pair][token]; [group 4n + k][token]: the current part's sums
        for (int t = 0; t < TT; t++) {
            dots[0][t] = dots[1][t] = _mm256_setzero_si256();
            for (int k = 0; k < 4; k++) sums[k][t] = _mm256_setzero_si256();
        }
#pragma clang loop unroll(full)
        for (int c = 0; c < 8; c++) {   // column c: weights 4c..4c+3 of each group (part c / 4)
            const uint8_t *v = blk + 256 + 64 * 3 * (8 * n + c);   // ql of bytes 64n…, of 64n + 32…, then qh
            if (ask)   // from `ahead`: written as blk + 13440 + …, the long displacements streamed ~20% slower
                for (int o = 0; o < 192; o += 64) _mm_prefetch(ahead + (v - blk) + o, _MM_HINT_T0);
            const __m256i ql0 = vpg_half8(v, h8), ql1 = vpg_half8(v + 64, h8), qh = vpg_half8(v + 128, h8);
            const __m256i w[4] = {   // group 4n + k: ql0's or ql1's low or high nibbles, qh's bits 2k, 2k + 1
                _mm256_or_si256(_mm256_and_si256(ql0, m4), k8_q6_high(qh, 0)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), k8_q6_high(qh, 2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), k8_q6_high(qh, 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), k8_q6_high(qh, 6))};
            for (int k = 0; k < 4; k++)
                for (int t = 0; t < TT; t++) {
                    const __m256i four = k8_four(x[t]->q + 32 * (4 * n + k) + 4 * c);
#if VPG_VNNI
                    sums[k][t] = VPG_DPBUSD256(sums[k][t], w[k], four);
#else
                    sums[k][t] = _mm256_add_epi16(sums[k][t], _mm256_maddubs_epi16(w[k], four));
#endif
                }
            if (c % (VPG_VNNI ? 4 : 2) == (VPG_VNNI ? 3 : 1))   // the sums so far, scaled (AVX2: two columns)
                for (int k = 0; k < 4; k++) {
                    const __m256i s = k8_q6_scale(sv, 2 * (4 * n + k) + c / 4, VPG_VNNI);
                    for (int t = 0; t < TT; t++) {
                        dots[k / 2][t] = _mm256_add_epi32(dots[k / 2][t], k8_scaled(sums[k][t], s));
                        sums[k][t] = _mm256_setzero_si256();
                    }
                }
        }
        for (int j = 0; j < 2; j++) {
            const int g = 4 * n + 2 * j;
            const __m256i m_lo = vpg_q6_k_pair8(sv, g), m_hi = vpg_q6_k_pair8(sv, g + 1);
            for (int t = 0; t < TT; t++) {
                int32_t pair[2];
                memcpy(pair, x[t]->bsums + 2 * g, 8);
                const __m256i m = _mm256_add_epi32(_mm256_madd_epi16(m_lo, _mm256_set1_epi32(pair[0])),
                                                   _mm256_madd_epi16(m_hi, _mm256_set1_epi32(pair[1])));
                const __m256i dot = _mm256_sub_epi32(dots[j][t], _mm256_slli_epi32(m, 5));
                acc[t] = _mm256_fmadd_ps(ddx[t], _mm256_cvtepi32_ps(dot), acc[t]);
            }
        }
    }
}

/// TT ≤ 4 tokens' products on one group of sixteen rows, both halves in one pass over its blocks; acc[h][t] lane r
/// is row 8h + r's result for token t. `first`: the group's first pass (the later ones find it in cache).
INLINE void k8_tokens(const int type, const uint8_t *group, int64_t blocks, const void *xq, int64_t stride, float *y,
                      int64_t ldy, int first, const int TT) {
    const int64_t block_bytes = 16 * (type == 12 ? 144 : 210);
    // The rows ask for their lines one per column where the CPU kind's choice is not whole blocks.
    const int spread = vpg_row_prefetch_on <= 0, ask = spread && first;
    __m256 acc[2][4];
    for (int h = 0; h < 2; h++)
        for (int t = 0; t < TT; t++) acc[h][t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; i++) {
        const vpg_q8_256 *x[4];
        for (int t = 0; t < TT; t++) x[t] = (const vpg_q8_256 *)((const uint8_t *)xq + t * stride) + i;
        const uint8_t *blk = group + i * block_bytes;
        if (!spread) vpg_prefetch_ahead(blk, block_bytes);
        for (int h = 0; h < 2; h++) {
            if (type == 12) k8_step_q4_k(blk, h, x, acc[h], TT, ask && h == 0);
            else if (ask && h == 0) k8_step_q6_k(blk, h, x, acc[h], TT, 1);   // (`ask` a constant in each copy,
            else k8_step_q6_k(blk, h, x, acc[h], TT, 0);                      // as measured)
        }
    }
    for (int h = 0; h < 2; h++)
        for (int t = 0; t < TT; t++) _mm256_storeu_ps(y + t * ldy + 8 * h, acc[h][t]);
}

/// Rows r0..<r1 (multiples of 16) for every token, four tokens (Q6_K: three) per pass over a group (it stays in
/// cache for the next pass), as vpg_matmul_panels_fn.
INLINE void k8_rows(const int type, const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                    int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    VPG_X16_ROWS_BY_TOKENS(type == 12 ? 4 : 3, k8_tokens, type, group, cols / 256, xt, stride, out, ldy, t == 0)
}

VPG_TYPED_PRODUCT(VPG_FN(vpg_matmul_rows_q4_k_x16), k8_rows, 12)
VPG_TYPED_PRODUCT(VPG_FN(vpg_matmul_rows_q6_k_x16), k8_rows, 14)

#endif
