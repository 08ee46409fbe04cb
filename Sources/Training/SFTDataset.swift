import ChatTemplate
import Engine
import Foundation
import LoRA

/// One training sequence: its tokens and which of them are trained (the completion).
public struct SFTExample: Sendable, Equatable {
    public var tokens: [Int]
    /// `trained[t]`: token t is predicted from tokens 0..<t and counts in the loss.
    public var trained: [Bool]
    public var trainedCount: Int { trained.dropFirst().filter { $0 }.count }
}

/// Supervised fine-tuning data from JSONL: `{"prompt": …, "completion": …}` or `{"messages": [{"role", "content"}…]}`
/// (the last message, the assistant's, is trained). With `chat` formatting (the default), a prompt/completion
/// pair is rendered with the model's chat template as a user and an assistant turn.
public struct SFTDataset {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public var examples: [SFTExample] = []
    /// Records that were skipped, with the reason.
    public var skipped: [Problem] = []

    public enum Format: String, Sendable, CaseIterable { case chat, raw }

    /// Reads `path`. A bad record is skipped and listed in `skipped`, or, when `strict`, throws.
    /// Sequences longer than `maxTokens` are cut at `maxTokens`.
    public init(path: String, bundle: ModelBundle, format: Format = .chat, maxTokens: Int, strict: Bool = false) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw AdapterError("cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                var example = try Self.example(String(trimmed), bundle: bundle, format: format)
                if example.tokens.count > maxTokens {
                    example.tokens = Array(example.tokens.prefix(maxTokens))
                    example.trained = Array(example.trained.prefix(maxTokens))
                }
                guard example.trainedCount > 0 else { throw AdapterError("no completion tokens within the first \(maxTokens) tokens") }
                examples.append(example)
            } catch {
                let problem = Problem(line: index + 1, reason: "\(error)")
                if strict { throw problem }
                skipped.append(problem)
            }
        }
    }

    static func example(_ line: String, bundle: ModelBundle, format: Format) throws -> SFTExample {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw AdapterError("not a JSON object")
        }
        if let messages = object["messages"] as? [[String: Any]] {
            let turns = try messages.map { m -> (String, String) in
                guard let role = m["role"] as? String, let content = m["content"] as? String else {
                    throw AdapterError("every message needs a string \"role\" and \"content\"")
                }
                return (role, content)
            }
            guard let last = turns.last, last.0 == "assistant" else { throw AdapterError("the last message must be the assistant's") }
            return try chatExample(turns, bundle: bundle)
        }
        guard let prompt = object["prompt"] as? String, let completion = object["completion"] as? String else {
            throw AdapterError("expected \"prompt\" and \"completion\" strings, or \"messages\"")
        }
        switch format {
        case .chat:
            return try chatExample([("user", prompt), ("assistant", completion)], bundle: bundle)
        case .raw:
            let p = bundle.tokenizer.encode(prompt, parseSpecial: false)
            var c = bundle.tokenizer.encode(completion, parseSpecial: false, addBOS: false)
            if let eos = bundle.tokenizer.eos { c.append(eos) }
            return SFTExample(tokens: p + c, trained: [Bool](repeating: false, count: p.count) + [Bool](repeating: true, count: c.count))
        }
    }

    /// The conversation rendered whole; the tokens after the rendering of all but the last turn (with the
    /// generation prompt) are trained.
    static func chatExample(_ turns: [(String, String)], bundle: ModelBundle) throws -> SFTExample {
        let all = turns.map { ChatTemplate.message($0.0, $0.1) }
        let full = try bundle.chatTokens(all, addGenerationPrompt: false).ids
        let prefix = try bundle.chatTokens(Array(all.dropLast()), addGenerationPrompt: true).ids
        guard full.count > prefix.count, Array(full.prefix(prefix.count)) == prefix else {
            throw AdapterError("the chat template does not render the conversation as its prompt followed by the answer")
        }
        return SFTExample(tokens: full, trained: [Bool](repeating: false, count: prefix.count)
            + [Bool](repeating: true, count: full.count - prefix.count))
    }
}
