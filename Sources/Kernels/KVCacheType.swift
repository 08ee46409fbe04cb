import Quants

/// How a key/value cache stores its rows: f32 (exact), f16 (llama.cpp's default; half the memory and
/// bandwidth) or q8_0 (blocks of 32 values along each head, a quarter plus scales).
public enum KVCacheType: String, CaseIterable, Sendable {
    case f32, f16, q8_0

    public var ggmlType: GGMLType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .q8_0: .q8_0
        }
    }

    /// Bytes of `count` consecutive values (a whole number of blocks).
    public func bytes(_ count: Int) -> Int { ggmlType.format.rowBytes(count)! }

    /// Whether rows of `headDim` values can be stored (q8_0 blocks must not straddle heads).
    public func fits(headDim: Int) -> Bool { headDim % ggmlType.format.blockSize == 0 }
}
