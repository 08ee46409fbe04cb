// Q4_0 rows interleaved by sixteen (CKernels.h) on the 256-bit paths (AVX2 and AVX-VNNI, simd_path.h): one-token
// generation and small batches. The stored rows' kernel (block_pairs in dotq_avx2.c) spends ~14 instructions per row
// and block, so on these paths one-token generation waits on the instructions, not on memory; here a vector of
// four-byte columns serves eight rows (one half of a group), ~7 instructions per row and block. The weights go to
// the integer product unsigned (q) and the offset 8·Σ x of each four activations comes off per lane: each lane holds
// the stored kernel's integer, met by the same float product d·x.d in one fma, in the same accumulator (even blocks,
// odd blocks) and summed by the same tree: the stored kernel's bits. Twin: the stored kernel on the rows put back.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__) && !defined(VPG_BUILD_AVX512)
#include <stdlib.h>
#include "simd_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// Σ over each four activations of a block, times −8 (the offset term of Σ (q − 8)·x): offsets[8·blocks·t + 8i + l]
/// for lane l (activations 4l..4l+3) of block i of token t.
INLINE void q4_0_offsets(const void *xq, int64_t stride, int64_t tokens, int64_t blocks, int32_t *offsets) {
    const __m256i ones = _mm256_set1_epi8(1), one16 = _mm256_set1_epi16(1);
    for (int64_t t = 0; t < tokens; t++) {
        const vpg_q8_32 *x = (const vpg_q8_32 *)((const uint8_t *)xq + t * stride);
        for (int64_t i = 0; i < blocks; i++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)x[i].q);
            const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(ones, q), one16);   // |Σ| ≤ 508
            _mm256_storeu_si256((__m256i *)(offsets + 8 * (blocks * t + i)), _mm256_mullo_epi32(sums, _mm256_set1_epi32(-8)));
        }
    }
}

/// Lane r: Σ over four activations (broadcast) times row r's four unsigned weights, from their offset (every row's).
INLINE __m256i four_columns(__m256i w, const int8_t *four, int32_t offset) {
    int32_t x;
    memcpy(&x, four, 4);
#if VPG_VNNI
    return VPG_DPBUSD256(_mm256_set1_epi32(offset), w, _mm256_set1_epi32(x));
#else
    const __m256i pairs = _mm256_maddubs_epi16(w, _mm256_set1_epi32(x));   // ≤ 2·15·127: no saturation
    return _mm256_add_epi32(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)), _mm256_set1_epi32(offset));
#endif
}

/// Blocks per chunk: a chunk of a group (16 × 18 bytes a block) stays in L1 while its four passes (two halves of
/// the rows, two parities of the blocks) and every token read it; an even count keeps the blocks' parities.
#define X16_CHUNK 16

/// One token, eight rows (half `h` of a group), the blocks of parity p in i0..<i1: acc[l] lane r is lane l of the
/// stored kernel's accumulator of those blocks for row r, carried from chunk to chunk.
INLINE void q4_0_half_pass(const uint8_t *group, int64_t i0, int64_t i1, int h, int p, const vpg_q8_32 *x,
                           const int32_t *offsets, __m256 *acc_store) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[8];
    for (int l = 0; l < 8; l++) acc[l] = _mm256_loadu_ps((const float *)(acc_store + l));
    for (int64_t i = i0 + p; i < i1; i += 2) {
        const uint8_t *blk = group + i * 16 * 18;   // [16 f16 d][4 vectors of sixteen rows' dwords]
        // The next chunk, a quarter of this block pair's bytes per pass: every line of it over the four passes (the
        // passes read with holes, where the hardware's prefetchers do not run ahead).
        const char *ahead = (const char *)(blk - p * 16 * 18) + X16_CHUNK * 16 * 18 + (2 * h + p) * 144;
        for (int k = 0; k < 144; k += 64) _mm_prefetch(ahead + k, _MM_HINT_T0);
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h)));
        const __m256 scale = _mm256_mul_ps(d, _mm256_set1_ps(x[i].d));
        const int32_t *o = offsets + 8 * i;
        for (int c = 0; c < 4; c++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 32 + 64 * c + 32 * h));
            const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            acc[c] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(four_columns(lo, x[i].q + 4 * c, o[c])), acc[c]);
            acc[4 + c] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(four_columns(hi, x[i].q + 16 + 4 * c, o[4 + c])),
                                         acc[4 + c]);
        }
    }
    for (int l = 0; l < 8; l++) _mm256_storeu_ps((float *)(acc_store + l), acc[l]);
}

/// vpg_hsum of each lane's eight accumulators, in its order.
INLINE __m256 lanes_hsum(const __m256 *acc) {
    const __m256 s0 = _mm256_add_ps(acc[0], acc[4]), s1 = _mm256_add_ps(acc[1], acc[5]);
    const __m256 s2 = _mm256_add_ps(acc[2], acc[6]), s3 = _mm256_add_ps(acc[3], acc[7]);
    return _mm256_add_ps(_mm256_add_ps(s0, s2), _mm256_add_ps(s1, s3));
}

/// Rows r0..<r1 (multiples of 16) for every token, a group of sixteen rows at a time, chunk by chunk, as
/// vpg_matmul_panels_fn.
AVX2 void VPG_FN(vpg_matmul_rows_q4_0_x16)(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                           int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    const int64_t blocks = cols / 32;
    int32_t *offsets = malloc((size_t)(tokens * blocks * 8) * sizeof(int32_t));   // [tokens, blocks, 8]
    __m256 *acc = aligned_alloc(32, (size_t)tokens * 32 * sizeof(__m256));       // [tokens, half, parity, 8]
    if (!offsets || !acc) abort();
    q4_0_offsets(xq, stride, tokens, blocks, offsets);
    for (int64_t g = r0; g < r1; g += 16) {
        const uint8_t *group = (const uint8_t *)rows + g * row_bytes;
        memset(acc, 0, (size_t)tokens * 32 * sizeof(__m256));
        for (int64_t i0 = 0; i0 < blocks; i0 += X16_CHUNK) {
            const int64_t i1 = blocks - i0 < X16_CHUNK ? blocks : i0 + X16_CHUNK;
            for (int64_t t = 0; t < tokens; t++) {
                const vpg_q8_32 *x = (const vpg_q8_32 *)((const uint8_t *)xq + t * stride);
                for (int h = 0; h < 2; h++)
                    for (int p = 0; p < 2; p++)
                        q4_0_half_pass(group, i0, i1, h, p, x, offsets + 8 * blocks * t, acc + 32 * t + 16 * h + 8 * p);
            }
        }
        for (int64_t t = 0; t < tokens; t++)
            for (int h = 0; h < 2; h++) {
                const __m256 *even = acc + 32 * t + 16 * h, *odd = even + 8;
                __m256 sum[8];
                for (int l = 0; l < 8; l++) sum[l] = _mm256_add_ps(even[l], odd[l]);
                _mm256_storeu_ps(y + t * ldy + (g - r0) + 8 * h, lanes_hsum(sum));
            }
    }
    free(acc);
    free(offsets);
}

#endif
