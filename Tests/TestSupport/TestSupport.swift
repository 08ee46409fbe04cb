import Foundation
import ModelStore

/// Paths and oracles shared by the test targets.
public enum TestSupport {
    /// The repository root (this file is Tests/TestSupport/TestSupport.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Python interpreter that has the oracles (gguf-py, numpy, jinja2): `$VPGEA_PYTHON`, else the
    /// repository's `.venv` made by `Tools/setup-oracles`.
    public static var python: String {
        ProcessInfo.processInfo.environment["VPGEA_PYTHON"]
            ?? repositoryRoot.appendingPathComponent(".venv/bin/python3").path
    }

    public struct OracleError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Runs a script from `Tools/oracles/` with the oracle interpreter and returns its standard output.
    /// Fails (never skips) when the oracle is missing: run `Tools/setup-oracles` first.
    public static func runOracle(_ script: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repositoryRoot.appendingPathComponent("Tools/oracles/\(script)").path] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw OracleError(description: "cannot run \(python): \(error). Run Tools/setup-oracles first.")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OracleError(description: "\(script) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return data
    }

    /// The real test model (the 0.5B), which `.ci/run` and `Tools/test` fetch before the tests.
    /// Looked up in `$VPGEA_MODELS` or the repository's `Models/`.
    public static func testModelPath() throws -> String {
        let directory = ProcessInfo.processInfo.environment["VPGEA_MODELS"]
            ?? repositoryRoot.appendingPathComponent("Models").path
        let store = ModelStore(directory: directory)
        guard store.isPresent(Catalog.testModel) else {
            throw OracleError(description: "the test model is not in \(directory): run "
                + "`swift run vpgea-fetch \(Catalog.testModel.name)` (Tools/test does this)")
        }
        return store.path(of: Catalog.testModel).path
    }

    /// A command of this package (`vpgea-run`, …) from the build the tests run from: the running test bundle's
    /// directory holds the products of the same `swift build` (whatever `--scratch-path`), else `.build/debug`.
    /// Throws when it is not built.
    public static func productBinary(_ name: String) throws -> URL {
        let beside = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent(name)
        let candidates = [beside, repositoryRoot.appendingPathComponent(".build/debug/\(name)")].compactMap { $0 }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw OracleError(description: "\(name) is not built (looked in \(candidates.map(\.path).joined(separator: ", "))): "
                + "run `swift build` first (Tools/test does)")
        }
        return found
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vpgea-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
