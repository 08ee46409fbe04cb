import ArgumentParser
import CLISupport
import ConsoleUI
import GGUF
import ModelStore
import Quants

@main
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-gguf",
        abstract: "Print a GGUF file's metadata and tensor table, like gguf-dump.",
        discussion: """
            MODEL is a path, or a catalog name (fetched on first use; see vpgea-fetch --help).
            Long arrays are summarised; --json prints one JSON object for machines.
            """)

    @Argument(help: "A GGUF path or a catalog name.")
    var model: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .customLong("json-arrays"), help: "With --json, include long arrays in full.")
    var jsonArrays = false

    @Flag(help: "Text mode: list every tensor (default: the first 40 and the totals).")
    var all = false

    mutating func run() throws {
        try reportingErrors {
            let url = try resolveModel(model)
            let file = try GGUFFile(path: url.path)
            print(json ? Inspect.json(file, fullArrays: jsonArrays) : Inspect.text(file, allTensors: all))
        }
    }
}
