import ArgumentParser
import Benchmarking
import CLISupport
import ConsoleUI
import Foundation
import Kernels
import LoRA
import ModelStore
import Qwen2
import Training

@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-bench",
        abstract: "Measure prompt-processing and generation throughput, with llama-bench's options and names.",
        discussion: """
            pp512 processes 512 tokens in one batch; tg128 generates 128 tokens one at a time; "@ d1024" runs \
            after a context of 1024 tokens. Each figure is the mean ± standard deviation of -r repetitions after \
            a warm-up. Run it on an idle machine: a run during which other processes used the CPU is flagged.
            Example: vpgea-bench -m qwen2.5-coder-0.5b -t 1,2 -p 512 -n 128 -d 0,1024 -r 5 -o md
            """)

    @Option(name: .short, help: "Models: GGUF paths or catalog names, comma-separated.")
    var m: String = Catalog.testModel.name

    @Option(name: .short, help: "Thread counts, comma-separated.")
    var t: String = "\(ProcessInfo.processInfo.activeProcessorCount)"

    @Option(name: .short, help: "Prompt lengths for pp tests, comma-separated (0: none).")
    var p: String = "512"

    @Option(name: .short, help: "Generation lengths for tg tests, comma-separated (0: none).")
    var n: String = "128"

    @Option(name: .short, help: "Context depths, comma-separated.")
    var d: String = "0"

    @Option(name: .short, help: "Repetitions per test.")
    var r = 5

    @OptionGroup var cache: CacheTypeOption

    @Option(name: .short, help: "Output: md, csv, json (an array of rows, as llama-bench's; each row names the machine) or jsonl (one row per line).")
    var o: Format = .md

    @Option(name: .short, help: "Batched generation: sequences generated together, comma-separated (tg tests; aggregate t/s).")
    var b = "1"

    @Option(name: .customLong("train"), help: "LoRA training sequence lengths (train512: forward + backward + AdamW, batch 1), comma-separated (0: none).")
    var train = "0"

    @Option(name: .customLong("lora-rank"), help: "LoRA rank of the training test (all seven targets, alpha = 2·rank).")
    var loraRank = 16

    @Option(name: .customLong("train-products"), help: ArgumentHelp(
        "How training multiplies by the frozen weights, comma-separated: exact (f32, the default) and/or integer (8-bit forward, 7-bit transposed copies backward).",
        valueName: "exact|integer"))
    var trainProducts = "exact"

    @Flag(name: .customLong("machine"), help: "Print what the figures would run on (CPU, its SIMD flags, the kernel path, the OpenBLAS core and how it was chosen) and exit.")
    var machineOnly = false

    enum Format: String, ExpressibleByArgument { case md, json, jsonl, csv }

    func ints(_ s: String, _ flag: String) throws -> [Int] {
        let values = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 }) else {
            throw ValidationError("-\(flag) takes comma-separated non-negative integers, not \"\(s)\"")
        }
        return values.map { $0! }
    }

    mutating func run() throws {
        RuntimeEnvironment.apply()
        let threads = try ints(t, "t"), prompts = try ints(p, "p"), gens = try ints(n, "n"), depths = try ints(d, "d")
        let trains = try ints(train, "-train"), batches = try ints(b, "b").map { max($0, 1) }
        let products = try trainProducts.split(separator: ",").map { name in
            guard let p = BaseProducts(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--train-products takes exact and/or integer, not \"\(name)\"")
            }
            return p
        }
        if machineOnly {
            print("machine: \(MachineFacts.summary(kernelNote: RuntimeEnvironment.kernelNote))")
            return
        }
        let path = KernelPath.selected.description, blas = BLASLibrary.core
        printError("machine: \(MachineFacts.summary(kernelNote: RuntimeEnvironment.kernelNote))")
        let bandwidth = MachineFacts.readBandwidth(threads: threads.max() ?? 1)
        printError(String(format: "memory read bandwidth (%d threads): %.1f GB/s", threads.max() ?? 1, bandwidth))
        var rows: [(model: String, size: Int, result: Benchmark.Result)] = []
        for spec in m.split(separator: ",").map(String.init) {
            let (url, model) = try reportingErrors {
                let url = try resolveModel(spec)
                return (url, try Qwen2Model(path: url.path))
            }
            var tests: [Benchmark.Test] = []
            for depth in depths {
                tests += prompts.filter { $0 > 0 }.map { Benchmark.Test(.prompt($0), depth: depth) }
                for batch in batches {
                    tests += gens.filter { $0 > 0 }.map { Benchmark.Test(.generation($0, sequences: batch), depth: depth) }
                }
            }
            for product in products {
                tests += trains.filter { $0 > 0 }.map { Benchmark.Test(.training($0, products: product)) }
            }
            for threadCount in threads {
                let context = (depths.max() ?? 0) + max(prompts.max() ?? 0, gens.max() ?? 0) + 8
                let session = Qwen2Session(model: model, contextSize: context, maxBatch: 512, threads: threadCount,
                                           sequences: batches.max() ?? 1, cacheType: cache.cacheType)
                for test in tests {
                    let result = test.trainingLength != nil
                        ? try Benchmark.train(test, model: model, config: LoRAConfig(rank: loraRank, alpha: Float(2 * loraRank)),
                                              threads: threadCount, repetitions: r)
                        : try Benchmark.run(test, session: session, repetitions: r)
                    if result.foreignLoad > 0.1 {
                        printError(String(format: "warning: other processes used %.0f%% of the CPU during %@: not comparable",
                                          result.foreignLoad * 100, test.name))
                    }
                    printError(String(format: "%@ %@ t=%d: %.2f ± %.2f t/s", url.lastPathComponent, test.name, threadCount,
                                      result.mean, result.stddev))
                    if let length = test.trainingLength {
                        let lora = LoRAConfig(rank: loraRank)
                        let bytes = LoRABackprop.activationBytes(model.config, adapter: lora, tokens: length)
                        let recomputed = LoRABackprop.recomputesByDefault(model.config, adapter: lora, tokens: length)
                        printError(String(format: "  activations %@ (%.1f GiB)", recomputed ? "recomputed" : "kept",
                                          Double(bytes) / Double(1 << 30)))
                    }
                    rows.append((url.lastPathComponent, model.file.fileSize, result))
                }
            }
        }
        let rss = MachineFacts.peakRSSMiB
        switch o {
        case .md:
            print("| model | size | threads | test | t/s | t/s per sequence |")
            print("| --- | ---: | ---: | --- | ---: | ---: |")
            for row in rows {
                let perSequence = row.result.mean / Double(row.result.test.sequences)
                print(String(format: "| %@ | %.2f GiB | %d | %@ | %.2f ± %.2f | %.2f |", row.model, Double(row.size) / 1_073_741_824,
                             row.result.threads, row.result.test.name, row.result.mean, row.result.stddev, perSequence))
            }
            print(String(format: "\n%@, read bandwidth %.1f GB/s, peak RSS %.0f MiB", MachineFacts.summary(kernelNote: RuntimeEnvironment.kernelNote), bandwidth, rss))
        case .csv:
            print("model_filename,n_threads,n_prompt,n_gen,n_depth,n_train,train_products,n_batch,avg_ts,stddev_ts,foreign_load")
            for row in rows {
                let t = row.result.test
                print("\(row.model),\(row.result.threads),\(t.promptLength),\(t.generationLength),\(t.depth),"
                      + "\(t.trainingLength.map(String.init) ?? ""),\(t.trainingProducts?.rawValue ?? ""),\(t.sequences),"
                      + "\(row.result.mean),\(row.result.stddev),\(row.result.foreignLoad)")
            }
        case .json, .jsonl:
            let date = ISO8601DateFormatter().string(from: Date())
            let records = rows.map { row in
                BenchRow(cpu_info: MachineFacts.cpuModel, cpu_flags: MachineFacts.cpuFlags.joined(separator: " "),
                         kernels: "\(path)", blas_core: blas, huge_pages: MachineFacts.hugePages,
                         row_prefetch: KernelPath.rowPrefetch ? "on" : "off",
                         bf16_products: !KernelPath.selected.hasBF16Products ? "none" : KernelPath.bf16Products ? "on" : "off",
                         read_bandwidth_gbs: bandwidth, peak_rss_mib: rss,
                         model_filename: row.model, model_size: row.size, n_threads: row.result.threads,
                         n_prompt: row.result.test.promptLength, n_gen: row.result.test.generationLength,
                         n_depth: row.result.test.depth, n_train: row.result.test.trainingLength,
                         train_products: row.result.test.trainingProducts?.rawValue, n_batch: row.result.test.sequences,
                         type_k: cache.cacheType.rawValue, type_v: cache.cacheType.rawValue,
                         test_time: date, avg_ts: row.result.mean, stddev_ts: row.result.stddev,
                         samples_ts: row.result.samples, foreign_load: row.result.foreignLoad)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = o == .json ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
            if o == .json {
                print(String(decoding: try encoder.encode(records), as: UTF8.self))
            } else {
                for r in records { print(String(decoding: try encoder.encode(r), as: UTF8.self)) }
            }
        }
    }
}

