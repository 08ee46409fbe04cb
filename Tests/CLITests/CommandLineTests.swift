import Foundation
import TestSupport
import Testing

/// The commands as a user runs them: exit codes, one-line errors, output formats.
/// They run the binaries of the build the tests come from (`TestSupport.productBinary`; Tools/test builds them first).
@Suite struct CommandLineTests {
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ tool: String, _ arguments: [String], input: String = "", environment: [String: String] = [:]) throws -> Output {
        try run(executable: TestSupport.productBinary(tool), arguments, input: input, environment: environment)
    }

    /// Runs any program (in `directory` when given) and collects its output.
    static func run(executable: URL, _ arguments: [String], input: String = "", environment: [String: String] = [:],
                    in directory: URL? = nil) throws -> Output {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        p.currentDirectoryURL = directory
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        inp.fileHandleForWriting.write(Data(input.utf8))
        try inp.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// `vpgea-bench --machine` names the kernel path, the OpenBLAS core and the huge-page mode. The reload that replaces a core which
    /// OpenBLAS chose badly is exercised by asking for another core than its own (Prescott, or Haswell where its own
    /// is Prescott, as Debian's OpenBLAS picks on Emerald Rapids): the library is unloaded and loaded again, and the
    /// core it then reports is the one asked for.
    @Test func machineLineNamesKernelsAndBLASCore() throws {
        let plain = try Self.run("vpgea-bench", ["--machine"], environment: ["VPGEA_KERNELS": "generic"])
        #expect(plain.status == 0 && plain.stdout.contains("kernels generic; BLAS "), "\(plain.stdout)\(plain.stderr)")
        #expect(!plain.stdout.contains("BLAS none"), "\(plain.stdout)")
        // A path that does not exist is reported, and the best path is kept.
        let unknown = try Self.run("vpgea-bench", ["--machine"], environment: ["VPGEA_KERNELS": "sse9"])
        #expect(unknown.status == 0 && unknown.stderr.contains("warning: VPGEA_KERNELS=sse9"), "\(unknown.stderr)")
        #expect(unknown.stdout.contains("(VPGEA_KERNELS=sse9: unknown;") && !unknown.stdout.contains("kernels generic"),
                "\(unknown.stdout)")
        let ownIsPrescott = plain.stdout.contains("BLAS Prescott") || plain.stdout.contains("OpenBLAS chose Prescott")
        let other = ownIsPrescott ? "Haswell" : "Prescott"
        let asked = try Self.run("vpgea-bench", ["--machine"], environment: ["VPGEA_BLAS_CORE": other])
        #expect(asked.status == 0, "\(asked.stderr)")
        #expect(asked.stdout.contains("BLAS \(other) (") && asked.stdout.contains("loaded again"), "\(asked.stdout)")
        // The huge-page mode the weight copies meet: the system's (as /sys says it), or declined on request.
        let mode = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8))
            .flatMap { $0.split(separator: " ").first { $0.hasPrefix("[") } }
            .map { String($0.dropFirst().prefix { $0 != "]" }) } ?? "unknown"
        #expect(plain.stdout.contains("; huge pages \(mode)"), "\(plain.stdout)")
        let declined = try Self.run("vpgea-bench", ["--machine"], environment: ["VPGEA_HUGE_PAGES": "0"])
        #expect(declined.stdout.contains("; huge pages declined"), "\(declined.stdout)")
    }

    /// `vpgea-bench -o json` prints llama-bench's shape, an array of rows with its field names (and the machine in
    /// each row); `-o jsonl` the same rows, one per line.
    @Test func benchJSONIsAnArrayOfLlamaBenchRows() throws {
        let model = try TestSupport.testModelPath()
        let args = ["-m", model, "-t", "1", "-p", "8", "-n", "2", "-r", "1"]
        let json = try Self.run("vpgea-bench", args + ["--train", "16", "--lora-rank", "2", "-o", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        var rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 3)
        // The training row carries its length and products; inference rows have no training fields.
        let training = rows.removeLast()
        #expect(training["n_train"] as? Int == 16 && training["train_products"] as? String == "exact", "\(training)")
        #expect(rows.allSatisfy { $0["n_train"] == nil && $0["train_products"] == nil }, "\(rows)")
        for row in rows {
            for field in ["model_filename", "model_size", "n_threads", "n_prompt", "n_gen", "n_depth", "n_batch", "type_k",
                          "type_v", "test_time", "avg_ts", "stddev_ts", "samples_ts", "cpu_info", "kernels"] {
                #expect(row[field] != nil, "\(field) missing in \(row)")
            }
            #expect((row["avg_ts"] as? Double ?? 0) > 0 && row["n_threads"] as? Int == 1)
        }
        #expect(rows.map { $0["n_prompt"] as? Int } == [8, 0] && rows.map { $0["n_gen"] as? Int } == [0, 2])
        let lines = try Self.run("vpgea-bench", args + ["-o", "jsonl"]).stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] })
    }

    /// The evaluation reads the GSM8K test split that ships with vpgea, from any working directory.
    @Test func evaluationRunsOnTheShippedData() throws {
        let binary = try TestSupport.productBinary("vpgea-eval")
        let p = Process()
        p.executableURL = binary
        p.arguments = ["--model", try TestSupport.testModelPath(), "--bench", "gsm8k", "--limit", "1", "--max-tokens", "8"]
        p.currentDirectoryURL = FileManager.default.temporaryDirectory
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(String(decoding: e, as: UTF8.self))")
        #expect(String(decoding: o, as: UTF8.self).contains("gsm8k"), "\(String(decoding: o, as: UTF8.self))")
    }

    @Test func badModelsGiveOneLineErrors() throws {
        let missing = try Self.run("vpgea-run", ["/nonexistent/model.gguf", "-p", "hi"])
        #expect(missing.status != 0)
        #expect(missing.stderr.hasPrefix("error: ") && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")

        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.gguf")
        try Data("just text\n".utf8).write(to: text)
        let notGGUF = try Self.run("vpgea-run", [text.path, "-p", "hi"])
        #expect(notGGUF.status != 0)
        #expect(notGGUF.stderr.contains("not a GGUF file"))
    }

    @Test func tooLongPromptIsRefused() throws {
        let model = try TestSupport.testModelPath()
        let r = try Self.run("vpgea-run", [model, "-p", String(repeating: "word ", count: 300), "-c", "64"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("context"), "\(r.stderr)")
    }

    @Test func oneShotAnswer() throws {
        let r = try Self.run("vpgea-run", [try TestSupport.testModelPath(), "-p", "What is 2+2? Answer with a number only.",
                                           "--temp", "0", "-n", "8", "--verbose"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("4"))
        #expect(r.stderr.contains("t/s"))
    }

    @Test func tokenizeAndLogitsFormats() throws {
        let model = try TestSupport.testModelPath()
        let ids = try Self.run("vpgea-tokenize", [model], input: "Hello, world!")
        #expect(ids.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[9707, 11, 1879, 0]")
        let back = try Self.run("vpgea-tokenize", [model, "--decode"], input: "[9707, 11, 1879, 0]")
        #expect(back.stdout == "Hello, world!")
        let logits = try Self.run("vpgea-logits", [model, "--ids", "9707,11", "--top", "3"])
        let lines = logits.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(first?["pos"] as? Int == 0)
        #expect((first?["top"] as? [[Double]])?.count == 3)
        #expect(first?["logsumexp"] is Double)
    }

    @Test func inspectPrintsJSON() throws {
        let r = try Self.run("vpgea-gguf", [try TestSupport.testModelPath(), "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect((json?["tensors"] as? [Any])?.count == 291)
    }
}

extension CommandLineTests {
    /// `vpgea-train vpgea` options under which a short step on easyProblems distils something on any CPU: the
    /// cross-view check keeps every correct candidate (no length gate, support, plausibility or answer-first test) and
    /// the hint has none of the leak list's words. With the defaults, a step of one or two problems × 2 samples
    /// distilled nothing on a Zen 3 (the 0.5B echoed "verified final answer"; the support test took the other path):
    /// a SIMD path's last bits change which paths are sampled.
    static let permissiveCheck = ["--length-gate", "off", "--delta=-1e9", "--tau=-1e9", "--answer-first-window", "0",
                                  "--hint", "The result is {answer}."]

    /// Two one-step GSM8K-style problems in `directory` (for short VPG-EA runs); returns the file's path.
    static func easyProblems(in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("easy.jsonl").path
        try """
            {"question": "What is 2+3?", "answer": "2+3=5\\n#### 5"}
            {"question": "What is 3*3?", "answer": "3*3=9\\n#### 9"}

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
