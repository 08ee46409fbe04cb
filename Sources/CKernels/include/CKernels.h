#ifndef VPGEA_CKERNELS_H
#define VPGEA_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Number of threads an OpenMP parallel region in these kernels uses.
int vpg_omp_max_threads(void);

/// y[r] = sum_k a[r*cols + k] * x[k] for r < rows, split over OpenMP threads by rows.
/// a: [rows, cols] f32 row-major; x: [cols] f32; y: [rows] f32.
void vpg_matvec_f32(const float *a, const float *x, float *y, int64_t rows, int64_t cols);

/// Serves large allocations (up to 64 MiB) from the heap instead of fresh mappings, so that per-token buffers
/// do not cost a page-zeroing round trip through the kernel each time (glibc only; elsewhere a no-op).
void vpg_keep_large_allocations(void);

/// Instruction-set paths: plain C (every CPU), AVX2 + FMA + F16C, AVX-VNNI (256-bit VEX vpdpbusd: Intel since
/// Alder Lake, AMD Zen 5), AVX-512 F/BW/VL/DQ + VNNI (Intel Xeon since Ice Lake, AMD Zen 4 and 5).
enum vpg_path { VPG_PATH_GENERIC = 0, VPG_PATH_AVX2 = 1, VPG_PATH_AVXVNNI = 2, VPG_PATH_AVX512 = 3 };
#define VPG_PATH_COUNT 4

/// The best path this CPU supports, unless VPGEA_KERNELS=generic|avx2|avxvnni|avx512 asks for another (a path
/// the CPU lacks falls back to the best one it has).
int vpg_best_path(void);

/// Whether this CPU (and its operating system, which must save the wider registers) can run `path`.
int vpg_path_supported(int path);

/// Whether the one-token row products and the F16/BF16 dots ask for their weights ahead of use (a software
/// prefetch): on by default on Intel CPUs, whose hardware prefetchers alone left them waiting on memory, off
/// elsewhere (on a Zen 4 it measured no faster, and once slower with two threads). Same results either way.
int vpg_row_prefetch(void);
/// Sets it (VPGEA_ROW_PREFETCH=0|1); call before any product runs.
void vpg_set_row_prefetch(int on);

/// The path's name as VPGEA_KERNELS spells it ("generic", "avx2", "avxvnni", "avx512").
const char *vpg_path_name(int path);

/// Dot product of one quantized weight row with f32 activations: sum_i w_i * x_i, where w is the row
/// dequantized exactly as the scalar reference does. row: n/blockSize blocks; x: [n] f32.
typedef float (*vpg_dot_fn)(const void *row, const float *x, int64_t n);

/// The dot kernel for a ggml type on a path, or NULL when the type has none (ggml type numbers: Q4_0 2,
/// Q8_0 8, Q5_0 6, Q4_K 12, Q6_K 14).
vpg_dot_fn vpg_dot_kernel(int ggml_type, int path);

/// y[r - r0] = dot(row r, x) for r in [r0, r1). rows: the matrix, row_bytes apart.
void vpg_matvec_rows(vpg_dot_fn dot, const void *rows, int64_t row_bytes, const float *x, float *y,
                     int64_t r0, int64_t r1, int64_t cols);



// ---- Row dequantization (matrix-product panels) ----

/// Dequantizes one row of n elements to f32, bit-identical to the scalar reference.
typedef void (*vpg_dequant_fn)(const void *row, float *out, int64_t n);

/// The dequantization kernel for a ggml type on a path, or NULL (F16 1, Q4_0 2, Q5_0 6, Q8_0 8, Q4_K 12, Q6_K 14).
vpg_dequant_fn vpg_dequant_kernel(int ggml_type, int path);

// ---- Generation kernels with 8-bit activations (llama.cpp's scheme) ----
//
// The activation row is quantized once per product, then each weight row is dotted with it in integers.
// Activation blocks use f32 scales (an internal layout, never written to files).

/// 32 activations: x_i ≈ d * q_i.
typedef struct { float d; int8_t q[32]; } vpg_q8_32;
/// 256 activations, with the sum of each 16 quants (for k-quant minimums and offsets).
typedef struct { float d; int8_t q[256]; int16_t bsums[16]; } vpg_q8_256;

