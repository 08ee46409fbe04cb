import Foundation
import TestSupport
import Testing

/// The module graph keeps its one-way layers: the inference commands and the serving engine do not depend on the
/// trainer (their whole dependency closure, from `swift package dump-package`), and only Kernels imports the C
/// kernels (from every source file's imports).
@Suite struct ArchitectureTests {
    @Test func inferenceDoesNotDependOnTraining() throws {
        // Its own scratch directory: the running tests hold the lock of .build.
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let dump = try CommandLineTests.run(executable: URL(fileURLWithPath: "/usr/bin/env"),
                                            ["swift", "package", "--scratch-path", scratch.path, "dump-package"],
                                            in: TestSupport.repositoryRoot)
        #expect(dump.status == 0, "\(dump.stderr)")
        let data = Data(dump.stdout.utf8)
        let package = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let targets = try #require(package["targets"] as? [[String: Any]])
        var dependencies: [String: [String]] = [:]
        for t in targets {
            let names = (t["dependencies"] as? [[String: Any]] ?? []).compactMap { ($0["byName"] as? [Any])?.first as? String }
            dependencies[t["name"] as! String] = names
        }
        func closure(_ name: String) -> Set<String> {
            var seen: Set<String> = [], stack = [name]
            while let n = stack.popLast() {
                for d in dependencies[n] ?? [] where seen.insert(d).inserted { stack.append(d) }
            }
            return seen
        }
        for command in ["vpgea-run", "vpgea-logits", "vpgea-serve", "vpgea-perplexity", "vpgea-tokenize", "vpgea-gguf",
                        "Serving", "Engine", "LoRA"] {
            let reached = closure(command)
            #expect(!reached.isEmpty, "\(command) is not in the package")
            #expect(reached.isDisjoint(with: ["Training", "VPGEA", "Distributed"]), "\(command) depends on \(reached.sorted())")
        }
    }

    @Test func onlyKernelsImportsTheCKernels() throws {
        let sources = TestSupport.repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 50)
        for file in files where !file.path.contains("/Sources/Kernels/") {
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(!text.split(separator: "\n").contains("import CKernels"), "\(file.path) imports CKernels")
        }
    }
}
