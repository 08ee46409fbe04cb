import GGUF

/// Hyper-parameters of a Qwen2-architecture model, read from the GGUF metadata (`qwen2.*`).
public struct Qwen2Config: Sendable, Equatable, Codable {
    public var layerCount: Int
    public var embeddingLength: Int
    public var feedForwardLength: Int
    public var headCount: Int
    public var headCountKV: Int
    public var headDim: Int
    public var contextLength: Int
    public var ropeFreqBase: Float
    public var rmsEps: Float
    public var vocabularySize: Int

    public init(gguf h: GGUFHeader) throws(GGUFError) {
        let arch = try h.string("general.architecture")
        guard arch == "qwen2" else {
            throw GGUFError(.invalidInput("architecture \"\(arch)\" is not supported (only qwen2: Qwen2, Qwen2.5, DeepSeek-R1-Distill-Qwen)"), at: 0)
        }
        layerCount = try h.int("qwen2.block_count")
        embeddingLength = try h.int("qwen2.embedding_length")
        feedForwardLength = try h.int("qwen2.feed_forward_length")
        headCount = try h.int("qwen2.attention.head_count")
        headCountKV = (try? h.int("qwen2.attention.head_count_kv")) ?? headCount
        contextLength = (try? h.int("qwen2.context_length")) ?? 32768
        ropeFreqBase = Float((try? h.double("qwen2.rope.freq_base")) ?? 10000)
        rmsEps = Float((try? h.double("qwen2.attention.layer_norm_rms_epsilon")) ?? 1e-6)
        guard headCount > 0, headCountKV > 0, headCount % headCountKV == 0, embeddingLength % headCount == 0 else {
            throw GGUFError(.invalidInput("inconsistent head counts: \(headCount) heads, \(headCountKV) KV heads, embedding \(embeddingLength)"), at: 0)
        }
        headDim = embeddingLength / headCount
        guard headDim <= 512 else {   // the attention kernels' bound (Qwen2 models use 64 or 128)
            throw GGUFError(.invalidInput("head dimension \(headDim) is larger than the 512 vpgea supports"), at: 0)
        }
        vocabularySize = h.tensor("token_embd.weight")?.dims.last ?? 0
    }

    /// A configuration given directly (test models, shaped random models).
    public init(layerCount: Int, embeddingLength: Int, feedForwardLength: Int, headCount: Int, headCountKV: Int,
                vocabularySize: Int, contextLength: Int = 32768, ropeFreqBase: Float = 10000, rmsEps: Float = 1e-6) {
        self.layerCount = layerCount
        self.embeddingLength = embeddingLength
        self.feedForwardLength = feedForwardLength
        self.headCount = headCount
        self.headCountKV = headCountKV
        self.headDim = embeddingLength / headCount
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeFreqBase = ropeFreqBase
        self.rmsEps = rmsEps
    }

    /// Width of the key and value projections.
    public var kvDim: Int { headCountKV * headDim }
}
