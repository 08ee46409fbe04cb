import Foundation
import Qwen2
import TestSupport
import Testing
import Training

/// `mpirun -np 2 vpgea-train sft …` on the test model (Open MPI from Debian; .ci/run installs openmpi-bin).
@Suite(.serialized) struct MPITrainTests {
    static let records = """
        {"prompt": "What is 2+3?", "completion": "2+3 = 5. The answer is 5."}
        {"prompt": "Name a prime number.", "completion": "7 is prime."}
        {"prompt": "What is 4*4?", "completion": "4*4 = 16. The answer is 16."}
        {"prompt": "What is 9-2?", "completion": "9-2 = 7."}

        """

    static func mpirun() throws -> String {
        let path = "/usr/bin/mpirun"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupport.OracleError(description: "\(path) is missing: apt-get install openmpi-bin (.ci/run does)")
        }
        return path
    }

    /// A process started with its output collected; `wait()` returns (status, stderr).
    final class Running: @unchecked Sendable {
        let process = Process()
        private let err = Pipe()
        private var collected = Data()
        private let lock = NSLock()

        init(_ executable: String, _ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            err.fileHandleForReading.readabilityHandler = { [weak self] h in
                let d = h.availableData
                self?.lock.withLock { self?.collected.append(d) }
            }
            try process.run()
        }
        var stderr: String { lock.withLock { String(decoding: collected, as: UTF8.self) } }
        func wait() -> (Int32, String) {
            process.waitUntilExit()
            err.fileHandleForReading.readabilityHandler = nil
            collected.append(err.fileHandleForReading.readDataToEndOfFile())
            return (process.terminationStatus, stderr)
        }
    }

    static func sft(_ model: String, data: String, out: String, steps: Int) -> [String] {
        ["sft", "--model", model, "--data", data, "--out", out, "--rank", "4", "--max-tokens", "64", "--lr", "1e-3",
         "--warmup", "1", "--steps", "\(steps)", "-t", "1"]
    }

    static let trainBinary = TestSupport.repositoryRoot.appendingPathComponent(".build/debug/vpgea-train").path
    static let mpiFlags = ["--allow-run-as-root", "--oversubscribe", "-np", "2"]

    /// Two ranks with one sequence each per step make the update of one rank that sums two (the same sequences in
    /// the same order): bit for bit, on this model and these shapes.
    @Test func twoRanksEqualOneRankWithAccumulationTwo() throws {
        let model = try TestSupport.testModelPath()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("train.jsonl").path
        try Self.records.write(toFile: data, atomically: true, encoding: .utf8)
        let two = dir.appendingPathComponent("two.gguf").path, one = dir.appendingPathComponent("one.gguf").path
        let (s2, e2) = try Running(try Self.mpirun(), Self.mpiFlags + [Self.trainBinary]
                                   + Self.sft(model, data: data, out: two, steps: 3) + ["--grad-accum", "1"]).wait()
        #expect(s2 == 0, "\(e2)")
        // One voice: rank 0's lines only.
        #expect(e2.contains("MPI: 2 ranks") && e2.components(separatedBy: "step 3/3").count == 2, "\(e2)")
        let (s1, e1) = try Running(Self.trainBinary, Self.sft(model, data: data, out: one, steps: 3) + ["--grad-accum", "2"]).wait()
        #expect(s1 == 0, "\(e1)")
        let config = try Qwen2Model(path: model).config
        let a = try LoRAAdapter.loadGGUF(path: two, model: config), b = try LoRAAdapter.loadGGUF(path: one, model: config)
        #expect(a.count == b.count)
        let differing = (0..<a.count).filter { a.parameters[$0].bitPattern != b.parameters[$0].bitPattern }.count
        let moved = (0..<a.count).contains { a.parameters[$0] != 0 && $0 >= a.slots[0].bOffset && $0 < a.slots[0].bOffset + 10 }
        #expect(differing == 0 && moved, "\(differing) of \(a.count) adapter values differ")
    }

    /// A rank killed mid-run ends the job with a message within 30 s (no hang); `--resume` on one rank, with twice
    /// the accumulation, finishes it from the last checkpoint.
    @Test func killedRankEndsTheJobAndOneRankResumes() throws {
        let model = try TestSupport.testModelPath()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("train.jsonl").path
        try Self.records.write(toFile: data, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("a.gguf").path
        let args = Self.sft(model, data: data, out: out, steps: 200)
        let job = try Running(try Self.mpirun(), Self.mpiFlags + [Self.trainBinary] + args + ["--checkpoint-every", "1"])
        // After the first checkpoint, kill one rank.
        var deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: out + ".ckpt") && Date() < deadline && job.process.isRunning { usleep(100_000) }
        #expect(FileManager.default.fileExists(atPath: out + ".ckpt"), "no checkpoint: \(job.stderr)")
        let ranks = try Self.children(of: job.process.processIdentifier)
        #expect(ranks.count == 2, "ranks: \(ranks)")
        let killed = Date()
        if let victim = ranks.last { kill(victim, SIGKILL) }
        deadline = Date().addingTimeInterval(30)
        while job.process.isRunning && Date() < deadline { usleep(100_000) }
        let ended = !job.process.isRunning
        if !ended { job.process.terminate() }
        let (status, stderr) = job.wait()
        #expect(ended && status != 0 && Date().timeIntervalSince(killed) < 30, "\(stderr)")
        #expect(stderr.contains("signal 9") || stderr.lowercased().contains("killed"), "\(stderr)")
        // One rank, two sequences per step, continues from the checkpoint to the end.
        let (resumed, text) = try Running(Self.trainBinary, Array(args.dropLast(4)) + ["--steps", "6", "-t", "1", "--grad-accum", "2",
                                                                                      "--resume"]).wait()
        #expect(resumed == 0 && text.contains("resuming from") && text.contains("step 6/6"), "\(text)")
        #expect(FileManager.default.fileExists(atPath: out))
    }

    /// The process ids of a process's children (/proc/*/stat's parent field).
    static func children(of parent: Int32) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.range(of: ")", options: .backwards) else { return false }
            let fields = stat[close.upperBound...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == parent && stat.contains("(vpgea-train)")
        }.sorted()
    }
}
