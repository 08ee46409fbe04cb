import Kernels

/// Backward passes of the element-wise and per-row operations, in the forward order of `Kernels.Ops`.
/// Each takes what its forward saw and the gradient of the forward's output, and writes (or adds to) the
/// gradient of the forward's input.
public enum BackwardOps {
    /// RMSNorm backward, weight frozen. With `r = 1/√(mean(x²)+eps)` and `y = x·r·w`:
    /// `dx = r·(dy⊙w) − x · r³/dim · Σ(dy⊙w⊙x)`. Adds to `dx`.
    /// x, dy, dx: `[n, dim]`; weight: `[dim]`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                               _ dx: UnsafeMutablePointer<Float>, n: Int, dim: Int, eps: Float) {
        for t in 0..<n {
            let xr = x + t * dim, dyr = dy + t * dim, dxr = dx + t * dim
            var sumSq = 0.0, dot = 0.0
            for i in 0..<dim {
                sumSq += Double(xr[i] * xr[i])
                dot += Double(dyr[i] * weight[i] * xr[i])
            }
            let r = 1 / (Float(sumSq / Double(dim)) + eps).squareRoot()
            let c = Float(dot) * r * r * r / Float(dim)
            for i in 0..<dim { dxr[i] += r * dyr[i] * weight[i] - c * xr[i] }
        }
    }

    /// SwiGLU forward that keeps its inputs: `h = silu(gate)·up`, all `[count]`.
    public static func swigluForward(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                                     count: Int) {
        Ops.swiglu(gate, up, into: h, count: count)
    }

    /// SwiGLU backward: `dup = dh·silu(g)`, `dgate = dh·up·σ(g)·(1 + g·(1−σ(g)))`. Overwrites dgate, dup.
    public static func swiglu(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ dh: UnsafePointer<Float>,
                              _ dgate: UnsafeMutablePointer<Float>, _ dup: UnsafeMutablePointer<Float>, count: Int) {
        Ops.swigluBackward(gate: gate, up: up, dh: dh, dgate: dgate, dup: dup, count: count)
    }

    /// Rotary backward: the rotation is orthogonal, so its transpose is the rotation by the opposite angle.
    /// dx: `[n, heads*headDim]` in place; positions: `[n]`; negated: `[n]` scratch.
    public static func rope(_ dx: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, negated: UnsafeMutablePointer<Int32>,
                            n: Int, heads: Int, headDim: Int, base: Float) {
        for t in 0..<n { negated[t] = -positions[t] }
        Ops.rope(dx, positions: negated, n: n, heads: heads, headDim: headDim, base: base)
    }
}
