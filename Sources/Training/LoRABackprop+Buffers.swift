import Qwen2

extension LoRABackprop {
    /// Every activation and gradient buffer of one sequence of up to `tokens` tokens, allocated once.
    final class Buffers {
        let checkpoints: UnsafeMutablePointer<Float>   // [layers + 1, tokens, embd] input of each layer, then the final hidden state
        let positions: UnsafeMutablePointer<Int32>     // [tokens]
        let negated: UnsafeMutablePointer<Int32>       // [tokens] scratch for rotary backward
        /// Activations of each layer: one set reused by every layer when recomputing, else one per layer.
        let layers: [Activations]
        let dropped: UnsafeMutablePointer<Float>       // [tokens, maxIn] masked input scratch (dropout only)
        // Gradients.
        let dx: UnsafeMutablePointer<Float>            // [tokens, embd] d(loss)/d(residual stream)
        let dNorm: UnsafeMutablePointer<Float>         // [tokens, embd]
        let dq: UnsafeMutablePointer<Float>            // [tokens, heads*headDim] (also d(att))
        let dAtt: UnsafeMutablePointer<Float>          // [tokens, heads*headDim]
        let dk: UnsafeMutablePointer<Float>            // [tokens, kvDim]
        let dv: UnsafeMutablePointer<Float>            // [tokens, kvDim]
        let dGate: UnsafeMutablePointer<Float>         // [tokens, ff]
        let dUp: UnsafeMutablePointer<Float>           // [tokens, ff]
        let dHidden: UnsafeMutablePointer<Float>       // [tokens, ff]
        let dU: UnsafeMutablePointer<Float>            // [tokens, rank]
        let dIn: UnsafeMutablePointer<Float>           // [tokens, maxIn] adapter-branch input gradient (dropout only)
        let attScratch: UnsafeMutablePointer<Float>    // [threads, tokens, tokens]
        // Output head, `headRows` positions at a time.
        let headIn: UnsafeMutablePointer<Float>        // [headRows, embd] final hidden rows
        let headNorm: UnsafeMutablePointer<Float>      // [headRows, embd]
        let logits: UnsafeMutablePointer<Float>        // [headRows, vocab] logits, then their gradient
        let dHeadNorm: UnsafeMutablePointer<Float>     // [headRows, embd]
        let dHeadIn: UnsafeMutablePointer<Float>       // [headRows, embd]
        private var all: [UnsafeMutablePointer<Float>] = []

        init(_ c: Qwen2Config, rank: Int, tokens n: Int, threads: Int, headRows: Int, dropout: Bool, recompute: Bool) {
            let e = c.embeddingLength, qd = c.headCount * c.headDim, kv = c.kvDim, ff = c.feedForwardLength
            let maxIn = max(e, qd, ff)
            var all: [UnsafeMutablePointer<Float>] = []
            func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
                let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
                p.initialize(repeating: 0, count: max(count, 1))
                all.append(p)
                return p
            }
            checkpoints = buffer((c.layerCount + 1) * n * e)
            positions = .allocate(capacity: n)
            negated = .allocate(capacity: n)
            layers = (0..<(recompute ? 1 : c.layerCount)).map { _ in Activations(c, rank: rank, tokens: n, dropout: dropout, buffer: buffer) }
            dropped = buffer(dropout ? n * maxIn : 1)
            dx = buffer(n * e); dNorm = buffer(n * e); dq = buffer(n * qd); dAtt = buffer(n * qd)
            dk = buffer(n * kv); dv = buffer(n * kv)
            dGate = buffer(n * ff); dUp = buffer(n * ff); dHidden = buffer(n * ff); dU = buffer(n * rank)
            dIn = buffer(dropout ? n * maxIn : 1)
            attScratch = buffer(threads * n * n)
            let rows = min(headRows, n)
            headIn = buffer(rows * e); headNorm = buffer(rows * e); logits = buffer(rows * c.vocabularySize)
            dHeadNorm = buffer(rows * e); dHeadIn = buffer(rows * e)
            self.all = all
        }

        /// The activations of layer `l`.
        func acts(_ l: Int) -> Activations { layers[layers.count == 1 ? 0 : l] }

        deinit {
            all.forEach { $0.deallocate() }
            positions.deallocate()
            negated.deallocate()
        }
    }

    /// What one layer's backward pass needs from its forward pass.
    final class Activations {
        let norm1: UnsafeMutablePointer<Float>         // [tokens, embd] attention-norm output
        let q: UnsafeMutablePointer<Float>             // [tokens, heads*headDim] after bias and rotary
        let k: UnsafeMutablePointer<Float>             // [tokens, kvDim] after bias and rotary
        let v: UnsafeMutablePointer<Float>             // [tokens, kvDim]
        let probs: UnsafeMutablePointer<Float>         // [heads, tokens, tokens] attention probabilities
        let att: UnsafeMutablePointer<Float>           // [tokens, heads*headDim] attention output
        let mid: UnsafeMutablePointer<Float>           // [tokens, embd] residual after attention
        let norm2: UnsafeMutablePointer<Float>         // [tokens, embd] ffn-norm output
        let gate: UnsafeMutablePointer<Float>          // [tokens, ff] before SiLU
        let up: UnsafeMutablePointer<Float>            // [tokens, ff]
        let hidden: UnsafeMutablePointer<Float>        // [tokens, ff] silu(gate)·up
        let loraU: [UnsafeMutablePointer<Float>]       // [7][tokens, rank] A·x̃ of each target
        let masks: [UnsafeMutablePointer<Float>]       // [7][tokens, maxIn] dropout masks (0 or 1/(1−p)); empty without dropout

        init(_ c: Qwen2Config, rank: Int, tokens n: Int, dropout: Bool, buffer: (Int) -> UnsafeMutablePointer<Float>) {
            let e = c.embeddingLength, qd = c.headCount * c.headDim, kv = c.kvDim, ff = c.feedForwardLength
            norm1 = buffer(n * e); q = buffer(n * qd); k = buffer(n * kv); v = buffer(n * kv)
            probs = buffer(c.headCount * n * n); att = buffer(n * qd); mid = buffer(n * e); norm2 = buffer(n * e)
            gate = buffer(n * ff); up = buffer(n * ff); hidden = buffer(n * ff)
            loraU = (0..<LoRATarget.allCases.count).map { _ in buffer(n * rank) }
            masks = dropout ? (0..<LoRATarget.allCases.count).map { _ in buffer(n * max(e, qd, ff)) } : []
        }

        /// Floats held for `tokens` tokens.
        static func floats(_ c: Qwen2Config, rank: Int, tokens n: Int, dropout: Bool) -> Int {
            let e = c.embeddingLength, qd = c.headCount * c.headDim, kv = c.kvDim, ff = c.feedForwardLength
            return n * (3 * e + 2 * qd + 2 * kv + 3 * ff + 7 * rank) + c.headCount * n * n
                + (dropout ? 7 * n * max(e, qd, ff) : 0)
        }
    }
}
