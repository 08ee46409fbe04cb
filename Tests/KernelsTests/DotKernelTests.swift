import CKernels
import Foundation
import Kernels
import Quants
import Testing
import TestSupport

/// Every fused dot kernel on every path this CPU supports, against the scalar dequantization (the reference
/// twin) and a Double dot product; odd block counts included.
@Suite(.seededRandom) struct DotKernelTests {
    static let weightTypes: [GGMLType] = [.q4_0, .q5_0, .q8_0, .q4_K, .q6_K]
    static let types: [GGMLType] = [.f16, .bf16] + weightTypes   // f16, bf16: no 8-bit-activation kernel
    static let paths: [Int32] = KernelPath.allCases.filter(\.isSupported).map(\.rawValue)

    /// Random blocks with small finite scales (random bytes elsewhere are all valid quants).
    static func randomRow(_ type: GGMLType, blocks: Int) -> [UInt8] {
        let f = type.format
        if type == .f16 { return (0..<blocks).flatMap { _ in let h = floatToHalf(TestRandom.float(in: -1...1)); return [UInt8(h & 0xFF), UInt8(h >> 8)] } }
        if type == .bf16 { return (0..<blocks).flatMap { _ in let h = TestRandom.float(in: -1...1).bitPattern >> 16; return [UInt8(h & 0xFF), UInt8(h >> 8)] } }
        var bytes = (0..<(blocks * f.bytesPerBlock)).map { _ in TestRandom.byte() }
        let scaleOffsets: [Int] = switch type {
        case .q6_K: [208]
        case .q4_K: [0, 2]
        default: [0]
        }
        for b in 0..<blocks {
            for o in scaleOffsets {
                let h = floatToHalf(TestRandom.float(in: -0.05...0.05))
                bytes[b * f.bytesPerBlock + o] = UInt8(h & 0xFF)
                bytes[b * f.bytesPerBlock + o + 1] = UInt8(h >> 8)
            }
        }
        return bytes
    }

    @Test(arguments: types, [1, 3, 7])
    func kernelsMatchTheScalarReference(_ type: GGMLType, _ blocks: Int) throws {
        #expect(Self.paths.contains(Int32(VPG_PATH_GENERIC.rawValue)))
        // f16 and bf16 rows of 37, 111 and 259 values: whole 8-wide steps and a scalar tail.
        let n = type.format.blockSize == 1 ? blocks * 37 : blocks * type.format.blockSize
        for _ in 0..<20 {
            let row = Self.randomRow(type, blocks: type.format.blockSize == 1 ? n : blocks)
            let x = (0..<n).map { _ in TestRandom.float(in: -2...2) }
            let w = try Dequantize.row(type, bytes: row, count: n)
            let want = zip(w, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let scale = zip(w, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) } + 1e-6
            for path in Self.paths {
                let dot = try #require(vpg_dot_kernel(Int32(type.rawValue), path))
                // With the software prefetch off and on (the F16/BF16 dots have one): the same bits.
                let both = Self.withRowPrefetch { row.withUnsafeBytes { r in x.withUnsafeBufferPointer { dot(r.baseAddress!, $0.baseAddress!, Int64(n)) } } }
                #expect(both.off.bitPattern == both.on.bitPattern, "\(type.name) path \(path): the prefetch changed the result")
                let got = both.on
                #expect(abs(Double(got) - want) / scale < 1e-5, "\(type.name) path \(path): \(got) vs \(want)")
            }
        }
    }

    /// `body` with the kernels' software prefetch off, then on (vpg_set_row_prefetch), the setting restored after.
    static func withRowPrefetch<T>(_ body: () -> T) -> (off: T, on: T) {
        let before = vpg_row_prefetch()
        defer { vpg_set_row_prefetch(before) }
        vpg_set_row_prefetch(0)
        let off = body()
        vpg_set_row_prefetch(1)
        return (off, body())
    }

