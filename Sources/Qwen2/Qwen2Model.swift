import GGUF
import Kernels

/// A Qwen2 model loaded from a GGUF file: configuration and memory-mapped weights. Immutable and shared by
/// any number of sessions.
public final class Qwen2Model: Sendable {
    public let file: GGUFFile
    public let config: Qwen2Config
    public let weights: Qwen2Weights

    public init(file: GGUFFile) throws(GGUFError) {
        self.file = file
        config = try Qwen2Config(gguf: file.header)
        weights = try Qwen2Weights(file: file, config: config)
    }

    public convenience init(path: String) throws(GGUFError) {
        try self.init(file: try GGUFFile(path: path))
    }
}

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case contextFull(needed: Int, size: Int)
    case badToken(Int, vocabulary: Int)

    public var description: String {
        switch self {
        case .contextFull(let needed, let size):
            "the context is full: \(needed) tokens needed, the context holds \(size)"
        case .badToken(let id, let v): "token id \(id) is outside the vocabulary (0..<\(v))"
        }
    }
}
