// Dequantization of whole rows to f32, for the matrix-product panels (prompt processing, batched generation,
// training). The arithmetic is the scalar reference's (Quants/Dequantize.swift, bit-identical to gguf-py),
// operation for operation, with contraction off: each kernel is one always-inline body compiled once per path: plain,
// and for each x86 path with its instructions enabled (the compiler vectorises the loops); results are identical
// on every path.
#include <string.h>
#include "CKernels.h"
#include "quant_blocks.h"
#include "kernel_table.h"

#pragma clang fp contract(off)

#define BODY static inline __attribute__((always_inline))

BODY void row_f16(const uint8_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        _Float16 h;
        memcpy(&h, x + 2 * i, 2);
        y[i] = (float)h;
    }
}

BODY void row_bf16(const uint8_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, x + 2 * i, 2);
        const uint32_t bits = (uint32_t)h << 16;
        memcpy(y + i, &bits, 4);
    }
}

BODY void row_q8_0(const uint8_t *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, x += 34, y += 32) {
        const float d = vpg_f16(x);
        const int8_t *q = (const int8_t *)(x + 2);
        for (int j = 0; j < 32; j++) y[j] = (float)q[j] * d;
    }
}

BODY void row_q4_0(const uint8_t *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, x += 18, y += 32) {
        const float d = vpg_f16(x);
        for (int j = 0; j < 16; j++) {
            const uint8_t q = x[2 + j];
            y[j] = d * (float)((int8_t)(q & 0xF) - 8);
            y[j + 16] = d * (float)((int8_t)(q >> 4) - 8);
        }
    }
}

BODY void row_q5_0(const uint8_t *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, x += 22, y += 32) {
        const float d = vpg_f16(x);
        uint32_t qh;
        memcpy(&qh, x + 2, 4);
        for (int j = 0; j < 16; j++) {
            const uint8_t q = x[6 + j];
            const uint8_t h0 = (uint8_t)(((qh >> j) & 1) << 4), h1 = (uint8_t)(((qh >> (j + 16)) & 1) << 4);
            y[j] = d * (float)((int8_t)((q & 0xF) | h0) - 16);
            y[j + 16] = d * (float)((int8_t)((q >> 4) | h1) - 16);
        }
    }
}

BODY void row_q4_k(const uint8_t *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, x += 144, y += 256) {
        const float d = vpg_f16(x), dmin = vpg_f16(x + 2);
        for (int chunk = 0; chunk < 4; chunk++) {
            int s1, m1, s2, m2;
            vpg_scale_min_k4(2 * chunk, x + 4, &s1, &m1);
            vpg_scale_min_k4(2 * chunk + 1, x + 4, &s2, &m2);
            const float d1 = d * (float)s1, dm1 = dmin * (float)m1, d2 = d * (float)s2, dm2 = dmin * (float)m2;
            const uint8_t *q = x + 16 + chunk * 32;
            float *o = y + chunk * 64;
            for (int l = 0; l < 32; l++) {
                o[l] = d1 * (float)(q[l] & 0xF) - dm1;
                o[l + 32] = d2 * (float)(q[l] >> 4) - dm2;
            }
        }
    }
}

