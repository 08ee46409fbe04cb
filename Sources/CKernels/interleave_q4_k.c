// Q4_K interleaved by sixteen rows (CKernels.h has the layout): the repacking, one row back, and the plain twins of
// the products (each row back to its stored form, then the plain kernels: their bits by construction).
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"
#include "kernel_table.h"

VPG_DECLARE_PATH(generic)

enum { X16_ROWS = 16, BLOCK_BYTES = 144, X16_BLOCK_BYTES = X16_ROWS * BLOCK_BYTES };

/// Where each piece of row r's block lies in its group's interleaved block: d and dmin (2 bytes), the scales' and the
/// quants' dwords (4 bytes). `to_rows` copies from the interleaved block `x` into the stored block `b`, else back.
static void move_block(uint8_t *x, uint8_t *b, int r, int to_rows) {
#define MOVE(X, B, N) (to_rows ? memcpy(B, X, N) : memcpy(X, B, N))
    MOVE(x + 2 * r, b, 2);
    MOVE(x + 32 + 2 * r, b + 2, 2);
    for (int w = 0; w < 3; w++) MOVE(x + 64 + 64 * w + 4 * r, b + 4 + 4 * w, 4);
    for (int h = 0; h < 4; h++)
        for (int c = 0; c < 8; c++) MOVE(x + 256 + 64 * (8 * h + c) + 4 * r, b + 16 + 32 * h + 4 * c, 4);
#undef MOVE
}

void vpg_repack_q4_k_x16(const void *rows, void *out, int64_t row_count, int64_t cols) {
    const int64_t blocks = cols / 256, row_bytes = blocks * BLOCK_BYTES;
    for (int64_t r = 0; r < row_count; r++)
        for (int64_t i = 0; i < blocks; i++) {
            uint8_t *x = (uint8_t *)out + (r / X16_ROWS) * X16_ROWS * row_bytes + i * X16_BLOCK_BYTES;
            move_block(x, (uint8_t *)rows + r * row_bytes + i * BLOCK_BYTES, (int)(r % X16_ROWS), 0);
        }
}

void vpg_unpack_q4_k_x16_row(const void *packed, int64_t row_bytes, int64_t r, void *out, int64_t cols) {
    const uint8_t *group = (const uint8_t *)packed + (r / X16_ROWS) * X16_ROWS * row_bytes;
    for (int64_t i = 0; i < cols / 256; i++)
        move_block((uint8_t *)group + i * X16_BLOCK_BYTES, (uint8_t *)out + i * BLOCK_BYTES, (int)(r % X16_ROWS), 1);
}

/// Rows g..g + 15 back to their stored form in `rows16` ([16, row_bytes]).
static void unpack_group(const void *packed, int64_t row_bytes, int64_t g, uint8_t *rows16, int64_t cols) {
    for (int r = 0; r < X16_ROWS; r++) vpg_unpack_q4_k_x16_row(packed, row_bytes, g + r, rows16 + r * row_bytes, cols);
}

void vpg_matmul_rows_q4_k_x16_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                      int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    uint8_t *rows16 = malloc((size_t)(X16_ROWS * row_bytes));   // [16, row_bytes]
    for (int64_t g = r0; g < r1; g += X16_ROWS) {
        unpack_group(rows, row_bytes, g, rows16, cols);
        vpg_matmul_rows_q(vpg_dotq_rows_q4_k_generic, rows16, row_bytes, xq, stride, tokens, y + (g - r0), ldy, 0,
                          X16_ROWS, cols);
    }
    free(rows16);
}

void vpg_matmul_panels_q4_k_x16_generic(const void *rows, int64_t row_bytes, const void *xq, int64_t stride,
                                        int64_t tokens, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t cols) {
    uint8_t *rows16 = malloc((size_t)(X16_ROWS * row_bytes));   // [16, row_bytes]
    for (int64_t g = r0; g < r1; g += X16_ROWS) {
        unpack_group(rows, row_bytes, g, rows16, cols);
        vpg_matmul_panels_q4_k_generic(rows16, row_bytes, xq, stride, tokens, y + (g - r0), ldy, 0, X16_ROWS, cols);
    }
    free(rows16);
}