/// x: [n] f32 → n/32 vpg_q8_32 or n/256 vpg_q8_256 blocks (q = x·(1/d) rounded to nearest even,
/// d = max|x| / 127); every path gives the same bytes.
typedef void (*vpg_quantize_fn)(const float *x, void *out, int64_t n);

/// The activation quantizer for a block size (32 or 256, as vpg_dotq_block gives) on a path, or NULL.
vpg_quantize_fn vpg_quantize_kernel(int block, int path);

/// Dot product of one quantized weight row with a quantized activation row of n elements.
typedef float (*vpg_dotq_fn)(const void *row, const void *xq, int64_t n);

/// The integer dot kernel for a ggml type on a path, or NULL.
vpg_dotq_fn vpg_dotq_kernel(int ggml_type, int path);

/// The activation block size a type's integer kernel takes: 32 (vpg_q8_32), 256 (vpg_q8_256), or 0.
int vpg_dotq_block(int ggml_type);

/// Most activation rows one weight-row kernel call takes.
#define VPG_DOTQ_MAX_ROWS 16

/// The same for several activation rows at once (`stride` bytes apart; 1 ≤ rows ≤ VPG_DOTQ_MAX_ROWS):
/// out[t] = dotq(row, activation row t). Each weight block is unpacked once for all of them.
typedef void (*vpg_dotq_rows_fn)(const void *row, const void *xq, int64_t stride, int rows, float *out, int64_t n);

/// The several-row integer dot kernel for a ggml type on a path, or NULL; per row, its results are bit-identical
/// to vpg_dotq_kernel's on the same path.
vpg_dotq_rows_fn vpg_dotq_rows_kernel(int ggml_type, int path);

/// y[t * ldy + r - r0] = dotq(row r, activation row t) for r in [r0, r1), t < tokens (activation rows `stride`
/// bytes apart). Tokens go in tiles of VPG_DOTQ_MAX_ROWS, so that a tile's activations stay in cache while every
/// weight row of the range is dotted with all of them.
void vpg_matmul_rows_q(vpg_dotq_rows_fn dot, const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                       int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols);

/// Products of many tokens (prompts; generation steps of many sequences) on Q4_0 / Q5_0 / Q4_K / Q6_K, and Q8_0 on
/// the VNNI paths (unused for now: MatMul.takesIntegerKernels):
/// y[t * ldy + r - r0] = Σ_blocks d_r·d_t·(Σ q·x − o·Σ x) for r in [r0, r1), t < tokens (Q4_0/Q5_0: q the unsigned
/// stored weights, o = 8 or 16; the k-quants take their sub-block scales and mins likewise), one fma per block
/// (k-quants: per 64 weights) in block order; eight weight rows (sixteen on AVX-512) go through each vector step
/// together. Not the rounding of vpg_dotq_kernel (one float step per block, not per 8 lanes), so a sequence's logits
/// in a large generation step differ in the last bits from its logits alone (not where vpg_rows_as_panels).
typedef void (*vpg_matmul_panels_fn)(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                     int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols);

/// The panel kernel for a ggml type on a path, or NULL (then prompts take another path); bit-identical on every path.
vpg_matmul_panels_fn vpg_matmul_panels_kernel(int ggml_type, int path);

// ---- Q4_0, Q5_0, Q8_0 and the k-quants interleaved by sixteen rows ----
//
// The layouts AVX-512's Q4_0, Q5_0, Q8_0, Q4_K and Q6_K products read (and the 256-bit paths' row products of all
// but Q8_0): each row's block scales are decoded sixteen rows at a time in vector lanes instead of one row at a time,
// and a weight vector serves sixteen rows (eight on 256-bit paths), so one-token generation is bound by memory
// instead of by the per-row instructions. The bytes of the rows, rearranged: block i of rows
// 16j..16j+15 takes 16 blocks' bytes at 16·i·(block bytes) from where row 16j began, each piece of the sixteen rows'
// blocks gathered as vectors of sixteen dwords (lane r: row r):
// - Q4_0 (18 B): d[16] (f16); then four vectors, vector c holding dword c of the sixteen bytes of nibbles (the low
//   nibbles are weights 4c..4c+3, the high ones 16+4c..16+4c+3);
// - Q5_0 (22 B): as Q4_0, then the fifth bits as eight 64-bit byte masks: mask 2c + h has bits 4r..4r+3 set where
//   row r's weights 16h+4c..16h+4c+3 have their fifth bit;
// - Q8_0 (34 B): d[16] (f16); then eight vectors, vector c holding dword c of the weights, each byte q + 128 (q ^ 0x80);
// - Q4_K (144 B): d[16], dmin[16] (f16); the twelve scale bytes as three vectors a, b, c; the quants as 32 vectors,
//   vector 8h + c holding dword c of chunk h (32 bytes) of the quants;
// - Q6_K (210 B): the sixteen scale bytes as four vectors; then for each half n and dword c, in the order the kernel
//   reads them, three vectors: dword c of the low nibbles' bytes 64n…, of bytes 64n + 32…, and of the high bit
//   pairs' bytes 32n…; then d[16] (f16).

