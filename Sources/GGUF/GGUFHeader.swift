import Quants

/// One tensor's entry in the tensor table.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions, fastest-varying first: `dims[0]` is the row length (ggml's `ne`).
    public let dims: [Int]
    public let type: GGMLType
    /// Offset of the data from the start of the data section.
    public let offset: Int
    /// Size of the data in bytes.
    public let byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }
    public var rowLength: Int { dims.first ?? 1 }
    public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }
}

/// A metadata entry, in file order.
public struct GGUFKeyValue: Sendable, Equatable {
    public let key: String
    public let value: GGUFValue
    public init(_ key: String, _ value: GGUFValue) {
        self.key = key
        self.value = value
    }
}

/// Everything before the tensor data: metadata and the tensor table, parsed from untrusted bytes.
/// Every count, length and offset is checked against the file; problems throw `GGUFError` with the offset.
public struct GGUFHeader: Sendable {
    public static let magic: UInt32 = 0x4655_4747  // "GGUF" read as little-endian u32
    public static let defaultAlignment = 32
    static let maximumNesting = 8

    public let version: UInt32
    public let metadata: [GGUFKeyValue]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Where the data section starts in the file.
    public let dataOffset: Int
    private let keyIndex: [String: Int]
    private let tensorIndex: [String: Int]

