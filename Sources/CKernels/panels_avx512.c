// AVX-512 prompt products: panels_avx2.c's driver with sixteen weight rows per vector. The stored formats are
// unpacked into four-byte columns (lane r of a vector holds four weights of row r), where one vpdpbusd takes four
// activations of a token, broadcast from memory, to all sixteen rows, and each weight vector serves four tokens.
// The trainer's Q7 records, stored in AVX2's eight-row layout, are joined in pairs instead. Every integer sum is the
// AVX2 kernels', and the float steps are theirs: the results are the AVX2 path's bits. Twin: panels_generic.c.
#define VPG_BUILD_AVX512 1
#include <math.h>
#include <stdlib.h>
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

// ---- Q4_K / Q6_K in four-byte columns: lane r of v[g][c] holds weights 4c..4c+3 of group g (32 weights) of row r,
// so a token's four activations meet all sixteen rows in one vpdpbusd whose broadcast operand comes straight from
// memory, and every int32 lane is one row: no pairwise sums to join, no broadcasts to build. A 16-weight part's
// int32 sums meet its scale once: Q4_K's (≤ 16·15·128) fit an int16, so in vpdpwssd (the scale in each lane's low
// int16, 0 above); Q6_K's (≤ 16·63·128) do not, so in a 32-bit multiply (before, vpdpwssd on each four-weight
// column's sums, which fit: twice the operations, Benchmarks/README.md). The integer sums are the AVX2 kernels'
// (p_step256), so the results are their bits.

/// One k-quant block of sixteen rows: v[g][c] as above; s[k] the rows' scales of 16-weight part k; m[g] the factors
/// of the activation sums of parts 2g, 2g + 1 (two int16); d, dmin.
typedef struct { __m512i v[8][8], s[16], m[8]; __m512 d, dmin; } w_kq;

/// Sixteen rows' 32 bytes transposed: z[r] holds dwords 0..7 of row r (low half) and of row r + 8 (high half);
/// t[c] gets dword c (bytes 4c..4c+3) of row r in lane r. Each half's 8 × 8 dwords are transposed in place.
INLINE void w_transpose(const __m512i z[8], __m512i t[8]) {
    __m512i a[8], b[8];
    for (int k = 0; k < 8; k += 2) {
        a[k] = _mm512_unpacklo_epi32(z[k], z[k + 1]);       // dwords 0, 1 (and 4, 5) of rows k, k + 1
        a[k + 1] = _mm512_unpackhi_epi32(z[k], z[k + 1]);   // dwords 2, 3 (and 6, 7)
    }
    for (int k = 0; k < 8; k += 4) {
        b[k] = _mm512_unpacklo_epi64(a[k], a[k + 2]);            // dword 0 (4) of rows k..k + 3
        b[k + 1] = _mm512_unpackhi_epi64(a[k], a[k + 2]);        // dword 1 (5)
        b[k + 2] = _mm512_unpacklo_epi64(a[k + 1], a[k + 3]);    // dword 2 (6)
        b[k + 3] = _mm512_unpackhi_epi64(a[k + 1], a[k + 3]);    // dword 3 (7)
    }
    // b[c] (rows 0–3, 8–11) and b[4 + c] (rows 4–7, 12–15) hold dword c in their 128-bit lanes 0 and 2, dword
    // c + 4 in lanes 1 and 3.
    const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i second = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    for (int c = 0; c < 4; c++) {
        t[c] = _mm512_permutex2var_epi64(b[c], first, b[4 + c]);
        t[c + 4] = _mm512_permutex2var_epi64(b[c], second, b[4 + c]);
    }
}

/// The 32 bytes at `offset` of each of the sixteen rows' block, transposed (w_transpose).
INLINE void w_columns(const uint8_t *const *row, int64_t at, int offset, __m512i t[8]) {
    __m512i z[8];
    for (int r = 0; r < 8; r++)
        z[r] = w_join(_mm256_loadu_si256((const __m256i *)(row[r] + at + offset)),
                      _mm256_loadu_si256((const __m256i *)(row[r + 8] + at + offset)));
    w_transpose(z, t);
}

INLINE void w_unpack_q4_k(const uint8_t *const *row, int64_t at, w_kq *u) {
    int32_t sc[8][16], mn[8][16];   // [group][row]: the scale; the min twice (its two parts), as two int16
    float d[16], dmin[16];
    for (int r = 0; r < 16; r++) {
        const uint8_t *b = row[r] + at;
        for (int g = 0; g < 8; g++) {
            int s, m;
            vpg_scale_min_k4(g, b + 4, &s, &m);
            sc[g][r] = s;
            mn[g][r] = m | m << 16;
        }
        d[r] = vpg_f16(b);
        dmin[r] = vpg_f16(b + 2);
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int h = 0; h < 4; h++) {   // 32 bytes: groups 2h (low nibbles) and 2h + 1 (high nibbles)
        __m512i t[8];
        w_columns(row, at, 16 + 32 * h, t);
        for (int c = 0; c < 8; c++) {
            u->v[2 * h][c] = _mm512_and_si512(t[c], m4);
            u->v[2 * h + 1][c] = _mm512_and_si512(_mm512_srli_epi16(t[c], 4), m4);
        }
    }
    for (int g = 0; g < 8; g++) {
        u->s[2 * g] = u->s[2 * g + 1] = _mm512_loadu_si512((const void *)sc[g]);
        u->m[g] = _mm512_loadu_si512((const void *)mn[g]);
    }
    u->d = _mm512_loadu_ps(d);
    u->dmin = _mm512_loadu_ps(dmin);
}

/// Q6_K: each half n of the block (groups 4n..4n+3) is 64 bytes of low nibbles and 32 of high bit pairs, whose
/// byte l serves element l of all four groups; transposed as bytes, they are split as vpg_q6_k_weights splits them.
INLINE void w_unpack_q6_k(const uint8_t *const *row, int64_t at, w_kq *u) {
    int32_t sc[16][16], mn[8][16];   // [part][row] the scale (int32); [group][row] two parts' scales (two int16)
    float d[16];
    for (int r = 0; r < 16; r++) {
        const int8_t *scales = (const int8_t *)(row[r] + at + 192);
        for (int k = 0; k < 16; k++) sc[k][r] = scales[k];
        for (int g = 0; g < 8; g++) mn[g][r] = (int32_t)((uint32_t)(uint16_t)scales[2 * g] | (uint32_t)(uint16_t)scales[2 * g + 1] << 16);
        d[r] = vpg_f16(row[r] + at + 208);
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x03);
    for (int n = 0; n < 2; n++) {
        __m512i lo[8], hi[8], bits[8];
        w_columns(row, at, 64 * n, lo);
        w_columns(row, at, 64 * n + 32, hi);
        w_columns(row, at, 128 + 32 * n, bits);
        for (int c = 0; c < 8; c++) {
#define W_HIGH(shift) _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(bits[c], shift), m2), 4)
            u->v[4 * n][c] = _mm512_or_si512(_mm512_and_si512(lo[c], m4), W_HIGH(0));
            u->v[4 * n + 1][c] = _mm512_or_si512(_mm512_and_si512(hi[c], m4), W_HIGH(2));
            u->v[4 * n + 2][c] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo[c], 4), m4), W_HIGH(4));
            u->v[4 * n + 3][c] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(hi[c], 4), m4), W_HIGH(6));
