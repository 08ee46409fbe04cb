import Foundation
import Kernels
import LoRA
import Qwen2

/// Loss and LoRA gradients of a Qwen2 model on one sequence: the base weights stay frozen and quantized, only
/// `dX = dY·W` is taken through them. Activations are checkpointed per layer: the forward pass keeps each
/// layer's input; the backward pass recomputes one layer at a time, then runs its backward, in mirror order.
/// Every buffer is allocated once for `maxTokens`.
public final class LoRABackprop {
    public let model: Qwen2Model
    public let adapter: LoRAAdapter
    public let maxTokens: Int
    public let threads: Int
    /// Gradients, same layout as `adapter.parameters`; `accumulate` adds to them.
    public let gradients: UnsafeMutablePointer<Float>   // [adapter.count]
    /// Logit rows per pass through the output matrix (each pass dequantizes the whole matrix once).
    public let headRows: Int

    /// How the frozen base weights are multiplied.
    public let products: BaseProducts
    /// The training passes' products (`products`).
    let matmul: MatMul
    /// `loss` in exact products whatever `products` is (validation: its figures compare across runs).
    let exactMatmul: MatMul
    /// The forward products of the pass under way.
    var forward: MatMul
    /// Whether the pass under way adds the adapter's branches (false: a no-gradient pass on the base alone).
    var adapterOn = true
    /// The tokens of the last pass when it was a `loss` pass whose activations, left in the buffers, are what
    /// `accumulate`'s forward on them would compute; nil after any other pass.
    var keptPass: [Int]? = nil
    /// The weights' 7-bit transposes, for `products == .integer`.
    let transposed: TransposedBase?
    let attention: CausalAttention
    let b: Buffers

    /// Whether layers are recomputed in the backward pass (saves memory) or their activations kept (saves a
    /// third of the arithmetic).
    public let recompute: Bool
    /// Activations are kept when all layers' fit in this many bytes, unless told otherwise: a third of the
    /// machine's memory (PyTorch keeps them all: 1.5B, 1,024 tokens: 5.1 GiB here, PyTorch peaks at 19–20 GiB).
    static var keepBudgetBytes: Int { Int(ProcessInfo.processInfo.physicalMemory / 3) }

    /// Bytes of every layer's activations for sequences of `tokens` tokens (what `recompute` saves).
    public static func activationBytes(_ model: Qwen2Config, adapter: LoRAConfig, tokens: Int) -> Int {
        Activations.floats(model, rank: adapter.rank, tokens: tokens, dropout: adapter.dropout > 0) * 4 * model.layerCount
    }

    /// The default of `recompute`: whether those activations exceed `keepBudgetBytes`.
    public static func recomputesByDefault(_ model: Qwen2Config, adapter: LoRAConfig, tokens: Int) -> Bool {
        activationBytes(model, adapter: adapter, tokens: tokens) > keepBudgetBytes
    }

    /// `recompute`: nil decides by `keepBudgetBytes`. `products: .integer` builds the transposed copies here
    /// (a few seconds on a 1.5B model).
    public init(model: Qwen2Model, adapter: LoRAAdapter, maxTokens: Int, threads: Int = 2, headRows: Int = 256,
                recompute: Bool? = nil, products: BaseProducts = .exact) {
        self.recompute = recompute ?? Self.recomputesByDefault(model.config, adapter: adapter.config, tokens: maxTokens)
        self.headRows = max(1, min(headRows, maxTokens))
        self.model = model
        self.adapter = adapter
        self.maxTokens = maxTokens
        self.threads = max(threads, 1)
        self.products = products
        matmul = MatMul(threads: self.threads, exactActivations: products == .exact)
        exactMatmul = products == .exact ? matmul : MatMul(threads: self.threads, exactActivations: true)
        forward = matmul
        transposed = products == .integer ? TransposedBase(model, threads: self.threads) : nil
        let c = model.config
        attention = CausalAttention(heads: c.headCount, kvHeads: c.headCountKV, headDim: c.headDim, threads: self.threads)
        gradients = .allocate(capacity: max(adapter.count, 1))
        gradients.initialize(repeating: 0, count: max(adapter.count, 1))
        b = Buffers(c, rank: adapter.config.rank, tokens: maxTokens, threads: self.threads, headRows: self.headRows,
                    dropout: adapter.config.dropout > 0, recompute: self.recompute)
    }

