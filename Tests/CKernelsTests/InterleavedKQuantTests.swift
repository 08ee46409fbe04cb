import CKernels
import CKernelsEmulated
import Foundation
import Testing
import TestSupport

/// Q4_0, Q5_0, Q8_0, Q4_K and Q6_K interleaved by sixteen rows (vpg_repack_x16): the layout round-trips, and its products give the bits
/// of the stored rows' kernels on the same path: AVX-512's own (natively where the CPU has it, and through SIMDe on
/// any x86-64 CPU) against AVX-512's row and panel kernels (the panel kernels' for the row products of every type but
/// Q8_0 there, vpg_rows_as_panels), the generic twins against the generic kernels. Rows 16..<64 of 64 (ranges start inside the
/// matrix), 768 columns (three k-quant blocks, 24 of the 32-element types), extreme activations included. Q8_0 has no
/// panels' products (its prompts take the exact products).
@Suite struct InterleavedKQuantTests {
    static let rows = 64, cols = 768
    static let kinds = [2, 6, 8, 12, 14]   // Q4_0, Q5_0, Q8_0, Q4_K, Q6_K
    static func kind(_ type: Int) -> (type: Int, bytes: Int, elements: Int, scales: [Int]) {
        KernelTableTests.types.first { $0.type == type }!
    }
    static func rowBytes(_ type: Int) -> Int { cols / kind(type).elements * kind(type).bytes }
    /// Bytes of one token's quantized activations for `type` (blocks of 32 or of 256).
    static func stride(_ type: Int) -> Int {
        kind(type).elements == 32 ? cols / 32 * MemoryLayout<vpg_q8_32>.stride : cols / 256 * MemoryLayout<vpg_q8_256>.stride
    }

    /// (label, the table whose interleaved products run and whose stored kernels they must equal, its path): every
    /// path the CPU has (AVX-512's own kernels; the others' stored kernels on groups put back), and AVX-512's through
    /// SIMDe.
    static var cases: [(String, UnsafePointer<vpg_kernel_table>, Int32)] {
        let avx512 = Int32(VPG_PATH_AVX512.rawValue)
        var all = [("generic", KernelTableTests.generic, Int32(VPG_PATH_GENERIC.rawValue))]
        if let emulated = vpg_emulated_kernels(avx512) { all.append(("avx512 (emulated)", emulated, avx512)) }
        for path in [VPG_PATH_AVX2, VPG_PATH_AVXVNNI, VPG_PATH_AVX512].map({ Int32($0.rawValue) }) where vpg_path_supported(path) != 0 {
            all.append(("\(String(cString: vpg_path_name(path))) (native)", vpg_kernels(path)!, path))
        }
        return all
    }

    static func matrix(_ type: Int, _ rng: inout SplitMix) -> [UInt8] {
        (0..<rows).flatMap { _ in KernelTableTests.randomRow(kind(type), count: cols, &rng) }
    }

    static func interleave(_ type: Int, _ w: [UInt8]) -> [UInt8] {
        KernelTableTests.run(w.count) { out in
            w.withUnsafeBytes { vpg_repack_x16(Int32(type), $0.baseAddress!, out, Int64(rows), Int64(cols)) }
        }
    }

    /// `tokens` quantized activation rows; the first one at the extremes (±127 after quantization).
    static func activations(_ type: Int, _ tokens: Int, _ rng: inout SplitMix) -> [UInt8] {
        let stride = Self.stride(type)
        return KernelTableTests.run(tokens * stride) { out in
            for t in 0..<tokens {
                let x = (0..<cols).map { i in t == 0 ? (i % 3 == 0 ? -4 : 4) : Float.random(in: -3...3, using: &rng) }
                vpg_kernels(0)!.pointee.typeRow(type).quantize!(x, out + t * stride, Int64(cols))
            }
        }
    }

