import Kernels

/// Causal grouped-query self-attention over one whole sequence, forward (keeping the probabilities) and
/// backward. Query head h reads key/value head h / (heads / kvHeads). Work is split by key/value head, so
/// the key and value gradients of a head have one writer.
public struct CausalAttention {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let threads: Int

    public init(heads: Int, kvHeads: Int, headDim: Int, threads: Int) {
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
            // p[n, n] = scale · Q_h · K_gᵀ
            Gemm.multiply(n, n, headDim, q + h * headDim, lda: qDim, k + g * headDim, ldb: kvDim, transB: true,
                          p, ldc: n, alpha: scale)
            for i in 0..<n {
                let row = p + i * n
                Ops.softmax(row, count: i + 1)
                (row + i + 1).update(repeating: 0, count: n - i - 1)
            }
            // out_h[n, headDim] = p · V_g
            Gemm.multiply(n, headDim, n, p, lda: n, v + g * headDim, ldb: kvDim, out + h * headDim, ldc: qDim)
        }
    }

    /// Overwrites dq, dk, dv.
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
            for h in g * group..<(g + 1) * group {
                let p = probs + h * n * n
                let dO = dout + h * headDim
                // dV_g (+)= pᵀ · dO_h
                Gemm.multiply(n, headDim, n, p, lda: n, transA: true, dO, ldb: qDim, dv + g * headDim, ldc: kvDim,
                              beta: h == g * group ? 0 : 1)
                // dP = dO_h · V_gᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)), in place.
                Gemm.multiply(n, n, headDim, dO, lda: qDim, v + g * headDim, ldb: kvDim, transB: true, ds, ldc: n)
                for i in 0..<n {
                    let pr = p + i * n, dr = ds + i * n
                    let c = Ops.dot(pr, dr, count: i + 1)
                    for j in 0...i { dr[j] = pr[j] * (dr[j] - c) }
                    (dr + i + 1).update(repeating: 0, count: n - i - 1)
                }
                // dQ_h = scale · dS · K_g;  dK_g (+)= scale · dSᵀ · Q_h
                Gemm.multiply(n, headDim, n, ds, lda: n, k + g * headDim, ldb: kvDim, dq + h * headDim, ldc: qDim, alpha: scale)
                Gemm.multiply(n, headDim, n, ds, lda: n, transA: true, q + h * headDim, ldb: qDim, dk + g * headDim, ldc: kvDim,
                              alpha: scale, beta: h == g * group ? 0 : 1)
            }
        }
    }
}
