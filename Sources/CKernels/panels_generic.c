// Plain C prompt products on the offset 32-element formats (Q4_0: w = q − 8, Q5_0: w = q − 16), the specification of
// panels_avx2.c: per weight row and token, block by block, the integer sum Σ q·x − o·Σ x, then one fma with the
// product of the two scales.
#include <math.h>
#include "CKernels.h"
#include "quant_blocks.h"

/// The 32 unsigned weights q (element order) of one block.
typedef void (*unpack_fn)(const uint8_t *b, uint8_t *q);

static void q4_0_q(const uint8_t *b, uint8_t *q) {
    for (int j = 0; j < 16; j++) {
        q[j] = b[2 + j] & 0xF;
        q[j + 16] = b[2 + j] >> 4;
    }
}

static void q5_0_q(const uint8_t *b, uint8_t *q) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    for (int j = 0; j < 16; j++) {
        q[j] = (b[6 + j] & 0xF) | (((qh >> j) & 1) << 4);
        q[j + 16] = (b[6 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    }
}

static void panels(unpack_fn unpack, int offset, int64_t block_bytes, const void *rows, int64_t row_bytes,
                   const void *xq, int64_t stride, int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1,
                   int64_t cols) {
    for (int64_t t0 = 0; t0 < tokens; t0 += VPG_DOTQ_MAX_ROWS) {
        const int T = tokens - t0 < VPG_DOTQ_MAX_ROWS ? (int)(tokens - t0) : VPG_DOTQ_MAX_ROWS;
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *b = (const uint8_t *)rows + r * row_bytes;
            float acc[VPG_DOTQ_MAX_ROWS] = {0};
            for (int64_t i = 0; i < cols / 32; i++, b += block_bytes) {
                uint8_t q[32];
                unpack(b, q);
                const float d = vpg_f16(b);
                for (int t = 0; t < T; t++) {
                    const vpg_q8_32 *x = (const vpg_q8_32 *)((const uint8_t *)xq + (t0 + t) * stride) + i;
                    int s = 0, sx = 0;
                    for (int j = 0; j < 32; j++) {
                        s += q[j] * x->q[j];
                        sx += x->q[j];
                    }
                    acc[t] = fmaf(d * x->d, (float)(s - offset * sx), acc[t]);
                }
            }
            for (int t = 0; t < T; t++) y[(t0 + t) * ldy + r - r0] = acc[t];
        }
    }
}

void vpg_matmul_panels_q4_0_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens,
                                    float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    panels(q4_0_q, 8, 18, rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);
}

void vpg_matmul_panels_q5_0_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens,
                                    float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    panels(q5_0_q, 16, 22, rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);
}
