import ChatTemplate
import GGUF
import Quants

/// Renders a GGUF file's header as text or JSON.
enum Inspect {
    static let shortArray = 8

    static func text(_ file: GGUFFile, allTensors: Bool) -> String {
        let h = file.header
        var lines = ["\(file.path): GGUF v\(h.version), \(h.metadata.count) metadata keys, \(h.tensors.count) tensors, "
            + "\(file.fileSize) bytes, data at \(h.dataOffset), alignment \(h.alignment)", "", "metadata:"]
        for (i, kv) in h.metadata.enumerated() {
            lines.append(pad("\(i + 1)", 5) + " " + pad(kv.key, 44) + " " + describe(kv.value))
        }
        lines += ["", "tensors:"]
        let shown = allTensors ? h.tensors : Array(h.tensors.prefix(40))
        for (i, t) in shown.enumerated() {
            lines.append(pad("\(i + 1)", 5) + " " + pad(t.name, 34) + " " + pad(t.type.name, 6)
                + " " + pad(t.dims.map(String.init).joined(separator: " x "), 20) + " \(t.byteCount) bytes")
        }
        if shown.count < h.tensors.count { lines.append("      … \(h.tensors.count - shown.count) more (--all)") }
        lines += ["", "totals by type:"]
        for (type, group) in totalsByType(h.tensors) {
            lines.append("  " + pad(type.name, 6) + pad("\(group.count) tensors", 13)
                + pad("\(group.elements) elements", 22) + " \(group.bytes) bytes")
        }
        let elements = h.tensors.reduce(0) { $0 + $1.elementCount }
        lines.append("  total \(h.tensors.count) tensors, \(elements) elements")
        return lines.joined(separator: "\n")
    }

    static func json(_ file: GGUFFile, fullArrays: Bool) -> String {
        let h = file.header
        let metadata = h.metadata.map { "\(quote($0.key)): \(jsonValue($0.value, full: fullArrays))" }
        let tensors = h.tensors.map { t in
            "{\"name\": \(quote(t.name)), \"type\": \(quote(t.type.name)), \"dims\": [\(t.dims.map(String.init).joined(separator: ", "))], "
                + "\"offset\": \(t.offset), \"bytes\": \(t.byteCount)}"
        }
        return "{\"path\": \(quote(file.path)), \"version\": \(h.version), \"file_size\": \(file.fileSize), "
            + "\"alignment\": \(h.alignment), \"data_offset\": \(h.dataOffset),\n\"metadata\": {\n  "
            + metadata.joined(separator: ",\n  ") + "\n},\n\"tensors\": [\n  " + tensors.joined(separator: ",\n  ") + "\n]}"
    }

    static func totalsByType(_ tensors: [GGUFTensorInfo]) -> [(GGMLType, (count: Int, elements: Int, bytes: Int))] {
        var totals: [GGMLType: (count: Int, elements: Int, bytes: Int)] = [:]
        for t in tensors {
            let old = totals[t.type] ?? (0, 0, 0)
            totals[t.type] = (old.count + 1, old.elements + t.elementCount, old.bytes + t.byteCount)
        }
        return totals.sorted { $0.value.bytes > $1.value.bytes }.map { ($0.key, $0.value) }
    }

    static func describe(_ value: GGUFValue) -> String {
        switch value {
        case .string(let s): return quote(s.count > 80 ? String(s.prefix(77)) + "…" : s)
        case .array(let type, let items):
            let head = items.prefix(shortArray).map(describe).joined(separator: ", ")
            return "[\(type)] × \(items.count): [\(head)\(items.count > shortArray ? ", …" : "")]"
        default: return scalar(value)
        }
    }

    static func jsonValue(_ value: GGUFValue, full: Bool) -> String {
        switch value {
        case .string(let s): return quote(s)
        case .array(let type, let items) where !full && items.count > shortArray:
            return "{\"type\": \"array\", \"element_type\": \"\(type)\", \"count\": \(items.count), \"head\": ["
                + items.prefix(shortArray).map { jsonValue($0, full: full) }.joined(separator: ", ") + "]}"
        case .array(_, let items): return "[" + items.map { jsonValue($0, full: full) }.joined(separator: ", ") + "]"
        case .float32(let f) where !f.isFinite: return "null"
        case .float64(let d) where !d.isFinite: return "null"
        default: return scalar(value)
        }
    }

    static func scalar(_ value: GGUFValue) -> String {
        switch value {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .float64(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let s): quote(s)
        case .array: describe(value)
        }
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String { JSON.quote(s) }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
