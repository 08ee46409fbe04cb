// AVX2 attention of a group of query heads over one key/value head (twins: attend_generic.c). Each key and
// value row is read and widened once for every query head of its group, in 8-wide steps along the head. The scores
// take two keys at a time (each query slice loaded once for both); the softmax takes e^x eight lanes at a time with
// libm's bits (exp_table_avx2.h), its sums in order; the output takes the values in blocks of rows that stay in L1
// through the block's passes over the head (one pass over every row per 8-wide slice, as before, read a long
// context's values from memory or L3 once per slice). Each score, sum and output lane sees the same operations in
// the same order as one key and one slice at a time: the same bits as before these three changes.
#include "CKernels.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#include "simd_avx2.h"
#include "exp_table_avx2.h"

#define INLINE AVX2 static inline __attribute__((always_inline))

/// Value rows per block of the output pass: 64 rows of a 128-wide f16 head are 16 KB.
#define ATTEND_BLOCK 64

/// Cache rows ahead that a pass asks for: a long context's keys and values come from memory (the weights pass
/// through the caches between two tokens), and the hardware's prefetchers did not follow rows that skip the other
/// heads' bytes (Benchmarks/README.md).
#define ATTEND_AHEAD 16

/// Asks for the head's bytes of cache row `row` (`bytes` of them: its lines).
INLINE void ask_row(const uint8_t *row, int bytes) {
    for (int o = 0; o < bytes; o += 64) _mm_prefetch((const char *)row + o, _MM_HINT_T0);
}

/// Values c..c+7 of a cache row, as f32.
INLINE __m256 load8(const uint8_t *row, int c, const int f16) {
    return f16 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * c))) : _mm256_loadu_ps((const float *)row + c);
}

/// scores[g, j..j+R−1] = scale · q_g · k_j for R (1 or 2) keys: each key's 8-wide partial sums in one chain along
/// the head, then vpg_hsum.
INLINE void score_keys(const float *q, const uint8_t *k, int64_t row_bytes, int64_t j, int64_t length, int head_dim,
                       float scale, float *scores, const int G, const int R, const int f16) {
    __m256 acc[2][8];
    for (int r = 0; r < R; r++)
        for (int g = 0; g < G; g++) acc[r][g] = _mm256_setzero_ps();
    for (int r = 0; r < R; r++) ask_row(k + (j + r + ATTEND_AHEAD) * row_bytes, head_dim * (f16 ? 2 : 4));
    for (int c = 0; c < head_dim; c += 8) {
        __m256 x[2];
        for (int r = 0; r < R; r++) x[r] = load8(k + (j + r) * row_bytes, c, f16);
        for (int g = 0; g < G; g++) {
            const __m256 qg = _mm256_loadu_ps(q + g * head_dim + c);
            for (int r = 0; r < R; r++) acc[r][g] = _mm256_fmadd_ps(x[r], qg, acc[r][g]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int g = 0; g < G; g++) scores[g * length + j + r] = vpg_hsum(acc[r][g]) * scale;
}

/// vpg_softmax_rows (attend_generic.c) on G rows, with the same bits: the maximum, e^(s − max) as libm's expf, the
/// sum in order (the G rows' sums as G chains side by side), then times 1 / sum.
INLINE void softmax_rows(float *scores, int64_t length, const int G) {
    const int64_t body = length / 8 * 8;
    float sum[8];
    for (int g = 0; g < G; g++) {
        float *s = scores + g * length;
        __m256 mv = _mm256_set1_ps(-INFINITY);
        for (int64_t j = 0; j < body; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(s + j));
        float lanes[8], m = -INFINITY;
        _mm256_storeu_ps(lanes, mv);
        for (int l = 0; l < 8; l++) m = fmaxf(m, lanes[l]);
        for (int64_t j = body; j < length; j++) m = fmaxf(m, s[j]);
        const __m256 shift = _mm256_set1_ps(m);
        for (int64_t j = 0; j < body; j += 8) _mm256_storeu_ps(s + j, vpg_exp_table8(_mm256_sub_ps(_mm256_loadu_ps(s + j), shift)));
        for (int64_t j = body; j < length; j++) s[j] = vpg_exp_table_f32(s[j] - m);
        sum[g] = 0;
    }
    for (int64_t j = 0; j < length; j++)
        for (int g = 0; g < G; g++) sum[g] += scores[g * length + j];
    for (int g = 0; g < G; g++) {
        float *s = scores + g * length;
        const float inv = 1 / sum[g];
        const __m256 iv = _mm256_set1_ps(inv);
        for (int64_t j = 0; j < body; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), iv));
        for (int64_t j = body; j < length; j++) s[j] *= inv;
    }
}

