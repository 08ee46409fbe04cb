import Foundation

/// Q4_K and Q6_K from f32, following ggml's reference quantizers (`quantize_row_q4_K_ref`,
/// `quantize_row_q6_K_ref`, what llama.cpp uses without an importance matrix): a search for each
/// sub-block's scale (and minimum), the scales themselves quantized to 6 or 8 bits under one f16 super-scale,
/// then every value re-rounded against the stored scales. The operations are written in the same order, so the
/// bytes are llama.cpp's except where its compiler fused a multiply-add differently (tested against
/// `ggml_quantize_chunk`).
extension Quantize {
    /// Round half to even for |x| < 2²², as ggml's `nearest_int`: adding 1.5·2²³ leaves the rounded integer in
    /// the low mantissa bits (no library call, no overflow check: the scale search calls this billions of times).
    @inline(__always) static func nearest(_ x: Float) -> Int {
        Int(Int32(bitPattern: (x + 12_582_912).bitPattern & 0x007F_FFFF) - 0x0040_0000)
    }

    // MARK: Q4_K — 256 values: f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins, 128 bytes of nibbles.

    static func q4_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var levels = [UInt8](repeating: 0, count: 256)    // [256] 4-bit level of each value
        var scales = [Float](repeating: 0, count: 8)      // [8] sub-block scale
        var mins = [Float](repeating: 0, count: 8)        // [8] sub-block minimum, negated (≥ 0)
        var weights = [Float](repeating: 0, count: 32)    // [32] error weight of each value of a sub-block
        var maxScale: Float = 0, maxMin: Float = 0
        for j in 0..<8 {
            let xs = x + 32 * j
            var sumSquares: Float = 0
            for l in 0..<32 { sumSquares += xs[l] * xs[l] }
            let average = (sumSquares / 32).squareRoot()
            for l in 0..<32 { weights[l] = average + abs(xs[l]) }
            levels.withUnsafeMutableBufferPointer { L in
                (scales[j], mins[j]) = scaleAndMinimum(xs, weights, count: 32, levels: L.baseAddress! + 32 * j,
                                                       maxLevel: 15, rmin: -1, rdelta: 0.1, steps: 20)
            }
            maxScale = max(maxScale, scales[j])
            maxMin = max(maxMin, mins[j])
        }
        let inverseScale: Float = maxScale > 0 ? 63 / maxScale : 0
        let inverseMin: Float = maxMin > 0 ? 63 / maxMin : 0
        var packed = [UInt8](repeating: 0, count: 12)     // [12] 6-bit scales and mins
        for j in 0..<8 {
            // As ggml: the rounded value is stored to a byte first, then capped.
            let ls = min(63, UInt8(truncatingIfNeeded: nearest(inverseScale * scales[j])))
            let lm = min(63, UInt8(truncatingIfNeeded: nearest(inverseMin * mins[j])))
            if j < 4 {
                packed[j] = ls
                packed[j + 4] = lm
            } else {
                packed[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
                packed[j - 4] |= (ls >> 4) << 6
                packed[j] |= (lm >> 4) << 6
            }
        }
        let d = Float16(maxScale / 63), dmin = Float16(maxMin / 63)
        out.storeBytes(of: d.bitPattern, as: UInt16.self)
        out.storeBytes(of: dmin.bitPattern, toByteOffset: 2, as: UInt16.self)
        for k in 0..<12 { out.storeBytes(of: packed[k], toByteOffset: 4 + k, as: UInt8.self) }
        // Re-round every value against the scales as stored (read back with the dequantizer's unpacking).
        for j in 0..<8 {
            let (sc, m) = scaleMinK4(j, UnsafeRawPointer(out + 4))
            let dj = Float(d) * sc
            if dj == 0 { continue }
            let mj = Float(dmin) * m
            for i in 0..<32 { levels[32 * j + i] = UInt8(min(max(nearest((x[32 * j + i] + mj) / dj), 0), 15)) }
        }
        for chunk in 0..<4 {
            for l in 0..<32 {
                let byte = levels[64 * chunk + l] | (levels[64 * chunk + l + 32] << 4)
                out.storeBytes(of: byte, toByteOffset: 16 + 32 * chunk + l, as: UInt8.self)
            }
        }
    }