    @Test(arguments: kinds)
    func everyRowComesBackAsStored(_ type: Int) {
        var rng = SplitMix(seed: TestRandom.seed)
        let w = Self.matrix(type, &rng), x = Self.interleave(type, w), rowBytes = Self.rowBytes(type)
        #expect(x != w && x.count == w.count)
        for r in 0..<Self.rows {
            let back = KernelTableTests.run(rowBytes) { out in
                x.withUnsafeBytes { vpg_unpack_x16_row(Int32(type), $0.baseAddress!, Int64(rowBytes), Int64(r), out, Int64(Self.cols)) }
            }
            #expect(back[...] == w[(r * rowBytes)..<((r + 1) * rowBytes)], "type \(type), row \(r)")
        }
    }

    /// y (bit patterns, `[tokens, rows]`, NaN where unwritten) of a product over rows 16..<64 for `tokens` activation rows: `product`, or with `rowKernel`
    /// the stored rows' driver (vpg_matmul_rows_q).
    static func run(_ product: vpg_matmul_panels_fn?, rowKernel: vpg_dotq_rows_fn? = nil, _ w: [UInt8], _ xq: [UInt8],
                    tokens: Int, rowBytes: Int, stride: Int) -> [UInt32] {
        var y = [Float](repeating: .nan, count: tokens * rows)
        w.withUnsafeBytes { w in
            xq.withUnsafeBytes { q in
                if let rowKernel {
                    vpg_matmul_rows_q(rowKernel, w.baseAddress!, Int64(rowBytes), q.baseAddress!, Int64(stride), Int64(tokens),
                                      &y, Int64(rows), 16, Int64(rows), Int64(cols))
                } else {
                    product?(w.baseAddress!, Int64(rowBytes), q.baseAddress!, Int64(stride), Int64(tokens), &y, Int64(rows),
                             16, Int64(rows), Int64(cols))
                }
            }
        }
        return y.map(\.bitPattern)
    }