    deinit { gradients.deallocate() }

    /// Bytes of the transposed weight copies (`products == .integer`), beyond the model's own.
    public var transposedBytes: Int { transposed?.byteCount ?? 0 }

    public func zeroGradients() { gradients.update(repeating: 0, count: adapter.count) }

    /// Runs forward and backward on `tokens` (positions 0..<n), adds d(loss)/d(adapter) to `gradients`, and
    /// returns the loss. `dropoutSeed` fixes the dropout masks of this call. `afterLossPass`: the caller vouches that
    /// the adapter has not changed since the last `loss` call; if that pass was on these tokens and computed what
    /// this forward would (`keptPass`), its activations, still in the buffers, are used instead of a forward pass.
    @discardableResult
    public func accumulate(tokens: [Int], loss: some TokenLoss, dropoutSeed: UInt64 = 0,
                           afterLossPass: Bool = false) throws(ModelError) -> Double {
        let reuse = afterLossPass && keptPass == tokens
        keptPass = nil   // the backward pass leaves other numbers in the buffers
        let n = tokens.count, layers = model.config.layerCount
        maskSeed = dropoutSeed
        forward = matmul
        if !reuse {
            guard try embed(tokens) else { return 0 }
            for l in 0..<layers { layerForward(l, n: n) }
        }
        let total = head(loss, n: n)
        for l in (0..<layers).reversed() {
            if recompute, l != layers - 1 { layerForward(l, n: n) }   // the top layer's activations are still there
            layerBackward(l, n: n)
        }
        return total
    }

    /// The loss alone (a forward pass, no gradient, no dropout); for validation and teacher views. `exact`: in exact
    /// products whatever `products` is, so that validation figures compare across runs; false: in the training
    /// passes' products (the loss `accumulate` would return, at a fraction of the cost where those are integers).
    /// `withAdapter` false: the frozen base alone (a teacher that training does not move).
    public func loss(tokens: [Int], loss: some TokenLoss, exact: Bool = true, withAdapter: Bool = true) throws(ModelError) -> Double {
        keptPass = nil
        guard try embed(tokens) else { return 0 }
        forward = exact ? exactMatmul : matmul
        adapterOn = withAdapter
        defer { adapterOn = true }
        for l in 0..<model.config.layerCount { layerForward(l, n: tokens.count, dropout: false) }
        // accumulate's forward on these tokens would compute the same: the same products and branches, and (with no
        // dropout configured) no masks.
        if forward === matmul, withAdapter, adapter.config.dropout == 0 { keptPass = tokens }
        return head(loss, n: tokens.count, backward: false)
    }

    /// Checks `tokens` and writes their embeddings (the first layer's input) and positions; false when empty.
    private func embed(_ tokens: [Int]) throws(ModelError) -> Bool {
        let c = model.config, e = c.embeddingLength
        guard tokens.count <= maxTokens else { throw .contextFull(needed: tokens.count, size: maxTokens) }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= c.vocabularySize }) { throw .badToken(bad, vocabulary: c.vocabularySize) }
        for (t, id) in tokens.enumerated() {
            model.weights.tokenEmbd.dequantizeRow(id, into: b.checkpoints + t * e)
            b.positions[t] = Int32(t)
        }
        return !tokens.isEmpty
    }

    /// Seed of the dropout masks of the current `accumulate` (the recomputation draws the same masks).
    var maskSeed: UInt64 = 0
}
