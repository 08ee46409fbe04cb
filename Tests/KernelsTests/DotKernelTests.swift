import CKernels
import Foundation
import Kernels
import Quants
import Testing

/// Every fused dot kernel on every path this CPU supports, against the scalar dequantization (the reference
/// twin) and a Double dot product; odd block counts included.
@Suite struct DotKernelTests {
    static let types: [GGMLType] = [.q4_0, .q5_0, .q8_0, .q4_K, .q6_K]
    static let paths: [Int32] = [Int32(VPG_PATH_GENERIC.rawValue), Int32(VPG_PATH_AVX2.rawValue)].filter { vpg_path_supported($0) != 0 }

    /// Random blocks with small finite scales (random bytes elsewhere are all valid quants).
    static func randomRow(_ type: GGMLType, blocks: Int) -> [UInt8] {
        let f = type.format
        var bytes = (0..<(blocks * f.bytesPerBlock)).map { _ in UInt8.random(in: 0...255) }
        let scaleOffsets: [Int] = switch type {
        case .q6_K: [208]
        case .q4_K: [0, 2]
        default: [0]
        }
        for b in 0..<blocks {
            for o in scaleOffsets {
                let h = floatToHalf(Float.random(in: -0.05...0.05))
                bytes[b * f.bytesPerBlock + o] = UInt8(h & 0xFF)
                bytes[b * f.bytesPerBlock + o + 1] = UInt8(h >> 8)
            }
        }
        return bytes
    }

    @Test(arguments: types, [1, 3, 7])
    func kernelsMatchTheScalarReference(_ type: GGMLType, _ blocks: Int) throws {
        #expect(Self.paths.contains(Int32(VPG_PATH_GENERIC.rawValue)))
        let n = blocks * type.format.blockSize
        for _ in 0..<20 {
            let row = Self.randomRow(type, blocks: blocks)
            let x = (0..<n).map { _ in Float.random(in: -2...2) }
            let w = try Dequantize.row(type, bytes: row, count: n)
            let want = zip(w, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let scale = zip(w, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) } + 1e-6
            for path in Self.paths {
                let dot = try #require(vpg_dot_kernel(Int32(type.rawValue), path))
                let got = row.withUnsafeBytes { r in x.withUnsafeBufferPointer { dot(r.baseAddress!, $0.baseAddress!, Int64(n)) } }
                #expect(abs(Double(got) - want) / scale < 1e-5, "\(type.name) path \(path): \(got) vs \(want)")
            }
        }
    }

    @Test func typesWithoutKernelsUseThePanelPath() {
        #expect(vpg_dot_kernel(Int32(GGMLType.q2_K.rawValue), Int32(VPG_PATH_GENERIC.rawValue)) == nil)
        let m = MatMul(threads: 1)
        #expect(m.hasFusedKernel(.q5_0) && !m.hasFusedKernel(.q3_K))
    }
}
