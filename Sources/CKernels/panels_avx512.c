// AVX-512 prompt products: panels_avx2.c's helpers and driver with sixteen weight rows per vector. Two eight-row
// blocks are unpacked as on AVX2 and joined, one in each 256-bit half, so that every vector step (vpdpbusd on 64
// bytes, the pairwise sums, the block's float step) does the work of two AVX2 steps with the same arithmetic per
// lane: the results are the AVX2 path's bits. Twin: panels_generic.c.
#define VPG_BUILD_AVX512 1
#include "panels_avx2.c"

#if defined(__x86_64__)

/// a in the low half, b in the high half.
INLINE __m512i w_join(__m256i a, __m256i b) { return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1); }
INLINE __m512 w_joinf(__m256 a, __m256 b) { return _mm512_insertf32x8(_mm512_castps256_ps512(a), b, 1); }

/// _mm256_hadd_epi32 in each 256-bit half: per 128-bit lane, a0+a1, a2+a3, b0+b1, b2+b3.
INLINE __m512i w_hadd(__m512i a, __m512i b) {
    const __m512 fa = _mm512_castsi512_ps(a), fb = _mm512_castsi512_ps(b);
    return _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(fa, fb, 0x88)),
                            _mm512_castps_si512(_mm512_shuffle_ps(fa, fb, 0xDD)));
}

/// p_group (VNNI) on sixteen rows: row k of each half in lane k of that half.
INLINE __m512i w_group(const __m512i v[4][2], const __m512i s[2][2], const int8_t *x, const int split, const int unit,
                       const int signed_q) {
    __m512i xc[4];
    for (int c = 0; c < 4; c++) {
        int64_t g;
        memcpy(&g, x + 8 * c, 8);
        xc[c] = _mm512_set1_epi64(g);
    }
    __m512i part[2];
    for (int h = 0; h < 2; h++) {
        if (unit || !split) {
            __m512i acc = _mm512_setzero_si512();
            for (int c = 0; c < 4; c++)
                acc = signed_q ? _mm512_dpbusd_epi32(acc, xc[c], v[c][h]) : _mm512_dpbusd_epi32(acc, v[c][h], xc[c]);
            part[h] = unit ? acc : _mm512_madd_epi16(acc, s[h][0]);
        } else {
#define W_MUL(c) (signed_q ? _mm512_maddubs_epi16(xc[c], v[c][h]) : _mm512_maddubs_epi16(v[c][h], xc[c]))
            const __m512i lo = _mm512_add_epi16(W_MUL(0), W_MUL(1)), hi = _mm512_add_epi16(W_MUL(2), W_MUL(3));
#undef W_MUL
            part[h] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(_mm512_setzero_si512(), lo, s[h][0]), hi, s[h][1]);
        }
    }
    return w_hadd(part[0], part[1]);
}

// ---- Q4_0 / Q5_0

typedef struct { __m512i v[4][2]; __m512 d; } w_block32;

INLINE void w_unpack32(const uint8_t *const *row, int64_t at, __m256i (*weights)(const uint8_t *), w_block32 *u) {
    p_block32 a, b;
    p_unpack32(row, at, weights, &a);
    p_unpack32(row + 8, at, weights, &b);
    for (int c = 0; c < 4; c++)
        for (int h = 0; h < 2; h++) u->v[c][h] = w_join(a.v[c][h], b.v[c][h]);
    u->d = w_joinf(a.d, b.d);
}

INLINE __m512 w_step32(const w_block32 *u, const vpg_q8_32 *x, int32_t aux, __m512 acc) {
    const __m512i s = _mm512_sub_epi32(w_group(u->v, NULL, x->q, 0, 1, 0), _mm512_set1_epi32(aux));
    return _mm512_fmadd_ps(_mm512_mul_ps(u->d, _mm512_set1_ps(x->d)), _mm512_cvtepi32_ps(s), acc);
}

// ---- Q4_K / Q6_K

typedef struct { __m512i v[8][4][2], s[8][2][2], m[8]; __m512 d, dmin; } w_block256;

