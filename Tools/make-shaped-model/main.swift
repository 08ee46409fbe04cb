// Writes a GGUF with a real model's exact shapes and llama.cpp's Q4_K_M type mix, filled with random but valid
// quantized blocks, for speed and memory measurements of models that are not available (DeepSeek-R1-Distill-
// Qwen-7B). The metadata (hyper-parameters, tokenizer, chat template) is copied from a vocab-only GGUF.
//
// Usage: make-shaped-model VOCAB.gguf OUT.gguf [--seed N]
// Example: swift run -c release make-shaped-model r1-7b-vocab.gguf Models/r1-7b-shaped.gguf
// (the first GGUF lends its shapes, hyper-parameters and tokenizer: a vocab-only GGUF of the model to imitate that
// carries its qwen2.* keys, here DeepSeek-R1-Distill-Qwen-7B's; any Qwen2-family GGUF works too, and the output then
// takes that model's own shapes: the 1.5B gives a 1.5B-shaped file)
import Foundation
import GGUF
import Quants
import Qwen2
import Sampling

/// Random blocks of `type` for a `[rows, cols]` matrix, with small finite scales so that values stay sane.
func randomBlocks(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
    let f = type.format
    let blocks = rows * cols / f.blockSize
    var bytes = [UInt8](repeating: 0, count: blocks * f.bytesPerBlock)
    var g = SeededGenerator(seed: seed)
    bytes.withUnsafeMutableBytes { raw in
        let words = raw.bindMemory(to: UInt64.self)
        for i in 0..<words.count { words[i] = g.next() }
        let scale = floatToHalf(0.002), small = floatToHalf(0.0005)
        for b in 0..<blocks {
            let block = raw.baseAddress! + b * f.bytesPerBlock
            switch type {
            case .q4_K:   // d, dmin
                block.storeBytes(of: scale, toByteOffset: 0, as: UInt16.self)
                block.storeBytes(of: small, toByteOffset: 2, as: UInt16.self)
            case .q6_K:   // d last
                block.storeBytes(of: scale, toByteOffset: 208, as: UInt16.self)
            default:
                block.storeBytes(of: scale, toByteOffset: 0, as: UInt16.self)
            }
        }
    }
    return bytes
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write(Data("usage: make-shaped-model VOCAB.gguf OUT.gguf [--seed N]\n".utf8))
    exit(2)
}
let seed = args.firstIndex(of: "--seed").flatMap { UInt64(args[$0 + 1]) } ?? 7
do {
    let vocab = try GGUFFile(path: args[1])
    let h = vocab.header
    let layers = try h.int("qwen2.block_count"), embd = try h.int("qwen2.embedding_length")
    let ff = try h.int("qwen2.feed_forward_length"), heads = try h.int("qwen2.attention.head_count")
    let kvHeads = try h.int("qwen2.attention.head_count_kv"), nVocab = try h.strings("tokenizer.ggml.tokens").count
    let config = Qwen2Config(layerCount: layers, embeddingLength: embd, feedForwardLength: ff, headCount: heads,
                             headCountKV: kvHeads, vocabularySize: nVocab)
    var w = GGUFWriter()
    for item in h.metadata { w.set(item.key, item.value) }
    w.set("general.name", .string("random weights, shaped as \(h["general.name"]?.string ?? "the vocab's model")"))
    w.set("general.file_type", .uint32(15))   // Q4_K_M
    var tensorSeed = seed
    func matrix(_ name: String, _ type: GGMLType, rows: Int, cols: Int) throws {
        tensorSeed &+= 1
        let s = tensorSeed
        try w.addTensor(name: name, type: type, dims: [cols, rows], byteCount: type.format.rowBytes(cols)! * rows) {
            randomBlocks(type, rows: rows, cols: cols, seed: s)
        }
    }
    func vector(_ name: String, _ count: Int, _ value: Float) throws {
        try w.addTensor(name: name, type: .f32, dims: [count], data: (0..<count).flatMap { _ in
            withUnsafeBytes(of: value) { Array($0) }
        })
    }
    // The model's tensors in the published files' order, the matrices in the types llama.cpp's Q4_K_M gives them
    // in that order.
    let tensors = config.tensorsInPublishedOrder
    var plan = QuantizationPlan(scheme: .q4_K_M, tensorNames: tensors.map(\.name))
    for t in tensors {
        if t.isMatrix {
            try matrix(t.name, plan.type(name: t.name, dims: t.ggufDims, current: .f32), rows: t.shape[0], cols: t.shape[1])
        } else {
            try vector(t.name, t.shape[0], t.isBias ? 0 : 1)   // norms 1, biases 0
        }
    }
    var lastPercent = -1
    try w.write(to: args[2]) { done, total in
        let percent = done * 100 / total
        if percent / 10 != lastPercent / 10 {
            FileHandle.standardError.write(Data("writing \(args[2]): \(percent)%\n".utf8))
            lastPercent = percent
        }
    }
    print(args[2])
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
