// AVX2 integer dot kernels with 8-bit activations, for one or several activation rows at once (batched generation,
// prompts: each weight block is unpacked once and dotted with every row). The one-row kernels are the four-row code
// with a row count of 1, and the many-row k-quant kernels repeat its arithmetic per row, so each row of a batch
// gets exactly the one-row result. Twins: dotq_generic.c, dotq_rows_generic.c.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// Weights are streamed from memory once per token: fetch the cache lines of the `bytes` read now, PREFETCH_AHEAD
/// bytes ahead (past a row's end that is the next row, which the caller reads next), so that the reads run ahead
/// across page boundaries, where the hardware's stream prefetchers stop.
#define PREFETCH_AHEAD 1536
#define PREFETCH(p, bytes)                                                                                         \
    do {                                                                                                           \
        for (int64_t o_ = 0; o_ < (bytes); o_ += 64)                                                               \
            _mm_prefetch((const char *)(p) + PREFETCH_AHEAD + o_, _MM_HINT_T0);                                    \
    } while (0)

/// The activation row t of a batch: rows are `stride` bytes apart.
#define ROW(T, xq, stride, t) ((const T *)((const uint8_t *)(xq) + (t) * (stride)))

/// Σ a_i·b_i of 32 signed bytes as 8 int32 partial sums, with |a| precomputed once per weight block
/// (|a| ≤ 128, |b| ≤ 127: no int16 overflow).
INLINE __m256i idot32_abs(__m256i abs_a, __m256i a, __m256i b) {
#if VPG_VNNI
    return VPG_DPBUSD256(_mm256_setzero_si256(), abs_a, _mm256_sign_epi8(b, a));   // the same sums in one step
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(abs_a, _mm256_sign_epi8(b, a)), _mm256_set1_epi16(1));
#endif
}

/// The 32-element formats: blocks in pairs with two accumulators per row, the odd last block into the first.
INLINE void block_pairs(const uint8_t *b, int64_t bytes, __m256i (*weights)(const uint8_t *), const void *xq,
                        int64_t stride, float *out, int64_t n, const int T) {
    __m256 acc0[4], acc1[4];
    for (int t = 0; t < T; t++) acc0[t] = acc1[t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < n / 32; i += 2, b += 2 * bytes) {
        PREFETCH(b, 2 * bytes);
        const uint8_t *b0 = b, *b1 = b + bytes;
        const __m256i w0 = weights(b0), w1 = weights(b1);
        const __m256i a0 = _mm256_sign_epi8(w0, w0), a1 = _mm256_sign_epi8(w1, w1);
        const float d0 = vpg_f16(b0), d1 = vpg_f16(b1);
        for (int t = 0; t < T; t++) {
            const vpg_q8_32 *y = ROW(vpg_q8_32, xq, stride, t);
            const __m256i x0 = _mm256_loadu_si256((const __m256i *)y[i].q);
            const __m256i x1 = _mm256_loadu_si256((const __m256i *)y[i + 1].q);
            acc0[t] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * y[i].d), _mm256_cvtepi32_ps(idot32_abs(a0, w0, x0)), acc0[t]);
            acc1[t] = _mm256_fmadd_ps(_mm256_set1_ps(d1 * y[i + 1].d), _mm256_cvtepi32_ps(idot32_abs(a1, w1, x1)), acc1[t]);
        }
    }
    if (i < n / 32) {
        const __m256i w0 = weights(b), a0 = _mm256_sign_epi8(w0, w0);
        const float d0 = vpg_f16(b);
        for (int t = 0; t < T; t++) {
            const vpg_q8_32 *y = ROW(vpg_q8_32, xq, stride, t);
            const __m256i x0 = _mm256_loadu_si256((const __m256i *)y[i].q);
            acc0[t] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * y[i].d), _mm256_cvtepi32_ps(idot32_abs(a0, w0, x0)), acc0[t]);
        }
    }
    for (int t = 0; t < T; t++) out[t] = vpg_hsum(_mm256_add_ps(acc0[t], acc1[t]));
}

