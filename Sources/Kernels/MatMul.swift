import CKernels
import Foundation
import Quants

/// `out = input · Wᵀ`. Three ways, chosen by weight type, batch size and kernel path (`plan`):
/// - integer: the activation rows are quantized to 8 bits (llama.cpp's scheme) and each quantized weight block is
///   unpacked once and dotted with up to `VPG_DOTQ_MAX_ROWS` of them in integers (the row kernels), or unpacked
///   once into a panel for every token (the panel kernels: eight or sixteen weight rows at a time, where the type
///   has them on the path). Generation steps of up to `vpg_generation_rows_max` sequences (a kernel fact, per type
///   and path) and prompts of up to
///   `fusedMaxTokens` tokens take the row kernels; larger ones the panel kernels, or, for a type without them, the
///   row kernels up to `integerMaxTokens` sequences. On the SIMD paths the row products of Q4_0, Q5_0, Q4_K and
///   Q6_K have the panel kernels' numerics (`vpg_rows_as_panels`), so there a token's results do not depend on the
///   batch. With `exactActivations` (the commands' `VPGEA_ACTIVATIONS=f32`) a few tokens take the f32
///   fused kernels instead. SIMD is chosen at run time; `KernelPath.selected` (the commands'
///   `VPGEA_KERNELS=generic|avx2|avxvnni|avx512`) forces a path;
/// - f32: panels of rows dequantized to f32 and OpenBLAS sgemm, exact math (single-threaded BLAS; our threads split
///   the rows): prompts on F16, BF16 and Q8_0 (but below: 16-bit, bf16), and every product with `exactActivations`
///   (training);
/// - 16-bit: on AVX-512, Q8_0 rows interleaved by sixteen times activations quantized to 16 bits (`.int16Rows`), for
///   Q8_0's prompts and generation steps beyond the 8-bit row kernels: within ~1/256 of 8-bit's rounding of exact;
/// - bf16: on AVX-512 with AVX512-BF16, BF16 rows as stored times activations rounded to bf16 (`.bf16Products`), for
///   BF16's prompts where those products pay (`KernelPath.bf16Products`: not on Intel's cores).
public final class MatMul: @unchecked Sendable {
    public let threads: Int
    /// The instruction-set path of the kernels.
    public let path: KernelPath
    static let panelRows = 128
    static let fusedRows = 64
    /// Up to this many prompt tokens use the fused kernels on any weight type: reading the weights once per token
    /// still beats sgemm.
    static let fusedMaxTokens = 4
    /// In a generation step, up to this many sequences' new tokens use the integer kernels, as one sequence's
    /// generation does: each weight block is unpacked once for several tokens, with no f32 panel and no sgemm
    /// packing. Past this many, sgemm's throughput, which grows with the batch, overtakes the row kernels'.
    static let integerMaxTokens = 32
    /// Q8_0 matrices of fewer rows (the K and V projections of grouped-query attention) keep the exact products in
    /// prompts: the 16-bit products measured no faster on them (the 1.5B's prompts), and on the 0.5B test model their
    /// products, within 0.01 of exact logits on their own, moved positions whose 8-bit activations (its Q5_0
    /// matrices) sit at a rounding step by up to 2 logits (Benchmarks/README.md).
    static let int16MinRows = 1024
    var panels: [UnsafeMutablePointer<Float>] = []   // [threads][panelRows, maxCols] f32
    private var panelCapacity = 0
    var accumulators: [UnsafeMutablePointer<Float>] = []   // [threads][accumulatorCapacity] f32 (transposed products)
    var accumulatorCapacity = 0

    /// Generation kernels keep the activations in f32 instead of quantizing them to 8 bits.
    public let exactActivations: Bool
    /// `exactActivations` when a product is made without saying (false, unless the command line chose otherwise;
    /// set it before any model runs).
    nonisolated(unsafe) public static var exactActivationsByDefault = false
    private var quantized: UnsafeMutableRawPointer? = nil   // [integerMaxTokens, cols/32 × 36 or cols/256 × 292] bytes
    private var quantizedCapacity = 0

    /// BF16 prompts take bf16 activations and AVX512-BF16's products where the path has them (`.bf16Products`).
    public let bf16Products: Bool

    public init(threads: Int, path: KernelPath? = nil, exactActivations: Bool? = nil, bf16Products: Bool? = nil) {
        self.threads = max(threads, 1)
        self.path = path ?? .selected
        self.exactActivations = exactActivations ?? Self.exactActivationsByDefault
        self.bf16Products = bf16Products ?? KernelPath.bf16Products
        vpg_blas_set_threads(1)
    }

