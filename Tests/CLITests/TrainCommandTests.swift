import Foundation
import LoRA
import Qwen2
import TestSupport
import Testing

/// `vpgea-train sft` as a user runs it on the real 0.5B model: a few short steps, a bad record, resume, and the
/// adapter used by `vpgea-run --lora`.
@Suite struct TrainCommandTests {
    @Test func sftTrainsResumesAndTheAdapterRuns() throws {
        let model = try TestSupport.testModelPath()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("train.jsonl")
        try """
            {"prompt": "What is 2+3?", "completion": "2+3 = 5. The answer is 5."}
            {"messages": [{"role": "user", "content": "Name a prime number."}, {"role": "assistant", "content": "7 is prime."}]}
            {"prompt": "unterminated
            {"prompt": "What is 4*4?", "completion": "4*4 = 16. The answer is 16."}

            """.write(to: data, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("adapter.gguf").path
        let common = ["sft", "--model", model, "--data", data.path, "--out", out, "--rank", "4", "--max-tokens", "64",
                      "--lr", "1e-3", "--warmup", "1", "--steps", "4"]
        let first = try CommandLineTests.run("vpgea-train", common + ["--checkpoint-every", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("activations: kept"), "64 tokens' activations fit: \(first.stderr)")
        #expect(first.stderr.contains("line 3"), "the broken record is reported with its line number: \(first.stderr)")
        #expect(first.stderr.contains("step 4/4"))
        #expect(FileManager.default.fileExists(atPath: out) && FileManager.default.fileExists(atPath: out + ".ckpt"))

        // --strict refuses the same file.
        let strict = try CommandLineTests.run("vpgea-train", common + ["--strict"])
        #expect(strict.status != 0 && strict.stderr.contains("line 3"))

        // Resuming a finished run with more steps continues from step 4.
        let more = try CommandLineTests.run("vpgea-train", Array(common.dropLast()) + ["6", "--resume"])
        #expect(more.status == 0, "\(more.stderr)")
        #expect(more.stderr.contains("at step 4") && more.stderr.contains("step 6/6") && !more.stderr.contains("step 1/6"))

        // Integer products (with recomputed activations): the copies are announced and the run completes; an
        // unknown kind is refused.
        let integer = try CommandLineTests.run("vpgea-train", Array(common.dropLast()) + ["2", "--products", "integer",
                                                                                         "--activations", "recompute",
                                                                                         "--out", out + ".int.gguf"])
        #expect(integer.status == 0, "\(integer.stderr)")
        #expect(integer.stderr.contains("transposed copies") && integer.stderr.contains("step 2/2"), "\(integer.stderr)")
        #expect(integer.stderr.contains("activations: recomputed"), "\(integer.stderr)")
        let unknown = try CommandLineTests.run("vpgea-train", common + ["--products", "fast"])
        #expect(unknown.status != 0 && unknown.stderr.contains("products"), "\(unknown.stderr)")

        let run = try CommandLineTests.run("vpgea-run", [model, "--lora", out, "-p", "What is 2+3?", "--temp", "0", "-n", "8"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.isEmpty)
        let bad = try CommandLineTests.run("vpgea-run", [model, "--lora", data.path, "-p", "hi"])
        #expect(bad.status != 0 && bad.stderr.hasPrefix("error: "), "\(bad.stderr)")
    }

    /// `vpgea-train vpgea` run in pieces (`--stop-after`, then `--resume`) writes the adapter of one whole run, bit for
    /// bit, and its log has one line per step: a long experiment can be split across sessions.
    @Test func vpgeaInPiecesEqualsOneRun() throws {
        let model = try TestSupport.testModelPath()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try CommandLineTests.easyProblems(in: dir)
        func args(_ out: String) -> [String] {
            ["vpgea", "--model", model, "--data", data, "--steps", "2", "--problems-per-step", "1", "--group-size", "2",
             "--max-tokens", "96", "--lr", "1e-3", "--warmup", "0", "--rank", "4", "--checkpoint-every", "0", "--out", out]
                + CommandLineTests.permissiveCheck
        }
        let whole = dir.appendingPathComponent("whole.gguf").path, pieces = dir.appendingPathComponent("pieces.gguf").path
        let w = try CommandLineTests.run("vpgea-train", args(whole))
        #expect(w.status == 0, "\(w.stderr)")
        let first = try CommandLineTests.run("vpgea-train", args(pieces) + ["--stop-after", "1"])
        #expect(first.status == 0 && first.stderr.contains("stopped at step 1"), "\(first.stderr)")
        let lines = { (path: String) in try String(contentsOfFile: path + ".log.jsonl", encoding: .utf8).split(separator: "\n").count }
        #expect(try lines(pieces) == 1)
        let rest = try CommandLineTests.run("vpgea-train", args(pieces) + ["--resume"])
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(try lines(pieces) == 2 && lines(whole) == 2)
        let config = try Qwen2Model(path: model).config
        let a = try LoRAAdapter.loadGGUF(path: whole, model: config), b = try LoRAAdapter.loadGGUF(path: pieces, model: config)
        let differing = (0..<a.count).filter { a.parameters[$0].bitPattern != b.parameters[$0].bitPattern }.count
        #expect(differing == 0, "\(differing) of \(a.count) adapter values differ")
        // B starts at zero: a value off zero there means the steps moved the adapter (the equality is not trivial).
        let moved = a.slots.contains { s in (0..<s.outFeatures * a.config.rank).contains { a.parameters[s.bOffset + $0] != 0 } }
        #expect(moved, "the run trained nothing")
    }

    /// Ctrl-C's signal stops `vpgea-train sft` after the step in progress with a checkpoint and the adapter so far, and
    /// `--resume` continues from that step.
    @Test func ctrlCStopsTrainingWithACheckpoint() throws {
        let model = try TestSupport.testModelPath()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("train.jsonl")
        try #"{"prompt": "What is 2+3?", "completion": "2+3 = 5. The answer is 5."}"#.write(to: data, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("adapter.gguf").path
        func args(steps: Int) -> [String] {
            ["sft", "--model", model, "--data", data.path, "--out", out, "--rank", "4", "--max-tokens", "64", "--lr", "1e-3",
             "--warmup", "0", "--steps", "\(steps)", "--checkpoint-every", "1"]
        }
        let p = Process(), log = dir.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        p.executableURL = try TestSupport.productBinary("vpgea-train")
        p.arguments = args(steps: 100_000)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: log)
        try p.run()
        var deadline = Date().addingTimeInterval(600)
        while p.isRunning, Date() < deadline, !FileManager.default.fileExists(atPath: out + ".ckpt") {
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(p.processIdentifier, SIGINT)
        deadline = Date().addingTimeInterval(120)   // a step takes well under a second
        while p.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let stderr = try String(contentsOf: log, encoding: .utf8)
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "\(stderr)")
        let stopped = try #require(stderr.firstMatch(of: /stopped at step (\d+) of 100000/), "\(stderr)")
        let step = try #require(Int(stopped.1))
        #expect(step >= 1 && FileManager.default.fileExists(atPath: out))
        let more = try CommandLineTests.run("vpgea-train", args(steps: step + 1) + ["--resume"])
        #expect(more.status == 0 && more.stderr.contains("at step \(step)") && more.stderr.contains("step \(step + 1)/\(step + 1)"),
                "\(more.stderr)")
    }
}
