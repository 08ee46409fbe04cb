import Engine
import Foundation
import LoRA
import Qwen2
import Sampling

/// Prior-view evaluation on a benchmark: accuracy (pass@1, mean over k samples), mean generated tokens,
/// truncation rate; against a base result, token reduction 1 − T/T_base and ε³ := (Acc/Acc_base)³ · (T_base/T)
/// (this project's definition; the paper's formula is not available).
public struct EvaluationResult: Codable, Sendable {
    public var label: String
    public var model: String
    public var adapter: String?
    public var bench: BenchmarkKind
    public var problems: Int
    public var samples: Int
    public var maxTokens: Int
    public var seed: UInt64
    public var accuracy: Double
    public var meanTokens: Double
    public var truncationRate: Double
    public var seconds: Double
    public var tokensPerSecond: Double
    /// The problems' ids in order, hashed (FNV-1a, hex): two runs on the same problems have the same value.
    public var problemSet: String?
    /// The sampling temperature and the instruction (nil in results written before they were recorded).
    public var temperature: Float?
    public var instruction: String?
    /// Completions generated at once (nil in results written before it was recorded; those ran in waves of 16).
    public var parallel: Int?
    public var baseAccuracy: Double?
    public var baseMeanTokens: Double?
    public var tokenReduction: Double?
    public var epsilon3: Double?

    /// Why `base` cannot be compared with this result (other problems, seed, samples, L_max or temperature), or nil.
    public func mismatch(with base: EvaluationResult) -> String? {
        var differences: [String] = []
        if base.bench != bench { differences.append("bench \(base.bench.rawValue) vs \(bench.rawValue)") }
        if base.problems != problems { differences.append("\(base.problems) vs \(problems) problems") }
        if let a = base.problemSet, let b = problemSet, a != b { differences.append("other problems") }
        if base.samples != samples { differences.append("\(base.samples) vs \(samples) samples") }
        if base.seed != seed { differences.append("seed \(base.seed) vs \(seed)") }
        if base.maxTokens != maxTokens { differences.append("L_max \(base.maxTokens) vs \(maxTokens)") }
        if let a = base.temperature, let b = temperature, a != b { differences.append("temperature \(a) vs \(b)") }
        if let a = base.instruction, let b = instruction, a != b { differences.append("another instruction") }
        return differences.isEmpty ? nil : differences.joined(separator: ", ")
    }

    /// Fills the comparison with a base-model result on the same problems.
    public mutating func compare(with base: EvaluationResult) {
        baseAccuracy = base.accuracy
        baseMeanTokens = base.meanTokens
        tokenReduction = meanTokens > 0 && base.meanTokens > 0 ? 1 - meanTokens / base.meanTokens : nil
        epsilon3 = base.accuracy > 0 && meanTokens > 0 ? pow(accuracy / base.accuracy, 3) * (base.meanTokens / meanTokens) : nil
    }
}

public struct EvaluationSettings: Sendable {
    public var limit: Int?
    public var samples = 1
    public var maxTokens = 512
    public var seed: UInt64 = 0
    public var temperature: Float = 0.6
    public var topP: Float = 0.95
    public var instruction = VPGEASettings().instruction
    /// Completions generated at once: a finished one's slot takes the next at once. More slots read the weights
    /// once for more tokens; the KV cache grows with them. A sequence's bits depend on the slot count (through
    /// which kernels a step of that many rows takes), so runs to be paired use the same.
    public var parallel = 32
    public init() {}
}

/// One sampled completion of an evaluation, for paired comparisons between runs and for reading what was said.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public var problem: String
    public var sample: Int
    public var seed: UInt64
    public var tokens: Int
    public var truncated: Bool
    /// The answer the checker read (the last \\boxed{}, or for GSM8K the last number), if any.
    public var extracted: String?
    public var correct: Bool
    public var text: String
}

public enum Evaluation {
    /// FNV-1a over the problems' ids (with a separator), as 16 hex digits.
    public static func problemSet(_ problems: [Problem]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in problems.map(\.id).joined(separator: "\u{1F}").utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return String(format: "%016llx", h)
    }

