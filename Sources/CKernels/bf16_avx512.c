// AVX512-BF16 products of BF16 weights and activations rounded to bf16 (vpg_round_bf16), for prompts: one vdpbf16ps
// takes a column pair of sixteen rows (lane r: row r's two weights) and a token's two activations, broadcast. Rows
// stay as stored; each chunk of up to 64 rows is first packed into that column-pair order (per thread, once for every
// token), then tiles of six tokens share each of the chunk's four weight vectors: 24 accumulators, one per token and
// sixteen rows, each carried through every column of its row in order, as the twin vpg_matmul_bf16_bf16_generic
// (which rounds each product-and-add the way vdpbf16ps is specified: odd element first).
#define VPG_BUILD_AVX512 1
#include <stdlib.h>
#include "simd_avx2.h"
#include "CKernels.h"

#if defined(__x86_64__)

#if defined(VPG_EMULATED)
#define BF16 static inline
/// A token's activation pair in every lane.
BF16 __m512bh bh_pair(uint32_t pair) {
    const __m512i v = _mm512_set1_epi32((int)pair);
    __m512bh b;
    memcpy(&b, &v, 64);
    return b;
}
BF16 __m512bh bh_load(const uint32_t *p) {
    __m512bh b;
    memcpy(&b, p, 64);
    return b;
}
#define BF16_ENTRY
#else
#define BF16 __attribute__((target(VPG_ISA ",avx512bf16"), always_inline)) static inline
#define BF16_ENTRY __attribute__((target(VPG_ISA ",avx512bf16")))
BF16 __m512bh bh_pair(uint32_t pair) { return (__m512bh)_mm512_set1_epi32((int)pair); }
BF16 __m512bh bh_load(const uint32_t *p) { return (__m512bh)_mm512_loadu_si512((const void *)p); }
#endif

enum { CHUNK_ROWS = 64, TILE_TOKENS = 6 };

/// T tokens (x[t]: their activation pairs) times the packed chunk of G groups of sixteen rows ([pairs][G·16] dwords),
/// into y (token t, chunk row r at y[t·ldy + r]); `valid` rows of the last group are real.
BF16 void tile(const uint32_t *packed, const int G, const uint32_t *const *x, const int T, int64_t pairs, float *y,
               int64_t ldy, int valid) {
    __m512 acc[4][TILE_TOKENS];
    for (int g = 0; g < G; g++)
        for (int t = 0; t < T; t++) acc[g][t] = _mm512_setzero_ps();
    for (int64_t p = 0; p < pairs; p++) {
        __m512bh w[4];
        for (int g = 0; g < G; g++) w[g] = bh_load(packed + (p * G + g) * 16);
        for (int t = 0; t < T; t++) {
            const __m512bh xb = bh_pair(x[t][p]);
            for (int g = 0; g < G; g++) acc[g][t] = _mm512_dpbf16_ps(acc[g][t], w[g], xb);
        }
    }
    for (int g = 0; g < G; g++)
        for (int t = 0; t < T; t++) {
            if (g < G - 1 || valid == 16) {
                _mm512_storeu_ps(y + t * ldy + 16 * g, acc[g][t]);
            } else {   // the chunk's last rows
                float lanes[16];
                _mm512_storeu_ps(lanes, acc[g][t]);
                memcpy(y + t * ldy + 16 * g, lanes, (size_t)valid * 4);
            }
        }
}

/// Constant group and token counts, so that each tile's accumulators stay in registers.
#define TILE_T(G, T) tile(packed, G, x, T, pairs, out, ldy, valid)
#define TILE_G(G)                                                                                                   \
    switch (T) {                                                                                                   \
    case 1: TILE_T(G, 1); break;                                                                                   \
    case 2: TILE_T(G, 2); break;                                                                                   \
    case 3: TILE_T(G, 3); break;                                                                                   \
    case 4: TILE_T(G, 4); break;                                                                                   \
    case 5: TILE_T(G, 5); break;                                                                                   \
    default: TILE_T(G, 6); break;                                                                                  \
    }

/// The packed chunk, per thread: [pairs][CHUNK_ROWS] dwords at most.
static _Thread_local uint32_t *pack_buffer;
static _Thread_local int64_t pack_capacity;

BF16_ENTRY void VPG_FN(vpg_matmul_bf16_bf16)(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                             int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1,
                                             int64_t cols) {
    const int64_t pairs = cols / 2;
    if (pairs * CHUNK_ROWS > pack_capacity) {
        free(pack_buffer);
        pack_buffer = aligned_alloc(64, (size_t)(pairs * CHUNK_ROWS * 4));
        if (!pack_buffer) abort();
        pack_capacity = pairs * CHUNK_ROWS;
    }
    uint32_t *const packed = pack_buffer;
    for (int64_t c0 = r0; c0 < r1; c0 += CHUNK_ROWS) {
        const int n = r1 - c0 < CHUNK_ROWS ? (int)(r1 - c0) : CHUNK_ROWS, G = (n + 15) / 16, valid = n - 16 * (G - 1);
        for (int r = 0; r < 16 * G; r++) {   // row r's pair p to dword p·16G + r; rows past n as zeros
            const uint8_t *row = r < n ? (const uint8_t *)rows + (c0 + r) * row_bytes : NULL;
            for (int64_t p = 0; p < pairs; p++) {
                uint32_t v = 0;
                if (row) memcpy(&v, row + 4 * p, 4);
                packed[p * 16 * G + r] = v;
            }
        }
        for (int64_t t0 = 0; t0 < tokens; t0 += TILE_TOKENS) {
            const int T = tokens - t0 < TILE_TOKENS ? (int)(tokens - t0) : TILE_TOKENS;
            const uint32_t *x[TILE_TOKENS];
            for (int t = 0; t < T; t++) x[t] = (const uint32_t *)((const uint8_t *)xq + (t0 + t) * stride);
            float *out = y + t0 * ldy + (c0 - r0);
            switch (G) {
            case 1: TILE_G(1); break;
            case 2: TILE_G(2); break;
            case 3: TILE_G(3); break;
            default: TILE_G(4); break;
            }
        }
    }
}

#endif