/// Rearranges `row_count` (a multiple of 16) Q4_0 (2), Q5_0 (6), Q8_0 (8), Q4_K (12) or Q6_K (14) rows of `cols` into that layout (as many bytes,
/// no overlap).
void vpg_repack_x16(int ggml_type, const void *rows, void *out, int64_t row_count, int64_t cols);
/// Rows r0..<r1 of an interleaved Q4_0, Q5_0 or Q8_0 matrix dequantized in place into out ([r1 − r0, cols] f32): the
/// stored rows' values, bit for bit, without putting them back first (on `path` AVX-512: sixteen rows of a block at
/// once, for whole groups of sixteen). Returns 0 (and writes nothing) for another type.
int vpg_dequant_x16_rows(int ggml_type, int path, const void *packed, int64_t row_bytes, int64_t r0, int64_t r1,
                         float *out, int64_t cols);
/// A path's dequantization of whole groups of interleaved Q4_0, Q5_0 or Q8_0 rows (r0, r1 multiples of 16), as above.
typedef void (*vpg_dequant_x16_fn)(int ggml_type, const void *packed, int64_t row_bytes, int64_t r0, int64_t r1,
                                   float *out, int64_t cols);
/// Row r's stored blocks back from the interleaved matrix whose rows take `row_bytes`.
void vpg_unpack_x16_row(int ggml_type, const void *packed, int64_t row_bytes, int64_t r, void *out, int64_t cols);
/// Products on interleaved rows r0..<r1 (multiples of 16) through stored kernels, so with their bits: the rows put
/// back in chunks, then `rows_kernel` (through vpg_matmul_rows_q) or, when it is NULL, `panels`.
void vpg_x16_through_stored(int ggml_type, vpg_dotq_rows_fn rows_kernel, vpg_matmul_panels_fn panels, const void *packed,
                            int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, float *y, int64_t ldy,
                            int64_t r0, int64_t r1, int64_t cols);
