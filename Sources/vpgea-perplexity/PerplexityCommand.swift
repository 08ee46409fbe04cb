import ArgumentParser
import CLISupport
import ConsoleUI
import Engine
import Foundation
import Kernels
import ModelStore
import Qwen2

@main
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-perplexity",
        abstract: "Measure perplexity on a text file, as llama-perplexity does.",
        discussion: """
            The text is tokenized (BOS only if the model asks for it) and cut into chunks of --ctx-size tokens; \
            each chunk is decoded from an empty cache and the second half of its positions is scored.
            Example: vpgea-perplexity qwen2.5-coder-0.5b -f Tests/Qwen2Tests/Fixtures/ppl-text.txt -c 512
            """)

    @Argument(help: "A GGUF path or a catalog name.")
    var model: String

    @Option(name: .short, help: "The text file.")
    var file: String

    @Option(name: [.customShort("c"), .customLong("ctx-size")], help: "Tokens per chunk.")
    var contextSize = 512

    @Option(help: "Score at most this many chunks.")
    var chunks: Int?

    @OptionGroup var cache: CacheTypeOption

    @OptionGroup var threading: ThreadsOption

    mutating func run() throws {
        RuntimeEnvironment.apply()
        try reportingErrors {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("cannot read \(file)")
            }
            let url = try resolveModel(model)
            let bundle = try ModelBundle(path: url.path)
            let tokens = bundle.tokenizer.encode(String(decoding: data, as: UTF8.self))
            let available = tokens.count / contextSize
            guard available > 0 else {
                throw CommandFailure("\(file) has \(tokens.count) tokens, fewer than one chunk of \(contextSize)")
            }
            printError("\(tokens.count) tokens, \(min(available, chunks ?? .max)) chunks of \(contextSize)")
            let session = Qwen2Session(model: bundle.model, contextSize: contextSize, maxBatch: contextSize,
                                       threads: threading.threads, cacheType: cache.cacheType)
            let bar = ProgressBar(label: "perplexity", total: min(available, chunks ?? .max))
            let start = ContinuousClock.now
            let result = try Perplexity.run(session: session, tokens: tokens, contextSize: contextSize,
                                            bos: bundle.tokenizer.addBOS ? bundle.tokenizer.bos : nil,
                                            maxChunks: chunks) { done, _, ppl in
                bar.update(done)
                _ = ppl
            }
            bar.finish()
            let seconds = (ContinuousClock.now - start).seconds
            print(String(format: "Final estimate: PPL = %.4f +/- %.5f", result.perplexity, result.uncertainty))
            printError(String(format: "%d chunks, %d scored tokens, %.1f s (%.1f tokens/s)", result.chunks, result.scored,
                              seconds, Double(result.chunks * contextSize) / seconds))
        }
    }
}

