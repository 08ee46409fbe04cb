import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Element-wise and per-row operations of the transformer, on f32 buffers. Plain loops: they are a small part
/// of the work next to the matrix products.
public enum Ops {
    /// RMSNorm of each row: `y = x / sqrt(mean(x²) + eps) · weight` (sum of squares in Double, as ggml).
    /// x, y: `[n, dim]`; weight: `[dim]`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               n: Int, dim: Int, eps: Float) {
        for t in 0..<n {
            let xr = x + t * dim, yr = y + t * dim
            var sum = 0.0
            for i in 0..<dim { sum += Double(xr[i] * xr[i]) }
            let scale = 1 / (Float(sum / Double(dim)) + eps).squareRoot()
            for i in 0..<dim { yr[i] = xr[i] * scale * weight[i] }
        }
    }

    /// Adds `bias` (`[dim]`) to each row of `x` (`[n, dim]`).
    public static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, n: Int, dim: Int) {
        for t in 0..<n { for i in 0..<dim { x[t * dim + i] += bias[i] } }
    }

    /// `x += y`, `[count]`.
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// SwiGLU in place: `gate = silu(gate) · up`, `[count]`, in the vector kernel (the bits of
    /// `g / (1 + expf(-g)) * up` on glibc; the same on every path).
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        swigluKernel(gate, up, gate, Int64(count))
    }

    /// SwiGLU into `out`, keeping `gate`: `out = silu(gate) · up`, all `[count]` (the same kernel).
    public static func swiglu(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                              count: Int) {
        swigluKernel(gate, up, out, Int64(count))
    }

    private static let swigluKernel = vpg_swiglu_kernel(KernelPath.selected.rawValue)!

    /// SwiGLU's backward, all `[count]`: with `s = σ(gate)`, `dup = dh·gate·s`, `dgate = dh·up·s·(1 + gate·(1 − s))`
    /// (the vector kernel, with the same exp as `swiglu`).
    public static func swigluBackward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, dh: UnsafePointer<Float>,
                                      dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, count: Int) {
        swigluBackwardKernel(gate, up, dh, dgate, dup, Int64(count))
    }

    private static let swigluBackwardKernel = vpg_swiglu_backward_kernel(KernelPath.selected.rawValue)!

    /// NEOX-style rotary embedding in place: within each head, element i pairs with i + headDim/2.
    /// x: `[n, heads * headDim]`; positions: `[n]`.
    public static func rope(_ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, n: Int, heads: Int,
                            headDim: Int, base: Float) {
        let half = headDim / 2
        let thetaScale = powf(base, -2 / Float(headDim))
        // A token's angles are the same for every head: computed once per token.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * half) { table in   // [cos: half, sin: half]
            for t in 0..<n {
                var theta = Float(positions[t])
                for i in 0..<half {
                    table[i] = cosf(theta)
                    table[half + i] = sinf(theta)
                    theta *= thetaScale
                }
                for h in 0..<heads {
                    let v = x + t * heads * headDim + h * headDim
                    for i in 0..<half {
                        let c = table[i], s = table[half + i]
                        let a = v[i], b = v[i + half]
                        v[i] = a * c - b * s
                        v[i + half] = a * s + b * c
                    }
                }
            }
        }
    }

    /// Numerically stable softmax in place, `[count]` (exp in the vector kernel, within 2 ulp).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let inv = Float(1 / expShifted(x, count: count).sum)
        for i in 0..<count { x[i] *= inv }
    }

    /// `x ← exp(x − max x)` (`[count]`); returns the max and `Σ exp(x − max)` (in Double): the parts of a softmax,
    /// in the vector kernel (exp within 2 ulp).
    public static func expShifted(_ x: UnsafeMutablePointer<Float>, count: Int) -> (max: Float, sum: Double) {
        var m: Float = 0
        let sum = expShiftedKernel(x, Int64(count), &m)
        return (m, sum)
    }

    private static let expShiftedKernel = vpg_exp_shifted_kernel(KernelPath.selected.rawValue)!

    /// Dot product, `[count]` each.
    @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var i = 0
        while i + 4 <= count {
            s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        while i < count { s0 += a[i] * b[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}
