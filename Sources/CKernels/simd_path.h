// Which x86 path a SIMD source is compiled for. Each *_avx2.c source is compiled once per path: as itself
// (AVX2 + FMA + F16C), and included by its *_avxvnni.c and *_avx512.c twins, which define VPG_BUILD_AVXVNNI
// (256-bit VEX vpdpbusd) or VPG_BUILD_AVX512 (F, BW, VL, DQ, VNNI). With VPG_EMULATED (the test target
// CKernelsEmulated) the same sources are built through SIMDe's plain-C emulation of every intrinsic, so that each
// path's results can be compared with the generic twins on any x86-64 CPU. VPG_FN names an entry point of the
// path being built: vpg_dotq_q4_0 → vpg_dotq_q4_0_avx512 (emulated: vpg_dotq_q4_0_avx512_emu).
#ifndef VPGEA_SIMD_PATH_H
#define VPGEA_SIMD_PATH_H

// Scalar code in the kernels is rounded as written (no multiply-add contracted where the target has FMA), so that
// the native and the emulated builds give the same bits; vector fmadds are written out.
#pragma clang fp contract(off)

#define VPG_PASTE_(a, b) a##_##b
#define VPG_PASTE(a, b) VPG_PASTE_(a, b)

#if defined(VPG_BUILD_AVX512)
#define VPG_SUFFIX avx512
#define VPG_PATH VPG_PATH_AVX512
#define VPG_VNNI 1
#define VPG_WIDE 1
#define VPG_ISA "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#elif defined(VPG_BUILD_AVXVNNI)
#define VPG_SUFFIX avxvnni
#define VPG_PATH VPG_PATH_AVXVNNI
#define VPG_VNNI 1
#define VPG_WIDE 0
#define VPG_ISA "avx2,fma,f16c,avxvnni"
#else
#define VPG_SUFFIX avx2
#define VPG_PATH VPG_PATH_AVX2
#define VPG_VNNI 0
#define VPG_WIDE 0
#define VPG_ISA "avx2,fma,f16c"
#endif

#if defined(VPG_EMULATED)
// The compiler's own header first: its constants, and its bf16 vector types, which SIMDe then adopts instead of
// defining its own under the same names.
#include <immintrin.h>
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/fma.h>
#include <simde/x86/f16c.h>
#include <math.h>
#define VPG_TARGET
#define VPG_FN(name) VPG_PASTE(VPG_PASTE(name, VPG_SUFFIX), emu)
/// SIMDe emulates fmadd as a multiply and an add (two roundings) where the CPU lacks FMA; the kernels' results are
/// defined by the fused operation, so the emulation takes libm's fmaf (one rounding) lane by lane.
#define VPG_EMULATED_FMA(NAME, V, LANES, STORE, LOAD)                                                              \
    static inline V NAME(V a, V b, V c, float sign) {                                                              \
        float x[LANES], y[LANES], z[LANES];                                                                        \
        STORE(x, a);                                                                                               \
        STORE(y, b);                                                                                               \
        STORE(z, c);                                                                                               \
        for (int i = 0; i < LANES; i++) z[i] = fmaf(sign * x[i], y[i], z[i]);                                      \
        return LOAD(z);                                                                                            \
    }
VPG_EMULATED_FMA(vpg_emulated_fma, simde__m256, 8, simde_mm256_storeu_ps, simde_mm256_loadu_ps)
VPG_EMULATED_FMA(vpg_emulated_fma512, simde__m512, 16, simde_mm512_storeu_ps, simde_mm512_loadu_ps)
/// The same for four doubles (exp_table.h's reduction), through libm's fma.
static inline simde__m256d vpg_emulated_fma_pd(simde__m256d a, simde__m256d b, simde__m256d c) {
    double x[4], y[4], z[4];
    simde_mm256_storeu_pd(x, a);
    simde_mm256_storeu_pd(y, b);
    simde_mm256_storeu_pd(z, c);
    for (int i = 0; i < 4; i++) z[i] = fma(x[i], y[i], z[i]);
    return simde_mm256_loadu_pd(z);
}
#undef _mm256_fmadd_pd
#define _mm256_fmadd_pd(a, b, c) vpg_emulated_fma_pd(a, b, c)
#undef _mm256_fmadd_ps
#undef _mm256_fnmadd_ps
#undef _mm512_fmadd_ps
#undef _mm512_fnmadd_ps
#define _mm256_fmadd_ps(a, b, c) vpg_emulated_fma(a, b, c, 1.0f)
#define _mm256_fnmadd_ps(a, b, c) vpg_emulated_fma(a, b, c, -1.0f)
#define _mm512_fmadd_ps(a, b, c) vpg_emulated_fma512(a, b, c, 1.0f)
#define _mm512_fnmadd_ps(a, b, c) vpg_emulated_fma512(a, b, c, -1.0f)
// SIMDe 0.7.4 has no _mm512_cvtepi32_ps: each lane converted as C converts (round to nearest, as the instruction).
static inline simde__m512 vpg_emulated_cvt512(simde__m512i a) {
    int32_t in[16];
    float out[16];
    simde_mm512_storeu_si512(in, a);
    for (int i = 0; i < 16; i++) out[i] = (float)in[i];
    return simde_mm512_loadu_ps(out);
}
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps(a) vpg_emulated_cvt512(a)
// SIMDe 0.7.4's alias of _mm512_madd_epi16 takes four arguments (a copy of a masked form's); its function is right.
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) simde_mm512_madd_epi16(a, b)
#define VPG_DPBUSD256(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#define VPG_DPWSSD256(acc, a, b) _mm256_dpwssd_epi32(acc, a, b)
#else
#include <immintrin.h>
#define VPG_TARGET __attribute__((target(VPG_ISA)))
#define VPG_FN(name) VPG_PASTE(name, VPG_SUFFIX)
#if defined(VPG_BUILD_AVXVNNI)
#define VPG_DPBUSD256(acc, u, s) _mm256_dpbusd_avx_epi32(acc, u, s)
#define VPG_DPWSSD256(acc, a, b) _mm256_dpwssd_avx_epi32(acc, a, b)
#else
#define VPG_DPBUSD256(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#define VPG_DPWSSD256(acc, a, b) _mm256_dpwssd_epi32(acc, a, b)
#endif
#endif

#endif