/// out[g, c..c+8S−1] += Σ_j p[g, j] · v_j over rows j0..<j1, for S (1 or 2) 8-wide slices; the first block starts
/// from zero, the others from the sums so far (stored as f32, so each lane's chain of fmas is the one-pass chain).
INLINE void weigh_values(const uint8_t *v, int64_t row_bytes, int64_t j0, int64_t j1, int64_t length, int head_dim,
                         int c, const float *scores, float *out, const int G, const int S, const int f16) {
    __m256 o[8][2];
    for (int g = 0; g < G; g++)
        for (int s = 0; s < S; s++)
            o[g][s] = j0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(out + g * head_dim + c + 8 * s);
    for (int64_t j = j0; j < j1; j++) {
        if (c == 0) ask_row(v + (j + ATTEND_AHEAD) * row_bytes, head_dim * (f16 ? 2 : 4));   // the block's first pass
        __m256 x[2];
        for (int s = 0; s < S; s++) x[s] = load8(v + j * row_bytes, c + 8 * s, f16);
        for (int g = 0; g < G; g++) {
            const __m256 p = _mm256_broadcast_ss(scores + g * length + j);
            for (int s = 0; s < S; s++) o[g][s] = _mm256_fmadd_ps(p, x[s], o[g][s]);
        }
    }
    for (int g = 0; g < G; g++)
        for (int s = 0; s < S; s++) _mm256_storeu_ps(out + g * head_dim + c + 8 * s, o[g][s]);
}

/// G query heads (a compile-time count, so that the per-head accumulators stay in registers; up to six heads take
/// two keys, or two slices, at a time in the 16 registers).
INLINE void attend(const float *q, const uint8_t *k, const uint8_t *v, int64_t row_bytes, int64_t length, int head_dim,
                   float scale, float *scores, float *out, const int G, const int f16) {
    const int pair = G <= 6;
    int64_t j = 0;
    for (; pair && j + 2 <= length; j += 2) score_keys(q, k, row_bytes, j, length, head_dim, scale, scores, G, 2, f16);
    for (; j < length; j++) score_keys(q, k, row_bytes, j, length, head_dim, scale, scores, G, 1, f16);
    softmax_rows(scores, length, G);
    for (int64_t j0 = 0; j0 < length; j0 += ATTEND_BLOCK) {
        const int64_t j1 = j0 + ATTEND_BLOCK < length ? j0 + ATTEND_BLOCK : length;
        int c = 0;
        for (; pair && c + 16 <= head_dim; c += 16) weigh_values(v, row_bytes, j0, j1, length, head_dim, c, scores, out, G, 2, f16);
        for (; c < head_dim; c += 8) weigh_values(v, row_bytes, j0, j1, length, head_dim, c, scores, out, G, 1, f16);
    }
}

#define ENTRY(NAME, F16)                                                                                   \
    AVX2 void NAME(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length,       \
                   int group, int head_dim, float scale, float *scores, float *out) {                      \
        if (head_dim % 8 != 0 || group > 8) {                                                              \
            vpg_attend_rows(F16 ? vpg_dequant_kernel(1, VPG_PATH) : NULL, q, k0, v0, row_bytes, length, \
                            group, head_dim, scale, scores, out);                                          \
            return;                                                                                        \
        }                                                                                                  \
        switch (group) {                                                                                   \
        case 1: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 1, F16); break;          \
        case 2: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 2, F16); break;          \
        case 3: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 3, F16); break;          \
        case 4: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 4, F16); break;          \
        case 5: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 5, F16); break;          \
        case 6: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 6, F16); break;          \
        case 7: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 7, F16); break;          \
        default: attend(q, k0, v0, row_bytes, length, head_dim, scale, scores, out, 8, F16); break;         \
        }                                                                                                  \
    }
ENTRY(VPG_FN(vpg_attend_f32), 0)
ENTRY(VPG_FN(vpg_attend_f16), 1)

/// q8_0 rows: widened by the AVX2 row kernel, then the plain loops.
void VPG_FN(vpg_attend_q8_0)(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length,
                          int group, int head_dim, float scale, float *scores, float *out) {
    vpg_attend_rows(vpg_dequant_kernel(8, VPG_PATH), q, k0, v0, row_bytes, length, group, head_dim, scale, scores, out);
}

#elif !defined(VPG_BUILD_AVXVNNI) && !defined(VPG_BUILD_AVX512)
// Other CPUs: the AVX2 names lead to the generic twins.
void vpg_attend_f32_avx2(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length, int group,
                         int head_dim, float scale, float *scores, float *out) {
    vpg_attend_f32_generic(q, k0, v0, row_bytes, length, group, head_dim, scale, scores, out);
}
void vpg_attend_f16_avx2(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length, int group,
                         int head_dim, float scale, float *scores, float *out) {
    vpg_attend_f16_generic(q, k0, v0, row_bytes, length, group, head_dim, scale, scores, out);
}
void vpg_attend_q8_0_avx2(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length, int group,
                          int head_dim, float scale, float *scores, float *out) {
    vpg_attend_q8_0_generic(q, k0, v0, row_bytes, length, group, head_dim, scale, scores, out);
}
#endif
