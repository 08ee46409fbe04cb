/// Scalar reference dequantization: the plain, obvious twins that every fast kernel is tested against.
/// The arithmetic (operand order, no fused multiply-add) follows ggml's reference code so that the results are
/// bit-identical to `gguf.quants.dequantize`.
public enum Dequantize {
    public enum Failure: Error, CustomStringConvertible {
        case unsupported(GGMLType)
        case notWholeBlocks(GGMLType, count: Int)
        public var description: String {
            switch self {
            case .unsupported(let t):
                "tensor type \(t.name) cannot be dequantized; supported types are "
                    + GGMLType.dequantizable.map(\.name).joined(separator: ", ")
            case .notWholeBlocks(let t, let n):
                "\(n) elements are not a whole number of \(t.name) blocks of \(t.format.blockSize)"
            }
        }
    }

    /// Dequantizes `count` elements stored as `type` at `src` into `dst`.
    /// - Parameters:
    ///   - src: `count / blockSize` blocks of `bytesPerBlock` bytes each.
    ///   - dst: `[count]` f32.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>,
                           count: Int) throws(Failure) {
        try check(type, count: count)
        unchecked(type, src, dst, count: count)
    }

    /// Convenience: dequantizes a byte array into a new float array.
    public static func row(_ type: GGMLType, bytes: [UInt8], count: Int) throws(Failure) -> [Float] {
        try check(type, count: count)
        guard let need = type.format.rowBytes(count), need <= bytes.count else {
            throw .notWholeBlocks(type, count: count)
        }
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { dst in unchecked(type, src.baseAddress!, dst.baseAddress!, count: count) }
        }
        return out
    }

    static func check(_ type: GGMLType, count: Int) throws(Failure) {
        guard type.format.canDequantize else { throw .unsupported(type) }
        guard count % type.format.blockSize == 0 else { throw .notWholeBlocks(type, count: count) }
    }

    /// The loop over blocks, for a type and count that `check` accepted (the caller guarantees both).
    public static func unchecked(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        let format = type.format
        for b in 0..<count / format.blockSize {
            let x = src + b * format.bytesPerBlock
            let y = dst + b * format.blockSize
            switch type {
            case .f32: y.pointee = x.loadUnaligned(as: Float.self)
            case .f16: y.pointee = halfToFloat(x.loadUnaligned(as: UInt16.self))
            case .bf16: y.pointee = bf16ToFloat(x.loadUnaligned(as: UInt16.self))
            case .q4_0: q4_0(x, y)
            case .q4_1: q4_1(x, y)
            case .q5_0: q5_0(x, y)
            case .q5_1: q5_1(x, y)
            case .q8_0: q8_0(x, y)
            case .q2_K: q2_K(x, y)
            case .q3_K: q3_K(x, y)
            case .q4_K: q4_K(x, y)
            case .q5_K: q5_K(x, y)
            case .q6_K: q6_K(x, y)
            case .q8_K: q8_K(x, y)
            default: preconditionFailure("check(_:count:) admits only dequantizable types")
            }
        }
    }
}

// MARK: - Scalar helpers

@inline(__always) public func halfToFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }
@inline(__always) public func floatToHalf(_ value: Float) -> UInt16 { Float16(value).bitPattern }
@inline(__always) public func bf16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

@inline(__always) func f16(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}
@inline(__always) func u8(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
    p.load(fromByteOffset: offset, as: UInt8.self)
}
@inline(__always) func i8(_ p: UnsafeRawPointer, _ offset: Int) -> Int8 {
    p.load(fromByteOffset: offset, as: Int8.self)
}

/// The 6-bit scale and min of sub-block `j` (0..<8) packed in the 12 scale bytes of Q4_K / Q5_K.
@inline(__always) func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (scale: Float, min: Float) {
    if j < 4 {
        return (Float(u8(q, j) & 63), Float(u8(q, j + 4) & 63))
    }
    let d = (u8(q, j + 4) & 0xF) | ((u8(q, j - 4) >> 6) << 4)
    let m = (u8(q, j + 4) >> 4) | ((u8(q, j) >> 6) << 4)
    return (Float(d), Float(m))
}

// MARK: - Block formats (32-element blocks)

// Q4_0: d f16 | qs[16]: low nibbles are elements 0..15, high nibbles 16..31, offset 8.
@inline(__always) func q4_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 0)
    for j in 0..<16 {
        let q = u8(x, 2 + j)
        y[j] = d * Float(Int8(q & 0xF) - 8)
        y[j + 16] = d * Float(Int8(q >> 4) - 8)
    }
}

// Q4_1: d f16 | m f16 | qs[16]; value = d·q + m.
@inline(__always) func q4_1(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 0), m = f16(x, 2)
    for j in 0..<16 {
        let q = u8(x, 4 + j)
        y[j] = d * Float(q & 0xF) + m
        y[j + 16] = d * Float(q >> 4) + m
    }
}

// Q5_0: d f16 | qh u32 (bit i = high bit of element i) | qs[16]; offset 16.
@inline(__always) func q5_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 0)
    let qh = x.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
    for j in 0..<16 {
        let q = u8(x, 6 + j)
        let h0 = UInt8((qh >> UInt32(j)) & 1) << 4
        let h1 = UInt8((qh >> UInt32(j + 16)) & 1) << 4
        y[j] = d * Float(Int8((q & 0xF) | h0) - 16)
        y[j + 16] = d * Float(Int8((q >> 4) | h1) - 16)
    }
}