INLINE void w_unpack256(const uint8_t *const *row, int64_t at, k_unpack_fn unpack, const int split, w_block256 *u) {
    p_block256 a, b;
    p_unpack256(row, at, unpack, split, &a);
    p_unpack256(row + 8, at, unpack, split, &b);
    for (int g = 0; g < 8; g++) {
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 2; h++) u->v[g][c][h] = w_join(a.v[g][c][h], b.v[g][c][h]);
        for (int h = 0; h < 2; h++)
            for (int p = 0; p < 1 + split; p++) u->s[g][h][p] = w_join(a.s[g][h][p], b.s[g][h][p]);
        u->m[g] = w_join(a.m[g], b.m[g]);
    }
    u->d = w_joinf(a.d, b.d);
    u->dmin = w_joinf(a.dmin, b.dmin);
}

/// p_step256 on sixteen rows.
INLINE __m512 w_step256(const w_block256 *u, const vpg_q8_256 *x, const int split, __m512 acc) {
    const __m512 dx = _mm512_set1_ps(x->d), ddx = _mm512_mul_ps(u->d, dx);
    __m512i mins = _mm512_setzero_si512();
    for (int g = 0; g < 8; g += 2) {
        __m512i dots = _mm512_add_epi32(w_group(u->v[g], u->s[g], x->q + 32 * g, split, 0, 0),
                                        w_group(u->v[g + 1], u->s[g + 1], x->q + 32 * g + 32, split, 0, 0));
        int32_t pair[2];
        memcpy(pair, x->bsums + 2 * g, 8);
        const __m512i m = _mm512_add_epi32(_mm512_madd_epi16(u->m[g], _mm512_set1_epi32(pair[0])),
                                           _mm512_madd_epi16(u->m[g + 1], _mm512_set1_epi32(pair[1])));
        if (split) dots = _mm512_sub_epi32(dots, _mm512_slli_epi32(m, 5));
        else mins = _mm512_add_epi32(mins, m);
        acc = _mm512_fmadd_ps(ddx, _mm512_cvtepi32_ps(dots), acc);
    }
    return split ? acc : _mm512_fnmadd_ps(_mm512_mul_ps(u->dmin, dx), _mm512_cvtepi32_ps(mins), acc);
}

// Chunks as on AVX2 (16 blocks of 32 weights, 2 k-quant blocks), now of sixteen rows each.
#define W_UNPACK_Q4_0(row, at, u) w_unpack32(row, at, vpg_q4_0_q, u)
#define W_UNPACK_Q5_0(row, at, u) w_unpack32(row, at, vpg_q5_0_q, u)
#define W_UNPACK_Q8_0(row, at, u) w_unpack32(row, at, p_q8_0_q, u)
#define W_STEP_32(u, x, aux, acc) w_step32(u, x, aux, acc)
#define W_UNPACK_Q4_K(row, at, u) w_unpack256(row, at, q4_k_unpack, 0, u)
#define W_UNPACK_Q6_K(row, at, u) w_unpack256(row, at, q6_k_unpack, 1, u)
#define W_NO_AUX(x, offset) 0
#define W_STEP_Q4_K(u, x, aux, acc) w_step256(u, x, 0, acc)
#define W_STEP_Q6_K(u, x, aux, acc) w_step256(u, x, 1, acc)
P_DRIVER(w_panels_q4_0, w_block32, vpg_q8_32, 32, 16, W_UNPACK_Q4_0, p_aux32, W_STEP_32)
P_DRIVER(w_panels_q5_0, w_block32, vpg_q8_32, 32, 16, W_UNPACK_Q5_0, p_aux32, W_STEP_32)
P_DRIVER(w_panels_q8_0, w_block32, vpg_q8_32, 32, 16, W_UNPACK_Q8_0, p_aux32, W_STEP_32)
P_DRIVER(w_panels_q4_k, w_block256, vpg_q8_256, 256, 2, W_UNPACK_Q4_K, W_NO_AUX, W_STEP_Q4_K)
P_DRIVER(w_panels_q6_k, w_block256, vpg_q8_256, 256, 2, W_UNPACK_Q6_K, W_NO_AUX, W_STEP_Q6_K)

