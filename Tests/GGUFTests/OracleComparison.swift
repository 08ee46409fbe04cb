import Foundation
import GGUF
import ModelStore
import TestSupport
import Testing

/// Compares our reading of a file with gguf-py's (Tools/oracles/gguf_summary.py).
enum OracleComparison {
    static func summary(_ path: String) throws -> [String: Any] {
        let data = try TestSupport.runOracle("gguf_summary.py", [path])
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Records an issue for every difference between `file` and gguf-py's summary of the same file.
    static func expectSame(_ file: GGUFFile, as oracle: [String: Any], checkData: Bool = true) {
        let h = file.header
        #expect(oracle["version"] as? Int == Int(h.version))
        #expect(oracle["alignment"] as? Int == h.alignment)
        #expect(oracle["data_offset"] as? Int == h.dataOffset)
        let meta = oracle["metadata"] as? [String: [String: Any]] ?? [:]
        #expect(meta.count == h.metadata.count, "metadata count")
        for kv in h.metadata {
            guard let entry = meta[kv.key] else {
                Issue.record("gguf-py has no key \(kv.key)")
                continue
            }
            let types = entry["type"] as? [String] ?? []
            #expect(types.first == typeName(kv.value.type), "\(kv.key) type")
            if case .array(let element, let items) = kv.value {
                #expect(types.dropFirst().first == typeName(element), "\(kv.key) element type")
                if element == .array { continue }  // gguf-py flattens nested arrays
                if let list = entry["value"] as? [Any] {
                    #expect(list.count == items.count, "\(kv.key) count")
                    for (a, b) in zip(items, list) where !same(a, b) { Issue.record("\(kv.key): \(a) vs \(b)") }
                } else if let s = entry["value"] as? [String: Any] {
                    #expect(s["count"] as? Int == items.count, "\(kv.key) count")
                    let head = s["head"] as? [Any] ?? []
                    for (a, b) in zip(items, head) where !same(a, b) { Issue.record("\(kv.key): \(a) vs \(b)") }
                    if let last = items.last, let b = s["last"], !same(last, b) { Issue.record("\(kv.key) last") }
                }
            } else if let b = entry["value"], !same(kv.value, b) {
                Issue.record("\(kv.key): \(kv.value) vs \(b)")
            }
        }
        let tensors = oracle["tensors"] as? [[String: Any]] ?? []
        #expect(tensors.count == h.tensors.count, "tensor count")
        for (ours, theirs) in zip(h.tensors, tensors) {
            #expect(ours.name == theirs["name"] as? String)
            #expect(ours.type.name == theirs["type"] as? String, "\(ours.name) type")
            #expect(ours.dims == theirs["dims"] as? [Int], "\(ours.name) dims")
            #expect(ours.offset == theirs["offset"] as? Int, "\(ours.name) offset")
            #expect(ours.byteCount == theirs["bytes"] as? Int, "\(ours.name) bytes")
            if checkData {
                var hash = SHA256()
                hash.update(file.data(of: ours))
                #expect(SHA256.hex(hash.finalize()) == theirs["sha256"] as? String, "\(ours.name) data")
            }
        }
    }

    static func typeName(_ t: GGUFValueType) -> String {
        switch t {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }

    static func same(_ ours: GGUFValue, _ theirs: Any) -> Bool {
        switch ours {
        case .string(let s): return s == theirs as? String
        case .bool(let b): return b == theirs as? Bool
        case .float32(let f): return (theirs as? String).flatMap(Double.init).map { Float($0) == f } ?? false
        case .float64(let d): return (theirs as? String).flatMap(Double.init) == d
        case .uint64(let v): return (theirs as? NSNumber)?.uint64Value == v
        default:
            guard let i = ours.int, let n = theirs as? NSNumber else { return false }
            return n.int64Value == Int64(i)
        }
    }
}
