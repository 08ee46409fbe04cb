import Engine
import Foundation

/// Turns one request's engine events into OpenAI's JSON: streamed chunks (server-sent events) or one response.
/// Chat answers of reasoning models are split: text inside `<think>…</think>` goes to `reasoning_content`.
public struct ResponseBuilder: Sendable {
    public enum Kind: Sendable { case chat, completion }
    public let kind: Kind
    public let id: String
    public let model: String
    public let created: Int
    public let includeUsage: Bool
    private var think: ThinkFilter?
    private(set) var content = ""
    private(set) var reasoning = ""
    private var logprobs: [TokenLogprob] = []
    private var wantsLogprobs: Bool
    private var finish: (reason: FinishReason, prompt: Int, completion: Int)?

    /// `promptOpensThinking`: the prompt ends inside a `<think>` block (DeepSeek-R1's template opens it).
    public init(kind: Kind, model: String, includeUsage: Bool, wantsLogprobs: Bool, promptOpensThinking: Bool,
                created: Int = Int(Date().timeIntervalSince1970)) {
        self.kind = kind
        self.model = model
        self.created = created
        self.includeUsage = includeUsage
        self.wantsLogprobs = wantsLogprobs
        id = (kind == .chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        think = kind == .chat ? ThinkFilter(startsInside: promptOpensThinking) : nil
    }

    /// Whether a rendered prompt leaves the model inside a reasoning block.
    public static func opensThinking(_ promptText: String) -> Bool {
        guard let open = promptText.range(of: "<think>", options: .backwards) else { return false }
        return promptText[open.upperBound...].range(of: "</think>") == nil
    }

    /// The first streamed chunk (the assistant's role), for chat.
    public func streamStart() -> [String: Any]? {
        kind == .chat ? chunk(delta: ["role": "assistant", "content": ""], finish: nil, logprobs: nil) : nil
    }

    /// Applies an event; returns the stream chunks it makes (empty text makes none unless it carries logprobs).
    public mutating func apply(_ event: ServeEvent) -> [[String: Any]] {
        switch event {
        case .text(let text, let lp):
            if let lp, wantsLogprobs { logprobs.append(lp) }
            let lpJSON: Any? = (lp != nil && wantsLogprobs) ? logprobsJSON([lp!]) : nil
            var out: [[String: Any]] = []
            if kind == .completion {
                content += text
                if !text.isEmpty || lpJSON != nil { out.append(chunk(text: text, finish: nil, logprobs: lpJSON)) }
                return out
            }
            var pieces = think!.feed(text)
            if pieces.isEmpty && lpJSON != nil { pieces = [(.answer, "")] }
            for (i, (kind, piece)) in pieces.enumerated() {
                if kind == .reasoning { reasoning += piece } else { content += piece }
                out.append(chunk(delta: [kind == .reasoning ? "reasoning_content" : "content": piece], finish: nil,
                                 logprobs: i == 0 ? lpJSON : nil))
            }
            return out
        case .finished(let reason, let prompt, let completion):
            var out: [[String: Any]] = []
            if kind == .chat {
                for (k, piece) in think!.flush() {
                    if k == .reasoning { reasoning += piece } else { content += piece }
                    out.append(chunk(delta: [k == .reasoning ? "reasoning_content" : "content": piece], finish: nil, logprobs: nil))
                }
            }
            finish = (reason, prompt, completion)
            out.append(kind == .chat ? chunk(delta: [:], finish: reason.rawValue, logprobs: nil)
                                     : chunk(text: "", finish: reason.rawValue, logprobs: nil))
            if includeUsage {
                var usageChunk = envelope()
                usageChunk["choices"] = [Any]()
                usageChunk["usage"] = usage(prompt, completion)
                out.append(usageChunk)
            }
            return out
        case .failed:
            return []
        }
    }

    /// The whole response (after `.finished`).
    public func response() -> [String: Any] {
        let (reason, prompt, completion) = finish ?? (.length, 0, 0)
        var r = envelope(object: kind == .chat ? "chat.completion" : "text_completion")
        var choice: [String: Any] = ["index": 0, "finish_reason": reason.rawValue,
                                     "logprobs": wantsLogprobs ? logprobsJSON(logprobs) : NSNull()]
        if kind == .chat {
            var message: [String: Any] = ["role": "assistant", "content": content]
            if !reasoning.isEmpty { message["reasoning_content"] = reasoning }
            choice["message"] = message
        } else {
            choice["text"] = content
        }
        r["choices"] = [choice]
        r["usage"] = usage(prompt, completion)
        return r
    }

    private func envelope(object: String? = nil) -> [String: Any] {
        ["id": id, "object": object ?? (kind == .chat ? "chat.completion.chunk" : "text_completion"), "created": created,
         "model": model]
    }

    private func chunk(delta: [String: Any], finish: String?, logprobs: Any?) -> [String: Any] {
        var c = envelope()
        c["choices"] = [["index": 0, "delta": delta, "finish_reason": finish ?? NSNull(), "logprobs": logprobs ?? NSNull()] as [String: Any]]
        return c
    }

    private func chunk(text: String, finish: String?, logprobs: Any?) -> [String: Any] {
        var c = envelope()
        c["choices"] = [["index": 0, "text": text, "finish_reason": finish ?? NSNull(), "logprobs": logprobs ?? NSNull()] as [String: Any]]
        return c
    }

    private func usage(_ prompt: Int, _ completion: Int) -> [String: Any] {
        ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
    }

    /// Chat: `{"content": [{token, logprob, bytes, top_logprobs}]}`; completions: the legacy lists.
    private func logprobsJSON(_ items: [TokenLogprob]) -> Any {
        if kind == .chat {
            return ["content": items.map { lp -> [String: Any] in
                ["token": lp.text, "logprob": Double(lp.logprob), "bytes": Array(lp.text.utf8).map(Int.init),
                 "top_logprobs": lp.top.map { ["token": $0.text, "logprob": Double($0.logprob), "bytes": Array($0.text.utf8).map(Int.init)] as [String: Any] }]
            }]
        }
        return ["tokens": items.map(\.text), "token_logprobs": items.map { Double($0.logprob) },
                "top_logprobs": items.map { lp in Dictionary(lp.top.map { ($0.text, Double($0.logprob)) }, uniquingKeysWith: max) },
                "text_offset": [Int]()]
    }

    /// JSON text of an object.
    public static func json(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// OpenAI's error body.
    public static func errorJSON(_ e: APIError) -> String {
        json(["error": ["message": e.message, "type": e.type, "param": e.param ?? NSNull(), "code": e.code ?? NSNull()] as [String: Any]])
    }
}
