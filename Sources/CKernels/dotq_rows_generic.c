// Plain C several-row integer dot kernels: the one-row kernels of dotq_generic.c, row by row (the specification of
// dotq_avx2.c).
#include "CKernels.h"
#include "quant_blocks.h"

#define ROWS(NAME, ONE)                                                                                    \
    void NAME(const void *row, const void *xq, int64_t stride, int rows, float *out, int64_t n) {          \
        for (int t = 0; t < rows; t++) out[t] = ONE(row, (const uint8_t *)xq + t * stride, n);             \
    }
ROWS(vpg_dotq_rows_q8_0_generic, vpg_dotq_q8_0_generic)
ROWS(vpg_dotq_rows_q4_0_generic, vpg_dotq_q4_0_generic)
ROWS(vpg_dotq_rows_q5_0_generic, vpg_dotq_q5_0_generic)
ROWS(vpg_dotq_rows_q4_k_generic, vpg_dotq_q4_k_generic)
ROWS(vpg_dotq_rows_q6_k_generic, vpg_dotq_q6_k_generic)
