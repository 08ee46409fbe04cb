// AVX2 prompt products, eight weight rows at a time. After llama.cpp's 8-row interleave, but done per product
// instead of at load (the weights stay memory-mapped as stored): a chunk of blocks of eight weight rows is unpacked
// into a layout where one maddubs covers 8 bytes of four rows, so the eight rows' integer sums land in the eight
// lanes of one vector, and a block's float step (scale, convert, fma) is one vector op for all eight. The chunk is
// then dotted with a tile of up to 64 tokens. Formats: Q4_0, Q5_0 (32-element blocks, w = d·(q − o)), Q4_K, Q6_K
// (256-element blocks, integer scales per 16 or 32 weights), and the trainer's Q7, stored in this layout already
// (vpg_q7_panel: signed 7-bit weights, activations plus 64).
// Twin: panels_generic.c.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// Rows per vector of sums (P_ROWS: eight on 256-bit paths; sixteen on AVX-512, two eight-row halves each laid out
/// as on AVX2, panels_avx512.c), panels per pass, and tokens per tile (their accumulators: 64 rows × 64 tokens × 4 B
/// = 16 KB). The unpacking of a chunk is spread over the tile's tokens (1536 × 1536 Q4_K, 256 tokens: 57 GMAC/s
/// with 16, 64 with 32; 1536 × 8960 and 8960 × 1536, 512 tokens, alternating in one process: 64 tokens 2–7% faster
/// than 32 on Q4_K, Q6_K; Zen 3, AVX2).
#if VPG_WIDE
#define P_ROWS 16
#define P_PANELS 4
typedef __m512 p_acc;
INLINE p_acc p_zero(void) { return _mm512_setzero_ps(); }
INLINE void p_lanes(float *out, p_acc v) { _mm512_storeu_ps(out, v); }
#else
#define P_ROWS 8
#define P_PANELS 8
typedef __m256 p_acc;
INLINE p_acc p_zero(void) { return _mm256_setzero_ps(); }
INLINE void p_lanes(float *out, p_acc v) { _mm256_storeu_ps(out, v); }
#endif
#define P_TILE 64

/// out[2c] = bytes 8c..8c+7 of a, b, c, d in that order (a 4 × 4 transpose of 8-byte groups).
INLINE void p_transpose(__m256i a, __m256i b, __m256i c, __m256i d, __m256i *out) {
    const __m256i t0 = _mm256_unpacklo_epi64(a, b), t1 = _mm256_unpackhi_epi64(a, b);
    const __m256i t2 = _mm256_unpacklo_epi64(c, d), t3 = _mm256_unpackhi_epi64(c, d);
    out[0] = _mm256_permute2x128_si256(t0, t2, 0x20);
    out[2] = _mm256_permute2x128_si256(t1, t3, 0x20);
    out[4] = _mm256_permute2x128_si256(t0, t2, 0x31);
    out[6] = _mm256_permute2x128_si256(t1, t3, 0x31);
}

/// 32 weights (unsigned, element order) of each of the eight rows → v[c][h]: elements 8c..8c+7 of rows 0, 1, 4, 5
/// (h = 0) or 2, 3, 6, 7 (h = 1), 8 bytes per row, so that hadd of the two halves' sums leaves row k in lane k.
INLINE void p_interleave(const __m256i *q, __m256i v[4][2]) {
    p_transpose(q[0], q[1], q[4], q[5], &v[0][0]);
    p_transpose(q[2], q[3], q[6], q[7], &v[0][1]);
}

/// The 16 int16 lanes of a vector that multiplies half h's maddubs sums: lanes 4j..4j+3 take the value of the
/// row in the half's 8-byte group j (rows 0, 1, 4, 5 or 2, 3, 6, 7).
INLINE __m256i p_row_lanes(const int16_t value[8], int h) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)value));
    const __m256i pick = h == 0 ? _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3,
                                                   8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11)
                                : _mm256_setr_epi8(4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7,
                                                   12, 13, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15, 14, 15);
    return _mm256_shuffle_epi8(v, pick);
}

