import Foundation
import GGUF
import Quants
import Testing

/// Scalar dequantization against gguf-py (`gguf.quants.dequantize`), bit for bit.
/// Fixture: Tools/oracles/make_fixtures.py (real rows of both real models, and generated blocks).
@Suite struct DequantizeTests {
    static let fixture: GGUFFile = {
        let url = Bundle.module.url(forResource: "Fixtures/dequant-reference.gguf", withExtension: "bin")!
        return try! GGUFFile(path: url.path)
    }()

    static var cases: [String] {
        fixture.tensors.map(\.name).filter { $0.hasSuffix(".raw") }.map { String($0.dropLast(4)) }
    }

    @Test(arguments: cases)
    func matchesGGUFPy(_ name: String) throws {
        let file = Self.fixture
        let raw = try file.tensor(name + ".raw"), expected = try file.tensor(name + ".expected")
        #expect(raw.dims == expected.dims)
        let want = file.data(of: expected).bindMemory(to: Float.self)
        var got = [Float](repeating: .nan, count: raw.elementCount)
        let rowBytes = try #require(raw.type.format.rowBytes(raw.rowLength))
        let bytes = file.data(of: raw)
        got.withUnsafeMutableBufferPointer { out in
            for r in 0..<raw.rowCount {
                try? Dequantize.row(raw.type, bytes.baseAddress! + r * rowBytes,
                                    out.baseAddress! + r * raw.rowLength, count: raw.rowLength)
            }
        }
        var mismatches = 0
        for i in 0..<got.count where got[i].bitPattern != want[i].bitPattern && !(got[i].isNaN && want[i].isNaN) {
            mismatches += 1
        }
        #expect(mismatches == 0, "\(name): \(mismatches) of \(got.count) values differ from gguf-py")
    }

    @Test func everyListedTypeIsCovered() {
        let covered = Set(Self.fixture.tensors.filter { $0.name.hasSuffix(".raw") }.map(\.type))
        let listed: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0,
                                  .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K]
        for type in listed { #expect(covered.contains(type), "no fixture for \(type.name)") }
        // Real rows of both real models for every type they store.
        let real = Set(Self.fixture.tensors.filter { $0.name.hasPrefix("real.") }.map(\.type))
        #expect(real.isSuperset(of: [.f32, .q5_0, .q8_0, .q6_K, .q4_K]))
    }

    @Test func rejectsWhatItCannotDo() {
        #expect(throws: Dequantize.Failure.self) { try Dequantize.row(.iq2_xs, bytes: [UInt8](repeating: 0, count: 74), count: 256) }
        #expect(throws: Dequantize.Failure.self) { try Dequantize.row(.q4_0, bytes: [UInt8](repeating: 0, count: 18), count: 31) }
        #expect(throws: Dequantize.Failure.self) { try Dequantize.row(.q4_0, bytes: [UInt8](repeating: 0, count: 17), count: 32) }
    }

    @Test func formatTableMatchesGGMLSizes() {
        // Block sizes and bytes from ggml's type traits (as in gguf-py's GGML_QUANT_SIZES).
        let sizes: [GGMLType: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2), .q4_0: (32, 18), .q4_1: (32, 20), .q5_0: (32, 22),
            .q5_1: (32, 24), .q8_0: (32, 34), .q8_1: (32, 36), .q2_K: (256, 84), .q3_K: (256, 110),
            .q4_K: (256, 144), .q5_K: (256, 176), .q6_K: (256, 210), .q8_K: (256, 292),
        ]
        for (type, (block, bytes)) in sizes {
            #expect(type.format.blockSize == block && type.format.bytesPerBlock == bytes, "\(type.name)")
        }
        #expect(GGMLType(name: "q4_k") == .q4_K)
        #expect(GGMLType(name: "Q8_0") == .q8_0)
        #expect(GGMLType(name: "nope") == nil)
    }
}
