import Foundation
import ModelStore
import TestSupport

/// The reference files of ../shared/ref, copied into Fixtures, decoded.
enum References {
    static func data(_ name: String, _ ext: String) -> Data {
        try! Data(contentsOf: Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: ext)!)
    }

    /// llama.cpp's name for each model in the reference files.
    static func key(for model: CatalogModel) -> String {
        model.name == "qwen2.5-coder-0.5b" ? "qwen2.5-coder-0.5b-instruct-awq" : "qwen2.5-coder-1.5b-instruct-q4_k_m"
    }

    struct LogitsFile: Decodable {
        struct Model: Decodable { let prompts: [Prompt] }
        struct Prompt: Decodable {
            let name: String
            let token_ids: [Int]
            let positions: [Position]
        }
        struct Position: Decodable {
            let pos: Int
            let logsumexp: Double
            let top20: [Entry]
        }
        struct Entry: Decodable {
            let id: Int
            let logit: Float
        }
        let models: [String: Model]
    }

    struct GreedyFile: Decodable {
        struct Model: Decodable { let chats: [Chat] }
        struct Chat: Decodable {
            let name: String
            let formatted_prompt: String
            let prompt_token_ids: [Int]
            let generated_token_ids: [Int]
            let argmax_logits: [Float]
            let runner_up_logits: [Float]
        }
        let models: [String: Model]
    }

    struct TorchFile: Decodable {
        struct Sequence: Decodable {
            let name: String
            let ids: [Int]
            let positions: [Position]
        }
        struct Position: Decodable {
            let pos: Int
            let top_ids: [Int]
            let top_logits: [Float]
            let logsumexp: Double
        }
        let sequences: [Sequence]
    }

    static let logits = try! JSONDecoder().decode(LogitsFile.self, from: data("logits", "json"))
    static let greedy = try! JSONDecoder().decode(GreedyFile.self, from: data("greedy", "json"))
    static let torch = try! JSONDecoder().decode(TorchFile.self, from: data("torch-logits-fp32", "json"))
    static var pplText: String { String(decoding: data("ppl-text", "txt"), as: UTF8.self) }

    /// Path of a catalog model if present: the test model always (CI fetches it), the 1.5B when fetched.
    static func path(of model: CatalogModel) -> String? {
        let directory = ProcessInfo.processInfo.environment["VPGEA_MODELS"]
            ?? TestSupport.repositoryRoot.appendingPathComponent("Models").path
        let store = ModelStore(directory: directory)
        return store.isPresent(model) ? store.path(of: model).path : nil
    }
}
