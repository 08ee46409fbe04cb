// Tokenizer throughput: MB/s of UTF-8 text encoded, median of several runs.
// Usage: tokenizer-bench MODEL.gguf TEXT_FILE [runs]
import Foundation
import GGUF
import Tokenizers

let args = CommandLine.arguments
guard args.count >= 3, let data = FileManager.default.contents(atPath: args[2]) else {
    FileHandle.standardError.write(Data("usage: tokenizer-bench MODEL.gguf TEXT_FILE [runs]\n".utf8))
    exit(2)
}
let runs = args.count > 3 ? Int(args[3]) ?? 5 : 5
let tokenizer = try Tokenizer(gguf: try GGUFFile(path: args[1]).header)
let text = String(decoding: data, as: UTF8.self)
var times: [Double] = []
var count = 0
for _ in 0..<runs {
    let start = ContinuousClock.now
    count = tokenizer.encode(text, addBOS: false).count
    let (s, atto) = (ContinuousClock.now - start).components
    times.append(Double(s) + Double(atto) / 1e18)
}
let median = times.sorted()[runs / 2]
print(String(format: "vpgea tokenizer: %d bytes -> %d tokens, median %.3f s of %d runs, %.2f MB/s",
             data.count, count, median, runs, Double(data.count) / median / 1e6))
