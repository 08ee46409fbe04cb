import Foundation
import TestSupport
import Testing
import Training

/// A resumed run's log keeps the steps its checkpoint carries and drops those of the stopped run past it.
@Suite struct StepLogTests {
    @Test func resumeDropsStepsPastTheCheckpoint() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("run.log.jsonl").path
        try (1...5).map { "{\"step\":\($0),\"loss\":0.5}\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
        let handle = try StepLog.open(path, resume: true, checkpointStep: 3)
        handle.write(Data("{\"step\":4,\"loss\":0.25}\n".utf8))
        try handle.close()
        let steps = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["step"] as? Int
        }
        #expect(steps == [1, 2, 3, 4])
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix("{\"step\":4,\"loss\":0.25}\n"))
        // A fresh run starts an empty log.
        try StepLog.open(path, resume: false, checkpointStep: 0).close()
        #expect(try String(contentsOfFile: path, encoding: .utf8).isEmpty)
    }
}
