import Kernels
import Qwen2
import Sampling

extension LoRABackprop {
    /// Layer `l` forward from `checkpoints[l]` to `checkpoints[l + 1]`, keeping every activation in `b`.
    func layerForward(_ l: Int, n: Int, dropout: Bool = true) {
        let c = model.config, w = model.weights.layers[l]
        let e = c.embeddingLength, qd = c.headCount * c.headDim, kv = c.kvDim, ff = c.feedForwardLength
        let x = b.checkpoints + l * maxTokens * e, out = b.checkpoints + (l + 1) * maxTokens * e
        let a = b.acts(l), positions = b.positions
        w.attnNorm.withUnsafeBufferPointer { norm in
            byRows(n) { t, m in Ops.rmsNorm(x + t * e, norm.baseAddress!, a.norm1 + t * e, n: m, dim: e, eps: c.rmsEps) }
        }
        linearForward(w.attnQ, .q, l, a.norm1, a.q, n, dropout)
        linearForward(w.attnK, .k, l, a.norm1, a.k, n, dropout)
        linearForward(w.attnV, .v, l, a.norm1, a.v, n, dropout)
        w.attnQBias.withUnsafeBufferPointer { qb in
            w.attnKBias.withUnsafeBufferPointer { kb in
                w.attnVBias.withUnsafeBufferPointer { vb in
                    byRows(n) { t, m in
                        Ops.addBias(a.q + t * qd, qb.baseAddress!, n: m, dim: qd)
                        Ops.addBias(a.k + t * kv, kb.baseAddress!, n: m, dim: kv)
                        Ops.addBias(a.v + t * kv, vb.baseAddress!, n: m, dim: kv)
                        Ops.rope(a.q + t * qd, positions: positions + t, n: m, heads: c.headCount, headDim: c.headDim, base: c.ropeFreqBase)
                        Ops.rope(a.k + t * kv, positions: positions + t, n: m, heads: c.headCountKV, headDim: c.headDim, base: c.ropeFreqBase)
                    }
                }
            }
        }
        attention.forward(q: a.q, k: a.k, v: a.v, probs: a.probs, out: a.att, n: n)
        linearForward(w.attnOutput, .o, l, a.att, a.mid, n, dropout)
        w.ffnNorm.withUnsafeBufferPointer { norm in
            byRows(n) { t, m in
                Ops.add(a.mid + t * e, x + t * e, count: m * e)
                Ops.rmsNorm(a.mid + t * e, norm.baseAddress!, a.norm2 + t * e, n: m, dim: e, eps: c.rmsEps)
            }
        }
        linearForward(w.ffnGate, .gate, l, a.norm2, a.gate, n, dropout)
        linearForward(w.ffnUp, .up, l, a.norm2, a.up, n, dropout)
        byRows(n) { t, m in BackwardOps.swigluForward(a.gate + t * ff, a.up + t * ff, a.hidden + t * ff, count: m * ff) }
        linearForward(w.ffnDown, .down, l, a.hidden, out, n, dropout)
        byRows(n) { t, m in Ops.add(out + t * e, a.mid + t * e, count: m * e) }
    }

    /// Runs `body(first, count)` over the token rows `0..<n` in one slice per thread: the per-row operations
    /// between the products (each row's result does not depend on the split).
    func byRows(_ n: Int, _ body: (Int, Int) -> Void) {
        let parts = min(threads, n)
        parallelFor(parts: parts, threads: parts) { p in
            let first = n * p / parts, end = n * (p + 1) / parts
            if end > first { body(first, end - first) }
        }
    }

