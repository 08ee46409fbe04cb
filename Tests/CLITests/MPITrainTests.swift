import Foundation
import LoRA
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

    static func trainBinary() throws -> String { try TestSupport.productBinary("vpgea-train").path }
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
        let (s2, e2) = try Running(try Self.mpirun(), Self.mpiFlags + [Self.trainBinary()]
                                   + Self.sft(model, data: data, out: two, steps: 3) + ["--grad-accum", "1"]).wait()
        #expect(s2 == 0, "\(e2)")
        // One voice: rank 0's lines only.
        #expect(e2.contains("MPI: 2 ranks") && e2.components(separatedBy: "step 3/3").count == 2, "\(e2)")
        let (s1, e1) = try Running(Self.trainBinary(), Self.sft(model, data: data, out: one, steps: 3) + ["--grad-accum", "2"]).wait()
        #expect(s1 == 0, "\(e1)")
        let config = try Qwen2Model(path: model).config
        let a = try LoRAAdapter.loadGGUF(path: two, model: config), b = try LoRAAdapter.loadGGUF(path: one, model: config)
        #expect(a.count == b.count)
        let differing = (0..<a.count).filter { a.parameters[$0].bitPattern != b.parameters[$0].bitPattern }.count
        let moved = (0..<a.count).contains { a.parameters[$0] != 0 && $0 >= a.slots[0].bOffset && $0 < a.slots[0].bOffset + 10 }
        #expect(differing == 0 && moved, "\(differing) of \(a.count) adapter values differ")

        // Two hosts: network namespaces joined by a veth pair, one rank in each, MPI over TCP between them
        // (Tools/mpi-two-hosts): the same adapter file, byte for byte.
        let hosts = dir.appendingPathComponent("hosts.gguf").path
        let script = TestSupport.repositoryRoot.appendingPathComponent("Tools/mpi-two-hosts").path
        _ = try Self.mpirun()
        let (sh, eh) = try Running(script, [Self.trainBinary()] + Self.sft(model, data: data, out: hosts, steps: 3)
                                   + ["--grad-accum", "1"]).wait()
        #expect(sh == 0 && eh.contains("MPI: 2 ranks"), "\(eh)")
        #expect(FileManager.default.contents(atPath: hosts) == FileManager.default.contents(atPath: one))
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
        let job = try Running(try Self.mpirun(), Self.mpiFlags + [Self.trainBinary()] + args + ["--checkpoint-every", "1"])
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
        let (resumed, text) = try Running(Self.trainBinary(), Array(args.dropLast(4)) + ["--steps", "6", "-t", "1", "--grad-accum", "2",
                                                                                      "--resume"]).wait()
        #expect(resumed == 0 && text.contains("resuming from") && text.contains("step 6/6"), "\(text)")
        #expect(FileManager.default.fileExists(atPath: out))
    }

    /// A VPG-EA step on two ranks (one problem each: its rollouts, scoring and loss) makes the adapter and the report
    /// of one rank doing both problems, bit for bit: rollouts are seeded by problem and a sequence's tokens do not
    /// depend on the rest of its batch.
    @Test func vpgeaStepOnTwoRanksEqualsOneRank() throws {
        let model = try TestSupport.testModelPath()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try CommandLineTests.easyProblems(in: dir)
        func args(_ out: String) -> [String] {
            ["vpgea", "--model", model, "--data", data, "--steps", "1", "--problems-per-step", "2", "--group-size", "2",
             "--max-tokens", "160", "--lr", "1e-3", "--rank", "4", "-t", "1", "--checkpoint-every", "0", "--out", out]
                + CommandLineTests.permissiveCheck
        }
        let two = dir.appendingPathComponent("two.gguf").path, one = dir.appendingPathComponent("one.gguf").path
        let (s2, e2) = try Running(try Self.mpirun(), Self.mpiFlags + [Self.trainBinary()] + args(two)).wait()
        #expect(s2 == 0 && e2.contains("MPI: 2 ranks"), "\(e2)")
        let (s1, e1) = try Running(Self.trainBinary(), args(one)).wait()
        #expect(s1 == 0, "\(e1)")
        let config = try Qwen2Model(path: model).config
        let a = try LoRAAdapter.loadGGUF(path: two, model: config), b = try LoRAAdapter.loadGGUF(path: one, model: config)
        let differing = (0..<a.count).filter { a.parameters[$0].bitPattern != b.parameters[$0].bitPattern }.count
        #expect(differing == 0, "\(differing) of \(a.count) adapter values differ")
        // The same report (rollout speed aside), with something distilled, so the gradient was not zero.
        func report(_ path: String) throws -> [String: Any] {
            let line = try String(contentsOfFile: path + ".log.jsonl", encoding: .utf8).split(separator: "\n").first ?? ""
            var r = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for k in ["rolloutTokensPerSecond", "seconds"] { r[k] = nil }
            return r
        }
        let r2 = try report(two), r1 = try report(one)
        #expect(NSDictionary(dictionary: r2).isEqual(to: r1), "\(r2) against \(r1)")
        #expect((r1["gradientNorm"] as? Double ?? 0) > 0, "nothing was learned in this step: \(r1)")
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
