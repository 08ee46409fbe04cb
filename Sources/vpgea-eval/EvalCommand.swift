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
            With --out, each completion's record goes to OUT.records.partial.jsonl as it finishes, so a run that is \
            stopped (Ctrl-C, a killed process) loses only its unfinished completions: the same command with --resume \
            generates the rest (the journal must come from the same settings, model and adapter).
            Examples:
              vpgea-eval --model qwen2.5-coder-0.5b-instruct --bench gsm8k --limit 100 --out base.json
              vpgea-eval --model qwen2.5-coder-0.5b-instruct --lora a.gguf --bench gsm8k --limit 100 --base base.json --out a.json
              vpgea-eval --plot base.json a.json --out plot.svg
              vpgea-eval --model qwen2.5-coder-0.5b-instruct --bench gsm8k --samples 2 --out base.json --resume
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

    @Flag(help: "Continue an interrupted run from its journal (OUT.records.partial.jsonl): its finished completions are kept, the rest generated.")
    var resume = false

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
            let baseResult = try base.map { try JSONDecoder().decode(EvaluationResult.self, from: Data(contentsOf: URL(fileURLWithPath: $0))) }
            let planned = Evaluation.planned(kind: bench, problems: dataset.problems, settings: settings)
            if let baseResult, let base, let mismatch = planned.mismatch(with: baseResult) {
                throw DatasetError("--base \(base) was made with other settings (\(mismatch)): its figures cannot be compared")
            }
            let header = EvaluationJournal.Header(settings: planned, model: url.lastPathComponent,
                                                  adapter: adapterOptions.lora.map { adapterOptions.loraScale == 1 ? $0 : "\($0) ×\(adapterOptions.loraScale)" })
            let (kept, journal) = try openJournal(header)
            let bar = ProgressBar(label: "evaluating", total: planned.problems * planned.samples)
            var journalFailure: Error?
            var (result, records) = try Evaluation.runWithRecords(
                bundle: bundle, adapter: adapter, kind: bench, problems: dataset.problems, settings: settings,
                threads: threading.threads,
                label: label ?? (adapterOptions.lora.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "base"), kept: kept,
                onRecord: { record in
                    guard journalFailure == nil else { return }
                    do { try journal?.append(record) } catch { journalFailure = error }
                }) { done, _ in bar.update(done) }
            bar.finish()
            if let journalFailure { printError("warning: the journal stopped being written (\(journalFailure)); the result is complete") }
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
                try? FileManager.default.removeItem(atPath: EvaluationJournal.path(besides: out))   // the run is whole
            }
        }
    }
}

extension EvalCommand {
    /// The records kept from an interrupted run (with --resume) and the journal this run writes (with --out).
    /// Without --resume an existing journal is refused, so that an interrupted run's work is never overwritten.
    func openJournal(_ header: EvaluationJournal.Header) throws -> (kept: [EvaluationRecord], writer: EvaluationJournal.Writer?) {
        guard let out else {
            if resume { throw ValidationError("--resume needs --out (the journal is OUT.records.partial.jsonl)") }
            return ([], nil)
        }
        let path = EvaluationJournal.path(besides: out)
        var kept: [EvaluationRecord] = []
        if FileManager.default.fileExists(atPath: path) {
            guard resume else {
                throw DatasetError("\(path) holds an interrupted run's completions: continue it with --resume, or remove it")
            }
            kept = try EvaluationJournal.read(path, expecting: header)
            printError("resuming: \(kept.count) finished completions kept from \(path)")
        } else if resume {
            printError("note: no journal at \(path); starting from the first completion")
        }
        let writer = try EvaluationJournal.Writer(path: path, header: header, kept: kept)
        printError("completions are kept in \(path) as they finish; if this run stops, the same command with --resume continues it")
        Interrupt.exitAtOnce(saying: "stopped: the finished completions are in \(path); the same command with --resume continues")
        return (kept, writer)
    }
}

extension BenchmarkKind: ExpressibleByArgument {}
