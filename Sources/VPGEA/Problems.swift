import Foundation

/// The benchmarks the evaluation knows.
public enum BenchmarkKind: String, CaseIterable, Codable, Sendable {
    case gsm8k, math500, aime24
}

/// One problem: the question and its reference final answer.
public struct Problem: Sendable, Equatable, Codable {
    public var id: String
    public var question: String
    public var answer: String
    public init(id: String, question: String, answer: String) {
        self.id = id
        self.question = question
        self.answer = answer
    }
}

public struct DatasetError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads the benchmark JSONL files (copies ship with vpgea: `Dataset.shipped`): GSM8K (`question`, `answer` ending in `#### N`), MATH-500 (`problem`,
/// `answer`), AIME24 (`problem`, `answer`). A bad line is listed in `skipped` with its number.
public struct Dataset {
    public let kind: BenchmarkKind
    public var problems: [Problem] = []
    public var skipped: [String] = []

    public init(kind: BenchmarkKind, path: String) throws {
        self.kind = kind
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("cannot read \(path)") }
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                skipped.append("line \(index + 1): not a JSON object")
                continue
            }
            let question = (object["question"] as? String).flatMap { kind == .gsm8k ? $0 : nil } ?? (object["problem"] as? String)
            var answer: String?
            switch kind {
            case .gsm8k:
                if let text = object["answer"] as? String, let r = text.range(of: "####") { answer = String(text[r.upperBound...]) }
            case .math500, .aime24:
                answer = (object["answer"] as? String) ?? (object["answer"] as? Int).map(String.init)
            }
            guard let question, let answer else {
                skipped.append("line \(index + 1): missing question/problem or answer")
                continue
            }
            let id = (object["unique_id"] as? String) ?? (object["id"] as? Int).map(String.init) ?? "\(kind.rawValue)-\(index + 1)"
            problems.append(Problem(id: id, question: question, answer: answer.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }
}

extension Dataset {
    /// The file of a benchmark split that ships with vpgea (Sources/VPGEA/Data, a resource of this module): `train`
    /// (GSM8K only) or `test`.
    public static func shipped(_ kind: BenchmarkKind, split: String = "test") throws -> String {
        guard let url = Bundle.module.url(forResource: split, withExtension: "jsonl", subdirectory: "Data/\(kind.rawValue)")
        else { throw DatasetError("vpgea ships no \(kind.rawValue) \(split) split; give the file with --data") }
        return url.path
    }
}
