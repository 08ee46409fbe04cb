/// One tensor of a Qwen2 GGUF. The table of them (`Qwen2Config.tensors`) is the one place that names the tensors
/// and derives their shapes from the configuration: the weights loader, LoRA, the quantizer's rules, the tiny test
/// model and make-shaped-model all read it.
public struct Qwen2Tensor: Sendable, Equatable {
    /// What a tensor is, named as in GGUF (`blk.N.<role>.weight`, or `<role>.weight` outside the blocks).
    public enum Role: String, Sendable, CaseIterable {
        case tokenEmbedding = "token_embd", outputNorm = "output_norm", output
        case attnNorm = "attn_norm", attnQ = "attn_q", attnK = "attn_k", attnV = "attn_v", attnOutput = "attn_output"
        case ffnNorm = "ffn_norm", ffnGate = "ffn_gate", ffnUp = "ffn_up", ffnDown = "ffn_down"

        /// Whether the role is one per block (`blk.N.`).
        public var inBlock: Bool { ![.tokenEmbedding, .outputNorm, .output].contains(self) }
    }

    public let role: Role
    /// The block, for the roles inside one.
    public let layer: Int?
    /// `.bias` rather than `.weight` (Qwen2's q, k and v projections have biases).
    public let isBias: Bool
    /// Row-major: `[rows, cols]` for a matrix (GGUF lists the dims the other way round), `[count]` for a vector.
    public let shape: [Int]

    public var name: String { (layer.map { "blk.\($0)." } ?? "") + role.rawValue + (isBias ? ".bias" : ".weight") }
    public var isMatrix: Bool { shape.count == 2 }
    /// GGUF's dims: fastest-varying first.
    public var ggufDims: [Int] { shape.reversed() }

    /// The LoRA target that wraps this matrix, if any.
    public var loraTarget: LoRATarget? { isBias ? nil : LoRATarget.allCases.first { $0.role == role } }

    /// The role, layer and kind of a GGUF tensor name, or nil for a name Qwen2 does not use.
    public static func parse(_ name: String) -> (role: Role, layer: Int?, isBias: Bool)? {
        var parts = name.split(separator: ".").map(String.init)
        var layer: Int?
        if parts.count == 4, parts[0] == "blk" {
            guard let l = Int(parts[1]) else { return nil }
            layer = l
            parts.removeFirst(2)
        }
        guard parts.count == 2, let role = Role(rawValue: parts[0]), role.inBlock == (layer != nil),
              parts[1] == "weight" || parts[1] == "bias" else { return nil }
        return (role, layer, parts[1] == "bias")
    }
}

extension Qwen2Config {
    /// `(rows, cols)` of a role's weight matrix (row-major: out × in), or `(count, 1)` for a norm vector.
    public func matrixShape(_ role: Qwen2Tensor.Role) -> (rows: Int, cols: Int) {
        let e = embeddingLength, q = headCount * headDim
        switch role {
        case .tokenEmbedding, .output: return (vocabularySize, e)
        case .attnQ: return (q, e)
        case .attnK, .attnV: return (kvDim, e)
        case .attnOutput: return (e, q)
        case .ffnGate, .ffnUp: return (feedForwardLength, e)
        case .ffnDown: return (e, feedForwardLength)
        case .attnNorm, .ffnNorm, .outputNorm: return (e, 1)
        }
    }

    /// Every tensor of the model in llama.cpp's writing order (the embedding, each block, the final norm, the head).
    public var tensors: [Qwen2Tensor] {
        func weight(_ role: Qwen2Tensor.Role, _ layer: Int?) -> Qwen2Tensor {
            let (rows, cols) = matrixShape(role)
            return Qwen2Tensor(role: role, layer: layer, isBias: false, shape: cols == 1 ? [rows] : [rows, cols])
        }
        func bias(_ role: Qwen2Tensor.Role, _ layer: Int) -> Qwen2Tensor {
            Qwen2Tensor(role: role, layer: layer, isBias: true, shape: [matrixShape(role).rows])
        }
        var out = [weight(.tokenEmbedding, nil)]
        for l in 0..<layerCount {
            out += [weight(.attnNorm, l), weight(.attnQ, l), weight(.attnK, l), weight(.attnV, l), bias(.attnQ, l),
                    bias(.attnK, l), bias(.attnV, l), weight(.attnOutput, l), weight(.ffnNorm, l), weight(.ffnGate, l),
                    weight(.ffnUp, l), weight(.ffnDown, l)]
        }
        return out + [weight(.outputNorm, nil), weight(.output, nil)]
    }

    /// `tensors` in the order of the published Qwen2.5 GGUF files: their Hugging Face checkpoint names sorted as
    /// strings, so the head, the embedding, the blocks in the string order of their numbers (blk.0, blk.1, blk.10,
    /// …), each block's tensors in the order of its checkpoint names, the final norm. llama.cpp's Q4_K_M rule counts
    /// attn_v and ffn_down in file order, so a file written in this order gets the published files' types.
    public var tensorsInPublishedOrder: [Qwen2Tensor] {
        // input_layernorm, mlp.down/gate/up_proj, post_attention_layernorm, self_attn.k/o/q/v_proj
        let block: [Qwen2Tensor.Role] = [.attnNorm, .ffnDown, .ffnGate, .ffnUp, .ffnNorm, .attnK, .attnOutput, .attnQ, .attnV]
        func key(_ t: Qwen2Tensor) -> (Int, String, Int, Int) {
            guard let l = t.layer else { return ([.output, .tokenEmbedding].contains(t.role) ? 0 : 2, "", t.role == .output ? 0 : 1, 0) }
            return (1, String(l), block.firstIndex(of: t.role) ?? block.count, t.isBias ? 0 : 1)
        }
        return tensors.sorted { key($0) < key($1) }
    }
}
