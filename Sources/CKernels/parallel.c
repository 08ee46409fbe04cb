#include "CKernels.h"

// Declared here rather than through <omp.h>: Swift's clang does not ship that header, and this is the
// only OpenMP call the kernels need.
int omp_get_max_threads(void);

int vpg_omp_max_threads(void) { return omp_get_max_threads(); }

void vpg_matvec_f32(const float *a, const float *x, float *y, int64_t rows, int64_t cols) {
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const float *row = a + r * cols;
        float sum = 0.0f;
        for (int64_t k = 0; k < cols; k++) sum += row[k] * x[k];
        y[r] = sum;
    }
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void vpg_keep_large_allocations(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}
