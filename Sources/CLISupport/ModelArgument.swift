import ConsoleUI
import Foundation
import ModelStore

/// A model as every command takes it: a GGUF path, a catalog name (fetched and verified on first use, with a
/// progress bar) or a URL.
public func resolveModel(_ spec: String) throws -> URL {
    try ModelStore().resolve(spec, events: FetchReporter().handle)
}
