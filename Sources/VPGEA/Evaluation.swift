import Engine
import Foundation
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
    public var baseAccuracy: Double?
    public var baseMeanTokens: Double?
    public var tokenReduction: Double?
    public var epsilon3: Double?

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
    public init() {}
}

public enum Evaluation {
    public static func run(bundle: ModelBundle, adapter: LoRAAdapter?, kind: BenchmarkKind, problems allProblems: [Problem],
                           settings: EvaluationSettings, threads: Int, label: String,
                           progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationResult {
        let problems = Array(allProblems.prefix(settings.limit ?? allProblems.count))
        var viewSettings = VPGEASettings()
        viewSettings.instruction = settings.instruction
        let views = Views(bundle: bundle, settings: viewSettings)
        let prompts = try problems.map { try views.prior($0) }
        let context = (prompts.map(\.count).max() ?? 0) + settings.maxTokens + 8
        let wave = 16
        let session = Qwen2Session(model: bundle.model, contextSize: context, maxBatch: 512, threads: threads, sequences: wave)
        session.adapter = adapter
        let generator = BatchGenerator(session: session, stopTokens: bundle.tokenizer.endOfGeneration)
        var requests: [BatchRequest] = [], owners: [Int] = []
        for (i, prompt) in prompts.enumerated() {
            for s in 0..<settings.samples {
                let p = SamplingParameters.nucleus(temperature: settings.temperature, topP: settings.topP,
                                                   seed: settings.seed &+ UInt64(i) &* 1_000_003 &+ UInt64(s))
                requests.append(BatchRequest(prompt: prompt, sampling: p, maxTokens: settings.maxTokens))
                owners.append(i)
            }
        }
        let start = Date()
        var correct = 0, tokens = 0, truncated = 0, generated = 0, generationSeconds = 0.0
        var first = 0
        while first < requests.count {
            let slice = Array(requests[first..<min(first + wave, requests.count)])
            let outputs = try generator.generate(slice)
            generated += generator.generatedTokens
            generationSeconds += generator.generationSeconds
            for (k, out) in outputs.enumerated() {
                let problem = problems[owners[first + k]]
                let scored = ScoredCompletion(out, problem: problem, kind: kind, bundle: bundle, settings: viewSettings)
                correct += scored.correct ? 1 : 0
                truncated += scored.truncated ? 1 : 0
                tokens += scored.length
            }
            first += slice.count
            progress?(first, requests.count)
        }
        let n = Double(max(requests.count, 1))
        return EvaluationResult(label: label, model: URL(fileURLWithPath: bundle.path).lastPathComponent, adapter: nil, bench: kind,
                                problems: problems.count, samples: settings.samples, maxTokens: settings.maxTokens, seed: settings.seed,
                                accuracy: Double(correct) / n, meanTokens: Double(tokens) / n, truncationRate: Double(truncated) / n,
                                seconds: Date().timeIntervalSince(start), tokensPerSecond: Double(generated) / max(generationSeconds, 1e-9))
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

    /// An SVG scatter plot of accuracy against mean tokens, one labelled point per run.
    public static func svg(_ results: [EvaluationResult]) -> String {
        let w = 640.0, h = 420.0, left = 70.0, right = 30.0, top = 30.0, bottom = 60.0
        let maxT = max((results.map(\.meanTokens).max() ?? 1) * 1.15, 1)
        let maxA = min(1, max((results.map(\.accuracy).max() ?? 0.1) * 1.25, 0.05))
        func x(_ t: Double) -> Double { left + t / maxT * (w - left - right) }
        func y(_ a: Double) -> Double { h - bottom - a / maxA * (h - top - bottom) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        for i in 0...4 {
            let t = maxT * Double(i) / 4, a = maxA * Double(i) / 4
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", x(t), h - bottom + 18, t)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n", left - 6, y(a) + 4, a * 100)
        }
        s += "<text x=\"\((left + w - right) / 2)\" y=\"\(h - 15)\" text-anchor=\"middle\">mean generated tokens</text>\n"
        s += "<text x=\"18\" y=\"\((top + h - bottom) / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 18 \((top + h - bottom) / 2))\">accuracy</text>\n"
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
        for (i, r) in results.enumerated() {
            let c = colors[i % colors.count]
            s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%@\"/>\n", x(r.meanTokens), y(r.accuracy), c)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"%@\">%@</text>\n", x(r.meanTokens) + 9, y(r.accuracy) - 7, c,
                        r.label.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;"))
        }
        return s + "</svg>\n"
    }
}
