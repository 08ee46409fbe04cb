import Foundation
import Qwen2

/// PEFT's adapter directory: `adapter_config.json` and `adapter_model.safetensors` with keys
/// `base_model.model.model.layers.N.<module>.lora_A.weight` (`[rank, in]`) and `.lora_B.weight` (`[out, rank]`).
extension LoRAAdapter {
    static func peftKey(_ s: Slot, _ matrix: String) -> String {
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

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// (`name: {dtype, shape, data_offsets}`), then the raw little-endian data.
public enum Safetensors {
    public static func write(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var offset = 0
        for t in tensors {
            let bytes = t.values.count * 4
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }   // pad with spaces so the data is aligned
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors { out.append(Data(buffer: t.values)) }
        try out.write(to: url, options: .atomic)
    }

    /// Every tensor as f32.
    public static func read(_ url: URL) throws -> [String: (shape: [Int], values: [Float])] {
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped), data.count >= 8 else {
            throw AdapterError("\(url.path): missing or too short for safetensors")
        }
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard length > 0, 8 + length <= data.count,
              let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + length)) as? [String: Any] else {
            throw AdapterError("\(url.path): unreadable safetensors header")
        }
        let base = 8 + length
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String, let shape = info["shape"] as? [Int],
                  let offsets = info["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1], base + offsets[1] <= data.count else {
                throw AdapterError("\(url.path): bad entry \(name)")
            }
            let raw = data.subdata(in: base + offsets[0]..<base + offsets[1])
            let count = shape.reduce(1, *)
            let values: [Float]
            switch dtype {
            case "F32" where raw.count == count * 4:
                values = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            case "F16" where raw.count == count * 2:
                values = raw.withUnsafeBytes { $0.bindMemory(to: UInt16.self).map { Float(Float16(bitPattern: $0)) } }
            case "BF16" where raw.count == count * 2:
                values = raw.withUnsafeBytes { $0.bindMemory(to: UInt16.self).map { Float(bitPattern: UInt32($0) << 16) } }
            default:
                throw AdapterError("\(url.path): \(name) has dtype \(dtype) or a size that does not match its shape")
            }
            out[name] = (shape, values)
        }
        return out
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
