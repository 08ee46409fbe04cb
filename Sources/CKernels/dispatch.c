// The one place that probes the CPU and picks kernels: every path's kernels in one table (kernel_table.h).
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"
#include "quant_blocks.h"
#include "kernel_table.h"
#if defined(__x86_64__)
#include <cpuid.h>
#endif

VPG_DECLARE_DEQUANT(generic)
VPG_DECLARE_PATH(generic)
#if defined(__x86_64__)
VPG_DECLARE_PATH(avx2)
VPG_DECLARE_PATH(avxvnni)
VPG_DECLARE_PATH(avx512)
VPG_DECLARE_DEQUANT(avx2)
VPG_DECLARE_DEQUANT(avxvnni)
VPG_DECLARE_DEQUANT(avx512)
#endif

#if defined(__x86_64__)
void vpg_matmul_bf16_bf16_avx512(const void *, int64_t, const void *, int64_t, int64_t, float *, int64_t, int64_t,
                                 int64_t, int64_t);
#endif

static const vpg_kernel_table tables[VPG_PATH_COUNT] = {
    VPG_TABLE(VPG_PATH_GENERIC, generic, generic, NULL, generic, generic,
              vpg_matmul_q8_0_x16_q16_generic, vpg_quantize_q16_32_generic),
#if defined(__x86_64__)
    VPG_TABLE(VPG_PATH_AVX2, avx2, avx2, NULL, avx2, avx2, NULL, NULL),
    VPG_TABLE(VPG_PATH_AVXVNNI, avxvnni, avxvnni, vpg_matmul_panels_q8_0_avxvnni, avxvnni,
              avxvnni, NULL, NULL),
    VPG_TABLE(VPG_PATH_AVX512, avx512, avx512, vpg_matmul_panels_q8_0_avx512, avx512, avx512,
              vpg_matmul_q8_0_x16_q16_avx512, vpg_quantize_q16_32_avx512),
#else
    VPG_TABLE(VPG_PATH_AVX2, generic, generic, NULL, generic, generic, NULL, NULL),
    VPG_TABLE(VPG_PATH_AVXVNNI, generic, generic, NULL, generic, generic, NULL, NULL),
    VPG_TABLE(VPG_PATH_AVX512, generic, generic, NULL, generic, generic, NULL, NULL),
#endif
};

const vpg_kernel_table *vpg_kernels(int path) {
    vpg_row_prefetch();   // settled before any kernel runs
    return path >= 0 && path < VPG_PATH_COUNT ? &tables[path] : NULL;
}

#if defined(__x86_64__)
/// CPUID leaf 7 subleaf 1's EAX (AVX-VNNI, AVX512-BF16, …), 0 where the CPU has no such subleaf.
static unsigned cpuid_7_1_eax(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || a < 1) return 0;
    __get_cpuid_count(7, 1, &a, &b, &c, &d);
    return a;
}

/// The CPU's feature bits that the paths need, and which register states the operating system saves (XCR0).
static int cpu_has(int path) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, f16c = (c >> 29) & 1;
    if (!osxsave) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    const int ymm = (lo & 0x6) == 0x6, zmm = (lo & 0xE6) == 0xE6;   // SSE+AVX state; plus opmask, ZMM 0–15, 16–31
    unsigned a7, b7, c7, d7;
    if (!__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) return 0;
    const unsigned a71 = cpuid_7_1_eax();
    const int avx2 = ymm && fma && f16c && ((b7 >> 5) & 1);
    switch (path) {
    case VPG_PATH_AVX2: return avx2;
    case VPG_PATH_AVXVNNI: return avx2 && ((a71 >> 4) & 1);
    case VPG_PATH_AVX512: {
        const int f = (b7 >> 16) & 1, dq = (b7 >> 17) & 1, bw = (b7 >> 30) & 1, vl = (b7 >> 31) & 1;
        const int vnni = (c7 >> 11) & 1;
        return avx2 && zmm && f && dq && bw && vl && vnni;
    }
    default: return 0;
    }
}
#endif

/// Read by vpg_prefetch_ahead (simd_avx2.h) in the kernels' loops; -1 until the first product asks.
int vpg_row_prefetch_on = -1;

/// Whether the CPU is Intel's (its vendor string GenuineIntel): the defaults below differ by CPU kind, as measured.
static int cpu_is_intel(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    return __get_cpuid(0, &a, &b, &c, &d) && b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;
#else
    return 0;
#endif
}

int vpg_row_prefetch(void) {
    if (vpg_row_prefetch_on < 0) vpg_row_prefetch_on = cpu_is_intel();
    return vpg_row_prefetch_on;
}

void vpg_set_row_prefetch(int on) { vpg_row_prefetch_on = on != 0; }