#if VPG_WIDE
/// The wide pair kernels' end, per row t: the odd last block i (if n/32 is odd; b points at it) into the low half,
/// as block_pairs adds it, then the two halves' sum.
INLINE void pairs_wide_finish(const __m512 *acc, const uint8_t *b, int64_t i, __m256i (*weights)(const uint8_t *),
                              const void *xq, int64_t stride, float *out, int64_t n, const int T) {
    for (int t = 0; t < T; t++) {
        __m256 lo = _mm512_castps512_ps256(acc[t]);
        const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[t]), 1));
        if (i < n / 32) {
            const __m256i w0 = weights(b), a0 = _mm256_sign_epi8(w0, w0);
            const vpg_q8_32 *y = ROW(vpg_q8_32, xq, stride, t);
            const __m256i x0 = _mm256_loadu_si256((const __m256i *)y[i].q);
            lo = _mm256_fmadd_ps(_mm256_set1_ps(vpg_f16(b) * y[i].d), _mm256_cvtepi32_ps(idot32_abs(a0, w0, x0)), lo);
        }
        out[t] = vpg_hsum(_mm256_add_ps(lo, hi));
    }
}

/// AVX-512: a pair of blocks in one vector (block i in the low half, i + 1 in the high half), whose halves are the
/// 256-bit kernel's two accumulators; the odd last block goes into the low half after the pairs, as there.
/// AVX-512 has no sign_epi8: the activations are negated under the mask of negative weights (where a weight is 0,
/// its |w| already zeroes the product).
INLINE void block_pairs_wide(const uint8_t *b, int64_t bytes, __m256i (*weights)(const uint8_t *), const void *xq,
                             int64_t stride, float *out, int64_t n, const int T) {
    __m512 acc[4];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < n / 32; i += 2, b += 2 * bytes) {
        PREFETCH(b, 2 * bytes);
        const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(weights(b)), weights(b + bytes), 1);
        const __m512i a = _mm512_abs_epi8(w);
        const __mmask64 negative = _mm512_movepi8_mask(w);
        const float d0 = vpg_f16(b), d1 = vpg_f16(b + bytes);
        for (int t = 0; t < T; t++) {
            const vpg_q8_32 *y = ROW(vpg_q8_32, xq, stride, t);
            const __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)y[i].q)),
                                                 _mm256_loadu_si256((const __m256i *)y[i + 1].q), 1);
            const __m512i sx = _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x);
            const __m512 scale = _mm512_insertf32x8(_mm512_set1_ps(d0 * y[i].d), _mm256_set1_ps(d1 * y[i + 1].d), 1);
            const __m512i dots = _mm512_dpbusd_epi32(_mm512_setzero_si512(), a, sx);
            acc[t] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(dots), acc[t]);
        }
    }
    pairs_wide_finish(acc, b, i, weights, xq, stride, out, n, T);
}

/// Q4_0 / Q5_0 on AVX-512: the stored weights q are unsigned (w = q − o), so they go to vpdpbusd as they are and the
/// offset comes off per lane as o·(the lane's four activations), one more vpdpbusd: the same int32 lanes as
/// block_pairs_wide's in fewer steps. The pair's two scales are converted and multiplied as one vector.
typedef __m512i (*pair_q_fn)(const uint8_t *b, int64_t bytes);

/// Q4_0: the two blocks' 16 packed bytes, each spread over two 128-bit lanes, shifted by 0 or 4 (low nibbles, then
/// high nibbles: element order).
INLINE __m512i q4_0_pair_q(const uint8_t *b, int64_t bytes) {
    const __m256i packed = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(b + 2))),
                                                   _mm_loadu_si128((const __m128i *)(b + bytes + 2)), 1);
    const __m512i spread = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(packed));
    const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0, 0x0004000400040004,
                                            0x0004000400040004);
    return _mm512_and_si512(_mm512_srlv_epi16(spread, shift), _mm512_set1_epi8(0x0F));
}

INLINE __m512i q5_0_pair_q(const uint8_t *b, int64_t bytes) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(vpg_q5_0_q(b)), vpg_q5_0_q(b + bytes), 1);
}

