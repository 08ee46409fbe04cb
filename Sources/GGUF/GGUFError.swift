/// Why a GGUF file could not be read or written, and where: every problem names the byte offset.
public struct GGUFError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        case io(String)
        case badMagic(UInt32)
        case unsupportedVersion(UInt32)
        /// The file ends inside `what`.
        case truncated(what: String)
        /// A count that cannot fit in the bytes that remain.
        case countTooLarge(what: String, count: UInt64)
        case invalidUTF8(what: String)
        case unknownValueType(UInt32)
        case nestingTooDeep
        case duplicateKey(String)
        case badAlignment(String)
        case tooManyDimensions(tensor: String, count: UInt32)
        case badDimension(tensor: String, String)
        case unknownTensorType(tensor: String, type: UInt32)
        case notWholeBlocks(tensor: String, type: String, rowLength: Int)
        case duplicateTensor(String)
        case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
        case tensorOutOfBounds(tensor: String)
        case tensorsOverlap(String, String)
        case missingTensor(String)
        case missingKey(String)
        case wrongType(key: String, expected: String)
        case invalidInput(String)
    }

    public let kind: Kind
    /// Byte offset in the file where the problem was found.
    public let offset: Int

    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String {
        let what: String = switch kind {
        case .io(let m): m
        case .badMagic(let m):
            "not a GGUF file (magic 0x\(String(m, radix: 16)), expected 0x46554747 \"GGUF\")"
        case .unsupportedVersion(let v): "GGUF version \(v) is not supported (only 2 and 3)"
        case .truncated(let w): "file ends inside \(w): truncated or corrupt download?"
        case .countTooLarge(let w, let n): "\(w) count \(n) cannot fit in the rest of the file"
        case .invalidUTF8(let w): "\(w) is not valid UTF-8"
        case .unknownValueType(let t): "unknown metadata value type \(t)"
        case .nestingTooDeep: "metadata arrays nested too deeply"
        case .duplicateKey(let k): "duplicate metadata key \"\(k)\""
        case .badAlignment(let m): "bad general.alignment: \(m)"
        case .tooManyDimensions(let t, let n): "tensor \"\(t)\" has \(n) dimensions (at most 4)"
        case .badDimension(let t, let m): "tensor \"\(t)\": \(m)"
        case .unknownTensorType(let t, let type):
            "tensor \"\(t)\" uses unknown tensor type \(type); known types are "
                + GGMLTypeNames.known
        case .notWholeBlocks(let t, let type, let n):
            "tensor \"\(t)\": row length \(n) is not a whole number of \(type) blocks"
        case .duplicateTensor(let t): "duplicate tensor name \"\(t)\""
        case .misalignedTensor(let t, let o, let a):
            "tensor \"\(t)\" data offset \(o) is not a multiple of the alignment \(a)"
        case .tensorOutOfBounds(let t): "tensor \"\(t)\" data lies past the end of the file"
        case .tensorsOverlap(let a, let b): "tensors \"\(a)\" and \"\(b)\" overlap"
        case .missingTensor(let t): "tensor \"\(t)\" is missing"
        case .missingKey(let k): "metadata key \"\(k)\" is missing"
        case .wrongType(let k, let e): "metadata key \"\(k)\" should be \(e)"
        case .invalidInput(let m): m
        }
        return "\(what) (at byte \(offset))"
    }
}

import Quants

enum GGMLTypeNames {
    static var known: String { GGMLType.allCases.map(\.name).joined(separator: ", ") }
}