/// One result row of `-o json` / `-o jsonl`: llama-bench's field names where it has the field (model_filename,
/// model_size, n_threads, n_prompt, n_gen, n_depth, n_batch, type_k, type_v, test_time, avg_ts, stddev_ts,
/// samples_ts, cpu_info), so tools that read llama-bench's rows read these; the machine in every row.
struct BenchRow: Codable {
    var cpu_info: String
    var cpu_flags: String
    var kernels: String
    var blas_core: String
    /// The transparent-huge-page mode the weight copies met (MachineFacts.hugePages).
    var huge_pages: String
    /// Whether one-token row products prefetched their weights in software (KernelPath.rowPrefetch).
    var row_prefetch: String
    /// Whether BF16 prompts took bf16 activations and AVX512-BF16's products ("on"), exact f32 ones ("off"), or the
    /// path has no such products ("none") (KernelPath.bf16Products).
    var bf16_products: String?
    var read_bandwidth_gbs: Double
    var peak_rss_mib: Double
    var model_filename: String
    var model_size: Int
    var n_threads: Int
    var n_prompt: Int
    var n_gen: Int
    var n_depth: Int
    /// Training rows only (absent from inference rows).
    var n_train: Int?
    var train_products: String?
    /// Sequences generated together (llama-bench's n_batch is the prompt batch size; ours is 512 for prompts).
    var n_batch: Int
    var type_k: String
    var type_v: String
    var test_time: String
    var avg_ts: Double
    var stddev_ts: Double
    var samples_ts: [Double]
    var foreign_load: Double
}


extension Benchmark.Test {
    /// llama-bench's n_prompt and n_gen (0 where the test has none).
    var promptLength: Int { if case .prompt(let n) = work { n } else { 0 } }
    var generationLength: Int { if case .generation(let n, _) = work { n } else { 0 } }
    var trainingLength: Int? { if case .training(let n, _) = work { n } else { nil } }
    var trainingProducts: BaseProducts? { if case .training(_, let p) = work { p } else { nil } }
}
