// AVX2 helpers shared by the f32-activation and the 8-bit-activation kernels.
#ifndef VPGEA_SIMD_AVX2_H
#define VPGEA_SIMD_AVX2_H
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

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

#endif
#endif