#undef W_HIGH
        }
    }
    for (int k = 0; k < 16; k++) u->s[k] = _mm512_loadu_si512((const void *)sc[k]);
    for (int g = 0; g < 8; g++) u->m[g] = _mm512_loadu_si512((const void *)mn[g]);
    u->d = _mm512_loadu_ps(d);
    u->dmin = _mm512_mul_ps(_mm512_set1_ps(32), u->d);
}

/// p_step256's float steps on the four-byte layout, for TT tokens at once and G row groups (G·TT ≤ 4): each weight
/// vector is loaded once for all the tokens, and each token's activation broadcast once for all the groups (one
/// token and group at a time, a load per vpdpbusd limits the step; on Intel's cores loads still count at four tokens
/// and one group: Benchmarks/README.md). A group's two 16-weight parts run together: eight chains of four vpdpbusd at
/// G·TT = 4, against the instruction's latency. The integer sums per group and token, and the float steps, are the
/// same whatever G and TT (each group and token alone: the AVX2 kernels' bits).
INLINE void w_step_kq_groups(const w_kq *const *u, const int G, const vpg_q8_256 *const *x, __m512 *const *acc,
                             const int split, const int TT) {
    __m512 a[2][4], ddx[2][4];   // [group][token]
    __m512i mins[2][4];
    for (int r = 0; r < G; r++)
        for (int t = 0; t < TT; t++) {
            a[r][t] = acc[r][t];
            ddx[r][t] = _mm512_mul_ps(u[r]->d, _mm512_set1_ps(x[t]->d));
            mins[r][t] = _mm512_setzero_si512();
        }
    for (int g = 0; g < 8; g += 2) {
        __m512i dots[2][4];
        for (int r = 0; r < G; r++)
            for (int t = 0; t < TT; t++) dots[r][t] = _mm512_setzero_si512();
        for (int k = g; k < g + 2; k++) {
            __m512i sums[2][2][4];   // [half][group][token]: part 2k + half, weights 16·half .. 16·half + 15 of group k
            for (int half = 0; half < 2; half++)
                for (int r = 0; r < G; r++)
                    for (int t = 0; t < TT; t++) sums[half][r][t] = _mm512_setzero_si512();
            for (int c = 0; c < 4; c++)
                for (int half = 0; half < 2; half++)
                    for (int t = 0; t < TT; t++) {
                        int32_t four;
                        memcpy(&four, x[t]->q + 32 * k + 16 * half + 4 * c, 4);
                        const __m512i b = _mm512_set1_epi32(four);
                        for (int r = 0; r < G; r++)
                            sums[half][r][t] = _mm512_dpbusd_epi32(sums[half][r][t], u[r]->v[k][4 * half + c], b);
                    }
            for (int half = 0; half < 2; half++)
                for (int r = 0; r < G; r++) {
                    const __m512i sc = u[r]->s[2 * k + half];
                    for (int t = 0; t < TT; t++)
                        dots[r][t] = split ? _mm512_add_epi32(dots[r][t], _mm512_mullo_epi32(sums[half][r][t], sc))
                                           : _mm512_dpwssd_epi32(dots[r][t], sums[half][r][t], sc);
                }
        }
        for (int t = 0; t < TT; t++) {
            int32_t pair[2];
            memcpy(pair, x[t]->bsums + 2 * g, 8);
            const __m512i m0 = _mm512_set1_epi32(pair[0]), m1 = _mm512_set1_epi32(pair[1]);
            for (int r = 0; r < G; r++) {
                if (split) {
                    const __m512i m = _mm512_dpwssd_epi32(_mm512_madd_epi16(u[r]->m[g], m0), u[r]->m[g + 1], m1);
                    dots[r][t] = _mm512_sub_epi32(dots[r][t], _mm512_slli_epi32(m, 5));
                } else {
                    mins[r][t] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(mins[r][t], u[r]->m[g], m0), u[r]->m[g + 1], m1);
                }
                a[r][t] = _mm512_fmadd_ps(ddx[r][t], _mm512_cvtepi32_ps(dots[r][t]), a[r][t]);
            }
        }
    }
    for (int r = 0; r < G; r++)
        for (int t = 0; t < TT; t++)
            acc[r][t] = split ? a[r][t]
                              : _mm512_fnmadd_ps(_mm512_mul_ps(u[r]->dmin, _mm512_set1_ps(x[t]->d)),
                                                 _mm512_cvtepi32_ps(mins[r][t]), a[r][t]);
}

/// P_TOKENS for the four-byte layouts: four tokens per pass over the chunk, the rest one at a time.
/// STEP(u, x, aux, acc, TT) takes TT tokens' activation blocks, offsets (o·Σ x) and accumulators.
#define W_TOKENS(ACC, T, n, STEP)                                                                                  \
    do {                                                                                                           \
        int t = 0;                                                                                                 \
        for (; t + 3 < T; t += 4)                                                                                  \
            for (int i = 0; i < n; i++) {                                                                          \
                __typeof__(x[0]) four[4] = {x[t] + i0 + i, x[t + 1] + i0 + i, x[t + 2] + i0 + i, x[t + 3] + i0 + i}; \
                const int32_t offsets[4] = {aux[t][i], aux[t + 1][i], aux[t + 2][i], aux[t + 3][i]};               \
                STEP(&u[i], four, offsets, ACC + t, 4);                                                            \
            }                                                                                                      \
        for (; t < T; t++)                                                                                         \
            for (int i = 0; i < n; i++) {                                                                          \
                __typeof__(x[0]) one[1] = {x[t] + i0 + i};                                                         \
                STEP(&u[i], one, &aux[t][i], ACC + t, 1);                                                          \
            }                                                                                                      \
    } while (0)

/// The row groups of a chunk's rows as the UNPACK macros take them: rows past p1 repeat the last one (their lanes
/// are dropped).
INLINE void w_group_rows(const void *rows, int64_t row_bytes, int64_t first, int64_t p1, const uint8_t **row) {
    for (int k = 0; k < P_ROWS; k++) row[k] = (const uint8_t *)rows + (first + k < p1 ? first + k : p1 - 1) * row_bytes;
}

/// The tile's T tokens through a chunk's n blocks of G row groups (u[r][i]: group r's block i; acc[r]: its tile's
/// accumulators): 4 / G tokens at a time, then one.
INLINE void w_kq_tokens(w_kq (*u)[2], const int G, const vpg_q8_256 *const *x, const int T, const int64_t i0,
                        const int n, __m512 *const *acc, const int split) {
    const int TT = 4 / G;
    int t = 0;
    for (; t + TT <= T; t += TT)
        for (int i = 0; i < n; i++) {
            const w_kq *blocks[2] = {&u[0][i], &u[1][i]};
            const vpg_q8_256 *xs[4];
            __m512 *a[2];
            for (int k = 0; k < TT; k++) xs[k] = x[t + k] + i0 + i;
            for (int r = 0; r < G; r++) a[r] = acc[r] + t;
            w_step_kq_groups(blocks, G, xs, a, split, TT);
        }
    for (; t < T; t++)
        for (int i = 0; i < n; i++) {
            const w_kq *blocks[2] = {&u[0][i], &u[1][i]};
            const vpg_q8_256 *one[1] = {x[t] + i0 + i};
            __m512 *a[2] = {acc[0] + t, acc[G - 1] + t};
            w_step_kq_groups(blocks, G, one, a, split, 1);
        }
}

