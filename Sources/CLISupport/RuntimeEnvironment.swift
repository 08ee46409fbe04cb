import ConsoleUI
import Foundation
import Kernels

/// The environment variables that change how the commands compute, read once when a command starts and handed to
/// the library as values:
/// - `VPGEA_KERNELS=generic|avx2|avxvnni|avx512`: the kernels' instruction-set path (when this CPU has it);
/// - `VPGEA_ACTIVATIONS=f32`: products keep their activations in f32 instead of quantizing them to 8 bits (16 bits:
///   Q8_0 prompts on AVX-512; bf16: BF16 prompts on AVX512-BF16);
/// - `VPGEA_INTERLEAVE=0`: Q4_0, Q5_0, Q8_0, Q4_K and Q6_K matrices keep their stored rows instead of the interleaved
///   copy AVX-512 (and AVX2 for all but Q8_0) reads faster (the results are the same bits either way; those stored
///   rows then take the panel kernels, slowly), and F16 and BF16 ones are read in place;
/// - `VPGEA_HUGE_PAGES=0`: the interleaved copies take ordinary 4 KiB pages instead of asking for 2 MiB ones, and F16
///   and BF16 matrices are read in place instead of copied into such pages (a slightly faster load, a slower
///   generation);
/// - `VPGEA_ROW_PREFETCH=0|1`: one-token row products and F16/BF16 dots prefetch their weights in software, or not
///   (by default on Intel CPUs, whose hardware prefetchers alone left them waiting on memory; off elsewhere);
/// - `VPGEA_BF16_PRODUCTS=0|1`: BF16 prompts on AVX512-BF16 take bf16 activations and vdpbf16ps (as llama.cpp), or
///   exact f32 products (by default off on Intel CPUs, which run vdpbf16ps at half an fma's rate per weight).
public enum RuntimeEnvironment {
    /// A note on what `VPGEA_KERNELS` asked for when it is not the path taken (empty otherwise), for machine lines.
    nonisolated(unsafe) public private(set) static var kernelNote = ""

    /// Reads the variables and sets the library's defaults; a request this CPU cannot honour is reported.
    public static func apply(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let asked = environment["VPGEA_KERNELS"] {
            if let path = KernelPath.allCases.first(where: { $0.description == asked }), path.isSupported {
                KernelPath.selected = path
            } else {
                kernelNote = KernelPath.allCases.contains { $0.description == asked }
                    ? " (VPGEA_KERNELS=\(asked): this CPU lacks it)"
                    : " (VPGEA_KERNELS=\(asked): unknown; generic, avx2, avxvnni or avx512)"
                printError("warning: VPGEA_KERNELS=\(asked) cannot be used here;"
                    + " kernels: \(KernelPath.selected)\(kernelNote)")
            }
        }
        if let activations = environment["VPGEA_ACTIVATIONS"] {
            MatMul.exactActivationsByDefault = activations == "f32"
            if activations != "f32" && activations != "int8" {
                printError("warning: VPGEA_ACTIVATIONS=\(activations) is not f32 or int8; 8-bit activations are used")
            }
        }
        if let interleave = environment["VPGEA_INTERLEAVE"] {
            WeightMatrix.interleavesByDefault = interleave != "0"
            if interleave != "0" && interleave != "1" {
                printError("warning: VPGEA_INTERLEAVE=\(interleave) is not 0 or 1; matrices are interleaved where it pays")
            }
        }
        cpuKindSwitch("VPGEA_ROW_PREFETCH", environment, \.rowPrefetch)
        cpuKindSwitch("VPGEA_BF16_PRODUCTS", environment, \.bf16Products)
        if let huge = environment["VPGEA_HUGE_PAGES"] {
            WeightMatrix.hugePagesByDefault = huge != "0"
            if huge != "0" && huge != "1" {
                printError("warning: VPGEA_HUGE_PAGES=\(huge) is not 0 or 1; the weights' copies ask for 2 MiB pages")
            }
        }
    }

    /// A `0|1` variable over a switch whose default depends on the CPU kind; anything else keeps the default, with a
    /// warning that names it.
    private static func cpuKindSwitch(_ name: String, _ environment: [String: String],
                                      _ setting: ReferenceWritableKeyPath<KernelPath.Type, Bool>) {
        guard let value = environment[name] else { return }
        if value == "0" || value == "1" {
            KernelPath.self[keyPath: setting] = value == "1"
        } else {
            printError("warning: \(name)=\(value) is not 0 or 1; the CPU's default is kept"
                + " (\(KernelPath.self[keyPath: setting] ? "on" : "off"))")
        }
    }
}