/// One 32-weight group of the eight rows times a token's 32 activations: per row (row k in lane k), Σ q·x over
/// weights 0..15 times s[h][0] plus over 16..31 times s[h][1] (s as p_row_lanes gives them). `split`: the two
/// parts go to int32 apart with their own scales (Q6_K, Q7; an int16 lane then sums 4 products ≤ 63·127 or
/// 127·64); otherwise s[h][0] serves the whole group (an int16 lane sums 8 products ≤ 31·127). `unit`: every scale
/// is 1 (Q4_0, Q5_0, Q7). `signed_q`: the weights are the signed operand and the activations the unsigned one
/// (Q7); otherwise the other way round. With VNNI the same integer sums take fewer steps: unit scales let vpdpbusd
/// take every product straight to int32; Q4_K's int32 lanes (16 products ≤ 15·127) still fit an int16, so one
/// madd with s whose high halves are zero (p_vnni_scales) scales them; Q6_K's int16 sums go through vpdpwssd.
INLINE __m256i p_group(const __m256i v[4][2], const __m256i s[2][2], const int8_t *x, const int split, const int unit,
                       const int signed_q) {
    __m256i xc[4];
    for (int c = 0; c < 4; c++) {
        int64_t g;
        memcpy(&g, x + 8 * c, 8);
        xc[c] = _mm256_set1_epi64x(g);
    }
    __m256i part[2];
#if VPG_VNNI
#define P_DOT(acc, c, h) (signed_q ? VPG_DPBUSD256(acc, xc[c], v[c][h]) : VPG_DPBUSD256(acc, v[c][h], xc[c]))
    if (unit || !split) {
        for (int h = 0; h < 2; h++) {
            __m256i acc = _mm256_setzero_si256();
            for (int c = 0; c < 4; c++) acc = P_DOT(acc, c, h);
            part[h] = unit ? acc : _mm256_madd_epi16(acc, s[h][0]);
        }
        return _mm256_hadd_epi32(part[0], part[1]);
    }
#undef P_DOT
#endif
#define P_MUL(c, h) (signed_q ? _mm256_maddubs_epi16(xc[c], v[c][h]) : _mm256_maddubs_epi16(v[c][h], xc[c]))
    for (int h = 0; h < 2; h++) {
        const __m256i lo = _mm256_add_epi16(P_MUL(0, h), P_MUL(1, h)), hi = _mm256_add_epi16(P_MUL(2, h), P_MUL(3, h));
#if VPG_VNNI
        part[h] = VPG_DPWSSD256(VPG_DPWSSD256(_mm256_setzero_si256(), lo, s[h][0]), hi, s[h][1]);
#else
        part[h] = split ? _mm256_add_epi32(_mm256_madd_epi16(lo, s[h][0]), _mm256_madd_epi16(hi, s[h][1]))
                        : _mm256_madd_epi16(_mm256_add_epi16(lo, hi), s[h][0]);
#endif
    }
#undef P_MUL
    return _mm256_hadd_epi32(part[0], part[1]);
}

// ---- Q4_0 / Q5_0: w = d·(q − o) per 32 weights; Σ w·x = d·d_x·(Σ q·x − o·Σ x).

/// Eight rows of one block, interleaved; d: the rows' scales.
typedef struct { __m256i v[4][2]; __m256 d; } p_block32;

INLINE void p_unpack32(const uint8_t *const *row, int64_t at, __m256i (*weights)(const uint8_t *), p_block32 *u) {
    __m256i q[8];
    float d[8];
    for (int k = 0; k < 8; k++) {
        q[k] = weights(row[k] + at);
        d[k] = vpg_f16(row[k] + at);
    }
    p_interleave(q, u->v);
    u->d = _mm256_loadu_ps(d);
}

/// Q8_0's weights plus 128, unsigned (w = d·(q − 128)). Only the VNNI paths take them: their products go straight
/// to int32, where AVX2's maddubs would saturate pairs of 255·127.
INLINE __m256i p_q8_0_q(const uint8_t *b) {
    return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(b + 2)), _mm256_set1_epi8((char)0x80));
}

/// acc += the block's contribution for one token, given its vpg_offset_sum32.
INLINE __m256 p_step32(const p_block32 *u, const vpg_q8_32 *x, int32_t aux, __m256 acc) {
    const __m256i one = _mm256_set1_epi16(1), ones[2][2] = {{one, one}, {one, one}};
    const __m256i s = _mm256_sub_epi32(p_group(u->v, ones, x->q, 0, 1, 0), _mm256_set1_epi32(aux));
    return _mm256_fmadd_ps(_mm256_mul_ps(u->d, _mm256_set1_ps(x->d)), _mm256_cvtepi32_ps(s), acc);
}

// ---- Q4_K / Q6_K: Σ w·x = d·d_x·Σ_k sc_k·(Σ q·x over weights 16k..16k+15) − dmin·d_x·Σ_k m_k·bsum_k, with 16
// int16 scales sc and factors m per block (Q4_K: its 8 scales and mins, each twice; Q6_K: sc, m = sc, dmin = 32·d).

/// Eight rows of one block: v[g] the interleaved weights of group g (32 weights), s[g][h][p] the rows' scales of
/// its two 16-weight parts p, m[j] (lane k: row k's m_2j, m_2j+1 as two int16).
typedef struct { __m256i v[8][4][2], s[8][2][2], m[8]; __m256 d, dmin; } p_block256;

/// One row's k-quant block: its weights w[0..7] (32 each), sc, m, d, dmin.
typedef void (*k_unpack_fn)(const uint8_t *b, __m256i *w, int16_t *sc, int16_t *m, float *d, float *dmin);

INLINE void q4_k_unpack(const uint8_t *b, __m256i *w, int16_t *sc, int16_t *m, float *d, float *dmin) {
    for (int g = 0; g < 4; g++) vpg_q4_k_weights(b, g, w + 2 * g);
    for (int j = 0; j < 8; j++) {
        int s, mn;
        vpg_scale_min_k4(j, b + 4, &s, &mn);
        sc[2 * j] = sc[2 * j + 1] = (int16_t)s;
        m[2 * j] = m[2 * j + 1] = (int16_t)mn;
    }
    *d = vpg_f16(b);
    *dmin = vpg_f16(b + 2);
}

