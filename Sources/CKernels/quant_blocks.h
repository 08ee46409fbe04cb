// Block-format helpers shared by the generic and SIMD dot kernels (layouts: Quants/QuantFormat.swift).
#ifndef VPGEA_QUANT_BLOCKS_H
#define VPGEA_QUANT_BLOCKS_H

#include <stdint.h>
#include <string.h>

/// The f16 at p, as f32 (exact).
static inline float vpg_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    _Float16 f;
    memcpy(&f, &h, 2);
    return (float)f;
}

/// The bf16 at p, as f32 (exact: a bf16 is the high half of an f32).
static inline float vpg_bf16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    const uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// Bytes of one block of a 32-element type (Q4_0 2, Q5_0 6, Q8_0 8), as stored and per row of an interleaved group.
static inline int vpg_block32_bytes(int type) { return type == 2 ? 18 : type == 6 ? 22 : 34; }

/// Where activation j of a block sits in vpg_q16_32.q: each four 4c…4c+3 in the order 4c, 4c+2, 4c+1, 4c+3.
static inline int vpg_q16_position(int j) { return (j & ~3) | ((j & 1) << 1) | ((j >> 1) & 1); }

/// Scale and min of sub-block j (0..7) from the 12 packed scale bytes of Q4_K / Q5_K.
static inline void vpg_scale_min_k4(int j, const uint8_t *q, int *d, int *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

float vpg_dot_f16_generic(const void *row, const float *x, int64_t n);
float vpg_dot_q8_0_generic(const void *row, const float *x, int64_t n);
float vpg_dot_q4_0_generic(const void *row, const float *x, int64_t n);
float vpg_dot_q5_0_generic(const void *row, const float *x, int64_t n);
float vpg_dot_q4_k_generic(const void *row, const float *x, int64_t n);
float vpg_dot_q6_k_generic(const void *row, const float *x, int64_t n);
float vpg_dot_f16_avx2(const void *row, const float *x, int64_t n);
float vpg_dot_q8_0_avx2(const void *row, const float *x, int64_t n);
float vpg_dot_q4_0_avx2(const void *row, const float *x, int64_t n);
float vpg_dot_q5_0_avx2(const void *row, const float *x, int64_t n);
float vpg_dot_q4_k_avx2(const void *row, const float *x, int64_t n);
float vpg_dot_q6_k_avx2(const void *row, const float *x, int64_t n);


void vpg_quantize_q8_32_generic(const float *x, void *out, int64_t n);
void vpg_quantize_q8_256_generic(const float *x, void *out, int64_t n);
void vpg_quantize_q8_32_avx2(const float *x, void *out, int64_t n);
void vpg_quantize_q8_256_avx2(const float *x, void *out, int64_t n);
float vpg_dotq_q8_0_generic(const void *row, const void *xq, int64_t n);
float vpg_dotq_q4_0_generic(const void *row, const void *xq, int64_t n);
float vpg_dotq_q5_0_generic(const void *row, const void *xq, int64_t n);
float vpg_dotq_q4_k_generic(const void *row, const void *xq, int64_t n);
float vpg_dotq_q6_k_generic(const void *row, const void *xq, int64_t n);
float vpg_dotq_q8_0_avx2(const void *row, const void *xq, int64_t n);
float vpg_dotq_q4_0_avx2(const void *row, const void *xq, int64_t n);
float vpg_dotq_q5_0_avx2(const void *row, const void *xq, int64_t n);
float vpg_dotq_q4_k_avx2(const void *row, const void *xq, int64_t n);
float vpg_dotq_q6_k_avx2(const void *row, const void *xq, int64_t n);

#define VPG_DOTQ_ROWS(NAME) void NAME(const void *row, const void *xq, int64_t stride, int rows, float *out, int64_t n);
VPG_DOTQ_ROWS(vpg_dotq_rows_q8_0_generic)
VPG_DOTQ_ROWS(vpg_dotq_rows_q4_0_generic)
VPG_DOTQ_ROWS(vpg_dotq_rows_q5_0_generic)
VPG_DOTQ_ROWS(vpg_dotq_rows_q4_k_generic)
VPG_DOTQ_ROWS(vpg_dotq_rows_q6_k_generic)
VPG_DOTQ_ROWS(vpg_dotq_rows_q8_0_avx2)
VPG_DOTQ_ROWS(vpg_dotq_rows_q4_0_avx2)
VPG_DOTQ_ROWS(vpg_dotq_rows_q5_0_avx2)
VPG_DOTQ_ROWS(vpg_dotq_rows_q4_k_avx2)
VPG_DOTQ_ROWS(vpg_dotq_rows_q6_k_avx2)
#undef VPG_DOTQ_ROWS

void vpg_quantize_q7_32_generic(const float *x, void *blocks, int64_t n);
void vpg_quantize_q7_32_avx2(const float *x, void *blocks, int64_t n);

#define VPG_PANELS(NAME) void NAME(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, \
                                   float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols);
VPG_PANELS(vpg_matmul_panels_q4_0_generic)
VPG_PANELS(vpg_matmul_panels_q5_0_generic)
VPG_PANELS(vpg_matmul_panels_q4_0_avx2)
VPG_PANELS(vpg_matmul_panels_q5_0_avx2)
VPG_PANELS(vpg_matmul_panels_q4_k_generic)
VPG_PANELS(vpg_matmul_panels_q6_k_generic)
VPG_PANELS(vpg_matmul_panels_q4_k_avx2)
VPG_PANELS(vpg_matmul_panels_q6_k_avx2)
VPG_PANELS(vpg_matmul_panels_q7_generic)
VPG_PANELS(vpg_matmul_panels_q7_avx2)
#undef VPG_PANELS

/// The longest head the plain attention loops take (their row buffer is on the stack).
#define VPG_ATTEND_MAX_HEAD_DIM 512
/// Softmax of `rows` rows of `length` scores each, in place.
void vpg_softmax_rows(float *scores, int rows, int64_t length);
/// The plain attention loops; `expand` widens one cache row to f32 (NULL: the rows are f32).
void vpg_attend_rows(vpg_dequant_fn expand, const float *q, const void *k0, const void *v0, int64_t row_bytes,
                     int64_t length, int group, int head_dim, float scale, float *scores, float *out);
#define VPG_ATTEND(NAME) void NAME(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length, \
                                   int group, int head_dim, float scale, float *scores, float *out);
VPG_ATTEND(vpg_attend_f32_generic)
VPG_ATTEND(vpg_attend_f16_generic)
VPG_ATTEND(vpg_attend_q8_0_generic)
VPG_ATTEND(vpg_attend_f32_avx2)
VPG_ATTEND(vpg_attend_f16_avx2)
VPG_ATTEND(vpg_attend_q8_0_avx2)
#undef VPG_ATTEND

#endif