BODY void row_q6_k(const uint8_t *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, x += 210, y += 256) {
        const float d = vpg_f16(x + 208);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = x + 64 * half, *qh = x + 128 + 32 * half;
            const int8_t *sc = (const int8_t *)(x + 192 + 8 * half);
            float *o = y + 128 * half;
            for (int l = 0; l < 32; l++) {
                const uint8_t h = qh[l];
                const int q1 = (int8_t)((ql[l] & 0xF) | ((h & 3) << 4)) - 32;
                const int q2 = (int8_t)((ql[l + 32] & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                const int q3 = (int8_t)((ql[l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
                const int q4 = (int8_t)((ql[l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
                const int s = l / 16;
                o[l] = (d * (float)sc[s]) * (float)q1;
                o[l + 32] = (d * (float)sc[s + 2]) * (float)q2;
                o[l + 64] = (d * (float)sc[s + 4]) * (float)q3;
                o[l + 96] = (d * (float)sc[s + 6]) * (float)q4;
            }
        }
    }
}

/// Row r (< 16) of a group of sixteen interleaved Q4_0 (2), Q5_0 (6) or Q8_0 (8) rows (CKernels.h), read in place: the
/// same values, computed as the stored rows' bodies above compute them.
BODY void row_x16_32(int type, const uint8_t *group, int r, float *y, int64_t n) {
    const int bytes = vpg_block32_bytes(type);
    for (int64_t b = 0; b < n / 32; b++, group += 16 * bytes, y += 32) {
        const float d = vpg_f16(group + 2 * r);
        const uint8_t *v = group + 32 + 4 * r;   // byte k of dword c: v[64c + k]
        if (type == 8) {
            for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)(v[64 * (j / 4) + j % 4] ^ 0x80) * d;
            continue;
        }
        uint64_t five[8] = {0};   // Q5_0's byte masks (mask 2c + h: bit 4r + k for weight 16h + 4c + k)
        if (type == 6) memcpy(five, group + 288, 64);
        for (int j = 0; j < 16; j++) {
            const int c = j / 4, k = j % 4;
            const uint8_t q = v[64 * c + k];
            if (type == 2) {
                y[j] = d * (float)((int8_t)(q & 0xF) - 8);
                y[j + 16] = d * (float)((int8_t)(q >> 4) - 8);
            } else {
                const uint8_t h0 = (uint8_t)(((five[2 * c] >> (4 * r + k)) & 1) << 4);
                const uint8_t h1 = (uint8_t)(((five[2 * c + 1] >> (4 * r + k)) & 1) << 4);
                y[j] = d * (float)((int8_t)((q & 0xF) | h0) - 16);
                y[j + 16] = d * (float)((int8_t)((q >> 4) | h1) - 16);
            }
        }
    }
}

/// Rows r0..<r1 of an interleaved matrix, one after another in `out` ([r1 − r0, n]), by the plain body.
void vpg_dequant_x16_rows_generic(int type, const void *packed, int64_t row_bytes, int64_t r0, int64_t r1, float *out,
                                  int64_t n) {
    for (int64_t r = r0; r < r1; r++)
        row_x16_32(type, (const uint8_t *)packed + r / 16 * 16 * row_bytes, (int)(r % 16), out + (r - r0) * n, n);
}

// One copy per path, named as kernel_table.h expects (vpg_dequant_q4_k_avx512, …); the table picks among them.
#if defined(__x86_64__)
#define DEFINE_PATHS(name)                                                                                     \
    void vpg_dequant_##name##_generic(const void *x, float *y, int64_t n) { row_##name(x, y, n); }            \
    __attribute__((target("avx2,fma,f16c"))) void vpg_dequant_##name##_avx2(const void *x, float *y, int64_t n) { \
        row_##name(x, y, n);                                                                                   \
    }                                                                                                          \
    __attribute__((target("avx2,fma,f16c,avxvnni"))) void vpg_dequant_##name##_avxvnni(const void *x, float *y, \
                                                                                       int64_t n) {            \
        row_##name(x, y, n);                                                                                   \
    }                                                                                                          \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"))) void               \
    vpg_dequant_##name##_avx512(const void *x, float *y, int64_t n) {                                          \
        row_##name(x, y, n);                                                                                   \
    }
#else
#define DEFINE_PATHS(name) \
    void vpg_dequant_##name##_generic(const void *x, float *y, int64_t n) { row_##name(x, y, n); }
#endif

DEFINE_PATHS(f16)
DEFINE_PATHS(bf16)
DEFINE_PATHS(q8_0)
DEFINE_PATHS(q4_0)
DEFINE_PATHS(q5_0)
DEFINE_PATHS(q4_k)
DEFINE_PATHS(q6_k)
