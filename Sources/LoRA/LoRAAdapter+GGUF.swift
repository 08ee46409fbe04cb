import Foundation
import GGUF
import Quants
import Qwen2

/// llama.cpp's LoRA adapter GGUF: `general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`, and
/// per adapted weight `blk.N.<name>.weight.lora_a` (ggml dims `[in, rank]`, i.e. row-major A `[rank, in]`) and
/// `.lora_b` (dims `[rank, out]`, row-major B `[out, rank]`). llama.cpp scales by alpha/rank, so an rsLoRA
/// adapter is written with the equivalent alpha; `vpgea.lora.*` keys keep our own settings.
extension LoRAAdapter {
    public func saveGGUF(to path: String, baseModelName: String? = nil) throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("qwen2"))
        w.set("general.type", .string("adapter"))
        w.set("general.name", .string("vpgea LoRA adapter" + (baseModelName.map { " for \($0)" } ?? "")))
        w.set("adapter.type", .string("lora"))
        w.set("adapter.lora.alpha", .float32(config.scale * Float(config.rank)))
        w.set("vpgea.lora.alpha", .float32(config.alpha))
        w.set("vpgea.lora.rslora", .bool(config.rsLoRA))
        w.set("vpgea.lora.dropout", .float32(config.dropout))
        w.set("vpgea.lora.targets", .array(.string, config.targets.map { .string($0.rawValue) }))
        let r = config.rank
        for s in slots {
            let base = "blk.\(s.layer).\(s.target.ggufName).weight"
            let a = Array(UnsafeBufferPointer(start: parameters + s.aOffset, count: r * s.inFeatures))
            let b = Array(UnsafeBufferPointer(start: parameters + s.bOffset, count: s.outFeatures * r))
            try w.addTensor(name: base + ".lora_a", type: .f32, dims: [s.inFeatures, r], data: a.withUnsafeBytes { Array($0) })
            try w.addTensor(name: base + ".lora_b", type: .f32, dims: [r, s.outFeatures], data: b.withUnsafeBytes { Array($0) })
        }
        try w.write(to: path)
    }

    /// Loads a LoRA GGUF (ours or llama.cpp's converter's) for a model with configuration `model`.
    public static func loadGGUF(path: String, model: Qwen2Config) throws -> LoRAAdapter {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw AdapterError("\(path): \(error)") }
        let h = file.header
        guard (try? h.string("general.type")) == "adapter", (try? h.string("adapter.type")) == "lora" else {
            throw AdapterError("\(path) is not a LoRA adapter (general.type = adapter, adapter.type = lora expected)")
        }
        if let arch = try? h.string("general.architecture"), arch != "qwen2" {
            throw AdapterError("\(path) is an adapter for \(arch), not qwen2")
        }
        var targets: [LoRATarget] = [], rank = 0
        var found: [(layer: Int, target: LoRATarget, a: GGUFTensorInfo, b: GGUFTensorInfo)] = []
        for t in file.tensors where t.name.hasSuffix(".weight.lora_a") {
            let parts = t.name.split(separator: ".")
            guard parts.count == 5, parts[0] == "blk", let layer = Int(parts[1]),
                  let target = LoRATarget.allCases.first(where: { $0.ggufName == parts[2] }) else {
                throw AdapterError("\(path): unexpected adapter tensor \(t.name)")
            }
            guard layer < model.layerCount else { throw AdapterError("\(path): \(t.name) is beyond the model's \(model.layerCount) layers") }
            let bName = String(t.name.dropLast(1)) + "b"
            guard let b = h.tensor(bName) else { throw AdapterError("\(path): \(t.name) has no \(bName)") }
            let (out, inF) = target.shape(model)
            guard t.dims.count == 2, b.dims.count == 2, t.dims[0] == inF, b.dims[1] == out, t.dims[1] == b.dims[0] else {
                throw AdapterError("\(path): \(t.name) \(t.dims) / \(bName) \(b.dims) do not fit the model's [\(inF), r] / [r, \(out)]")
            }
            guard t.type.format.canDequantize, b.type.format.canDequantize else {
                throw AdapterError("\(path): \(t.name) uses an unsupported type")
            }
            if rank == 0 { rank = t.dims[1] }
            guard t.dims[1] == rank else { throw AdapterError("\(path): mixed ranks (\(rank) and \(t.dims[1])) are not supported") }
            if !targets.contains(target) { targets.append(target) }
            found.append((layer, target, t, b))
        }
        guard rank > 0 else { throw AdapterError("\(path) holds no lora_a/lora_b tensors") }
        let llamaAlpha = (try? h.double("adapter.lora.alpha")).map(Float.init) ?? 0
        var config = LoRAConfig(rank: rank, alpha: llamaAlpha == 0 ? Float(rank) : llamaAlpha, targets: targets.sorted { $0.index < $1.index })
        if let alpha = try? h.double("vpgea.lora.alpha"), case .bool(let rsLoRA)? = h["vpgea.lora.rslora"] {
            config.alpha = Float(alpha)
            config.rsLoRA = rsLoRA
        }
        if let d = try? h.double("vpgea.lora.dropout") { config.dropout = Float(d) }
        let adapter = LoRAAdapter(config: config, model: model)
        for f in found {
            guard let s = adapter.slot(layer: f.layer, f.target) else { continue }
            Dequantize.unchecked(f.a.type, file.data(of: f.a).baseAddress!, adapter.parameters + s.aOffset, count: f.a.elementCount)
            Dequantize.unchecked(f.b.type, file.data(of: f.b).baseAddress!, adapter.parameters + s.bOffset, count: f.b.elementCount)
        }
        // Layers without an adapter tensor keep zero A and B: no effect.
        return adapter
    }
}