INLINE void block_pairs_offset(const uint8_t *b, int64_t bytes, pair_q_fn pair_q, __m256i (*weights)(const uint8_t *),
                               const int offset, const void *xq, int64_t stride, float *out, int64_t n, const int T) {
    __m512 acc[4];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    const __m512i o = _mm512_set1_epi8((char)offset);
    const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    int64_t i = 0;
    for (; i + 1 < n / 32; i += 2, b += 2 * bytes) {
        PREFETCH(b, 2 * bytes);
        const __m512i q = pair_q(b, bytes);
        uint16_t h0, h1;
        memcpy(&h0, b, 2);
        memcpy(&h1, b + bytes, 2);
        const __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128((int)(h0 | (uint32_t)h1 << 16)));   // the two blocks' scales
        for (int t = 0; t < T; t++) {
            const vpg_q8_32 *y = ROW(vpg_q8_32, xq, stride, t);
            const __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)y[i].q)),
                                                 _mm256_loadu_si256((const __m256i *)y[i + 1].q), 1);
            const __m512i dots = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q, x),
                                                  _mm512_dpbusd_epi32(_mm512_setzero_si512(), o, x));
            const __m128 dy = _mm_mul_ps(d, _mm_setr_ps(y[i].d, y[i + 1].d, 0, 0));
            const __m512 scale = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(dy));
            acc[t] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(dots), acc[t]);
        }
    }
    pairs_wide_finish(acc, b, i, weights, xq, stride, out, n, T);
}
#define BLOCK_PAIRS block_pairs_wide
#define OFFSET_PAIRS(b, bytes, pair_q, weights, offset, xq, stride, out, n, T) \
    block_pairs_offset(b, bytes, pair_q, weights, offset, xq, stride, out, n, T)
#else
#define BLOCK_PAIRS block_pairs
#define OFFSET_PAIRS(b, bytes, pair_q, weights, offset, xq, stride, out, n, T) \
    block_pairs(b, bytes, weights, xq, stride, out, n, T)
#endif

/// The signed 8-bit weights of one block.
INLINE __m256i q8_0_weights(const uint8_t *b) { return _mm256_loadu_si256((const __m256i *)(b + 2)); }
INLINE __m256i q4_0_weights(const uint8_t *b) { return _mm256_sub_epi8(vpg_q4_0_q(b), _mm256_set1_epi8(8)); }
INLINE __m256i q5_0_weights(const uint8_t *b) { return _mm256_sub_epi8(vpg_q5_0_q(b), _mm256_set1_epi8(16)); }

// ---- k-quants. Up to four activation rows: each block is unpacked in registers, 32 weights at a time, and dotted
// with every row. More rows: a chunk of blocks is unpacked once into memory and dotted with the rows four at a
// time. Both do the same integer sums and the same float steps per row, so every row gets the one-row result.

/// The scales of one k-quant block: Σ w·x over it = d·y.d·Σ_j s_j·(w_j · x_j) − dmin·y.d·Σ_k m_k·bsum_k, where w_j
/// are 32 unsigned weights, s_j their int16 scales (as maddubs pair sums meet them), m the 16 int16 factors of the
/// activation sums.
typedef struct { __m256i s[8], m; float d, dmin; } k_scales;

/// Q4_K: w = d·sc·q − dmin·mn, 8 groups of 32 with 6-bit sc and mn, packed in 12 bytes as three words a, b, c:
/// sc 0–3 the low 6 bits of a's bytes, mn 0–3 of b's; sc 4–7 the low nibbles of c with a's top 2 bits above them,
/// mn 4–7 the high nibbles of c with b's top 2 bits. Decoded four at a time in words. Everything but s: m, d,
/// dmin; returns the eight group scales as int16.
INLINE __m128i q4_k_decode(const uint8_t *b, k_scales *k) {
    uint32_t w[3];
    memcpy(w, b + 4, 12);
    const uint32_t low6 = 0x3f3f3f3f, nibble = 0x0f0f0f0f, top2 = 0x03030303;
    const uint32_t sc03 = w[0] & low6, mn03 = w[1] & low6;
    const uint32_t sc47 = (w[2] & nibble) | ((w[0] >> 6) & top2) << 4;
    const uint32_t mn47 = ((w[2] >> 4) & nibble) | ((w[1] >> 6) & top2) << 4;
    const __m128i mn = _mm_set_epi32(0, 0, (int)mn47, (int)mn03);
    k->m = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(mn, _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7)));
    k->d = vpg_f16(b);
    k->dmin = vpg_f16(b + 2);
    return _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)sc47, (int)sc03));   // 8 int16
}

