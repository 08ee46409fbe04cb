// BF16 weights times activations rounded to bf16: the plain twin of AVX512-BF16's vdpbf16ps kernel
// (bf16_avx512.c) and the rounding of the activations, which every path shares.
#include <string.h>
#include "CKernels.h"
#include "quant_blocks.h"

#pragma clang fp contract(off)

void vpg_round_bf16(const float *x, uint16_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, 4);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) out[i] = (uint16_t)((u >> 16) | 0x40);   // NaN stays a (quiet) NaN
        else out[i] = (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1)) >> 16);              // nearest, ties to even
    }
}

void vpg_matmul_bf16_bf16_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                  int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    for (int64_t t = 0; t < tokens; t++) {
        const uint8_t *x = (const uint8_t *)xq + t * stride;
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *w = (const uint8_t *)rows + r * row_bytes;
            float sum = 0;
            for (int64_t k = 0; k + 1 < cols; k += 2) {   // the odd element of each pair first, as vdpbf16ps
                sum += vpg_bf16(w + 2 * k + 2) * vpg_bf16(x + 2 * k + 2);
                sum += vpg_bf16(w + 2 * k) * vpg_bf16(x + 2 * k);
            }
            y[t * ldy + (r - r0)] = sum;
        }
    }
}
