// AVX2 helpers shared by the f32-activation and the 8-bit-activation kernels, on every x86 path (simd_path.h).
#ifndef VPGEA_SIMD_AVX2_H
#define VPGEA_SIMD_AVX2_H
#if defined(__x86_64__)
#include <stdint.h>
#include <string.h>
#include "CKernels.h"
#include "simd_path.h"

/// The target attribute of the path being built (the name is the baseline's: every path has AVX2).
#define AVX2 VPG_TARGET

/// How far ahead of the block in use a one-token row product asks for its weights (bytes), where vpg_row_prefetch()
/// says so. A group of interleaved rows, or a stored row, is one stream; Intel's server cores (Sapphire Rapids
/// class) followed it too late on their own, so those products waited on memory and on their instructions in turn;
/// asked for this far ahead, they read about as fast as a plain read (Benchmarks/README.md). The last requests run
/// past the matrix: a prefetch does not fault. (The 256-bit Q4_0/Q5_0 rows, x16_rows_avx2.c, keep their own
/// prefetch on every CPU, as before.)
#define VPG_ROWS_PREFETCH 2048
extern int vpg_row_prefetch_on;   // dispatch.c: 1 or 0 once the first product has asked vpg_row_prefetch()

/// Asks for `bytes` bytes (a whole number of 64-byte lines) at p + VPG_ROWS_PREFETCH, when prefetching is on.
AVX2 static inline __attribute__((always_inline)) void vpg_prefetch_ahead(const uint8_t *p, int64_t bytes) {
    if (vpg_row_prefetch_on > 0)
        for (int64_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)p + VPG_ROWS_PREFETCH + o, _MM_HINT_T0);
}

/// The interleaved row products' walk, in the scope of a vpg_matmul_panels_fn's parameters (rows, row_bytes, xq,
/// stride, tokens, y, ldy, r0, r1): each group of sixteen rows in r0..<r1, and for each run of up to MAX (3 or 4)
/// tokens t.. (the group stays in cache for the next run) FN(ARGS…, TT), TT a constant 1–MAX so that the per-token
/// loops unroll. ARGS may name the walk's `group`, `t`, `xt` (token t's activations) and `out` (its results for the
/// group).
#define VPG_X16_ROWS_BY_TOKENS(MAX, FN, ...)                                                                      \
    for (int64_t g = r0; g < r1; g += 16) {                                                                       \
        const uint8_t *group = (const uint8_t *)rows + g * row_bytes;                                             \
        for (int64_t t = 0; t < tokens; t += (MAX)) {                                                             \
            const void *xt = (const uint8_t *)xq + t * stride;                                                    \
            float *out = y + t * ldy + (g - r0);                                                                  \
            switch (tokens - t < (MAX) ? tokens - t : (MAX)) {                                                    \
            case 1: FN(__VA_ARGS__, 1); break;                                                                    \
            case 2: FN(__VA_ARGS__, 2); break;                                                                    \
            case 3: FN(__VA_ARGS__, 3); break;                                                                    \
            default: if ((MAX) == 4) FN(__VA_ARGS__, 4);                                                          \
            }                                                                                                     \
        }                                                                                                         \
    }

/// Horizontal sum of 8 floats.
AVX2 static inline float vpg_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// 16 packed bytes → 32 nibbles: low nibbles in bytes 0..15, high nibbles in bytes 16..31.
AVX2 static inline __m256i vpg_nibbles(const uint8_t *p) {
    const __m128i t = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0F));
}

/// 32 bits → 32 bytes, 0xFF where the bit is set (byte i ↔ bit i): byte i receives the byte of `bits` that
/// holds bit i, every other bit of it is forced to 1, and only bytes whose bit i was set become all ones.
AVX2 static inline __m256i vpg_bits_to_bytes(uint32_t bits) {
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
    return _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x((long long)0x7fbfdfeff7fbfdfeULL)),
                             _mm256_set1_epi8(-1));
}

/// The 32 stored (unsigned) weights of a Q4_0 block, element order; the weights are q − 8.
AVX2 static inline __m256i vpg_q4_0_q(const uint8_t *b) { return vpg_nibbles(b + 2); }

/// The 32 stored (unsigned, 5-bit) weights of a Q5_0 block, element order; the weights are q − 16.
AVX2 static inline __m256i vpg_q5_0_q(const uint8_t *b) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    return _mm256_or_si256(vpg_nibbles(b + 6), _mm256_and_si256(vpg_bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
}

/// Weights 64g..64g+63 of a Q4_K block (0..15) as w[0], w[1]: the low nibbles of 32 bytes, then their high nibbles.
AVX2 static inline void vpg_q4_k_weights(const uint8_t *b, int g, __m256i *w) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * g)), m4 = _mm256_set1_epi8(0x0F);
    w[0] = _mm256_and_si256(v, m4);
    w[1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
}

