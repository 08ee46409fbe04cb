// How many 512-bit product instructions one core retires per second, each on twelve independent accumulators (enough
// to hide any of their latencies): vdpbf16ps (32 bf16 products), vfmadd231ps (16 f32 products), vpdpbusd (64 8-bit
// products). The ratio of bf16 to f32 products says which BF16 prompt products can pay on a CPU
// (KernelPath.bf16Products; Benchmarks/README.md has the measurements). Run it on an idle core:
//   clang -O2 Benchmarks/instruction_rate.c -o .build/instruction_rate && .build/instruction_rate
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

enum { CHAINS = 12 };
static const long STEPS = 20000000;   // per chain

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// One instruction's rate: CHAINS accumulators, each advanced STEPS times. The operands stay opaque to the compiler
// (the empty asm), so it neither hoists nor folds the products; the sums are printed only if impossible, so that they
// stay live.
#define RATE(NAME, TARGET, ACC, ZERO, OPERAND, W, X, STEP, REDUCE)                                                \
    __attribute__((target(TARGET))) static double NAME(void) {                                                   \
        ACC acc[CHAINS];                                                                                        \
        for (int c = 0; c < CHAINS; c++) acc[c] = ZERO;                                                         \
        OPERAND w = W, x = X;                                                                                   \
        const double t0 = seconds();                                                                            \
        for (long i = 0; i < STEPS; i++) {                                                                      \
            for (int c = 0; c < CHAINS; c++) acc[c] = STEP(acc[c], w, x);                                       \
            __asm__ volatile("" : "+v"(w), "+v"(x));                                                            \
        }                                                                                                       \
        const double t = seconds() - t0;                                                                        \
        double sum = 0;                                                                                         \
        for (int c = 0; c < CHAINS; c++) sum += (double)REDUCE(acc[c]);                                         \
        if (sum == 1) puts("");                                                                                 \
        return (double)STEPS * CHAINS / t;                                                                      \
    }

#define FMA(acc, w, x) _mm512_fmadd_ps(w, x, acc)
RATE(bf16_rate, "avx512f,avx512bf16", __m512, _mm512_setzero_ps(), __m512bh,
     (__m512bh)_mm512_set1_epi32(0x3f803f80), (__m512bh)_mm512_set1_epi32(0x3f803f80), _mm512_dpbf16_ps,
     _mm512_reduce_add_ps)
RATE(fma_rate, "avx512f", __m512, _mm512_setzero_ps(), __m512, _mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f), FMA,
     _mm512_reduce_add_ps)
RATE(vnni_rate, "avx512f,avx512vnni", __m512i, _mm512_setzero_si512(), __m512i, _mm512_set1_epi32(0x01010101),
     _mm512_set1_epi32(0x01020304), _mm512_dpbusd_epi32, _mm512_reduce_add_epi32)

int main(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        puts("this CPU has no AVX-512");
        return 1;
    }
    const double f = fma_rate();
    printf("vfmadd231ps zmm  %5.2f G/s  %6.1f G f32 products/s\n", f / 1e9, 16 * f / 1e9);
    if (__builtin_cpu_supports("avx512bf16")) {
        const double b = bf16_rate();
        printf("vdpbf16ps zmm    %5.2f G/s  %6.1f G bf16 products/s  (%.2f× the fma's products)\n", b / 1e9, 32 * b / 1e9,
               32 * b / (16 * f));
    }
    if (__builtin_cpu_supports("avx512vnni")) {
        const double v = vnni_rate();
        printf("vpdpbusd zmm     %5.2f G/s  %6.1f G 8-bit products/s\n", v / 1e9, 64 * v / 1e9);
    }
    return 0;
}