#define W_ENTRY(NAME, DRIVER, BYTES, OFFSET)                                                                       \
    AVX2 void NAME(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, float *y,  \
                   int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {                                            \
        DRIVER(rows, row_bytes, BYTES, xq, stride, tokens, y, ldy, r0, r1, cols, OFFSET);                          \
    }
W_ENTRY(VPG_FN(vpg_matmul_panels_q4_0), w_panels_q4_0, 18, 8)
W_ENTRY(VPG_FN(vpg_matmul_panels_q5_0), w_panels_q5_0, 22, 16)
W_ENTRY(VPG_FN(vpg_matmul_panels_q8_0), w_panels_q8_0, 34, 128)
W_ENTRY(VPG_FN(vpg_matmul_panels_q4_k), w_panels_q4_k, 144, 0)
W_ENTRY(VPG_FN(vpg_matmul_panels_q6_k), w_panels_q6_k, 210, 0)

// ---- Q7: two stored eight-row records joined per chunk (once per tile, not per token).

typedef struct { __m512i q[4][2]; __m512 d; __m512i offset; } w_q7;

INLINE void w_join_q7(const vpg_q7_panel *a, const vpg_q7_panel *b, w_q7 *u) {
    const __m256i(*qa)[2] = (const __m256i(*)[2])a->q, (*qb)[2] = (const __m256i(*)[2])b->q;
    for (int c = 0; c < 4; c++)
        for (int h = 0; h < 2; h++) u->q[c][h] = w_join(qa[c][h], qb[c][h]);
    u->d = w_joinf(_mm256_loadu_ps(a->d), _mm256_loadu_ps(b->d));
    u->offset = w_join(_mm256_loadu_si256((const __m256i *)a->offset), _mm256_loadu_si256((const __m256i *)b->offset));
}

INLINE __m512 w_step_q7(const w_q7 *u, const vpg_q8_32 *x, __m512 acc) {
    const __m512i s = _mm512_sub_epi32(w_group(u->q, NULL, x->q, 1, 1, 1), u->offset);
    return _mm512_fmadd_ps(_mm512_mul_ps(u->d, _mm512_set1_ps(x->d)), _mm512_cvtepi32_ps(s), acc);
}
#define W_STEP_Q7(u, x, aux, acc) w_step_q7(u, x, acc)

/// As vpg_matmul_panels_q7 on AVX2, over pairs of stored panels (a last panel without a partner is paired with
/// itself; the lanes of rows outside r0..<r1 are dropped).
AVX2 void VPG_FN(vpg_matmul_panels_q7)(const void *rows, int64_t panel_bytes, const void *xq, int64_t stride,
                                       int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    const int64_t blocks = cols / 32, end = (r1 + 7) / 8;
    for (int64_t g = r0 / 8; g < end; g += 2 * P_PANELS) {
        const int pairs = end - g < 2 * P_PANELS ? (int)((end - g + 1) / 2) : P_PANELS;
        for (int64_t t0 = 0; t0 < tokens; t0 += P_TILE) {
            const int T = tokens - t0 < P_TILE ? (int)(tokens - t0) : P_TILE;
            const vpg_q8_32 *x[P_TILE];   // the tile's activation rows
            for (int t = 0; t < T; t++) x[t] = (const vpg_q8_32 *)((const uint8_t *)xq + (t0 + t) * stride);
            __m512 acc[P_PANELS][P_TILE];   // [pair][token], lane k: row 8·(g + 2·pair) + k
            for (int p = 0; p < pairs; p++)
                for (int t = 0; t < T; t++) acc[p][t] = _mm512_setzero_ps();
            for (int64_t i0 = 0; i0 < blocks; i0 += 16) {   // chunks of 16 joined records (10 KB)
                const int n = blocks - i0 < 16 ? (int)(blocks - i0) : 16;
                for (int p = 0; p < pairs; p++) {
                    const int64_t ga = g + 2 * p, gb = ga + 1 < end ? ga + 1 : ga;
                    const vpg_q7_panel *a = (const vpg_q7_panel *)((const uint8_t *)rows + ga * panel_bytes) + i0;
                    const vpg_q7_panel *b = (const vpg_q7_panel *)((const uint8_t *)rows + gb * panel_bytes) + i0;
                    w_q7 u[16];
                    for (int i = 0; i < n; i++) w_join_q7(a + i, b + i, &u[i]);
                    P_TOKENS(acc[p], T, n, W_STEP_Q7);
                }
            }
            p_store(acc, pairs, T, 8 * g, r0, r1, y + t0 * ldy, ldy, r0);
        }
    }
}

#endif
