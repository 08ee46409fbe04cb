// The one place that probes the CPU and picks kernels.
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"
#include "quant_blocks.h"
#include "exp_poly.h"

int vpg_path_supported(int path) {
    if (path == VPG_PATH_GENERIC) return 1;
#if defined(__x86_64__)
    if (path == VPG_PATH_AVX2) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
#endif
    return 0;
}

int vpg_best_path(void) {
    const char *forced = getenv("VPGEA_KERNELS");
    if (forced && strcmp(forced, "generic") == 0) return VPG_PATH_GENERIC;
    if (forced && strcmp(forced, "avx2") == 0) return vpg_path_supported(VPG_PATH_AVX2) ? VPG_PATH_AVX2 : VPG_PATH_GENERIC;
    return vpg_path_supported(VPG_PATH_AVX2) ? VPG_PATH_AVX2 : VPG_PATH_GENERIC;
}

vpg_dot_fn vpg_dot_kernel(int ggml_type, int path) {
    const int simd = path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2);
    switch (ggml_type) {
    case 1: return simd ? vpg_dot_f16_avx2 : vpg_dot_f16_generic;
    case 2: return simd ? vpg_dot_q4_0_avx2 : vpg_dot_q4_0_generic;
    case 6: return simd ? vpg_dot_q5_0_avx2 : vpg_dot_q5_0_generic;
    case 8: return simd ? vpg_dot_q8_0_avx2 : vpg_dot_q8_0_generic;
    case 12: return simd ? vpg_dot_q4_k_avx2 : vpg_dot_q4_k_generic;
    case 14: return simd ? vpg_dot_q6_k_avx2 : vpg_dot_q6_k_generic;
    default: return NULL;
    }
}

void vpg_matvec_rows(vpg_dot_fn dot, const void *rows, int64_t row_bytes, const float *x, float *y,
                     int64_t r0, int64_t r1, int64_t cols) {
    const uint8_t *base = rows;
    for (int64_t r = r0; r < r1; r++) y[r - r0] = dot(base + r * row_bytes, x, cols);
}

vpg_dotq_fn vpg_dotq_kernel(int ggml_type, int path) {
    const int simd = path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2);
    switch (ggml_type) {
    case 2: return simd ? vpg_dotq_q4_0_avx2 : vpg_dotq_q4_0_generic;
    case 6: return simd ? vpg_dotq_q5_0_avx2 : vpg_dotq_q5_0_generic;
    case 8: return simd ? vpg_dotq_q8_0_avx2 : vpg_dotq_q8_0_generic;
    case 12: return simd ? vpg_dotq_q4_k_avx2 : vpg_dotq_q4_k_generic;
    case 14: return simd ? vpg_dotq_q6_k_avx2 : vpg_dotq_q6_k_generic;
    default: return NULL;
    }
}

vpg_quantize_fn vpg_quantize_kernel(int block, int path) {
    const int simd = path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2);
    switch (block) {
    case 32: return simd ? vpg_quantize_q8_32_avx2 : vpg_quantize_q8_32_generic;
    case 256: return simd ? vpg_quantize_q8_256_avx2 : vpg_quantize_q8_256_generic;
    default: return NULL;
    }
}

int vpg_dotq_block(int ggml_type) {
    switch (ggml_type) {
    case 2: case 6: case 8: return 32;
    case 12: case 14: return 256;
    default: return 0;
    }
}

vpg_dotq_rows_fn vpg_dotq_rows_kernel(int ggml_type, int path) {
    const int simd = path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2);
    switch (ggml_type) {
    case 2: return simd ? vpg_dotq_rows_q4_0_avx2 : vpg_dotq_rows_q4_0_generic;
    case 6: return simd ? vpg_dotq_rows_q5_0_avx2 : vpg_dotq_rows_q5_0_generic;
    case 8: return simd ? vpg_dotq_rows_q8_0_avx2 : vpg_dotq_rows_q8_0_generic;
    case 12: return simd ? vpg_dotq_rows_q4_k_avx2 : vpg_dotq_rows_q4_k_generic;
    case 14: return simd ? vpg_dotq_rows_q6_k_avx2 : vpg_dotq_rows_q6_k_generic;
    default: return NULL;
    }
}

void vpg_matmul_rows_q(vpg_dotq_rows_fn dot, const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                       int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    const uint8_t *base = rows, *x = xq;
    for (int64_t t0 = 0; t0 < tokens; t0 += VPG_DOTQ_MAX_ROWS) {
        const int count = tokens - t0 < VPG_DOTQ_MAX_ROWS ? (int)(tokens - t0) : VPG_DOTQ_MAX_ROWS;
        for (int64_t r = r0; r < r1; r++) {
            float out[VPG_DOTQ_MAX_ROWS];
            dot(base + r * row_bytes, x + t0 * stride, stride, count, out, cols);
            for (int t = 0; t < count; t++) y[(t0 + t) * ldy + r - r0] = out[t];
        }
    }
}

vpg_matmul_panels_fn vpg_matmul_panels_kernel(int ggml_type, int path) {
    const int simd = path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2);
    switch (ggml_type) {
    case 2: return simd ? vpg_matmul_panels_q4_0_avx2 : vpg_matmul_panels_q4_0_generic;
    case 6: return simd ? vpg_matmul_panels_q5_0_avx2 : vpg_matmul_panels_q5_0_generic;
    case 12: return simd ? vpg_matmul_panels_q4_k_avx2 : vpg_matmul_panels_q4_k_generic;
    case 14: return simd ? vpg_matmul_panels_q6_k_avx2 : vpg_matmul_panels_q6_k_generic;
    default: return NULL;
    }
}

vpg_exp_shifted_fn vpg_exp_shifted_kernel(int path) {
    return path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2) ? vpg_exp_shifted_avx2 : vpg_exp_shifted_generic;
}

vpg_quantize_fn vpg_quantize_q7_kernel(int path) {
    return path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2) ? vpg_quantize_q7_32_avx2 : vpg_quantize_q7_32_generic;
}

vpg_matmul_panels_fn vpg_matmul_panels_q7_kernel(int path) {
    return path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2) ? vpg_matmul_panels_q7_avx2 : vpg_matmul_panels_q7_generic;
}

vpg_attend_fn vpg_attend_kernel(int cache_type, int path) {
    const int simd = path == VPG_PATH_AVX2 && vpg_path_supported(VPG_PATH_AVX2);
    switch (cache_type) {
    case 0: return simd ? vpg_attend_f32_avx2 : vpg_attend_f32_generic;
    case 1: return simd ? vpg_attend_f16_avx2 : vpg_attend_f16_generic;
    case 8: return simd ? vpg_attend_q8_0_avx2 : vpg_attend_q8_0_generic;
    default: return NULL;
    }
}
