import CKernels

/// Row-major f32 matrix products (OpenBLAS, single-threaded: our threads split the work).
/// `C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C`, where `op(X)` is `X` or `Xᵀ`.
public enum Gemm {
    public static func multiply(_ m: Int, _ n: Int, _ k: Int,
                                _ a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
                                _ b: UnsafePointer<Float>, ldb: Int, transB: Bool = false,
                                _ c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        vpg_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb),
                  beta, c, Int64(ldc))
    }

    /// The same product on up to `threads` threads, each computing a slice of C's rows (or of its columns when C
    /// has fewer rows than threads), so that no two write the same element and each element's sum is the
    /// single-threaded one's.
    public static func multiply(threads: Int, _ m: Int, _ n: Int, _ k: Int,
                                _ a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
                                _ b: UnsafePointer<Float>, ldb: Int, transB: Bool = false,
                                _ c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0) {
        let byRows = m >= threads, extent = byRows ? m : n, parts = min(threads, extent)
        guard parts > 1 else {
            multiply(m, n, k, a, lda: lda, transA: transA, b, ldb: ldb, transB: transB, c, ldc: ldc, alpha: alpha, beta: beta)
            return
        }
        parallelFor(parts: parts, threads: parts) { p in
            let first = extent * p / parts, count = extent * (p + 1) / parts - first
            if byRows {
                // Rows first..<first+count of op(A) and C.
                let aSlice = transA ? a + first : a + first * lda
                multiply(count, n, k, aSlice, lda: lda, transA: transA, b, ldb: ldb, transB: transB, c + first * ldc, ldc: ldc,
                         alpha: alpha, beta: beta)
            } else {
                // Columns first..<first+count of op(B) and C.
                let bSlice = transB ? b + first * ldb : b + first
                multiply(m, count, k, a, lda: lda, transA: transA, bSlice, ldb: ldb, transB: transB, c + first, ldc: ldc,
                         alpha: alpha, beta: beta)
            }
        }
    }
}
