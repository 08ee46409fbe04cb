#ifndef VPGEA_CKERNELS_EMULATED_H
#define VPGEA_CKERNELS_EMULATED_H
#include "CKernels.h"

/// The kernel table of an x86 path (VPG_PATH_AVX2, _AVXVNNI or _AVX512) built from the same sources as the native
/// one, through SIMDe's plain-C emulation of every intrinsic, so it runs on any x86-64 CPU (NULL elsewhere, and for
/// the generic path). Its dequantizers are the generic ones: the native ones are the plain loops compiled for the
/// path, with no intrinsics to emulate.
const vpg_kernel_table *vpg_emulated_kernels(int path);

/// Q8_0's plain panel kernel: the specification of the VNNI paths' (no table holds it: the plain path's Q8_0 prompts
/// take sgemm).
void vpg_matmul_panels_q8_0_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                    int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols);
/// AVX512-BF16's product (vpg_bf16_products_kernel) through SIMDe.
void vpg_matmul_bf16_bf16_avx512_emu(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                     int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols);
#endif