/// P_DRIVER for the k-quants (two blocks a chunk), two row groups at a time: both groups' chunks are unpacked, then
/// each pair of tokens meets both (w_step_kq_groups), so each activation broadcast serves two vpdpbusd; a last group
/// without a partner takes four tokens at a time alone. The same sums and float steps per group and token as the
/// one-group driver: the same bits.
#define W_KQ_DRIVER(NAME, UNPACK, SPLIT)                                                                           \
    INLINE void NAME(const void *rows, int64_t row_bytes, int64_t block_bytes, const void *xq, int64_t stride,     \
                     int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols, int offset) {    \
        (void)offset;                                                                                              \
        const int64_t blocks = cols / 256;                                                                         \
        for (int64_t p0 = r0; p0 < r1; p0 += P_ROWS * P_PANELS) {                                                  \
            const int64_t p1 = p0 + P_ROWS * P_PANELS < r1 ? p0 + P_ROWS * P_PANELS : r1;                          \
            const int panels = (int)((p1 - p0 + P_ROWS - 1) / P_ROWS);                                             \
            for (int64_t t0 = 0; t0 < tokens; t0 += P_TILE) {                                                      \
                const int T = tokens - t0 < P_TILE ? (int)(tokens - t0) : P_TILE;                                  \
                const vpg_q8_256 *x[P_TILE];   /* the tile's activation rows */                                    \
                for (int t = 0; t < T; t++) x[t] = (const vpg_q8_256 *)((const uint8_t *)xq + (t0 + t) * stride);  \
                p_acc acc[P_PANELS][P_TILE];   /* [panel][token], lane k: row P_ROWS·panel + k */                  \
                for (int p = 0; p < panels; p++)                                                                   \
                    for (int t = 0; t < T; t++) acc[p][t] = p_zero();                                              \
                for (int64_t i0 = 0; i0 < blocks; i0 += 2) {                                                       \
                    const int n = blocks - i0 < 2 ? (int)(blocks - i0) : 2;                                        \
                    for (int p = 0; p < panels; p += 2) {                                                          \
                        const int G = p + 1 < panels ? 2 : 1;                                                      \
                        const uint8_t *row[2][P_ROWS];                                                             \
                        w_kq u[2][2];   /* [group][block] */                                                       \
                        for (int r = 0; r < G; r++) {                                                              \
                            w_group_rows(rows, row_bytes, p0 + P_ROWS * (p + r), p1, row[r]);                      \
                            for (int i = 0; i < n; i++) UNPACK(row[r], (i0 + i) * block_bytes, &u[r][i]);          \
                        }                                                                                          \
                        __m512 *accs[2] = {acc[p], acc[p + G - 1]};                                                \
                        if (G == 2)                                                                                \
                            w_kq_tokens(u, 2, x, T, i0, n, accs, SPLIT);                                           \
                        else                                                                                       \
                            w_kq_tokens(u, 1, x, T, i0, n, accs, SPLIT);                                           \
                    }                                                                                              \
                }                                                                                                  \
                p_store(acc, panels, T, p0, p0, p1, y + t0 * ldy, ldy, r0);                                        \
            }                                                                                                      \
        }                                                                                                          \
    }

// ---- Q4_0 / Q5_0 / Q8_0 in the same four-byte columns: v[c] lane r holds weights 4c..4c+3 of row r's block (its
// stored, unsigned q); Σ q·x over the block is eight vpdpbusd (two chains of four), o·Σ x and the float step as
// p_step32.

typedef struct { __m512i v[8]; __m512 d; } w_col32;

INLINE void w_unpack_col32(const uint8_t *const *row, int64_t at, __m256i (*weights)(const uint8_t *), w_col32 *u) {
    __m512i z[8];
    float d[16];
    for (int r = 0; r < 8; r++) z[r] = w_join(weights(row[r] + at), weights(row[r + 8] + at));
    for (int r = 0; r < 16; r++) d[r] = vpg_f16(row[r] + at);
    w_transpose(z, u->v);
    u->d = _mm512_loadu_ps(d);
}

/// TT tokens at once (as w_step_kq_groups); aux[t]: token t's o·Σ x over the block.
INLINE void w_step_col32(const w_col32 *u, const vpg_q8_32 *const *x, const int32_t *aux, __m512 *acc, const int TT) {
    __m512i even[4], odd[4];
    for (int t = 0; t < TT; t++) even[t] = odd[t] = _mm512_setzero_si512();
    for (int c = 0; c < 8; c += 2)
        for (int t = 0; t < TT; t++) {
            int32_t four[2];
            memcpy(four, x[t]->q + 4 * c, 8);
            even[t] = _mm512_dpbusd_epi32(even[t], u->v[c], _mm512_set1_epi32(four[0]));
            odd[t] = _mm512_dpbusd_epi32(odd[t], u->v[c + 1], _mm512_set1_epi32(four[1]));
        }
    for (int t = 0; t < TT; t++) {
        const __m512i s = _mm512_sub_epi32(_mm512_add_epi32(even[t], odd[t]), _mm512_set1_epi32(aux[t]));
        acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(u->d, _mm512_set1_ps(x[t]->d)), _mm512_cvtepi32_ps(s), acc[t]);
    }
}

#define W_STEP_COL32(u, x, aux, acc, TT) w_step_col32(u, x, aux, acc, TT)

// Chunks as on AVX2 (16 blocks of 32 weights, 2 k-quant blocks), now of sixteen rows each.
#define W_UNPACK_Q4_0(row, at, u) w_unpack_col32(row, at, vpg_q4_0_q, u)
#define W_UNPACK_Q5_0(row, at, u) w_unpack_col32(row, at, vpg_q5_0_q, u)
#define W_UNPACK_Q8_0(row, at, u) w_unpack_col32(row, at, p_q8_0_q, u)
#define W_UNPACK_Q4_K(row, at, u) w_unpack_q4_k(row, at, u)
#define W_UNPACK_Q6_K(row, at, u) w_unpack_q6_k(row, at, u)
#define W_NO_AUX(x, offset) 0
P_DRIVER(w_panels_q4_0, w_col32, vpg_q8_32, 32, 16, W_UNPACK_Q4_0, vpg_offset_sum32, W_STEP_COL32, W_TOKENS)
P_DRIVER(w_panels_q5_0, w_col32, vpg_q8_32, 32, 16, W_UNPACK_Q5_0, vpg_offset_sum32, W_STEP_COL32, W_TOKENS)
P_DRIVER(w_panels_q8_0, w_col32, vpg_q8_32, 32, 16, W_UNPACK_Q8_0, vpg_offset_sum32, W_STEP_COL32, W_TOKENS)
W_KQ_DRIVER(w_panels_q4_k, W_UNPACK_Q4_K, 0)
W_KQ_DRIVER(w_panels_q6_k, W_UNPACK_Q6_K, 1)

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


