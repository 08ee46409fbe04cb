// Q4_0 and Q5_0 rows interleaved by sixteen (CKernels.h) on the 256-bit paths (AVX2 and AVX-VNNI, simd_path.h):
// one-token generation and small batches. The stored rows' kernel (block_pairs in dotq_avx2.c) spends ~14
// instructions per row and block, so on these paths one-token generation waited on the instructions, not on memory.
// Here the numerics are the panel kernels' (panels_avx2.c: a block's exact integer sum per row, then one fma per row
// and block, blocks in order; vpg_rows_as_panels), so a vector of four-byte columns serves eight rows with one float
// step per block: ~4–5 instructions per row and block. Twin: the path's panel kernel on the rows put back.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__) && !defined(VPG_BUILD_AVX512)
#include <stdlib.h>
#include "simd_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// Bytes ahead of the block being read that are fetched: a group is one stream of blocks.
#define X16_PREFETCH 1536

/// o·Σ x over each block of each token (o = 8 for Q4_0, 16 for Q5_0): aux[blocks·t + i].
INLINE void x16_aux(int offset, const void *xq, int64_t stride, int64_t tokens, int64_t blocks, int32_t *aux) {
    for (int64_t t = 0; t < tokens; t++) {
        const vpg_q8_32 *x = (const vpg_q8_32 *)((const uint8_t *)xq + t * stride);
        for (int64_t i = 0; i < blocks; i++) aux[blocks * t + i] = vpg_offset_sum32(x + i, offset);
    }
}

/// Σ over the four columns' maddubs pair sums in int16 (Q4_0: each ≤ 2·15·127; Q5_0: ≤ 2·31·127, four of them ≤
/// 31,496: exact), as int32 lanes.
INLINE __m256i x16_pairs_sum(__m256i pairs) { return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)); }

/// Row r of half h of a block of `type` (lane r), for TT ≤ 4 tokens: s[t] = Σ q·x[t] over the row's 32 unsigned
/// weights, minus aux[t]. Each column's weights are decoded once for all the tokens (one token at a time, Q5_0's
/// fifth bits made these rows wait on their instructions at any batch: Benchmarks/README.md).
INLINE void x16_half_sums(const int type, const uint8_t *blk, int h, const int8_t *const *x, const int32_t *aux,
                          __m256i *s, const int TT) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
#if !VPG_VNNI
    __m256i low[4], high[4];   // [token]: int16 pair sums of weights 0–15 and 16–31
    for (int t = 0; t < TT; t++) low[t] = high[t] = _mm256_setzero_si256();
#else
    for (int t = 0; t < TT; t++) s[t] = _mm256_set1_epi32(-aux[t]);
#endif
    for (int c = 0; c < 4; c++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 32 + 64 * c + 32 * h));
        __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        if (type == 6) {   // the fifth bits: two 64-bit masks (low, high nibbles), this half's 32 bits of each
            lo = _mm256_or_si256(lo, vpg_q5_0_fifth8(blk + 288 + 16 * c + 4 * h));
            hi = _mm256_or_si256(hi, vpg_q5_0_fifth8(blk + 288 + 16 * c + 8 + 4 * h));
        }
        for (int t = 0; t < TT; t++) {
            int32_t four[2];
            memcpy(&four[0], x[t] + 4 * c, 4);
            memcpy(&four[1], x[t] + 16 + 4 * c, 4);
#if VPG_VNNI
            s[t] = VPG_DPBUSD256(s[t], lo, _mm256_set1_epi32(four[0]));
            s[t] = VPG_DPBUSD256(s[t], hi, _mm256_set1_epi32(four[1]));
#else
            low[t] = _mm256_add_epi16(low[t], _mm256_maddubs_epi16(lo, _mm256_set1_epi32(four[0])));
            high[t] = _mm256_add_epi16(high[t], _mm256_maddubs_epi16(hi, _mm256_set1_epi32(four[1])));
#endif
        }
    }
#if !VPG_VNNI
    for (int t = 0; t < TT; t++) {
        const __m256i sum = type == 2 ? x16_pairs_sum(_mm256_add_epi16(low[t], high[t]))   // Q4_0: eight ≤ 30,480
                                      : _mm256_add_epi32(x16_pairs_sum(low[t]), x16_pairs_sum(high[t]));
        s[t] = _mm256_sub_epi32(sum, _mm256_set1_epi32(aux[t]));
    }
#endif
}

/// TT ≤ 4 tokens' products on one group of sixteen rows (aux: their o·Σ x, `blocks` apart); out[t · ldy + r] for
/// row r of the group. The same integer sums and float steps per token whatever TT: the one-token bits.
INLINE void x16_tokens32(const int type, const uint8_t *group, int64_t blocks, const void *xq, int64_t stride,
                         const int32_t *aux, float *out, int64_t ldy, const int TT) {
    const int64_t block_bytes = 16 * vpg_block32_bytes(type);
    __m256 acc[2][4];   // [half][token]: rows 8h..8h+7
    for (int h = 0; h < 2; h++)
        for (int t = 0; t < TT; t++) acc[h][t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *blk = group + i * block_bytes;   // [16 f16 d][4 vectors of sixteen rows' dwords]…
        for (int k = 0; k < block_bytes; k += 64) _mm_prefetch((const char *)blk + X16_PREFETCH + k, _MM_HINT_T0);
        const vpg_q8_32 *x[4];
        const int8_t *q[4];
        int32_t o[4];
        for (int t = 0; t < TT; t++) {
            x[t] = (const vpg_q8_32 *)((const uint8_t *)xq + t * stride) + i;
            q[t] = x[t]->q;
            o[t] = aux[blocks * t + i];
        }
        for (int h = 0; h < 2; h++) {
            const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h)));
            __m256i s[4];
            x16_half_sums(type, blk, h, q, o, s, TT);
            for (int t = 0; t < TT; t++)
                acc[h][t] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(x[t]->d)), _mm256_cvtepi32_ps(s[t]), acc[h][t]);
        }
    }
    for (int t = 0; t < TT; t++) {
        _mm256_storeu_ps(out + t * ldy, acc[0][t]);
        _mm256_storeu_ps(out + t * ldy + 8, acc[1][t]);
    }
}

/// Rows r0..<r1 (multiples of 16) for every token, four tokens per pass over a group of sixteen rows (it stays in
/// cache for the next pass), as vpg_matmul_panels_fn.
INLINE void x16_rows_32(const int type, const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                        int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    const int64_t blocks = cols / 32;
    if (tokens <= 0 || blocks <= 0 || r0 >= r1) return;
    int32_t *aux = malloc((size_t)(tokens * blocks) * sizeof(int32_t));   // [tokens, blocks]
    if (!aux) abort();
    x16_aux(type == 2 ? 8 : 16, xq, stride, tokens, blocks, aux);
    VPG_X16_ROWS_BY_TOKENS(4, x16_tokens32, type, group, blocks, xt, stride, aux + blocks * t, out, ldy)
    free(aux);
}

VPG_TYPED_PRODUCT(VPG_FN(vpg_matmul_rows_q4_0_x16), x16_rows_32, 2)
VPG_TYPED_PRODUCT(VPG_FN(vpg_matmul_rows_q5_0_x16), x16_rows_32, 6)

#endif
