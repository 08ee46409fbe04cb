import ArgumentParser
import CLISupport
import ConsoleUI
import Engine
import Foundation
import Hummingbird
import LoRA
import ModelStore
import Qwen2
import Serving

@main
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-serve",
        abstract: "Serve a Qwen2-family model over OpenAI's HTTP API (chat completions, completions, models), with a chat page.",
        discussion: """
            Requests are decoded together (continuous batching): up to --parallel at once, each with its own \
            context of --ctx-size tokens; more wait in a queue of --queue requests, and beyond that get HTTP 429. \
            A request names the base model or an adapter in `model` (GET /v1/models lists them). Sampling \
            defaults where a request sets nothing: temperature 0.8, top_k 40, top_p 0.95, min_p 0.05 (llama.cpp's). \
            Reasoning models' <think> blocks come back in `reasoning_content`. Ctrl-C or SIGTERM stops taking \
            requests and exits once the running ones are done.
            Examples:
              vpgea-serve model.gguf                          http://127.0.0.1:8080 (the chat page at /)
              vpgea-serve model.gguf --parallel 8 --lora short=adapter.gguf --api-key secret
              curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\
                   -d '{"messages": [{"role": "user", "content": "Hi"}]}'
            """)

    @Argument(help: "A GGUF path, a catalog name or a URL (default: \(Catalog.defaultModel.name)).")
    var model: String = Catalog.defaultModel.name

    @Option(help: "Address to listen on (0.0.0.0: every interface; only with --api-key on a shared network).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Option(name: [.customLong("parallel"), .customLong("np", withSingleDash: true)], help: "Requests decoded together at most (slots). Up to 8, a greedy request gets the text it gets alone; past 8, steps of more sequences take faster kernels that round differently.")
    var parallel = 4

    @Option(name: [.customShort("c"), .customLong("ctx-size")], help: "Context of each slot in tokens (prompt + answer).")
    var ctxSize = 4096

    @Option(help: "Requests that may wait for a slot; more are refused with 429.")
    var queue = 64

    @Option(name: .customLong("lora"), parsing: .singleValue,
            help: "An adapter served under a name: NAME=PATH (llama.cpp GGUF or PEFT directory); repeatable.")
    var loras: [String] = []

    @Option(name: .customLong("api-key"), help: "Require `Authorization: Bearer KEY` on /v1/ requests.")
    var apiKey: String?

    @OptionGroup var threading: ThreadsOption

    @Option(name: .customLong("prompt-chunk"), help: "Prompt tokens computed per step, so long prompts do not stall running answers.")
    var promptChunk = 256

    func validate() throws {
        guard parallel >= 1 && parallel <= 64 else { throw ValidationError("--parallel must be between 1 and 64") }
        guard ctxSize >= 16 else { throw ValidationError("--ctx-size must be at least 16") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        for l in loras where !l.contains("=") { throw ValidationError("--lora takes NAME=PATH, got \(l)") }
    }

    func run() async throws {
        RuntimeEnvironment.apply()
        let (url, bundle, adapters) = try reportingErrors {
            let url = try resolveModel(model)
            let bundle = try ModelBundle(path: url.path)
            var adapters: [String: LoRAAdapter] = [:]
            for spec in loras {
                let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
                adapters[parts[0]] = try LoRAAdapter.load(path: parts[1], model: bundle.model.config)
            }
            return (url, bundle, adapters)
        }
        if let warning = bundle.templateWarning { printError("warning: \(warning)") }
        let baseName = url.deletingPathExtension().lastPathComponent
        let engine = ServeEngine(bundle: bundle, slots: parallel, contextSize: ctxSize, threads: threading.threads,
                                 adapters: adapters, queueLimit: queue, promptChunk: promptChunk)
        let api = API(engine: engine, baseName: baseName, aliases: [model, url.lastPathComponent])
        let router = Router()
        if let apiKey { router.add(middleware: APIKeyMiddleware(key: apiKey)) }
        api.addRoutes(to: router)
        let host = self.host, slots = parallel, ctx = ctxSize, adapterNames = adapters.keys.sorted()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "vpgea-serve"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                printError("vpgea-serve: \(baseName) on http://\(host):\(bound) (\(slots) slots × \(ctx) tokens"
                    + (adapterNames.isEmpty ? "" : "; adapters: \(adapterNames.joined(separator: ", "))") + ")")
            })
        do {
            try await app.runService()
        } catch {
            printError("error: \(error)")
            engine.shutdown(cancelRunning: true)
            throw ExitCode.failure
        }
        engine.shutdown(cancelRunning: true)
        printError("vpgea-serve: stopped")
    }
}