// ---- Q4_K interleaved by sixteen rows (CKernels.h): w_unpack_q4_k's result read straight from memory, the scales
// decoded in lanes (one row per lane) as q4_k_decode decodes one row in a general register.

/// The scale bytes a, b, c of sixteen rows (one row per dword lane) → the bytes of sc 0–3, sc 4–7, mn 0–3, mn 4–7.
INLINE void x16_scales(const uint8_t *blk, __m512i *sc03, __m512i *sc47, __m512i *mn03, __m512i *mn47) {
    const __m512i low6 = _mm512_set1_epi32(0x3f3f3f3f), nibble = _mm512_set1_epi32(0x0f0f0f0f);
    const __m512i top2 = _mm512_set1_epi32(0x03030303);
    const __m512i a = _mm512_loadu_si512((const void *)(blk + 64)), b = _mm512_loadu_si512((const void *)(blk + 128));
    const __m512i c = _mm512_loadu_si512((const void *)(blk + 192));
    *sc03 = _mm512_and_si512(a, low6);
    *mn03 = _mm512_and_si512(b, low6);
    *sc47 = _mm512_or_si512(_mm512_and_si512(c, nibble), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(a, 6), top2), 4));
    *mn47 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), nibble),
                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(b, 6), top2), 4));
}

/// Each dword lane's bytes picked by b0..b3 (0x80: zero), as _mm512_shuffle_epi8 takes them.
INLINE __m512i x16_pick(__m512i v, int b0, int b1, int b2, int b3) {
    return _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(vpg_dword_pick(b0, b1, b2, b3)));
}

/// Byte k of each dword lane as an int32 (`pair`: as two int16, the minimum's factor for both of a group's halves).
INLINE __m512i x16_byte(__m512i v, int k, int pair) { return x16_pick(v, k, 0x80, pair ? k : 0x80, 0x80); }

/// Sixteen f16 → f32, exactly (SIMDe 0.7.4 lacks the 512-bit conversion: lane by lane there).
INLINE __m512 x16_halves(const uint8_t *p) {
#if defined(VPG_EMULATED)
    float f[16];
    for (int r = 0; r < 16; r++) f[r] = vpg_f16(p + 2 * r);
    return _mm512_loadu_ps(f);
#else
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
#endif
}

/// One interleaved block → w_kq, as w_unpack_q4_k makes it from the stored rows.
INLINE void x16_unpack_q4_k(const uint8_t *blk, w_kq *u) {
    __m512i sc[2], mn[2];
    x16_scales(blk, &sc[0], &sc[1], &mn[0], &mn[1]);
    for (int g = 0; g < 8; g++) {
        u->s[2 * g] = u->s[2 * g + 1] = x16_byte(sc[g / 4], g % 4, 0);
        u->m[g] = x16_byte(mn[g / 4], g % 4, 1);
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int h = 0; h < 4; h++)
        for (int c = 0; c < 8; c++) {
            const __m512i q = _mm512_loadu_si512((const void *)(blk + 256 + 64 * (8 * h + c)));
            u->v[2 * h][c] = _mm512_and_si512(q, m4);
            u->v[2 * h + 1][c] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        }
    u->d = x16_halves(blk);
    u->dmin = x16_halves(blk + 32);
}

/// Asks for the same block of the next group (the next panel, or the next pass's first one): the hardware's
/// prefetchers lose the four short streams a pass reads (a group of 1,536 columns is 14 KB), and the product waited
/// on the first lines of each chunk. The next group is read after one panel's tokens, time enough for it to arrive.
/// `group_bytes` is sixteen rows' bytes: the driver's `row_bytes` (in scope where the UNPACK macros expand) · 16.
INLINE void x16_prefetch_next_group(const uint8_t *blk, int64_t group_bytes, int64_t block_bytes) {
    for (int64_t o = 0; o < block_bytes; o += 64) _mm_prefetch((const char *)(blk + group_bytes + o), _MM_HINT_T0);
}

/// Panels: block i of the group that starts at row[0] lies at 16·at (at = i·144).
#define X16_UNPACK_Q4_K(row, at, u)                                                                                \
    (x16_prefetch_next_group(row[0] + 16 * (at), 16 * row_bytes, 16 * 144), x16_unpack_q4_k(row[0] + 16 * (at), u))
W_KQ_DRIVER(x16_panels_q4_k, X16_UNPACK_Q4_K, 0)
W_ENTRY(VPG_FN(vpg_matmul_panels_q4_k_x16), x16_panels_q4_k, 144, 0)

/// The panels' steps (w_step_kq_groups, split = 0) on one interleaved Q4_K block, read from memory as x16_unpack_q4_k reads
/// it, for TT ≤ 4 tokens: the same integers, and the same float operations in the same order (one fma per pair of
/// groups, the minimums' term once per block), so the stored panels' bits for each token alone.
INLINE void x16_step_pq4_k(const uint8_t *blk, const vpg_q8_256 *const *x, __m512 *acc, const int TT) {
    __m512i sc[2], mn[2];
    x16_scales(blk, &sc[0], &sc[1], &mn[0], &mn[1]);
    const __m512 d = x16_halves(blk), dmin = x16_halves(blk + 32);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 ddx[4];
    __m512i mins[4];
    for (int t = 0; t < TT; t++) {
        ddx[t] = _mm512_mul_ps(d, _mm512_set1_ps(x[t]->d));
        mins[t] = _mm512_setzero_si512();
    }
    for (int h = 0; h < 4; h++) {   // groups 2h (low nibbles) and 2h + 1 (high nibbles): w_step_kq_groups' pair g = 2h
        const __m512i s_lo = x16_byte(sc[h / 2], (2 * h) % 4, 0), s_hi = x16_byte(sc[h / 2], (2 * h + 1) % 4, 0);
        __m512i dots[4];
        for (int t = 0; t < TT; t++) dots[t] = _mm512_setzero_si512();
        __m512i sums[2][2][4];   // [half][low, high nibbles][token]: four chains, read in the layout's order
        for (int half = 0; half < 2; half++)
            for (int t = 0; t < TT; t++) sums[half][0][t] = sums[half][1][t] = _mm512_setzero_si512();
        for (int half = 0; half < 2; half++)
            for (int c = 0; c < 4; c++) {
                const __m512i q = _mm512_loadu_si512((const void *)(blk + 256 + 64 * (8 * h + 4 * half + c)));
                const __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
                for (int t = 0; t < TT; t++) {
                    int32_t lo4, hi4;
                    memcpy(&lo4, x[t]->q + 64 * h + 16 * half + 4 * c, 4);
                    memcpy(&hi4, x[t]->q + 64 * h + 32 + 16 * half + 4 * c, 4);
                    sums[half][0][t] = _mm512_dpbusd_epi32(sums[half][0][t], lo, _mm512_set1_epi32(lo4));
                    sums[half][1][t] = _mm512_dpbusd_epi32(sums[half][1][t], hi, _mm512_set1_epi32(hi4));
                }
            }
        for (int half = 0; half < 2; half++)
            for (int t = 0; t < TT; t++)
                dots[t] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(dots[t], sums[half][0][t], s_lo), sums[half][1][t], s_hi);
        const __m512i m_lo = x16_byte(mn[h / 2], (2 * h) % 4, 1), m_hi = x16_byte(mn[h / 2], (2 * h + 1) % 4, 1);
        for (int t = 0; t < TT; t++) {
            int32_t pair[2];
            memcpy(pair, x[t]->bsums + 4 * h, 8);
            mins[t] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(mins[t], m_lo, _mm512_set1_epi32(pair[0])), m_hi,
                                          _mm512_set1_epi32(pair[1]));
            acc[t] = _mm512_fmadd_ps(ddx[t], _mm512_cvtepi32_ps(dots[t]), acc[t]);
        }
    }
    for (int t = 0; t < TT; t++)
        acc[t] = _mm512_fnmadd_ps(_mm512_mul_ps(dmin, _mm512_set1_ps(x[t]->d)), _mm512_cvtepi32_ps(mins[t]), acc[t]);
}