    @Test(arguments: kinds, [1, 2, 3, 8, 9, 33])
    func productsAreTheStoredRowsKernelsBits(_ type: Int, _ tokens: Int) throws {
        var rng = SplitMix(seed: TestRandom.seed &+ UInt64(tokens))
        let w = Self.matrix(type, &rng), x = Self.interleave(type, w), xq = Self.activations(type, tokens, &rng)
        let rowBytes = Self.rowBytes(type), stride = Self.stride(type)
        for (label, table, path) in Self.cases {
            let rowKernel = try #require(table.pointee.typeRow(type).dotq_rows)
            let t = table.pointee
            let own: (rows: vpg_matmul_panels_fn?, panels: vpg_matmul_panels_fn?) = switch type {
            case 2: (t.rows_q4_0_x16, t.panels_q4_0_x16)
            case 6: (t.rows_q5_0_x16, t.panels_q5_0_x16)
            case 8: (t.rows_q8_0_x16, nil)
            case 12: (t.rows_q4_k_x16, t.panels_q4_k_x16)
            default: (t.rows_q6_k_x16, t.panels_q6_k_x16)
            }
            #expect((vpg_x16_kernel(Int32(type), path, 1) == nil) == (type == 8), "\(label), type \(type): panels' entry")
            let wantPanels = type == 8 ? nil : Self.run(try #require(t.typeRow(type).panels), w, xq, tokens: tokens,
                                                        rowBytes: rowBytes, stride: stride)
            let wantRows = vpg_rows_as_panels(Int32(type), path) != 0
                ? try #require(wantPanels) : Self.run(nil, rowKernel: rowKernel, w, xq, tokens: tokens, rowBytes: rowBytes, stride: stride)
            // Row r of the range goes to y[t·rows + r − 16]: the last 16 of each token's stretch stay untouched.
            let written = (0..<tokens).flatMap { t in (0..<(Self.rows - 16)).map { wantRows[t * Self.rows + $0] } }
            #expect(!written.contains(Float.nan.bitPattern) && wantRows[Self.rows - 1] == Float.nan.bitPattern)
            let gotRows = Self.run(try #require(own.rows), x, xq, tokens: tokens, rowBytes: rowBytes, stride: stride)
            #expect(gotRows == wantRows, "\(label), type \(type), \(tokens) tokens: the row kernels' products differ")
            if let wantPanels {
                let gotPanels = Self.run(try #require(own.panels), x, xq, tokens: tokens, rowBytes: rowBytes, stride: stride)
                #expect(gotPanels == wantPanels, "\(label), type \(type), \(tokens) tokens: the panels' products differ")
            }
            // Each token's row products alone: the same bits as in the batch (every row kernel computes a token's
            // sums on their own; the panels' steps for up to four tokens at a time keep them apart too).
            for k in 0..<tokens where tokens > 1 {
                let one = Array(xq[(k * stride)..<((k + 1) * stride)])
                let alone = Self.run(try #require(own.rows), x, one, tokens: 1, rowBytes: rowBytes, stride: stride)
                #expect(alone[..<(Self.rows - 16)] == gotRows[(k * Self.rows)..<(k * Self.rows + Self.rows - 16)],
                        "\(label), type \(type), token \(k) of \(tokens): its row products differ from its own")
            }
        }
    }

    /// Whole groups dequantized by each table's kernel (AVX-512's transposes sixteen rows at a time), and any rows by
    /// vpg_dequant_x16_rows: the stored rows' dequantized values, bit for bit.
    @Test(arguments: [2, 6, 8])
    func groupsDequantizeAsTheStoredRows(_ type: Int) throws {
        var rng = SplitMix(seed: TestRandom.seed &+ UInt64(type))
        let w = Self.matrix(type, &rng), x = Self.interleave(type, w), rowBytes = Self.rowBytes(type), n = Self.cols
        let want = (0..<Self.rows).flatMap { r in
            KernelTableTests.dequantize(KernelTableTests.generic, type, Array(w[(r * rowBytes)..<((r + 1) * rowBytes)]), n)
        }
        func rows(_ r0: Int, _ r1: Int, _ body: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void) -> [UInt32] {
            var out = [Float](repeating: .nan, count: (r1 - r0) * n)
            x.withUnsafeBytes { body($0.baseAddress!, &out) }
            return out.map(\.bitPattern)
        }
        for (label, table, path) in Self.cases {
            let kernel = try #require(table.pointee.dequant_x16)
            let got = rows(16, 64) { kernel(Int32(type), $0, Int64(rowBytes), 16, 64, $1, Int64(n)) }
            #expect(got == Array(want[(16 * n)..<(64 * n)]), "\(label), type \(type): groups 1–3")
            for (r0, r1) in [(3, 61), (0, 64), (20, 30)] where vpg_path_supported(path) != 0 {
                let any = rows(r0, r1) {
                    #expect(vpg_dequant_x16_rows(Int32(type), path, $0, Int64(rowBytes), Int64(r0), Int64(r1), $1, Int64(n)) == 1)
                }
                #expect(any == Array(want[(r0 * n)..<(r1 * n)]), "\(label), type \(type): rows \(r0)..<\(r1)")
            }
        }
        #expect(vpg_dequant_x16_rows(12, 0, x, Int64(rowBytes), 0, 16, nil, Int64(n)) == 0)   // Q4_K: not this way
    }

    /// The row products of Q4_0, Q5_0, Q4_K and Q6_K on the SIMD paths (x16_rows_avx2.c and x16_krows_avx2.c on the
    /// 256-bit paths, the panels' steps on AVX-512) through SIMDe on any x86-64 CPU, and natively where the CPU has the
    /// path: the bits of that path's panel kernel on the stored rows (vpg_rows_as_panels), with an odd number of
    /// blocks and token counts across the row products' range.
    @Test(arguments: [2, 6, 12, 14], [1, 3, 4, 8, 16, 32])
    func rowsWithThePanelsNumerics(_ type: Int, _ tokens: Int) throws {
        let kind = Self.kind(type), rows = 48, cols = kind.elements == 32 ? 800 : 1280
        let rowBytes = cols / kind.elements * kind.bytes
        let stride = kind.elements == 32 ? cols / 32 * MemoryLayout<vpg_q8_32>.stride
            : cols / 256 * MemoryLayout<vpg_q8_256>.stride
        var rng = SplitMix(seed: TestRandom.seed &+ 7 &+ UInt64(tokens))
        let w = (0..<rows).flatMap { _ in KernelTableTests.randomRow(Self.kind(type), count: cols, &rng) }
        let x = KernelTableTests.run(w.count) { out in
            w.withUnsafeBytes { vpg_repack_x16(Int32(type), $0.baseAddress!, out, Int64(rows), Int64(cols)) }
        }
        let xq = KernelTableTests.run(tokens * stride) { out in
            for t in 0..<tokens {
                let v = (0..<cols).map { i in t == 0 ? (i % 3 == 0 ? -4 : 4) : Float.random(in: -3...3, using: &rng) }
                vpg_kernels(0)!.pointee.typeRow(type).quantize!(v, out + t * stride, Int64(cols))
            }
        }
        func run(_ product: vpg_matmul_panels_fn, _ weights: [UInt8]) -> [UInt32] {
            var y = [Float](repeating: .nan, count: tokens * rows)
            weights.withUnsafeBytes { w in
                xq.withUnsafeBytes { q in
                    product(w.baseAddress!, Int64(rowBytes), q.baseAddress!, Int64(stride), Int64(tokens), &y,
                            Int64(rows), 16, Int64(rows), Int64(cols))
                }
            }
            return y.map(\.bitPattern)
        }
        var tables: [(String, UnsafePointer<vpg_kernel_table>)] = []
        for path in [VPG_PATH_AVX2, VPG_PATH_AVXVNNI, VPG_PATH_AVX512].map({ Int32($0.rawValue) }) {
            let name = String(cString: vpg_path_name(path))
            if let emulated = vpg_emulated_kernels(path) { tables.append(("\(name) (emulated)", emulated)) }
            if vpg_path_supported(path) != 0 { tables.append(("\(name) (native)", vpg_kernels(path)!)) }
            #expect(vpg_rows_as_panels(Int32(type), path) != 0, "\(name), type \(type): the panels' numerics")
        }
        #if arch(x86_64)
        #expect(tables.count >= 3, "the three SIMD paths at least through SIMDe")
        #endif
        for (label, table) in tables {
            let want = run(try #require(table.pointee.typeRow(type).panels), w)
            let written = (0..<tokens).flatMap { t in (0..<(rows - 16)).map { want[t * rows + $0] } }
            #expect(!written.contains(Float.nan.bitPattern))
            let own = [2: table.pointee.rows_q4_0_x16, 6: table.pointee.rows_q5_0_x16, 12: table.pointee.rows_q4_k_x16,
                       14: table.pointee.rows_q6_k_x16][type]!
            // With the software prefetch off and on (vpg_set_row_prefetch): the same bits.
            let before = vpg_row_prefetch()
            defer { vpg_set_row_prefetch(before) }
            for prefetch: Int32 in [0, 1] {
                vpg_set_row_prefetch(prefetch)
                let got = run(try #require(own), x)
                #expect(got == want, "\(label), type \(type), \(tokens) tokens, prefetch \(prefetch): the interleaved rows' products differ")
            }
        }
    }

    /// AVX-512 has its own products for every type; the 256-bit paths for the generation of all but Q8_0
    /// (x16_rows_avx2.c, x16_krows_avx2.c).
    @Test func whichPathsHaveTheirOwn() {
        for path in [VPG_PATH_GENERIC, VPG_PATH_AVX2, VPG_PATH_AVXVNNI, VPG_PATH_AVX512].map({ Int32($0.rawValue) }) {
            let narrow = path == Int32(VPG_PATH_AVX2.rawValue) || path == Int32(VPG_PATH_AVXVNNI.rawValue)
            for type in Self.kinds {
                let own = path == Int32(VPG_PATH_AVX512.rawValue) || (narrow && type != 8)
                let native = vpg_path_supported(path) != 0 && own
                #expect((vpg_x16_native(Int32(type), path) != 0) == native, "path \(path), type \(type)")
            }
            #expect(vpg_x16_native(1, path) == 0 && vpg_x16_kernel(1, path, 0) == nil)   // F16: none
        }
    }
}