INLINE void q6_k_unpack(const uint8_t *b, __m256i *w, int16_t *sc, int16_t *m, float *d, float *dmin) {
    for (int g = 0; g < 2; g++) vpg_q6_k_weights(b, g, w + 4 * g);
    for (int k = 0; k < 16; k++) sc[k] = m[k] = ((const int8_t *)(b + 192))[k];
    *d = vpg_f16(b + 208);
    *dmin = 32 * *d;
}

INLINE void p_unpack256(const uint8_t *const *row, int64_t at, k_unpack_fn unpack, const int split, p_block256 *u) {
    __m256i q[8][8];   // [row][group]
    int16_t sc[8][16], m[8][16];
    float d[8], dmin[8];
    for (int k = 0; k < 8; k++) unpack(row[k] + at, q[k], sc[k], m[k], d + k, dmin + k);
    for (int g = 0; g < 8; g++) {
        __m256i group[8];
        int16_t s[2][8];
        for (int k = 0; k < 8; k++) {
            group[k] = q[k][g];
            s[0][k] = sc[k][2 * g];
            s[1][k] = sc[k][2 * g + 1];
        }
        p_interleave(group, u->v[g]);
        for (int h = 0; h < 2; h++)
            for (int p = 0; p < 1 + split; p++) {
                u->s[g][h][p] = p_row_lanes(s[p], h);
#if VPG_VNNI
                // Q4_K's int32 sums meet the scale in one madd: each int32 lane's scale in its low half, 0 above.
                if (!split) u->s[g][h][p] = _mm256_and_si256(u->s[g][h][p], _mm256_set1_epi32(0xFFFF));
#endif
            }
        int32_t pairs[8];
        for (int k = 0; k < 8; k++) memcpy(pairs + k, m[k] + 2 * g, 4);
        u->m[g] = _mm256_loadu_si256((const __m256i *)pairs);
    }
    u->d = _mm256_loadu_ps(d);
    u->dmin = _mm256_loadu_ps(dmin);
}

/// p_step256: acc += the block's contribution for one token (split: Q6_K's scales per 16 weights); p_pair_step:
/// the float step of groups g, g + 1 given their integer sums. The integer sums go to float one pair of groups at a
/// time: each stays below 2^24, where the conversion is exact (one conversion per block lost the low bits of large sums before they cancel against the mins: 1.5B perplexity +0.6% against +0.36%
/// of the row kernels). Q6_K's mins (dmin = 32·d) are subtracted in integers per pair too.
INLINE __m256 p_pair_step(const p_block256 *u, const vpg_q8_256 *x, const int g, __m256i dots, const __m256 ddx,
                          const int split, __m256i *mins, const __m256 acc) {
    int32_t pair[2];
    memcpy(pair, x->bsums + 2 * g, 8);
    const __m256i m = _mm256_add_epi32(_mm256_madd_epi16(u->m[g], _mm256_set1_epi32(pair[0])),
                                       _mm256_madd_epi16(u->m[g + 1], _mm256_set1_epi32(pair[1])));
    if (split) dots = _mm256_sub_epi32(dots, _mm256_slli_epi32(m, 5));
    else *mins = _mm256_add_epi32(*mins, m);
    return _mm256_fmadd_ps(ddx, _mm256_cvtepi32_ps(dots), acc);
}

/// The end of a block: Q4_K's mins, summed over its pairs, in one float step.
INLINE __m256 p_block_end(const p_block256 *u, const vpg_q8_256 *x, const int split, const __m256i mins, const __m256 acc) {
    return split ? acc : _mm256_fnmadd_ps(_mm256_mul_ps(u->dmin, _mm256_set1_ps(x->d)), _mm256_cvtepi32_ps(mins), acc);
}

INLINE __m256 p_step256(const p_block256 *u, const vpg_q8_256 *x, const int split, __m256 acc) {
    const __m256 ddx = _mm256_mul_ps(u->d, _mm256_set1_ps(x->d));
    __m256i mins = _mm256_setzero_si256();
    for (int g = 0; g < 8; g += 2) {
        const __m256i dots = _mm256_add_epi32(p_group(u->v[g], u->s[g], x->q + 32 * g, split, 0, 0),
                                              p_group(u->v[g + 1], u->s[g + 1], x->q + 32 * g + 32, split, 0, 0));
        acc = p_pair_step(u, x, g, dots, ddx, split, &mins, acc);
    }
    return p_block_end(u, x, split, mins, acc);
}

