// How fast a row kernel consumes weight bytes on one core, with the weights in L2 (256 rows of 1536 columns,
// reused) and streamed from memory (~600 MB, once per pass), next to a plain summing read of the same buffer. A
// kernel whose in-L2 rate is below the plain read rate is bound by its own instructions, not by memory.
// The third argument is a token count or a comma-separated list of them (one process fills the buffer once for the
// whole list). Above one token both kernels that can take the tokens are measured, one line each: the row kernel
// (generation steps of a few sequences) and the panel kernel (prompts, larger batches); ROWS=1 or PANELS=1 in the
// environment keeps one of them. Where the two cross is where MatMul's rows-as-panels threshold belongs.
// Random blocks with a small scale; the results are not checked (the kernel tests do that).
//
// Build and run from the repository root, on an otherwise idle machine:
//   clang -O2 -ISources/CKernels/include -ISources/CKernels $(ls Sources/CKernels/*.c | grep -v -e blas.c -e parallel.c) \
//       Benchmarks/row_kernel_rate.c -o .build/row_kernel_rate -lm -lpthread
//   .build/row_kernel_rate q4_k        (q4_0, q5_0, q8_0, q4_k or q6_k, or interleaved: q4_0_x16 … q6_k_x16, or f16, bf16;
//                                       optional path: generic, avx2, avxvnni, avx512; optional token counts)
//   .build/row_kernel_rate q6_k_x16 avx2 1,2,3,4,8,16,24,32,64
//       (a row kernel's whole range of token counts: each count is its own unrolled code, and one of them can spill
//       — Q6_K's four-token step on 16 registers ran at half the three-token rate until session 31)
//   Benchmarks/kernel_sweep.sh runs every interleaved type on every path this CPU has and prints one table.
#include "CKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { const char *name; int ggml_type, block, block_bytes, scale_offset; } format;
static const format formats[] = {
    {"q4_0", 2, 32, 18, 0}, {"q5_0", 6, 32, 22, 0}, {"q8_0", 8, 32, 34, 0}, {"q4_k", 12, 256, 144, 0}, {"q6_k", 14, 256, 210, 208},
    {"q4_0_x16", 2, 32, 18, 0}, {"q5_0_x16", 6, 32, 22, 0}, {"q8_0_x16", 8, 32, 34, 0},   // interleaved by sixteen rows
    {"q4_k_x16", 12, 256, 144, 0}, {"q6_k_x16", 14, 256, 210, 208},                       // (vpg_repack_x16)
    {"f16", 1, 1, 2, -1}, {"bf16", 30, 1, 2, -1},   // 16-bit floats: the f32 dot kernels (one token only)
};

