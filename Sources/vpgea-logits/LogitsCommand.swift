import ArgumentParser
import CLISupport
import ConsoleUI
import Engine
import Foundation
import GGUF
import Kernels
import LoRA
import ModelStore
import Qwen2

@main
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-logits",
        abstract: "Decode token ids as one batch and print the top logits at every position, as JSON lines.",
        discussion: """
            Each line: {"pos": i, "top": [[id, logit], …], "logsumexp": x}. The ids are decoded from an empty \
            cache in one batch, with no BOS added. Example: vpgea-logits model.gguf --ids 785,6722,315 --top 5
            """)

    @Argument(help: "A GGUF path or a catalog name.")
    var model: String

    @Option(help: "Comma-separated token ids.")
    var ids: String

    @Option(help: "How many of the largest logits to print per position.")
    var top = 20

    @OptionGroup var adapter: AdapterOptions

    @OptionGroup var cache: CacheTypeOption

    @OptionGroup var threading: ThreadsOption

    mutating func run() throws {
        RuntimeEnvironment.apply()
        try reportingErrors {
            let tokens = ids.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !tokens.isEmpty, tokens.count == ids.split(separator: ",").count else {
                throw CommandFailure("--ids must be comma-separated integers, e.g. --ids 785,6722,315")
            }
            let url = try resolveModel(model)
            let model = try Qwen2Model(path: url.path)
            let session = Qwen2Session(model: model, contextSize: max(tokens.count, 16), maxBatch: 512,
                                       threads: threading.threads, cacheType: cache.cacheType)
            session.adapter = try adapter.load(for: model.config)
            let logits = try session.decode(tokens, logits: .all)
            let vocab = model.config.vocabularySize
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            for pos in 0..<tokens.count {
                let row = logits[(pos * vocab)..<((pos + 1) * vocab)]
                let line = PositionLogits(pos: pos, top: LogitStats.top(row, top).map { TopLogit(id: $0.id, logit: $0.logit) },
                                          logsumexp: LogitStats.logSumExp(row))
                print(String(decoding: try encoder.encode(line), as: UTF8.self))
            }
        }
    }
}

/// One output line: a position's top logits (`[id, logit]` pairs, best first) and the log-sum-exp of its row.
struct PositionLogits: Encodable {
    let pos: Int
    let top: [TopLogit]
    let logsumexp: Double
}

/// `[id, logit]`, as llama.cpp's tools print a token's logit.
struct TopLogit: Encodable {
    let id: Int
    let logit: Float

    func encode(to encoder: any Encoder) throws {
        var pair = encoder.unkeyedContainer()
        try pair.encode(id)
        try pair.encode(logit)
    }
}