    /// Layer `l` backward, after `layerForward(l)`: `b.dx` holds d(loss)/d(layer output) on entry and
    /// d(loss)/d(layer input) on exit; the adapter gradients of the layer are added to `gradients`.
    func layerBackward(_ l: Int, n: Int) {
        let c = model.config, w = model.weights.layers[l]
        let e = c.embeddingLength, ff = c.feedForwardLength, qd = c.headCount * c.headDim, kv = c.kvDim
        let x = b.checkpoints + l * maxTokens * e
        let a = b.acts(l), b = self.b
        // Feed-forward block: out = mid + down(swiglu(gate(norm2), up(norm2))).
        linearBackward(w.ffnDown, .down, l, a.hidden, dy: b.dx, dx: b.dHidden, n, accumulate: false)
        byRows(n) { t, m in
            BackwardOps.swiglu(a.gate + t * ff, a.up + t * ff, b.dHidden + t * ff, b.dGate + t * ff, b.dUp + t * ff, count: m * ff)
        }
        linearBackward(w.ffnGate, .gate, l, a.norm2, dy: b.dGate, dx: b.dNorm, n, accumulate: false)
        linearBackward(w.ffnUp, .up, l, a.norm2, dy: b.dUp, dx: b.dNorm, n, accumulate: true)
        w.ffnNorm.withUnsafeBufferPointer { norm in
            byRows(n) { t, m in BackwardOps.rmsNorm(a.mid + t * e, norm.baseAddress!, b.dNorm + t * e, b.dx + t * e, n: m, dim: e, eps: c.rmsEps) }
        }
        // Attention block: mid = x + o(attention(rope(q(norm1)), rope(k(norm1)), v(norm1))).
        linearBackward(w.attnOutput, .o, l, a.att, dy: b.dx, dx: b.dAtt, n, accumulate: false)
        attention.backward(q: a.q, k: a.k, v: a.v, probs: a.probs, dout: b.dAtt, dq: b.dq, dk: b.dk, dv: b.dv,
                           scratch: b.attScratch, n: n)
        byRows(n) { t, m in
            BackwardOps.rope(b.dq + t * qd, positions: b.positions + t, negated: b.negated + t, n: m, heads: c.headCount,
                             headDim: c.headDim, base: c.ropeFreqBase)
            BackwardOps.rope(b.dk + t * kv, positions: b.positions + t, negated: b.negated + t, n: m, heads: c.headCountKV,
                             headDim: c.headDim, base: c.ropeFreqBase)
        }
        linearBackward(w.attnQ, .q, l, a.norm1, dy: b.dq, dx: b.dNorm, n, accumulate: false)
        linearBackward(w.attnK, .k, l, a.norm1, dy: b.dk, dx: b.dNorm, n, accumulate: true)
        linearBackward(w.attnV, .v, l, a.norm1, dy: b.dv, dx: b.dNorm, n, accumulate: true)
        w.attnNorm.withUnsafeBufferPointer { norm in
            byRows(n) { t, m in BackwardOps.rmsNorm(x + t * e, norm.baseAddress!, b.dNorm + t * e, b.dx + t * e, n: m, dim: e, eps: c.rmsEps) }
        }
    }

    /// `y = x·Wᵀ + scale·(x̃·Aᵀ)·Bᵀ`, x̃ the input after the adapter's dropout; keeps `x̃·Aᵀ` for backward.
    /// x: `[n, in]`; y: `[n, out]`.
    func linearForward(_ w: WeightMatrix, _ target: LoRATarget, _ l: Int, _ x: UnsafePointer<Float>,
                       _ y: UnsafeMutablePointer<Float>, _ n: Int, _ dropout: Bool) {
        forward.multiply(w, x, y, n: n)
        guard adapterOn, let s = adapter.slot(layer: l, target) else { return }
        let a = b.acts(l)
        let r = adapter.config.rank, u = a.loraU[target.index]
        var input = x
        if dropout, !a.masks.isEmpty {
            fillMask(a.masks[target.index], count: n * s.inFeatures, layer: l, target: target)
            for i in 0..<n * s.inFeatures { b.dropped[i] = x[i] * a.masks[target.index][i] }
            input = UnsafePointer(b.dropped)
        }
        let p = adapter.parameters
        Gemm.multiply(threads: threads, n, r, s.inFeatures, input, lda: s.inFeatures, p + s.aOffset, ldb: s.inFeatures, transB: true, u, ldc: r)
        Gemm.multiply(threads: threads, n, s.outFeatures, r, u, lda: r, p + s.bOffset, ldb: r, transB: true, y, ldc: s.outFeatures,
                      alpha: adapter.config.scale, beta: 1)
    }

