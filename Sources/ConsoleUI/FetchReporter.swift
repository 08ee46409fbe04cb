import ModelStore

/// Turns fetch events into progress bars on standard error.
public final class FetchReporter {
    private var download: ProgressBar?
    private var assembly: ProgressBar?

    public init() {}

    public func handle(_ event: FetchEvent) {
        switch event {
        case .downloading(let chunk, let total):
            if download == nil { download = ProgressBar(label: "downloading chunks", total: total) }
            download?.update(chunk - 1)
        case .assembling(let bytes, let total):
            if let d = download {
                d.finish()
                download = nil
            }
            if assembly == nil { assembly = ProgressBar(label: "assembling + checking", total: total) }
            assembly?.update(bytes)
        case .verifying:
            assembly?.finish()
            assembly = nil
            printError("verifying sha256 …")
        case .note(let message):
            printError(message)
        }
    }
}
