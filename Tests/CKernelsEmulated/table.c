// The emulated paths' tables, built by the same macro as the native ones (kernel_table.h).
#include "CKernelsEmulated.h"
#include "../../Sources/CKernels/kernel_table.h"

#if defined(__x86_64__)
VPG_DECLARE_DEQUANT(generic)
VPG_DECLARE_PANELS(vpg_matmul_rows_q4_0_x16_generic)
VPG_DECLARE_PANELS(vpg_matmul_panels_q4_0_x16_generic)
VPG_DECLARE_PANELS(vpg_matmul_rows_q5_0_x16_generic)
VPG_DECLARE_PANELS(vpg_matmul_panels_q5_0_x16_generic)
VPG_DECLARE_PANELS(vpg_matmul_rows_q8_0_x16_generic)
void vpg_dequant_x16_groups_generic(int, const void *, int64_t, int64_t, int64_t, float *, int64_t);
VPG_DECLARE_PANELS(vpg_matmul_rows_q4_k_x16_generic)
VPG_DECLARE_PANELS(vpg_matmul_panels_q4_k_x16_generic)
VPG_DECLARE_PANELS(vpg_matmul_rows_q6_k_x16_generic)
VPG_DECLARE_PANELS(vpg_matmul_panels_q6_k_x16_generic)
VPG_DECLARE_PATH(avx2_emu)
VPG_DECLARE_PATH(avxvnni_emu)
VPG_DECLARE_PATH(avx512_emu)

static const vpg_kernel_table tables[] = {
    VPG_TABLE(VPG_PATH_AVX2, avx2_emu, generic, NULL, generic, avx2_emu, NULL, NULL),
    VPG_TABLE(VPG_PATH_AVXVNNI, avxvnni_emu, generic, vpg_matmul_panels_q8_0_avxvnni_emu, generic,
              avxvnni_emu, NULL, NULL),
    VPG_TABLE(VPG_PATH_AVX512, avx512_emu, generic, vpg_matmul_panels_q8_0_avx512_emu, avx512_emu,
              avx512_emu, vpg_matmul_q8_0_x16_q16_avx512_emu, vpg_quantize_q16_32_avx512_emu),
};

const vpg_kernel_table *vpg_emulated_kernels(int path) {
    return path >= VPG_PATH_AVX2 && path <= VPG_PATH_AVX512 ? &tables[path - VPG_PATH_AVX2] : NULL;
}
#else
const vpg_kernel_table *vpg_emulated_kernels(int path) { return NULL; }
#endif