    @Test func typesWithoutKernelsUseThePanelPath() {
        #expect(vpg_dot_kernel(Int32(GGMLType.q2_K.rawValue), Int32(VPG_PATH_GENERIC.rawValue)) == nil)
        let m = MatMul(threads: 1)
        #expect(m.hasFusedKernel(.q5_0) && !m.hasFusedKernel(.q3_K))
    }
}

/// The 8-bit-activation kernels: activation quantization within half a step, and every kernel on every path
/// against a Double dot of the dequantized weights with the dequantized activations.
@Suite(.seededRandom) struct IntegerDotKernelTests {
    static func quantize(_ x: [Float], block: Int, path: Int32 = 0) -> (bytes: [UInt8], values: [Double]) {
        let n = x.count
        if block == 32 {
            var q = [vpg_q8_32](repeating: vpg_q8_32(), count: n / 32)
            vpg_quantize_kernel(32, path)!(x, &q, Int64(n))
            let values = q.flatMap { b in withUnsafeBytes(of: b.q) { $0.bindMemory(to: Int8.self).map { Double(b.d) * Double($0) } } }
            return (q.withUnsafeBytes { Array($0) }, values)
        }
        var q = [vpg_q8_256](repeating: vpg_q8_256(), count: n / 256)
        vpg_quantize_kernel(256, path)!(x, &q, Int64(n))
        for b in q {
            let ints = withUnsafeBytes(of: b.q) { Array($0.bindMemory(to: Int8.self)) }
            let sums = withUnsafeBytes(of: b.bsums) { Array($0.bindMemory(to: Int16.self)) }
            for g in 0..<16 { #expect(Int(sums[g]) == ints[(16 * g)..<(16 * g + 16)].reduce(0) { $0 + Int($1) }) }
        }
        let values = q.flatMap { b in withUnsafeBytes(of: b.q) { $0.bindMemory(to: Int8.self).map { Double(b.d) * Double($0) } } }
        return (q.withUnsafeBytes { Array($0) }, values)
    }

    @Test(arguments: [32, 256])
    func activationQuantizationIsWithinHalfAStep(_ block: Int) {
        let x = (0..<(block * 3)).map { _ in TestRandom.float(in: -4...4) }
        let (_, values) = Self.quantize(x, block: block)
        for b in 0..<3 {
            let d = Double(x[(b * block)..<((b + 1) * block)].map(abs).max()!) / 127
            for i in (b * block)..<((b + 1) * block) { #expect(abs(values[i] - Double(x[i])) <= d / 2 + 1e-6) }
        }
    }

    /// Every path writes the same bytes, and they are round-half-to-even of x·(1/d) in Float, d = max|x| / 127
    /// (checked on values that land exactly on .5, and on an all-zero block).
    @Test(arguments: [32, 256])
    func activationQuantizationIsTheSameOnEveryPath(_ block: Int) {
        var x = (0..<(block * 3)).map { _ in TestRandom.float(in: -4...4) }
        for i in 0..<block { x[i] = Float(i % 16) - 7.5 }
        x[0] = 127   // d = 1: the others sit exactly halfway between two integers
        for i in block..<(2 * block) { x[i] = 0 }
        let bytes = DotKernelTests.paths.map { IntegerDotKernelTests.quantize(x, block: block, path: $0).bytes }
        #expect(bytes.allSatisfy { $0 == bytes[0] })
        let header = 4, stride = block == 32 ? 36 : 292
        for b in 0..<3 {
            let amax = x[(b * block)..<((b + 1) * block)].map(abs).max()!
            let d = amax / 127, id: Float = d > 0 ? 1 / d : 0
            for i in 0..<block {
                let want = Int8((x[b * block + i] * id).rounded(.toNearestOrEven))
                #expect(Int8(bitPattern: bytes[0][b * stride + header + i]) == want, "block \(b), value \(i)")
            }
        }
    }

    @Test(arguments: DotKernelTests.weightTypes, [1, 3])
    func kernelsMatchDoubleOnQuantizedActivations(_ type: GGMLType, _ blocks: Int) throws {
        let n = blocks * type.format.blockSize
        let block = Int(vpg_dotq_block(Int32(type.rawValue)))
        #expect(block == 32 || block == 256)
        for _ in 0..<20 {
            let row = DotKernelTests.randomRow(type, blocks: blocks)
            let x = (0..<n).map { _ in TestRandom.float(in: -2...2) }
            let (xq, xValues) = Self.quantize(x, block: block)
            let w = try Dequantize.row(type, bytes: row, count: n)
            let want = zip(w, xValues).reduce(0.0) { $0 + Double($1.0) * $1.1 }
            let scale = zip(w, xValues).reduce(0.0) { $0 + abs(Double($1.0) * $1.1) } + 1e-6
            for path in DotKernelTests.paths {
                let dot = try #require(vpg_dotq_kernel(Int32(type.rawValue), path))
                let got = row.withUnsafeBytes { r in xq.withUnsafeBytes { dot(r.baseAddress!, $0.baseAddress!, Int64(n)) } }
                #expect(abs(Double(got) - want) / scale < 1e-5, "\(type.name) path \(path): \(got) vs \(want)")
            }
        }
    }
}

/// The several-row integer kernels (batched generation, prompts): per activation row, bit-identical to the one-row
/// kernel of the same path, for 1…VPG_DOTQ_MAX_ROWS rows and odd block counts; and the row driver over token
/// counts that are not multiples of the row tile.
@Suite(.seededRandom) struct SeveralRowDotKernelTests {
    @Test(arguments: DotKernelTests.weightTypes, [1, 3, 9])
    func eachRowMatchesTheOneRowKernelBitForBit(_ type: GGMLType, _ blocks: Int) throws {
        let n = blocks * type.format.blockSize
        let block = Int(vpg_dotq_block(Int32(type.rawValue)))
        let most = Int(VPG_DOTQ_MAX_ROWS)
        for _ in 0..<4 {
            let row = DotKernelTests.randomRow(type, blocks: blocks)
            let activations = (0..<most).map { _ in IntegerDotKernelTests.quantize((0..<n).map { _ in TestRandom.float(in: -2...2) }, block: block).bytes }
            let stride = activations[0].count
            let packed = activations.flatMap { $0 }
            for path in DotKernelTests.paths {
                let one = try #require(vpg_dotq_kernel(Int32(type.rawValue), path))
                let several = try #require(vpg_dotq_rows_kernel(Int32(type.rawValue), path))
                let want = activations.map { xq in row.withUnsafeBytes { r in xq.withUnsafeBytes { one(r.baseAddress!, $0.baseAddress!, Int64(n)) } } }
                for rows in [1, 2, 3, 4, 5, 7, 8, 13, most] {
                    var got = [Float](repeating: .nan, count: most)
                    row.withUnsafeBytes { r in
                        packed.withUnsafeBytes { several(r.baseAddress!, $0.baseAddress!, Int64(stride), Int32(rows), &got, Int64(n)) }
                    }
                    #expect(got.prefix(rows).map(\.bitPattern) == want.prefix(rows).map(\.bitPattern),
                            "\(type.name) path \(path), \(rows) rows")
                    #expect(got.dropFirst(rows).allSatisfy { $0.isNaN }, "\(type.name): only \(rows) outputs are written")
                }
            }
        }
    }

    @Test(arguments: [1, 6, 11, 37])
    func driverFillsEveryTokenAndRow(_ tokens: Int) throws {
        let type = GGMLType.q4_K, rows = 5, n = 512
        let matrix = (0..<rows).map { _ in DotKernelTests.randomRow(type, blocks: 2) }
        let activations = (0..<tokens).map { _ in IntegerDotKernelTests.quantize((0..<n).map { _ in TestRandom.float(in: -2...2) }, block: 256).bytes }
        let stride = activations[0].count, rowBytes = matrix[0].count
        let path = DotKernelTests.paths.last!
        let one = try #require(vpg_dotq_kernel(Int32(type.rawValue), path))
        let several = try #require(vpg_dotq_rows_kernel(Int32(type.rawValue), path))
        let ld = rows + 2   // [tokens, ld]: rows 1..<4 of the matrix land in columns 0..<3
        var y = [Float](repeating: .nan, count: tokens * ld)
        matrix.flatMap { $0 }.withUnsafeBytes { m in
            activations.flatMap { $0 }.withUnsafeBytes { x in
                vpg_matmul_rows_q(several, m.baseAddress!, Int64(rowBytes), x.baseAddress!, Int64(stride), Int64(tokens),
                                  &y, Int64(ld), 1, 4, Int64(n))
            }
        }
        for t in 0..<tokens {
            for c in 0..<ld {
                let got = y[t * ld + c]
                if c < 3 {
                    let want = matrix[c + 1].withUnsafeBytes { r in activations[t].withUnsafeBytes { one(r.baseAddress!, $0.baseAddress!, Int64(n)) } }
                    #expect(got.bitPattern == want.bitPattern, "token \(t), row \(c + 1)")
                } else {
                    #expect(got.isNaN, "token \(t), column \(c) is outside the rows asked for")
                }
            }
        }
    }
}

/// The C row dequantizers on every path, bit for bit against the scalar reference (itself bit-identical to
/// gguf-py), including odd block counts; F16 over every bit pattern.
@Suite(.seededRandom) struct DequantKernelTests {
    @Test(arguments: DotKernelTests.weightTypes + [.bf16], [1, 3, 7])
    func rowsMatchTheReferenceBitForBit(_ type: GGMLType, _ blocks: Int) throws {
        let n = blocks * type.format.blockSize
        for _ in 0..<20 {
            let row = DotKernelTests.randomRow(type, blocks: blocks)
            let want = try Dequantize.row(type, bytes: row, count: n).map(\.bitPattern)
            for path in DotKernelTests.paths {
                let kernel = try #require(vpg_dequant_kernel(Int32(type.rawValue), path))
                var got = [Float](repeating: .nan, count: n)
                row.withUnsafeBytes { r in got.withUnsafeMutableBufferPointer { kernel(r.baseAddress!, $0.baseAddress!, Int64(n)) } }
                #expect(got.map(\.bitPattern) == want, "\(type.name) path \(path)")
            }
        }
    }