#if !VPG_VNNI
/// p_group of two tokens (AVX2's maddubs, k-quant scales), up to its hadd: out[t][h] is p_group's part[h] for token
/// t, by the same operations, each weight vector loaded once for both tokens. One token at a time, the block's loads
/// (weights, scales, broadcast activations: two a cycle on Zen 3) bound the step; written as two p_group calls per
/// token, the compiler spilled; in this form few registers stay live.
INLINE void p_group2(const __m256i v[4][2], const __m256i s[2][2], const int8_t *x0, const int8_t *x1,
                     const int split, __m256i out[2][2]) {
    __m256i lo[2][2], hi[2][2];   // [token][h]: p_group's int16 sums lo (elements 0..15) and hi (16..31)
    for (int c = 0; c < 4; c++) {
        int64_t g0, g1;
        memcpy(&g0, x0 + 8 * c, 8);
        memcpy(&g1, x1 + 8 * c, 8);
        const __m256i b0 = _mm256_set1_epi64x(g0), b1 = _mm256_set1_epi64x(g1);
        for (int h = 0; h < 2; h++) {
            const __m256i p0 = _mm256_maddubs_epi16(v[c][h], b0), p1 = _mm256_maddubs_epi16(v[c][h], b1);
            __m256i *sum0 = c < 2 ? &lo[0][h] : &hi[0][h], *sum1 = c < 2 ? &lo[1][h] : &hi[1][h];
            *sum0 = c % 2 ? _mm256_add_epi16(*sum0, p0) : p0;
            *sum1 = c % 2 ? _mm256_add_epi16(*sum1, p1) : p1;
        }
    }
    for (int t = 0; t < 2; t++)
        for (int h = 0; h < 2; h++)
            out[t][h] = split ? _mm256_add_epi32(_mm256_madd_epi16(lo[t][h], s[h][0]), _mm256_madd_epi16(hi[t][h], s[h][1]))
                              : _mm256_madd_epi16(_mm256_add_epi16(lo[t][h], hi[t][h]), s[h][0]);
}

/// p_step256 for two tokens (acc[0] with xa, acc[1] with xb). A pair of groups' parts are added before one hadd
/// instead of after two: the same integers (exact, below 2^24), so each token's sums and float steps are
/// p_step256's, in its order: the same bits.
INLINE void p_step256_pair(const p_block256 *u, const vpg_q8_256 *xa, const vpg_q8_256 *xb, const int split,
                           __m256 *acc) {
    const vpg_q8_256 *x[2] = {xa, xb};
    __m256 a[2], ddx[2];   // [token]
    __m256i mins[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int t = 0; t < 2; t++) {
        a[t] = acc[t];
        ddx[t] = _mm256_mul_ps(u->d, _mm256_set1_ps(x[t]->d));
    }
    for (int g = 0; g < 8; g += 2) {
        __m256i sums[2][2][2];   // [group of the pair][token][h]
        for (int k = 0; k < 2; k++)
            p_group2(u->v[g + k], u->s[g + k], xa->q + 32 * (g + k), xb->q + 32 * (g + k), split, sums[k]);
        for (int t = 0; t < 2; t++) {
            const __m256i dots = _mm256_hadd_epi32(_mm256_add_epi32(sums[0][t][0], sums[1][t][0]),
                                                   _mm256_add_epi32(sums[0][t][1], sums[1][t][1]));
            a[t] = p_pair_step(u, x[t], g, dots, ddx[t], split, &mins[t], a[t]);
        }
    }
    for (int t = 0; t < 2; t++) acc[t] = p_block_end(u, x[t], split, mins[t], a[t]);
}

/// P_TOKENS for the k-quant blocks: two tokens per STEP##_PAIR (p_step256_pair), an odd last one by STEP.
#define P_TOKENS_K(ACC, T, n, STEP)                                                                                \
    do {                                                                                                           \
        int t = 0;                                                                                                 \
        for (; t + 1 < T; t += 2)                                                                                  \
            for (int i = 0; i < n; i++) STEP##_PAIR(&u[i], x[t] + i0 + i, x[t + 1] + i0 + i, ACC + t);             \
        for (; t < T; t++)                                                                                         \
            for (int i = 0; i < n; i++) ACC[t] = STEP(&u[i], x[t] + i0 + i, 0, ACC[t]);                            \
    } while (0)
#define STEP_Q4_K_PAIR(u, xa, xb, acc) p_step256_pair(u, xa, xb, 0, acc)
#define STEP_Q6_K_PAIR(u, xa, xb, acc) p_step256_pair(u, xa, xb, 1, acc)
#else
// VNNI's products take p_group's sums in fewer steps; its one-token step is kept as measured.
#define P_TOKENS_K P_TOKENS
#endif

// ---- The driver: row panels of eight, token tiles of 32, chunks of blocks unpacked once per panel and tile.

/// A tile's sums to y (rows [T] × ldy, column r − y0 for row r): lane k of acc[p][t] is row first + 8p + k, kept
/// when it lies in lo..<hi (the panels' padding lanes are dropped).
INLINE void p_store(p_acc acc[P_PANELS][P_TILE], int panels, int T, int64_t first, int64_t lo, int64_t hi, float *y,
                    int64_t ldy, int64_t y0) {
    for (int p = 0; p < panels; p++)
        for (int t = 0; t < T; t++) {
            float lanes[P_ROWS];
            p_lanes(lanes, acc[p][t]);
            for (int k = 0; k < P_ROWS; k++) {
                const int64_t r = first + P_ROWS * p + k;
                if (r >= lo && r < hi) y[t * ldy + r - y0] = lanes[k];
            }
        }
}