/// Q4_K with s: group j's scale spread by a shuffle.
INLINE void q4_k_scales(const uint8_t *b, k_scales *k) {
    const __m256i all = _mm256_broadcastsi128_si256(q4_k_decode(b, k));
    for (int j = 0; j < 8; j++) k->s[j] = _mm256_shuffle_epi8(all, _mm256_set1_epi16((short)(0x0100 + 0x0202 * j)));
}

/// Q6_K: w = d·sc·(q − 32), 16 groups of 16 with signed 8-bit sc; the weights are kept as q (0..63) and the 32
/// comes off through the activation sums (dmin = 32·d, m = sc). Everything but s: m (the sixteen scales as int16),
/// d, dmin.
INLINE void q6_k_decode(const uint8_t *b, k_scales *k) {
    k->m = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + 192)));
    k->d = vpg_f16(b + 208);
    k->dmin = 32 * k->d;
}

/// Q6_K with s: s[j] holds sc[2j] in its low half, sc[2j + 1] in its high half (shuffled from the widened scales).
INLINE void q6_k_scales(const uint8_t *b, k_scales *k) {
    q6_k_decode(b, k);
    const __m256i lo = _mm256_permute2x128_si256(k->m, k->m, 0x00), hi = _mm256_permute2x128_si256(k->m, k->m, 0x11);
    for (int j = 0; j < 8; j++) {
        const short a = (short)(0x0100 + 0x0202 * ((2 * j) & 7)), c = (short)(0x0100 + 0x0202 * ((2 * j + 1) & 7));
        const __m256i pick = _mm256_setr_epi16(a, a, a, a, a, a, a, a, c, c, c, c, c, c, c, c);
        k->s[j] = _mm256_shuffle_epi8(j < 4 ? lo : hi, pick);
    }
}

/// Fills w with `per` consecutive 32-weight vectors of group g.
typedef void (*k_weights_fn)(const uint8_t *, int g, __m256i *w);
typedef void (*k_scales_fn)(const uint8_t *, k_scales *);

/// dots += s_j · (w_j · x_j): the integer part for one row and one group of 32.
INLINE __m256i k_group(__m256i dots, __m256i w, __m256i s, const int8_t *x) {
    const __m256i pairs = _mm256_maddubs_epi16(w, _mm256_loadu_si256((const __m256i *)x));
#if VPG_VNNI
    return VPG_DPWSSD256(dots, pairs, s);   // madd and add in one step
#else
    return _mm256_add_epi32(dots, _mm256_madd_epi16(pairs, s));
#endif
}

/// acc += the block's contribution, from its integer dots and the row's activation block y.
INLINE __m256 k_finish(__m256 acc, __m256i dots, const vpg_q8_256 *y, const k_scales *k) {
    const __m256i sums = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)y->bsums), k->m);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(k->d * y->d), _mm256_cvtepi32_ps(dots), acc);
    return _mm256_fnmadd_ps(_mm256_set1_ps(k->dmin * y->d), _mm256_cvtepi32_ps(sums), acc);
}

/// Up to four rows, accumulators in registers (up to eight: the integer sums stay in registers).
INLINE void k_rows_few(const uint8_t *b, int64_t block_bytes, k_scales_fn scales, k_weights_fn weights, const int per,
                       const void *xq, int64_t stride, float *out, int64_t n, const int T) {
    __m256 acc[8];
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++, b += block_bytes) {
        PREFETCH(b, block_bytes);
        k_scales k;
        scales(b, &k);
        __m256i dots[8];
        for (int t = 0; t < T; t++) dots[t] = _mm256_setzero_si256();
        for (int g = 0; g < 8 / per; g++) {
            __m256i w[4];
            weights(b, g, w);
            for (int v = 0; v < per; v++) {
                const int j = g * per + v;
                for (int t = 0; t < T; t++) dots[t] = k_group(dots[t], w[v], k.s[j], ROW(vpg_q8_256, xq, stride, t)[i].q + 32 * j);
            }
        }
        for (int t = 0; t < T; t++) acc[t] = k_finish(acc[t], dots[t], ROW(vpg_q8_256, xq, stride, t) + i, &k);
    }
    for (int t = 0; t < T; t++) out[t] = vpg_hsum(acc[t]);
}