    @Test func f16EveryValue() throws {
        let bytes = (0..<65536).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let want = try Dequantize.row(.f16, bytes: bytes, count: 65536).map(\.bitPattern)
        for path in DotKernelTests.paths {
            let kernel = try #require(vpg_dequant_kernel(Int32(GGMLType.f16.rawValue), path))
            var got = [Float](repeating: 0, count: 65536)
            bytes.withUnsafeBytes { r in got.withUnsafeMutableBufferPointer { kernel(r.baseAddress!, $0.baseAddress!, 65536) } }
            let mismatches = zip(got.map(\.bitPattern), want).enumerated().filter { $0.element.0 != $0.element.1 }
            // NaN payloads may be quieted differently; every number must match exactly.
            #expect(mismatches.allSatisfy { Float(bitPattern: $0.element.1).isNaN && Float(bitPattern: $0.element.0).isNaN },
                    "path \(path): \(mismatches.count) values differ")
        }
    }
}

/// The prompt kernels (eight weight rows per vector step): every path gives the same bits, and the plain twin's
/// sums equal a Double product of the dequantized weights and activations to f32 rounding; odd row ranges (not
/// multiples of 8, starting inside a panel), token counts off the tile and block counts off the chunk.
@Suite(.seededRandom) struct PanelKernelTests {
    @Test(arguments: [GGMLType.q4_0, .q5_0, .q4_K, .q6_K])
    func everyPathAgreesAndMatchesDouble(_ type: GGMLType) throws {
        let kernels = try DotKernelTests.paths.map { try #require(vpg_matmul_panels_kernel(Int32(type.rawValue), $0)) }
        let block = Int(vpg_dotq_block(Int32(type.rawValue)))
        // 67 tokens: a whole 64-token tile and an odd tail.
        let shapes = block == 32 ? [(8, 1, 1, 0, 8), (13, 5, 3, 0, 13), (70, 17, 17, 3, 70), (24, 37, 40, 9, 23), (16, 67, 17, 0, 16)]
                                 : [(8, 1, 1, 0, 8), (13, 5, 3, 0, 13), (70, 17, 5, 3, 70), (24, 19, 2, 9, 23), (16, 67, 3, 0, 16)]
        for (rows, tokens, blocks, r0, r1) in shapes {
            let n = blocks * block
            let matrix = (0..<rows).map { _ in DotKernelTests.randomRow(type, blocks: blocks) }
            let activations = (0..<tokens).map { _ in IntegerDotKernelTests.quantize((0..<n).map { _ in TestRandom.float(in: -2...2) }, block: block) }
            let stride = activations[0].bytes.count, rowBytes = matrix[0].count
            let ld = r1 - r0 + 3   // three columns past the range stay untouched
            let packedRows = matrix.flatMap { $0 }, packedX = activations.flatMap(\.bytes)
            let outputs = kernels.map { kernel in
                var y = [Float](repeating: .nan, count: tokens * ld)
                packedRows.withUnsafeBytes { m in
                    packedX.withUnsafeBytes { x in
                        kernel(m.baseAddress!, Int64(rowBytes), x.baseAddress!, Int64(stride), Int64(tokens), &y, Int64(ld),
                               Int64(r0), Int64(r1), Int64(n))
                    }
                }
                return y
            }
            for y in outputs.dropFirst() {
                #expect(y.map(\.bitPattern) == outputs[0].map(\.bitPattern), "\(type.name) \(rows)×\(n), \(tokens) tokens")
            }
            let w = try matrix.map { try Dequantize.row(type, bytes: $0, count: n).map(Double.init) }
            Self.expectMatchesDouble(outputs[0], weights: w, activations: activations.map(\.values), ld: ld, r0: r0, r1: r1,
                                     type.name)
        }
    }

    /// A panel kernel's output `y` (`[tokens, ld]`, columns past `r1 − r0` untouched NaN) against Double sums of
    /// weight rows r0..<r1 times each token's activations, to f32 rounding.
    static func expectMatchesDouble(_ y: [Float], weights w: [[Double]], activations x: [[Double]], ld: Int, r0: Int, r1: Int,
                                    _ label: String) {
        for t in 0..<x.count {
            for c in 0..<ld {
                let got = y[t * ld + c]
                guard c < r1 - r0 else {
                    #expect(got.isNaN, "column \(c) is outside the rows asked for")
                    continue
                }
                let pairs = zip(w[r0 + c], x[t])
                let want = pairs.reduce(0.0) { $0 + $1.0 * $1.1 }
                let scale = pairs.reduce(0.0) { $0 + abs($1.0 * $1.1) } + 1e-6
                #expect(abs(Double(got) - want) / scale < 1e-5, "\(label) token \(t) row \(r0 + c): \(got) vs \(want)")
            }
        }
    }
}

/// The one decision of how a product runs (MatMul.plan), on every path: f32 weights take sgemm; the types with
/// integer kernels take their row kernels for generation steps of up to 8 sequences (16 for Q4_0, Q5_0, Q4_K and Q6_K
/// on the SIMD paths, whose row products have the panels' numerics, but not AVX2's Q4_K and Q6_K) and prompts of up
/// to 4 tokens,
/// and the panel kernels beyond (not Q8_0: its prompts take 16-bit activations on AVX-512 where the matrix has 1024 rows or more, the exact path elsewhere); exact activations take the
/// fused f32 dots up to 4 tokens and the dequantized panels beyond; types without kernels the dequantized panels (BF16
/// beyond 4 tokens: activations rounded to bf16 where the CPU has AVX512-BF16 and bf16 products are asked for).
@Suite struct ProductPlanTests {
    @Test(arguments: KernelPath.allCases)
    func planOnEveryPath(_ path: KernelPath) {
        func plan(_ type: GGMLType, _ tokens: Int, generation: Bool = false, exact: Bool = false, rows: Int = 1536,
                  bf16Products: Bool = true) -> MatMul.Plan {
            MatMul.plan(type, rows: rows, tokens: tokens, generationStep: generation, exactActivations: exact, path: path,
                        bf16Products: bf16Products)
        }
        #expect(plan(.f32, 1) == .f32Sgemm && plan(.f32, 512, exact: true) == .f32Sgemm)
        for type in [GGMLType.q4_0, .q5_0, .q4_K, .q6_K] {
            #expect(plan(type, 1, generation: true) == .integerRows)
            // AVX2's k-quant panels take two tokens per pass: they beat the rows from ten sequences on.
            let asPanels = path != .generic && !(path == .avx2 && (type == .q4_K || type == .q6_K))
            let rowsMax = asPanels ? 16 : 8
            #expect(plan(type, rowsMax, generation: true) == .integerRows)
            #expect(plan(type, rowsMax + 1, generation: true) == .integerPanels)
            #expect(plan(type, 32, generation: true) == .integerPanels && plan(type, 33, generation: true) == .integerPanels)
            #expect(plan(type, 4) == .integerRows && plan(type, 5) == .integerPanels && plan(type, 512) == .integerPanels)
            #expect(plan(type, 4, exact: true) == .f32Dots && plan(type, 5, exact: true) == .dequantizedSgemm)
        }
        #expect(plan(.q8_0, 1, generation: true) == .integerRows && plan(.q8_0, 16, generation: true) == .integerRows)
        #expect(plan(.q8_0, 32, generation: true) == .integerRows)
        // Q8_0 prompts beyond the few-token rows, and generation steps beyond 32 sequences: 16-bit activations on
        // AVX-512 (where the CPU has it: there Q8_0 is interleaved), sgemm on the other paths (its VNNI panels unused).
        let wide: MatMul.Plan = path == .avx512 && path.isSupported ? .int16Rows : .dequantizedSgemm
        #expect(plan(.q8_0, 4) == .integerRows && plan(.q8_0, 5) == wide && plan(.q8_0, 512) == wide)
        #expect(plan(.q8_0, 33, generation: true) == wide && plan(.q8_0, 512, exact: true) == .dequantizedSgemm)
        #expect(plan(.q8_0, 512, rows: 256) == .dequantizedSgemm && plan(.q8_0, 512, rows: 1024) == wide)   // K, V: exact
        #expect(plan(.f16, 1, generation: true) == .f32Dots && plan(.f16, 64) == .dequantizedSgemm)
        // BF16 beyond the few-token dots: bf16 activations where AVX-512 has AVX512-BF16 (when asked for: by
        // default not on Intel's CPUs), the exact panels elsewhere.
        let bf16Wide: MatMul.Plan = path == .avx512 && vpg_cpu_avx512_bf16() != 0 ? .bf16Products : .dequantizedSgemm
        #expect(plan(.bf16, 1, generation: true) == .f32Dots && plan(.bf16, 4) == .f32Dots)
        #expect(plan(.bf16, 5) == bf16Wide && plan(.bf16, 64) == bf16Wide && plan(.bf16, 9, generation: true) == bf16Wide)
        #expect(plan(.bf16, 64, exact: true) == .dequantizedSgemm && plan(.bf16, 64, bf16Products: false) == .dequantizedSgemm)
        #expect(plan(.q3_K, 1, generation: true) == .dequantizedSgemm)
    }
}
