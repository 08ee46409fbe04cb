// exp(x) for x ≤ 0 as both softmax paths compute it, so that they give the same bits: x = k·ln2 + r with
// k = round(x·log2 e) (ties to even), r by two fmas (ln 2 split in a high and a low part), e^r by its degree-7
// Taylor polynomial (Horner, fmas; |r| ≤ ln2/2, truncation ≤ 6e-9 relative), times 2^k through the exponent
// bits. x below −87 is taken as −87 (e^−87 ≈ 1.6e-38, the smallest normal float's order: no denormals, and −inf
// gives ~0 rather than NaN).
#ifndef VPG_EXP_POLY_H
#define VPG_EXP_POLY_H

#define VPG_EXP_MIN (-87.0f)
#define VPG_EXP_LOG2E 1.44269504088896341f
#define VPG_EXP_LN2_HI 0.693145751953125f   // ln 2 to 16 bits: k·LN2_HI is exact for |k| < 2^8
#define VPG_EXP_LN2_LO 1.42860682030941723e-6f
#define VPG_EXP_C7 (1.0f / 5040)
#define VPG_EXP_C6 (1.0f / 720)
#define VPG_EXP_C5 (1.0f / 120)
#define VPG_EXP_C4 (1.0f / 24)
#define VPG_EXP_C3 (1.0f / 6)
#define VPG_EXP_C2 0.5f

#include <stdint.h>
double vpg_exp_shifted_generic(float *x, int64_t n, float *max_out);
double vpg_exp_shifted_avx2(float *x, int64_t n, float *max_out);

#endif
