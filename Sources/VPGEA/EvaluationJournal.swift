import Foundation

/// An evaluation in progress, on disk beside its result (RUN.records.partial.jsonl next to RUN.json): a first line
/// with what the run is, then one record per completion as it finishes. A run cut off (Ctrl-C, a killed process, the
/// end of a session) loses only the completions it had not finished; a run with the same settings resumes from the
/// journal and generates only the rest. Each completion's sampling seed comes from its problem and sample, so a kept
/// record is the one this run would draw; the slot count changes which kernels a step takes (their last bits), so a
/// resumed run's new completions can differ in the last bits from an uninterrupted run's.
public enum EvaluationJournal {
    /// What a kept record must have been made with: the settings (problems, samples, seed, L_max, temperature,
    /// instruction, slots), the model file and the adapter.
    public struct Header: Codable, Sendable {
        public var settings: EvaluationResult   // Evaluation.planned's, with `parallel`
        public var model: String
        public var adapter: String?

        public init(settings: EvaluationResult, model: String, adapter: String?) {
            self.settings = settings
            self.model = model
            self.adapter = adapter
        }

        /// How `other` differs from this header, or nil.
        func mismatch(with other: Header) -> String? {
            var differences = settings.mismatch(with: other.settings).map { [$0] } ?? []
            if other.settings.parallel != settings.parallel {
                differences.append("--parallel \(other.settings.parallel ?? 0) vs \(settings.parallel ?? 0)")
            }
            if other.model != model { differences.append("model \(other.model) vs \(model)") }
            if other.adapter != adapter { differences.append("adapter \(other.adapter ?? "none") vs \(adapter ?? "none")") }
            return differences.isEmpty ? nil : differences.joined(separator: ", ")
        }
    }

    /// Where a run written to `json` (RUN.json) keeps its journal: RUN.records.partial.jsonl.
    public static func path(besides json: String) -> String {
        (json.hasSuffix(".json") ? String(json.dropLast(5)) : json) + ".records.partial.jsonl"
    }

    /// The records of the journal at `path`, which must have been made by a run described by `header` (else a
    /// `DatasetError` saying what differs). A last line cut off mid-write is dropped; any other bad line is an error.
    public static func read(_ path: String, expecting header: Header) throws -> [EvaluationRecord] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw DatasetError("cannot read the journal \(path): \(error.localizedDescription)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()   // what follows the last newline: nothing, or a line cut off mid-write
        guard let first = lines.first, let written = try? JSONDecoder().decode(Header.self, from: Data(first.utf8)) else {
            throw DatasetError("\(path) is not an evaluation journal (its first line is not a run's settings)")
        }
        if let difference = header.mismatch(with: written) {
            throw DatasetError("the journal \(path) was made by another run (\(difference)); remove it or run without --resume")
        }
        var records: [EvaluationRecord] = []
        for (n, line) in lines.enumerated().dropFirst() {
            guard let record = try? JSONDecoder().decode(EvaluationRecord.self, from: Data(line.utf8)) else {
                throw DatasetError("\(path) line \(n + 1) is not a completion's record")
            }
            records.append(record)
        }
        return records
    }

    /// Writes a journal: `header` and `kept` at once (replacing any file at `path`), then each record appended as
    /// it comes, written through to the file before `append` returns.
    public final class Writer {
        private let handle: FileHandle

        public init(path: String, header: Header, kept: [EvaluationRecord]) throws {
            let encoder = JSONEncoder()
            var text = String(decoding: try encoder.encode(header), as: UTF8.self) + "\n"
            for record in kept { text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n" }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw DatasetError("cannot write the journal \(path)")
            }
            try handle.seekToEnd()
            self.handle = handle
        }

        public func append(_ record: EvaluationRecord) throws {
            try handle.write(contentsOf: Data((String(decoding: try JSONEncoder().encode(record), as: UTF8.self) + "\n").utf8))
        }

        deinit { try? handle.close() }
    }
}
