import CBLAS

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
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
