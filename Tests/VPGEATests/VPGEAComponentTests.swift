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

    /// Leak phrases match whole words only ("as given" is not in "has given").
    @Test func leakPhrasesMatchWholeWords() {
        #expect(!VPGEATrainer.containsWords("She has given 3 apples away.", "as given"))
        #expect(VPGEATrainer.containsWords("As given, the total is 5.", "as given"))
        #expect(!VPGEATrainer.containsWords("No hints here: think.", "hint"))
        #expect(VPGEATrainer.containsWords("Using the hint, 5.", "hint"))
    }

    /// A path that states the answer first is recognised (not when the question contains the answer, nor when the
    /// number is part of another one).
    @Test func answerFirstPaths() {
        let question = "Tom has 3 bags of 4 apples. How many apples?"
        #expect(VPGEATrainer.statesAnswerFirst("12. Because 3 bags times 4 apples each make 3 * 4 apples in all, which is a lot.",
                                               answer: "12", question: question, window: 0.25))
        #expect(!VPGEATrainer.statesAnswerFirst("3 bags times 4 apples each make 3 * 4 apples in all, which is 12",
                                                answer: "12", question: question, window: 0.25))
        #expect(!VPGEATrainer.statesAnswerFirst("4 apples in each bag, and we are done soon: 3 * 4 = 12.", answer: "4",
                                                question: question, window: 0.25))
        #expect(!VPGEATrainer.containsAnswer("112 or 12.5 or x12", "12") && VPGEATrainer.containsAnswer("it is 1,012.", "1012"))
    }

    /// The length gate: shorter than the prior's correct paths, or not longer than the posterior's where the prior
    /// has none.
    @Test func lengthBar() {
        let bar = VPGEATrainer.lengthBar(prior: [100, 200], posterior: [50])!
        #expect(bar.admits(149) && !bar.admits(150))
        let fallback = VPGEATrainer.lengthBar(prior: [], posterior: [80, 120])!
        #expect(fallback.admits(100) && !fallback.admits(101))
        #expect(VPGEATrainer.lengthBar(prior: [], posterior: []) == nil)
    }

    /// The defaults the method fixes chose: β off, support on the answer's tokens, every filter on; and the rollout
    /// budget per problem is the same for VPG-EA (both views) and the baselines given twice the prior samples.
    @Test func defaultsAndRolloutBudget() {
        var s = VPGEASettings()
        #expect(s.posteriorWeight == 0 && s.posteriorTermOnPassing && s.supportOnAnswerTokens && s.lengthGate)
        #expect(s.minReasoningTokens > 0 && s.answerFirstWindow > 0)
        #expect(s.rolloutsPerProblem == 2 * s.groupSize)
        s.posteriorSamples = 6
        s.priorSamples = 2
        #expect(s.rolloutsPerProblem == 8)
        var baseline = VPGEASettings()
        baseline.method = .grpoLength
        baseline.priorSamples = 2 * baseline.groupSize
        #expect(baseline.rolloutsPerProblem == VPGEASettings().rolloutsPerProblem)
    }

    /// A base result made on other problems, seeds, samples, L_max or temperature is refused.
    @Test func baseResultsMustMatch() {
        var settings = EvaluationSettings()
        settings.limit = 3
        settings.seed = 7
        let problems = (0..<5).map { Problem(id: "p\($0)", question: "q", answer: "1") }
        let planned = Evaluation.planned(kind: .gsm8k, problems: problems, settings: settings)
        #expect(planned.mismatch(with: planned) == nil && planned.problems == 3)
        var other = settings
        other.seed = 8
        #expect(planned.mismatch(with: Evaluation.planned(kind: .gsm8k, problems: problems, settings: other))?.contains("seed") == true)
        other = settings
        other.maxTokens = 64
        #expect(planned.mismatch(with: Evaluation.planned(kind: .gsm8k, problems: problems, settings: other))?.contains("L_max") == true)
        let shuffled = Evaluation.planned(kind: .gsm8k, problems: Array(problems.reversed()), settings: settings)
        #expect(planned.mismatch(with: shuffled)?.contains("other problems") == true)
    }

    /// Tools/eval-compare pairs two runs' records: a run with the same answers in half the tokens has Δaccuracy 0
    /// and a token ratio of 0.5 (every resample too); runs on different problems are refused.
    @Test func pairedBootstrapComparison() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ records: [EvaluationRecord]) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try records.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }.joined(separator: "\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let base = (0..<20).flatMap { p in (0..<2).map { s in
            EvaluationRecord(problem: "p\(p)", sample: s, seed: UInt64(p * 10 + s), tokens: 100 + 10 * p, truncated: false, extracted: "1",
                             correct: (p + s) % 3 != 0, text: "…")
        } }
        let shorter = base.map { r in var r = r; r.tokens /= 2; return r }
        let a = try write("a.records.jsonl", shorter), b = try write("b.jsonl", base)
        func run(_ args: [String]) throws -> (Int32, String) { try Self.runTool("eval-compare", args) }
        let (status, output) = try run([a, b, "--json", "--resamples", "200"])
        #expect(status == 0, "\(output)")
        let result = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let ratio = result?["token_ratio"] as? [String: Double], delta = result?["delta_accuracy"] as? [String: Double]
        for key in ["estimate", "low95", "high95"] {
            #expect(abs((ratio?[key] ?? 0) - 0.5) < 1e-12 && abs(delta?[key] ?? 1) < 1e-12, "\(key): \(output)")
        }
        let fewer = try write("c.jsonl", Array(base.dropLast(2)))
        #expect(try run([a, fewer]).0 != 0)
        // Compressed records (the experiments commit their final records as RUN.records.jsonl.gz): named, or found
        // beside the missing RUN.records.jsonl.
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-9", a]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0 && !FileManager.default.fileExists(atPath: a))
        // vpgea-eval --plot reads them the same way (RUN.json → RUN.records.jsonl.gz).
        #expect(Evaluation.records(besides: dir.appendingPathComponent("a.json").path)?.map(\.tokens) == shorter.map(\.tokens))
        for name in [a + ".gz", a] {
            let (zipped, text) = try run([name, b, "--json", "--resamples", "200"])
            let zippedRatio = (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["token_ratio"] as? [String: Double]
            #expect(zipped == 0 && abs((zippedRatio?["estimate"] ?? 0) - 0.5) < 1e-12, "\(name): \(text)")
        }
        // Another sampling seed (the noise floor: the base against itself): refused unless --other-seeds, which pairs
        // by problem and sample number.
        let reseeded = try write("d.jsonl", shorter.map { r in var r = r; r.seed += 1_000; return r })
        #expect(try run([reseeded, b]).0 != 0)
        let (paired, text) = try run([reseeded, b, "--json", "--resamples", "200", "--other-seeds"])
        let pairedRatio = (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["token_ratio"] as? [String: Double]
        #expect(paired == 0 && abs((pairedRatio?["estimate"] ?? 0) - 0.5) < 1e-12, "\(text)")
    }

    /// Tools/eval-compare --strata C groups the problems by how many of C's samples were right and compares A with B
    /// within each group: a run that loses half of the easy problems shows −50 points there and no change on the hard
    /// ones; a C of other problems is refused.
    @Test func comparisonByDifficulty() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, right: (Int) -> Bool, problems: Range<Int> = 0..<20) throws -> String {
            let records = problems.flatMap { p in (0..<2).map { s in
                EvaluationRecord(problem: "p\(p)", sample: s, seed: UInt64(s), tokens: 100, truncated: false, extracted: "1",
                                 correct: right(p), text: "…")
            } }
            let path = dir.appendingPathComponent(name).path
            try records.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }.joined(separator: "\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let easy = { (p: Int) in p < 10 }
        // B also gets two of C's hard problems right (the groups are C's, not B's), and so does A.
        let c = try write("c.jsonl", right: easy), b = try write("b.jsonl", right: { p in p < 12 })
        let a = try write("a.jsonl", right: { p in p >= 5 && p < 12 })
        let (status, output) = try Self.runTool("eval-compare", [a, b, "--json", "--resamples", "200", "--strata", c])
        #expect(status == 0, "\(output)")
        let result = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let strata = result?["strata"] as? [[String: Any]] ?? []
        #expect(strata.map { $0["right_in_c"] as? Int } == [0, 2] && strata.map { $0["problems"] as? Int } == [10, 10], "\(output)")
        let delta = strata.map { ($0["delta_accuracy"] as? [String: Double])?["estimate"] }
        #expect(delta.count == 2 && abs((delta[0] ?? 1) - 0) < 1e-12 && abs((delta[1] ?? 0) + 0.5) < 1e-12, "\(output)")
        let fewer = try write("d.jsonl", right: easy, problems: 0..<19)
        #expect(try Self.runTool("eval-compare", [a, b, "--strata", fewer]).0 != 0)
    }

    /// A Python script of Tools/ with its arguments: exit status and output (stdout and stderr).
    static func runTool(_ name: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", TestSupport.repositoryRoot.appendingPathComponent("Tools/\(name)").path] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Tools/dev-table pairs every ARM/dev-N with the experiment's dev base: an arm whose step-10 answers are the
    /// base's in half the tokens gets a row with the base's accuracy and a token ratio of 0.5, interval included;
    /// steps sort by number, not as text (5 before 10).
    @Test func devTablePairsEachStepWithTheDevBase() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        for sub in ["dev", "arm"] { try fm.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true) }
        func write(_ run: String, _ records: [EvaluationRecord]) throws {
            let lines = try records.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            try lines.joined(separator: "\n").write(to: root.appendingPathComponent(run + ".records.jsonl"), atomically: true, encoding: .utf8)
            let tokens = Double(records.map(\.tokens).reduce(0, +)) / Double(records.count)
            let accuracy = Double(records.filter(\.correct).count) / Double(records.count)
            let result = EvaluationResult(label: run, model: "m", adapter: nil, bench: .gsm8k, problems: records.count, samples: 1,
                                          maxTokens: 256, seed: 1, accuracy: accuracy, meanTokens: tokens, truncationRate: 0,
                                          seconds: 1, tokensPerSecond: 1)
            try JSONEncoder().encode(result).write(to: root.appendingPathComponent(run + ".json"))
        }
        let base = (0..<10).map { p in
            EvaluationRecord(problem: "p\(p)", sample: 0, seed: UInt64(p), tokens: 100 + 20 * p, truncated: false, extracted: "1",
                             correct: p % 2 == 0, text: "…")
        }
        try write("dev/base", base)
        try write("arm/dev-10", base.map { r in var r = r; r.tokens /= 2; return r })
        try write("arm/dev-5", base)
        let (status, output) = try Self.runTool("dev-table", [root.path])
        #expect(status == 0, "\(output)")
        let rows = output.split(separator: "\n").filter { $0.hasPrefix("| arm") }
        #expect(rows.count == 2, "\(output)")
        #expect(rows.first?.hasPrefix("| arm, step 5 | 50% |") == true && rows.first?.contains("1.000 (1.000, 1.000)") == true, "\(output)")
        #expect(rows.last?.hasPrefix("| arm, step 10 | 50% |") == true && rows.last?.contains("0.500 (0.500, 0.500)") == true, "\(output)")
        // An arm named on the command line without dev evaluations is an error, not an empty table.
        #expect(try Self.runTool("dev-table", [root.path, "dev-missing"]).0 != 0)
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
        // With intervals: error bars, and the iso-ε³ curves through the base (ε³ = 1 passes through its point).
        let bars = RunIntervals(accuracy: 0.3...0.5, meanTokens: 140...160)
        let plot = Evaluation.svg([base, r], intervals: [nil, bars])
        #expect(plot.components(separatedBy: "<polyline").count - 1 == 5 && plot.contains("ε³ = 1 (base)"))
        #expect(plot.components(separatedBy: "<line").count - 1 == 2 + 2, "two axes and one run's two bars")
    }

    /// Labels of points that sit close together do not overlap each other or the points, and stay between the y axis
    /// and the right edge (a label left of a point near the axis once crossed it).
    @Test func plotLabelsDoNotOverlap() {
        var placer = LabelPlacer(points: [(300, 200), (306, 202), (310, 198), (640, 200), (120, 300), (150, 300)],
                                 left: 70, width: 700)
        let at = [placer.place("vpgea-frozen-seed1@20", x: 300, y: 200), placer.place("vpgea-seed1@10", x: 306, y: 202),
                  placer.place("base", x: 310, y: 198), placer.place("a long label near the edge", x: 640, y: 200),
                  placer.place("right of the axis", x: 150, y: 300), placer.place("seed1@30", x: 120, y: 300)]
        #expect(placer.placed.count == 6)
        #expect(placer.placed.allSatisfy { $0.x0 >= 70 })
        // Crowded beside the axis: when every spot is taken, the label still goes inside the plot.
        var crowded = LabelPlacer(points: [(80, 200)], left: 70, width: 700)
        for i in 0..<9 { _ = crowded.place("crowded-\(i)", x: 80, y: 200) }
        #expect(crowded.placed.allSatisfy { $0.x0 >= 70 && $0.x1 <= 700 })
        for i in placer.placed.indices {
            for j in placer.placed.indices where j > i { #expect(!LabelPlacer.overlap(placer.placed[i], placer.placed[j])) }
        }
        #expect(placer.placed.allSatisfy { $0.x1 <= 700 })
        #expect(at[3].anchor == "end", "the label by the right edge goes to the point's left")
    }

    /// The bootstrap's intervals: seeded (the same twice), around the point estimate, and degenerate where every
    /// problem gives the same answer.
    @Test func bootstrapIntervals() throws {
        func record(_ p: Int, _ correct: Bool, _ tokens: Int) -> EvaluationRecord {
            EvaluationRecord(problem: "p\(p)", sample: 0, seed: 0, tokens: tokens, truncated: false, extracted: nil, correct: correct, text: "")
        }
        let mixed = (0..<40).map { record($0, $0 % 4 != 0, 100 + $0) }   // 75% correct, tokens 100…139
        let a = try #require(Evaluation.bootstrap(mixed)), b = try #require(Evaluation.bootstrap(mixed))
        #expect(a == b)
        #expect(a.accuracy.contains(0.75) && a.accuracy.lowerBound > 0.5 && a.accuracy.upperBound < 0.95)
        #expect(a.meanTokens.contains(119.5) && a.meanTokens.upperBound - a.meanTokens.lowerBound < 15)
        let all = try #require(Evaluation.bootstrap((0..<10).map { record($0, true, 50) }))
        #expect(all.accuracy == 1...1 && all.meanTokens == 50...50)
        #expect(Evaluation.bootstrap([]) == nil)
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
        #expect(d.problems[0].solution == "2+3=5")
        #expect(Dataset.withoutCalculatorNotes("48/2 = <<48/2=24>>24 clips") == "48/2 = 24 clips")
        #expect(d.skipped.count == 2 && d.skipped[0].hasPrefix("line 2"))
        #expect(AnswerCheck.isCorrect(.gsm8k, completion: "so 1001", reference: d.problems[1].answer))
        // The benchmark files that ship with vpgea, whole and with no bad line.
        for (kind, split, count) in [(BenchmarkKind.math500, "test", 500), (.aime24, "test", 30), (.gsm8k, "test", 1319), (.gsm8k, "train", 7473)] {
            let shipped = try Dataset(kind: kind, paths: try Dataset.shipped(kind, split: split))
            #expect(shipped.problems.count == count && shipped.skipped.isEmpty, "\(kind) \(split)")
        }
        #expect(throws: DatasetError.self) { try Dataset.shipped(.aime24, split: "train") }
    }
}
