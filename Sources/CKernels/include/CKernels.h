#ifndef VPGEA_CKERNELS_H
#define VPGEA_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Number of threads an OpenMP parallel region in these kernels uses.
int vpg_omp_max_threads(void);

/// y[r] = sum_k a[r*cols + k] * x[k] for r < rows, split over OpenMP threads by rows.
/// a: [rows, cols] f32 row-major; x: [cols] f32; y: [rows] f32.
void vpg_matvec_f32(const float *a, const float *x, float *y, int64_t rows, int64_t cols);

/// Instruction-set paths of the dot kernels.
enum vpg_path { VPG_PATH_GENERIC = 0, VPG_PATH_AVX2 = 1 };

/// The best path this CPU supports, unless VPGEA_KERNELS=generic|avx2 asks for another (a path the CPU lacks
/// falls back to generic).
int vpg_best_path(void);

/// Whether this CPU can run `path`.
int vpg_path_supported(int path);

/// Dot product of one quantized weight row with f32 activations: sum_i w_i * x_i, where w is the row
/// dequantized exactly as the scalar reference does. row: n/blockSize blocks; x: [n] f32.
typedef float (*vpg_dot_fn)(const void *row, const float *x, int64_t n);

/// The dot kernel for a ggml type on a path, or NULL when the type has none (ggml type numbers: Q4_0 2,
/// Q8_0 8, Q5_0 6, Q4_K 12, Q6_K 14).
vpg_dot_fn vpg_dot_kernel(int ggml_type, int path);

/// y[r - r0] = dot(row r, x) for r in [r0, r1). rows: the matrix, row_bytes apart.
void vpg_matvec_rows(vpg_dot_fn dot, const void *rows, int64_t row_bytes, const float *x, float *y,
                     int64_t r0, int64_t r1, int64_t cols);

#endif
