/// A chat template, as stored in a GGUF's `tokenizer.chat_template`, rendered the way Hugging Face's
/// `apply_chat_template` renders it (trim_blocks, lstrip_blocks, `raise_exception`, Python-style `tojson`).
public struct ChatTemplate: Sendable {
    public let source: String
    private let nodes: [Node]

    /// Plain ChatML, the fallback when a model's own template cannot be used.
    public static let chatML = """
        {%- for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endfor %}\
        {%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}
        """

    public init(_ source: String) throws(TemplateError) {
        self.source = source
        nodes = try JinjaParser.parse(source)
    }

    /// Renders a conversation. `messages` are dictionaries with at least `role` and `content`; `extra` adds
    /// variables (e.g. `tools`, `enable_thinking`).
    public func render(messages: [JinjaValue], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
                       extra: [String: JinjaValue] = [:]) throws(TemplateError) -> String {
        var globals: [String: JinjaValue] = [
            "messages": .list(messages),
            "add_generation_prompt": .bool(addGenerationPrompt),
            // transformers passes these as None when absent, so templates may test `tools is not none`.
            "tools": .none,
            "documents": .none,
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "raise_exception": .callable(JinjaCallable(name: "raise_exception") { args, _, _ in
                throw TemplateError("the template raised: \(args.first?.text ?? "an error")")
            }),
            "namespace": .callable(JinjaCallable(name: "namespace") { args, keywords, _ in
                var values = JinjaDict()
                if case .dict(let d)? = args.first { values = d }
                for (k, v) in keywords.entries { values[k] = v }
                return .namespace(JinjaNamespace(values))
            }),
            "range": .callable(JinjaCallable(name: "range") { args, _, _ in
                let ints = args.compactMap { if case .int(let i) = $0 { i } else { nil } }
                guard ints.count == args.count, (1...3).contains(ints.count) else { throw TemplateError("range needs 1 to 3 integers") }
                let (start, stop, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count == 3 ? ints[2] : 1)
                guard step != 0 else { throw TemplateError("range step cannot be zero") }
                return .list(stride(from: start, to: stop, by: step).map { .int($0) })
            }),
            "dict": .callable(JinjaCallable(name: "dict") { _, keywords, _ in .dict(keywords) }),
        ]
        for (k, v) in extra { globals[k] = v }
        return try JinjaInterpreter(globals: globals).render(nodes)
    }

    /// A message dictionary.
    public static func message(_ role: String, _ content: String) -> JinjaValue {
        .dict(JinjaDict([("role", .string(role)), ("content", .string(content))]))
    }
}