static int bf16_products_on = -1;

int vpg_bf16_products_preferred(void) {
    if (bf16_products_on < 0) bf16_products_on = !cpu_is_intel();
    return bf16_products_on;
}

void vpg_set_bf16_products_preferred(int on) { bf16_products_on = on != 0; }

int vpg_cpu_avx512_foundation(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!vpg_path_supported(VPG_PATH_AVX2) || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    const unsigned need = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);   // F, DQ, CD, BW, VL
    return (lo & 0xE6) == 0xE6 && (b & need) == need;
#else
    return 0;
#endif
}

int vpg_cpu_avx512_bf16(void) {
#if defined(__x86_64__)
    static int known, answer;
    if (!known) {
        answer = vpg_path_supported(VPG_PATH_AVX512) && ((cpuid_7_1_eax() >> 5) & 1);
        known = 1;
    }
    return answer;
#else
    return 0;
#endif
}

vpg_matmul_panels_fn vpg_bf16_products_kernel(int path) {
#if defined(__x86_64__)
    if (path == VPG_PATH_AVX512 && vpg_cpu_avx512_bf16()) return vpg_matmul_bf16_bf16_avx512;
#endif
    (void)path;
    return NULL;
}

int vpg_path_supported(int path) {
    if (path == VPG_PATH_GENERIC) return 1;
#if defined(__x86_64__)
    static int known[VPG_PATH_COUNT], answer[VPG_PATH_COUNT];
    if (path > 0 && path < VPG_PATH_COUNT) {
        if (!known[path]) {
            answer[path] = cpu_has(path);
            known[path] = 1;
        }
        return answer[path];
    }
#endif
    return 0;
}

static const char *const names[VPG_PATH_COUNT] = {"generic", "avx2", "avxvnni", "avx512"};

const char *vpg_path_name(int path) { return path >= 0 && path < VPG_PATH_COUNT ? names[path] : "unknown"; }

int vpg_best_path(void) {
    int best = VPG_PATH_GENERIC;
    for (int p = VPG_PATH_COUNT - 1; p > 0; p--)
        if (vpg_path_supported(p)) {
            best = p;
            break;
        }
    return best;
}

/// The table of `path` if this CPU runs it, else the generic one.
static const vpg_kernel_table *usable(int path) {
    vpg_row_prefetch();   // settled before any kernel runs
    return &tables[path > 0 && path < VPG_PATH_COUNT && vpg_path_supported(path) ? path : VPG_PATH_GENERIC];
}

static const vpg_type_kernels *row_of(int ggml_type, int path) {
    return ggml_type >= 0 && ggml_type < VPG_TYPE_ROWS ? &usable(path)->type[ggml_type] : NULL;
}

/// The accessor of one field of a type's row.
#define TYPE_KERNEL(TYPE, NAME, FIELD)                                                                              \
    TYPE NAME(int ggml_type, int path) {                                                                           \
        const vpg_type_kernels *k = row_of(ggml_type, path);                                                       \
        return k ? k->FIELD : NULL;                                                                                \
    }
TYPE_KERNEL(vpg_dot_fn, vpg_dot_kernel, dot)
TYPE_KERNEL(vpg_dequant_fn, vpg_dequant_kernel, dequant)
TYPE_KERNEL(vpg_dotq_fn, vpg_dotq_kernel, dotq)
TYPE_KERNEL(vpg_dotq_rows_fn, vpg_dotq_rows_kernel, dotq_rows)
TYPE_KERNEL(vpg_matmul_panels_fn, vpg_matmul_panels_kernel, panels)

int vpg_dotq_block(int ggml_type) {
    const vpg_type_kernels *k = row_of(ggml_type, VPG_PATH_GENERIC);
    return k ? k->q_block : 0;
}

vpg_quantize_fn vpg_quantize_kernel(int block, int path) {
    switch (block) {
    case 32: return usable(path)->type[8].quantize;
    case 256: return usable(path)->type[12].quantize;
    default: return NULL;
    }
}

void vpg_matvec_rows(vpg_dot_fn dot, const void *rows, int64_t row_bytes, const float *x, float *y,
                     int64_t r0, int64_t r1, int64_t cols) {
    const uint8_t *base = rows;
    for (int64_t r = r0; r < r1; r++) y[r - r0] = dot(base + r * row_bytes, x, cols);
}

