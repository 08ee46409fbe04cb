import ChatTemplate
import Sampling

/// A request the API refuses, with OpenAI's error fields.
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public init(status: Int, message: String, type: String, param: String?, code: String?) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public static func invalid(_ message: String, param: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: nil)
    }
}

/// A string or a list of strings (`stop`, `prompt`).
public enum StringOrList: Decodable, Sendable {
    case one(String), many([String])
    public var values: [String] {
        switch self {
        case .one(let s): [s]
        case .many(let l): l
        }
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .one(s) } else { self = .many(try c.decode([String].self)) }
    }
}

/// A message's content: a string, or parts of which the text parts are used.
public struct MessageContent: Decodable, Sendable {
    public var text: String
    private struct Part: Decodable { var type: String; var text: String? }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = ""; return }
        if let s = try? c.decode(String.self) { text = s; return }
        let parts = try c.decode([Part].self)
        guard parts.allSatisfy({ $0.type == "text" }) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "only text content parts are supported")
        }
        text = parts.compactMap(\.text).joined()
    }
}

public struct StreamOptions: Decodable, Sendable {
    public var include_usage: Bool?
}

/// The sampling fields both endpoints share (llama-server's defaults where a field is absent).
public struct SamplingFields: Decodable, Sendable {
    public var temperature: Double?
    public var top_p: Double?
    public var top_k: Int?
    public var min_p: Double?
    public var seed: Int?
    public var presence_penalty: Double?
    public var frequency_penalty: Double?
    public var stop: StringOrList?
    public var n: Int?

    /// Checked settings; an unseeded request draws its own seed.
    public func parameters(randomSeed: UInt64) throws(APIError) -> (SamplingParameters, stop: [String]) {
        var p = SamplingParameters()
        p.repeatPenalty = 1
        if let t = temperature {
            guard (0...2).contains(t) else { throw .invalid("temperature must be between 0 and 2", param: "temperature") }
            p.temperature = Float(t)
        }
        if let v = top_p {
            guard v > 0 && v <= 1 else { throw .invalid("top_p must be in (0, 1]", param: "top_p") }
            p.topP = Float(v)
        }
        if let k = top_k {
            guard k >= 0 else { throw .invalid("top_k must be 0 (off) or more", param: "top_k") }
            p.topK = k
        }
        if let v = min_p {
            guard (0...1).contains(v) else { throw .invalid("min_p must be between 0 and 1", param: "min_p") }
            p.minP = Float(v)
        }
        for (name, v) in [("presence_penalty", presence_penalty), ("frequency_penalty", frequency_penalty)] {
            if let v, !(-2...2).contains(v) { throw .invalid("\(name) must be between -2 and 2", param: name) }
        }
        p.presencePenalty = Float(presence_penalty ?? 0)
        p.frequencyPenalty = Float(frequency_penalty ?? 0)
        p.seed = seed.map { UInt64(bitPattern: Int64($0)) } ?? randomSeed
        if let n, n != 1 { throw .invalid("only n = 1 is supported", param: "n") }
        let stops = stop?.values ?? []
        guard stops.count <= 4 else { throw .invalid("at most 4 stop sequences", param: "stop") }
        return (p, stops)
    }
}

/// `POST /v1/chat/completions`.
public struct ChatCompletionRequest: Decodable, Sendable {
    public struct Message: Decodable, Sendable {
        public var role: String
        public var content: MessageContent?
    }
    public var model: String?
    public var messages: [Message]
    public var max_tokens: Int?
    public var max_completion_tokens: Int?
    public var logprobs: Bool?
    public var top_logprobs: Int?
    public var stream: Bool?
    public var stream_options: StreamOptions?
    public var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, messages, max_tokens, max_completion_tokens, logprobs, top_logprobs, stream, stream_options
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        messages = try c.decode([Message].self, forKey: .messages)
        max_tokens = try c.decodeIfPresent(Int.self, forKey: .max_tokens)
        max_completion_tokens = try c.decodeIfPresent(Int.self, forKey: .max_completion_tokens)
        logprobs = try c.decodeIfPresent(Bool.self, forKey: .logprobs)
        top_logprobs = try c.decodeIfPresent(Int.self, forKey: .top_logprobs)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        stream_options = try c.decodeIfPresent(StreamOptions.self, forKey: .stream_options)
        sampling = try SamplingFields(from: decoder)
    }

    /// The conversation for the chat template (roles checked; assistant turns keep their answer only).
    public func templateMessages() throws(APIError) -> [JinjaValue] {
        guard !messages.isEmpty else { throw .invalid("messages must not be empty", param: "messages") }
        var out: [JinjaValue] = []
        for m in messages {
            guard ["system", "developer", "user", "assistant", "tool"].contains(m.role) else {
                throw .invalid("unknown role \(m.role)", param: "messages")
            }
            out.append(ChatTemplate.message(m.role == "developer" ? "system" : m.role, m.content?.text ?? ""))
        }
        return out
    }

    /// The token limit asked for (max_completion_tokens first), checked.
    public func tokenLimit() throws(APIError) -> Int? {
        guard let n = max_completion_tokens ?? max_tokens else { return nil }
        guard n >= 1 else { throw .invalid("max_tokens must be at least 1", param: "max_tokens") }
        return n
    }

    /// Alternatives per token asked for, or nil when no log-probabilities are wanted.
    public func logprobAlternatives() throws(APIError) -> Int? {
        if let k = top_logprobs, !(0...20).contains(k) { throw .invalid("top_logprobs must be between 0 and 20", param: "top_logprobs") }
        if top_logprobs != nil && logprobs != true { throw .invalid("top_logprobs needs logprobs: true", param: "top_logprobs") }
        return logprobs == true ? (top_logprobs ?? 0) : nil
    }
}

/// `POST /v1/completions`.
public struct CompletionRequest: Decodable, Sendable {
    public var model: String?
    public var prompt: StringOrList
    public var max_tokens: Int?
    public var logprobs: Int?
    public var stream: Bool?
    public var stream_options: StreamOptions?
    public var sampling: SamplingFields

    enum CodingKeys: String, CodingKey { case model, prompt, max_tokens, logprobs, stream, stream_options }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decode(StringOrList.self, forKey: .prompt)
        max_tokens = try c.decodeIfPresent(Int.self, forKey: .max_tokens)
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        stream_options = try c.decodeIfPresent(StreamOptions.self, forKey: .stream_options)
        sampling = try SamplingFields(from: decoder)
    }

    /// The one prompt (a list must hold exactly one).
    public func promptText() throws(APIError) -> String {
        let p = prompt.values
        guard p.count == 1 else { throw .invalid("exactly one prompt per request is supported", param: "prompt") }
        return p[0]
    }

    public func tokenLimit() throws(APIError) -> Int? {
        guard let n = max_tokens else { return nil }
        guard n >= 1 else { throw .invalid("max_tokens must be at least 1", param: "max_tokens") }
        return n
    }

    public func logprobAlternatives() throws(APIError) -> Int? {
        guard let k = logprobs else { return nil }
        guard (0...5).contains(k) else { throw .invalid("logprobs must be between 0 and 5", param: "logprobs") }
        return k
    }
}
