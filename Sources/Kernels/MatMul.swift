import CBLAS
import Quants

/// `out = input · Wᵀ`: quantized weights are dequantized a panel of rows at a time and multiplied with
/// OpenBLAS sgemm (single-threaded; our threads split the rows). This is the exact-math path: the activations
/// stay f32. Faster integer kernels come separately, with this as their reference.
public final class MatMul: @unchecked Sendable {
    public let threads: Int
    static let panelRows = 128
    private var panels: [UnsafeMutablePointer<Float>] = []   // [threads][panelRows, maxCols] f32
    private var panelCapacity = 0

    public init(threads: Int) {
        self.threads = max(threads, 1)
        openblas_set_num_threads(1)
    }

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

