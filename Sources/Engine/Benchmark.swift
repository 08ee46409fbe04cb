import Foundation
import Kernels
import Qwen2

/// Throughput measurements with llama-bench's vocabulary: `pp` (prompt processing of n tokens in one batch),
/// `tg` (generation of n tokens one at a time) and `tg@d` (generation after a context of d tokens).
public enum Benchmark {
    public struct Test: Sendable {
        public let prompt: Int   // n_prompt
        public let generate: Int // n_gen
        public let depth: Int    // n_depth
        /// LoRA training on sequences of this length (forward + backward + AdamW), batch 1.
        public let train: Int
        /// Sequences generated together (batched generation); 1 is plain generation.
        public let batch: Int
        /// How a training test multiplies by the base weights, when not the default (shown in its name).
        public let variant: String?
        public init(prompt: Int, generate: Int, depth: Int, train: Int = 0, batch: Int = 1, variant: String? = nil) {
            self.variant = variant
            self.prompt = prompt
            self.generate = generate
            self.depth = depth
            self.train = train
            self.batch = max(batch, 1)
        }
        public var name: String {
            if train > 0 { return "train\(train)" + (variant.map { " \($0)" } ?? "") }
            return (prompt > 0 ? "pp\(prompt)" : "tg\(generate)") + (depth > 0 ? " @ d\(depth)" : "")
                + (batch > 1 ? " b\(batch)" : "")
        }
        /// Tokens per repetition (all sequences together).
        public var tokens: Int { train > 0 ? train : prompt > 0 ? prompt : generate * batch }
    }

    public struct Result: Sendable {
        public let test: Test
        public let threads: Int
        public let samples: [Double]   // tokens/s of each repetition
        /// CPU time other processes used during the run, as a fraction of the run's core-seconds.
        public let foreignLoad: Double
        public init(test: Test, threads: Int, samples: [Double], foreignLoad: Double) {
            self.test = test
            self.threads = threads
            self.samples = samples
            self.foreignLoad = foreignLoad
        }
        public var mean: Double { samples.reduce(0, +) / Double(max(samples.count, 1)) }
        public var stddev: Double {
            guard samples.count > 1 else { return 0 }
            let m = mean
            return (samples.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(samples.count - 1)).squareRoot()
        }
    }

    /// The i-th token of the benchmarks' inputs: ordinary tokens, no special ones.
    public static func ordinaryToken(_ i: Int, vocabulary: Int) -> Int { 1000 + (i * 7919) % max(vocabulary - 2000, 1) }

    /// Runs one test `repetitions` times after a warm-up, on a fresh cache each time. A batched generation
    /// test needs a session with at least `test.batch` sequences.
    public static func run(_ test: Test, session: Qwen2Session, repetitions: Int) throws -> Result {
        let vocab = session.model.config.vocabularySize
        func token(_ i: Int) -> Int { ordinaryToken(i, vocabulary: vocab) }
        var samples: [Double] = []
        let load = CPULoad()
        for r in 0...repetitions {
            session.reset()
            if test.depth > 0 {
                _ = try session.decode((0..<test.depth).map(token), logits: .none)
                for s in 1..<test.batch { session.copyPrefix(from: 0, to: s, count: test.depth) }
            }
            let clock = ContinuousClock()
            let start = clock.now
            if test.prompt > 0 {
                _ = try session.decode((0..<test.prompt).map(token), logits: .last)
            } else if test.batch > 1 {
                for i in 0..<test.generate { _ = try session.decodeStep((0..<test.batch).map { ($0, token(i + 31 * $0)) }) }
            } else {
                for i in 0..<test.generate { _ = try session.decode([token(i)], logits: .last) }
            }
            let seconds = (clock.now - start).secondsValue
            if r > 0 { samples.append(Double(test.tokens) / seconds) }   // r == 0 is the warm-up
        }
        return Result(test: test, threads: session.threads, samples: samples, foreignLoad: load.foreignFraction())
    }
}

/// Compares the machine's busy CPU time with this process's own, to detect other work during a run.
public struct CPULoad {
    private let startBusy: Double, startOwn: Double, startWall: Double

    public init() {
        startBusy = CPULoad.machineBusySeconds()
        startOwn = CPULoad.ownSeconds()
        startWall = CPULoad.now()
    }

    /// Other processes' CPU seconds during the interval, per available core-second.
    public func foreignFraction() -> Double {
        let busy = CPULoad.machineBusySeconds() - startBusy, own = CPULoad.ownSeconds() - startOwn
        let wall = CPULoad.now() - startWall
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        return wall > 0 ? max(0, busy - own) / (wall * cores) : 0
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// Busy seconds of all CPUs since boot, from /proc/stat (user + nice + system + irq + softirq + steal).
    static func machineBusySeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
        let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard f.count >= 8 else { return 0 }
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / Double(ticks)
    }

    static func ownSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

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

    /// One line for a result: the CPU, its flags, the kernel path and the BLAS core.
    public static var summary: String {
        "\(cpuModel) [\(cpuFlags.joined(separator: " "))], \(ProcessInfo.processInfo.activeProcessorCount) cores; "
            + "kernels \(KernelPath.selected)\(kernelRequest); BLAS \(BLASLibrary.note)"
    }

    /// A note when VPGEA_KERNELS asks for a path that is not the one taken.
    static var kernelRequest: String {
        guard let asked = ProcessInfo.processInfo.environment["VPGEA_KERNELS"], asked != KernelPath.selected.description
        else { return "" }
        return KernelPath.allCases.contains { $0.description == asked }
            ? " (VPGEA_KERNELS=\(asked): this CPU lacks it)" : " (VPGEA_KERNELS=\(asked): unknown; generic, avx2, avxvnni or avx512)"
    }

    /// Peak resident set size of this process, in MiB (VmHWM).
    public static var peakRSSMiB: Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        let kb = line.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } } ?? 0
        return kb / 1024
    }

    /// Memory read bandwidth in GB/s with `threads` threads: sums a 512 MiB buffer, best of 3.
    public static func readBandwidth(threads: Int) -> Double {
        let count = 128 << 20   // floats
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        var best = 0.0
        for _ in 0..<3 {
            let start = Date()
            let parts = threads * 8
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: parts)
            defer { sums.deallocate() }
            parallelFor(parts: parts, threads: threads) { p in
                    let chunk = count / parts
                    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
                    var i = p * chunk
                    while i < (p + 1) * chunk {
                        s0 += buffer[i]; s1 += buffer[i + 1]; s2 += buffer[i + 2]; s3 += buffer[i + 3]
                        i += 4
                    }
                    sums[p] = s0 + s1 + s2 + s3
            }
            best = max(best, Double(count * 4) / Date().timeIntervalSince(start) / 1e9)
        }
        return best
    }
}