#if VPG_WIDE
/// AVX-512, up to four rows: two 32-weight groups per 512-bit vector (group 2p in the low half, 2p + 1 in the high
/// half), the two halves' int32 sums added at the block's end. Each lane then holds the integers the 256-bit kernel
/// has, so the float steps and the results are the same.
typedef void (*k_weights512_fn)(const uint8_t *, int g, __m512i *w);

INLINE __m512i k_join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

/// Q4_K: weights 64g..64g+63 (vpg_q4_k_weights' two vectors, joined): 32 bytes, low nibbles, then high nibbles.
INLINE void q4_k_weights512(const uint8_t *b, int g, __m512i *w) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * g)), m4 = _mm256_set1_epi8(0x0F);
    w[0] = k_join(_mm256_and_si256(v, m4), _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
}

/// Q6_K: weights 128g..128g+127 (vpg_q6_k_weights' four vectors, joined in pairs).
INLINE void q6_k_weights512(const uint8_t *b, int g, __m512i *w) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x03);
    const __m512i ql = _mm512_loadu_si512((const void *)(b + 64 * g));
    const __m256i h = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * g));
    const __m512i qh = k_join(h, h);
    const __m512i s01 = k_join(_mm256_setzero_si256(), _mm256_set1_epi16(2));
    const __m512i s23 = k_join(_mm256_set1_epi16(4), _mm256_set1_epi16(6));
    w[0] = _mm512_or_si512(_mm512_and_si512(ql, m4),
                           _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, s01), m2), 4));
    w[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                           _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, s23), m2), 4));
}

/// The wide kernel's scales: s[p] holds k_scales' s[2p] in its low half and s[2p + 1] in its high half, each made by
/// one permute of the block's scales (k.s is left unset).
/// Q4_K: 8 scales; lane l of s[p] takes scale 2p + l / 16.
INLINE void q4_k_scales512(const uint8_t *b, k_scales *k, __m512i *s) {
    const __m512i all = _mm512_castsi128_si512(q4_k_decode(b, k));
    for (int p = 0; p < 4; p++)
        s[p] = _mm512_permutexvar_epi16(_mm512_mask_set1_epi16(_mm512_set1_epi16((short)(2 * p)), 0xFFFF0000u,
                                                                (short)(2 * p + 1)), all);
}

/// Q6_K: 16 scales; lane l of s[p] takes scale 4p + l / 8.
INLINE void q6_k_scales512(const uint8_t *b, k_scales *k, __m512i *s) {
    q6_k_decode(b, k);
    const __m512i all = _mm512_castsi256_si512(k->m);
    const __m512i eighth = _mm512_srli_epi16(
        _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
                         15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 3);
    for (int p = 0; p < 4; p++) s[p] = _mm512_permutexvar_epi16(_mm512_add_epi16(eighth, _mm512_set1_epi16((short)(4 * p))), all);
}

/// A k-quant's pieces for the wide kernel: its scales and its weights.
typedef struct {
    void (*scales)(const uint8_t *, k_scales *, __m512i *s);
    k_weights512_fn weights;
} k_wide;
static const k_wide q4_k_wide = {q4_k_scales512, q4_k_weights512};
static const k_wide q6_k_wide = {q6_k_scales512, q6_k_weights512};

INLINE void k_rows_few_wide(const uint8_t *b, int64_t block_bytes, const k_wide *wide,
                            const int per, const void *xq, int64_t stride, float *out, int64_t n, const int T) {
    __m256 acc[4];
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++, b += block_bytes) {
        PREFETCH(b, block_bytes);
        k_scales k;
        __m512i s[4];   // scales of groups 2p, 2p + 1
        wide->scales(b, &k, s);
        __m512i dots[4];
        for (int t = 0; t < T; t++) dots[t] = _mm512_setzero_si512();
        for (int g = 0; g < 8 / per; g++) {
            __m512i w[2];
            wide->weights(b, g, w);
            for (int v = 0; v < per / 2; v++) {
                const int p = g * per / 2 + v;
                for (int t = 0; t < T; t++) {
                    const __m512i x = _mm512_loadu_si512((const void *)(ROW(vpg_q8_256, xq, stride, t)[i].q + 64 * p));
                    dots[t] = _mm512_dpwssd_epi32(dots[t], _mm512_maddubs_epi16(w[v], x), s[p]);
                }
            }
        }
        for (int t = 0; t < T; t++) {
            const __m256i d = _mm256_add_epi32(_mm512_castsi512_si256(dots[t]), _mm512_extracti64x4_epi64(dots[t], 1));
            acc[t] = k_finish(acc[t], d, ROW(vpg_q8_256, xq, stride, t) + i, &k);
        }
    }
    for (int t = 0; t < T; t++) out[t] = vpg_hsum(acc[t]);
}
#define K_FEW(b, bytes, scales, weights, wide, per, xq, stride, out, n, T) \
    k_rows_few_wide(b, bytes, wide, per, xq, stride, out, n, T)
