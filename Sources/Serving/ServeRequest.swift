import Sampling

/// One generation request to the engine: token ids in, text events out.
public struct ServeRequest: Sendable {
    public var prompt: [Int]
    public var sampling: SamplingParameters
    public var maxTokens: Int
    /// Generation stops before the first of these strings (it is not returned).
    public var stop: [String]
    /// The adapter's name (one given to the engine), or nil for the base model.
    public var adapter: String?
    /// Log-probabilities: nil for none, else the number of alternatives per token (0: the chosen token's only).
    public var topLogprobs: Int?

    public init(prompt: [Int], sampling: SamplingParameters = .greedy, maxTokens: Int, stop: [String] = [],
                adapter: String? = nil, topLogprobs: Int? = nil) {
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
        self.adapter = adapter
        self.topLogprobs = topLogprobs
    }
}

/// Why a request ended, in OpenAI's words: `stop` (end of generation or a stop string) or `length` (the token
/// limit or a full context).
public enum FinishReason: String, Sendable, Codable {
    case stop, length
}

/// A token's log-probability under the model (log-softmax of the raw logits, before any sampling setting).
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int
    public var text: String
    public var logprob: Float
    /// The most likely tokens at this position, best first.
    public var top: [(token: Int, text: String, logprob: Float)]

    public static func == (a: Self, b: Self) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.top.map(\.token) == b.top.map(\.token)
    }
}

/// What the engine reports about a request, in order: text pieces, then one end.
public enum ServeEvent: Sendable {
    /// Generated text (possibly empty while a multi-byte character or a possible stop string is held back) and,
    /// when asked for, the log-probability of the token that produced it.
    case text(String, TokenLogprob?)
    /// The end: why, and the prompt and completion token counts.
    case finished(FinishReason, promptTokens: Int, completionTokens: Int)
    /// The request could not run (its prompt does not fit the context, say).
    case failed(ServeError)
}

public enum ServeError: Error, Sendable, Equatable, CustomStringConvertible {
    case queueFull(limit: Int)
    case promptTooLong(tokens: Int, context: Int)
    case emptyPrompt
    case unknownAdapter(String)
    case shuttingDown
    case engine(String)

    public var description: String {
        switch self {
        case .queueFull(let limit): "the server is busy: \(limit) requests are already waiting; retry later"
        case .promptTooLong(let n, let c):
            "the prompt has \(n) tokens but a slot's context holds \(c) (with room for at least one new token)"
        case .emptyPrompt: "the prompt is empty"
        case .unknownAdapter(let name): "no model or adapter is named \(name)"
        case .shuttingDown: "the server is shutting down"
        case .engine(let m): "the engine failed: \(m)"
        }
    }
}
