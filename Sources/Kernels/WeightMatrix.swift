import CKernels
import Quants

/// A weight matrix as stored in the file: `rows` rows of `cols` elements of `type`, row-major, read in place
/// from the memory mapping.
public struct WeightMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let data: UnsafeRawPointer      // [rows, rowBytes] bytes
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    /// The C row kernel for this type on the best path (bit-identical to `Dequantize`), if there is one.
    private let rowKernel: vpg_dequant_fn?

    public init(type: GGMLType, data: UnsafeRawPointer, rows: Int, cols: Int) {
        self.type = type
        self.data = data
        self.rows = rows
        self.cols = cols
        self.rowBytes = type.format.rowBytes(cols) ?? 0
        rowKernel = vpg_dequant_kernel(Int32(type.rawValue), KernelPath.selected.rawValue)
    }

    /// Dequantizes row `r` into `out` (`[cols]` f32).
    @inline(__always) public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        if let rowKernel { rowKernel(data + r * rowBytes, out, Int64(cols)) } else { Dequantize.unchecked(type, data + r * rowBytes, out, count: cols) }
    }
}