    /// Weighted least-squares fit of x ≈ scale·L − min over levels 0…maxLevel (ggml's `make_qkx2_quants`
    /// without the absolute-error option): start from the min–max grid, then try `steps` + 1 other grid widths
    /// and keep the fit with the smallest weighted squared error. Returns (scale, −min).
    static func scaleAndMinimum(_ x: UnsafePointer<Float>, _ w: [Float], count n: Int, levels L: UnsafeMutablePointer<UInt8>,
                                maxLevel: Int, rmin: Float, rdelta: Float, steps: Int) -> (Float, Float) {
        var lo = x[0], hi = x[0]
        var sumW = w[0]
        var sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < lo { lo = x[i] }
            if x[i] > hi { hi = x[i] }
            sumW += w[i]
            sumX += w[i] * x[i]
        }
        if lo > 0 { lo = 0 }
        if hi == lo {
            for i in 0..<n { L[i] = 0 }
            return (0, -lo)
        }
        let nmax = Float(maxLevel)
        var iscale = nmax / (hi - lo)
        var scale = 1 / iscale
        var bestError: Float = 0
        for i in 0..<n {
            L[i] = UInt8(min(max(nearest(iscale * (x[i] - lo)), 0), maxLevel))
            let diff = scale * Float(L[i]) + lo - x[i]
            bestError += w[i] * (diff * diff)
        }
        var trial = [UInt8](repeating: 0, count: n)   // [n] levels of the grid being tried
        for step in 0...steps {
            iscale = (rmin + rdelta * Float(step) + nmax) / (hi - lo)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = min(max(nearest(iscale * (x[i] - lo)), 0), maxLevel)
                trial[i] = UInt8(l)
                let fl = Float(l)
                sumL += w[i] * fl
                sumL2 += w[i] * fl * fl
                sumXL += w[i] * fl * x[i]
            }
            let det = sumW * sumL2 - sumL * sumL
            guard det > 0 else { continue }
            var thisScale = (sumW * sumXL - sumX * sumL) / det
            var thisMin = (sumL2 * sumX - sumL * sumXL) / det
            if thisMin > 0 {
                thisMin = 0
                thisScale = sumXL / sumL2
            }
            var error: Float = 0
            for i in 0..<n {
                let diff = thisScale * Float(trial[i]) + thisMin - x[i]
                error += w[i] * (diff * diff)
            }
            if error < bestError {
                for i in 0..<n { L[i] = trial[i] }
                bestError = error
                scale = thisScale
                lo = thisMin
            }
        }
        return (scale, -lo)
    }

    // MARK: Q6_K — 256 values: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8 scales, f16 d.

    static func q6_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var levels = [Int8](repeating: 0, count: 256)   // [256] level + 32 of each value (0…63)
        var scales = [Float](repeating: 0, count: 16)   // [16] signed scale of each 16-value sub-block
        var maxScale: Float = 0, maxAbsScale: Float = 0
        for b in 0..<16 {
            levels.withUnsafeMutableBufferPointer { L in
                scales[b] = symmetricScale(x + 16 * b, count: 16, levels: L.baseAddress! + 16 * b, maxLevel: 32)
            }
            if abs(scales[b]) > maxAbsScale {
                maxAbsScale = abs(scales[b])
                maxScale = scales[b]
            }
        }
        guard maxAbsScale != 0 else {
            out.initializeMemory(as: UInt8.self, repeating: 0, count: 210)
            return
        }
        let iscale = -128 / maxScale
        let d = Float16(1 / iscale)
        out.storeBytes(of: d.bitPattern, toByteOffset: 208, as: UInt16.self)
        var stored = [Int8](repeating: 0, count: 16)    // [16] 8-bit sub-block scales
        for b in 0..<16 {
            stored[b] = Int8(min(127, nearest(iscale * scales[b])))
            out.storeBytes(of: stored[b], toByteOffset: 192 + b, as: Int8.self)
        }
        for b in 0..<16 {
            let db = Float(d) * Float(stored[b])
            if db == 0 { continue }
            for i in 0..<16 { levels[16 * b + i] = Int8(min(max(nearest(x[16 * b + i] / db), -32), 31) + 32) }
        }
        for half in 0..<2 {
            let L = 128 * half, ql = 64 * half, qh = 128 + 32 * half
            for l in 0..<32 {
                let q1 = UInt8(levels[L + l]), q2 = UInt8(levels[L + l + 32])
                let q3 = UInt8(levels[L + l + 64]), q4 = UInt8(levels[L + l + 96])
                out.storeBytes(of: (q1 & 0xF) | ((q3 & 0xF) << 4), toByteOffset: ql + l, as: UInt8.self)
                out.storeBytes(of: (q2 & 0xF) | ((q4 & 0xF) << 4), toByteOffset: ql + l + 32, as: UInt8.self)
                let high = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
                out.storeBytes(of: high, toByteOffset: qh + l, as: UInt8.self)
            }
        }
    }

    /// Symmetric scale for levels −maxLevel…maxLevel−1 weighted by x² (ggml's `make_qx_quants`, error type 1):
    /// the grid through the largest-magnitude value, then 18 nearby grids, keeping the best weighted fit.
    /// Writes level + maxLevel into `L` and returns the scale.
    static func symmetricScale(_ x: UnsafePointer<Float>, count n: Int, levels L: UnsafeMutablePointer<Int8>, maxLevel: Int) -> Float {
        var peak: Float = 0, peakAbs: Float = 0
        for i in 0..<n where abs(x[i]) > peakAbs {
            peakAbs = abs(x[i])
            peak = x[i]
        }
        if peakAbs < 1e-30 {
            for i in 0..<n { L[i] = 0 }
            return 0
        }
        let nmax = Float(maxLevel)
        func level(_ v: Float, _ iscale: Float) -> Int { min(max(nearest(iscale * v), -maxLevel), maxLevel - 1) }
        var iscale = -nmax / peak
        var sumLX: Float = 0, sumL2: Float = 0
        for i in 0..<n {
            let l = level(x[i], iscale)
            L[i] = Int8(l + maxLevel)
            let w = x[i] * x[i], fl = Float(l)
            sumLX += w * x[i] * fl
            sumL2 += w * fl * fl
        }
        var scale = sumLX / sumL2
        var best = scale * sumLX
        for step in -9...9 where step != 0 {
            iscale = -(nmax + 0.1 * Float(step)) / peak
            sumLX = 0
            sumL2 = 0
            for i in 0..<n {
                let w = x[i] * x[i], fl = Float(level(x[i], iscale))
                sumLX += w * x[i] * fl
                sumL2 += w * fl * fl
            }
            if sumL2 > 0, sumLX * sumLX > best * sumL2 {
                for i in 0..<n { L[i] = Int8(level(x[i], iscale) + maxLevel) }
                scale = sumLX / sumL2
                best = scale * sumLX
            }
        }
        return scale
    }
}