    public subscript(key: String) -> GGUFValue? { keyIndex[key].map { metadata[$0].value } }
    public func tensor(_ name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// Parses the header of a GGUF file held in `bytes` (the whole file, so offsets can be checked).
    public init(parsing bytes: UnsafeRawBufferPointer) throws(GGUFError) {
        var cursor = ByteCursor(bytes)
        let magic = try cursor.read(UInt32.self, "the magic number")
        guard magic == Self.magic else { throw GGUFError(.badMagic(magic), at: 0) }
        version = try cursor.read(UInt32.self, "the version")
        guard version == 2 || version == 3 else { throw GGUFError(.unsupportedVersion(version), at: 4) }

        let tensorCountAt = cursor.offset
        let tensorCount = try cursor.read(UInt64.self, "the tensor count")
        let kvCountAt = cursor.offset
        let kvCount = try cursor.read(UInt64.self, "the metadata count")
        // Each entry needs at least: key length (8) + value type (4) + one byte of value.
        let kvs = try cursor.checkCount(kvCount, minimumSize: 13, "metadata", at: kvCountAt)

        var metadata: [GGUFKeyValue] = []
        metadata.reserveCapacity(kvs)
        var keyIndex: [String: Int] = [:]
        for _ in 0..<kvs {
            let at = cursor.offset
            let key = try cursor.readString("a metadata key", strict: true)
            guard keyIndex[key] == nil else { throw GGUFError(.duplicateKey(key), at: at) }
            let type = try Self.readType(&cursor)
            let value = try Self.readValue(type, &cursor, depth: 0)
            keyIndex[key] = metadata.count
            metadata.append(GGUFKeyValue(key, value))
        }

        var alignment = Self.defaultAlignment
        if let index = keyIndex["general.alignment"] {
            guard case .uint32(let a) = metadata[index].value else {
                throw GGUFError(.badAlignment("must be a uint32"), at: cursor.offset)
            }
            guard a > 0, a & (a - 1) == 0 else { throw GGUFError(.badAlignment("\(a) is not a power of two"), at: cursor.offset) }
            alignment = Int(a)
        }

        // Tensor table entry: name length (8) + n_dims (4) + type (4) + offset (8), at the least.
        let count = try cursor.checkCount(tensorCount, minimumSize: 24, "tensor", at: tensorCountAt)
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(count)
        var tensorIndex: [String: Int] = [:]
        var rawOffsets: [(offset: UInt64, at: Int)] = []
        for _ in 0..<count {
            let at = cursor.offset
            let name = try cursor.readString("a tensor name", strict: true)
            guard tensorIndex[name] == nil else { throw GGUFError(.duplicateTensor(name), at: at) }
            let nDims = try cursor.read(UInt32.self, "tensor \(name)'s dimension count")
            guard nDims <= 4 else { throw GGUFError(.tooManyDimensions(tensor: name, count: nDims), at: at) }
            var dims: [Int] = []
            var elements = 1
            for _ in 0..<nDims {
                let dimAt = cursor.offset
                let d = try cursor.read(UInt64.self, "tensor \(name)'s dimensions")
                guard let dim = Int(exactly: d) else {
                    throw GGUFError(.badDimension(tensor: name, "dimension \(d) is too large"), at: dimAt)
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
                guard !overflow else {
                    throw GGUFError(.badDimension(tensor: name, "element count overflows"), at: dimAt)
                }
                elements = product
                dims.append(dim)
            }
            let typeAt = cursor.offset
            let rawType = try cursor.read(UInt32.self, "tensor \(name)'s type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError(.unknownTensorType(tensor: name, type: rawType), at: typeAt)
            }
            let rowLength = dims.first ?? 1
            guard rowLength % type.format.blockSize == 0 else {
                throw GGUFError(.notWholeBlocks(tensor: name, type: type.name, rowLength: rowLength), at: typeAt)
            }
            guard let rowBytes = type.format.rowBytes(rowLength) else {
                throw GGUFError(.badDimension(tensor: name, "byte size overflows"), at: typeAt)
            }
            let rows = rowLength == 0 ? 0 : elements / rowLength
            let (byteCount, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
            guard !overflow else { throw GGUFError(.badDimension(tensor: name, "byte size overflows"), at: typeAt) }
            let offsetAt = cursor.offset
            let offset = try cursor.read(UInt64.self, "tensor \(name)'s data offset")
            guard offset % UInt64(alignment) == 0 else {
                throw GGUFError(.misalignedTensor(tensor: name, offset: offset, alignment: alignment), at: offsetAt)
            }
            tensorIndex[name] = tensors.count
            rawOffsets.append((offset, offsetAt))
            tensors.append(GGUFTensorInfo(name: name, dims: dims, type: type,
                                          offset: Int(clamping: offset), byteCount: byteCount))
        }

        // The data section starts at the next multiple of the alignment.
        let (padded, overflow) = cursor.offset.addingReportingOverflow(alignment - 1)
        precondition(!overflow, "header offset cannot overflow: it is bounded by the buffer size")
        dataOffset = padded / alignment * alignment
        let dataSize = max(0, bytes.count - dataOffset)

        // Every tensor inside the data section, and no two overlapping.
        for (i, t) in tensors.enumerated() {
            let (end, overflow) = rawOffsets[i].offset.addingReportingOverflow(UInt64(t.byteCount))
            guard !overflow, end <= UInt64(dataSize) else {
                throw GGUFError(.tensorOutOfBounds(tensor: t.name), at: rawOffsets[i].at)
            }
        }
        let byStart = tensors.indices.filter { tensors[$0].byteCount > 0 }.sorted { tensors[$0].offset < tensors[$1].offset }
        for (a, b) in zip(byStart, byStart.dropFirst()) where tensors[a].offset + tensors[a].byteCount > tensors[b].offset {
            throw GGUFError(.tensorsOverlap(tensors[a].name, tensors[b].name), at: rawOffsets[b].at)
        }

        self.metadata = metadata
        self.keyIndex = keyIndex
        self.tensors = tensors
        self.tensorIndex = tensorIndex
        self.alignment = alignment
    }

    private static func readType(_ cursor: inout ByteCursor) throws(GGUFError) -> GGUFValueType {
        let at = cursor.offset
        let raw = try cursor.read(UInt32.self, "a value type")
        guard let type = GGUFValueType(rawValue: raw) else { throw GGUFError(.unknownValueType(raw), at: at) }
        return type
    }

    private static func readValue(_ type: GGUFValueType, _ c: inout ByteCursor, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try c.read(UInt8.self, "a uint8 value"))
        case .int8: return .int8(try c.read(Int8.self, "an int8 value"))
        case .uint16: return .uint16(try c.read(UInt16.self, "a uint16 value"))
        case .int16: return .int16(try c.read(Int16.self, "an int16 value"))
        case .uint32: return .uint32(try c.read(UInt32.self, "a uint32 value"))
        case .int32: return .int32(try c.read(Int32.self, "an int32 value"))
        case .float32: return .float32(Float(bitPattern: try c.read(UInt32.self, "a float32 value")))
        case .uint64: return .uint64(try c.read(UInt64.self, "a uint64 value"))
        case .int64: return .int64(try c.read(Int64.self, "an int64 value"))
        case .float64: return .float64(Double(bitPattern: try c.read(UInt64.self, "a float64 value")))
        case .bool:
            let at = c.offset
            let b = try c.read(UInt8.self, "a bool value")
            guard b <= 1 else { throw GGUFError(.invalidInput("bool value \(b) is neither 0 nor 1"), at: at) }
            return .bool(b == 1)
        case .string: return .string(try c.readString("a string value", strict: false))
        case .array:
            guard depth < maximumNesting else { throw GGUFError(.nestingTooDeep, at: c.offset) }
            let elementType = try readType(&c)
            let countAt = c.offset
            let raw = try c.read(UInt64.self, "an array length")
            let count = try c.checkCount(raw, minimumSize: elementType.minimumSize, "array element", at: countAt)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try readValue(elementType, &c, depth: depth + 1)) }
            return .array(elementType, items)
        }
    }
}
