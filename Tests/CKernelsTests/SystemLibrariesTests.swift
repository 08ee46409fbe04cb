import CKernels
import Testing
import TestSupport

/// The system libraries are wired in: OpenBLAS sgemm and an OpenMP kernel agree with plain Double loops.
@Suite(.seededRandom) struct SystemLibrariesTests {
    @Test func openBLASSgemmMatchesNaiveProduct() {
        let m = 7, n = 5, k = 33
        var rng = TestRandom()
        let a = (0..<m * k).map { _ in Float.random(in: -1...1, using: &rng) }  // [m, k]
        let b = (0..<k * n).map { _ in Float.random(in: -1...1, using: &rng) }  // [k, n]
        var c = [Float](repeating: 0, count: m * n)                               // [m, n]
        #expect(vpg_blas_available() != 0, "\(String(cString: vpg_blas_note()))")
        vpg_sgemm(0, 0, Int64(m), Int64(n), Int64(k), 1, a, Int64(k), b, Int64(n), 0, &c, Int64(n))
        for i in 0..<m {
            for j in 0..<n {
                let want = (0..<k).reduce(0.0) { $0 + Double(a[i * k + $1]) * Double(b[$1 * n + j]) }
                #expect(abs(Double(c[i * n + j]) - want) < 1e-4)
            }
        }
    }

    /// OpenBLAS is loaded again with another core only when its own is older than AVX2 on a CPU that has AVX2.
    @Test func blasCoreIsReplacedOnlyWhenItIsPreAVX2() {
        func better(_ core: String, _ avx2: Bool, _ avx512: Bool, bf16: Bool = false) -> String? {
            vpg_blas_better_core(core, avx2 ? 1 : 0, avx512 ? (bf16 ? 2 : 1) : 0).map { String(cString: $0) }
        }
        #expect(better("Prescott", true, true) == "SkylakeX")
        // With AVX512-BF16 (Sapphire Rapids and later): the core OpenBLAS itself picks on a Zen 4 of those features.
        #expect(better("Prescott", true, true, bf16: true) == "Cooperlake")
        #expect(better("Prescott", true, false) == "Haswell")
        #expect(better("Sandybridge", true, false) == "Haswell")
        #expect(better("Prescott", false, false) == nil)
        for modern in ["Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"] { #expect(better(modern, true, true) == nil) }
    }

    @Test func openMPMatvecMatchesNaiveProduct() {
        #expect(vpg_omp_max_threads() >= 1)
        let rows = 101, cols = 67
        var rng = TestRandom()
        let a = (0..<rows * cols).map { _ in Float.random(in: -1...1, using: &rng) }  // [rows, cols]
        let x = (0..<cols).map { _ in Float.random(in: -1...1, using: &rng) }         // [cols]
        var y = [Float](repeating: .nan, count: rows)                                  // [rows]
        vpg_matvec_f32(a, x, &y, Int64(rows), Int64(cols))
        for r in 0..<rows {
            let want = (0..<cols).reduce(0.0) { $0 + Double(a[r * cols + $1]) * Double(x[$1]) }
            #expect(abs(Double(y[r]) - want) < 1e-4)
        }
    }
}
