// The kernel table's rows, written once for every path: VPG_DECLARE_PATH(S) declares a path's entry points (names
// ending _S), VPG_TABLE(S, D) is its table with the dequantizers of path D. dispatch.c instantiates the native
// paths; the test target CKernelsEmulated the same sources built through SIMDe (S = avx2_emu, …).
#ifndef VPGEA_KERNEL_TABLE_H
#define VPGEA_KERNEL_TABLE_H
#include "CKernels.h"

#define VPG_DECLARE_PATH(S)                                                                                        \
    float vpg_dot_f16_##S(const void *, const float *, int64_t);                                                   \
    float vpg_dot_bf16_##S(const void *, const float *, int64_t);                                                  \
    float vpg_dot_q8_0_##S(const void *, const float *, int64_t);                                                  \
    float vpg_dot_q4_0_##S(const void *, const float *, int64_t);                                                  \
    float vpg_dot_q5_0_##S(const void *, const float *, int64_t);                                                  \
    float vpg_dot_q4_k_##S(const void *, const float *, int64_t);                                                  \
    float vpg_dot_q6_k_##S(const void *, const float *, int64_t);                                                  \
    void vpg_quantize_q8_32_##S(const float *, void *, int64_t);                                                   \
    void vpg_quantize_q8_256_##S(const float *, void *, int64_t);                                                  \
    void vpg_quantize_q7_32_##S(const float *, void *, int64_t);                                                   \
    float vpg_dotq_q8_0_##S(const void *, const void *, int64_t);                                                  \
    float vpg_dotq_q4_0_##S(const void *, const void *, int64_t);                                                  \
    float vpg_dotq_q5_0_##S(const void *, const void *, int64_t);                                                  \
    float vpg_dotq_q4_k_##S(const void *, const void *, int64_t);                                                  \
    float vpg_dotq_q6_k_##S(const void *, const void *, int64_t);                                                  \
    VPG_DECLARE_ROWS(vpg_dotq_rows_q8_0_##S)                                                                       \
    VPG_DECLARE_ROWS(vpg_dotq_rows_q4_0_##S)                                                                       \
    VPG_DECLARE_ROWS(vpg_dotq_rows_q5_0_##S)                                                                       \
    VPG_DECLARE_ROWS(vpg_dotq_rows_q4_k_##S)                                                                       \
    VPG_DECLARE_ROWS(vpg_dotq_rows_q6_k_##S)                                                                       \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q4_0_##S)                                                                 \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q5_0_##S)                                                                 \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q8_0_##S)                                                                 \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q4_k_##S)                                                                 \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q6_k_##S)                                                                 \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q7_##S)                                                                   \
    double vpg_exp_shifted_##S(float *, int64_t, float *);                                                         \
    void vpg_swiglu_##S(const float *, const float *, float *, int64_t);                                           \
    void vpg_swiglu_backward_##S(const float *, const float *, const float *, float *, float *, int64_t);           \
    VPG_DECLARE_ATTEND(vpg_attend_f32_##S)                                                                         \
    VPG_DECLARE_ATTEND(vpg_attend_f16_##S)                                                                         \
    VPG_DECLARE_ATTEND(vpg_attend_q8_0_##S)                                                                        \
    VPG_DECLARE_PANELS(vpg_matmul_rows_q4_0_x16_##S)                                                               \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q4_0_x16_##S)                                                             \
    VPG_DECLARE_PANELS(vpg_matmul_rows_q5_0_x16_##S)                                                               \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q5_0_x16_##S)                                                             \
    VPG_DECLARE_PANELS(vpg_matmul_rows_q8_0_x16_##S)                                                               \
    void vpg_dequant_x16_groups_##S(int, const void *, int64_t, int64_t, int64_t, float *, int64_t);               \
    VPG_DECLARE_PANELS(vpg_matmul_q8_0_x16_q16_##S)                                                                \
    void vpg_quantize_q16_32_##S(const float *, void *, int64_t);                                                  \
    VPG_DECLARE_PANELS(vpg_matmul_rows_q4_k_x16_##S)                                                               \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q4_k_x16_##S)                                                             \
    VPG_DECLARE_PANELS(vpg_matmul_rows_q6_k_x16_##S)                                                               \
    VPG_DECLARE_PANELS(vpg_matmul_panels_q6_k_x16_##S)

/// Interleaved 32-element rows dequantized one by one, read in place (dequant.c): every path's fallback.
void vpg_dequant_x16_rows_generic(int type, const void *packed, int64_t row_bytes, int64_t r0, int64_t r1, float *out,
                                  int64_t n);

#define VPG_DECLARE_DEQUANT(S)                                                                                     \
    void vpg_dequant_f16_##S(const void *, float *, int64_t);                                                      \
    void vpg_dequant_bf16_##S(const void *, float *, int64_t);                                                     \
    void vpg_dequant_q8_0_##S(const void *, float *, int64_t);                                                     \
    void vpg_dequant_q4_0_##S(const void *, float *, int64_t);                                                     \
    void vpg_dequant_q5_0_##S(const void *, float *, int64_t);                                                     \
    void vpg_dequant_q4_k_##S(const void *, float *, int64_t);                                                     \
    void vpg_dequant_q6_k_##S(const void *, float *, int64_t);

#define VPG_DECLARE_ROWS(NAME) void NAME(const void *, const void *, int64_t, int, float *, int64_t);
#define VPG_DECLARE_PANELS(NAME) \
    void NAME(const void *, int64_t, const void *, int64_t, int64_t, float *, int64_t, int64_t, int64_t, int64_t);
#define VPG_DECLARE_ATTEND(NAME) \
    void NAME(const float *, const void *, const void *, int64_t, int64_t, int, int, float, float *, float *);

/// A type's row: dot, dequantizer, activation block, integer dot, several-row integer dot, panels.
#define VPG_ROW(S, D, T, BLOCK, QUANTIZE, PANELS)                                                                 \
    {vpg_dot_##T##_##S, vpg_dequant_##T##_##D, BLOCK, QUANTIZE, vpg_dotq_##T##_##S, vpg_dotq_rows_##T##_##S, PANELS}

/// Q8_PANELS: Q8_0's panel kernel, on the VNNI paths only (AVX2 has no saturation-free unsigned × signed product of
/// 8-bit weights; the plain path's twin is the specification, not a path: its prompts take sgemm). X16: the path
/// whose products on interleaved rows the table takes (AVX-512's own; elsewhere the path's stored-row kernels on
/// groups of rows put back). ROWS_X16: the path whose Q4_0, Q5_0, Q4_K and Q6_K row products on interleaved rows the
/// table takes (the X16 path's, or the 256-bit paths' own: x16_rows_avx2.c, x16_krows_avx2.c). Q16_PRODUCT, Q16_QUANTIZE: Q8_0 interleaved times
/// 16-bit activations (AVX-512's own and the plain twins; NULL on the paths that keep Q8_0 rows as stored).
#define VPG_TABLE(PATH, S, D, Q8_PANELS, X16, ROWS_X16, Q16_PRODUCT, Q16_QUANTIZE)                                  \
    {                                                                                                              \
        .path = PATH,                                                                                              \
        .type = {                                                                                                  \
            [1] = {vpg_dot_f16_##S, vpg_dequant_f16_##D, 0, NULL, NULL, NULL, NULL},                               \
            [30] = {vpg_dot_bf16_##S, vpg_dequant_bf16_##D, 0, NULL, NULL, NULL, NULL},                            \
            [2] = VPG_ROW(S, D, q4_0, 32, vpg_quantize_q8_32_##S, vpg_matmul_panels_q4_0_##S),                    \
            [6] = VPG_ROW(S, D, q5_0, 32, vpg_quantize_q8_32_##S, vpg_matmul_panels_q5_0_##S),                    \
            [8] = VPG_ROW(S, D, q8_0, 32, vpg_quantize_q8_32_##S, Q8_PANELS),                                     \
            [12] = VPG_ROW(S, D, q4_k, 256, vpg_quantize_q8_256_##S, vpg_matmul_panels_q4_k_##S),                 \
            [14] = VPG_ROW(S, D, q6_k, 256, vpg_quantize_q8_256_##S, vpg_matmul_panels_q6_k_##S),                 \
        },                                                                                                         \
        .quantize_q7 = vpg_quantize_q7_32_##S,                                                                     \
        .panels_q7 = vpg_matmul_panels_q7_##S,                                                                     \
        .exp_shifted = vpg_exp_shifted_##S,                                                                        \
        .swiglu = vpg_swiglu_##S,                                                                                  \
        .swiglu_backward = vpg_swiglu_backward_##S,                                                                \
        .attend = {vpg_attend_f32_##S, vpg_attend_f16_##S, vpg_attend_q8_0_##S},                                   \
        .rows_q4_0_x16 = vpg_matmul_rows_q4_0_x16_##ROWS_X16,                                                       \
        .panels_q4_0_x16 = vpg_matmul_panels_q4_0_x16_##X16,                                                       \
        .rows_q5_0_x16 = vpg_matmul_rows_q5_0_x16_##ROWS_X16,                                                       \
        .panels_q5_0_x16 = vpg_matmul_panels_q5_0_x16_##X16,                                                       \
        .rows_q8_0_x16 = vpg_matmul_rows_q8_0_x16_##X16,                                                           \
        .dequant_x16 = vpg_dequant_x16_groups_##X16,                                                               \
        .q8_0_x16_q16 = Q16_PRODUCT,                                                                               \
        .quantize_q16 = Q16_QUANTIZE,                                                                              \
        .rows_q4_k_x16 = vpg_matmul_rows_q4_k_x16_##ROWS_X16,                                                       \
        .panels_q4_k_x16 = vpg_matmul_panels_q4_k_x16_##X16,                                                       \
        .rows_q6_k_x16 = vpg_matmul_rows_q6_k_x16_##ROWS_X16,                                                       \
        .panels_q6_k_x16 = vpg_matmul_panels_q6_k_x16_##X16,                                                       \
    }

#endif
