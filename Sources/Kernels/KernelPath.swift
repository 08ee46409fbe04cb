import CKernels

/// The instruction-set paths of the kernels, as CKernels' kernel table has them; the best one this CPU runs is
/// chosen at run time, and a command can choose another (the commands read `VPGEA_KERNELS`).
public enum KernelPath: Int32, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain C: every CPU.
    case generic = 0
    /// AVX2 + FMA + F16C.
    case avx2 = 1
    /// AVX2 with AVX-VNNI's 256-bit vpdpbusd (VEX).
    case avxVNNI = 2
    /// AVX-512 F/BW/VL/DQ with VNNI: 512-bit products.
    case avx512 = 3

    /// The best path this CPU supports.
    public static var best: KernelPath { KernelPath(rawValue: vpg_best_path()) ?? .generic }

    /// The path products take when none is given: `best`, unless the command line chose another (set it before
    /// any model runs).
    nonisolated(unsafe) public static var selected: KernelPath = best

    /// Whether one-token row products and F16/BF16 dots prefetch their weights in software: by default on Intel
    /// CPUs only (`vpg_row_prefetch`); the commands read `VPGEA_ROW_PREFETCH`. Same results either way.
    public static var rowPrefetch: Bool {
        get { vpg_row_prefetch() != 0 }
        set { vpg_set_row_prefetch(newValue ? 1 : 0) }
    }

    /// Whether BF16 prompts take bf16 activations and AVX512-BF16's products where the AVX-512 path has them
    /// (`MatMul.Plan.bf16Products`), instead of exact f32 products: by default on CPUs other than Intel's, whose
    /// server cores run those products at half the f32 fmas' rate per weight (`vpg_bf16_products_preferred`); the
    /// commands read `VPGEA_BF16_PRODUCTS`. The results differ (bf16 or f32 activations).
    public static var bf16Products: Bool {
        get { vpg_bf16_products_preferred() != 0 }
        set { vpg_set_bf16_products_preferred(newValue ? 1 : 0) }
    }

    /// Whether the path has AVX512-BF16's products on this CPU (`MatMul.Plan.bf16Products`, where `bf16Products`).
    public var hasBF16Products: Bool { vpg_bf16_products_kernel(rawValue) != nil }

    /// Whether this CPU, and its operating system, can run the path.
    public var isSupported: Bool { vpg_path_supported(rawValue) != 0 }

    /// The name `VPGEA_KERNELS` takes.
    public var description: String { String(cString: vpg_path_name(rawValue)) }
}

/// The OpenBLAS that runs the exact f32 products, loaded on first use.
public enum BLASLibrary {
    /// The OpenBLAS core in use ("Haswell", "SkylakeX", …; "none" when the library could not be loaded).
    public static var core: String { String(cString: vpg_blas_core()) }
    /// How that core was chosen, in a sentence.
    public static var note: String { String(cString: vpg_blas_note()) }
}