// ---- Q6_K interleaved by sixteen rows: w_unpack_q6_k's result read straight from memory.

/// Scale s of each row (signed), from the scale vectors: as an int32 (`wide`), or as the int16 pair (sc, 0).
INLINE __m512i x16_q6_scale(const __m512i *sv, int s, int wide) {
    const __m512i sign = _mm512_set1_epi32(0x80);   // (b ^ 0x80) − 0x80: the byte b sign-extended
    return wide ? _mm512_sub_epi32(_mm512_xor_si512(x16_pick(sv[s / 4], s % 4, 0x80, 0x80, 0x80), sign), sign)
                : _mm512_srai_epi16(x16_pick(sv[s / 4], 0x80, s % 4, 0x80, 0x80), 8);
}

/// Scales 2g and 2g + 1 of each row as an int16 pair: the factors of group g's activation sums.
INLINE __m512i x16_q6_pair(const __m512i *sv, int g) {
    return _mm512_srai_epi16(x16_pick(sv[g / 2], 0x80, (2 * g) % 4, 0x80, (2 * g) % 4 + 1), 8);
}

/// Sixteen rows' 6-bit weights of group 4n + k, column c (weights 32(4n + k) + 4c..+3), split as w_unpack_q6_k does.
INLINE __m512i x16_q6_weights(const uint8_t *blk, int n, int k, int c) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x03);
    const uint8_t *v = blk + 256 + 64 * 3 * (8 * n + c);   // ql of bytes 64n…, of 64n + 32…, then qh
    const __m512i ql = _mm512_loadu_si512((const void *)(v + 64 * (k & 1))), qh = _mm512_loadu_si512((const void *)(v + 128));
    const __m512i low = k < 2 ? _mm512_and_si512(ql, m4) : _mm512_and_si512(_mm512_srli_epi16(ql, 4), m4);
    const __m512i pair = _mm512_and_si512(_mm512_srl_epi16(qh, _mm_cvtsi32_si128(2 * k)), m2);   // bits 2k, 2k + 1
    return _mm512_or_si512(low, _mm512_slli_epi16(pair, 4));
}

INLINE void x16_unpack_q6_k(const uint8_t *blk, w_kq *u) {
    __m512i sv[4];
    for (int v = 0; v < 4; v++) sv[v] = _mm512_loadu_si512((const void *)(blk + 64 * v));
    for (int k = 0; k < 16; k++) u->s[k] = x16_q6_scale(sv, k, 1);
    for (int g = 0; g < 8; g++) u->m[g] = x16_q6_pair(sv, g);
    for (int n = 0; n < 2; n++)
        for (int k = 0; k < 4; k++)
            for (int c = 0; c < 8; c++) u->v[4 * n + k][c] = x16_q6_weights(blk, n, k, c);
    u->d = x16_halves(blk + 3328);
    u->dmin = _mm512_mul_ps(_mm512_set1_ps(32), u->d);
}

#define X16_UNPACK_Q6_K(row, at, u)                                                                                \
    (x16_prefetch_next_group(row[0] + 16 * (at), 16 * row_bytes, 16 * 210), x16_unpack_q6_k(row[0] + 16 * (at), u))
W_KQ_DRIVER(x16_panels_q6_k, X16_UNPACK_Q6_K, 1)
W_ENTRY(VPG_FN(vpg_matmul_panels_q6_k_x16), x16_panels_q6_k, 210, 0)

/// The panels' steps (w_step_kq_groups, split = 1) on one interleaved Q6_K block, for TT ≤ 4 tokens: the stored panels' bits
/// for each token alone (as x16_step_pq4_k).
INLINE void x16_step_pq6_k(const uint8_t *blk, const vpg_q8_256 *const *x, __m512 *acc, const int TT) {
    __m512i sv[4];
    for (int v = 0; v < 4; v++) sv[v] = _mm512_loadu_si512((const void *)(blk + 64 * v));
    const __m512 d = x16_halves(blk + 3328);
    __m512 ddx[4];
    for (int t = 0; t < TT; t++) ddx[t] = _mm512_mul_ps(d, _mm512_set1_ps(x[t]->d));
    for (int g = 0; g < 8; g += 2) {   // w_step_kq_groups' pairs of groups: g = 4n + k, k = 0 or 2
        const int n = g / 4, k0 = g % 4;
        __m512i dots[4];
        for (int t = 0; t < TT; t++) dots[t] = _mm512_setzero_si512();
        __m512i sums[2][2][4];   // [half][group g + k][token]: four chains
        for (int half = 0; half < 2; half++)
            for (int t = 0; t < TT; t++) sums[half][0][t] = sums[half][1][t] = _mm512_setzero_si512();
        // One token reads the columns in the layout's order (the prefetchers follow it); more tokens alternate the
        // halves, which computes faster (Benchmarks/README.md).
#pragma clang loop unroll(full)
        for (int i = 0; i < 8; i++) {
            const int half = TT == 1 ? i / 4 : i % 2, c = TT == 1 ? i % 4 : i / 2;
#pragma clang loop unroll(full)
            for (int k = 0; k < 2; k++) {
                const __m512i w = x16_q6_weights(blk, n, k0 + k, 4 * half + c);
#pragma clang loop unroll(full)
                for (int t = 0; t < TT; t++) {
                    int32_t four;
                    memcpy(&four, x[t]->q + 32 * (g + k) + 16 * half + 4 * c, 4);
                    sums[half][k][t] = _mm512_dpbusd_epi32(sums[half][k][t], w, _mm512_set1_epi32(four));
                }
            }
        }
        for (int half = 0; half < 2; half++)
            for (int k = 0; k < 2; k++) {
                const __m512i s = x16_q6_scale(sv, 2 * (g + k) + half, 1);
                for (int t = 0; t < TT; t++) dots[t] = _mm512_add_epi32(dots[t], _mm512_mullo_epi32(sums[half][k][t], s));
            }
        const __m512i m_lo = x16_q6_pair(sv, g), m_hi = x16_q6_pair(sv, g + 1);
        for (int t = 0; t < TT; t++) {
            int32_t pair[2];
            memcpy(pair, x[t]->bsums + 2 * g, 8);
            const __m512i m = _mm512_dpwssd_epi32(_mm512_madd_epi16(m_lo, _mm512_set1_epi32(pair[0])), m_hi,
                                                  _mm512_set1_epi32(pair[1]));
            dots[t] = _mm512_sub_epi32(dots[t], _mm512_slli_epi32(m, 5));
            acc[t] = _mm512_fmadd_ps(ddx[t], _mm512_cvtepi32_ps(dots[t]), acc[t]);
        }
    }
}

