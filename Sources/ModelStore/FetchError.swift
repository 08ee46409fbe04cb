/// Why a model could not be fetched. Every case says what to do next.
public enum FetchError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String)
    case tool(String)
    case download(chunk: Int, String)
    case corruptChunk(chunk: Int, String)
    case mismatch(String)
    case io(String)
    case notGGUF(path: String, String)

    public var description: String {
        switch self {
        case .unknownModel(let name):
            "\(name) is neither a file nor a catalog model; catalog models: "
                + Catalog.models.map(\.name).joined(separator: ", ")
        case .tool(let m): m
        case .download(let n, let m): "chunk \(n): \(m). Run the command again to resume."
        case .corruptChunk(let n, let m): "chunk \(n) is corrupt: \(m). It was deleted; run the command again to download it anew."
        case .mismatch(let m): "\(m). The file was not kept."
        case .io(let m): m
        case .notGGUF(let path, let m): "\(path) is not a usable GGUF file: \(m)"
        }
    }
}
