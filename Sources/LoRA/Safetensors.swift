import Foundation

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
