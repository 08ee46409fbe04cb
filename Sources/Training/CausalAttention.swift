import Kernels

/// Causal grouped-query self-attention over one whole sequence, forward (keeping the probabilities) and
/// backward. Query head h reads key/value head h / (heads / kvHeads). Work is split by key/value head, so
/// the key and value gradients of a head have one writer.
public struct CausalAttention {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let threads: Int

    /// Query rows per block: each block's products stop at its last row's keys, so the masked half of the score
    /// matrix is mostly not computed (1,024 tokens in blocks of 128: 56% of the full products).
    public let rowBlock: Int

    public init(heads: Int, kvHeads: Int, headDim: Int, threads: Int, rowBlock: Int = 128) {
        self.rowBlock = max(rowBlock, 1)
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.threads = threads
    }

    var scale: Float { 1 / Float(headDim).squareRoot() }

    /// - Parameters:
    ///   - q: `[n, heads*headDim]`; k, v: `[n, kvHeads*headDim]` (rotary applied).
    ///   - probs: `[heads, n, n]` softmax rows, upper triangle zero (kept for backward).
    ///   - out: `[n, heads*headDim]`.
    public func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        probs: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, n: Int) {
        let qDim = heads * headDim, kvDim = kvHeads * headDim, group = heads / kvHeads, scale = self.scale
        parallelFor(parts: heads, threads: threads) { h in
            let g = h / group
            let p = probs + h * n * n
            // Query rows i0..<i1 attend to keys 0..<i1 only: the products skip the masked upper blocks.
            for i0 in stride(from: 0, to: n, by: rowBlock) {
                let i1 = min(i0 + rowBlock, n), rows = i1 - i0, pb = p + i0 * n
                // pb[rows, i1] = scale · Q_h[i0..<i1] · K_g[0..<i1]ᵀ
                Gemm.multiply(rows, i1, headDim, q + i0 * qDim + h * headDim, lda: qDim, k + g * headDim, ldb: kvDim,
                              transB: true, pb, ldc: n, alpha: scale)
                for i in i0..<i1 {
                    let row = p + i * n
                    Ops.softmax(row, count: i + 1)
                    (row + i + 1).update(repeating: 0, count: n - i - 1)
                }
                // out_h[i0..<i1] = pb · V_g[0..<i1]
                Gemm.multiply(rows, headDim, i1, pb, lda: n, v + g * headDim, ldb: kvDim, out + i0 * qDim + h * headDim, ldc: qDim)
            }
        }
    }

    /// Overwrites dq, dk, dv (whatever they held).
    /// - Parameters:
    ///   - dout: `[n, heads*headDim]`.
    ///   - scratch: `[threads, n, n]`.
    public func backward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         probs: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                         dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                         scratch: UnsafeMutablePointer<Float>, n: Int) {
        let qDim = heads * headDim, kvDim = kvHeads * headDim, group = heads / kvHeads, scale = self.scale
        let workers = min(threads, kvHeads)
        let slots = SlotPool(count: workers)
        parallelFor(parts: kvHeads, threads: workers) { g in
            let slot = slots.acquire()
            defer { slots.release(slot) }
            let ds = scratch + slot * n * n
            for r in 0..<n {
                (dv + r * kvDim + g * headDim).update(repeating: 0, count: headDim)
                (dk + r * kvDim + g * headDim).update(repeating: 0, count: headDim)
            }
            for h in g * group..<(g + 1) * group {
                let p = probs + h * n * n
                for i0 in stride(from: 0, to: n, by: rowBlock) {
                    // Query rows i0..<i1 against keys 0..<i1 (the rest of their rows is masked).
                    let i1 = min(i0 + rowBlock, n), rows = i1 - i0, pb = p + i0 * n, db = ds + i0 * n
                    let dO = dout + i0 * qDim + h * headDim
                    // dV_g[0..<i1] += pbᵀ · dO_h[i0..<i1]
                    Gemm.multiply(i1, headDim, rows, pb, lda: n, transA: true, dO, ldb: qDim, dv + g * headDim, ldc: kvDim, beta: 1)
                    // dP = dO_h · V_gᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)), in place.
                    Gemm.multiply(rows, i1, headDim, dO, lda: qDim, v + g * headDim, ldb: kvDim, transB: true, db, ldc: n)
                    for i in i0..<i1 {
                        let pr = p + i * n, dr = ds + i * n
                        let c = Ops.dot(pr, dr, count: i + 1)
                        for j in 0...i { dr[j] = pr[j] * (dr[j] - c) }
                        (dr + i + 1).update(repeating: 0, count: i1 - i - 1)
                    }
                    // dQ_h[i0..<i1] = scale · dS · K_g[0..<i1];  dK_g[0..<i1] += scale · dSᵀ · Q_h[i0..<i1]
                    Gemm.multiply(rows, headDim, i1, db, lda: n, k + g * headDim, ldb: kvDim, dq + i0 * qDim + h * headDim,
                                  ldc: qDim, alpha: scale)
                    Gemm.multiply(i1, headDim, rows, db, lda: n, transA: true, q + i0 * qDim + h * headDim, ldb: qDim,
                                  dk + g * headDim, ldc: kvDim, alpha: scale, beta: 1)
                }
            }
        }
    }
}
