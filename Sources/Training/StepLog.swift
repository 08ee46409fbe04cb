import Foundation

/// A training run's JSONL log, one object with a "step" field per line. A run resumed from a checkpoint continues the
/// log; lines of steps past the checkpoint (a run stopped between two checkpoints) are dropped first, so that each
/// step appears once, from the run that the checkpoint carries on.
public enum StepLog {
    /// Opens `path` for appending after keeping only its lines of steps ≤ `step` (a fresh, empty log when `resume`
    /// is false).
    public static func open(_ path: String, resume: Bool, checkpointStep step: Int) throws -> FileHandle {
        if resume, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let kept = text.split(separator: "\n", omittingEmptySubsequences: true).filter { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let s = object["step"] as? Int else { return true }   // a line without a step is kept
                return s <= step
            }
            try (kept.map { $0 + "\n" }.joined()).write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        return handle
    }
}