#else
#define K_FEW(b, bytes, scales, weights, wide, per, xq, stride, out, n, T) \
    k_rows_few(b, bytes, scales, weights, per, xq, stride, out, n, T)
#endif

/// One block unpacked into memory.
typedef struct { __m256i w[8]; k_scales k; } k_block;

/// Blocks unpacked at a time (8 × 832 B ≈ 7 KB: stays in L1 while every row is dotted with them).
#define K_CHUNK 8

/// acc_rows[first + t] += the dot of blocks [i0, i1) (unpacked in u) with activation row first + t, t < T.
INLINE void k_chunk_rows(const k_block *u, int64_t i0, int64_t i1, const void *xq, int64_t stride, int first,
                         __m256 *acc_rows, const int T) {
    __m256 acc[4];
    for (int t = 0; t < T; t++) acc[t] = acc_rows[first + t];
    for (int64_t i = i0; i < i1; i++) {
        const k_block *blk = u + (i - i0);
        __m256i dots[4];
        for (int t = 0; t < T; t++) dots[t] = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++)
            for (int t = 0; t < T; t++)
                dots[t] = k_group(dots[t], blk->w[j], blk->k.s[j], ROW(vpg_q8_256, xq, stride, first + t)[i].q + 32 * j);
        for (int t = 0; t < T; t++) acc[t] = k_finish(acc[t], dots[t], ROW(vpg_q8_256, xq, stride, first + t) + i, &blk->k);
    }
    for (int t = 0; t < T; t++) acc_rows[first + t] = acc[t];
}

/// Any number of rows up to VPG_DOTQ_MAX_ROWS (`wide`: the AVX-512 scales and weights of up to four rows).
#define k_rows(b, bytes, scales, weights, wide, per, xq, stride, out, n, rows) \
    k_rows_any(b, bytes, scales, weights, K_WIDE(wide), per, xq, stride, out, n, rows)
#if VPG_WIDE
#define K_WIDE(wide) wide
#else
typedef void k_wide;
#define K_WIDE(wide) NULL
#endif
INLINE void k_rows_any(const uint8_t *b, int64_t block_bytes, k_scales_fn scales, k_weights_fn weights,
                       const k_wide *wide, const int per, const void *xq, int64_t stride, float *out, int64_t n,
                       const int rows) {
    switch (rows) {
    case 1: return K_FEW(b, block_bytes, scales, weights, wide, per, xq, stride, out, n, 1);
    case 2: return K_FEW(b, block_bytes, scales, weights, wide, per, xq, stride, out, n, 2);
    case 3: return K_FEW(b, block_bytes, scales, weights, wide, per, xq, stride, out, n, 3);
    case 4: return K_FEW(b, block_bytes, scales, weights, wide, per, xq, stride, out, n, 4);
    // Five to eight rows (batched generation of as many sequences): the same kernel with the integer sums of
    // all rows in registers and the float accumulators spilled, so each weight is unpacked once from the stream
    // (faster than two four-row passes over a chunk; Benchmarks/README.md has the measurement).
    case 5: return k_rows_few(b, block_bytes, scales, weights, per, xq, stride, out, n, 5);
    case 6: return k_rows_few(b, block_bytes, scales, weights, per, xq, stride, out, n, 6);
    case 7: return k_rows_few(b, block_bytes, scales, weights, per, xq, stride, out, n, 7);
    case 8: return k_rows_few(b, block_bytes, scales, weights, per, xq, stride, out, n, 8);
    }
    __m256 acc[VPG_DOTQ_MAX_ROWS];
    for (int t = 0; t < rows; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i0 = 0; i0 < n / 256; i0 += K_CHUNK) {
        const int64_t i1 = i0 + K_CHUNK < n / 256 ? i0 + K_CHUNK : n / 256;
        k_block u[K_CHUNK];
        for (int64_t i = i0; i < i1; i++) {
            const uint8_t *bi = b + i * block_bytes;
            scales(bi, &u[i - i0].k);
            for (int g = 0; g < 8 / per; g++) weights(bi, g, u[i - i0].w + g * per);
        }
        for (int t = 0; t < rows; t += 4) {
            switch (rows - t) {
            case 1: k_chunk_rows(u, i0, i1, xq, stride, t, acc, 1); break;
            case 2: k_chunk_rows(u, i0, i1, xq, stride, t, acc, 2); break;
            case 3: k_chunk_rows(u, i0, i1, xq, stride, t, acc, 3); break;
            default: k_chunk_rows(u, i0, i1, xq, stride, t, acc, 4); break;
            }
        }
    }
    for (int t = 0; t < rows; t++) out[t] = vpg_hsum(acc[t]);
}