/// ACC[t] (t < T) += the n blocks u[i] of a chunk times token t's activations x[t] + i0 + i (with aux[t][i]): two
/// tokens per load of a block (+7% for Q7, +14% for Q4_0 against one).
#define P_TOKENS(ACC, T, n, STEP)                                                                                  \
    do {                                                                                                           \
        int t = 0;                                                                                                 \
        for (; t + 1 < T; t += 2) {                                                                                \
            p_acc a = ACC[t], b = ACC[t + 1];                                                                      \
            for (int i = 0; i < n; i++) {                                                                          \
                a = STEP(&u[i], x[t] + i0 + i, aux[t][i], a);                                                      \
                b = STEP(&u[i], x[t + 1] + i0 + i, aux[t + 1][i], b);                                              \
            }                                                                                                      \
            ACC[t] = a;                                                                                            \
            ACC[t + 1] = b;                                                                                        \
        }                                                                                                          \
        for (; t < T; t++) {                                                                                       \
            p_acc a = ACC[t];                                                                                      \
            for (int i = 0; i < n; i++) a = STEP(&u[i], x[t] + i0 + i, aux[t][i], a);                             \
            ACC[t] = a;                                                                                            \
        }                                                                                                          \
    } while (0)

/// TOKENS(ACC, T, n, STEP): the tile's tokens over a chunk (P_TOKENS, or a kernel's own that takes several at once).
#define P_DRIVER(NAME, BLOCK, ACT, ELEMS, CHUNK, UNPACK, AUX, STEP, TOKENS)                                           \
    INLINE void NAME(const void *rows, int64_t row_bytes, int64_t block_bytes, const void *xq, int64_t stride,     \
                     int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols, int offset) {    \
        const int64_t blocks = cols / ELEMS;                                                                       \
        for (int64_t p0 = r0; p0 < r1; p0 += P_ROWS * P_PANELS) {                                                  \
            const int64_t p1 = p0 + P_ROWS * P_PANELS < r1 ? p0 + P_ROWS * P_PANELS : r1;                          \
            const int panels = (int)((p1 - p0 + P_ROWS - 1) / P_ROWS);                                             \
            for (int64_t t0 = 0; t0 < tokens; t0 += P_TILE) {                                           \
                const int T = tokens - t0 < P_TILE ? (int)(tokens - t0) : P_TILE;            \
                const ACT *x[P_TILE];   /* the tile's activation rows */                                \
                for (int t = 0; t < T; t++) x[t] = (const ACT *)((const uint8_t *)xq + (t0 + t) * stride);         \
                p_acc acc[P_PANELS][P_TILE];   /* [panel][token], lane k: row P_ROWS·panel + k */       \
                for (int p = 0; p < panels; p++)                                                                   \
                    for (int t = 0; t < T; t++) acc[p][t] = p_zero();                                              \
                for (int64_t i0 = 0; i0 < blocks; i0 += CHUNK) {                                                   \
                    const int n = blocks - i0 < CHUNK ? (int)(blocks - i0) : CHUNK;                                \
                    int32_t aux[P_TILE][CHUNK];   /* per token and block, the same for every panel */   \
                    for (int t = 0; t < T; t++)                                                                    \
                        for (int i = 0; i < n; i++) aux[t][i] = AUX(x[t] + i0 + i, offset);                        \
                    for (int p = 0; p < panels; p++) {                                                             \
                        const uint8_t *row[P_ROWS];   /* rows past p1 repeat the last one; their lanes are dropped */ \
                        for (int k = 0; k < P_ROWS; k++) {                                                         \
                            const int64_t r = p0 + P_ROWS * p + k < p1 ? p0 + P_ROWS * p + k : p1 - 1;             \
                            row[k] = (const uint8_t *)rows + r * row_bytes;                                        \
                        }                                                                                          \
                        BLOCK u[CHUNK];                                                                            \
                        for (int i = 0; i < n; i++) UNPACK(row, (i0 + i) * block_bytes, &u[i]);                    \
                        TOKENS(acc[p], T, n, STEP);                                                                \
                    }                                                                                              \
                }                                                                                                  \
                p_store(acc, panels, T, p0, p0, p1, y + t0 * ldy, ldy, r0);                                        \
            }                                                                                                      \
        }                                                                                                          \
    }

// The 256-bit paths' entry points (AVX-512's, built from the same helpers, are in panels_avx512.c).
#if !VPG_WIDE
// Chunks: 16 × 288 B = 4.5 KB of 32-element blocks, 2 × 3.4 KB of k-quant blocks; with a 64-token tile of their
// activations 41 and 44 KB, mostly in L1 (chunks of 8 and 1 measured slower, with 32- or 64-token tiles).
#define UNPACK_Q4_0(row, at, u) p_unpack32(row, at, vpg_q4_0_q, u)
#define UNPACK_Q5_0(row, at, u) p_unpack32(row, at, vpg_q5_0_q, u)
#define UNPACK_Q8_0(row, at, u) p_unpack32(row, at, p_q8_0_q, u)
#define STEP_32(u, x, aux, acc) p_step32(u, x, aux, acc)
#define UNPACK_Q4_K(row, at, u) p_unpack256(row, at, q4_k_unpack, 0, u)
#define UNPACK_Q6_K(row, at, u) p_unpack256(row, at, q6_k_unpack, 1, u)
#define NO_AUX(x, offset) 0
#define STEP_Q4_K(u, x, aux, acc) p_step256(u, x, 0, acc)
#define STEP_Q6_K(u, x, aux, acc) p_step256(u, x, 1, acc)
P_DRIVER(panels_q4_0, p_block32, vpg_q8_32, 32, 16, UNPACK_Q4_0, vpg_offset_sum32, STEP_32, P_TOKENS)
P_DRIVER(panels_q5_0, p_block32, vpg_q8_32, 32, 16, UNPACK_Q5_0, vpg_offset_sum32, STEP_32, P_TOKENS)
#if VPG_VNNI
P_DRIVER(panels_q8_0, p_block32, vpg_q8_32, 32, 16, UNPACK_Q8_0, vpg_offset_sum32, STEP_32, P_TOKENS)
#endif
P_DRIVER(panels_q4_k, p_block256, vpg_q8_256, 256, 2, UNPACK_Q4_K, NO_AUX, STEP_Q4_K, P_TOKENS_K)
P_DRIVER(panels_q6_k, p_block256, vpg_q8_256, 256, 2, UNPACK_Q6_K, NO_AUX, STEP_Q6_K, P_TOKENS_K)