/// The products on interleaved weights (as vpg_matmul_panels_fn; r0 and r1 multiples of 16), or NULL for another
/// type (and for Q8_0's panels: Q8_0 has none). `panels` 1 gives the path's panel kernel's results, bit for bit; `panels` 0 (generation of a few sequences,
/// short prompts) the row products' on the stored rows: vpg_matmul_rows_q's with the path's row kernel, or where
/// vpg_rows_as_panels says so the panel kernel's. Paths without their own (all but AVX-512; the 256-bit paths have
/// row products for all but Q8_0) put each group of rows back and run their stored kernels.
vpg_matmul_panels_fn vpg_x16_kernel(int ggml_type, int path, int panels);
/// Whether a path has its own interleaved kernels for a type (where the layout pays; elsewhere rows stay as stored).
int vpg_x16_native(int ggml_type, int path);
/// 32 activations in 16 bits, for Q8_0's prompt products (vpg_q8_0_x16_q16_kernel): x_i ≈ d·q_i, q = x·(1/d) rounded
/// to nearest even, d = max|x| / 32767, sum = Σ q. q holds each four activations 4c…4c+3 in the order 4c, 4c+2, 4c+1,
/// 4c+3: its dword 2c pairs with bytes 0 and 2 of a weight dword c, dword 2c+1 with bytes 1 and 3 (vpdpwssd).
typedef struct { float d; int32_t sum; int16_t q[32]; } vpg_q16_32;
/// Q8_0 rows interleaved by sixteen times activations in 16 bits (as vpg_matmul_panels_fn over vpg_q16_32 rows; r0
/// and r1 multiples of 16), and the quantizer of those activations, on a path; NULL where the path has no interleaved
/// Q8_0 of its own (all but AVX-512). Per row, token and block the exact integer Σ q·x, then one fma of d·d_x, the
/// blocks in order; every path gives the same bits (twins: vpg_matmul_q8_0_x16_q16_generic, vpg_quantize_q16_32_generic).
/// The products keep ~1/256 of 8-bit activations' rounding (Q8_0 prompts' logits stay at llama.cpp's distance
/// from exact math), with dot products at the 16-bit rate, twice f32's.
vpg_matmul_panels_fn vpg_q8_0_x16_q16_kernel(int path);
vpg_quantize_fn vpg_quantize_q16_kernel(int path);
void vpg_matmul_q8_0_x16_q16_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                     int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols);
void vpg_quantize_q16_32_generic(const float *x, void *blocks, int64_t n);
/// BF16 weights times activations rounded to bf16 (vpg_round_bf16: nearest, ties to even; [tokens, cols] uint16 rows
/// `stride` bytes apart), as vpg_matmul_panels_fn, cols even: y[t·ldy + r − r0] = the sum over column pairs in order,
/// each adding the odd column's product, then the even one's, in f32 (vdpbf16ps's steps; each product is exact).
/// AVX512-BF16's kernel (vdpbf16ps: twice the weights per instruction of an f32 fma) where the path is AVX-512 and
/// the CPU has that extension, else NULL: prompts then keep exact f32 products. Twin: vpg_matmul_bf16_bf16_generic,
/// within its rounding (the CPU may flush subnormal products, and may round a pair's two adds once).
vpg_matmul_panels_fn vpg_bf16_products_kernel(int path);
/// Whether BF16 prompts take that kernel where it exists, instead of the exact f32 products (dequantized panels and
/// sgemm): by default on CPUs other than Intel's. On a Zen 4 they were the faster ones; an Emerald Rapids core retires a
/// 512-bit vdpbf16ps (32 products) a quarter as often as a 512-bit fma (16), so there the exact products are faster
/// (Benchmarks/instruction_rate.c, Benchmarks/README.md).
int vpg_bf16_products_preferred(void);
/// Sets it (VPGEA_BF16_PRODUCTS=0|1); call before any product runs. The results differ: bf16 or f32 activations.
void vpg_set_bf16_products_preferred(int on);
void vpg_matmul_bf16_bf16_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                  int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols);
void vpg_round_bf16(const float *x, uint16_t *out, int64_t n);
/// Whether the CPU has AVX512-BF16 (with the AVX-512 path's own features).
int vpg_cpu_avx512_bf16(void);
/// Whether a path's row products (few tokens) on a type have the panel kernel's numerics instead of the row kernel's:
/// Q4_0, Q5_0, Q4_K and Q6_K on every SIMD path: AVX-512's interleaved row products take the panels' steps (half
/// the operations per weight of the row kernels' order for the k-quants, one float step per row and block instead of
/// eight for Q4_0 and Q5_0), the 256-bit paths' likewise (x16_rows_avx2.c, x16_krows_avx2.c). Then each token's
/// results do not depend on how many tokens share the product.
int vpg_rows_as_panels(int ggml_type, int path);
/// The most sequences of a generation step whose product on a type and path takes the row kernels; more take the
/// panel kernels (where the type has them). Where the rows take the panels' numerics, their passes of up to four
/// tokens over each group of rows still beat building the panels at twelve and sixteen sequences (AVX-512; on the
/// 256-bit paths the panels built from the interleaved layout level them at 16 and beat them at 32): 16. Elsewhere
/// 8: past a few tokens, unpacking each block once into a panel for every token wins; so too for AVX2's Q4_K and
/// Q6_K, whose panels take two tokens per pass over a block (they level the rows at 8 sequences and beat them at
/// 10–16). The measurements: Benchmarks/README.md, and `Benchmarks/kernel_sweep.sh` on a new CPU kind.
int vpg_generation_rows_max(int ggml_type, int path);