    /// Whether `type` has a fused dot kernel.
    public func hasFusedKernel(_ type: GGMLType) -> Bool { vpg_dot_kernel(Int32(type.rawValue), path.rawValue) != nil }

    deinit {
        panels.forEach { $0.deallocate() }
        accumulators.forEach { $0.deallocate() }
        quantized?.deallocate()
    }

    /// - Parameters:
    ///   - input: `[n, weight.cols]` f32, row-major.
    ///   - output: `[n, ldOut]` f32; columns `0..<weight.rows` are written.
    ///   - generationStep: the rows are one new token of each of several sequences, not a prompt: up to
    ///     `integerMaxTokens` of them take the 8-bit-activation kernels (a prompt takes them up to
    ///     `fusedMaxTokens`, then the exact panels, unless the type has panel kernels on this path).
    public func multiply(_ weight: WeightMatrix, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                         n: Int, ldOut: Int? = nil, generationStep: Bool = false) {
        let ld = ldOut ?? weight.rows
        let k = weight.cols, type = Int32(weight.type.rawValue)
        let plan = Self.plan(weight.type, rows: weight.rows, tokens: n, generationStep: generationStep,
                             exactActivations: exactActivations, path: path, bf16Products: bf16Products)
        switch plan {
        case .f32Sgemm:
            let a = weight.data.assumingMemoryBound(to: Float.self)
            vpg_sgemm(0, 1, Int64(n), Int64(weight.rows), Int64(k), 1, input, Int64(k), a, Int64(k), 0, output,
                      Int64(ld))
        case .int16Rows where weight.interleaved:
            let quantize = vpg_quantize_q16_kernel(path.rawValue)!, product = vpg_q8_0_x16_q16_kernel(path.rawValue)!
            let rowBytes = k / 32 * MemoryLayout<vpg_q16_32>.stride
            let xq = reserveQuantized(n * rowBytes)   // [n, k/32] vpg_q16_32
            parallelFor(parts: n, threads: threads) { t in quantize(input + t * k, xq + t * rowBytes, Int64(k)) }
            forEachRowRange(weight.rows) { r0, r1 in
                product(weight.data, Int64(weight.rowBytes), xq, Int64(rowBytes), Int64(n), output + r0, Int64(ld),
                        Int64(r0), Int64(r1), Int64(k))
            }
        case .bf16Products where k % 2 == 0:
            let product = vpg_bf16_products_kernel(path.rawValue)!
            let xb = reserveQuantized(n * k * 2).assumingMemoryBound(to: UInt16.self)   // [n, k] bf16
            parallelFor(parts: n, threads: threads) { t in vpg_round_bf16(input + t * k, xb + t * k, Int64(k)) }
            forEachRowRange(weight.rows) { r0, r1 in
                product(weight.data, Int64(weight.rowBytes), xb, Int64(k * 2), Int64(n), output + r0, Int64(ld),
                        Int64(r0), Int64(r1), Int64(k))
            }
        case .int16Rows, .bf16Products:   // rows left as stored (a row count not a multiple of 16); an odd column count
            multiplyDequantized(weight, input, output, n: n, ld: ld)
        case .integerPanels, .integerRows:
            let (xq, rowBytes) = quantizeActivations(input, n: n, cols: k, type: weight.type)
            if weight.interleaved {   // ranges of multiples of 64 rows: whole groups of sixteen
                let product = vpg_x16_kernel(type, path.rawValue, plan == .integerPanels ? 1 : 0)!
                forEachRowRange(weight.rows, long: plan == .integerRows) { r0, r1 in
                    product(weight.data, Int64(weight.rowBytes), xq, Int64(rowBytes), Int64(n), output + r0, Int64(ld),
                            Int64(r0), Int64(r1), Int64(k))
                }
            } else if plan == .integerPanels || vpg_rows_as_panels(type, path.rawValue) != 0,
                      let panels = vpg_matmul_panels_kernel(type, path.rawValue) {   // rows as panels: their numerics
                forEachRowRange(weight.rows) { r0, r1 in
                    panels(weight.data, Int64(weight.rowBytes), xq, Int64(rowBytes), Int64(n), output + r0, Int64(ld),
                           Int64(r0), Int64(r1), Int64(k))
                }
            } else {
                let dot = vpg_dotq_rows_kernel(type, path.rawValue)!
                forEachRowRange(weight.rows, long: true) { r0, r1 in
                    vpg_matmul_rows_q(dot, weight.data, Int64(weight.rowBytes), xq, Int64(rowBytes), Int64(n),
                                      output + r0, Int64(ld), Int64(r0), Int64(r1), Int64(k))
                }
            }
        case .f32Dots:
            let dot = vpg_dot_kernel(type, path.rawValue)!
            forEachRowRange(weight.rows) { r0, r1 in
                if weight.interleaved {   // each row back to its stored form
                    for r in r0..<r1 {
                        weight.withStoredRow(r) { row in
                            for t in 0..<n { output[t * ld + r] = dot(row, input + t * k, Int64(k)) }
                        }
                    }
                    return
                }
                for t in 0..<n {
                    vpg_matvec_rows(dot, weight.data, Int64(weight.rowBytes), input + t * k, output + t * ld + r0,
                                    Int64(r0), Int64(r1), Int64(k))
                }
            }
        case .dequantizedSgemm:
            multiplyDequantized(weight, input, output, n: n, ld: ld)
        }
    }

