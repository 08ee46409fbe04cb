#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Quants

/// Builds a GGUF file: metadata in insertion order, tensors laid out at the alignment.
/// Tensor data can be given up front or produced one tensor at a time while writing (for large models).
public struct GGUFWriter {
    public struct Tensor {
        public let name: String
        public let type: GGMLType
        /// Fastest-varying first, as in the file.
        public let dims: [Int]
        public let byteCount: Int
        let produce: () throws -> [UInt8]
    }

    public let version: UInt32
    public private(set) var metadata: [GGUFKeyValue] = []
    public private(set) var tensors: [Tensor] = []

    public init(version: UInt32 = 3) {
        self.version = version
    }

    /// Copies metadata (and tensor data, from the mapping) of an existing file: the starting point for
    /// rewriting one.
    public init(copying file: GGUFFile) throws(GGUFError) {
        self.init(version: file.header.version)
        metadata = file.metadata
        for t in file.tensors {
            // The closure keeps `file`, and so its mapping, alive until the data is written.
            try addTensor(name: t.name, type: t.type, dims: t.dims, byteCount: t.byteCount) { Array(file.data(of: t)) }
        }
    }

    public var alignment: Int {
        if let v = metadata.first(where: { $0.key == "general.alignment" })?.value, case .uint32(let a) = v {
            return Int(a)
        }
        return GGUFHeader.defaultAlignment
    }

    /// Sets a key, replacing an existing value in place or appending a new one.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i] = GGUFKeyValue(key, value)
        } else {
            metadata.append(GGUFKeyValue(key, value))
        }
    }

    public mutating func removeValue(forKey key: String) {
        metadata.removeAll { $0.key == key }
    }

    public mutating func addTensor(name: String, type: GGMLType, dims: [Int], data: [UInt8]) throws(GGUFError) {
        try addTensor(name: name, type: type, dims: dims, byteCount: data.count) { data }
    }

    /// Adds a tensor whose `byteCount` bytes are produced by `produce` when the file is written.
    public mutating func addTensor(name: String, type: GGMLType, dims: [Int], byteCount: Int,
                                   produce: @escaping () throws -> [UInt8]) throws(GGUFError) {
        guard !tensors.contains(where: { $0.name == name }) else { throw GGUFError(.duplicateTensor(name), at: 0) }
        guard (1...4).contains(dims.count), dims.allSatisfy({ $0 >= 0 }) else {
            throw GGUFError(.badDimension(tensor: name, "needs 1 to 4 non-negative dimensions"), at: 0)
        }
        let rows = dims.dropFirst().reduce(1, *)
        guard let rowBytes = type.format.rowBytes(dims[0]) else {
            throw GGUFError(.notWholeBlocks(tensor: name, type: type.name, rowLength: dims[0]), at: 0)
        }
        guard rowBytes * rows == byteCount else {
            throw GGUFError(.invalidInput("tensor \"\(name)\": \(byteCount) bytes given, \(rowBytes * rows) expected"), at: 0)
        }
        tensors.append(Tensor(name: name, type: type, dims: dims, byteCount: byteCount, produce: produce))
    }

    /// Replaces a tensor in place (same position in the file), e.g. with a re-quantized version of it.
    public mutating func replaceTensor(name: String, type: GGMLType, dims: [Int], byteCount: Int,
                                       produce: @escaping () throws -> [UInt8]) throws(GGUFError) {
        guard let index = tensors.firstIndex(where: { $0.name == name }) else { throw GGUFError(.missingTensor(name), at: 0) }
        let old = tensors.remove(at: index)
        do {
            try addTensor(name: name, type: type, dims: dims, byteCount: byteCount, produce: produce)
        } catch {
            tensors.insert(old, at: index)
            throw error
        }
        tensors.insert(tensors.removeLast(), at: index)
    }

    /// Data offsets of the tensors, relative to the data section.
    var offsets: [Int] {
        var offsets: [Int] = []
        var next = 0
        for t in tensors {
            offsets.append(next)
            next = padded(next + t.byteCount)
        }
        return offsets
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// Header bytes: magic, counts, metadata, tensor table, and padding up to the data section.
    public func headerBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.append(le: GGUFHeader.magic)
        out.append(le: version)
        out.append(le: UInt64(tensors.count))
        out.append(le: UInt64(metadata.count))
        for kv in metadata {
            out.append(string: kv.key)
            out.append(le: kv.value.type.rawValue)
            out.append(value: kv.value)
        }
        for (t, offset) in zip(tensors, offsets) {
            out.append(string: t.name)
            out.append(le: UInt32(t.dims.count))
            for d in t.dims { out.append(le: UInt64(d)) }
            out.append(le: t.type.rawValue)
            out.append(le: UInt64(offset))
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: padded(out.count) - out.count))
        return out
    }

    /// Writes the file atomically: to `path.partial`, then renamed over `path`.
    /// `progress` is called with (bytes written, total bytes).
    public func write(to path: String, progress: ((Int, Int) -> Void)? = nil) throws {
        let temporary = path + ".partial"
        guard let file = fopen(temporary, "wb") else {
            throw GGUFError(.io("cannot create \(temporary): \(String(cString: strerror(errno)))"), at: 0)
        }
        var closed = false
        defer {
            if !closed { fclose(file); unlink(temporary) }
        }
        let header = headerBytes()
        let total = header.count + tensors.reduce(0) { $0 + padded($1.byteCount) }
        var written = 0
        func put(_ bytes: [UInt8]) throws {
            guard bytes.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == bytes.count else {
                throw GGUFError(.io("write failed: \(String(cString: strerror(errno)))"), at: written)
            }
            written += bytes.count
            progress?(written, total)
        }
        try put(header)
        for t in tensors {
            let data = try t.produce()
            guard data.count == t.byteCount else {
                throw GGUFError(.invalidInput("tensor \"\(t.name)\" produced \(data.count) bytes, \(t.byteCount) expected"), at: written)
            }
            try put(data)
            // Every tensor, the last too, is padded to the alignment, as llama.cpp and gguf-py write them.
            try put([UInt8](repeating: 0, count: padded(t.byteCount) - t.byteCount))
        }
        closed = true
        guard fflush(file) == 0, fsync(fileno(file)) == 0, fclose(file) == 0 else {
            unlink(temporary)
            throw GGUFError(.io("cannot finish writing \(temporary)"), at: written)
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw GGUFError(.io("cannot rename \(temporary) to \(path)"), at: written)
        }
    }
}

extension [UInt8] {
    mutating func append<T: FixedWidthInteger>(le value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func append(string: String) {
        let utf8 = Array(string.utf8)
        append(le: UInt64(utf8.count))
        append(contentsOf: utf8)
    }

    mutating func append(value: GGUFValue) {
        switch value {
        case .uint8(let v): append(le: v)
        case .int8(let v): append(le: v)
        case .uint16(let v): append(le: v)
        case .int16(let v): append(le: v)
        case .uint32(let v): append(le: v)
        case .int32(let v): append(le: v)
        case .float32(let v): append(le: v.bitPattern)
        case .bool(let v): append(le: UInt8(v ? 1 : 0))
        case .string(let s): append(string: s)
        case .uint64(let v): append(le: v)
        case .int64(let v): append(le: v)
        case .float64(let v): append(le: v.bitPattern)
        case .array(let type, let items):
            append(le: type.rawValue)
            append(le: UInt64(items.count))
            for item in items { append(value: item) }
        }
    }
}
