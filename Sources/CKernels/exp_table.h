// e^x in single precision by a 32-entry table of 2^(i/32) and a cubic, in double: x·32/ln2 = k + r (k rounded to
// nearest by adding 1.5·2^52, |r| ≤ 1/2), e^x = 2^(k/32) · 2^(r/32), the first factor from the table with k/32's
// integer part added to its exponent bits, the second a cubic in r; one rounding to float at the end. The method,
// table and coefficients of the C library's expf since glibc 2.27 (Szabolcs Nagy's, in Arm's optimized-routines):
// on glibc it gives libm's bits for every float, so the SwiGLU kernels (swiglu_*.c) that use it left the models'
// numbers as they were when they replaced per-element expf calls (checked over all 2^32 inputs: Benchmarks/README.md).
// Error ≤ 0.502 ulp. One fused multiply-add, in the reduction r = x·32/ln2 − k, as glibc's build for CPUs with FMA
// has it (with a separate multiply, 2 of the 2^32 floats come out one ulp from libm's); the rest is written without,
// so that every path and the SIMDe emulation round alike.
#ifndef VPGEA_EXP_TABLE_H
#define VPGEA_EXP_TABLE_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

/// 2^(i/32) rounded to double, minus i << 47 (the bits that adding k << 47 for k ≡ i mod 32 puts back).
static const uint64_t vpg_exp_table[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51, 0x3fef72b83c7d517b,
    0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1, 0x3fef06fe0a31b715, 0x3feef1a7373aa9cb,
    0x3feedea64c123422, 0x3feece086061892d, 0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429,
    0x3feea47eb03a5585, 0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d, 0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069, 0x3fef5818dcfba487, 0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};
#define VPG_EXP_SCALE (0x1.71547652b82fep+0 * 32)   // 32 / ln 2
#define VPG_EXP_ROUND 0x1.8p+52                     // adding it rounds to an integer, left in the low bits
#define VPG_EXP_P3 (0x1.c6af84b912394p-5 / 32 / 32 / 32)   // 2^(r/32) ≈ 1 + P1·r + P2·r² + P3·r³
#define VPG_EXP_P2 (0x1.ebfce50fac4f3p-3 / 32 / 32)
#define VPG_EXP_P1 (0x1.62e42ff0c52d6p-1 / 32)
/// |x| ≥ 88, infinities and NaNs (their float bits without the sign, from here up): the lanes taken one by one.
#define VPG_EXP_LARGE 0x42b00000u

/// e^x (any float: NaN gives NaN, beyond the float range ∞ or +0).
static inline float vpg_exp_table_f32(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    if ((bits & 0x7fffffffu) >= VPG_EXP_LARGE) {
        if (x != x) return x + x;
        if (x > 0x1.62e42ep6f) return INFINITY;   // above ln of the largest float (and +∞)
        if (x < -0x1.9fe368p6f) return 0.0f;      // below ln 2^-150: rounds to 0 (and −∞)
    }
    const double z = VPG_EXP_SCALE * (double)x, shifted = z + VPG_EXP_ROUND;
    uint64_t k;
    memcpy(&k, &shifted, 8);
    const double r = fma(VPG_EXP_SCALE, (double)x, -(shifted - VPG_EXP_ROUND));
    const uint64_t sbits = vpg_exp_table[k % 32] + (k << 47);
    double s;
    memcpy(&s, &sbits, 8);
    const double y = (VPG_EXP_P3 * r + VPG_EXP_P2) * (r * r) + (VPG_EXP_P1 * r + 1.0);
    return (float)(y * s);
}

#endif