#define ENTRY(NAME, DRIVER, BYTES, OFFSET)                                                                         \
    AVX2 void NAME(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, float *y,  \
                   int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {                                            \
        DRIVER(rows, row_bytes, BYTES, xq, stride, tokens, y, ldy, r0, r1, cols, OFFSET);                          \
    }
ENTRY(VPG_FN(vpg_matmul_panels_q4_0), panels_q4_0, 18, 8)
ENTRY(VPG_FN(vpg_matmul_panels_q5_0), panels_q5_0, 22, 16)
#if VPG_VNNI
ENTRY(VPG_FN(vpg_matmul_panels_q8_0), panels_q8_0, 34, 128)
#endif
ENTRY(VPG_FN(vpg_matmul_panels_q4_k), panels_q4_k, 144, 0)
ENTRY(VPG_FN(vpg_matmul_panels_q6_k), panels_q6_k, 210, 0)

// ---- Interleaved by sixteen rows (CKernels.h): each eight-row panel is half a group, built from the interleaved
// blocks into the p_block256 (p_block32) that p_unpack256 (p_unpack32) builds from the stored rows (the same steps, so the same
// bits). Two adjacent four-byte columns of the layout, side by side (unpacklo / unpackhi_epi32 of their halves), are
// already the panel's 8-byte runs of rows 0, 1, 4, 5 and 2, 3, 6, 7: no transpose, and the scales are decoded in
// lanes. Before, these panels put the rows back in their stored form and then unpacked those.

/// The interleaved block at `at` (block index · stored block bytes) of the group that holds the eight-row panel
/// starting at `first`; *h8: which half of the group the panel is.
INLINE const uint8_t *x16_panel_block(const void *rows, int64_t row_bytes, const uint8_t *first, int64_t at, int *h8) {
    const int64_t r = (first - (const uint8_t *)rows) / row_bytes;
    *h8 = (int)(r % 16 / 8);
    return (const uint8_t *)rows + (r - r % 16) * row_bytes + 16 * at;
}

/// Byte k of each row's dword (v: one row per dword lane) laid out as p_row_lanes lays out half h's values: int16
/// lanes 4i..4i + 3 of each 128-bit lane take row 2h + i of that lane's four. `sign`: the byte is an int8 (Q6_K's
/// scales), else unsigned. `low`: each int32 lane's high int16 is 0 (the VNNI paths' Q4_K scales, p_unpack256).
INLINE __m256i x16_row_lanes(__m256i v, int k, int h, int sign, int low) {
    char pick[16];
    for (int i = 0; i < 8; i++) {
        const char b = (char)(4 * (2 * h + i / 4) + k), z = (char)0x80;
        const int zero = low && i % 2;
        pick[2 * i] = zero || sign ? z : b;        // the int16's low byte
        pick[2 * i + 1] = !zero && sign ? b : z;   // its high byte (then shifted down, signed)
    }
    const __m256i r = _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)pick)));
    return sign ? _mm256_srai_epi16(r, 8) : r;
}

INLINE void x16_panel_q4_k(const uint8_t *blk, int h8, p_block256 *u) {
    __m256i sc[2], mn[2];
    vpg_q4_k_scales8(vpg_half8(blk + 64, h8), vpg_half8(blk + 128, h8), vpg_half8(blk + 192, h8), sc, mn);
#pragma clang loop unroll(full)
    for (int g = 0; g < 8; g++) {
        for (int h = 0; h < 2; h++) u->s[g][h][0] = x16_row_lanes(sc[g / 4], g % 4, h, 0, VPG_VNNI);
        u->m[g] = vpg_pick256(mn[g / 4], g % 4, 0x80, g % 4, 0x80);   // (m_g, m_g): both halves of group g
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int p = 0; p < 4; p++)          // quant bytes 32p..32p + 31: groups 2p (low nibbles) and 2p + 1 (high)
        for (int c = 0; c < 4; c++) {    // elements 8c..8c + 7: the layout's columns 8p + 2c and 8p + 2c + 1
            const uint8_t *v = blk + 256 + 64 * (8 * p + 2 * c);
            const __m256i a = vpg_half8(v, h8), b = vpg_half8(v + 64, h8);
            const __m256i runs[2] = {_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b)};   // [h]
            for (int h = 0; h < 2; h++) {
                u->v[2 * p][c][h] = _mm256_and_si256(runs[h], m4);
                u->v[2 * p + 1][c][h] = _mm256_and_si256(_mm256_srli_epi16(runs[h], 4), m4);
            }
        }
    u->d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h8)));
    u->dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 32 + 16 * h8)));
}

