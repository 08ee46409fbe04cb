import ArgumentParser
import CLISupport
import ConsoleUI
import Engine
import Foundation
import LoRA
import ModelStore
import Qwen2
import VPGEA

@main
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-eval",
        abstract: "Accuracy and tokens used on GSM8K, MATH-500 or AIME24, with the prior view (question only).",
        discussion: """
            Prints and writes (JSON and Markdown) accuracy (pass@1, mean over --samples), mean generated tokens and \
            the truncation rate. Given --base (a result file of the base model on the same problems), also the token \
            reduction and ε³ := (Acc/Acc_base)³ · (T_base/T) (this project's definition). --plot draws accuracy \
            against mean tokens for the result files given, with 95% bootstrap intervals over problems as error bars \
            (from each run's OUT.records.jsonl, or OUT.records.jsonl.gz) and curves of equal ε³ relative to the first file.
            Examples:
              vpgea-eval --model qwen2.5-coder-0.5b-instruct --bench gsm8k --limit 100 --out base.json
              vpgea-eval --model qwen2.5-coder-0.5b-instruct --lora a.gguf --bench gsm8k --limit 100 --base base.json --out a.json
              vpgea-eval --plot base.json a.json --out plot.svg
            """)

    @Option(help: "The model: a GGUF path, a catalog name or a URL.")
    var model: String?

    @OptionGroup var adapterOptions: AdapterOptions

    @Option(help: "gsm8k, math500 or aime24.")
    var bench: BenchmarkKind = .gsm8k

    @Option(help: "The benchmark file (default: the test split of --bench that ships with vpgea).")
    var data: String?

    @Option(help: "Only the first N problems (a fixed slice).")
    var limit: Int?

    @Option(help: "Samples per problem.")
    var samples = 1

    @Option(name: .customLong("max-tokens"), help: "Generation limit; a cut completion counts as wrong.")
    var maxTokens = 512

    @Option(help: "Sampling temperature.")
    var temperature: Float = 0.6

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: "The instruction after each question (the same as vpgea-train vpgea's --instruction).")
    var instruction = EvaluationSettings().instruction

    @Option(help: "Completions generated at once (a finished one's slot takes the next at once). More read the weights once for more tokens and need more memory for the cache; runs to be compared token for token use the same number.")
    var parallel = EvaluationSettings().parallel

    @Option(help: "A result file of the base model, for token reduction and ε³.")
    var base: String?

    @Option(help: "Name of this run in tables and plots.")
    var label: String?

    @Option(help: "Write the result as JSON here (Markdown and one JSONL record per completion next to it: OUT.md, OUT.records.jsonl), or the plot when --plot is given.")
    var out: String?

    @OptionGroup var threading: ThreadsOption

    @Option(parsing: .upToNextOption, help: "Draw accuracy against mean tokens for these result files (SVG).")
    var plot: [String] = []

    mutating func run() throws {
        RuntimeEnvironment.apply()
        try reportingErrors {
            if !plot.isEmpty {
                let results = try plot.map { try JSONDecoder().decode(EvaluationResult.self, from: Data(contentsOf: URL(fileURLWithPath: $0))) }
                // Error bars from each run's per-completion records (RUN.records.jsonl next to RUN.json, or its
                // gzip-compressed RUN.records.jsonl.gz), where present.
                let intervals = plot.map { path -> RunIntervals? in
                    guard let records = Evaluation.records(besides: path) else {
                        printError("note: the records of \(path) are missing: no error bars for it")
                        return nil
                    }
                    return Evaluation.bootstrap(records)
                }
                let svg = Evaluation.svg(results, intervals: intervals)
                if let out { try svg.write(toFile: out, atomically: true, encoding: .utf8) } else { print(svg) }
                print(Evaluation.markdown(results))
                return
            }
            guard let model else { throw ValidationError("--model is required (or --plot FILES)") }
            let files: [String]
            do { files = try data.map { [$0] } ?? Dataset.shipped(bench) } catch {
                throw CommandFailure("\(error); give the file with --data")
            }
            let path = data ?? "the shipped \(bench.rawValue) test split"
            let dataset = try Dataset(kind: bench, paths: files)
            for problem in dataset.skipped { printError("warning: \(path) \(problem) (skipped)") }
            let url = try resolveModel(model)
            let bundle = try ModelBundle(path: url.path)
            let adapter = try adapterOptions.load(for: bundle.model.config)
            var settings = EvaluationSettings()
            settings.limit = limit
            settings.samples = max(samples, 1)
            settings.maxTokens = maxTokens
            settings.temperature = temperature
            settings.instruction = instruction
            settings.seed = seed
            guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1") }
            settings.parallel = parallel
            let bar = ProgressBar(label: "evaluating", total: min(limit ?? dataset.problems.count, dataset.problems.count) * settings.samples)
            let baseResult = try base.map { try JSONDecoder().decode(EvaluationResult.self, from: Data(contentsOf: URL(fileURLWithPath: $0))) }
            if let baseResult, let base,
               let mismatch = Evaluation.planned(kind: bench, problems: dataset.problems, settings: settings).mismatch(with: baseResult) {
                throw DatasetError("--base \(base) was made with other settings (\(mismatch)): its figures cannot be compared")
            }
            var (result, records) = try Evaluation.runWithRecords(
                bundle: bundle, adapter: adapter, kind: bench, problems: dataset.problems, settings: settings,
                threads: threading.threads,
                label: label ?? (adapterOptions.lora.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "base")) { done, _ in bar.update(done) }
            bar.finish()
            result.adapter = adapterOptions.lora
            if let baseResult { result.compare(with: baseResult) }
            let table = Evaluation.markdown([result])
            print(table)
            if let out {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(result).write(to: URL(fileURLWithPath: out), options: .atomic)
                let stem = out.hasSuffix(".json") ? String(out.dropLast(5)) : out
                try table.write(toFile: stem + ".md", atomically: true, encoding: .utf8)
                let lines = try records.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
                try (lines.joined(separator: "\n") + "\n").write(toFile: Evaluation.recordsPath(besides: out), atomically: true,
                                                                encoding: .utf8)
            }
        }
    }
}

extension BenchmarkKind: ExpressibleByArgument {}
