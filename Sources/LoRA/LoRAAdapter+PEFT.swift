import Foundation
import Qwen2

/// PEFT's adapter directory: `adapter_config.json` and `adapter_model.safetensors` with keys
/// `base_model.model.model.layers.N.<module>.lora_A.weight` (`[rank, in]`) and `.lora_B.weight` (`[out, rank]`).
extension LoRAAdapter {
    /// The safetensors key of a slot's `A` or `B` matrix.
    public static func peftKey(_ s: Slot, _ matrix: String) -> String {
        "base_model.model.model.layers.\(s.layer).\(s.target.peftName).lora_\(matrix).weight"
    }

    /// Writes the directory (created if needed). `baseModel` goes to `base_model_name_or_path`.
    public func savePEFT(to directory: URL, baseModel: String = "") throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let modules = config.targets.map { String($0.peftName.split(separator: ".").last!) }
        let peftConfig: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": config.rank, "lora_alpha": Double(config.alpha),
            "lora_dropout": Double(config.dropout), "use_rslora": config.rsLoRA, "target_modules": modules,
            "bias": "none", "fan_in_fan_out": false, "inference_mode": true, "base_model_name_or_path": baseModel,
            "init_lora_weights": true, "modules_to_save": NSNull(),
        ]
        let json = try JSONSerialization.data(withJSONObject: peftConfig, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: directory.appendingPathComponent("adapter_config.json"), options: .atomic)

        var tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)] = []
        let r = config.rank
        for s in slots {
            tensors.append((Self.peftKey(s, "A"), [r, s.inFeatures], UnsafeBufferPointer(start: parameters + s.aOffset, count: r * s.inFeatures)))
            tensors.append((Self.peftKey(s, "B"), [s.outFeatures, r], UnsafeBufferPointer(start: parameters + s.bOffset, count: s.outFeatures * r)))
        }
        try Safetensors.write(tensors, to: directory.appendingPathComponent("adapter_model.safetensors"))
    }

    /// Reads a PEFT LoRA directory (f32, f16 or bf16 tensors).
    public static func loadPEFT(from directory: URL, model: Qwen2Config) throws -> LoRAAdapter {
        let configURL = directory.appendingPathComponent("adapter_config.json")
        guard let data = try? Data(contentsOf: configURL),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AdapterError("\(configURL.path): missing or not JSON")
        }
        guard (object["peft_type"] as? String) == "LORA", let rank = object["r"] as? Int else {
            throw AdapterError("\(configURL.path) is not a LoRA config (peft_type LORA and r expected)")
        }
        let alpha = (object["lora_alpha"] as? Double).map(Float.init) ?? Float(rank)
        let rs = object["use_rslora"] as? Bool ?? false
        let tensors = try Safetensors.read(directory.appendingPathComponent("adapter_model.safetensors"))
        var targets: [LoRATarget] = []
        for t in LoRATarget.allCases where tensors.keys.contains(where: { $0.contains("." + t.peftName + ".lora_A") }) {
            targets.append(t)
        }
        guard !targets.isEmpty else { throw AdapterError("\(directory.path): no lora_A tensors for q/k/v/o/gate/up/down") }
        let adapter = LoRAAdapter(config: LoRAConfig(rank: rank, alpha: alpha, targets: targets, rsLoRA: rs), model: model)
        for s in adapter.slots {
            for (matrix, offset, shape) in [("A", s.aOffset, [rank, s.inFeatures]), ("B", s.bOffset, [s.outFeatures, rank])] {
                guard let t = tensors[peftKey(s, matrix)] else { continue }
                guard t.shape == shape else {
                    throw AdapterError("\(peftKey(s, matrix)) has shape \(t.shape), the model needs \(shape)")
                }
                (adapter.parameters + offset).update(from: t.values, count: t.values.count)
            }
        }
        return adapter
    }
}

extension LoRAAdapter {
    /// A llama.cpp-style GGUF adapter, or a PEFT directory.
    public static func load(path: String, model: Qwen2Config) throws -> LoRAAdapter {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AdapterError("no adapter at \(path)")
        }
        return isDirectory.boolValue ? try loadPEFT(from: URL(fileURLWithPath: path), model: model)
            : try loadGGUF(path: path, model: model)
    }
}