void vpg_matmul_rows_q(vpg_dotq_rows_fn dot, const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                       int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    const uint8_t *base = rows, *x = xq;
    for (int64_t t0 = 0; t0 < tokens; t0 += VPG_DOTQ_MAX_ROWS) {
        const int count = tokens - t0 < VPG_DOTQ_MAX_ROWS ? (int)(tokens - t0) : VPG_DOTQ_MAX_ROWS;
        for (int64_t r = r0; r < r1; r++) {
            float out[VPG_DOTQ_MAX_ROWS];
            dot(base + r * row_bytes, x + t0 * stride, stride, count, out, cols);
            for (int t = 0; t < count; t++) y[(t0 + t) * ldy + r - r0] = out[t];
        }
    }
}

vpg_matmul_panels_fn vpg_x16_kernel(int ggml_type, int path, int panels) {
    const vpg_kernel_table *t = usable(path);
    switch (ggml_type) {
    case 2: return panels ? t->panels_q4_0_x16 : t->rows_q4_0_x16;
    case 6: return panels ? t->panels_q5_0_x16 : t->rows_q5_0_x16;
    case 8: return panels ? NULL : t->rows_q8_0_x16;
    case 12: return panels ? t->panels_q4_k_x16 : t->rows_q4_k_x16;
    case 14: return panels ? t->panels_q6_k_x16 : t->rows_q6_k_x16;
    default: return NULL;
    }
}

int vpg_dequant_x16_rows(int ggml_type, int path, const void *packed, int64_t row_bytes, int64_t r0, int64_t r1,
                         float *out, int64_t cols) {
    if (ggml_type != 2 && ggml_type != 6 && ggml_type != 8) return 0;
    // g0..<g1: the whole groups of sixteen inside r0..<r1, for the path's kernel; the rows around them one by one.
    const int64_t g0 = (r0 + 15) / 16 * 16 < r1 ? (r0 + 15) / 16 * 16 : r1, g1 = r1 / 16 * 16 > g0 ? r1 / 16 * 16 : g0;
    vpg_dequant_x16_rows_generic(ggml_type, packed, row_bytes, r0, g0, out, cols);
    if (g0 < g1) usable(path)->dequant_x16(ggml_type, packed, row_bytes, g0, g1, out + (g0 - r0) * cols, cols);
    vpg_dequant_x16_rows_generic(ggml_type, packed, row_bytes, g1, r1, out + (g1 - r0) * cols, cols);
    return 1;
}

/// Q4_0, Q5_0, Q4_K and Q6_K on the 256-bit paths: their own interleaved row products, with the panels' numerics
/// (x16_rows_avx2.c, x16_krows_avx2.c). Q8_0 keeps its stored rows there.
static int narrow_rows_x16(int ggml_type, int path) {
    const int own = ggml_type == 2 || ggml_type == 6 || ggml_type == 12 || ggml_type == 14;
    return own && (path == VPG_PATH_AVX2 || path == VPG_PATH_AVXVNNI);
}

int vpg_x16_native(int ggml_type, int path) {
    const int own = path == VPG_PATH_AVX512 || narrow_rows_x16(ggml_type, path);
    return vpg_x16_kernel(ggml_type, path, 0) && own && vpg_path_supported(path);
}

vpg_matmul_panels_fn vpg_q8_0_x16_q16_kernel(int path) {
    return vpg_x16_native(8, path) ? usable(path)->q8_0_x16_q16 : NULL;
}

vpg_quantize_fn vpg_quantize_q16_kernel(int path) { return vpg_x16_native(8, path) ? usable(path)->quantize_q16 : NULL; }

int vpg_rows_as_panels(int ggml_type, int path) {
    const int panels_numerics = ggml_type == 2 || ggml_type == 6 || ggml_type == 12 || ggml_type == 14;
    return (panels_numerics && path == VPG_PATH_AVX512) || narrow_rows_x16(ggml_type, path);
}

int vpg_generation_rows_max(int ggml_type, int path) {
    const int two_token_panels = path == VPG_PATH_AVX2 && (ggml_type == 12 || ggml_type == 14);
    return vpg_rows_as_panels(ggml_type, path) && !two_token_panels ? 16 : 8;
}

vpg_exp_shifted_fn vpg_exp_shifted_kernel(int path) { return usable(path)->exp_shifted; }

vpg_swiglu_fn vpg_swiglu_kernel(int path) { return usable(path)->swiglu; }

vpg_swiglu_backward_fn vpg_swiglu_backward_kernel(int path) { return usable(path)->swiglu_backward; }

vpg_quantize_fn vpg_quantize_q7_kernel(int path) { return usable(path)->quantize_q7; }

vpg_matmul_panels_fn vpg_matmul_panels_q7_kernel(int path) { return usable(path)->panels_q7; }

vpg_attend_fn vpg_attend_kernel(int cache_type, int path) {
    switch (cache_type) {
    case 0: return usable(path)->attend[0];
    case 1: return usable(path)->attend[1];
    case 8: return usable(path)->attend[2];
    default: return NULL;
    }
}