    /// How a product runs.
    public enum Plan: Equatable, Sendable, CaseIterable {
        /// f32 weights: one OpenBLAS sgemm.
        case f32Sgemm
        /// Activations quantized to 8 bits; the panel kernels (eight weight rows per vector step, sixteen on
        /// AVX-512), each chunk of unpacked blocks dotted with a tile of tokens.
        case integerPanels
        /// Activations quantized to 8 bits; the row kernels (each weight block unpacked once for up to
        /// `VPG_DOTQ_MAX_ROWS` tokens).
        case integerRows
        /// f32 activations; fused dequantize-and-dot kernels, one weight row at a time.
        case f32Dots
        /// Panels of rows dequantized to f32 and OpenBLAS sgemm: exact.
        case dequantizedSgemm
        /// Activations quantized to 16 bits (`vpg_q16_32`), Q8_0 rows interleaved by sixteen (AVX-512; matrices of
        /// `int16MinRows` rows or more): prompts and generation steps beyond the 8-bit row kernels' reach. With 8-bit
        /// activations Q8_0's prompt logits moved further from llama.cpp's than with exact products (the adapter
        /// test's bound broke); 16 bits keep ~1/256 of that rounding, and each vpdpwssd takes twice the weights of an
        /// f32 fma.
        case int16Rows
        /// BF16 weights as stored times activations rounded to bf16 (AVX512-BF16's vdpbf16ps, AVX-512 path): prompts
        /// and generation steps of more than `fusedMaxTokens` rows, where `KernelPath.bf16Products`. llama.cpp's
        /// numerics for BF16 (it rounds the activations to bf16 as well), at twice the weights per instruction of the
        /// f32 products (worth it where the CPU runs vdpbf16ps as fast as an fma).
        case bf16Products
    }

    /// The plan of a product of `tokens` rows with weights of `type` on `path` (the one place that decides).
    public static func plan(_ type: GGMLType, rows: Int, tokens: Int, generationStep: Bool, exactActivations: Bool,
                            path: KernelPath, bf16Products: Bool = KernelPath.bf16Products) -> Plan {
        if type == .f32 { return .f32Sgemm }
        let t = Int32(type.rawValue)
        if type == .q8_0, rows >= int16MinRows, !exactActivations, WeightMatrix.interleavesByDefault,
           tokens > (generationStep ? integerMaxTokens : fusedMaxTokens), vpg_q8_0_x16_q16_kernel(path.rawValue) != nil {
            return .int16Rows
        }
        if type == .bf16, !exactActivations, tokens > fusedMaxTokens, vpg_bf16_products_kernel(path.rawValue) != nil,
           bf16Products {
            return .bf16Products
        }
        if !exactActivations, takesIntegerKernels(type, tokens: tokens, generationStep: generationStep, path: path),
           vpg_dotq_rows_kernel(t, path.rawValue) != nil {
            let rowsMax = generationStep ? Int(vpg_generation_rows_max(t, path.rawValue)) : fusedMaxTokens
            let panels = tokens > rowsMax
                && type != .q8_0 && vpg_matmul_panels_kernel(t, path.rawValue) != nil
            return panels ? .integerPanels : .integerRows
        }
        return tokens <= fusedMaxTokens && vpg_dot_kernel(t, path.rawValue) != nil ? .f32Dots : .dequantizedSgemm
    }

