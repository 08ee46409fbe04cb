import Foundation
import TestSupport
import Testing

/// `vpgea-eval` stopped mid-run keeps its finished completions, and `--resume` generates only the rest.
@Suite struct EvalResumeTests {
    /// One slot, so that every completion's bits are the same whatever ran before it (with more, a resumed run's
    /// batches differ from an uninterrupted one's, and so can its completions' last bits).
    static func arguments(_ out: URL, seed: Int = 3) throws -> [String] {
        ["--model", try TestSupport.testModelPath(), "--bench", "gsm8k", "--limit", "6", "--max-tokens", "16", "--parallel", "1",
         "--seed", "\(seed)", "--out", out.path]
    }

    /// The JSON objects of a JSONL file's lines.
    static func objects(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func aStoppedRunResumesFromItsJournal() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = dir.appendingPathComponent("whole.json"), part = dir.appendingPathComponent("part.json")
        let journal = dir.appendingPathComponent("part.records.partial.jsonl")

        // Stop a run with Ctrl-C's signal once two completions are in its journal.
        let p = Process(), err = Pipe()
        p.executableURL = try TestSupport.productBinary("vpgea-eval")
        p.arguments = try Self.arguments(part)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(600)
        while p.isRunning, Date() < deadline,
              ((try? String(contentsOf: journal, encoding: .utf8))?.filter { $0 == "\n" }.count ?? 0) < 3 {
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(p.processIdentifier, SIGINT)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 130, "the run ended before it could be stopped: \(stderr)")
        #expect(stderr.contains("stopped: the finished completions are in"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: part.path))

        // Mark the first kept completion, so that its record in the result shows it was kept, not generated again,
        // and leave half a line at the end, as a process killed (SIGKILL, the end of a session) mid-write would.
        var lines = try Self.objects(journal)
        let keptCount = lines.count - 1
        #expect(keptCount >= 2 && keptCount < 6, "\(keptCount) completions kept")
        lines[1]["text"] = "kept from the journal"
        let text = try lines.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
            .joined(separator: "\n") + "\n{\"problem\":\"gsm8k-"
        try text.write(to: journal, atomically: true, encoding: .utf8)

        // Without --resume, or with other settings, the journal is refused and left as it is.
        let again = try CommandLineTests.run("vpgea-eval", try Self.arguments(part))
        #expect(again.status != 0 && again.stderr.contains("--resume"), "\(again.stderr)")
        let other = try CommandLineTests.run("vpgea-eval", try Self.arguments(part, seed: 4) + ["--resume"])
        #expect(other.status != 0 && other.stderr.contains("seed"), "\(other.stderr)")
        #expect(try String(contentsOf: journal, encoding: .utf8) == text)

        let resumed = try CommandLineTests.run("vpgea-eval", try Self.arguments(part) + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming: \(keptCount) finished completions kept"), "\(resumed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: journal.path), "the journal outlived a whole run")

        let uninterrupted = try CommandLineTests.run("vpgea-eval", try Self.arguments(whole))
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderr)")
        let expected = try Self.objects(dir.appendingPathComponent("whole.records.jsonl"))
        var got = try Self.objects(dir.appendingPathComponent("part.records.jsonl"))
        #expect(got.count == 6 && expected.count == 6)
        let marked = got.firstIndex { $0["text"] as? String == "kept from the journal" }
        #expect(marked != nil, "the kept completion was generated again")
        if let marked { got[marked]["text"] = expected[marked]["text"] }
        func canonical(_ o: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
        }
        for (a, b) in zip(got, expected) { #expect(try canonical(a) == canonical(b)) }
        // The figures count the kept completions with the new ones.
        let a = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: part)) as? [String: Any])
        let b = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: whole)) as? [String: Any])
        for key in ["accuracy", "meanTokens", "truncationRate", "problems", "samples", "parallel"] {
            #expect((a[key] as? NSNumber) == (b[key] as? NSNumber), "\(key): \(a[key] ?? "–") vs \(b[key] ?? "–")")
        }
    }
}
