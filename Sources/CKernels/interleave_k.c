// Q4_0, Q5_0, Q8_0 and the k-quants interleaved by sixteen rows (CKernels.h has the layouts): the repacking, one row
// back, and the products of the paths without their own kernels for the layout (rows put back in chunks of their
// stored form, then the path's stored kernels: their bits by construction).
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"
#include "quant_blocks.h"
#include "kernel_table.h"

VPG_DECLARE_PATH(generic)

enum { X16_ROWS = 16 };

/// Bytes and weights of one stored block of a type (0: not interleaved).
static int block_bytes(int type) {
    return type == 2 || type == 6 || type == 8 ? vpg_block32_bytes(type) : type == 12 ? 144 : type == 14 ? 210 : 0;
}
static int block_weights(int type) { return type == 12 || type == 14 ? 256 : 32; }

/// Q5_0's fifth bits: row r's bits 16h + 4c .. 16h + 4c + 3 (weights of lane c, or 4 + c when h = 1) are bits 4r..4r + 3
/// of the group's 64-bit mask 2c + h (at byte 288 of the interleaved block), which the kernel adds as 16 to those bytes.
static void move_fifth_bits(uint8_t *x, uint8_t *b, int r, int to_rows) {
    uint32_t qh = 0;
    if (!to_rows) memcpy(&qh, b + 2, 4);
    for (int m = 0; m < 8; m++) {   // m = 2c + h
        const int shift = 16 * (m & 1) + 4 * (m >> 1);
        uint64_t mask;
        memcpy(&mask, x + 288 + 8 * m, 8);
        if (to_rows) {
            qh |= (uint32_t)(mask >> (4 * r) & 0xF) << shift;
        } else {
            mask = (mask & ~(0xFull << (4 * r))) | (uint64_t)(qh >> shift & 0xF) << (4 * r);
            memcpy(x + 288 + 8 * m, &mask, 8);
        }
    }
    if (to_rows) memcpy(b + 2, &qh, 4);
}

/// Moves row r's pieces between its stored block `b` and its group's interleaved block `x`: `to_rows` copies from x
/// into b, else from b into x. Each piece is a dword of a sixteen-lane vector (d and dmin: a half of a 32-byte run).
static void move_block(int type, uint8_t *x, uint8_t *b, int r, int to_rows) {
#define MOVE(X, B, N) (to_rows ? memcpy(B, X, N) : memcpy(X, B, N))
    if (type == 2 || type == 6) {
        const int nibbles = type == 2 ? 2 : 6;   // Q5_0: d, the fifth bits (qh), then the nibbles
        MOVE(x + 2 * r, b, 2);                                                 // d
        for (int c = 0; c < 4; c++) MOVE(x + 32 + 64 * c + 4 * r, b + nibbles + 4 * c, 4);   // nibbles, dword c
        if (type == 6) move_fifth_bits(x, b, r, to_rows);
    } else if (type == 8) {
        MOVE(x + 2 * r, b, 2);                                                 // d
        for (int c = 0; c < 8; c++) {   // dword c of the weights, as q + 128 (unsigned) in the layout
            uint8_t *xv = x + 32 + 64 * c + 4 * r, *bv = b + 2 + 4 * c;
            uint32_t four;
            memcpy(&four, to_rows ? xv : bv, 4);
            four ^= 0x80808080u;
            memcpy(to_rows ? bv : xv, &four, 4);
        }
    } else if (type == 12) {
        MOVE(x + 2 * r, b, 2);                                                 // d
        MOVE(x + 32 + 2 * r, b + 2, 2);                                        // dmin
        for (int w = 0; w < 3; w++) MOVE(x + 64 + 64 * w + 4 * r, b + 4 + 4 * w, 4);   // scales a, b, c
        for (int v = 0; v < 32; v++) MOVE(x + 256 + 64 * v + 4 * r, b + 16 + 4 * v, 4);   // quants: 8h + c
    } else {
        for (int v = 0; v < 4; v++) MOVE(x + 64 * v + 4 * r, b + 192 + 4 * v, 4);     // scales
        for (int n = 0; n < 2; n++)   // per half n and dword c: the two ql dwords, then the qh dword
            for (int c = 0; c < 8; c++) {
                uint8_t *v = x + 256 + 64 * 3 * (8 * n + c) + 4 * r;
                MOVE(v, b + 64 * n + 4 * c, 4);
                MOVE(v + 64, b + 64 * n + 32 + 4 * c, 4);
                MOVE(v + 128, b + 128 + 32 * n + 4 * c, 4);
            }
        MOVE(x + 3328 + 2 * r, b + 208, 2);                                   // d
    }
#undef MOVE
}

void vpg_repack_x16(int type, const void *rows, void *out, int64_t row_count, int64_t cols) {
    const int bb = block_bytes(type);
    const int64_t blocks = cols / block_weights(type), row_bytes = blocks * bb;
    for (int64_t r = 0; r < row_count; r++)
        for (int64_t i = 0; i < blocks; i++) {
            uint8_t *x = (uint8_t *)out + (r / X16_ROWS) * X16_ROWS * row_bytes + i * X16_ROWS * bb;
            move_block(type, x, (uint8_t *)rows + r * row_bytes + i * bb, (int)(r % X16_ROWS), 0);
        }
}

