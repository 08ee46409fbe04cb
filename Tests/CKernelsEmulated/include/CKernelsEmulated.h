#ifndef VPGEA_CKERNELS_EMULATED_H
#define VPGEA_CKERNELS_EMULATED_H
#include "CKernels.h"

/// The kernel table of an x86 path (VPG_PATH_AVX2, _AVXVNNI or _AVX512) built from the same sources as the native
/// one, through SIMDe's plain-C emulation of every intrinsic, so it runs on any x86-64 CPU (NULL elsewhere, and for
/// the generic path). Its dequantizers are the generic ones: the native ones are the plain loops compiled for the
/// path, with no intrinsics to emulate.
const vpg_kernel_table *vpg_emulated_kernels(int path);
#endif
