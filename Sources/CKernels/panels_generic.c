// Plain C prompt products, the specification of panels_avx2.c: per weight row and token, block by block, exact
// integer sums, then one fma per float term. Q4_0 / Q5_0 / Q8_0 (w = d·(q − o), o = 8, 16 or 128, q unsigned):
// d·d_x·(Σ q·x − o·Σ x).
// Q4_K / Q6_K: d·d_x·Σ_k sc_k·(Σ q·x over weights 16k..16k+15) − dmin·d_x·Σ_k m_k·bsum_k, the first sum taken to
// float 64 weights at a time (exact below 2^24); Q6_K (dmin = 32·d) subtracts the second in integers per 64.
#include <math.h>
#include "CKernels.h"
#include "quant_blocks.h"

/// The 32 unsigned weights q (element order) of one block.
typedef void (*unpack_fn)(const uint8_t *b, uint8_t *q);

static void q4_0_q(const uint8_t *b, uint8_t *q) {
    for (int j = 0; j < 16; j++) {
        q[j] = b[2 + j] & 0xF;
        q[j + 16] = b[2 + j] >> 4;
    }
}

/// Q8_0's signed weights plus 128 (w = d·(q − 128)).
static void q8_0_q(const uint8_t *b, uint8_t *q) {
    for (int j = 0; j < 32; j++) q[j] = (uint8_t)(b[2 + j] ^ 0x80);
}

