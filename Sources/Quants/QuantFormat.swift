/// One row of the format table: how a type is laid out, and what the runtime can do with it.
public struct QuantFormat: Sendable {
    /// Elements per block (1 for plain scalar types).
    public let blockSize: Int
    /// Bytes per block.
    public let bytesPerBlock: Int
    /// The 8-bit activation format a weight of this type is dotted with (ggml's `vec_dot_type`);
    /// `nil` for types that are not used as matmul weights.
    public let dotType: GGMLType?
    /// Whether `Dequantize.row` implements this type.
    public let canDequantize: Bool

    /// Bytes of a row of `count` elements, or `nil` if `count` is not a whole number of blocks or overflows.
    public func rowBytes(_ count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }
}

/// Super-block size of the k-quants.
public let QK_K = 256

extension GGMLType {
    /// The format table: one entry per type. Sizes follow ggml's `type_traits`.
    public var format: QuantFormat {
        switch self {
        case .f32: QuantFormat(blockSize: 1, bytesPerBlock: 4, dotType: .f32, canDequantize: true)
        case .f16: QuantFormat(blockSize: 1, bytesPerBlock: 2, dotType: .f16, canDequantize: true)
        case .bf16: QuantFormat(blockSize: 1, bytesPerBlock: 2, dotType: .bf16, canDequantize: true)
        case .f64: QuantFormat(blockSize: 1, bytesPerBlock: 8, dotType: nil, canDequantize: false)
        case .i8: QuantFormat(blockSize: 1, bytesPerBlock: 1, dotType: nil, canDequantize: false)
        case .i16: QuantFormat(blockSize: 1, bytesPerBlock: 2, dotType: nil, canDequantize: false)
        case .i32: QuantFormat(blockSize: 1, bytesPerBlock: 4, dotType: nil, canDequantize: false)
        case .i64: QuantFormat(blockSize: 1, bytesPerBlock: 8, dotType: nil, canDequantize: false)
        case .q4_0: QuantFormat(blockSize: 32, bytesPerBlock: 18, dotType: .q8_0, canDequantize: true)
        case .q4_1: QuantFormat(blockSize: 32, bytesPerBlock: 20, dotType: .q8_1, canDequantize: true)
        case .q5_0: QuantFormat(blockSize: 32, bytesPerBlock: 22, dotType: .q8_0, canDequantize: true)
        case .q5_1: QuantFormat(blockSize: 32, bytesPerBlock: 24, dotType: .q8_1, canDequantize: true)
        case .q8_0: QuantFormat(blockSize: 32, bytesPerBlock: 34, dotType: .q8_0, canDequantize: true)
        case .q8_1: QuantFormat(blockSize: 32, bytesPerBlock: 36, dotType: .q8_1, canDequantize: false)
        case .q2_K: QuantFormat(blockSize: 256, bytesPerBlock: 84, dotType: .q8_K, canDequantize: true)
        case .q3_K: QuantFormat(blockSize: 256, bytesPerBlock: 110, dotType: .q8_K, canDequantize: true)
        case .q4_K: QuantFormat(blockSize: 256, bytesPerBlock: 144, dotType: .q8_K, canDequantize: true)
        case .q5_K: QuantFormat(blockSize: 256, bytesPerBlock: 176, dotType: .q8_K, canDequantize: true)
        case .q6_K: QuantFormat(blockSize: 256, bytesPerBlock: 210, dotType: .q8_K, canDequantize: true)
        case .q8_K: QuantFormat(blockSize: 256, bytesPerBlock: 292, dotType: nil, canDequantize: true)
        // Known so that files using them are described accurately; not computed with.
        case .iq2_xxs: QuantFormat(blockSize: 256, bytesPerBlock: 66, dotType: nil, canDequantize: false)
        case .iq2_xs: QuantFormat(blockSize: 256, bytesPerBlock: 74, dotType: nil, canDequantize: false)
        case .iq3_xxs: QuantFormat(blockSize: 256, bytesPerBlock: 98, dotType: nil, canDequantize: false)
        case .iq1_s: QuantFormat(blockSize: 256, bytesPerBlock: 50, dotType: nil, canDequantize: false)
        case .iq4_nl: QuantFormat(blockSize: 32, bytesPerBlock: 18, dotType: nil, canDequantize: false)
        case .iq3_s: QuantFormat(blockSize: 256, bytesPerBlock: 110, dotType: nil, canDequantize: false)
        case .iq2_s: QuantFormat(blockSize: 256, bytesPerBlock: 82, dotType: nil, canDequantize: false)
        case .iq4_xs: QuantFormat(blockSize: 256, bytesPerBlock: 136, dotType: nil, canDequantize: false)
        case .iq1_m: QuantFormat(blockSize: 256, bytesPerBlock: 56, dotType: nil, canDequantize: false)
        case .tq1_0: QuantFormat(blockSize: 256, bytesPerBlock: 54, dotType: nil, canDequantize: false)
        case .tq2_0: QuantFormat(blockSize: 256, bytesPerBlock: 66, dotType: nil, canDequantize: false)
        case .mxfp4: QuantFormat(blockSize: 32, bytesPerBlock: 17, dotType: nil, canDequantize: false)
        }
    }

    /// The types `Dequantize.row` supports, for error messages.
    public static var dequantizable: [GGMLType] { allCases.filter { $0.format.canDequantize } }
}
