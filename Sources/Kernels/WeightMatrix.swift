import Quants

/// A weight matrix as stored in the file: `rows` rows of `cols` elements of `type`, row-major, read in place
/// from the memory mapping.
public struct WeightMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let data: UnsafeRawPointer      // [rows, rowBytes] bytes
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int

    public init(type: GGMLType, data: UnsafeRawPointer, rows: Int, cols: Int) {
        self.type = type
        self.data = data
        self.rows = rows
        self.cols = cols
        self.rowBytes = type.format.rowBytes(cols) ?? 0
    }

    /// Dequantizes row `r` into `out` (`[cols]` f32).
    @inline(__always) public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        Dequantize.unchecked(type, data + r * rowBytes, out, count: cols)
    }
}