/// Weights 128g..128g+127 of a Q6_K block (0..63) as w[0..3]: 4 low bits from ql, 2 high bits from qh.
AVX2 static inline void vpg_q6_k_weights(const uint8_t *b, int g, __m256i *w) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b + 64 * g));
    const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b + 64 * g + 32));
    const __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * g));
    w[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
    w[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
    w[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
    w[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
}

/// An entry point of the products' signature (vpg_matmul_panels_fn) that runs BODY(TYPE, …): one kernel body serving
/// several weight types.
#define VPG_TYPED_PRODUCT(NAME, BODY, TYPE)                                                                        \
    AVX2 void NAME(const void *rows, int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, float *y,  \
                   int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {                                            \
        BODY(TYPE, rows, row_bytes, xq, stride, tokens, y, ldy, r0, r1, cols);                                     \
    }

/// The pshufb control that picks bytes b0..b3 (0x80: zero) of each dword lane of a 128-bit lane: the k-quant scale
/// decoders' (one row per dword lane) on every width, broadcast to the lanes of the wider vectors.
AVX2 static inline __m128i vpg_dword_pick(int b0, int b1, int b2, int b3) {
    const char z = (char)0x80;
#define VPG_AT(b, o) ((b) == 0x80 ? z : (char)((b) + (o)))
    return _mm_setr_epi8(VPG_AT(b0, 0), VPG_AT(b1, 0), VPG_AT(b2, 0), VPG_AT(b3, 0), VPG_AT(b0, 4), VPG_AT(b1, 4),
                         VPG_AT(b2, 4), VPG_AT(b3, 4), VPG_AT(b0, 8), VPG_AT(b1, 8), VPG_AT(b2, 8), VPG_AT(b3, 8),
                         VPG_AT(b0, 12), VPG_AT(b1, 12), VPG_AT(b2, 12), VPG_AT(b3, 12));
#undef VPG_AT
}

/// Half h (rows 8h..8h + 7, one per dword lane) of a 64-byte vector of the layout interleaved by sixteen rows at p.
AVX2 static inline __m256i vpg_half8(const uint8_t *p, int h) { return _mm256_loadu_si256((const __m256i *)(p + 32 * h)); }

/// Each dword lane's bytes picked by b0..b3 (0x80: zero), as _mm256_shuffle_epi8 takes them.
AVX2 static inline __m256i vpg_pick256(__m256i v, int b0, int b1, int b2, int b3) {
    return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(vpg_dword_pick(b0, b1, b2, b3)));
}

/// Eight interleaved Q4_K rows' scale dwords a, b, c (bytes 0–3, 4–7, 8–11 of each row's 12, one row per dword
/// lane) → each row's 6-bit scales 0–3 and 4–7 (sc) and minimums 0–3 and 4–7 (mn), one per byte.
AVX2 static inline void vpg_q4_k_scales8(__m256i a, __m256i b, __m256i c, __m256i sc[2], __m256i mn[2]) {
    const __m256i low6 = _mm256_set1_epi32(0x3f3f3f3f), nibble = _mm256_set1_epi32(0x0f0f0f0f);
    const __m256i top2 = _mm256_set1_epi32(0x03030303);
    sc[0] = _mm256_and_si256(a, low6);
    sc[1] = _mm256_or_si256(_mm256_and_si256(c, nibble), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(a, 6), top2), 4));
    mn[0] = _mm256_and_si256(b, low6);
    mn[1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(c, 4), nibble),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(b, 6), top2), 4));
}

/// Eight interleaved Q6_K rows' scales 2g and 2g + 1 (sv: their four scale dwords, one row per dword lane) as a
/// signed int16 pair per lane: the factors of group g's activation sums.
AVX2 static inline __m256i vpg_q6_k_pair8(const __m256i *sv, int g) {
    return _mm256_srai_epi16(vpg_pick256(sv[g / 2], 0x80, (2 * g) % 4, 0x80, (2 * g) % 4 + 1), 8);
}

/// Q5_0's fifth bits of eight interleaved rows as bytes: 0x10 in byte 4r + k where bit 4r + k of the 32-bit mask at p is set
/// (row r's four bits, one per byte of its dword). Each lane shifts its row's bits down, then one multiply by
/// 2^4 + 2^11 + 2^18 + 2^25 puts bit k at bit 8k + 4 among copies that never overlap (k + 4 + 7j: no carries):
/// fewer steps than the general bits-to-bytes expansion, which left these rows waiting on their instructions.
AVX2 static inline __m256i vpg_q5_0_fifth8(const uint8_t *p) {
    int32_t bits;
    memcpy(&bits, p, 4);
    const __m256i own = _mm256_srlv_epi32(_mm256_set1_epi32(bits), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28));
    const __m256i four = _mm256_and_si256(own, _mm256_set1_epi32(0xF));
    const __m256i spread = _mm256_mullo_epi32(four, _mm256_set1_epi32(0x02040810));
    return _mm256_and_si256(spread, _mm256_set1_epi32(0x10101010));
}

/// o·Σ x of a token's 32 activations: the offset's part of Σ (q − o)·x over a block, the same for every row.
AVX2 static inline int32_t vpg_offset_sum32(const vpg_q8_32 *x, int offset) {
    const __m256i q = _mm256_loadu_si256((const __m256i *)x->q);
#if VPG_VNNI
    const __m256i s = VPG_DPBUSD256(_mm256_setzero_si256(), _mm256_set1_epi8(1), q);
#else
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
#endif
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    return offset * _mm_cvtsi128_si32(h);
}

#endif
#endif
