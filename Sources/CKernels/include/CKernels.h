#ifndef VPGEA_CKERNELS_H
#define VPGEA_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Number of threads an OpenMP parallel region in these kernels uses.
int vpg_omp_max_threads(void);

/// y[r] = sum_k a[r*cols + k] * x[k] for r < rows, split over OpenMP threads by rows.
/// a: [rows, cols] f32 row-major; x: [cols] f32; y: [rows] f32.
void vpg_matvec_f32(const float *a, const float *x, float *y, int64_t rows, int64_t cols);

#endif