    /// Backward of `linearForward`: `dx (+)= dy·W + scale·(dy·B)·A` (through the dropout mask), and
    /// `dB += scale·dyᵀ·u`, `dA += scale·(dy·B)ᵀ·x̃`. dy: `[n, out]`; dx: `[n, in]`.
    func linearBackward(_ w: WeightMatrix, _ target: LoRATarget, _ l: Int, _ x: UnsafePointer<Float>,
                        dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool) {
        if let t = transposed?.layers[l][target.index] {
            matmul.multiplyTransposed(t, dy, dx, n: n, accumulate: accumulate)
        } else {
            matmul.multiplyTransposed(w, dy, dx, n: n, accumulate: accumulate)
        }
        guard let s = adapter.slot(layer: l, target) else { return }
        let a = b.acts(l)
        let r = adapter.config.rank, u = a.loraU[target.index], scale = adapter.config.scale
        let p = adapter.parameters, g = gradients
        let inF = s.inFeatures, outF = s.outFeatures
        var input = x
        let mask: UnsafeMutablePointer<Float>? = a.masks.isEmpty ? nil : a.masks[target.index]
        if let mask {
            for i in 0..<n * inF { b.dropped[i] = x[i] * mask[i] }
            input = UnsafePointer(b.dropped)
        }
        // dB[out, r] += scale · dyᵀ · u
        Gemm.multiply(threads: threads, outF, r, n, dy, lda: outF, transA: true, u, ldb: r, g + s.bOffset, ldc: r, alpha: scale, beta: 1)
        // dU[n, r] = dy · B
        Gemm.multiply(threads: threads, n, r, outF, dy, lda: outF, p + s.bOffset, ldb: r, b.dU, ldc: r)
        // dA[r, in] += scale · dUᵀ · x̃
        Gemm.multiply(threads: threads, r, inF, n, b.dU, lda: r, transA: true, input, ldb: inF, g + s.aOffset, ldc: inF, alpha: scale, beta: 1)
        if let mask {
            Gemm.multiply(threads: threads, n, inF, r, b.dU, lda: r, p + s.aOffset, ldb: inF, b.dIn, ldc: inF, alpha: scale)
            for i in 0..<n * inF { dx[i] += b.dIn[i] * mask[i] }
        } else {
            Gemm.multiply(threads: threads, n, inF, r, b.dU, lda: r, p + s.aOffset, ldb: inF, dx, ldc: inF, alpha: scale, beta: 1)
        }
    }

    /// Inverted dropout mask, the same for the forward pass and its recomputation: 0 with probability p,
    /// else 1/(1−p).
    private func fillMask(_ mask: UnsafeMutablePointer<Float>, count: Int, layer: Int, target: LoRATarget) {
        let p = adapter.config.dropout, keep = 1 / (1 - p)
        var rng = SeededGenerator(seed: maskSeed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(layer * 8 + target.index + 1))
        for i in 0..<count { mask[i] = Float.random(in: 0..<1, using: &rng) < p ? 0 : keep }
    }

    /// Final norm, output matrix and loss on `loss.positions`, `headRows` at a time; with `backward`, writes
    /// d(loss)/d(final hidden state) to `b.dx`. Returns the loss.
    func head(_ loss: some TokenLoss, n: Int, backward: Bool = true) -> Double {
        let c = model.config, e = c.embeddingLength, vocab = c.vocabularySize, w = model.weights
        let final = b.checkpoints + c.layerCount * maxTokens * e
        if backward { b.dx.update(repeating: 0, count: n * e) }
        let positions = loss.positions
        var total = 0.0
        var start = 0
        while start < positions.count {
            let rows = min(headRows, positions.count - start)
            for i in 0..<rows { (b.headIn + i * e).update(from: final + positions[start + i] * e, count: e) }
            w.outputNorm.withUnsafeBufferPointer { Ops.rmsNorm(b.headIn, $0.baseAddress!, b.headNorm, n: rows, dim: e, eps: c.rmsEps) }
            forward.multiply(w.output, b.headNorm, b.logits, n: rows)
            // Rows are independent: split them over the threads, sum in order.
            let terms = UnsafeMutablePointer<Double>.allocate(capacity: rows)
            defer { terms.deallocate() }
            let logits = b.logits, first = start
            parallelFor(parts: rows, threads: threads) { i in
                terms[i] = loss.lossAndGradient(first + i, logits: logits + i * vocab, vocab: vocab)
            }
            for i in 0..<rows { total += terms[i] }
            if backward {
                if let t = transposed?.output {
                    matmul.multiplyTransposed(t, b.logits, b.dHeadNorm, n: rows)
                } else {
                    matmul.multiplyTransposed(w.output, b.logits, b.dHeadNorm, n: rows)
                }
                b.dHeadIn.update(repeating: 0, count: rows * e)
                w.outputNorm.withUnsafeBufferPointer {
                    BackwardOps.rmsNorm(b.headIn, $0.baseAddress!, b.dHeadNorm, b.dHeadIn, n: rows, dim: e, eps: c.rmsEps)
                }
                for i in 0..<rows { Ops.add(b.dx + positions[start + i] * e, b.dHeadIn + i * e, count: e) }
            }
            start += rows
        }
        return total
    }
}