// ---- The k-quants' interleaved row products (few tokens: generation steps of up to a few sequences).
// The panels' steps read straight from the interleaved blocks, four tokens per pass over a group's blocks (which stay
// in cache for the next four), with no panel built in memory: each token gets the stored panels' bits, whatever the
// batch, so a sequence's logits do not depend on how many others share its step. Their integer sums per 16-weight
// part meet the part's scale once; the stored rows' order (each four-weight column scaled on its own, to keep the
// AVX2 row kernels' bits) took twice the operations per weight.

/// TOKENS(group, blocks, xq, stride, y, ldy, TT): TT ≤ 4 tokens' products on one group; acc[t] lane r is row r's
/// result for token t.
#define X16_PANEL_ROWS(NAME, TOKENS, STEP, BLOCK)                                                                  \
    INLINE void TOKENS(const uint8_t *group, int64_t blocks, const void *xq, int64_t stride, float *y,             \
                       int64_t ldy, const int TT) {                                                                \
        __m512 acc[4];                                                                                             \
        for (int k = 0; k < TT; k++) acc[k] = _mm512_setzero_ps();                                                 \
        for (int64_t i = 0; i < blocks; i++) {                                                                     \
            const vpg_q8_256 *x[4];                                                                                \
            for (int k = 0; k < TT; k++) x[k] = (const vpg_q8_256 *)((const uint8_t *)xq + k * stride) + i;        \
            vpg_prefetch_ahead(group + i * (BLOCK), BLOCK);                                                       \
            STEP(group + i * (BLOCK), x, acc, TT);                                                                 \
        }                                                                                                          \
        for (int k = 0; k < TT; k++) _mm512_storeu_ps(y + k * ldy, acc[k]);                                        \
    }                                                                                                              \
    AVX2 void NAME(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, float *y,  \
                   int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {                                            \
        VPG_X16_ROWS_BY_TOKENS(4, TOKENS, group, cols / 256, xt, stride, out, ldy)                               \
    }
X16_PANEL_ROWS(VPG_FN(vpg_matmul_rows_q4_k_x16), x16_prows_q4_k, x16_step_pq4_k, 16 * 144)
X16_PANEL_ROWS(VPG_FN(vpg_matmul_rows_q6_k_x16), x16_prows_q6_k, x16_step_pq6_k, 16 * 210)

// ---- Q4_0, Q5_0 and Q8_0 interleaved by sixteen rows (CKernels.h): vector c of a block holds dword c of every row's
// weights, so one vpdpbusd takes four activations, broadcast, to sixteen rows. Q8_0's row products keep the stored
// rows' kernel's numerics (block_pairs_wide in dotq_avx2.c; Q8_0 takes no 8-bit panels' products, its prompts take
// 16-bit activations): every weight goes to vpdpbusd unsigned (q + 128, as stored in the layout) and the offset o·Σ x
// of each four activations is the accumulator it starts from, so each lane's integer is the stored kernel's. Q4_0's
// and Q5_0's take the panels' numerics (below, after the panels).

/// The stored offset o of a 32-element type's unsigned weights (w = q − o): Q4_0 8, Q5_0 16, Q8_0 128.
INLINE int x16_offset(const int type) { return type == 2 ? 8 : type == 6 ? 16 : 128; }

/// Token t's −o·Σ x over each four activations of each block (the offset term of Σ (q − o)·x):
/// offsets[8·blocks·t + 8i + l] for lane l of block i, as the stored kernels' lane l of block i holds it.
INLINE void x16_offsets(const int type, const void *xq, int64_t stride, int64_t tokens, int64_t blocks, int32_t *offsets) {
    const __m256i o = _mm256_set1_epi8((char)x16_offset(type)), zero = _mm256_setzero_si256();
    for (int64_t t = 0; t < tokens; t++) {
        const vpg_q8_32 *x = (const vpg_q8_32 *)((const uint8_t *)xq + t * stride);
        for (int64_t i = 0; i < blocks; i++) {   // lane l: activations 4l..4l+3
            const __m256i sums = VPG_DPBUSD256(zero, o, _mm256_loadu_si256((const __m256i *)x[i].q));
            _mm256_storeu_si256((__m256i *)(offsets + 8 * (blocks * t + i)), _mm256_sub_epi32(zero, sums));
        }
    }
}

/// vpg_hsum of each lane's eight accumulators, in its order.
INLINE __m512 x16_hsum(const __m512 *acc) {
    const __m512 s0 = _mm512_add_ps(acc[0], acc[4]), s1 = _mm512_add_ps(acc[1], acc[5]);
    const __m512 s2 = _mm512_add_ps(acc[2], acc[6]), s3 = _mm512_add_ps(acc[3], acc[7]);
    return _mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3));
}

/// An interleaved 32-element block's weights as unsigned bytes, v[l] lane r holding row r's weights 4l..4l+3: Q8_0's
/// eight vectors as stored (q + 128); Q4_0's and Q5_0's four nibble vectors split, low nibbles v[c], high ones v[4 + c]
/// (Q5_0: the fifth bits, stored after the nibbles as byte masks, added as 16).
INLINE void x16_weights32(const int type, const uint8_t *blk, __m512i v[8]) {
    if (type == 8) {
        for (int c = 0; c < 8; c++) v[c] = _mm512_loadu_si512((const void *)(blk + 32 + 64 * c));
        return;
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F), bit4 = _mm512_set1_epi8(0x10);
    for (int c = 0; c < 4; c++) {
        const __m512i q = _mm512_loadu_si512((const void *)(blk + 32 + 64 * c));
        v[c] = _mm512_and_si512(q, m4);
        v[4 + c] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        if (type == 6) {
            uint64_t five[2];
            memcpy(five, blk + 288 + 16 * c, 16);
            v[c] = _mm512_mask_add_epi8(v[c], (__mmask64)five[0], v[c], bit4);
            v[4 + c] = _mm512_mask_add_epi8(v[4 + c], (__mmask64)five[1], v[4 + c], bit4);
        }
    }
}

/// Lane sums of activations 4l..4l+3 (l = lane) of a block with sixteen rows' unsigned weights w, from the offset.
INLINE __m512i x16_lane(int32_t offset, __m512i w, const int8_t *four) {
    int32_t x;
    memcpy(&x, four, 4);
    return _mm512_dpbusd_epi32(_mm512_set1_epi32(offset), w, _mm512_set1_epi32(x));
}

