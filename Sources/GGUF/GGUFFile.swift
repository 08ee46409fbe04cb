import Quants

/// A GGUF file opened for reading: its header, and its tensor data memory-mapped with zero copies.
public final class GGUFFile: Sendable {
    public let path: String
    public let header: GGUFHeader
    private let mapping: MappedFile

    public init(path: String) throws(GGUFError) {
        self.path = path
        mapping = try MappedFile(path: path)
        header = try GGUFHeader(parsing: mapping.bytes)
    }

    public var fileSize: Int { mapping.bytes.count }
    public var metadata: [GGUFKeyValue] { header.metadata }
    public var tensors: [GGUFTensorInfo] { header.tensors }
    public subscript(key: String) -> GGUFValue? { header[key] }

    /// The bytes of one tensor, straight from the mapping; valid while this object lives.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[(header.dataOffset + tensor.offset)...]
            .prefix(tensor.byteCount))
    }

    /// Drops the mapping's whole pages of a byte range of one tensor (all of it by default) from memory
    /// (MappedFile.releasePages), once they have been copied.
    public func releasePages(of tensor: GGUFTensorInfo, bytes: Range<Int>? = nil) {
        let start = header.dataOffset + tensor.offset, range = bytes ?? 0..<tensor.byteCount
        mapping.releasePages((start + range.lowerBound)..<(start + min(range.upperBound, tensor.byteCount)))
    }

    public func tensor(_ name: String) throws(GGUFError) -> GGUFTensorInfo {
        guard let t = header.tensor(name) else { throw GGUFError(.missingTensor(name), at: header.dataOffset) }
        return t
    }
}

// Typed metadata look-ups that explain what is wrong.
extension GGUFHeader {
    public func int(_ key: String) throws(GGUFError) -> Int {
        guard let v = self[key] else { throw GGUFError(.missingKey(key), at: 0) }
        guard let i = v.int else { throw GGUFError(.wrongType(key: key, expected: "an integer"), at: 0) }
        return i
    }

    public func double(_ key: String) throws(GGUFError) -> Double {
        guard let v = self[key] else { throw GGUFError(.missingKey(key), at: 0) }
        guard let d = v.double else { throw GGUFError(.wrongType(key: key, expected: "a number"), at: 0) }
        return d
    }

    public func string(_ key: String) throws(GGUFError) -> String {
        guard let v = self[key] else { throw GGUFError(.missingKey(key), at: 0) }
        guard let s = v.string else { throw GGUFError(.wrongType(key: key, expected: "a string"), at: 0) }
        return s
    }

    public func strings(_ key: String) throws(GGUFError) -> [String] {
        guard let v = self[key] else { throw GGUFError(.missingKey(key), at: 0) }
        guard case .array(.string, let items) = v else {
            throw GGUFError(.wrongType(key: key, expected: "an array of strings"), at: 0)
        }
        return items.map { $0.string ?? "" }
    }

    public func ints(_ key: String) throws(GGUFError) -> [Int] {
        guard let v = self[key] else { throw GGUFError(.missingKey(key), at: 0) }
        guard let items = v.array else { throw GGUFError(.wrongType(key: key, expected: "an array"), at: 0) }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let i = item.int else { throw GGUFError(.wrongType(key: key, expected: "an array of integers"), at: 0) }
            out.append(i)
        }
        return out
    }
}
