import Foundation
import GGUF

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
        let hd = embd / heads, kv = kvHeads * hd
        func add(_ name: String, _ count: Int, scale: Float, offset: Float = 0) {
            tensors[name] = (0..<count).map { _ in offset + scale * uniform() }
        }
        add("token_embd.weight", vocab * embd, scale: 1)
        add("output_norm.weight", embd, scale: 0.2, offset: 1)
        add("output.weight", vocab * embd, scale: 1)   // logits large enough to memorise with
        for l in 0..<layers {
            let b = "blk.\(l)."
            add(b + "attn_norm.weight", embd, scale: 0.2, offset: 1)
            add(b + "ffn_norm.weight", embd, scale: 0.2, offset: 1)
            add(b + "attn_q.weight", embd * embd, scale: 0.3)
            add(b + "attn_k.weight", kv * embd, scale: 0.3)
            add(b + "attn_v.weight", kv * embd, scale: 0.3)
            add(b + "attn_q.bias", embd, scale: 0.1)
            add(b + "attn_k.bias", kv, scale: 0.1)
            add(b + "attn_v.bias", kv, scale: 0.1)
            add(b + "attn_output.weight", embd * embd, scale: 0.3)
            add(b + "ffn_gate.weight", ff * embd, scale: 0.3)
            add(b + "ffn_up.weight", ff * embd, scale: 0.3)
            add(b + "ffn_down.weight", embd * ff, scale: 0.2)
        }
    }

    /// GGUF dims (`[cols, rows]`) of a tensor.
    public func dims(_ name: String) -> [Int] {
        let hd = embd / heads, kv = kvHeads * hd
        let suffix = name.split(separator: ".").dropFirst(name.hasPrefix("blk.") ? 2 : 0).joined(separator: ".")
        switch suffix {
        case "token_embd.weight", "output.weight": return [embd, vocab]
        case "attn_q.weight", "attn_output.weight": return [embd, embd]
        case "attn_k.weight", "attn_v.weight": return [embd, kv]
        case "ffn_gate.weight", "ffn_up.weight": return [embd, ff]
        case "ffn_down.weight": return [ff, embd]
        case "attn_k.bias", "attn_v.bias": return [kv]
        default: return [tensors[name]!.count]
        }
    }

    /// Writes the GGUF to `path`.
    public func write(to path: String) throws {
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
        for name in tensors.keys.sorted() {
            let bytes = tensors[name]!.withUnsafeBytes { Array($0) }
            try w.addTensor(name: name, type: .f32, dims: dims(name), data: bytes)
        }
        try w.write(to: path)
    }
}