    /// The activation rows quantized for the integer kernels of `type`: `[n]` rows of `rowBytes` in this object's
    /// buffer.
    private func quantizeActivations(_ input: UnsafePointer<Float>, n: Int, cols k: Int, type: GGMLType)
        -> (UnsafeMutableRawPointer, Int) {
        let block = Int(vpg_dotq_block(Int32(type.rawValue)))
        let rowBytes = block == 32 ? k / 32 * MemoryLayout<vpg_q8_32>.stride : k / 256 * MemoryLayout<vpg_q8_256>.stride
        let xq = reserveQuantized(n * rowBytes)
        let quantizeRow = vpg_quantize_kernel(Int32(block), path.rawValue)!
        let quantize: (Int) -> Void = { t in quantizeRow(input + t * k, xq + t * rowBytes, Int64(k)) }
        if n == 1 { quantize(0) } else { parallelFor(parts: n, threads: threads, quantize) }
        return (xq, rowBytes)
    }

    /// Panels of `panelRows` weight rows dequantized to f32 and multiplied by OpenBLAS (sgemv for one token).
    private func multiplyDequantized(_ weight: WeightMatrix, _ input: UnsafePointer<Float>,
                                     _ output: UnsafeMutablePointer<Float>, n: Int, ld: Int) {
        let k = weight.cols
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
            weight.dequantizeRows(r0, r1, into: panel)
            let m = r1 - r0
            if n == 1 {
                vpg_sgemv(Int64(m), Int64(k), 1, panel, Int64(k), input, 0, output + r0)
            } else {
                vpg_sgemm(0, 1, Int64(n), Int64(m), Int64(k), 1, input, Int64(k), panel, Int64(k), 0, output + r0, Int64(ld))
            }
        }
    }

    /// Whether a product of `tokens` rows with weights of `type` quantizes its activations to 8 bits on `path`
    /// (unless `exactActivations`; and the type has integer kernels): a few tokens always, more where the type has
    /// panel kernels on the path (they beat the f32 panels + sgemm at any token count). Not Q8_0's panels (VNNI
    /// paths only): their products equal the row kernels' to ~1e-7 relative, but with 8-bit activations a change
    /// that small can move a later activation across a rounding step, and the 0.5B's prompt logits then moved by up
    /// to 0.13 (its max |Δlogit| against llama.cpp 0.39 → 0.64, the LoRA adapter test over its bound): its Q8_0
    /// matrices (the output head and attn_v) are a small share of a prompt's work. Q8_0 prompts take 16-bit
    /// activations instead on AVX-512 (`Plan.int16Rows`), the exact products elsewhere (Benchmarks/README.md).
    public static func takesIntegerKernels(_ type: GGMLType, tokens: Int, generationStep: Bool,
                                           path: KernelPath = .selected) -> Bool {
        tokens <= (generationStep ? integerMaxTokens : fusedMaxTokens)
            || (type != .q8_0 && vpg_matmul_panels_kernel(Int32(type.rawValue), path.rawValue) != nil)
    }

    /// Runs `body(r0, r1)` over the rows in ranges of `fusedRows`, on the threads; `long`: of 64 to 256 (multiples of
    /// 64; at least two ranges per thread where the matrix has the rows), for the row kernels' few-token products,
    /// whose threads then read one long stream each (at two threads one-token generation ran faster with 256-row
    /// ranges than with 64, prompts slower: Benchmarks/README.md).
    func forEachRowRange(_ rows: Int, long: Bool = false, _ body: (Int, Int) -> Void) {
        let size = long ? min(4 * Self.fusedRows, max(Self.fusedRows, rows / (2 * threads) / Self.fusedRows * Self.fusedRows))
                        : Self.fusedRows
        parallelFor(parts: (rows + size - 1) / size, threads: threads) { p in
            body(p * size, min((p + 1) * size, rows))
        }
    }

    func reserveQuantized(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > quantizedCapacity {
            quantized?.deallocate()
            quantized = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            quantizedCapacity = bytes
        }
        return quantized!
    }

    func reservePanels(cols: Int) {
        guard cols > panelCapacity || panels.isEmpty else { return }
        panels.forEach { $0.deallocate() }
        panelCapacity = max(cols, panelCapacity)
        panels = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: Self.panelRows * panelCapacity) }
    }
}