// ---- The trainer's backward products (dX = dY·W) in integers ----
//
// Q7: an internal weight format for a transposed copy of a frozen weight (never written to files), stored as the
// AVX2 panel kernel reads it, so that nothing is unpacked per product: panels of eight rows, each a run of
// vpg_q7_panel records (one per 32 columns). Weights are w = d·q with |q| ≤ 64 (signed); activations have 7 bits
// and are stored plus 64 (u = q + 64 in 1…127, d = max|x|/63), so that the unsigned × signed byte products of four
// weights fit an int16 lane (4·127·64 < 2^15), and the offset's share, 64·Σ q of each weight row, is stored with it.
typedef struct {
    /// q of the eight rows, interleaved: byte 32·(2c + h) + 8s + e is element 8c + e of row (s & 1) + 2h + 4(s >> 1)
    /// (c < 4, h < 2, s < 4, e < 8); rows past the matrix's end are zero.
    int8_t q[256];
    /// The rows' scales.
    float d[8];
    /// 64·Σ q of each row's 32 weights: Σ q·(u − 64) = Σ q·u − offset.
    int32_t offset[8];
} vpg_q7_panel;

/// x: [n] f32 → n/32 vpg_q8_32 blocks holding u = round(x/d) + 64 in 1…127 (d = max|x| / 63, rounded as
/// vpg_quantize_kernel); every path gives the same bytes.
vpg_quantize_fn vpg_quantize_q7_kernel(int path);

/// The panel kernel of Q7 weights on a path: as vpg_matmul_panels_kernel (one fma per block and row), but `rows`
/// is the first of the matrix's vpg_q7_panel records and `row_bytes` the bytes of one panel (its eight rows).
vpg_matmul_panels_fn vpg_matmul_panels_q7_kernel(int path);

/// Writes row k (< 8) of a panel record: its scale d and its 32 weights q (|q| ≤ 64, element order).
void vpg_q7_panel_set(vpg_q7_panel *panel, int k, float d, const int8_t *q);

// ---- Softmax ----

/// x: [n] f32 ← exp(x − m) with m = max x (written to *max_out); returns Σ exp(x − m), summed in Double. exp to
/// 2 ulp (degree-7 polynomial); every path gives the same bits (eight partial sums, added in a fixed order).
typedef double (*vpg_exp_shifted_fn)(float *x, int64_t n, float *max_out);
vpg_exp_shifted_fn vpg_exp_shifted_kernel(int path);

// ---- SwiGLU ----

/// out: [n] ← gate / (1 + e^−gate) · up (gate, up: [n]; out may be gate), with e^x as glibc's expf computes it
/// (exp_table.h): every path gives the same bits, and on glibc the bits of the same expression written with expf.
typedef void (*vpg_swiglu_fn)(const float *gate, const float *up, float *out, int64_t n);
vpg_swiglu_fn vpg_swiglu_kernel(int path);
/// Its backward, all [n]: with s = 1 / (1 + e^−gate), dup = dh·gate·s, dgate = dh·up·s·(1 + gate·(1 − s)) (the
/// same e^x, so the same bits as that expression written with expf on glibc).
typedef void (*vpg_swiglu_backward_fn)(const float *gate, const float *up, const float *dh, float *dgate, float *dup,
                                       int64_t n);
vpg_swiglu_backward_fn vpg_swiglu_backward_kernel(int path);

// ---- Attention ----

/// Attention of `group` query heads that share one key/value head, over `length` cache rows:
/// scores[g, j] = scale · q_g · k_j, a softmax over j, out[g] = Σ_j p[g, j] · v_j.
/// q: [group, head_dim] f32; k0, v0: the head's slice of the first cache row, rows `row_bytes` apart;
/// scores: [group, length] scratch; out: [group, head_dim]. head_dim ≤ 512.
typedef void (*vpg_attend_fn)(const float *q, const void *k0, const void *v0, int64_t row_bytes, int64_t length,
                              int group, int head_dim, float scale, float *scores, float *out);

/// The attention kernel for a cache type (ggml: F32 0, F16 1, Q8_0 8) on a path, or NULL.
vpg_attend_fn vpg_attend_kernel(int cache_type, int path);
// ---- The kernel table ----

/// One ggml type's kernels on one path (NULL or 0 where it has none).
typedef struct {
    /// f32 activations, one weight row.
    vpg_dot_fn dot;
    /// One row to f32, bit-identical to the scalar reference.
    vpg_dequant_fn dequant;
    /// The activation block of the integer kernels (32: vpg_q8_32, 256: vpg_q8_256) and its quantizer.
    int q_block;
    vpg_quantize_fn quantize;
    /// 8-bit activations: one row, several rows (generation, short prompts), panels (prompts).
    vpg_dotq_fn dotq;
    vpg_dotq_rows_fn dotq_rows;
    vpg_matmul_panels_fn panels;
} vpg_type_kernels;

