import Foundation
import Quants
import Testing
import TestSupport

/// Our quantizers against gguf-py's (`gguf.quants.quantize`), byte for byte, on awkward values: ties for the
/// largest magnitude, negative maxima, all-zero blocks, halves that round, tiny and huge magnitudes.
@Suite struct QuantizeTests {
    static func values(rows: Int, row: Int) -> [Float] {
        var state: UInt64 = 42
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        var v = (0..<rows * row).map { i -> Float in
            switch (i / 32) % 6 {
            case 0: return uniform()
            case 1: return uniform() * 1e-3
            case 2: return uniform() * 300
            case 3: return Float(Int(uniform() * 8)) / 2          // many exact halves and ties
            case 4: return 0
            default: return uniform() < 0 ? -1 : uniform() * 0.5   // negative maxima, repeated
            }
        }
        v[5] = -1e-8
        return v
    }

    @Test(arguments: [GGMLType.f16, .bf16, .q8_0, .q4_0, .q5_0])
    func matchesGGUFPy(_ type: GGMLType) throws {
        let rows = 12, row = 256
        var x = Self.values(rows: rows, row: row)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.f32"), output = dir.appendingPathComponent("out.bin")
        try x.withUnsafeBytes { Data($0) }.write(to: input)
        _ = try TestSupport.runOracle("quantize.py", [input.path, type.name, "\(row)", output.path])
        let expected = [UInt8](try Data(contentsOf: output))
        var ours = [UInt8](repeating: 0, count: type.format.rowBytes(rows * row)!)
        ours.withUnsafeMutableBytes { dst in x.withUnsafeMutableBufferPointer { Quantize.row(type, $0.baseAddress!, dst.baseAddress!, count: rows * row) } }
        #expect(ours.count == expected.count)
        let firstDifference = zip(ours, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "\(type.name): first different byte at \(firstDifference ?? -1)")
        // And the round trip stays within the format's step.
        let back = try Dequantize.row(type, bytes: ours, count: rows * row)
        for b in 0..<rows * row / 32 {
            let block = x[b * 32..<(b + 1) * 32], amax = block.map(abs).max()!
            let step: Float = switch type {
            case .q8_0: amax / 127
            case .q4_0: amax / 8
            case .q5_0: amax / 16
            default: amax / 128
            }
            // Half a step (a whole one for Q4_0/Q5_0, whose grid stops one step short on the side opposite the
            // largest magnitude), plus the f16 rounding of the scale (subnormal for tiny blocks) times the largest |q|.
            let scaleError = abs(Float(Float16(step)) - step) * (type == .q8_0 ? 127 : type == .q4_0 ? 8 : 16)
            for i in block.indices { #expect(abs(back[i] - x[i]) <= step * (type == .q8_0 ? 0.5 : 1) + scaleError + step * 1e-5 + 1e-30, "\(type.name) element \(i)") }
        }
    }
}

/// Q4_K and Q6_K against llama.cpp's own quantizer (`ggml_quantize_chunk`, run by
/// Tools/oracles/make_kquant_fixture.py): synthetic blocks of awkward kinds and rows of the real 0.5B model.
@Suite struct KQuantizeTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!)
    }

    @Test(arguments: [GGMLType.q4_K, .q6_K])
    func matchesLlamaCpp(_ type: GGMLType) throws {
        var x: [Float] = try Self.fixture("kquant-input.f32").withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let expected = [UInt8](try Self.fixture(type == .q4_K ? "kquant-q4_K.bin" : "kquant-q6_K.bin"))
        let blockBytes = type.format.rowBytes(256)!, blocks = x.count / 256
        #expect(expected.count == blocks * blockBytes)
        var ours = [UInt8](repeating: 0, count: blocks * blockBytes)
        let count = x.count
        ours.withUnsafeMutableBytes { dst in x.withUnsafeMutableBufferPointer { Quantize.row(type, $0.baseAddress!, dst.baseAddress!, count: count) } }
        var differing: [Int] = []
        for b in 0..<blocks where ours[b * blockBytes..<(b + 1) * blockBytes] != expected[b * blockBytes..<(b + 1) * blockBytes] {
            differing.append(b)
        }
        // Where llama.cpp's compiler fused a multiply-add, a near-tie in the scale search can go the other way:
        // allow a few such blocks, but never a worse fit.
        #expect(differing.count <= blocks / 10, "\(type.name): blocks \(differing) differ from llama.cpp")
        let mine = try Dequantize.row(type, bytes: ours, count: x.count)
        let theirs = try Dequantize.row(type, bytes: expected, count: x.count)
        for b in differing {
            var e1 = 0.0, e2 = 0.0
            for i in b * 256..<(b + 1) * 256 {
                e1 += Double(mine[i] - x[i]) * Double(mine[i] - x[i])
                e2 += Double(theirs[i] - x[i]) * Double(theirs[i] - x[i])
            }
            #expect(e1 <= e2 * 1.02 + 1e-12, "\(type.name) block \(b): squared error \(e1) vs llama.cpp \(e2)")
        }
    }
}
