// Plain C integer dot kernels with 8-bit activations: the specification of the AVX2 ones.
#include <math.h>
#include "CKernels.h"
#include "quant_blocks.h"

/// The step of a block of `count` activations with |q| ≤ levels (d = max|x| / levels) into *d, and 1/d (0 for an
/// all-zero block): every plain quantizer's scale.
static float block_step(const float *x, int count, float levels, float *d) {
    float amax = 0;
    for (int i = 0; i < count; i++) amax = fmaxf(amax, fabsf(x[i]));
    *d = amax / levels;
    return *d > 0 ? 1 / *d : 0;
}

/// Blocks of 32 with |q| ≤ levels, stored plus bias.
static void quantize_32(const float *x, vpg_q8_32 *out, int64_t n, float levels, int bias) {
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        float d;
        const float id = block_step(x, 32, levels, &d);
        out[b].d = d;
        for (int i = 0; i < 32; i++) out[b].q[i] = (int8_t)(lrintf(x[i] * id) + bias);
    }
}

void vpg_quantize_q8_32_generic(const float *x, void *blocks, int64_t n) { quantize_32(x, blocks, n, 127, 0); }
void vpg_quantize_q7_32_generic(const float *x, void *blocks, int64_t n) { quantize_32(x, blocks, n, 63, 64); }

void vpg_quantize_q8_256_generic(const float *x, void *blocks, int64_t n) {
    vpg_q8_256 *out = blocks;
    for (int64_t b = 0; b < n / 256; b++, x += 256) {
        float d;
        const float id = block_step(x, 256, 127, &d);
        out[b].d = d;
        for (int i = 0; i < 256; i++) out[b].q[i] = (int8_t)lrintf(x[i] * id);
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int i = 0; i < 16; i++) s += out[b].q[16 * g + i];
            out[b].bsums[g] = (int16_t)s;
        }
    }
}

float vpg_dotq_q8_0_generic(const void *row, const void *xq, int64_t n) {
    const uint8_t *b = row;
    const vpg_q8_32 *y = xq;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++, b += 34) {
        int s = 0;
        for (int j = 0; j < 32; j++) s += (int8_t)b[2 + j] * y[i].q[j];
        sum += vpg_f16(b) * y[i].d * (float)s;
    }
    return sum;
}

float vpg_dotq_q4_0_generic(const void *row, const void *xq, int64_t n) {
    const uint8_t *b = row;
    const vpg_q8_32 *y = xq;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++, b += 18) {
        int s = 0;
        for (int j = 0; j < 16; j++) {
            s += ((b[2 + j] & 0xF) - 8) * y[i].q[j];
            s += ((b[2 + j] >> 4) - 8) * y[i].q[j + 16];
        }
        sum += vpg_f16(b) * y[i].d * (float)s;
    }
    return sum;
}

float vpg_dotq_q5_0_generic(const void *row, const void *xq, int64_t n) {
    const uint8_t *b = row;
    const vpg_q8_32 *y = xq;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++, b += 22) {
        uint32_t qh;
        memcpy(&qh, b + 2, 4);
        int s = 0;
        for (int j = 0; j < 16; j++) {
            s += (((b[6 + j] & 0xF) | (((qh >> j) & 1) << 4)) - 16) * y[i].q[j];
            s += (((b[6 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16) * y[i].q[j + 16];
        }
        sum += vpg_f16(b) * y[i].d * (float)s;
    }
    return sum;
}

float vpg_dotq_q4_k_generic(const void *row, const void *xq, int64_t n) {
    const uint8_t *b = row;
    const vpg_q8_256 *y = xq;
    float sum = 0;
    for (int64_t i = 0; i < n / 256; i++, b += 144) {
        int dots = 0, mins = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            vpg_scale_min_k4(j, b + 4, &sc, &m);
            const uint8_t *q = b + 16 + 32 * (j / 2);
            int s = 0;
            for (int l = 0; l < 32; l++) s += ((j % 2 == 0) ? (q[l] & 0xF) : (q[l] >> 4)) * y[i].q[32 * j + l];
            dots += sc * s;
            mins += m * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        }
        sum += vpg_f16(b) * y[i].d * (float)dots - vpg_f16(b + 2) * y[i].d * (float)mins;
    }
    return sum;
}

float vpg_dotq_q6_k_generic(const void *row, const void *xq, int64_t n) {
    const uint8_t *b = row;
    const vpg_q8_256 *y = xq;
    float sum = 0;
    for (int64_t i = 0; i < n / 256; i++, b += 210) {
        const int8_t *sc = (const int8_t *)(b + 192);
        int total = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            const int8_t *q8 = y[i].q + 128 * h;
            int s[8] = {0};
            for (int l = 0; l < 32; l++) {
                const int q1 = (int)((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                s[0 + l / 16] += q1 * q8[l];
                s[2 + l / 16] += q2 * q8[l + 32];
                s[4 + l / 16] += q3 * q8[l + 64];
                s[6 + l / 16] += q4 * q8[l + 96];
            }
            for (int k = 0; k < 8; k++) total += sc[8 * h + k] * s[k];
        }
        sum += vpg_f16(b + 208) * y[i].d * (float)total;
    }
    return sum;
}

void vpg_quantize_q16_32_generic(const float *x, void *blocks, int64_t n) {
    vpg_q16_32 *out = blocks;
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        float d;
        const float id = block_step(x, 32, 32767, &d);
        int32_t sum = 0;
        for (int i = 0; i < 32; i++) {
            const int32_t q = (int32_t)lrintf(x[i] * id);
            out[b].q[vpg_q16_position(i)] = (int16_t)q;
            sum += q;
        }
        out[b].d = d;
        out[b].sum = sum;
    }
}