int main(int argc, char **argv) {
    const format *f = NULL;
    for (size_t i = 0; argc > 1 && i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(argv[1], formats[i].name) == 0) f = &formats[i];
    int path = vpg_best_path();
    for (int p = 0; argc > 2 && p < VPG_PATH_COUNT; p++)
        if (strcmp(argv[2], vpg_path_name(p)) == 0) path = p;
    int counts[32], n_counts = 0, max_tokens = 1;   // the token counts asked for
    for (const char *c = argc > 3 ? argv[3] : "1"; c && *c && n_counts < 32; c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL) {
        counts[n_counts] = atoi(c);
        if (counts[n_counts] < 1 || counts[n_counts] > 64) max_tokens = 0;
        else if (counts[n_counts] > max_tokens) max_tokens = counts[n_counts];
        n_counts++;
    }
    if (getenv("PREFETCH")) vpg_set_row_prefetch(atoi(getenv("PREFETCH")));   // PREFETCH=0|1: as VPGEA_ROW_PREFETCH
    if (f && strstr(f->name, "_x16") && !vpg_x16_native(f->ggml_type, path)) {
        fprintf(stderr, "row_kernel_rate: %s has no interleaved kernels of its own on %s (the models keep its stored rows there)\n",
                f->name, vpg_path_name(path));
        return 3;
    }
    if (!f || !vpg_path_supported(path) || max_tokens < 1) {
        fprintf(stderr, "usage: row_kernel_rate q4_0|q5_0|q8_0|q4_k|q6_k|q4_0_x16|q5_0_x16|q8_0_x16|q4_k_x16|q6_k_x16|f16|bf16 "
                        "[generic|avx2|avxvnni|avx512 (supported here)] [tokens ≤ 64, or a list: 1,2,4,8]\n");
        return 2;
    }
    const int64_t cols = 1536, row_bytes = cols / f->block * f->block_bytes;
    const int64_t small_rows = 256, big_rows = (int64_t)(600e6 / row_bytes);
    uint8_t *w = aligned_alloc(64, (size_t)(big_rows * row_bytes + 4096));   // [big_rows, row_bytes]
    if (getenv("HUGE")) {   // HUGE=1: the buffer in 2 MiB pages where the kernel grants them (as the model's copies)
        free(w);
        const size_t bytes = ((size_t)(big_rows * row_bytes + 4096) + (2u << 20) - 1) / (2u << 20) * (2u << 20);
        w = aligned_alloc(2u << 20, bytes);
        madvise(w, bytes, MADV_HUGEPAGE);
    }
    srand(1);
    for (int64_t i = 0; i < big_rows * row_bytes; i++) w[i] = (uint8_t)rand();
    const uint16_t small = 0x1400;   // f16 2^-10: every block's d (and Q4_K's dmin)
    const int halves = f->scale_offset < 0;   // F16 or BF16: values in [-1, 1) rather than random bits
    for (int64_t i = 0; halves && i < big_rows * cols; i++) {
        const float v = (float)(rand() % 2000 - 1000) / 1000;
        uint32_t u;
        memcpy(&u, &v, 4);
        const _Float16 half = (_Float16)v;
        if (f->ggml_type == 30) memcpy(w + 2 * i, (const uint8_t *)&u + 2, 2);
        else memcpy(w + 2 * i, &half, 2);
    }
    for (int64_t b = 0; !halves && b < big_rows * cols / f->block; b++) {
        memcpy(w + b * f->block_bytes + f->scale_offset, &small, 2);
        if (f->ggml_type == 12) memcpy(w + b * f->block_bytes + 2, &small, 2);
    }
    const int x16 = strstr(f->name, "_x16") != NULL;
    if (x16) {   // the same random rows, interleaved (in place through a copy)
        uint8_t *copy = aligned_alloc(64, (size_t)(big_rows / 16 * 16 * row_bytes));
        vpg_repack_x16(f->ggml_type, w, copy, big_rows / 16 * 16, cols);
        memcpy(w, copy, (size_t)(big_rows / 16 * 16 * row_bytes));
        free(copy);
    }
    const int64_t stride = f->block == 256 ? cols / 256 * (int64_t)sizeof(vpg_q8_256) : cols / 32 * (int64_t)sizeof(vpg_q8_32);
    float x[1536];                                                 // [cols]
    void *xq = aligned_alloc(64, (size_t)(max_tokens * stride));   // [max_tokens] quantized activation rows
    for (int t = 0; t < max_tokens; t++) {
        for (int i = 0; i < cols; i++) x[i] = (float)(rand() % 200 - 100) / 50;
        if (halves) break;
        vpg_quantize_kernel(f->block, path)(x, (uint8_t *)xq + t * stride, cols);
    }
    vpg_dotq_rows_fn dot = vpg_dotq_rows_kernel(f->ggml_type, path);
    vpg_matmul_panels_fn panels = x16 ? vpg_x16_kernel(f->ggml_type, path, 1) : vpg_matmul_panels_kernel(f->ggml_type, path);
    vpg_matmul_panels_fn x16_rows = x16 ? vpg_x16_kernel(f->ggml_type, path, 0) : NULL;
    vpg_dot_fn half_dot = vpg_dot_kernel(f->ggml_type, path);
    float *y = malloc(sizeof(float) * (size_t)(big_rows * max_tokens));   // [max_tokens, big_rows]
    for (int k = 0; k < n_counts; k++)
        for (int use_panels = 0; use_panels < 2; use_panels++) {
            const int tokens = counts[k];
            if (use_panels ? tokens == 1 || !panels || getenv("ROWS") : (tokens > 1 && getenv("PANELS")) || (x16 && !x16_rows))
                continue;
            if (halves && tokens > 1) break;   // the 16-bit floats have one-token kernels only
#define PRODUCT(rows)                                                                                              \
    (halves       ? vpg_matvec_rows(half_dot, w, row_bytes, x, y, 0, rows, cols)                                   \
     : use_panels ? panels(w, row_bytes, xq, stride, tokens, y, rows, 0, x16 ? (rows) / 16 * 16 : (rows), cols)    \
     : x16        ? x16_rows(w, row_bytes, xq, stride, tokens, y, rows, 0, (rows) / 16 * 16, cols)                 \
                  : vpg_matmul_rows_q(dot, w, row_bytes, xq, stride, tokens, y, rows, 0, rows, cols))
            const int reps = 500;
            double in_l2 = 0, streamed = 0, plain = 0;
            for (int best = 0; best < 5; best++) {   // best of 5
                double t0 = now();
                for (int r = 0; r < reps / tokens + 1; r++) PRODUCT(small_rows);
                const double c = (reps / tokens + 1) * small_rows * row_bytes / (now() - t0) / 1e9;
                in_l2 = c > in_l2 ? c : in_l2;
                t0 = now();
                PRODUCT(big_rows);
                const double g = big_rows * row_bytes / (now() - t0) / 1e9;
                streamed = g > streamed ? g : streamed;
                t0 = now();
                uint64_t sum = 0;
                const uint64_t *q = (const uint64_t *)w;
                for (int64_t i = 0; i < big_rows * row_bytes / 8; i += 8)
                    sum += q[i] + q[i + 1] + q[i + 2] + q[i + 3] + q[i + 4] + q[i + 5] + q[i + 6] + q[i + 7];
                const double r = big_rows * row_bytes / (now() - t0) / 1e9;
                plain = r > plain ? r : plain;
                if (sum == 42) puts("");   // keeps the sum
            }
#undef PRODUCT
            printf("%s on %s, %d token%s, one core: in L2 %.1f GB/s (%.1f G weight·tokens/s), streamed %.1f GB/s; a plain read %.1f GB/s\n",
                   f->name, vpg_path_name(path), tokens, tokens > 1 ? (use_panels ? "s (panels)" : "s (rows)") : "", in_l2,
                   in_l2 * 1e9 / row_bytes * cols * tokens / 1e9, streamed, plain);
            fflush(stdout);
        }
    return 0;
}
