import CKernels
import Foundation

/// A frozen weight's transpose in 7 bits, stored as the integer panel kernel reads it (`vpg_q7_panel` records of
/// eight rows × 32 columns: q = round(w/d), d = max|w|/63 over each row's 32), so that the backward product
/// `dX = dY·W` runs in integers instead of dequantized panels and sgemm, with nothing unpacked per product. Row k
/// holds column k of the weight; its blocks run along the weight's rows. The copy re-rounds the stored weights
/// (error ≤ d/2 each, on top of their own quantization): a trainer's option, not its default.
public final class TransposedWeight: @unchecked Sendable {
    /// Rows of the transpose: the weight's columns (the features of dX).
    public let rows: Int
    /// Columns of the transpose: the weight's rows (the reduction of the product), a multiple of 32.
    public let cols: Int
    /// Bytes of one panel of eight rows (the last panel's rows past `rows` are zero).
    public let panelBytes: Int
    public let data: UnsafeMutableRawPointer   // [⌈rows/8⌉ panels, cols/32] vpg_q7_panel

    static let recordBytes = MemoryLayout<vpg_q7_panel>.stride

    /// Nil when the weight's row count is not a multiple of 32 (the caller keeps the exact product).
    public init?(_ weight: WeightMatrix, threads: Int = 1) {
        guard weight.rows % 32 == 0, weight.rows > 0 else { return nil }
        rows = weight.cols
        cols = weight.rows
        panelBytes = cols / 32 * Self.recordBytes
        let bytes = (rows + 7) / 8 * panelBytes
        data = .allocate(byteCount: bytes, alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        let k = rows, stride = panelBytes, out = data
        let tiles = (0..<max(threads, 1)).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: 32 * k) }
        defer { tiles.forEach { $0.deallocate() } }
        let slots = SlotPool(count: tiles.count)
        // Block column j of the transpose = weight rows 32j..32j+31; each j writes its own records.
        parallelFor(parts: cols / 32, threads: tiles.count) { j in
            let slot = slots.acquire()
            defer { slots.release(slot) }
            let tile = tiles[slot]   // [32, k] f32: weight rows 32j..32j+31
            weight.dequantizeRows(32 * j, 32 * j + 32, into: tile)
            for c in 0..<k {
                let record = (out + c / 8 * stride + j * Self.recordBytes).assumingMemoryBound(to: vpg_q7_panel.self)
                Self.quantizeColumn(tile + c, stride: k, into: record, row: c % 8)
            }
        }
    }

    deinit { data.deallocate() }

    /// Bytes this copy holds.
    public var byteCount: Int { (rows + 7) / 8 * panelBytes }

    /// Row `row` of a record from 32 values `stride` floats apart.
    @inline(__always) static func quantizeColumn(_ x: UnsafePointer<Float>, stride: Int,
                                                 into record: UnsafeMutablePointer<vpg_q7_panel>, row: Int) {
        var amax: Float = 0
        for i in 0..<32 { amax = max(amax, abs(x[i * stride])) }
        let d = amax / 63, id = d > 0 ? 1 / d : 0
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 32) { q in
            for i in 0..<32 {
                // Round half to even by adding 1.5·2²³ (|x·id| ≤ 63): the integer lands in the low mantissa bits.
                let rounded = Int32(bitPattern: (x[i * stride] * id + 12_582_912).bitPattern) - 0x4B40_0000
                q[i] = Int8(min(max(rounded, -63), 63))
            }
            vpg_q7_panel_set(record, Int32(row), d, q.baseAddress!)
        }
    }

    /// Element (r, c) of the transpose as stored (for tests; reads the layout `vpg_q7_panel` documents).
    public func value(_ r: Int, _ c: Int) -> Float {
        let record = data + r / 8 * panelBytes + c / 32 * Self.recordBytes
        let k = r % 8, e = c % 32
        let d = record.load(fromByteOffset: 256 + 4 * k, as: Float.self)
        // Byte 32·(2·(e/8) + h) + 8s + e%8 holds row (s & 1) + 2h + 4(s >> 1).
        let h = (k >> 1) & 1, s = (k & 1) | (k >> 2) << 1
        return d * Float(record.load(fromByteOffset: 32 * (2 * (e / 8) + h) + 8 * s + e % 8, as: Int8.self))
    }
}
