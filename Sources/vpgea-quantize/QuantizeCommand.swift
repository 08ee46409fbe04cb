import ArgumentParser
import CLISupport
import ConsoleUI
import Foundation
import GGUF
import ModelStore
import Quants
import Qwen2

@main
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-quantize",
        abstract: "Write a copy of a GGUF model with its weight matrices in another quantized type.",
        discussion: """
            TYPE is one of \(QuantizationScheme.names.joined(separator: ", ")). Q4_K_M is llama.cpp's mix: \
            Q4_K, with Q6_K for the output head and for attn_v and ffn_down in about half of the layers. \
            Norms and biases stay F32; with fewer than 6 bits per weight the output head gets Q6_K (so do the \
            embeddings of a model that ties them, as its output head); when a \
            row length is not a multiple of 256 (the 0.5B's 896), Q4_K falls back to Q5_0 and Q6_K to Q8_0, as \
            llama.cpp does. The source may be F32, F16, BF16 or any quantized type vpgea reads; quantizing an \
            already-quantized model adds a second rounding. The output loads in llama.cpp and in vpgea.
            Example: vpgea-quantize model-f16.gguf model-q4_k_m.gguf Q4_K_M
            """)

    @Argument(help: "The source GGUF: a path, a catalog name or a URL.")
    var input: String

    @Argument(help: "The GGUF to write.")
    var output: String

    @Argument(help: "The target type (\(QuantizationScheme.names.joined(separator: ", "))).")
    var type: String

    @Flag(name: .customLong("dry-run"), help: "Print each tensor's type change without writing anything.")
    var dryRun = false

    mutating func run() throws {
        try reportingErrors {
            guard let scheme = QuantizationScheme(name: type) else {
                throw CommandFailure("unknown type \(type); choose one of \(QuantizationScheme.names.joined(separator: ", "))")
            }
            let url = try resolveModel(input)
            guard URL(fileURLWithPath: output).standardizedFileURL != url.standardizedFileURL else {
                throw CommandFailure("the output would overwrite the input; choose another path")
            }
            let file = try GGUFFile(path: url.path)
            if dryRun {
                for c in ModelQuantizer.plan(file, scheme) { print("\(c.name)\t\(c.from.name) → \(c.to.name)") }
                return
            }
            let bar = ProgressBar(label: "quantizing to \(scheme.name)", total: file.fileSize)
            let started = Date()
            let changes = try ModelQuantizer.write(file, scheme: scheme, to: output) { done, _ in bar.update(done) }
            bar.finish()
            let counts = Dictionary(grouping: changes, by: \.to.name).map { "\($0.value.count) \($0.key)" }.sorted()
            let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            printError("wrote \(output): \(String(format: "%.1f", Double(size) / 1_048_576)) MiB, tensors \(counts.joined(separator: ", ")) "
                + "in \(String(format: "%.0f", Date().timeIntervalSince(started))) s")
        }
    }
}