// Q5_1: d f16 | m f16 | qh u32 | qs[16]; value = d·q + m.
@inline(__always) func q5_1(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 0), m = f16(x, 2)
    let qh = x.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    for j in 0..<16 {
        let q = u8(x, 8 + j)
        let h0 = UInt8((qh >> UInt32(j)) & 1) << 4
        let h1 = UInt8((qh >> UInt32(j + 16)) & 1) << 4
        y[j] = d * Float((q & 0xF) | h0) + m
        y[j + 16] = d * Float((q >> 4) | h1) + m
    }
}

// Q8_0: d f16 | qs[32] i8.
@inline(__always) func q8_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 0)
    for j in 0..<32 { y[j] = Float(i8(x, 2 + j)) * d }
}

// MARK: - k-quants (256-element super-blocks)

// Q2_K: scales[16] (low nibble scale, high nibble min) | qs[64] (2 bits) | d f16 | dmin f16.
@inline(__always) func q2_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 80), dmin = f16(x, 82)
    var out = 0
    for half in 0..<2 {                 // two halves of 128 elements, 32 qs bytes each
        let q = 16 + half * 32
        for shiftIndex in 0..<4 {
            let shift = UInt8(shiftIndex * 2)
            for part in 0..<2 {           // 16 elements per scale
                let sc = u8(x, half * 8 + shiftIndex * 2 + part)
                let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                for l in 0..<16 {
                    y[out] = dl * Float((u8(x, q + part * 16 + l) >> shift) & 3) - ml
                    out += 1
                }
            }
        }
    }
}

// Q3_K: hmask[32] | qs[64] (low 2 bits) | scales[12] (16 × 6-bit, offset 32) | d f16.
@inline(__always) func q3_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 108)
    var scales = [Int8](repeating: 0, count: 16)
    for i in 0..<16 {
        let low = (u8(x, 96 + (i % 8)) >> (4 * UInt8(i / 8))) & 0xF
        let high = (u8(x, 96 + 8 + (i % 4)) >> (2 * UInt8(i / 4))) & 3
        scales[i] = Int8(bitPattern: low | (high << 4)) &- 32
    }
    for i in 0..<256 {
        let scale = scales[i / 16]
        let half = i / 128, within = i % 128
        let shift = UInt8(within / 32) * 2, l = within % 32
        let low = Int8((u8(x, 32 + half * 32 + l) >> shift) & 3)
        let highSet = (u8(x, l) >> UInt8(i / 32)) & 1 == 1
        y[i] = (d * Float(scale)) * Float(low - (highSet ? 0 : 4))
    }
}

// Q4_K: d f16 | dmin f16 | scales[12] (8 × 6-bit scale and min) | qs[128].
@inline(__always) func q4_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 0), dmin = f16(x, 2)
    let scales = x + 4
    for chunk in 0..<4 {                 // 64 elements: 32 low nibbles, then 32 high nibbles
        let (s1, m1) = scaleMinK4(2 * chunk, scales)
        let (s2, m2) = scaleMinK4(2 * chunk + 1, scales)
        let d1 = d * s1, dm1 = dmin * m1, d2 = d * s2, dm2 = dmin * m2
        for l in 0..<32 {
            let q = u8(x, 16 + chunk * 32 + l)
            y[chunk * 64 + l] = d1 * Float(q & 0xF) - dm1
            y[chunk * 64 + 32 + l] = d2 * Float(q >> 4) - dm2
        }
    }
}

// Q5_K: d f16 | dmin f16 | scales[12] | qh[32] (fifth bits) | qs[128].
@inline(__always) func q5_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 0), dmin = f16(x, 2)
    let scales = x + 4
    for chunk in 0..<4 {
        let (s1, m1) = scaleMinK4(2 * chunk, scales)
        let (s2, m2) = scaleMinK4(2 * chunk + 1, scales)
        let d1 = d * s1, dm1 = dmin * m1, d2 = d * s2, dm2 = dmin * m2
        for l in 0..<32 {
            let q = u8(x, 48 + chunk * 32 + l), h = u8(x, 16 + l)
            let h1: UInt8 = (h >> UInt8(2 * chunk)) & 1 == 1 ? 16 : 0
            let h2: UInt8 = (h >> UInt8(2 * chunk + 1)) & 1 == 1 ? 16 : 0
            y[chunk * 64 + l] = d1 * Float((q & 0xF) | h1) - dm1
            y[chunk * 64 + 32 + l] = d2 * Float((q >> 4) | h2) - dm2
        }
    }
}

// Q6_K: ql[128] (low 4 bits) | qh[64] (high 2 bits) | scales[16] i8 | d f16; offset 32.
@inline(__always) func q6_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = f16(x, 208)
    for half in 0..<2 {
        let ql = 64 * half, qh = 128 + 32 * half, sc = 192 + 8 * half
        for l in 0..<32 {
            let h = u8(x, qh + l)
            let q1 = Int8((u8(x, ql + l) & 0xF) | ((h & 3) << 4)) - 32
            let q2 = Int8((u8(x, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32
            let q3 = Int8((u8(x, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32
            let q4 = Int8((u8(x, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32
            let s = l / 16
            let base = 128 * half
            y[base + l] = (d * Float(i8(x, sc + s))) * Float(q1)
            y[base + l + 32] = (d * Float(i8(x, sc + s + 2))) * Float(q2)
            y[base + l + 64] = (d * Float(i8(x, sc + s + 4))) * Float(q3)
            y[base + l + 96] = (d * Float(i8(x, sc + s + 6))) * Float(q4)
        }
    }
}

// Q8_K: d f32 | qs[256] i8 | bsums[16] i16 (sums of 16 quants, used by dot products only).
@inline(__always) func q8_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = x.loadUnaligned(as: Float.self)
    for j in 0..<256 { y[j] = d * Float(i8(x, 4 + j)) }
}
