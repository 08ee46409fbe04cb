import CKernels
import CKernelsEmulated
import Foundation
import Testing
import TestSupport

/// Every entry of every x86 path's kernel table, run on the same seeded inputs as the generic table's entry. Each
/// path is run twice where the CPU has it (native and through SIMDe) and once, emulated, where it lacks it, so that
/// all four paths are checked on any x86-64 machine. Bits must equal the generic twin's where the twins are
/// specified to agree bit for bit (quantizers, panels, softmax, and the integer row kernels, whose integer sums are
/// exact); the f32-activation dots and attention sum in another order, so they must equal the AVX2 path's bits and
/// lie within f32 rounding of the generic result. Set VPGEA_TEST_SEED to replay a failure.
@Suite struct KernelTableTests {
    /// The tables under test: (label, table), generic excluded.
    nonisolated(unsafe) static let tables: [(String, UnsafePointer<vpg_kernel_table>)] = {
        var all: [(String, UnsafePointer<vpg_kernel_table>)] = []
        for path in [VPG_PATH_AVX2, VPG_PATH_AVXVNNI, VPG_PATH_AVX512].map({ Int32($0.rawValue) }) {
            let name = String(cString: vpg_path_name(path))
            if let emulated = vpg_emulated_kernels(path) { all.append(("\(name) (emulated)", emulated)) }
            if vpg_path_supported(path) != 0 { all.append(("\(name) (native)", vpg_kernels(path)!)) }
        }
        return all
    }()
    nonisolated(unsafe) static let generic = vpg_kernels(Int32(VPG_PATH_GENERIC.rawValue))!

    /// The run's seed (TestRandom's, so one VPGEA_TEST_SEED replays every random test).
    static var seed: UInt64 { TestRandom.seed }

    /// ggml types with rows: (number, bytes per block, elements per block, offsets of its f16 scales).
    static let types: [(type: Int, bytes: Int, elements: Int, scales: [Int])] = [
        (1, 2, 1, []), (30, 2, 1, []), (2, 18, 32, [0]), (6, 22, 32, [0]), (8, 34, 32, [0]), (12, 144, 256, [0, 2]), (14, 210, 256, [208]),
    ]

