// Plain C dot kernels: the specification of the SIMD kernels and their test oracle. Each dequantizes a block
// exactly as the scalar reference (Quants/Dequantize.swift) and accumulates w*x in float.
#include "CKernels.h"
#include "quant_blocks.h"

float vpg_dot_bf16_generic(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += vpg_bf16(b + 2 * i) * x[i];
    return sum;
}

float vpg_dot_f16_generic(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += vpg_f16(b + 2 * i) * x[i];
    return sum;
}

float vpg_dot_q8_0_generic(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n; i += 32, b += 34, x += 32) {
        const float d = vpg_f16(b);
        for (int j = 0; j < 32; j++) sum += ((float)(int8_t)b[2 + j] * d) * x[j];
    }
    return sum;
}

float vpg_dot_q4_0_generic(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n; i += 32, b += 18, x += 32) {
        const float d = vpg_f16(b);
        for (int j = 0; j < 16; j++) {
            sum += (d * (float)((int)(b[2 + j] & 0xF) - 8)) * x[j];
            sum += (d * (float)((int)(b[2 + j] >> 4) - 8)) * x[j + 16];
        }
    }
    return sum;
}

float vpg_dot_q5_0_generic(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n; i += 32, b += 22, x += 32) {
        const float d = vpg_f16(b);
        uint32_t qh;
        memcpy(&qh, b + 2, 4);
        for (int j = 0; j < 16; j++) {
            const int lo = (b[6 + j] & 0xF) | (((qh >> j) & 1) << 4);
            const int hi = (b[6 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
            sum += (d * (float)(lo - 16)) * x[j];
            sum += (d * (float)(hi - 16)) * x[j + 16];
        }
    }
    return sum;
}

float vpg_dot_q4_k_generic(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n; i += 256, b += 144, x += 256) {
        const float d = vpg_f16(b), dmin = vpg_f16(b + 2);
        for (int c = 0; c < 4; c++) {
            int s1, m1, s2, m2;
            vpg_scale_min_k4(2 * c, b + 4, &s1, &m1);
            vpg_scale_min_k4(2 * c + 1, b + 4, &s2, &m2);
            const float d1 = d * (float)s1, dm1 = dmin * (float)m1, d2 = d * (float)s2, dm2 = dmin * (float)m2;
            const uint8_t *q = b + 16 + 32 * c;
            for (int l = 0; l < 32; l++) {
                sum += (d1 * (float)(q[l] & 0xF) - dm1) * x[64 * c + l];
                sum += (d2 * (float)(q[l] >> 4) - dm2) * x[64 * c + 32 + l];
            }
        }
    }
    return sum;
}

float vpg_dot_q6_k_generic(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    float sum = 0;
    for (int64_t i = 0; i < n; i += 256, b += 210, x += 256) {
        const float d = vpg_f16(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            const float *xh = x + 128 * h;
            for (int l = 0; l < 32; l++) {
                const int s = 8 * h + l / 16;
                const int q1 = (int)((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                sum += (d * (float)sc[s]) * (float)q1 * xh[l];
                sum += (d * (float)sc[s + 2]) * (float)q2 * xh[l + 32];
                sum += (d * (float)sc[s + 4]) * (float)q3 * xh[l + 64];
                sum += (d * (float)sc[s + 6]) * (float)q4 * xh[l + 96];
            }
        }
    }
    return sum;
}
