import Foundation
import Kernels

/// Facts about the machine that a benchmark result needs next to it.
public enum MachineFacts {
    public static var cpuModel: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = info.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }

    /// The CPU's flags that decide the kernels (as /proc/cpuinfo names them).
    public static var cpuFlags: [String] {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = info.split(separator: "\n").first { $0.hasPrefix("flags") }
        let flags = Set((line?.split(separator: ":", maxSplits: 1).last ?? "").split(separator: " ").map(String.init))
        return relevantFlags.filter(flags.contains)
    }
    static let relevantFlags = ["avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw", "avx512vl", "avx512dq",
                                "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_int8"]

    /// One line for a result: the CPU, its flags, the kernel path (with `kernelNote`, what the command line asked
    /// for when it could not be had), the BLAS core, and the switches that differ by CPU kind.
    public static func summary(kernelNote: String = "") -> String {
        "\(cpuModel) [\(cpuFlags.joined(separator: " "))], \(ProcessInfo.processInfo.activeProcessorCount) cores; "
            + "kernels \(KernelPath.selected)\(kernelNote); BLAS \(BLASLibrary.note); huge pages \(hugePages); "
            + "row prefetch \(KernelPath.rowPrefetch ? "on" : "off")"
            + (KernelPath.selected.hasBF16Products ? "; bf16 products \(KernelPath.bf16Products ? "on" : "off")" : "")
    }

    /// Whether the interleaved weight copies get 2 MiB pages: Linux's transparent-huge-page mode ("always",
    /// "madvise": given on request, as vpgea asks; "never"), or that vpgea declined them (VPGEA_HUGE_PAGES=0).
    public static var hugePages: String {
        guard WeightMatrix.hugePagesByDefault else { return "declined" }
        let mode = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8))
            .flatMap { text in text.split(separator: " ").first { $0.hasPrefix("[") } }
        return mode.map { String($0.trimmingCharacters(in: CharacterSet(charactersIn: "[]\n"))) } ?? "unknown"
    }

    /// Peak resident set size of this process, in MiB (VmHWM).
    public static var peakRSSMiB: Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        let kb = line.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } } ?? 0
        return kb / 1024
    }

    /// Memory read bandwidth in GB/s with `threads` threads: sums a 512 MiB buffer, best of 3. The sums run on
    /// 16-float vectors in four chains, so that one thread waits on memory, not on its adds (four scalar chains
    /// summed ~19 GB/s on a Zen 4 core whose generation kernels read ~30).
    public static func readBandwidth(threads: Int) -> Double {
        let count = 128 << 20   // floats
        let buffer = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: count / 16)   // [count / 16] of 16 floats
        defer { buffer.deallocate() }
        buffer.initialize(repeating: SIMD16(repeating: 1), count: count / 16)
        var best = 0.0
        for _ in 0..<3 {
            let start = Date()
            let parts = threads * 8
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: parts)   // [parts], kept so the loads stay
            defer { sums.deallocate() }
            parallelFor(parts: parts, threads: threads) { p in
                let chunk = count / 16 / parts
                var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
                var i = p * chunk
                while i + 3 < (p + 1) * chunk {
                    s0 += buffer[i]; s1 += buffer[i + 1]; s2 += buffer[i + 2]; s3 += buffer[i + 3]
                    i += 4
                }
                sums[p] = (s0 + s1 + s2 + s3).sum()
            }
            best = max(best, Double(count * 4) / Date().timeIntervalSince(start) / 1e9)
        }
        return best
    }
}