    public static func run(bundle: ModelBundle, adapter: LoRAAdapter?, kind: BenchmarkKind, problems allProblems: [Problem],
                           settings: EvaluationSettings, threads: Int, label: String,
                           progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationResult {
        try runWithRecords(bundle: bundle, adapter: adapter, kind: kind, problems: allProblems, settings: settings, threads: threads,
                           label: label, progress: progress).result
    }

    /// The settings part of the result a run would give (no figures yet): to check a base result before running.
    public static func planned(kind: BenchmarkKind, problems allProblems: [Problem], settings: EvaluationSettings) -> EvaluationResult {
        let problems = Array(allProblems.prefix(settings.limit ?? allProblems.count))
        var result = EvaluationResult(label: "", model: "", adapter: nil, bench: kind, problems: problems.count, samples: settings.samples,
                                      maxTokens: settings.maxTokens, seed: settings.seed, accuracy: 0, meanTokens: 0,
                                      truncationRate: 0, seconds: 0, tokensPerSecond: 0)
        result.problemSet = problemSet(problems)
        result.temperature = settings.temperature
        result.instruction = settings.instruction
        result.parallel = max(1, min(settings.parallel, problems.count * settings.samples))
        return result
    }

    /// The evaluation and one record per completion, in problem and sample order. `kept`: records of an interrupted
    /// run with these settings; a completion with a kept record (the same problem, sample and seed) is not generated
    /// again. `onRecord` sees each new record as its completion finishes. The speed figures cover this run's part.
    public static func runWithRecords(bundle: ModelBundle, adapter: LoRAAdapter?, kind: BenchmarkKind, problems allProblems: [Problem],
                                      settings: EvaluationSettings, threads: Int, label: String, kept: [EvaluationRecord] = [],
                                      onRecord: ((EvaluationRecord) -> Void)? = nil,
                                      progress: ((Int, Int) -> Void)? = nil) throws -> (result: EvaluationResult, records: [EvaluationRecord]) {
        let problems = Array(allProblems.prefix(settings.limit ?? allProblems.count))
        var viewSettings = VPGEASettings()
        viewSettings.instruction = settings.instruction
        let views = Views(bundle: bundle, settings: viewSettings)
        let prompts = try problems.map { try views.prior($0) }
        let context = (prompts.map(\.count).max() ?? 0) + settings.maxTokens + 8
        let keptBySample = Dictionary(kept.map { (RecordKey(problem: $0.problem, sample: $0.sample), $0) }, uniquingKeysWith: { a, _ in a })
        var records: [EvaluationRecord?] = []   // [problem × samples + sample]
        var requests: [BatchRequest] = [], owners: [(problem: Int, sample: Int, seed: UInt64)] = []   // [request]
        for (i, prompt) in prompts.enumerated() {
            for s in 0..<settings.samples {
                let seed = settings.seed &+ UInt64(i) &* 1_000_003 &+ UInt64(s)
                if let record = keptBySample[RecordKey(problem: problems[i].id, sample: s)], record.seed == seed {
                    records.append(record)
                    continue
                }
                records.append(nil)
                let p = SamplingParameters.nucleus(temperature: settings.temperature, topP: settings.topP, seed: seed)
                requests.append(BatchRequest(prompt: prompt, sampling: p, maxTokens: settings.maxTokens))
                owners.append((i, s, seed))
            }
        }
        let session = Qwen2Session(model: bundle.model, contextSize: context, maxBatch: 512, threads: threads,
                                   sequences: max(1, min(settings.parallel, requests.count)))
        session.adapter = adapter
        let generator = BatchGenerator(session: session, stopTokens: bundle.tokenizer.endOfGeneration)
        let start = Date(), already = records.count - requests.count
        progress?(already, records.count)
        _ = try generator.generate(requests, onCompletion: { finished, k, out in
            let owner = owners[k], problem = problems[owner.problem]
            let scored = ScoredCompletion(out, problem: problem, kind: kind, bundle: bundle, settings: viewSettings)
            let record = EvaluationRecord(problem: problem.id, sample: owner.sample, seed: owner.seed, tokens: scored.length,
                                          truncated: scored.truncated, extracted: AnswerCheck.extract(kind, from: scored.text),
                                          correct: scored.correct, text: scored.text)
            records[owner.problem * settings.samples + owner.sample] = record
            onRecord?(record)
            progress?(already + finished, records.count)
        })
        let all = records.compactMap { $0 }
        let n = Double(max(all.count, 1))
        let generated = generator.generatedTokens, generationSeconds = generator.generationSeconds
        var result = planned(kind: kind, problems: allProblems, settings: settings)   // the settings' part
        result.label = label
        result.model = URL(fileURLWithPath: bundle.path).lastPathComponent
        result.accuracy = Double(all.filter(\.correct).count) / n
        result.meanTokens = Double(all.map(\.tokens).reduce(0, +)) / n
        result.truncationRate = Double(all.filter(\.truncated).count) / n
        result.seconds = Date().timeIntervalSince(start)
        result.tokensPerSecond = Double(generated) / max(generationSeconds, 1e-9)
        return (result, all)
    }

    private struct RecordKey: Hashable {
        var problem: String
        var sample: Int
    }

    /// A Markdown table of results.
    public static func markdown(_ results: [EvaluationResult]) -> String {
        var s = "| run | bench | problems × samples | accuracy | mean tokens | truncated | token reduction | ε³ |\n"
        s += "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for r in results {
            let reduction = r.tokenReduction.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
            let eps = r.epsilon3.map { String(format: "%.3f", $0) } ?? "–"
            s += String(format: "| %@ | %@ | %d × %d | %.1f%% | %.1f | %.1f%% | %@ | %@ |\n", r.label, r.bench.rawValue, r.problems,
                        r.samples, r.accuracy * 100, r.meanTokens, r.truncationRate * 100, reduction, eps)
        }
        return s + "\nε³ := (Acc/Acc_base)³ · (T_base/T), this project's definition (the paper's formula is not available).\n"
    }

}