// ---- Activation quantization: the plain C's steps (max |x|, d = max / 127, x·(1/d) rounded to nearest even),
// eight values at a time, so the bytes are the same.

/// Largest |x_i| of n floats (n a multiple of 8).
INLINE float amax_f32(const float *x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/// 32 values x·id, rounded to nearest even, as 32 int8 in order (the packs interleave 128-bit lanes; the permute
/// undoes it).
INLINE __m256i round32(const float *x, __m256 id) {
    __m256i v[4];
    for (int k = 0; k < 4; k++) v[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), id));
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    return _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/// Blocks of 32 with |q| ≤ levels, stored plus bias.
INLINE void quantize_32(const float *x, vpg_q8_32 *out, int64_t n, float levels, int bias) {
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        const float d = amax_f32(x, 32) / levels, id = d > 0 ? 1 / d : 0;
        out[b].d = d;
        const __m256i q = _mm256_add_epi8(round32(x, _mm256_set1_ps(id)), _mm256_set1_epi8((char)bias));
        _mm256_storeu_si256((__m256i *)out[b].q, q);
    }
}

AVX2 void VPG_FN(vpg_quantize_q8_32)(const float *x, void *blocks, int64_t n) { quantize_32(x, blocks, n, 127, 0); }
AVX2 void VPG_FN(vpg_quantize_q7_32)(const float *x, void *blocks, int64_t n) { quantize_32(x, blocks, n, 63, 64); }

AVX2 void VPG_FN(vpg_quantize_q8_256)(const float *x, void *blocks, int64_t n) {
    vpg_q8_256 *out = blocks;
    for (int64_t b = 0; b < n / 256; b++, x += 256) {
        const float d = amax_f32(x, 256) / 127, id = d > 0 ? 1 / d : 0;
        out[b].d = d;
        for (int c = 0; c < 8; c++) {
            const __m256i q = round32(x + 32 * c, _mm256_set1_ps(id));
            _mm256_storeu_si256((__m256i *)(out[b].q + 32 * c), q);
            // Sums of 4 bytes in 8 lanes, then of lanes 0–3 (bytes 0–15) and 4–7 (bytes 16–31).
            __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
            s = _mm256_hadd_epi32(s, s);
            s = _mm256_hadd_epi32(s, s);
            out[b].bsums[2 * c] = (int16_t)_mm256_extract_epi32(s, 0);
            out[b].bsums[2 * c + 1] = (int16_t)_mm256_extract_epi32(s, 4);
        }
    }
}

// The 32-element formats: one entry point per row count up to four, so that every per-row loop unrolls and the
// accumulators stay in registers; more rows, four at a time.
#define BY_FOURS(NAME, CALL)                                                                               \
    AVX2 void NAME(const void *row, const void *xq_rows, int64_t stride, int rows, float *out_rows, int64_t n) { \
        for (int t0 = 0; t0 < rows; t0 += 4) {                                                             \
            const void *xq = (const uint8_t *)xq_rows + t0 * stride;                                       \
            float *out = out_rows + t0;                                                                    \
            switch (rows - t0) {                                                                           \
            case 1: CALL(1); break;                                                                        \
            case 2: CALL(2); break;                                                                        \
            case 3: CALL(3); break;                                                                        \
            default: CALL(4); break;                                                                       \
            }                                                                                              \
        }                                                                                                  \
    }