static void q5_0_q(const uint8_t *b, uint8_t *q) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    for (int j = 0; j < 16; j++) {
        q[j] = (b[6 + j] & 0xF) | (((qh >> j) & 1) << 4);
        q[j + 16] = (b[6 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    }
}

/// Activation row t0 + t of a tile, as blocks of type T.
#define ACT(T, xq, stride, t) ((const T *)((const uint8_t *)(xq) + (t) * (stride)))

/// acc[t] += the contribution of weight block b (block i of its row) for tokens t0 .. t0 + T − 1.
typedef void (*block_fn)(const uint8_t *b, int64_t i, const void *xq, int64_t stride, int64_t t0, int T, float *acc);

static void offset_block(unpack_fn unpack, int offset, const uint8_t *b, int64_t i, const void *xq, int64_t stride,
                         int64_t t0, int T, float *acc) {
    uint8_t q[32];
    unpack(b, q);
    const float d = vpg_f16(b);
    for (int t = 0; t < T; t++) {
        const vpg_q8_32 *x = ACT(vpg_q8_32, xq, stride, t0 + t) + i;
        int s = 0, sx = 0;
        for (int j = 0; j < 32; j++) {
            s += q[j] * x->q[j];
            sx += x->q[j];
        }
        acc[t] = fmaf(d * x->d, (float)(s - offset * sx), acc[t]);
    }
}

/// One k-quant block: unsigned weights q (element order), 16 scales and min factors (one per 16 weights), d, dmin.
typedef void (*k_unpack_fn)(const uint8_t *b, uint8_t *q, int *sc, int *m, float *d, float *dmin);

static void q4_k_unpack(const uint8_t *b, uint8_t *q, int *sc, int *m, float *d, float *dmin) {
    for (int j = 0; j < 8; j++) {
        const uint8_t *packed = b + 16 + 32 * (j / 2);
        for (int l = 0; l < 32; l++) q[32 * j + l] = j % 2 == 0 ? packed[l] & 0xF : packed[l] >> 4;
        vpg_scale_min_k4(j, b + 4, &sc[2 * j], &m[2 * j]);
        sc[2 * j + 1] = sc[2 * j];
        m[2 * j + 1] = m[2 * j];
    }
    *d = vpg_f16(b);
    *dmin = vpg_f16(b + 2);
}

static void q6_k_unpack(const uint8_t *b, uint8_t *q, int *sc, int *m, float *d, float *dmin) {
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
        for (int l = 0; l < 32; l++) {
            q[128 * h + l] = (ql[l] & 0xF) | ((qh[l] & 3) << 4);
            q[128 * h + l + 32] = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
            q[128 * h + l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
            q[128 * h + l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
        }
    }
    for (int k = 0; k < 16; k++) sc[k] = m[k] = ((const int8_t *)(b + 192))[k];
    *d = vpg_f16(b + 208);
    *dmin = 32 * *d;
}

static void k_block(k_unpack_fn unpack, int centred, const uint8_t *b, int64_t i, const void *xq, int64_t stride,
                    int64_t t0, int T, float *acc) {
    uint8_t q[256];
    int sc[16], m[16];
    float d, dmin;
    unpack(b, q, sc, m, &d, &dmin);
    for (int t = 0; t < T; t++) {
        const vpg_q8_256 *x = ACT(vpg_q8_256, xq, stride, t0 + t) + i;
        int mins = 0;
        for (int p = 0; p < 4; p++) {   // pairs of 32-weight groups: four 16-weight parts each
            int dots = 0, pair_mins = 0;
            for (int k = 4 * p; k < 4 * p + 4; k++) {
                int s = 0;
                for (int l = 0; l < 16; l++) s += q[16 * k + l] * x->q[16 * k + l];
                dots += sc[k] * s;
                pair_mins += m[k] * x->bsums[k];
            }
            if (centred) dots -= 32 * pair_mins;
            else mins += pair_mins;
            acc[t] = fmaf(d * x->d, (float)dots, acc[t]);
        }
        if (!centred) acc[t] = fmaf(-(dmin * x->d), (float)mins, acc[t]);
    }
}

static void q4_0_block(const uint8_t *b, int64_t i, const void *xq, int64_t stride, int64_t t0, int T, float *acc) {
    offset_block(q4_0_q, 8, b, i, xq, stride, t0, T, acc);
}
static void q5_0_block(const uint8_t *b, int64_t i, const void *xq, int64_t stride, int64_t t0, int T, float *acc) {
    offset_block(q5_0_q, 16, b, i, xq, stride, t0, T, acc);
}
static void q8_0_block(const uint8_t *b, int64_t i, const void *xq, int64_t stride, int64_t t0, int T, float *acc) {
    offset_block(q8_0_q, 128, b, i, xq, stride, t0, T, acc);
}
static void q4_k_block(const uint8_t *b, int64_t i, const void *xq, int64_t stride, int64_t t0, int T, float *acc) {
    k_block(q4_k_unpack, 0, b, i, xq, stride, t0, T, acc);
}
static void q6_k_block(const uint8_t *b, int64_t i, const void *xq, int64_t stride, int64_t t0, int T, float *acc) {
    k_block(q6_k_unpack, 1, b, i, xq, stride, t0, T, acc);
}

/// Per token tile and weight row, the row's blocks in order.
static void panels(block_fn block, int64_t block_bytes, int64_t elems, const void *rows, int64_t row_bytes,
                   const void *xq, int64_t stride, int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1,
                   int64_t cols) {
    for (int64_t t0 = 0; t0 < tokens; t0 += VPG_DOTQ_MAX_ROWS) {
        const int T = tokens - t0 < VPG_DOTQ_MAX_ROWS ? (int)(tokens - t0) : VPG_DOTQ_MAX_ROWS;
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *b = (const uint8_t *)rows + r * row_bytes;
            float acc[VPG_DOTQ_MAX_ROWS] = {0};
            for (int64_t i = 0; i < cols / elems; i++, b += block_bytes) block(b, i, xq, stride, t0, T, acc);
            for (int t = 0; t < T; t++) y[(t0 + t) * ldy + r - r0] = acc[t];
        }
    }
}

#define ENTRY(NAME, BLOCK, BYTES, ELEMS)                                                                           \
    void NAME(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, float *y,       \
              int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {                                                 \
        panels(BLOCK, BYTES, ELEMS, rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);                    \
    }
ENTRY(vpg_matmul_panels_q4_0_generic, q4_0_block, 18, 32)
ENTRY(vpg_matmul_panels_q5_0_generic, q5_0_block, 22, 32)
ENTRY(vpg_matmul_panels_q8_0_generic, q8_0_block, 34, 32)
ENTRY(vpg_matmul_panels_q4_k_generic, q4_k_block, 144, 256)
ENTRY(vpg_matmul_panels_q6_k_generic, q6_k_block, 210, 256)

// ---- Q7 panels: per row, token and block, Σ q·(u − 64) as an exact integer, then one fma.

/// Where element e (< 32) of row k (< 8) sits in a vpg_q7_panel's q.
static int q7_index(int k, int e) { return 32 * (2 * (e / 8) + ((k >> 1) & 1)) + 8 * ((k & 1) | (k >> 2) << 1) + e % 8; }

void vpg_q7_panel_set(vpg_q7_panel *panel, int k, float d, const int8_t *q) {
    int sum = 0;
    for (int e = 0; e < 32; e++) {
        panel->q[q7_index(k, e)] = q[e];
        sum += q[e];
    }
    panel->d[k] = d;
    panel->offset[k] = 64 * sum;
}

void vpg_matmul_panels_q7_generic(const void *rows, int64_t panel_bytes, const void *xq, int64_t stride,
                                  int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    for (int64_t r = r0; r < r1; r++) {
        const vpg_q7_panel *panel = (const vpg_q7_panel *)((const uint8_t *)rows + r / 8 * panel_bytes);
        const int k = (int)(r % 8);
        for (int64_t t = 0; t < tokens; t++) {
            const vpg_q8_32 *x = ACT(vpg_q8_32, xq, stride, t);
            float acc = 0;
            for (int64_t i = 0; i < cols / 32; i++) {
                int s = 0;
                for (int e = 0; e < 32; e++) s += panel[i].q[q7_index(k, e)] * (x[i].q[e] - 64);
                acc = fmaf(panel[i].d[k] * x[i].d, (float)s, acc);
            }
            y[t * ldy + r - r0] = acc;
        }
    }
}

// ---- Q8_0 interleaved by sixteen rows times 16-bit activations: the specification of AVX-512's kernel ----

/// Per token and row, block by block: the exact integer Σ (q + 128)·x − 128·Σ x, then one fma of d·d_x.
void vpg_matmul_q8_0_x16_q16_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                     int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    for (int64_t t = 0; t < tokens; t++) {
        const vpg_q16_32 *x = (const vpg_q16_32 *)((const uint8_t *)xq + t * stride);
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *group = (const uint8_t *)rows + r / 16 * 16 * row_bytes;
            const int lane = (int)(r % 16);
            float acc = 0;
            for (int64_t i = 0; i < cols / 32; i++) {
                const uint8_t *blk = group + i * 16 * 34;   // [16 f16 d][8 vectors: dword c of each row's q + 128]
                int32_t s = -128 * x[i].sum;
                for (int j = 0; j < 32; j++)
                    s += blk[32 + 64 * (j / 4) + 4 * lane + j % 4] * x[i].q[vpg_q16_position(j)];
                acc = fmaf(vpg_f16(blk + 2 * lane) * x[i].d, (float)s, acc);
            }
            y[t * ldy + r - r0] = acc;
        }
    }
}