    @Test func everyPathIsInTheTableAndCovered() throws {
        #expect(Self.tables.contains { $0.0.hasPrefix("avx512") } && Self.tables.contains { $0.0.hasPrefix("avxvnni") })
        for (label, table) in Self.tables {
            for t in Self.types {
                let row = table.pointee.typeRow(t.type), plain = Self.generic.pointee.typeRow(t.type)
                #expect(row.dot != nil && row.dequant != nil, "\(label) type \(t.type)")
                // Q8_0's panels are on the VNNI paths only (kernel_table.h).
                let q8Panels = t.type == 8 && !label.hasPrefix("avx2")
                #expect((row.dotq == nil) == (plain.dotq == nil) && (row.panels == nil) == (plain.panels == nil && !q8Panels),
                        "\(label) type \(t.type): the same kernels as the generic row")
            }
            #expect(table.pointee.quantize_q7 != nil && table.pointee.panels_q7 != nil && table.pointee.exp_shifted != nil
                    && table.pointee.swiglu != nil && table.pointee.swiglu_backward != nil)
        }
    }

    @Test func dequantizersAndDotsWithF32Activations() throws {
        var rng = SplitMix(seed: Self.seed)
        for t in Self.types {
            let n = t.elements == 1 ? 3 * 37 : 3 * t.elements
            let row = Self.randomRow(t, count: n, &rng)
            let x = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
            let plainDot = row.withUnsafeBytes { Self.generic.pointee.typeRow(t.type).dot!($0.baseAddress!, x, Int64(n)) }
            let plainRow = Self.dequantize(Self.generic, t.type, row, n)
            let avx2Dot = Self.tables.first { $0.0.hasPrefix("avx2") }.map { table in
                row.withUnsafeBytes { table.1.pointee.typeRow(t.type).dot!($0.baseAddress!, x, Int64(n)) }
            }
            let magnitude = zip(plainRow.map(Float.init(bitPattern:)), x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
            for (label, table) in Self.tables {
                #expect(Self.dequantize(table, t.type, row, n) == plainRow, "\(label) dequant type \(t.type)")
                let got = row.withUnsafeBytes { table.pointee.typeRow(t.type).dot!($0.baseAddress!, x, Int64(n)) }
                #expect(got.bitPattern == avx2Dot!.bitPattern, "\(label) dot type \(t.type): \(got) vs avx2 \(avx2Dot!) (generic \(plainDot))")
                #expect(abs(got - plainDot) <= 1e-5 * magnitude, "\(label) dot type \(t.type): \(got) vs \(plainDot)")
            }
        }
    }

    @Test(arguments: [32, 256, 7])
    func activationQuantizers(_ kind: Int) {
        var rng = SplitMix(seed: Self.seed &+ UInt64(kind))
        var x = (0..<(3 * 256)).map { _ in Float.random(in: -3...3, using: &rng) }
        for i in 0..<32 { x[256 + i] = Float(i % 8) - 3.5 }   // halfway cases
        for i in 512..<544 { x[i] = 0 }
        let quantize: (UnsafePointer<vpg_kernel_table>) -> vpg_quantize_fn = { table in
            kind == 7 ? table.pointee.quantize_q7! : table.pointee.typeRow(kind == 32 ? 8 : 12).quantize!
        }
        let bytes = kind == 256 ? 3 * MemoryLayout<vpg_q8_256>.stride : 24 * MemoryLayout<vpg_q8_32>.stride
        let want = Self.run(bytes) { quantize(Self.generic)(x, $0, Int64(x.count)) }
        for (label, table) in Self.tables {
            #expect(Self.run(bytes) { quantize(table)(x, $0, Int64(x.count)) } == want, "\(label) quantizer \(kind)")
        }
    }

    /// One-row, several-row and panel integer kernels on every type that has them; 67 tokens (a whole 64-token
    /// tile and a tail), panel rows 3..<90 (more than one pass of panels, starting and ending inside a panel).
    @Test func integerKernels() throws {
        var rng = SplitMix(seed: Self.seed &+ 1)
        for t in Self.types where Self.generic.pointee.typeRow(t.type).dotq != nil {
            let plain = Self.generic.pointee.typeRow(t.type)
            let cols = 3 * t.elements, rows = 90, rowBytes = cols / t.elements * t.bytes, tokens = 67
            let weights = (0..<rows).flatMap { _ in Self.randomRow(t, count: cols, &rng) }
            let x = (0..<(tokens * cols)).map { _ in Float.random(in: -2...2, using: &rng) }
            let stride = plain.q_block == 32 ? cols / 32 * MemoryLayout<vpg_q8_32>.stride : cols / 256 * MemoryLayout<vpg_q8_256>.stride
            let xq = Self.run(tokens * stride) { out in
                for r in 0..<tokens { plain.quantize!(x.withUnsafeBufferPointer { $0.baseAddress! + r * cols }, out + r * stride, Int64(cols)) }
            }
            // (one-row and several-row results, panel results) of a type's kernels.
            var batchedDiffers = 0
            let products: (vpg_type_kernels) -> (rows: [Float], panels: [UInt32]) = { k in
                weights.withUnsafeBytes { w in
                    xq.withUnsafeBytes { q in
                        var rowsOut: [Float] = [], panelsOut: [UInt32] = []
                        for r in Swift.stride(from: 0, to: rows, by: 4) {
                            for s in 0..<3 { rowsOut.append(k.dotq!(w.baseAddress! + r * rowBytes, q.baseAddress! + s * stride, Int64(cols))) }
                            for count in [1, 3, 4, 5, 8, 16] {
                                var y = [Float](repeating: .nan, count: count)
                                k.dotq_rows!(w.baseAddress! + r * rowBytes, q.baseAddress! + 7 * stride, Int64(stride), Int32(count), &y, Int64(cols))
                                rowsOut += y
                                // Each row of a batch gets the one-row kernel's bits (a sequence decodes alike alone or batched).
                                for t in 0..<count {
                                    let one = k.dotq!(w.baseAddress! + r * rowBytes, q.baseAddress! + (7 + t) * stride, Int64(cols))
                                    if one.bitPattern != y[t].bitPattern { batchedDiffers += 1 }
                                }
                            }
                        }
                        if let panels = k.panels {
                            var y = [Float](repeating: .nan, count: tokens * (rows - 3))
                            panels(w.baseAddress!, Int64(rowBytes), q.baseAddress!, Int64(stride), Int64(tokens), &y,
                                   Int64(rows - 3), 3, Int64(rows), Int64(cols))
                            panelsOut = y.map(\.bitPattern)
                        }
                        return (rowsOut, panelsOut)
                    }
                }
            }
            // Q8_0's panels (VNNI paths) against their plain twin, which no table holds.
            var twin = plain
            if t.type == 8 { twin.panels = vpg_matmul_panels_q8_0_generic }
            let want = products(twin)
            let avx2 = products(try #require(Self.tables.first { $0.0.hasPrefix("avx2") }).1.pointee.typeRow(t.type))
            #expect(!want.rows.contains { $0.isNaN } && !want.panels.contains(Float.nan.bitPattern))
            for (label, table) in Self.tables {
                let got = products(table.pointee.typeRow(t.type))
                // The row kernels add their block sums in another order than the plain twin: the AVX2 path's bits,
                // and within f32 rounding of the twin.
                let differ = zip(got.rows, avx2.rows).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differ == 0, "\(label) type \(t.type): \(differ) of \(got.rows.count) row results differ from AVX2's")
                let scale = want.rows.map(abs).max()!
                let worst = zip(got.rows, want.rows).map { abs($0 - $1) }.max()! / scale
                #expect(worst < 1e-5, "\(label) type \(t.type): row results off the generic twin's by \(worst)")
                let panels = zip(got.panels, want.panels).filter { $0 != $1 }.count
                let expected = t.type == 8 && label.hasPrefix("avx2") ? 0 : want.panels.count
                #expect(got.panels.count == expected && panels == 0,
                        "\(label) type \(t.type): \(panels) of \(want.panels.count) panel results differ from the generic twin's")
            }
            #expect(batchedDiffers == 0, "type \(t.type): \(batchedDiffers) batched row results differ from the one-row kernel's")
        }
    }

    /// The trainer's Q7 panels, with the extremes (±64 weights against activations of 1 and 127); rows 2..<75 (ten
    /// stored panels: more than one pass, and a last one without a partner on AVX-512).
    @Test func q7Panels() {
        var rng = SplitMix(seed: Self.seed &+ 2)
        let rows = 75, cols = 96, tokens = 67, records = cols / 32, panels = (rows + 7) / 8
        let panelBytes = records * MemoryLayout<vpg_q7_panel>.stride
        // Records are read as aligned vectors (TransposedWeight allocates them 64-byte aligned).
        let raw = UnsafeMutableRawPointer.allocate(byteCount: panels * panelBytes, alignment: 64)
        defer { raw.deallocate() }
        let store = raw.bindMemory(to: vpg_q7_panel.self, capacity: panels * records)
        store.initialize(repeating: vpg_q7_panel(), count: panels * records)
        for r in 0..<rows {
            for c in 0..<records {
                let q = (0..<32).map { i in r == 0 ? Int8(i % 2 == 0 ? 64 : -64) : Int8.random(in: -64...64, using: &rng) }
                vpg_q7_panel_set(store + (r / 8) * records + c, Int32(r % 8), Float.random(in: 0.001...0.01, using: &rng), q)
            }
        }
        var x = (0..<(tokens * cols)).map { _ in Float.random(in: -1...1, using: &rng) }
        for i in 0..<cols { x[i] = i % 2 == 0 ? 1 : -1 }
        let stride = records * MemoryLayout<vpg_q8_32>.stride
        let xq = Self.run(tokens * stride) { out in
            for t in 0..<tokens { Self.generic.pointee.quantize_q7!(x.withUnsafeBufferPointer { $0.baseAddress! + t * cols }, out + t * stride, Int64(cols)) }
        }
        let product: (UnsafePointer<vpg_kernel_table>) -> [UInt32] = { table in
            var y = [Float](repeating: .nan, count: tokens * (rows - 2))
            do {
                xq.withUnsafeBytes { q in
                    table.pointee.panels_q7!(raw, Int64(panelBytes), q.baseAddress!, Int64(stride), Int64(tokens), &y,
                                             Int64(rows - 2), 2, Int64(rows), Int64(cols))
                }
            }
            return y.map(\.bitPattern)
        }
        let want = product(Self.generic)
        #expect(!want.contains(Float.nan.bitPattern))
        for (label, table) in Self.tables {
            let differ = zip(product(table), want).filter { $0 != $1 }.count
            #expect(differ == 0, "\(label) Q7 panels: \(differ) of \(want.count) results differ from the generic twin's")
        }
    }

    @Test func softmaxExp() {
        var rng = SplitMix(seed: Self.seed &+ 3)
        for n in [1, 7, 8, 67, 1000] {
            var x = (0..<n).map { _ in Float.random(in: -90...10, using: &rng) }
            if n > 8 { x[3] = -.infinity }
            let run: (UnsafePointer<vpg_kernel_table>) -> [UInt32] = { table in
                var y = x, m: Float = 0
                let sum = table.pointee.exp_shifted!(&y, Int64(n), &m)
                return y.map(\.bitPattern) + [m.bitPattern, UInt32(truncatingIfNeeded: sum.bitPattern), UInt32(sum.bitPattern >> 32)]
            }
            let want = run(Self.generic)
            for (label, table) in Self.tables {
                let differ = zip(run(table), want).filter { $0 != $1 }.count
                #expect(differ == 0, "\(label) exp n = \(n): \(differ) of \(want.count) words differ")
            }
        }
    }

    /// SwiGLU on values where the vector exp and the lanes it leaves to the scalar function (|x| ≥ 88, ±∞) meet.
    @Test func swiglu() {
        var rng = SplitMix(seed: Self.seed &+ 5)
        for n in [1, 7, 8, 67, 1000] {
            var gate = (0..<n).map { i in i % 4 == 0 ? Float.random(in: -110...110, using: &rng) : Float.random(in: -9...9, using: &rng) }
            if n > 8 { gate[2] = .infinity; gate[5] = -88.5; gate[6] = 88; gate[7] = 1e-40 }
            let up = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
            let run: (UnsafePointer<vpg_kernel_table>) -> [UInt32] = { table in
                var h = [Float](repeating: .nan, count: n)
                table.pointee.swiglu!(gate, up, &h, Int64(n))
                return h.map(\.bitPattern)
            }
            let want = run(Self.generic)
            for (label, table) in Self.tables {
                let differ = zip(run(table), want).filter { $0 != $1 }.count
                #expect(differ == 0, "\(label) SwiGLU n = \(n): \(differ) of \(n) differ")
            }
            let dh = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
            let backward: (UnsafePointer<vpg_kernel_table>) -> [UInt32] = { table in
                var dgate = [Float](repeating: 0, count: n), dup = dgate
                table.pointee.swiglu_backward!(gate, up, dh, &dgate, &dup, Int64(n))
                return (dgate + dup).map(\.bitPattern)
            }
            let wantBackward = backward(Self.generic)
            for (label, table) in Self.tables {
                let differ = zip(backward(table), wantBackward).filter { $0 != $1 }.count
                #expect(differ == 0, "\(label) SwiGLU backward n = \(n): \(differ) of \(2 * n) differ")
            }
        }
    }

    /// Attention over each cache type: the AVX2 path's bits, and within f32 rounding of the generic loops; a short
    /// context (one block of value rows, an odd key left after the pairs) and a longer one (three blocks, the last
    /// partial) with the 1.5B's six heads per group and a head of 72 (a last single 8-wide slice).
    @Test(arguments: [0, 1, 2], [37, 150])
    func attention(_ cache: Int, _ length: Int) throws {
        var rng = SplitMix(seed: Self.seed &+ 4 &+ UInt64(cache) &+ UInt64(length))
        let group = length < 64 ? 3 : 6, headDim = length < 64 || cache == 2 ? 64 : 72
        let rowBytes = cache == 0 ? headDim * 4 : cache == 1 ? headDim * 2 : headDim / 32 * 34
        let q = (0..<(group * headDim)).map { _ in Float.random(in: -1...1, using: &rng) }
        func cacheRow() -> [UInt8] {
            switch cache {
            case 0: return (0..<headDim).flatMap { _ in withUnsafeBytes(of: Float.random(in: -1...1, using: &rng)) { Array($0) } }
            case 1: return (0..<headDim).flatMap { _ in withUnsafeBytes(of: Float16(Float.random(in: -1...1, using: &rng))) { Array($0) } }
            default:
                return (0..<(headDim / 32)).flatMap { _ in
                    withUnsafeBytes(of: Float16(Float.random(in: 0.001...0.01, using: &rng))) { Array($0) }
                        + (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
                }
            }
        }
        let keys = (0..<length).flatMap { _ in cacheRow() }, values = (0..<length).flatMap { _ in cacheRow() }
        let run: (UnsafePointer<vpg_kernel_table>) -> [Float] = { table in
            var scores = [Float](repeating: 0, count: group * length), out = [Float](repeating: .nan, count: group * headDim)
            keys.withUnsafeBytes { k in
                values.withUnsafeBytes { v in
                    table.pointee.attendKernel(cache)!(q, k.baseAddress!, v.baseAddress!, Int64(rowBytes), Int64(length), Int32(group),
                                                       Int32(headDim), 0.125, &scores, &out)
                }
            }
            return out
        }
        let want = run(Self.generic)
        let avx2 = try #require(Self.tables.first { $0.0.hasPrefix("avx2") }).1
        let avx2Out = run(avx2)
        for (label, table) in Self.tables {
            let got = run(table)
            #expect(got.map(\.bitPattern) == avx2Out.map(\.bitPattern), "\(label) attention cache \(cache)")
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(label) attention cache \(cache) vs generic")
        }
    }

    // ---- helpers

    /// A row of `count` values of a type: random bytes (every pattern is a valid quant) with small finite scales.
    static func randomRow(_ t: (type: Int, bytes: Int, elements: Int, scales: [Int]), count: Int, _ rng: inout SplitMix) -> [UInt8] {
        if t.type == 1 { return (0..<count).flatMap { _ in withUnsafeBytes(of: Float16(Float.random(in: -1...1, using: &rng))) { Array($0) } } }
        if t.type == 30 {   // bf16: the high half of an f32
            return (0..<count).flatMap { _ in withUnsafeBytes(of: UInt16(Float.random(in: -1...1, using: &rng).bitPattern >> 16)) { Array($0) } }
        }
        let blocks = count / t.elements
        var bytes = (0..<(blocks * t.bytes)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for b in 0..<blocks {
            for o in t.scales {
                withUnsafeBytes(of: Float16(Float.random(in: -0.05...0.05, using: &rng))) {
                    bytes[b * t.bytes + o] = $0[0]
                    bytes[b * t.bytes + o + 1] = $0[1]
                }
            }
        }
        return bytes
    }

    static func dequantize(_ table: UnsafePointer<vpg_kernel_table>, _ type: Int, _ row: [UInt8], _ n: Int) -> [UInt32] {
        var out = [Float](repeating: .nan, count: n)
        row.withUnsafeBytes { table.pointee.typeRow(type).dequant!($0.baseAddress!, &out, Int64(n)) }
        return out.map(\.bitPattern)
    }

    /// The bytes a kernel writes into a zeroed buffer of `count` bytes.
    static func run(_ count: Int, _ body: (UnsafeMutableRawPointer) -> Void) -> [UInt8] {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        body(buffer)
        return Array(UnsafeRawBufferPointer(start: buffer, count: count))
    }
}

/// A seeded generator (SplitMix64), so that a failing case can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension vpg_kernel_table {
    /// The row of ggml type `type` (C arrays arrive in Swift as tuples).
    func typeRow(_ type: Int) -> vpg_type_kernels {
        withUnsafeBytes(of: self.type) { $0.bindMemory(to: vpg_type_kernels.self)[type] }
    }

    func attendKernel(_ index: Int) -> vpg_attend_fn? {
        withUnsafeBytes(of: attend) { $0.bindMemory(to: vpg_attend_fn?.self)[index] }
    }
}
