/// Scalar quantization from f32, following the reference implementations that gguf-py's
/// `gguf.quants.quantize` mirrors (ggml's `quantize_row_*_ref`): the same f32 operations, so the bytes are
/// identical. Types: F32, F16, BF16, Q8_0, Q4_0, Q5_0, and Q4_K, Q6_K (QuantizeK.swift).
public enum Quantize {
    public static let supported: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q5_0, .q4_K, .q6_K]

    /// Quantizes `count` values (a whole number of blocks) into `dst` (`type.format.rowBytes(count)` bytes).
    public static func row(_ type: GGMLType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        precondition(supported.contains(type) && count % type.format.blockSize == 0)
        switch type {
        case .f32: dst.copyMemory(from: src, byteCount: count * 4)
        case .f16: for i in 0..<count { dst.storeBytes(of: Float16(src[i]).bitPattern, toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16: for i in 0..<count { dst.storeBytes(of: bf16(src[i]), toByteOffset: 2 * i, as: UInt16.self) }
        case .q8_0: for b in 0..<count / 32 { q8_0(src + 32 * b, dst + 34 * b) }
        case .q4_0: for b in 0..<count / 32 { q4_0(src + 32 * b, dst + 18 * b) }
        case .q5_0: for b in 0..<count / 32 { q5_0(src + 32 * b, dst + 22 * b) }
        case .q4_K: for b in 0..<count / 256 { q4_K(src + 256 * b, dst + 144 * b) }
        case .q6_K: for b in 0..<count / 256 { q6_K(src + 256 * b, dst + 210 * b) }
        default: break
        }
    }

    /// Round half away from zero (numpy `np_roundf` in gguf-py, C `roundf`).
    @inline(__always) static func roundAway(_ x: Float) -> Float { x.rounded(.toNearestOrAwayFromZero) }

    /// bf16 with round-to-nearest-even; NaN stays a quiet NaN (as gguf-py).
    static func bf16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 64) }
        let rounded = bits &+ (0x7FFF &+ ((bits >> 16) & 1))
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// d = max|x| / 127, q = round(x · (1/d)); d stored as f16.
    static func q8_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for i in 0..<32 { amax = max(amax, abs(x[i])) }
        let d = amax / 127
        let id: Float = d == 0 ? 0 : 1 / d
        out.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
        for i in 0..<32 {
            let q = roundAway(x[i] * id)
            out.storeBytes(of: Int8(q), toByteOffset: 2 + i, as: Int8.self)
        }
    }

    /// The signed value of largest magnitude (the first one on ties).
    @inline(__always) static func signedMax(_ x: UnsafePointer<Float>) -> Float {
        var best: Float = 0, bestAbs: Float = -1
        for i in 0..<32 where abs(x[i]) > bestAbs {
            bestAbs = abs(x[i])
            best = x[i]
        }
        return best
    }

    /// d = max / −8, q = clamp(trunc(x/d + 8.5), 0, 15); low nibbles hold elements 0–15, high nibbles 16–31.
    static func q4_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        let d = signedMax(x) / -8
        let id: Float = d == 0 ? 0 : 1 / d
        out.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
        func q(_ i: Int) -> UInt8 { UInt8(min(max((x[i] * id + 8.5).rounded(.towardZero), 0), 15)) }
        for j in 0..<16 { out.storeBytes(of: q(j) | q(j + 16) << 4, toByteOffset: 2 + j, as: UInt8.self) }
    }

    /// d = max / −16, q = clamp(trunc(x/d + 16.5), 0, 31); 4 low bits as in Q4_0, the fifth bits packed in qh.
    static func q5_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        let d = signedMax(x) / -16
        let id: Float = d == 0 ? 0 : 1 / d
        out.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
        var q = [UInt8](repeating: 0, count: 32)
        var qh: UInt32 = 0
        for i in 0..<32 {
            q[i] = UInt8(min(max((x[i] * id + 16.5).rounded(.towardZero), 0), 31))
            qh |= UInt32(q[i] >> 4) << UInt32(i)
        }
        out.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        for j in 0..<16 { out.storeBytes(of: (q[j] & 0x0F) | (q[j + 16] << 4), toByteOffset: 6 + j, as: UInt8.self) }
    }
}
