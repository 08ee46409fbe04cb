import Foundation
import GGUF
import LoRA
import Quants
import Qwen2

/// Writes a copy of a base model with an adapter merged into its weights, `W' = W + scale·B·A`, re-quantized.
public enum MergedExport {
    /// What type a merged weight is written in: `keep` uses the original type when vpgea can quantize it
    /// (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K) and Q8_0 otherwise.
    public enum Target: Equatable, Sendable {
        case keep
        case type(GGMLType)
    }

    public static func outputType(for original: GGMLType, _ target: Target) -> GGMLType {
        switch target {
        case .type(let t): t
        case .keep: Quantize.supported.contains(original) ? original : .q8_0
        }
    }

    /// - Returns: the tensors whose type changed, as `(name, from, to)`.
    @discardableResult
    public static func write(base: GGUFFile, adapter: LoRAAdapter, to path: String, target: Target = .keep,
                             progress: ((Int, Int) -> Void)? = nil) throws -> [(String, GGMLType, GGMLType)] {
        var writer = try GGUFWriter(copying: base)
        writer.set("general.name", .string(((try? base.header.string("general.name")) ?? "model") + " + LoRA (merged)"))
        let scale = adapter.effectiveScale, r = adapter.config.rank
        var changed: [(String, GGMLType, GGMLType)] = []
        for s in adapter.slots {
            let name = "blk.\(s.layer).\(s.target.ggufName).weight"
            let info = try base.tensor(name)
            let type = outputType(for: info.type, target)
            guard Quantize.supported.contains(type), let rowBytes = type.format.rowBytes(s.inFeatures) else {
                throw AdapterError("cannot write \(name) as \(type.name): supported are " + Quantize.supported.map(\.name).joined(separator: ", "))
            }
            if type != info.type { changed.append((name, info.type, type)) }
            let source = base.data(of: info).baseAddress!, sourceRowBytes = info.type.format.rowBytes(s.inFeatures)!
            let a = adapter.parameters + s.aOffset, b = adapter.parameters + s.bOffset   // A [r, in], B [out, r]
            try writer.replaceTensor(name: name, type: type, dims: info.dims, byteCount: rowBytes * s.outFeatures) {
                var out = [UInt8](repeating: 0, count: rowBytes * s.outFeatures)
                var row = [Float](repeating: 0, count: s.inFeatures)
                out.withUnsafeMutableBytes { dst in
                    row.withUnsafeMutableBufferPointer { w in
                        for o in 0..<s.outFeatures {
                            Dequantize.unchecked(info.type, source + o * sourceRowBytes, w.baseAddress!, count: s.inFeatures)
                            for k in 0..<r {
                                let c = scale * b[o * r + k], ak = a + k * s.inFeatures
                                for j in 0..<s.inFeatures { w[j] += c * ak[j] }
                            }
                            Quantize.row(type, w.baseAddress!, dst.baseAddress! + o * rowBytes, count: s.inFeatures)
                        }
                    }
                }
                return out
            }
        }
        try writer.write(to: path, progress: progress)
        return changed
    }
}
