import Foundation
import Qwen2
import Testing
import TestSupport
import Training
@testable import VPGEA

@Suite struct VPGEAComponentTests {
    @Test func advantagesAreGroupRelative() {
        let a = groupAdvantages([1, 0, 0.5, 0.5])
        #expect(abs(a.reduce(0, +)) < 1e-5)
        #expect(a[0] > 0 && a[1] < 0 && abs(a[2]) < 1e-6)
        #expect(groupAdvantages([0.3, 0.3, 0.3]).allSatisfy { $0 == 0 })   // equal utilities: no signal
    }

    /// The forward-KL gradient against central differences in Double.
    @Test func forwardKLGradient() {
        let vocab = 11
        let teacherLogits: [Float] = (0..<vocab).map { Float(sin(Double($0) * 1.7)) * 2 }
        let student: [Double] = (0..<vocab).map { cos(Double($0) * 0.9) * 1.5 }
        let capture = LogProbabilityCapture(positions: [4], vocab: vocab)
        var t = teacherLogits
        _ = t.withUnsafeMutableBufferPointer { capture.lossAndGradient(0, logits: $0.baseAddress!, vocab: vocab) }
        let loss = ForwardKLLoss(positions: [7], teacher: capture, weight: 0.3)
        var g = student.map(Float.init)
        let value = g.withUnsafeMutableBufferPointer { loss.lossAndGradient(0, logits: $0.baseAddress!, vocab: vocab) }
        func kl(_ s: [Double]) -> Double {
            func logSoftmax(_ x: [Double]) -> [Double] { let m = x.max()!; let z = log(x.map { exp($0 - m) }.reduce(0, +)) + m; return x.map { $0 - z } }
            let p = logSoftmax(teacherLogits.map(Double.init)), q = logSoftmax(s)
            return 0.3 * zip(p, q).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
        }
        #expect(abs(value - kl(student)) < 1e-5)
        for i in 0..<vocab {
            var p = student, m = student
            p[i] += 1e-5
            m[i] -= 1e-5
            #expect(abs(Double(g[i]) - (kl(p) - kl(m)) / 2e-5) < 1e-5)
        }
    }

    @Test func reasoningStopsAtTheLastBox() {
        #expect(VPGEATrainer.reasoning(of: "2+3=5, so \\boxed{5}.") == "2+3=5, so ")
        #expect(VPGEATrainer.reasoning(of: "no box") == "no box")
    }

    @Test func epsilon3AndReduction() {
        var r = EvaluationResult(label: "a", model: "m", adapter: nil, bench: .gsm8k, problems: 10, samples: 1, maxTokens: 256, seed: 0,
                                 accuracy: 0.4, meanTokens: 150, truncationRate: 0, seconds: 1, tokensPerSecond: 1)
        let base = EvaluationResult(label: "base", model: "m", adapter: nil, bench: .gsm8k, problems: 10, samples: 1, maxTokens: 256,
                                    seed: 0, accuracy: 0.5, meanTokens: 200, truncationRate: 0.1, seconds: 1, tokensPerSecond: 1)
        r.compare(with: base)
        #expect(abs(r.tokenReduction! - 0.25) < 1e-12)
        #expect(abs(r.epsilon3! - pow(0.8, 3) * 200 / 150) < 1e-12)
        let table = Evaluation.markdown([base, r])
        #expect(table.contains("25.0%") && table.contains("ε³"))
        let svg = Evaluation.svg([base, r])
        #expect(svg.hasPrefix("<svg") && svg.contains("<circle") && svg.contains(">base<"))
    }

    @Test func datasetsLoadAndReportBadLines() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("g.jsonl").path
        try """
            {"question": "What is 2+3?", "answer": "2+3=5\\n#### 5"}
            not json
            {"question": "No answer marker", "answer": "5"}
            {"question": "What is 1,000+1?", "answer": "#### 1,001"}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let d = try Dataset(kind: .gsm8k, path: path)
        #expect(d.problems.map(\.answer) == ["5", "1,001"])
        #expect(d.skipped.count == 2 && d.skipped[0].hasPrefix("line 2"))
        #expect(AnswerCheck.isCorrect(.gsm8k, completion: "so 1001", reference: d.problems[1].answer))
        // The benchmark files that ship with vpgea, whole and with no bad line.
        for (kind, split, count) in [(BenchmarkKind.math500, "test", 500), (.aime24, "test", 30), (.gsm8k, "test", 1319), (.gsm8k, "train", 7473)] {
            let shipped = try Dataset(kind: kind, path: try Dataset.shipped(kind, split: split))
            #expect(shipped.problems.count == count && shipped.skipped.isEmpty, "\(kind) \(split)")
        }
        #expect(throws: DatasetError.self) { try Dataset.shipped(.aime24, split: "train") }
    }
}
