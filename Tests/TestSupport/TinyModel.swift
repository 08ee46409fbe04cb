import Foundation
import GGUF
import Qwen2

/// A tiny Qwen2-architecture GGUF with seeded random f32 weights, for tests that need a whole model but not a
/// real one (gradient checks, overfitting, training runs in CI).
public struct TinyModel {
    public var layers = 2, embd = 32, ff = 48, heads = 4, kvHeads = 2, vocab = 61
    public var ropeBase: Float = 10000, eps: Float = 1e-6
    /// Tensor values by GGUF name, row-major `[rows, cols]` as the model reads them.
    public private(set) var tensors: [String: [Float]] = [:]

    public init(seed: UInt64 = 1, layers: Int = 2, embd: Int = 32, ff: Int = 48, heads: Int = 4, kvHeads: Int = 2,
                vocab: Int = 61) {
        self.layers = layers; self.embd = embd; self.ff = ff; self.heads = heads; self.kvHeads = kvHeads; self.vocab = vocab
        var state = seed
        func uniform() -> Float {   // 64-bit LCG, top 24 bits
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        let table = config.tensors
        func add(_ role: Qwen2Tensor.Role, _ layer: Int?, bias: Bool = false, scale: Float, offset: Float = 0) {
            let tensor = table.first { $0.role == role && $0.layer == layer && $0.isBias == bias }!
            tensors[tensor.name] = (0..<tensor.shape.reduce(1, *)).map { _ in offset + scale * uniform() }
        }
        // (This order fixes which values each tensor draws.)
        add(.tokenEmbedding, nil, scale: 1)
        add(.outputNorm, nil, scale: 0.2, offset: 1)
        add(.output, nil, scale: 1)   // logits large enough to memorise with
        for l in 0..<layers {
            add(.attnNorm, l, scale: 0.2, offset: 1)
            add(.ffnNorm, l, scale: 0.2, offset: 1)
            add(.attnQ, l, scale: 0.3)
            add(.attnK, l, scale: 0.3)
            add(.attnV, l, scale: 0.3)
            add(.attnQ, l, bias: true, scale: 0.1)
            add(.attnK, l, bias: true, scale: 0.1)
            add(.attnV, l, bias: true, scale: 0.1)
            add(.attnOutput, l, scale: 0.3)
            add(.ffnGate, l, scale: 0.3)
            add(.ffnUp, l, scale: 0.3)
            add(.ffnDown, l, scale: 0.2)
        }
    }

    /// The model's configuration (its tensor table gives every name and shape).
    public var config: Qwen2Config {
        Qwen2Config(layerCount: layers, embeddingLength: embd, feedForwardLength: ff, headCount: heads,
                    headCountKV: kvHeads, vocabularySize: vocab, contextLength: 256, ropeFreqBase: ropeBase, rmsEps: eps)
    }

    /// Writes the GGUF to `path`; `tiedEmbeddings` leaves the output matrix out (the model then multiplies by its
    /// embeddings, as Qwen2.5's small models do).
    public func write(to path: String, tiedEmbeddings: Bool = false) throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("qwen2"))
        w.set("general.name", .string("tiny test model"))
        w.set("qwen2.block_count", .uint32(UInt32(layers)))
        w.set("qwen2.embedding_length", .uint32(UInt32(embd)))
        w.set("qwen2.feed_forward_length", .uint32(UInt32(ff)))
        w.set("qwen2.attention.head_count", .uint32(UInt32(heads)))
        w.set("qwen2.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("qwen2.context_length", .uint32(256))
        w.set("qwen2.rope.freq_base", .float32(ropeBase))
        w.set("qwen2.attention.layer_norm_rms_epsilon", .float32(eps))
        let dims = Dictionary(uniqueKeysWithValues: config.tensors.map { ($0.name, $0.ggufDims) })
        for name in tensors.keys.sorted() where !(tiedEmbeddings && name == "output.weight") {
            let bytes = tensors[name]!.withUnsafeBytes { Array($0) }
            try w.addTensor(name: name, type: .f32, dims: dims[name]!, data: bytes)
        }
        try w.write(to: path)
    }
}
