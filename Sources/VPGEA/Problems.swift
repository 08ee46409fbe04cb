import Foundation

/// The benchmarks the evaluation knows.
public enum BenchmarkKind: String, CaseIterable, Codable, Sendable {
    case gsm8k, math500, aime24
}

/// One problem: the question, its reference final answer, and the reference's worked solution where the data set
/// has one (GSM8K: the text before `####`, calculator annotations removed; MATH-500 and AIME24: `solution`).
public struct Problem: Sendable, Equatable, Codable {
    public var id: String
    public var question: String
    public var answer: String
    public var solution: String?
    public init(id: String, question: String, answer: String, solution: String? = nil) {
        self.id = id
        self.question = question
        self.answer = answer
        self.solution = solution
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

    public init(kind: BenchmarkKind, path: String) throws { try self.init(kind: kind, paths: [path]) }

    /// The problems of several files in order (a split shipped in parts); bad lines are named by file and line.
    public init(kind: BenchmarkKind, paths: [String]) throws {
        self.kind = kind
        for path in paths { try read(path, named: paths.count > 1 ? URL(fileURLWithPath: path).lastPathComponent + " " : "") }
    }

    private mutating func read(_ path: String, named file: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("cannot read \(path)") }
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                skipped.append("\(file)line \(index + 1): not a JSON object")
                continue
            }
            let question = (object["question"] as? String).flatMap { kind == .gsm8k ? $0 : nil } ?? (object["problem"] as? String)
            var answer: String?, solution: String?
            switch kind {
            case .gsm8k:
                if let text = object["answer"] as? String, let r = text.range(of: "####") {
                    answer = String(text[r.upperBound...])
                    solution = Self.withoutCalculatorNotes(String(text[..<r.lowerBound])).trimmingCharacters(in: .whitespacesAndNewlines)
                }
            case .math500, .aime24:
                answer = (object["answer"] as? String) ?? (object["answer"] as? Int).map(String.init)
                solution = object["solution"] as? String
            }
            guard let question, let answer else {
                skipped.append("\(file)line \(index + 1): missing question/problem or answer")
                continue
            }
            let id = (object["unique_id"] as? String) ?? (object["id"] as? Int).map(String.init) ?? "\(kind.rawValue)-\(index + 1)"
            problems.append(Problem(id: id, question: question, answer: answer.trimmingCharacters(in: .whitespacesAndNewlines),
                                    solution: solution))
        }
    }

    /// GSM8K's solutions carry calculator notes, `48/2 = <<48/2=24>>24`: the notes go.
    static func withoutCalculatorNotes(_ text: String) -> String {
        var out = "", rest = Substring(text)
        while let open = rest.range(of: "<<"), let close = rest[open.upperBound...].range(of: ">>") {
            out += rest[..<open.lowerBound]
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}

extension Dataset {
    /// The files of a benchmark split that ships with vpgea (Sources/VPGEA/Data, a resource of this module): `train`
    /// (GSM8K only, in parts `train-NN.jsonl` that keep each file small) or `test`.
    public static func shipped(_ kind: BenchmarkKind, split: String = "test") throws -> [String] {
        let urls = Bundle.module.urls(forResourcesWithExtension: "jsonl", subdirectory: "Data/\(kind.rawValue)") ?? []
        let parts = urls.compactMap { $0.path }.filter {
            let name = URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent
            return name == split || name.hasPrefix(split + "-")
        }.sorted()
        guard !parts.isEmpty else { throw DatasetError("vpgea ships no \(kind.rawValue) \(split) split") }
        return parts
    }
}
