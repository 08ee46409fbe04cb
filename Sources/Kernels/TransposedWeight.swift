import CKernels
import Foundation

/// A frozen weight's transpose in 7 bits (`VPG_Q7_BYTES` per 32 weights: f16 scale d, then q = round(w/d) + 64
/// with d = max|w|/63 over the 32), so that the backward product `dX = dY·W` runs in the integer panel kernels
/// instead of dequantized panels and sgemm. Row k holds column k of the weight; its blocks run along the weight's
/// rows. The copy re-rounds the stored weights (error ≤ d/2 each, on top of their own quantization): a trainer's
/// option, not its default.
public final class TransposedWeight: @unchecked Sendable {
    /// Rows of the transpose: the weight's columns (the features of dX).
    public let rows: Int
    /// Columns of the transpose: the weight's rows (the reduction of the product), a multiple of 32.
    public let cols: Int
    public let rowBytes: Int
    public let data: UnsafeMutableRawPointer   // [rows, rowBytes] bytes

    /// Nil when the weight's row count is not a multiple of 32 (the caller keeps the exact product).
    public init?(_ weight: WeightMatrix, threads: Int = 1) {
        guard weight.rows % 32 == 0, weight.rows > 0 else { return nil }
        rows = weight.cols
        cols = weight.rows
        rowBytes = cols / 32 * Int(VPG_Q7_BYTES)
        data = .allocate(byteCount: rows * rowBytes, alignment: 64)
        let k = rows, bytes = rowBytes, out = data
        let tiles = (0..<max(threads, 1)).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: 32 * k) }
        defer { tiles.forEach { $0.deallocate() } }
        let slots = SlotPool(count: tiles.count)
        // Block column j of the transpose = weight rows 32j..32j+31.
        parallelFor(parts: cols / 32, threads: tiles.count) { j in
            let slot = slots.acquire()
            defer { slots.release(slot) }
            let tile = tiles[slot]   // [32, k] f32: weight rows 32j..32j+31
            for i in 0..<32 { weight.dequantizeRow(32 * j + i, into: tile + i * k) }
            for c in 0..<k { Self.quantizeColumn(tile + c, stride: k, into: out + c * bytes + j * Int(VPG_Q7_BYTES)) }
        }
    }

    deinit { data.deallocate() }

    /// Bytes this copy holds.
    public var byteCount: Int { rows * rowBytes }

    /// One block from 32 values `stride` floats apart.
    @inline(__always) static func quantizeColumn(_ x: UnsafePointer<Float>, stride: Int, into block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for i in 0..<32 { amax = max(amax, abs(x[i * stride])) }
        let d = amax / 63, id = d > 0 ? 1 / d : 0
        block.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
        let q = (block + 2).assumingMemoryBound(to: UInt8.self)
        for i in 0..<32 {
            // Round half to even by adding 1.5·2²³ (|x·id| ≤ 63): the integer lands in the low mantissa bits.
            let rounded = Int32(bitPattern: (x[i * stride] * id + 12_582_912).bitPattern) - 0x4B40_0000
            q[i] = UInt8(truncatingIfNeeded: min(max(rounded, -63), 63) + 64)
        }
    }

    /// Element (r, c) of the transpose as stored (for tests).
    public func value(_ r: Int, _ c: Int) -> Float {
        let block = data + r * rowBytes + c / 32 * Int(VPG_Q7_BYTES)
        let d = Float(Float16(bitPattern: block.load(as: UInt16.self)))
        return d * Float(Int(block.load(fromByteOffset: 2 + c % 32, as: UInt8.self)) - 64)
    }
}
