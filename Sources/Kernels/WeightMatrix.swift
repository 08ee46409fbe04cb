import CKernels
import Foundation
import Quants

/// A weight matrix: `rows` rows of `cols` elements of `type`, row-major as stored in the file and read in place from
/// the memory mapping, or (Q4_0, Q5_0, Q8_0, Q4_K and Q6_K on a path with kernels for them) in a copy interleaved by
/// sixteen rows (`interleaved`), or (F16, BF16) in a copy as stored in 2 MiB pages.
/// Every product, `dequantizeRow` and `dequantizeRows` give the same bits either way.
public struct WeightMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let data: UnsafeRawPointer      // [rows, rowBytes] bytes (interleaved: the same bytes, rearranged)
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    /// Rows rearranged by `vpg_repack_x16`: each block's scales are decoded sixteen rows at a time in vector lanes and
    /// one vector of weights serves sixteen rows, so one-token products are bound by memory instead of by per-row
    /// instructions.
    public let interleaved: Bool
    /// The C row kernel for this type on the best path (bit-identical to `Dequantize`), if there is one.
    private let rowKernel: vpg_dequant_fn?
    /// Owns `data` when it is a copy (interleaved, or as stored).
    private let copy: MatrixCopy?

    public init(type: GGMLType, data: UnsafeRawPointer, rows: Int, cols: Int) {
        self.init(type: type, data: data, rows: rows, cols: cols, copy: nil, interleaved: false)
    }

    private init(type: GGMLType, data: UnsafeRawPointer, rows: Int, cols: Int, copy: MatrixCopy?, interleaved: Bool) {
        self.type = type
        self.data = data
        self.rows = rows
        self.cols = cols
        self.rowBytes = type.format.rowBytes(cols) ?? 0
        self.copy = copy
        self.interleaved = interleaved
        rowKernel = vpg_dequant_kernel(Int32(type.rawValue), KernelPath.selected.rawValue)
    }

    /// Whether this matrix's bytes are a copy of the file's (interleaved, or as stored in 2 MiB pages).
    public var isCopy: Bool { copy != nil }

    /// Whether new models interleave their matrices of those types where `KernelPath.selected` has kernels for that layout
    /// (commands: `VPGEA_INTERLEAVE=0` keeps the stored rows, e.g. to compare speeds).
    nonisolated(unsafe) public static var interleavesByDefault = true

    /// Whether copies ask the operating system for 2 MiB pages (Linux: transparent huge pages on request), and F16 and
    /// BF16 matrices are copied at all: generation reads every matrix once per token, and with 4 KiB pages it walked
    /// the page tables every 4 KiB; the pages cost some time at load (Benchmarks/README.md). Commands:
    /// `VPGEA_HUGE_PAGES=0` asks for none (F16 and BF16 matrices are then read in place).
    nonisolated(unsafe) public static var hugePagesByDefault = true

    /// Whether `type` has an interleaved layout (Q4_0, Q5_0, Q8_0, Q4_K, Q6_K).
    public static func interleaves(_ type: GGMLType) -> Bool { [.q4_0, .q5_0, .q8_0, .q4_K, .q6_K].contains(type) }

    /// Whether matrices of `type` are copied as stored into 2 MiB pages (F16, BF16): they have no interleaved layout,
    /// and their one-token products, bound by memory, read the file's 4 KiB pages more slowly (Benchmarks/README.md).
    public static func copiesAsStored(_ type: GGMLType) -> Bool { type == .f16 || type == .bf16 }

    /// This matrix interleaved by sixteen rows when its type has the layout, its row count allows it and `path` has
    /// its own kernels for it; copied as stored into 2 MiB pages when its type takes that (`copiesAsStored`, unless
    /// `hugePagesByDefault` is off); itself otherwise. The copy takes as many bytes as the matrix; `done(bytes)` is
    /// told each range of the source that has been copied (so that a caller can drop those pages as it goes).
    public func interleavedForKernels(path: KernelPath = .selected, done: ((Range<Int>) -> Void)? = nil) -> WeightMatrix {
        guard Self.interleavesByDefault, copy == nil, rowBytes > 0 else { return self }
        if Self.copiesAsStored(type) { return Self.hugePagesByDefault ? copied(interleave: false, done: done) : self }
        guard Self.interleaves(type), rows % 16 == 0, vpg_x16_native(Int32(type.rawValue), path.rawValue) != 0 else {
            return self
        }
        return interleavedCopy(done: done)
    }

    /// This matrix interleaved by sixteen rows (a type that has the layout; rows a multiple of 16), whatever the path.
    public func interleavedCopy(done: ((Range<Int>) -> Void)? = nil) -> WeightMatrix {
        precondition(Self.interleaves(type) && rows % 16 == 0 && copy == nil)
        return copied(interleave: true, done: done)
    }

    /// This matrix copied (`interleave`: rearranged by sixteen rows; else as stored) into memory of its own, 1,024
    /// rows at a time on every core (a model loads before anything else runs), each piece reported to `done` as a
    /// byte range of the source (from the thread that copied it: several at once).
    private func copied(interleave: Bool, done: ((Range<Int>) -> Void)?) -> WeightMatrix {
        let copy = MatrixCopy(bytes: rows * rowBytes)
        let pieces = (rows + 1023) / 1024
        parallelFor(parts: pieces, threads: min(pieces, ProcessInfo.processInfo.activeProcessorCount)) { p in
            let r0 = p * 1024, count = min(1024, rows - r0), offset = r0 * rowBytes
            if interleave {
                vpg_repack_x16(Int32(type.rawValue), data + offset, copy.data + offset, Int64(count), Int64(cols))
            } else {
                (copy.data + offset).copyMemory(from: data + offset, byteCount: count * rowBytes)
            }
            done?(offset..<(offset + count * rowBytes))
        }
        return WeightMatrix(type: type, data: copy.data, rows: rows, cols: cols, copy: copy, interleaved: interleave)
    }

    /// Dequantizes row `r` into `out` (`[cols]` f32).
    @inline(__always) public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        if interleaved {
            withStoredRow(r) { dequantize($0, into: out) }
        } else {
            dequantize(data + r * rowBytes, into: out)
        }
    }

    /// Dequantizes rows `r0..<r1` into `out` (`[r1 − r0, cols]` f32), the same values as `dequantizeRow` row by row:
    /// interleaved Q4_0, Q5_0 and Q8_0 rows are read in place, sixteen at a time where the path has a kernel for it.
    public func dequantizeRows(_ r0: Int, _ r1: Int, into out: UnsafeMutablePointer<Float>) {
        if interleaved, vpg_dequant_x16_rows(Int32(type.rawValue), KernelPath.selected.rawValue, data, Int64(rowBytes),
                                             Int64(r0), Int64(r1), out, Int64(cols)) != 0 { return }
        for r in r0..<r1 { dequantizeRow(r, into: out + (r - r0) * cols) }
    }

    /// Calls `body` with row `r` as stored in the file (`[rowBytes]`; interleaved: a temporary copy).
    @inline(__always) public func withStoredRow<T>(_ r: Int, _ body: (UnsafeRawPointer) -> T) -> T {
        guard interleaved else { return body(data + r * rowBytes) }
        return withUnsafeTemporaryAllocation(byteCount: rowBytes, alignment: 64) { row in
            vpg_unpack_x16_row(Int32(type.rawValue), data, Int64(rowBytes), Int64(r), row.baseAddress!, Int64(cols))
            return body(UnsafeRawPointer(row.baseAddress!))
        }
    }

    @inline(__always) private func dequantize(_ row: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        if let rowKernel { rowKernel(row, out, Int64(cols)) } else { Dequantize.unchecked(type, row, out, count: cols) }
    }
}

/// The memory of a copied matrix (interleaved, or as stored), freed with the last matrix that uses it.
final class MatrixCopy: @unchecked Sendable {
    let data: UnsafeMutableRawPointer   // [bytes]
    private let bytes: Int
    init(bytes: Int) {
        self.bytes = max(bytes, 1)
        guard let memory = vpg_alloc_streamed(self.bytes, WeightMatrix.hugePagesByDefault ? 1 : 0) else {
            fatalError("out of memory: \(bytes) bytes for a copy of a weight matrix")
        }
        data = memory
    }
    deinit { vpg_free_streamed(data, bytes) }
}
