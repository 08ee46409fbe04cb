// Plain twin of softmax_avx2.c: the same operations one lane at a time, eight Double partial sums as the vectors' lanes.
#include <math.h>
#include <string.h>
#include "CKernels.h"
#include "exp_poly.h"

static float exp_poly(float x) {
    x = fmaxf(x, VPG_EXP_MIN);
    const float k = nearbyintf(x * VPG_EXP_LOG2E);
    const float r = fmaf(-k, VPG_EXP_LN2_LO, fmaf(-k, VPG_EXP_LN2_HI, x));
    float p = VPG_EXP_C7;
    p = fmaf(p, r, VPG_EXP_C6);
    p = fmaf(p, r, VPG_EXP_C5);
    p = fmaf(p, r, VPG_EXP_C4);
    p = fmaf(p, r, VPG_EXP_C3);
    p = fmaf(p, r, VPG_EXP_C2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int32_t bits;
    memcpy(&bits, &p, 4);
    bits += (int32_t)k << 23;
    memcpy(&p, &bits, 4);
    return p;
}

double vpg_exp_shifted_generic(float *x, int64_t n, float *max_out) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    double lanes[8] = {0}, tail = 0;
    const int64_t body = n / 8 * 8;
    for (int64_t i = 0; i < body; i++) lanes[i % 8] += x[i] = exp_poly(x[i] - m);
    for (int64_t i = body; i < n; i++) tail += x[i] = exp_poly(x[i] - m);
    *max_out = m;
    return (((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]))) + tail;
}