// The k-quants take any row count.
#define ANY_ROWS(NAME, CALL)                                                                               \
    AVX2 void NAME(const void *row, const void *xq, int64_t stride, int rows, float *out, int64_t n) { CALL(rows); }
#define Q8_0(T) BLOCK_PAIRS(row, 34, q8_0_weights, xq, stride, out, n, T)
#define Q4_0(T) OFFSET_PAIRS(row, 18, q4_0_pair_q, q4_0_weights, 8, xq, stride, out, n, T)
#define Q5_0(T) OFFSET_PAIRS(row, 22, q5_0_pair_q, q5_0_weights, 16, xq, stride, out, n, T)
#define Q4_K(T) k_rows(row, 144, q4_k_scales, vpg_q4_k_weights, &q4_k_wide, 2, xq, stride, out, n, T)
#define Q6_K(T) k_rows(row, 210, q6_k_scales, vpg_q6_k_weights, &q6_k_wide, 4, xq, stride, out, n, T)
BY_FOURS(VPG_FN(vpg_dotq_rows_q8_0), Q8_0)
BY_FOURS(VPG_FN(vpg_dotq_rows_q4_0), Q4_0)
BY_FOURS(VPG_FN(vpg_dotq_rows_q5_0), Q5_0)
ANY_ROWS(VPG_FN(vpg_dotq_rows_q4_k), Q4_K)
ANY_ROWS(VPG_FN(vpg_dotq_rows_q6_k), Q6_K)

// The one-row kernels (generation of one sequence).
#define ONE(NAME, CALL)                                                                                    \
    AVX2 float NAME(const void *row, const void *xq, int64_t n) {                                          \
        const int64_t stride = 0;                                                                          \
        float out[1];                                                                                      \
        CALL(1);                                                                                           \
        return out[0];                                                                                     \
    }
ONE(VPG_FN(vpg_dotq_q8_0), Q8_0)
ONE(VPG_FN(vpg_dotq_q4_0), Q4_0)
ONE(VPG_FN(vpg_dotq_q5_0), Q5_0)
ONE(VPG_FN(vpg_dotq_q4_k), Q4_K)
ONE(VPG_FN(vpg_dotq_q6_k), Q6_K)

#elif !defined(VPG_BUILD_AVXVNNI) && !defined(VPG_BUILD_AVX512)
// Other CPUs: the AVX2 names lead to the generic twins.
#define FALLBACK(NAME, GENERIC)                                                                            \
    void NAME(const void *row, const void *xq, int64_t stride, int rows, float *out, int64_t n) {          \
        GENERIC(row, xq, stride, rows, out, n);                                                            \
    }
FALLBACK(vpg_dotq_rows_q8_0_avx2, vpg_dotq_rows_q8_0_generic)
FALLBACK(vpg_dotq_rows_q4_0_avx2, vpg_dotq_rows_q4_0_generic)
FALLBACK(vpg_dotq_rows_q5_0_avx2, vpg_dotq_rows_q5_0_generic)
FALLBACK(vpg_dotq_rows_q4_k_avx2, vpg_dotq_rows_q4_k_generic)
FALLBACK(vpg_dotq_rows_q6_k_avx2, vpg_dotq_rows_q6_k_generic)
void vpg_quantize_q8_32_avx2(const float *x, void *out, int64_t n) { vpg_quantize_q8_32_generic(x, out, n); }
void vpg_quantize_q7_32_avx2(const float *x, void *out, int64_t n) { vpg_quantize_q7_32_generic(x, out, n); }
void vpg_quantize_q8_256_avx2(const float *x, void *out, int64_t n) { vpg_quantize_q8_256_generic(x, out, n); }
float vpg_dotq_q8_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q8_0_generic(r, x, n); }
float vpg_dotq_q4_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q4_0_generic(r, x, n); }
float vpg_dotq_q5_0_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q5_0_generic(r, x, n); }
float vpg_dotq_q4_k_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q4_k_generic(r, x, n); }
float vpg_dotq_q6_k_avx2(const void *r, const void *x, int64_t n) { return vpg_dotq_q6_k_generic(r, x, n); }
#endif