void vpg_unpack_x16_row(int type, const void *packed, int64_t row_bytes, int64_t r, void *out, int64_t cols) {
    const int bb = block_bytes(type);
    const uint8_t *group = (const uint8_t *)packed + (r / X16_ROWS) * X16_ROWS * row_bytes;
    for (int64_t i = 0; i < cols / block_weights(type); i++)
        move_block(type, (uint8_t *)group + i * X16_ROWS * bb, (uint8_t *)out + i * bb, (int)(r % X16_ROWS), 1);
}

/// Rows put back in chunks of this many (a multiple of 16): chunks of sixteen made the panels reread every token's
/// activations for each sixteen rows.
enum { STORED_CHUNK = 256 };

void vpg_x16_through_stored(int type, vpg_dotq_rows_fn rows_kernel, vpg_matmul_panels_fn panels, const void *packed,
                            int64_t row_bytes, const void *xq, int64_t stride, int64_t tokens, float *y, int64_t ldy,
                            int64_t r0, int64_t r1, int64_t cols) {
    uint8_t *chunk = malloc((size_t)(STORED_CHUNK * row_bytes));   // [STORED_CHUNK, row_bytes]
    if (!chunk) abort();
    for (int64_t c0 = r0; c0 < r1; c0 += STORED_CHUNK) {
        const int64_t count = r1 - c0 < STORED_CHUNK ? r1 - c0 : STORED_CHUNK;   // a multiple of 16
        for (int64_t r = 0; r < count; r++) vpg_unpack_x16_row(type, packed, row_bytes, c0 + r, chunk + r * row_bytes, cols);
        if (rows_kernel)
            vpg_matmul_rows_q(rows_kernel, chunk, row_bytes, xq, stride, tokens, y + (c0 - r0), ldy, 0, count, cols);
        else
            panels(chunk, row_bytes, xq, stride, tokens, y + (c0 - r0), ldy, 0, count, cols);
    }
    free(chunk);
}

/// A path's products on interleaved weights through its own stored kernels: the generic path's twins, and on x86
/// the AVX2 and AVX-VNNI paths' prompts (their own kernels on the layout are the row products of generation; the
/// panels serve a prompt on those rows, or a model interleaved for AVX-512 run on another path, as the tests do).
#define THROUGH_ROWS(T, TYPE, S)                                                                                   \
    void vpg_matmul_rows_##T##_x16_##S(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,         \
                                       int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) { \
        vpg_x16_through_stored(TYPE, vpg_dotq_rows_##T##_##S, NULL, rows, row_bytes, xq, stride, tokens, y, ldy, r0,  \
                               r1, cols);                                                                          \
    }
#define THROUGH_PANELS(T, TYPE, S)                                                                                 \
    void vpg_matmul_panels_##T##_x16_##S(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,       \
                                         int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1,            \
                                         int64_t cols) {                                                           \
        vpg_x16_through_stored(TYPE, NULL, vpg_matmul_panels_##T##_##S, rows, row_bytes, xq, stride, tokens, y, ldy,   \
                               r0, r1, cols);                                                                      \
    }
#define THROUGH(T, TYPE, S) THROUGH_ROWS(T, TYPE, S) THROUGH_PANELS(T, TYPE, S)
/// Paths without their own group dequantization read the layout row by row (dequant.c).
#define DEQUANT_X16(S)                                                                                             \
    void vpg_dequant_x16_groups_##S(int type, const void *packed, int64_t row_bytes, int64_t r0, int64_t r1,       \
                                    float *out, int64_t cols) {                                                    \
        vpg_dequant_x16_rows_generic(type, packed, row_bytes, r0, r1, out, cols);                                  \
    }
/// Q8_0 has no panels' products on interleaved rows: its prompts take the exact products on every path. The row
/// products of the other types on the 256-bit paths are their own (x16_rows_avx2.c, x16_krows_avx2.c), and so are
/// their panels there (panels_avx2.c).
#define TWINS(S) THROUGH_ROWS(q8_0, 8, S) DEQUANT_X16(S)
TWINS(generic)
THROUGH_PANELS(q4_0, 2, generic)   // (the 256-bit paths' own: panels_avx2.c)
THROUGH_PANELS(q5_0, 6, generic)
THROUGH_PANELS(q4_k, 12, generic)
THROUGH_PANELS(q6_k, 14, generic)
THROUGH_ROWS(q4_0, 2, generic)
THROUGH_ROWS(q5_0, 6, generic)
THROUGH_ROWS(q4_k, 12, generic)
THROUGH_ROWS(q6_k, 14, generic)
#if defined(__x86_64__)
VPG_DECLARE_PATH(avx2)
VPG_DECLARE_PATH(avxvnni)
TWINS(avx2)
TWINS(avxvnni)
#endif