/// One token's products on a group of sixteen rows, lane r for row r. acc[p][l] is lane l of the stored kernel's
/// accumulator for blocks of parity p (even blocks in its low half, odd in its high half): each block adds its lane
/// sums (the same integers) times d_r·x.d (the same float product) in one fma, and the row's result is vpg_hsum of
/// the two halves' sum. The same operations per lane, so the same bits.
INLINE void x16_rows_32_token(const int type, const uint8_t *group, int64_t blocks, const vpg_q8_32 *x,
                              const int32_t *offsets, float *y) {
    const int bytes = vpg_block32_bytes(type);
    __m512 acc[2][8];
    for (int p = 0; p < 2; p++)
        for (int l = 0; l < 8; l++) acc[p][l] = _mm512_setzero_ps();
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *blk = group + i * 16 * bytes;   // [16 f16 d][weight vectors of sixteen rows' dwords]…
        const __m512 scale = _mm512_mul_ps(x16_halves(blk), _mm512_set1_ps(x[i].d));
        const int32_t *o = offsets + 8 * i;
        __m512 *a = acc[i & 1];
        __m512i v[8];
        x16_weights32(type, blk, v);
        for (int l = 0; l < 8; l++)
            a[l] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(x16_lane(o[l], v[l], x[i].q + 4 * l)), a[l]);
    }
    __m512 halves[8];
    for (int l = 0; l < 8; l++) halves[l] = _mm512_add_ps(acc[0][l], acc[1][l]);
    _mm512_storeu_ps(y, x16_hsum(halves));
}

/// The rows' products: each group of sixteen rows for every token in turn (the group stays in cache for the next).
INLINE void x16_rows_32(const int type, const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                        int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    const int64_t blocks = cols / 32;
    int32_t *offsets = malloc((size_t)(tokens * blocks * 8) * sizeof(int32_t));   // [tokens, blocks, 8]
    if (!offsets) abort();
    x16_offsets(type, xq, stride, tokens, blocks, offsets);
    for (int64_t g = r0; g < r1; g += 16) {
        const uint8_t *group = (const uint8_t *)rows + g * row_bytes;
        for (int64_t t = 0; t < tokens; t++)
            x16_rows_32_token(type, group, blocks, (const vpg_q8_32 *)((const uint8_t *)xq + t * stride),
                              offsets + 8 * blocks * t, y + t * ldy + (g - r0));
    }
    free(offsets);
}

VPG_TYPED_PRODUCT(VPG_FN(vpg_matmul_rows_q8_0_x16), x16_rows_32, 8)

/// Sixteen bytes zero-extended to int32 lanes (SIMDe 0.7.4 lacks the 512-bit conversion: lane by lane there).
INLINE __m512i x16_widen(__m128i bytes) {
#if defined(VPG_EMULATED)
    uint8_t b[16];
    int32_t w[16];
    _mm_storeu_si128((__m128i *)b, bytes);
    for (int k = 0; k < 16; k++) w[k] = b[k];
    return _mm512_loadu_si512((const void *)w);
#else
    return _mm512_cvtepu8_epi32(bytes);
#endif
}

/// Rows of whole groups dequantized, sixteen rows of a block at once: the block's weight vectors (unsigned q) transposed
/// back into rows (w_transpose is its own inverse), each row's (q − o)·d as the plain body (dequant.c) computes it.
AVX2 void VPG_FN(vpg_dequant_x16_groups)(int type, const void *packed, int64_t row_bytes, int64_t r0, int64_t r1,
                                         float *out, int64_t n) {
    const int bytes = vpg_block32_bytes(type);
    const __m512i o = _mm512_set1_epi32(x16_offset(type));
    for (int64_t g = r0; g < r1; g += 16) {
        const uint8_t *group = (const uint8_t *)packed + g * row_bytes;
        float *y = out + (g - r0) * n;   // [16, n]
        for (int64_t b = 0; b < n / 32; b++) {
            const uint8_t *blk = group + b * 16 * bytes;
            __m512i v[8], rows[8];   // v[c] lane r: row r's weights 4c..4c+3; rows[r]: rows r, r + 8 (32 bytes each)
            x16_weights32(type, blk, v);
            w_transpose(v, rows);
            float d[16];
            _mm512_storeu_ps(d, x16_halves(blk));
            for (int r = 0; r < 16; r++) {
                const __m256i q = r < 8 ? _mm512_castsi512_si256(rows[r]) : _mm512_extracti64x4_epi64(rows[r - 8], 1);
                for (int h = 0; h < 2; h++) {
                    const __m512i w = _mm512_sub_epi32(x16_widen(h ? _mm256_extracti128_si256(q, 1) : _mm256_castsi256_si128(q)), o);
                    _mm512_storeu_ps(y + r * n + 32 * b + 16 * h, _mm512_mul_ps(_mm512_set1_ps(d[r]), _mm512_cvtepi32_ps(w)));
                }
            }
        }
    }
}

/// The panels' products: one interleaved Q4_0 or Q5_0 block is w_unpack_col32's transposed block of the sixteen stored
/// rows already (vector c's low nibbles its v[c], the high ones v[4 + c]), so the stored panels' steps run on it: their
/// bits, without the transposition. Q8_0 has none: its prompts take 16-bit activations (vpg_matmul_q8_0_x16_q16, below).
INLINE void x16_unpack_col32(const int type, const uint8_t *blk, w_col32 *u) {
    x16_weights32(type, blk, u->v);
    u->d = x16_halves(blk);
}
#define X16_UNPACK_Q4_0(row, at, u) x16_unpack_col32(2, row[0] + 16 * (at), u)
#define X16_UNPACK_Q5_0(row, at, u) x16_unpack_col32(6, row[0] + 16 * (at), u)
P_DRIVER(x16_panels_q4_0, w_col32, vpg_q8_32, 32, 16, X16_UNPACK_Q4_0, vpg_offset_sum32, W_STEP_COL32, W_TOKENS)
P_DRIVER(x16_panels_q5_0, w_col32, vpg_q8_32, 32, 16, X16_UNPACK_Q5_0, vpg_offset_sum32, W_STEP_COL32, W_TOKENS)
W_ENTRY(VPG_FN(vpg_matmul_panels_q4_0_x16), x16_panels_q4_0, 18, 8)
W_ENTRY(VPG_FN(vpg_matmul_panels_q5_0_x16), x16_panels_q5_0, 22, 16)