INLINE void x16_panel_q6_k(const uint8_t *blk, int h8, p_block256 *u) {
    __m256i sv[4];   // scales 4v..4v + 3 of each row
    for (int v = 0; v < 4; v++) sv[v] = vpg_half8(blk + 64 * v, h8);
#pragma clang loop unroll(full)
    for (int g = 0; g < 8; g++) {
        for (int h = 0; h < 2; h++)
            for (int p = 0; p < 2; p++) u->s[g][h][p] = x16_row_lanes(sv[(2 * g + p) / 4], (2 * g + p) % 4, h, 1, 0);
        u->m[g] = vpg_q6_k_pair8(sv, g);
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    for (int n = 0; n < 2; n++)          // groups 4n..4n + 3
        for (int c = 0; c < 4; c++) {    // elements 8c..8c + 7: the half's columns 2c and 2c + 1
            const uint8_t *v = blk + 256 + 64 * 3 * (8 * n + 2 * c);   // ql of bytes 64n…, of 64n + 32…, qh; the next column
            __m256i runs[3][2];   // [ql0, ql1, qh][h]
            for (int j = 0; j < 3; j++) {
                const __m256i a = vpg_half8(v + 64 * j, h8), b = vpg_half8(v + 192 + 64 * j, h8);
                runs[j][0] = _mm256_unpacklo_epi32(a, b);
                runs[j][1] = _mm256_unpackhi_epi32(a, b);
            }
            for (int h = 0; h < 2; h++) {
                const __m256i ql0 = runs[0][h], ql1 = runs[1][h], qh = runs[2][h];
#define X16_HIGH(shift) _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), m2), 4)
                u->v[4 * n][c][h] = _mm256_or_si256(_mm256_and_si256(ql0, m4), X16_HIGH(0));
                u->v[4 * n + 1][c][h] = _mm256_or_si256(_mm256_and_si256(ql1, m4), X16_HIGH(2));
                u->v[4 * n + 2][c][h] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), X16_HIGH(4));
                u->v[4 * n + 3][c][h] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), X16_HIGH(6));
#undef X16_HIGH
            }
        }
    u->d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 3328 + 16 * h8)));
    u->dmin = _mm256_mul_ps(_mm256_set1_ps(32), u->d);
}

/// Q4_0 (type 2) or Q5_0 (6): half h8 of an interleaved block as p_unpack32 makes the panel from the stored rows.
/// Column c holds each row's quant bytes 4c..4c + 3: their low nibbles are elements 4c.., their high ones 16 + 4c..
INLINE void x16_panel32(const int type, const uint8_t *blk, int h8, p_block32 *u) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int j = 0; j < 2; j++) {   // columns 2j, 2j + 1: elements 8j..8j + 7 (low nibbles) and 16 + 8j.. (high)
        __m256i lo[2], hi[2];   // [column 2j + k]
        for (int k = 0; k < 2; k++) {
            const int c = 2 * j + k;
            const __m256i q = vpg_half8(blk + 32 + 64 * c, h8);
            lo[k] = _mm256_and_si256(q, m4);
            hi[k] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            if (type == 6) {   // this half's 32 bits of the column's two 64-bit masks (low, high nibbles)
                lo[k] = _mm256_or_si256(lo[k], vpg_q5_0_fifth8(blk + 288 + 16 * c + 4 * h8));
                hi[k] = _mm256_or_si256(hi[k], vpg_q5_0_fifth8(blk + 288 + 16 * c + 8 + 4 * h8));
            }
        }
        u->v[j][0] = _mm256_unpacklo_epi32(lo[0], lo[1]);
        u->v[j][1] = _mm256_unpackhi_epi32(lo[0], lo[1]);
        u->v[j + 2][0] = _mm256_unpacklo_epi32(hi[0], hi[1]);
        u->v[j + 2][1] = _mm256_unpackhi_epi32(hi[0], hi[1]);
    }
    u->d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h8)));
}
#define X16_PANEL_Q4_0(blk, h8, u) x16_panel32(2, blk, h8, u)
#define X16_PANEL_Q5_0(blk, h8, u) x16_panel32(6, blk, h8, u)

/// P_DRIVER's UNPACK on interleaved rows (`rows` and `row_bytes` are the driver's parameters).
#define X16_PANEL(row, at, UNPACK, u)                                                                              \
    do {                                                                                                           \
        int h8;                                                                                                    \
        const uint8_t *blk = x16_panel_block(rows, row_bytes, row[0], at, &h8);                                   \
        UNPACK(blk, h8, u);                                                                                        \
    } while (0)
