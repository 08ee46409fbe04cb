import ArgumentParser
import CLISupport
import ConsoleUI
import Foundation
import GGUF
import ModelStore
import Tokenizers

@main
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-tokenize",
        abstract: "Tokenize UTF-8 text from standard input with a model's tokenizer, as a JSON array of ids.",
        discussion: """
            Special tokens such as <|im_start|> are recognised in the text unless --no-special is given. \
            A BOS token is added when the model asks for it (add_bos_token), unless --no-bos is given.
            With --decode, standard input is a JSON array of ids and the output is their text.
            Example: echo -n 'Hello, world!' | vpgea-tokenize qwen2.5-coder-0.5b
            """)

    @Argument(help: "A GGUF path or a catalog name.")
    var model: String

    @Flag(name: .customLong("no-special"), help: "Treat special-token text as plain text.")
    var noSpecial = false

    @Flag(name: .customLong("no-bos"), help: "Never add the BOS token.")
    var noBOS = false

    @Flag(help: "Read a JSON array of ids and print the text.")
    var decode = false

    @Option(help: "Measure encoding speed on this text file instead (median of 5 runs, MB/s).")
    var benchmark: String?

    mutating func run() throws {
        try reportingErrors {
            let url = try resolveModel(model)
            let tokenizer = try Tokenizer(gguf: try GGUFFile(path: url.path).header)
            if let benchmark {
                guard let data = FileManager.default.contents(atPath: benchmark) else {
                    throw CommandFailure("cannot read \(benchmark)")
                }
                let text = String(decoding: data, as: UTF8.self)
                var times: [Double] = []
                var count = 0
                for _ in 0..<5 {
                    let start = ContinuousClock.now
                    count = tokenizer.encode(text, addBOS: false).count
                    times.append((ContinuousClock.now - start).seconds)
                }
                let median = times.sorted()[2]
                print(String(format: "%d bytes -> %d tokens, median %.3f s of 5 runs, %.2f MB/s",
                             data.count, count, median, Double(data.count) / median / 1e6))
                return
            }
            let input = FileHandle.standardInput.readDataToEndOfFile()
            if decode {
                guard let ids = try? JSONSerialization.jsonObject(with: input) as? [Int] else {
                    throw CommandFailure("--decode expects a JSON array of integers on standard input")
                }
                if let bad = ids.first(where: { $0 < 0 || $0 >= tokenizer.vocabularySize }) {
                    throw CommandFailure("id \(bad) is outside the vocabulary (0..<\(tokenizer.vocabularySize))")
                }
                FileHandle.standardOutput.write(Data(tokenizer.decode(ids).utf8))
            } else {
                let text = String(decoding: input, as: UTF8.self)
                let ids = tokenizer.encode(text, parseSpecial: !noSpecial, addBOS: noBOS ? false : nil)
                print("[" + ids.map(String.init).joined(separator: ", ") + "]")
            }
        }
    }
}