/// Q4_0's and Q5_0's row products (generation steps of up to a few sequences) with the panels' numerics, as the
/// k-quants' (vpg_rows_as_panels): the panels' step on each interleaved block for TT ≤ 4 tokens, with each token's
/// o·Σ x (aux, [TT][blocks]) computed once per call as the panel driver computes it. One exact integer sum and one fma
/// per row and block, where the stored kernel's numerics (Q8_0's above) take eight of each. The software prefetch
/// measured no faster on a Zen 4 and faster on Intel's server cores (Benchmarks/README.md).
INLINE void x16_prows_32_tokens(const int type, const uint8_t *group, int64_t blocks, const void *xq, int64_t stride,
                                const int32_t *aux, float *y, int64_t ldy, const int TT) {
    __m512 acc[4];
    for (int t = 0; t < TT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < blocks; i++) {
        const vpg_q8_32 *x[4];
        int32_t offsets[4];
        for (int t = 0; t < TT; t++) {
            x[t] = (const vpg_q8_32 *)((const uint8_t *)xq + t * stride) + i;
            offsets[t] = aux[t * blocks + i];
        }
        w_col32 u;
        vpg_prefetch_ahead(group + i * 16 * vpg_block32_bytes(type), 16 * vpg_block32_bytes(type));
        x16_unpack_col32(type, group + i * 16 * vpg_block32_bytes(type), &u);
        w_step_col32(&u, x, offsets, acc, TT);
    }
    for (int t = 0; t < TT; t++) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

/// Rows r0..<r1 (multiples of 16) for every token, four tokens per pass over a group, as vpg_matmul_panels_fn.
INLINE void x16_prows_32(const int type, const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                         int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    const int64_t blocks = cols / 32;
    if (tokens <= 0 || blocks <= 0 || r0 >= r1) return;
    int32_t *aux = malloc((size_t)(tokens * blocks) * sizeof(int32_t));   // [tokens, blocks]: o·Σ x
    if (!aux) abort();
    for (int64_t t = 0; t < tokens; t++)
        for (int64_t i = 0; i < blocks; i++)
            aux[t * blocks + i] = vpg_offset_sum32((const vpg_q8_32 *)((const uint8_t *)xq + t * stride) + i,
                                                   x16_offset(type));
    VPG_X16_ROWS_BY_TOKENS(4, x16_prows_32_tokens, type, group, blocks, xt, stride, aux + t * blocks, out, ldy)
    free(aux);
}
VPG_TYPED_PRODUCT(VPG_FN(vpg_matmul_rows_q4_0_x16), x16_prows_32, 2)
VPG_TYPED_PRODUCT(VPG_FN(vpg_matmul_rows_q5_0_x16), x16_prows_32, 6)

// ---- Q8_0 interleaved by sixteen rows times 16-bit activations (vpg_q16_32) ----
// vpdpwssd takes two 16-bit weights per lane: the bytes of each weight dword zero-extended (even bytes: AND, odd bytes:
// shift), each paired with its two activations, broadcast; the offset −128·Σ x starts the accumulator. A tile of up to
// eight tokens shares each widened vector (eight independent accumulation chains hide vpdpwssd's latency).

/// T tokens' products over one group of sixteen rows (lane r: row r), block by block as the twin.
INLINE void q16_group(const uint8_t *group, int64_t blocks, const vpg_q16_32 *const *x, const int T, float *y,
                      int64_t ldy) {
    const __m512i even = _mm512_set1_epi16(0x00FF);
    __m512 acc[8];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *blk = group + i * 16 * 34;   // [16 f16 d][8 vectors: dword c of each row's q + 128]
        __m512i s[8];
        for (int t = 0; t < T; t++) s[t] = _mm512_set1_epi32(-128 * x[t][i].sum);
        for (int c = 0; c < 8; c++) {
            const __m512i v = _mm512_loadu_si512((const void *)(blk + 32 + 64 * c));
            const __m512i w02 = _mm512_and_si512(v, even), w13 = _mm512_srli_epi16(v, 8);
            for (int t = 0; t < T; t++) {
                int32_t pair[2];   // activations (4c, 4c+2) and (4c+1, 4c+3)
                memcpy(pair, x[t][i].q + 4 * c, 8);
                s[t] = _mm512_dpwssd_epi32(s[t], w02, _mm512_set1_epi32(pair[0]));
                s[t] = _mm512_dpwssd_epi32(s[t], w13, _mm512_set1_epi32(pair[1]));
            }
        }
        const __m512 d = x16_halves(blk);
        for (int t = 0; t < T; t++)
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(x[t][i].d)), _mm512_cvtepi32_ps(s[t]), acc[t]);
    }
    for (int t = 0; t < T; t++) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

/// Tiles of eight tokens, each over every group of the range (the range's rows stay in cache from tile to tile).
AVX2 void VPG_FN(vpg_matmul_q8_0_x16_q16)(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                          int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    for (int64_t t0 = 0; t0 < tokens; t0 += 8) {
        const int T = tokens - t0 < 8 ? (int)(tokens - t0) : 8;
        const vpg_q16_32 *x[8];
        for (int t = 0; t < T; t++) x[t] = (const vpg_q16_32 *)((const uint8_t *)xq + (t0 + t) * stride);
        for (int64_t g = r0; g < r1; g += 16) {
            const uint8_t *group = (const uint8_t *)rows + g * row_bytes;
            float *out = y + t0 * ldy + (g - r0);
            switch (T) {   // a constant count: the tile's accumulators stay in registers
            case 1: q16_group(group, cols / 32, x, 1, out, ldy); break;
            case 2: q16_group(group, cols / 32, x, 2, out, ldy); break;
            case 3: q16_group(group, cols / 32, x, 3, out, ldy); break;
            case 4: q16_group(group, cols / 32, x, 4, out, ldy); break;
            case 5: q16_group(group, cols / 32, x, 5, out, ldy); break;
            case 6: q16_group(group, cols / 32, x, 6, out, ldy); break;
            case 7: q16_group(group, cols / 32, x, 7, out, ldy); break;
            default: q16_group(group, cols / 32, x, 8, out, ldy); break;
            }
        }
    }
}

/// vpg_quantize_q16_32_generic's bytes: the same maximum, scale and rounding (cvtps rounds to nearest even). Eight
/// lanes at a time (SIMDe 0.7.4 lacks the 512-bit conversions); packs_epi32 interleaves its halves, and one word
/// permutation puts everything in vpg_q16_32's order.
AVX2 void VPG_FN(vpg_quantize_q16_32)(const float *x, void *blocks, int64_t n) {
    vpg_q16_32 *out = blocks;
    int16_t order[32];   // order[position] = the packed word holding that position's activation
    for (int k = 0; k < 32; k++) {
        const int m = k % 16, from = 16 * (k / 16) + (int[]){0, 8, 4, 12}[m / 4] + m % 4;
        order[vpg_q16_position(from)] = (int16_t)k;
    }
    const __m512i pick = _mm512_loadu_si512((const void *)order);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        __m256 v[4], m = _mm256_setzero_ps();
        for (int c = 0; c < 4; c++) {
            v[c] = _mm256_loadu_ps(x + 8 * c);
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[c]));
        }
        float lanes[8], amax = 0;
        _mm256_storeu_ps(lanes, m);
        for (int l = 0; l < 8; l++) amax = fmaxf(amax, lanes[l]);
        const float d = amax / 32767, id = d > 0 ? 1 / d : 0;
        __m256i q[4], total = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            q[c] = _mm256_cvtps_epi32(_mm256_mul_ps(v[c], _mm256_set1_ps(id)));
            total = _mm256_add_epi32(total, q[c]);
        }
        int32_t sums[8], sum = 0;
        _mm256_storeu_si256((__m256i *)sums, total);
        for (int l = 0; l < 8; l++) sum += sums[l];
        const __m512i packed = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_packs_epi32(q[0], q[1])),
                                                  _mm256_packs_epi32(q[2], q[3]), 1);
        _mm512_storeu_si512((void *)out[b].q, _mm512_permutexvar_epi16(pick, packed));
        out[b].d = d;
        out[b].sum = sum;
    }
}

#endif