#define X16_UNPACK_Q4_0(row, at, u) X16_PANEL(row, at, X16_PANEL_Q4_0, u)
#define X16_UNPACK_Q5_0(row, at, u) X16_PANEL(row, at, X16_PANEL_Q5_0, u)
#define X16_UNPACK_Q4_K(row, at, u) X16_PANEL(row, at, x16_panel_q4_k, u)
#define X16_UNPACK_Q6_K(row, at, u) X16_PANEL(row, at, x16_panel_q6_k, u)
P_DRIVER(x16_panels_q4_0, p_block32, vpg_q8_32, 32, 16, X16_UNPACK_Q4_0, vpg_offset_sum32, STEP_32, P_TOKENS)
P_DRIVER(x16_panels_q5_0, p_block32, vpg_q8_32, 32, 16, X16_UNPACK_Q5_0, vpg_offset_sum32, STEP_32, P_TOKENS)
P_DRIVER(x16_panels_q4_k, p_block256, vpg_q8_256, 256, 2, X16_UNPACK_Q4_K, NO_AUX, STEP_Q4_K, P_TOKENS_K)
P_DRIVER(x16_panels_q6_k, p_block256, vpg_q8_256, 256, 2, X16_UNPACK_Q6_K, NO_AUX, STEP_Q6_K, P_TOKENS_K)
ENTRY(VPG_FN(vpg_matmul_panels_q4_0_x16), x16_panels_q4_0, 18, 8)
ENTRY(VPG_FN(vpg_matmul_panels_q5_0_x16), x16_panels_q5_0, 22, 16)
ENTRY(VPG_FN(vpg_matmul_panels_q4_k_x16), x16_panels_q4_k, 144, 0)
ENTRY(VPG_FN(vpg_matmul_panels_q6_k_x16), x16_panels_q6_k, 210, 0)

// ---- Q7: the records are stored as the step reads them (no unpacking), the offset's share with them.

/// acc += a record's contribution for one token (u = its activations plus 64).
INLINE __m256 p_step_q7(const vpg_q7_panel *u, const vpg_q8_32 *x, __m256 acc) {
    const __m256i one = _mm256_set1_epi16(1), ones[2][2] = {{one, one}, {one, one}};
    const __m256i s = _mm256_sub_epi32(p_group((const __m256i (*)[2])u->q, ones, x->q, 1, 1, 1),
                                       _mm256_loadu_si256((const __m256i *)u->offset));
    return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(u->d), _mm256_set1_ps(x->d)), _mm256_cvtepi32_ps(s), acc);
}
#define STEP_Q7(u, x, aux, acc) p_step_q7(u, x, acc)

/// As P_DRIVER, over the stored panels that hold rows r0..<r1 (lanes of rows outside are dropped).
AVX2 void VPG_FN(vpg_matmul_panels_q7)(const void *rows, int64_t panel_bytes, const void *xq, int64_t stride,
                                    int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    const int64_t blocks = cols / 32, end = (r1 + 7) / 8;
    for (int64_t g = r0 / 8; g < end; g += P_PANELS) {
        const int panels = end - g < P_PANELS ? (int)(end - g) : P_PANELS;
        for (int64_t t0 = 0; t0 < tokens; t0 += P_TILE) {
            const int T = tokens - t0 < P_TILE ? (int)(tokens - t0) : P_TILE;
            const vpg_q8_32 *x[P_TILE];   // the tile's activation rows
            for (int t = 0; t < T; t++) x[t] = (const vpg_q8_32 *)((const uint8_t *)xq + (t0 + t) * stride);
            __m256 acc[P_PANELS][P_TILE];   // [panel][token], lane k: row 8·(g + panel) + k
            for (int p = 0; p < panels; p++)
                for (int t = 0; t < T; t++) acc[p][t] = _mm256_setzero_ps();
            for (int64_t i0 = 0; i0 < blocks; i0 += 16) {   // chunks of 16 records (5 KB) stay in L1 over the tile
                const int n = blocks - i0 < 16 ? (int)(blocks - i0) : 16;
                for (int p = 0; p < panels; p++) {
                    const vpg_q7_panel *u = (const vpg_q7_panel *)((const uint8_t *)rows + (g + p) * panel_bytes) + i0;
                    P_TOKENS(acc[p], T, n, STEP_Q7);
                }
            }
            p_store(acc, panels, T, 8 * g, r0, r1, y + t0 * ldy, ldy, r0);
        }
    }
}

#endif   // !VPG_WIDE

#elif !defined(VPG_BUILD_AVXVNNI) && !defined(VPG_BUILD_AVX512)
// Other CPUs: the AVX2 names lead to the generic twins.
#define FALLBACK(NAME, GENERIC)                                                                                    \
    void NAME(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, float *y,       \
              int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {                                                 \
        GENERIC(rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);                                        \
    }
FALLBACK(vpg_matmul_panels_q4_0_avx2, vpg_matmul_panels_q4_0_generic)
FALLBACK(vpg_matmul_panels_q5_0_avx2, vpg_matmul_panels_q5_0_generic)
FALLBACK(vpg_matmul_panels_q4_k_avx2, vpg_matmul_panels_q4_k_generic)
FALLBACK(vpg_matmul_panels_q6_k_avx2, vpg_matmul_panels_q6_k_generic)
FALLBACK(vpg_matmul_panels_q7_avx2, vpg_matmul_panels_q7_generic)
#endif