/// ggml type numbers below this index the table's rows.
#define VPG_TYPE_ROWS 31

/// Every kernel of one path.
typedef struct {
    int path;
    /// By ggml type number (F16 1, Q4_0 2, Q5_0 6, Q8_0 8, Q4_K 12, Q6_K 14, BF16 30; other rows are empty).
    vpg_type_kernels type[VPG_TYPE_ROWS];
    /// The trainer's Q7 products (dX = dY·W): its activation quantizer and panel kernel.
    vpg_quantize_fn quantize_q7;
    vpg_matmul_panels_fn panels_q7;
    vpg_exp_shifted_fn exp_shifted;
    vpg_swiglu_fn swiglu;
    vpg_swiglu_backward_fn swiglu_backward;
    /// Attention over an f32, f16 or q8_0 cache.
    vpg_attend_fn attend[3];
    /// Q4_0, Q5_0, Q8_0, Q4_K and Q6_K interleaved by sixteen rows: the row kernels' and the panels' products (Q8_0:
    /// rows only).
    vpg_matmul_panels_fn rows_q4_0_x16, panels_q4_0_x16, rows_q5_0_x16, panels_q5_0_x16, rows_q8_0_x16;
    vpg_matmul_panels_fn rows_q4_k_x16, panels_q4_k_x16, rows_q6_k_x16, panels_q6_k_x16;
    /// Whole groups of interleaved Q4_0, Q5_0 or Q8_0 rows dequantized (vpg_dequant_x16_rows).
    vpg_dequant_x16_fn dequant_x16;
    /// Q8_0 interleaved times 16-bit activations, and their quantizer (vpg_q8_0_x16_q16_kernel).
    vpg_matmul_panels_fn q8_0_x16_q16;
    vpg_quantize_fn quantize_q16;
} vpg_kernel_table;

/// The table of a path (NULL for an unknown one), whether or not this CPU can run it; the accessors above return
/// its entries for a path the CPU supports and the generic ones otherwise.
const vpg_kernel_table *vpg_kernels(int path);

// ---- OpenBLAS ----

/// The exact f32 products of prompts on Q8_0/F16 weights and of training, through OpenBLAS (loaded on first use;
/// see blas.c). Row-major; trans_a/trans_b: 0 or 1.
void vpg_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
               const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
/// y = alpha·A·x + beta·y, A: [m, k] row-major.
void vpg_sgemv(int64_t m, int64_t k, float alpha, const float *a, int64_t lda, const float *x, float beta, float *y);
/// OpenBLAS's own thread count (our threads split the work; 1 by default).
void vpg_blas_set_threads(int threads);
/// The OpenBLAS core running the products ("Haswell", "SkylakeX", …), or an error message when none could be
/// loaded; and a sentence on how it was chosen.
const char *vpg_blas_core(void);
const char *vpg_blas_note(void);
/// Whether OpenBLAS is loaded and usable.
int vpg_blas_available(void);
/// The core to load OpenBLAS with instead of `core` (its own choice), or NULL to keep it: a pre-AVX2 core on a CPU
/// with AVX2 (→ Haswell), AVX-512 F/BW/VL/DQ/CD (avx512 = 1 → SkylakeX) or those with AVX512-BF16 and VNNI (avx512 =
/// 2 → Cooperlake, OpenBLAS's own choice on a Zen 4 with those features: CPUs of one feature set get the same sgemm
/// bits, which the 8-bit activations downstream can magnify into visible logit differences).
const char *vpg_blas_better_core(const char *core, int avx2, int avx512);
/// Whether the CPU has the AVX-512 foundation that OpenBLAS's SkylakeX kernels need (F, BW, VL, DQ, CD; the
/// operating system saving the ZMM state).
int vpg_cpu_avx512_foundation(void);
/// Memory for weights that are streamed once per token (at least `bytes`, 64-byte aligned; from 2 MiB on, aligned to
/// 2 MiB in a mapping of its own and, with `huge_pages`, advised into 2 MiB pages), or NULL.
void *vpg_alloc_streamed(size_t bytes, int huge_pages);
/// Frees what vpg_alloc_streamed(bytes, …) returned; `bytes` as asked then.
void vpg_free_streamed(void *p, size_t bytes);

#endif
