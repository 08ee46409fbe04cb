import ChatTemplate
import GGUF
import Qwen2
import Tokenizers

/// Everything a GGUF file provides for chat: the model, its tokenizer and its chat template.
public final class ModelBundle: Sendable {
    public let path: String
    public let model: Qwen2Model
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    /// Set when the file's own template could not be used and ChatML stands in for it.
    public let templateWarning: String?

    public init(path: String) throws {
        self.path = path
        let file = try GGUFFile(path: path)
        model = try Qwen2Model(file: file)
        tokenizer = try Tokenizer(gguf: file.header)
        var warning: String? = nil
        var template: ChatTemplate
        do {
            template = try ChatTemplate(try file.header.string("tokenizer.chat_template"))
        } catch {
            warning = "the model's chat template cannot be used (\(error)); falling back to ChatML"
            template = try ChatTemplate(ChatTemplate.chatML)
        }
        self.template = template
        templateWarning = warning
    }

    public var bosText: String { tokenizer.bos.map { tokenizer.tokens[$0] } ?? "" }
    public var eosText: String { tokenizer.eos.map { tokenizer.tokens[$0] } ?? "" }

    /// Renders a conversation with the model's template and tokenizes it. BOS is added only when the model
    /// asks for it and the template did not already write it.
    public func chatTokens(_ messages: [JinjaValue], addGenerationPrompt: Bool = true) throws -> (text: String, ids: [Int]) {
        let text: String
        do {
            text = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                       bosToken: bosText, eosToken: eosText)
        } catch {
            throw EngineError.template("\(error)")
        }
        let templateWroteBOS = !bosText.isEmpty && text.hasPrefix(bosText)
        return (text, tokenizer.encode(text, parseSpecial: true, addBOS: templateWroteBOS ? false : nil))
    }
}

public enum EngineError: Error, CustomStringConvertible {
    case template(String)
    case promptTooLong(tokens: Int, context: Int)

    public var description: String {
        switch self {
        case .template(let m): "chat template: \(m)"
        case .promptTooLong(let n, let c):
            "the prompt has \(n) tokens but the context holds \(c)"
        }
    }
}
