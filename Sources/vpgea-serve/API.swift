import Engine
import Foundation
import Hummingbird
import Serving

/// The HTTP endpoints: OpenAI's chat completions, completions and models, plus /health, /metrics and the chat page.
final class API: Sendable {
    let engine: ServeEngine
    /// The name `/v1/models` gives the base model; `aliases` are accepted for it too.
    let baseName: String
    let aliases: Set<String>
    static let maxBody = 16 << 20

    init(engine: ServeEngine, baseName: String, aliases: [String]) {
        self.engine = engine
        self.baseName = baseName
        self.aliases = Set(aliases + [baseName])
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Self.page() }
        router.get("/health") { _, _ in Self.json(200, ResponseBuilder.json(["status": "ok"])) }
        router.get("/metrics") { [engine] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: engine.metrics.render(running: engine.load.running, slots: engine.slotCount))))
        }
        router.get("/v1/models") { [self] _, _ in Self.json(200, ResponseBuilder.json(models())) }
        router.post("/v1/chat/completions") { [self] request, _ in await respond(request, kind: .chat) }
        router.post("/v1/completions") { [self] request, _ in await respond(request, kind: .completion) }
    }

    /// `/v1/models`: the base model, then each adapter.
    func models() -> [String: Any] {
        let created = Int(Date().timeIntervalSince1970)
        let names = [baseName] + engine.adapters.keys.sorted()
        return ["object": "list",
                "data": names.map { ["id": $0, "object": "model", "created": created, "owned_by": "vpgea"] as [String: Any] }]
    }

    private func respond(_ request: Request, kind: ResponseBuilder.Kind) async -> Response {
        do {
            return try await run(request, kind: kind)
        } catch let e as APIError {
            return Self.error(e)
        } catch {
            return Self.error(.invalid("\(error)"))
        }
    }

    /// Decodes, checks and submits a request; streams the answer or returns it whole.
    private func run(_ request: Request, kind: ResponseBuilder.Kind) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: Self.maxBody)
        let data = Data(buffer: body)
        let prepared = try prepare(data, kind: kind)
        let (stream, continuation) = AsyncStream<ServeEvent>.makeStream()
        let handle: ServeEngine.Handle
        do {
            handle = try engine.submit(prepared.request) { event in
                continuation.yield(event)
                switch event {
                case .finished, .failed: continuation.finish()
                case .text: break
                }
            }
        } catch {
            throw Self.apiError(error)
        }
        var builder = prepared.builder
        if prepared.stream {
            let body = ResponseBody { [builder] writer in
                var builder = builder
                do {
                    if let start = builder.streamStart() { try await writer.write(Self.event(start)) }
                    for await event in stream {
                        if case .failed(let e) = event {
                            try await writer.write(Self.event(["error": ["message": e.description, "type": "server_error"]]))
                            break
                        }
                        for chunk in builder.apply(event) { try await writer.write(Self.event(chunk)) }
                    }
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                    try await writer.finish(nil)
                } catch {
                    handle.cancel()   // the client went away: free the slot
                    throw error
                }
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
        }
        return await withTaskCancellationHandler {
            for await event in stream {
                if case .failed(let e) = event { return Self.error(Self.apiError(e)) }
                _ = builder.apply(event)
            }
            return Self.json(200, ResponseBuilder.json(builder.response()))
        } onCancel: {
            handle.cancel()
        }
    }

    struct Prepared {
        var request: ServeRequest
        var builder: ResponseBuilder
        var stream: Bool
    }

    /// The engine request and the response builder for a body.
    func prepare(_ data: Data, kind: ResponseBuilder.Kind) throws -> Prepared {
        let seed = UInt64.random(in: 0...UInt64.max)
        switch kind {
        case .chat:
            let r: ChatCompletionRequest = try Self.decode(data)
            let adapter = try resolve(r.model), alternatives = try r.logprobAlternatives()
            let (sampling, stop) = try r.sampling.parameters(randomSeed: seed)
            let rendered: (text: String, ids: [Int])
            do {
                rendered = try engine.bundle.chatTokens(try r.templateMessages())
            } catch let e as APIError {
                throw e
            } catch {
                throw APIError.invalid("the conversation cannot be formatted: \(error)", param: "messages")
            }
            let limit = try r.tokenLimit() ?? max(engine.contextSize - rendered.ids.count, 1)
            let builder = ResponseBuilder(kind: .chat, model: r.model ?? baseName, includeUsage: r.stream_options?.include_usage == true,
                                          wantsLogprobs: alternatives != nil,
                                          promptOpensThinking: ResponseBuilder.opensThinking(rendered.text))
            return Prepared(request: ServeRequest(prompt: rendered.ids, sampling: sampling, maxTokens: limit, stop: stop,
                                                  adapter: adapter, topLogprobs: alternatives),
                            builder: builder, stream: r.stream == true)
        case .completion:
            let r: CompletionRequest = try Self.decode(data)
            let adapter = try resolve(r.model), alternatives = try r.logprobAlternatives()
            let (sampling, stop) = try r.sampling.parameters(randomSeed: seed)
            let ids = engine.bundle.tokenizer.encode(try r.promptText())
            let limit = try r.tokenLimit() ?? 16   // OpenAI's default for completions
            let builder = ResponseBuilder(kind: .completion, model: r.model ?? baseName,
                                          includeUsage: r.stream_options?.include_usage == true,
                                          wantsLogprobs: alternatives != nil, promptOpensThinking: false)
            return Prepared(request: ServeRequest(prompt: ids, sampling: sampling, maxTokens: limit, stop: stop, adapter: adapter,
                                                  topLogprobs: alternatives),
                            builder: builder, stream: r.stream == true)
        }
    }

    /// The adapter a `model` names (nil: the base); an unknown name is a 404.
    func resolve(_ model: String?) throws(APIError) -> String? {
        guard let model, !model.isEmpty, !aliases.contains(model) else { return nil }
        guard engine.adapters[model] != nil else {
            throw APIError(status: 404, message: "The model `\(model)` does not exist (GET /v1/models lists them)",
                           type: "invalid_request_error", param: "model", code: "model_not_found")
        }
        return model
    }

    static func decode<T: Decodable>(_ data: Data) throws(APIError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .invalid("\(field): \(context.debugDescription)", param: field)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .invalid("missing required field \(key.stringValue)", param: key.stringValue)
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .invalid(field.isEmpty ? "the body is not valid JSON" : "\(field): \(context.debugDescription)",
                           param: field.isEmpty ? nil : field)
        } catch {
            throw .invalid("the body is not valid JSON")
        }
    }

    static func apiError(_ error: any Error) -> APIError {
        guard let e = error as? ServeError else { return .invalid("\(error)") }
        switch e {
        case .queueFull: return APIError(status: 429, message: e.description, type: "rate_limit_error", param: nil, code: nil)
        case .shuttingDown: return APIError(status: 503, message: e.description, type: "server_error", param: nil, code: nil)
        case .engine: return APIError(status: 500, message: e.description, type: "server_error", param: nil, code: nil)
        case .unknownAdapter: return APIError(status: 404, message: e.description, type: "invalid_request_error", param: "model", code: "model_not_found")
        case .promptTooLong: return APIError(status: 400, message: e.description, type: "invalid_request_error", param: "messages", code: "context_length_exceeded")
        case .emptyPrompt: return .invalid(e.description, param: "prompt")
        }
    }

    static func event(_ object: [String: Any]) -> ByteBuffer { ByteBuffer(string: "data: \(ResponseBuilder.json(object))\n\n") }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ e: APIError) -> Response { json(e.status, ResponseBuilder.errorJSON(e)) }

    static func page() -> Response {
        let html = Bundle.module.url(forResource: "chat", withExtension: "html").flatMap { try? String(contentsOf: $0, encoding: .utf8) }
            ?? "<!doctype html><p>The chat page is missing from this build.</p>"
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

/// `Authorization: Bearer KEY` on every /v1/ route.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        guard request.headers[.authorization] == "Bearer \(key)" else {
            return API.error(APIError(status: 401, message: "Incorrect or missing API key (send Authorization: Bearer KEY)",
                                      type: "invalid_request_error", param: nil, code: "invalid_api_key"))
        }
        return try await next(request, context)
    }
}
