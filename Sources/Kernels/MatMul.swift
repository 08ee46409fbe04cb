import CBLAS
import CKernels
import Quants

/// `out = input · Wᵀ`, with f32 activations (exact math). Two ways, chosen by batch size:
/// - a few tokens (generation): fused dot kernels that read each quantized row once and multiply it with the
///   activations without dequantizing to memory (SIMD chosen at run time, `VPGEA_KERNELS` forces a path);
/// - many tokens (prompt processing): panels of rows dequantized to f32 and OpenBLAS sgemm (single-threaded;
///   our threads split the rows).
public final class MatMul: @unchecked Sendable {
    public let threads: Int
    /// The instruction-set path of the fused kernels (`vpg_path`).
    public let path: Int32
    static let panelRows = 128
    static let fusedRows = 64
    /// Up to this many tokens use the fused kernels: reading the weights once per token still beats sgemm.
    static let fusedMaxTokens = 4
    private var panels: [UnsafeMutablePointer<Float>] = []   // [threads][panelRows, maxCols] f32
    private var panelCapacity = 0

    public init(threads: Int, path: Int32? = nil) {
        self.threads = max(threads, 1)
        self.path = path ?? vpg_best_path()
        openblas_set_num_threads(1)
    }

    /// Whether `type` has a fused dot kernel.
    public func hasFusedKernel(_ type: GGMLType) -> Bool { vpg_dot_kernel(Int32(type.rawValue), path) != nil }

    deinit { panels.forEach { $0.deallocate() } }

    /// - Parameters:
    ///   - input: `[n, weight.cols]` f32, row-major.
    ///   - output: `[n, ldOut]` f32; columns `0..<weight.rows` are written.
    public func multiply(_ weight: WeightMatrix, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                         n: Int, ldOut: Int? = nil) {
        let ld = ldOut ?? weight.rows
        let k = weight.cols
        if weight.type == .f32 {
            let a = weight.data.assumingMemoryBound(to: Float.self)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(weight.rows), Int32(k),
                        1, input, Int32(k), a, Int32(k), 0, output, Int32(ld))
            return
        }
        if n <= Self.fusedMaxTokens, let dot = vpg_dot_kernel(Int32(weight.type.rawValue), path) {
            let parts = (weight.rows + Self.fusedRows - 1) / Self.fusedRows
            parallelFor(parts: parts, threads: threads) { p in
                let r0 = p * Self.fusedRows, r1 = min(r0 + Self.fusedRows, weight.rows)
                for t in 0..<n {
                    vpg_matvec_rows(dot, weight.data, Int64(weight.rowBytes), input + t * k, output + t * ld + r0,
                                    Int64(r0), Int64(r1), Int64(k))
                }
            }
            return
        }
        reservePanels(cols: k)
        let parts = (weight.rows + Self.panelRows - 1) / Self.panelRows
        let panels = self.panels
        // Each running part uses a panel no other part is using.
        let slots = SlotPool(count: threads)
        parallelFor(parts: parts, threads: threads) { p in
            let slot = slots.acquire()
            defer { slots.release(slot) }
            let panel = panels[slot]
            let r0 = p * Self.panelRows, r1 = min(r0 + Self.panelRows, weight.rows)
            for r in r0..<r1 { weight.dequantizeRow(r, into: panel + (r - r0) * k) }
            let m = r1 - r0
            if n == 1 {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(k), 1, panel, Int32(k), input, 1, 0, output + r0, 1)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(m), Int32(k),
                            1, input, Int32(k), panel, Int32(k), 0, output + r0, Int32(ld))
            }
        }
    }

    private func reservePanels(cols: Int) {
        guard cols > panelCapacity || panels.isEmpty else { return }
        panels.forEach { $0.deallocate() }
        panelCapacity = max(cols, panelCapacity)
        panels = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: Self.panelRows * panelCapacity) }
    }
}

