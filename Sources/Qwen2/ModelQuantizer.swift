import Foundation
import GGUF
import Quants

/// What `vpgea-quantize` writes: one type for every matrix, or llama.cpp's Q4_K_M mix.
public enum QuantizationScheme: Equatable, Sendable {
    case uniform(GGMLType)
    /// Q4_K, with Q6_K for the output head and for attn_v / ffn_down in about half of the layers.
    case q4_K_M

    public static let names = ["F32", "F16", "BF16", "Q8_0", "Q5_0", "Q4_0", "Q6_K", "Q4_K", "Q4_K_M"]

    public init?(name: String) {
        if name.uppercased() == "Q4_K_M" { self = .q4_K_M; return }
        guard let t = GGMLType.allCases.first(where: { $0.name.uppercased() == name.uppercased() }),
              Quantize.supported.contains(t) else { return nil }
        self = .uniform(t)
    }

    public var name: String {
        switch self {
        case .uniform(let t): t.name
        case .q4_K_M: "Q4_K_M"
        }
    }

    /// llama.cpp's `general.file_type` for the scheme (what its loader prints as the file's type).
    var fileType: UInt32 {
        switch self {
        case .q4_K_M: 15
        case .uniform(let t):
            switch t {
            case .f32: 0
            case .f16: 1
            case .q4_0: 2
            case .q8_0: 7
            case .q5_0: 8
            case .q4_K: 14   // "Q4_K_S": Q4_K everywhere but the head
            case .q6_K: 18
            case .bf16: 32
            default: 0
            }
        }
    }
}

/// Chooses each tensor's type, with llama.cpp's rules (so that the files are what its users expect):
/// vectors (norms, biases) stay as they are; the output head gets Q6_K when the scheme has fewer bits; a
/// 256-value k-quant that does not divide a row falls back to Q5_0 (for Q4_K) or Q8_0 (for Q6_K), any other
/// type that does not to F16; in Q4_K_M, the i-th attn_v and the i-th ffn_down *in file order* get Q6_K when
/// i is in the first or last eighth or every third one between (this reproduces the published Qwen2.5 Q4_K_M
/// files, whose tensors are in name order: blk.0, blk.1, blk.10, …).
public struct QuantizationPlan {
    public let scheme: QuantizationScheme
    private var attnVSeen = 0, ffnDownSeen = 0
    private let attnVCount: Int, ffnDownCount: Int
    /// No output matrix: the embeddings are the output's too and take its type (as llama.cpp does).
    private let tied: Bool

    public init(scheme: QuantizationScheme, tensorNames: [String]) {
        self.scheme = scheme
        let roles = tensorNames.compactMap { Qwen2Tensor.parse($0) }.filter { !$0.isBias }.map(\.role)
        attnVCount = roles.count(where: { $0 == .attnV })
        ffnDownCount = roles.count(where: { $0 == .ffnDown })
        tied = !roles.contains(.output)
    }

    static func moreBits(_ i: Int, _ n: Int) -> Bool { i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2 }

    /// The type for the next tensor (call in file order). `dims` are fastest-varying first.
    public mutating func type(name: String, dims: [Int], current: GGMLType) -> GGMLType {
        guard dims.count >= 2, dims.count(where: { $0 > 1 }) >= 2 else { return current }
        let tensor = Qwen2Tensor.parse(name), role = tensor?.isBias == false ? tensor?.role : nil
        var type: GGMLType
        switch scheme {
        case .uniform(let t): type = t
        case .q4_K_M:
            type = .q4_K
            if role == .attnV {
                if Self.moreBits(attnVSeen, attnVCount) { type = .q6_K }
                attnVSeen += 1
            } else if role == .ffnDown {
                if Self.moreBits(ffnDownSeen, ffnDownCount) { type = .q6_K }
                ffnDownSeen += 1
            }
        }
        let head = role == .output || (tied && role == .tokenEmbedding)
        if head, Double(type.format.bytesPerBlock * 8) / Double(type.format.blockSize) < 6 { type = .q6_K }
        if dims[0] % type.format.blockSize != 0 {
            type = switch type {
            case .q4_K: .q5_0
            case .q6_K: .q8_0
            default: type
            }
        }
        return dims[0] % type.format.blockSize == 0 ? type : .f16
    }
}

/// Rewrites a GGUF model with its matrices in other quantized types: each row is dequantized to f32 and
/// quantized again (a tensor already in its target type is copied untouched).
public enum ModelQuantizer {
    public struct Change: Sendable {
        public let name: String
        public let from: GGMLType, to: GGMLType
    }

    public static func plan(_ file: GGUFFile, _ scheme: QuantizationScheme) -> [Change] {
        var plan = QuantizationPlan(scheme: scheme, tensorNames: file.tensors.map(\.name))
        return file.tensors.map { Change(name: $0.name, from: $0.type, to: plan.type(name: $0.name, dims: $0.dims, current: $0.type)) }
    }

    /// - Parameter progress: (tensors done, tensors in all), called while writing.
    @discardableResult
    public static func write(_ file: GGUFFile, scheme: QuantizationScheme, to path: String,
                             progress: ((Int, Int) -> Void)? = nil) throws -> [Change] {
        let changes = plan(file, scheme)
        var writer = try GGUFWriter(copying: file)
        writer.set("general.file_type", .uint32(scheme.fileType))
        writer.set("general.quantization_version", .uint32(2))
        for (info, change) in zip(file.tensors, changes) where change.to != change.from {
            let n = info.dims[0], rows = info.elementCount / n
            guard info.type.format.canDequantize else { throw Dequantize.Failure.unsupported(info.type) }
            let inRow = info.type.format.rowBytes(n)!, outRow = change.to.format.rowBytes(n)!
            try writer.replaceTensor(name: info.name, type: change.to, dims: info.dims, byteCount: outRow * rows) {
                var out = [UInt8](repeating: 0, count: outRow * rows)   // [rows, outRow] quantized rows
                let source = UInt(bitPattern: file.data(of: info).baseAddress!)
                // Rows are independent: split them over the cores (the k-quant scale searches are slow).
                out.withUnsafeMutableBytes { dst in
                    let target = UInt(bitPattern: dst.baseAddress!)
                    let parts = min(rows, 8 * ProcessInfo.processInfo.activeProcessorCount)
                    DispatchQueue.concurrentPerform(iterations: parts) { p in
                        var values = [Float](repeating: 0, count: n)    // [n] one row in f32
                        values.withUnsafeMutableBufferPointer { v in
                            for r in rows * p / parts..<rows * (p + 1) / parts {
                                Dequantize.unchecked(info.type, UnsafeRawPointer(bitPattern: source + UInt(r * inRow))!, v.baseAddress!, count: n)
                                Quantize.row(change.to, v.baseAddress!, UnsafeMutableRawPointer(bitPattern: target + UInt(r * outRow))!, count: n)
                            }
                        }
                    }
                }
                return out
            }
        }
        try writer.write(to: path, progress: progress)
        return changes
    }
}
