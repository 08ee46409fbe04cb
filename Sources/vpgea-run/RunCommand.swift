import ArgumentParser
import CLISupport
import ChatTemplate
import ConsoleUI
import Engine
import Foundation
import Kernels
import LoRA
import ModelStore
import Qwen2
import Sampling

@main
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-run",
        abstract: "Chat with a Qwen2-family model (Qwen2.5, DeepSeek-R1-Distill-Qwen) on the CPU.",
        discussion: """
            Without MODEL, the catalog's default model is used (fetched on first use). The model's own chat \
            template formats the conversation. In the chat: /reset starts over, /exit quits (or Ctrl-D), and \
            Ctrl-C stops the answer being written.
            Examples:
              vpgea-run                                   chat with the default model
              vpgea-run model.gguf -p "What is 2+2?"      one answer, then exit
              vpgea-run model.gguf --temp 0 --verbose     greedy, with timings
              vpgea-run model.gguf --lora adapter.gguf    with a LoRA adapter (from vpgea-train)
            """)

    @Argument(help: "A GGUF path, a catalog name or a URL (default: \(Catalog.defaultModel.name)).")
    var model: String = Catalog.defaultModel.name

    @Option(name: .shortAndLong, help: "Answer this prompt and exit.")
    var prompt: String?

    @Option(help: "A system message.")
    var system: String?

    @Option(name: [.customShort("n"), .customLong("max-tokens")], help: "Most tokens per answer.")
    var maxTokens = 1024

    @Option(help: "Temperature; 0 is greedy.")
    var temp: Float = 0.8

    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: off).")
    var topK = 40

    @Option(name: .customLong("top-p"), help: "Keep the most likely tokens up to this probability mass.")
    var topP: Float = 0.95

    @Option(name: .customLong("min-p"), help: "Drop tokens less likely than this fraction of the best.")
    var minP: Float = 0.05

    @Option(name: .customLong("repeat-penalty"), help: "Penalty for recently seen tokens (1: off).")
    var repeatPenalty: Float = 1.0

    @Option(help: "Random seed (default: from the clock).")
    var seed: UInt64?

    @OptionGroup var cache: CacheTypeOption

    @OptionGroup var threading: ThreadsOption

    @Option(name: [.customShort("c"), .customLong("ctx-size")], help: "Context size in tokens.")
    var ctxSize = 4096

    @OptionGroup var adapter: AdapterOptions

    @Flag(help: "No chat template: the prompt is raw text to continue.")
    var raw = false

    @Option(help: "Reasoning (<think>…</think>): show (dimmed) or hide.")
    var think: ThinkMode = .show

    @Flag(help: "Print timings after each answer.")
    var verbose = false

    enum ThinkMode: String, ExpressibleByArgument { case show, hide }

    mutating func run() throws {
        RuntimeEnvironment.apply()
        try reportingErrors {
            try chat()
        }
    }

    private func chat() throws {
        let url = try resolveModel(model)
        let bundle = try ModelBundle(path: url.path)
        if let warning = bundle.templateWarning, !raw { printError("warning: \(warning)") }
        let session = Qwen2Session(model: bundle.model, contextSize: ctxSize, maxBatch: min(512, ctxSize),
                                   threads: threading.threads, cacheType: cache.cacheType)
        session.adapter = try adapter.load(for: bundle.model.config)
        let generator = Generator(bundle: bundle, session: session)
        var sampling = SamplingParameters()
        sampling.temperature = temp
        sampling.topK = topK
        sampling.topP = topP
        sampling.minP = minP
        sampling.repeatPenalty = repeatPenalty
        sampling.seed = seed ?? UInt64(Date().timeIntervalSince1970 * 1000)
        let printer = AnswerPrinter(showThinking: think == .show, color: isatty(STDOUT_FILENO) != 0)

        var messages: [JinjaValue] = system.map { [ChatTemplate.message("system", $0)] } ?? []
        var transcript = ""   // raw mode

        func answer(_ userText: String) throws {
            let ids: [Int]
            if raw {
                transcript += userText
                ids = bundle.tokenizer.encode(transcript)
            } else {
                messages.append(ChatTemplate.message("user", userText))
                ids = try bundle.chatTokens(messages).ids
            }
            var reply = ""
            printer.begin()
            let stats = try generator.generate(prompt: ids, maxTokens: maxTokens, sampling: sampling,
                                               cancelled: Interrupt.take) { _, text in
                reply += text
                printer.write(text)
                return true
            }
            printer.end()
            if raw { transcript += reply } else { messages.append(ChatTemplate.message("assistant", reply)) }
            switch stats.stopReason {
            case .cancelled: printError("[stopped]")
            case .contextFull: printError("[the context is full (\(ctxSize) tokens): /reset to start over, or raise --ctx-size]")
            default: break
            }
            if verbose {
                printError(String(format: "[prompt %d tokens, %.1f t/s | generated %d tokens, %.1f t/s | %@]",
                                  stats.promptTokens, stats.promptTokensPerSecond, stats.generatedTokens,
                                  stats.generationTokensPerSecond, stats.stopReason.rawValue))
            }
        }

        if let prompt {
            try answer(prompt)
            return
        }
        Interrupt.install()
        printError("vpgea-run: \(url.lastPathComponent), \(bundle.model.config.layerCount) layers, context \(ctxSize). "
            + "/reset starts over, /exit quits, Ctrl-C stops an answer.")
        while true {
            writeStandardError("> ")
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/exit" || text == "/quit" { break }
            if text == "/reset" {
                messages = system.map { [ChatTemplate.message("system", $0)] } ?? []
                transcript = ""
                generator.reset()
                printError("[conversation reset]")
                continue
            }
            do {
                try answer(text)
            } catch let error as ModelError {
                printError("error: \(error)" + (error.isContextFull ? " (raise --ctx-size, or /reset)" : ""))
            } catch let error as EngineError {
                printError("error: \(error)" + (error.isPromptTooLong ? ": shorten it or raise --ctx-size" : ""))
                if !raw { messages.removeLast() }
            }
        }
    }
}

/// Prints an answer as it streams: reasoning dimmed or hidden, the answer plain.
final class AnswerPrinter {
    let showThinking: Bool
    let color: Bool
    private var filter = ThinkFilter()
    private var hiddenNoticeShown = false

    init(showThinking: Bool, color: Bool) {
        self.showThinking = showThinking
        self.color = color
    }

    func begin() {
        filter = ThinkFilter()
        hiddenNoticeShown = false
    }

    func write(_ text: String) { emit(filter.feed(text)) }

    func end() {
        emit(filter.flush())
        print("")
    }

    private func emit(_ parts: [(ThinkFilter.Kind, String)]) {
        for (kind, text) in parts {
            switch kind {
            case .answer: out(text)
            case .reasoning where showThinking: out(color ? "\u{1B}[2m" + text + "\u{1B}[0m" : text)
            case .reasoning:
                if !hiddenNoticeShown { writeStandardError("[thinking…]\n"); hiddenNoticeShown = true }
            }
        }
    }

    private func out(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }
}

extension ModelError {
    var isContextFull: Bool { if case .contextFull = self { true } else { false } }
}

extension EngineError {
    var isPromptTooLong: Bool { if case .promptTooLong = self { true } else { false } }
}
