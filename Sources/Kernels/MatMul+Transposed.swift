import CKernels

/// The product that backward passes need from a frozen weight: `dX = dY · W`.
extension MatMul {
    /// `output (+)= input · W` in exact f32 math: panels of rows dequantized, OpenBLAS sgemm; each thread takes a
    /// fixed contiguous share of the panels, in order, into its own buffer, and the buffers are summed in order at
    /// the end, so the result does not depend on timing (training runs repeat bit for bit).
    /// - Parameters:
    ///   - input: `[n, weight.rows]` f32 (e.g. the gradient of a layer's output).
    ///   - output: `[n, weight.cols]` f32; overwritten, or added to when `accumulate`.
    public func multiplyTransposed(_ weight: WeightMatrix, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                   n: Int, accumulate: Bool = false) {
        let k = weight.cols, rows = weight.rows
        if weight.type == .f32 {
            Gemm.multiply(n, k, rows, input, lda: rows, weight.data.assumingMemoryBound(to: Float.self), ldb: k,
                          output, ldc: k, beta: accumulate ? 1 : 0)
            return
        }
        reservePanels(cols: k)
        reserveAccumulators(n * k)
        let parts = (rows + Self.panelRows - 1) / Self.panelRows
        let workers = min(threads, parts)
        for s in 0..<workers { accumulators[s].update(repeating: 0, count: n * k) }
        let panels = self.panels, sums = self.accumulators
        parallelFor(parts: workers, threads: workers) { s in
            let panel = panels[s]
            for p in parts * s / workers..<parts * (s + 1) / workers {
                let r0 = p * Self.panelRows, r1 = min(r0 + Self.panelRows, rows)
                weight.dequantizeRows(r0, r1, into: panel)
                // sums[s][n, k] += input[:, r0..<r1] · panel[r1 - r0, k]
                Gemm.multiply(n, k, r1 - r0, input + r0, lda: rows, panel, ldb: k, sums[s], ldc: k, beta: 1)
            }
        }
        if !accumulate { output.update(from: sums[0], count: n * k) } else { Ops.add(output, sums[0], count: n * k) }
        for s in 1..<max(workers, 1) { Ops.add(output, sums[s], count: n * k) }
    }

    /// `output (+)= input · W` from W's 7-bit transpose: each input row quantized to 7 bits, then the integer
    /// panel kernel over the transpose's stored panels (`TransposedWeight`). Faster than the exact product
    /// (Benchmarks/README.md); both operands re-rounded.
    /// - Parameters:
    ///   - input: `[n, weight.cols]` f32 (`weight.cols` = the original weight's rows).
    ///   - output: `[n, weight.rows]` f32; overwritten, or added to when `accumulate`.
    public func multiplyTransposed(_ weight: TransposedWeight, _ input: UnsafePointer<Float>,
                                   _ output: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool = false) {
        let k = weight.cols, actBytes = k / 32 * MemoryLayout<vpg_q8_32>.stride
        let xq = reserveQuantized(n * actBytes)
        let quantize = vpg_quantize_q7_kernel(path.rawValue)!, panels = vpg_matmul_panels_q7_kernel(path.rawValue)!
        parallelFor(parts: n, threads: threads) { t in quantize(input + t * k, xq + t * actBytes, Int64(k)) }
        let rows = weight.rows
        var target = output
        if accumulate {
            reserveAccumulators(n * rows)
            target = accumulators[0]
        }
        let y = target
        forEachRowRange(rows) { r0, r1 in
            panels(weight.data, Int64(weight.panelBytes), xq, Int64(actBytes), Int64(n), y + r0, Int64(rows),
                   Int64(r0), Int64(r1), Int64(k))
        }
        if accumulate { Ops.add(output, y, count: n * rows) }
    }

    private func reserveAccumulators(_ count: Int) {
        guard count > accumulatorCapacity || accumulators.count < threads else { return }
        accumulators.forEach { $0.deallocate() }
        accumulatorCapacity = max(count, accumulatorCapacity)
        accumulators = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: accumulatorCapacity) }
    }
}
