import Foundation
import Sampling

/// 95% intervals of a run's accuracy and mean tokens, from a bootstrap over its problems.
public struct RunIntervals: Sendable, Equatable {
    public var accuracy: ClosedRange<Double>
    public var meanTokens: ClosedRange<Double>
}

extension Evaluation {
    /// The per-completion records of the run saved as `json` (RUN.json): RUN.records.jsonl, or RUN.records.jsonl.gz
    /// through the system's gzip (the experiments commit their final records compressed); nil when neither is
    /// there. Lines that are not records are skipped.
    public static func records(besides json: String) -> [EvaluationRecord]? {
        let path = recordsPath(besides: json)
        guard let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? gunzipped(path + ".gz") else { return nil }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(EvaluationRecord.self, from: Data($0.utf8)) }
    }

    /// Where `vpgea-eval --out RUN.json` writes its records: RUN.records.jsonl.
    public static func recordsPath(besides json: String) -> String {
        (json.hasSuffix(".json") ? String(json.dropLast(5)) : json) + ".records.jsonl"
    }

    /// A gzip file's text (nil when the file or gzip is missing, or the text is not UTF-8).
    static func gunzipped(_ path: String) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let gzip = Process(), pipe = Pipe()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-dc", path]
        gzip.standardOutput = pipe
        guard (try? gzip.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        return gzip.terminationStatus == 0 ? String(data: data, encoding: .utf8) : nil
    }

    /// Percentile intervals (2.5–97.5%) of accuracy and mean tokens: problems are drawn with replacement, each with
    /// all its samples, `resamples` times (seeded, so a plot repeats).
    public static func bootstrap(_ records: [EvaluationRecord], resamples: Int = 2000, seed: UInt64 = 0) -> RunIntervals? {
        // In problem order: a dictionary's order differs between instances, and the seeded draws must meet the
        // same problems each time.
        let byProblem = Dictionary(grouping: records, by: \.problem).sorted { $0.key < $1.key }.map { _, rs in
            (n: rs.count, correct: rs.filter(\.correct).count, tokens: rs.map(\.tokens).reduce(0, +))
        }
        guard !byProblem.isEmpty else { return nil }
        var rng = SeededGenerator(seed: seed)
        var accuracies: [Double] = [], tokens: [Double] = []
        for _ in 0..<resamples {
            var n = 0, correct = 0, total = 0
            for _ in byProblem.indices {
                let p = byProblem[Int.random(in: 0..<byProblem.count, using: &rng)]
                n += p.n
                correct += p.correct
                total += p.tokens
            }
            accuracies.append(Double(correct) / Double(n))
            tokens.append(Double(total) / Double(n))
        }
        func interval(_ v: [Double]) -> ClosedRange<Double> {
            let sorted = v.sorted()
            return sorted[Int(0.025 * Double(sorted.count - 1))]...sorted[Int(0.975 * Double(sorted.count - 1))]
        }
        return RunIntervals(accuracy: interval(accuracies), meanTokens: interval(tokens))
    }

    /// An SVG plot of accuracy against mean tokens: a labelled point per run with its 95% intervals as error bars
    /// (when known), and curves of equal ε³ relative to the first run (the base) at 0.8, 1, 1.25, 1.5 and 2 — above and
    /// left of the base's curve is better. The axes fit the data.
    public static func svg(_ results: [EvaluationResult], intervals: [RunIntervals?] = []) -> String {
        let w = 700.0, h = 460.0, left = 70.0, right = 110.0, top = 30.0, bottom = 60.0
        let bars = results.indices.map { $0 < intervals.count ? intervals[$0] : nil }
        // The data's extent, error bars included, with a margin.
        let tLow = zip(results, bars).map { $1?.meanTokens.lowerBound ?? $0.meanTokens }.min() ?? 0
        let tHigh = zip(results, bars).map { $1?.meanTokens.upperBound ?? $0.meanTokens }.max() ?? 1
        let aLow = zip(results, bars).map { $1?.accuracy.lowerBound ?? $0.accuracy }.min() ?? 0
        let aHigh = zip(results, bars).map { $1?.accuracy.upperBound ?? $0.accuracy }.max() ?? 1
        let tPad = max((tHigh - tLow) * 0.15, 5), aPad = max((aHigh - aLow) * 0.15, 0.02)
        let t0 = max(tLow - tPad, 0), t1 = tHigh + tPad, a0 = max(aLow - aPad, 0), a1 = min(aHigh + aPad, 1)
        func x(_ t: Double) -> Double { left + (t - t0) / (t1 - t0) * (w - left - right) }
        func y(_ a: Double) -> Double { h - bottom - (a - a0) / (a1 - a0) * (h - top - bottom) }
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        for i in 0...4 {
            let t = t0 + (t1 - t0) * Double(i) / 4, a = a0 + (a1 - a0) * Double(i) / 4
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", x(t), h - bottom + 18, t)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n", left - 6, y(a) + 4, a * 100)
        }
        s += "<text x=\"\((left + w - right) / 2)\" y=\"\(h - 15)\" text-anchor=\"middle\">mean generated tokens</text>\n"
        s += "<text x=\"18\" y=\"\((top + h - bottom) / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 18 \((top + h - bottom) / 2))\">accuracy</text>\n"
        // Iso-ε³ curves: (A / A_b)³ · (T_b / T) = c, so A = A_b · (c · T / T_b)^(1/3).
        if let base = results.first, base.accuracy > 0, base.meanTokens > 0 {
            s += "<g clip-path=\"url(#area)\"><clipPath id=\"area\"><rect x=\"\(left)\" y=\"\(top)\" width=\"\(w - left - right)\" height=\"\(h - top - bottom)\"/></clipPath>\n"
            var labels = ""
            for c in [0.8, 1, 1.25, 1.5, 2.0] {
                let points = (0...40).map { i -> (Double, Double) in
                    let t = t0 + (t1 - t0) * Double(i) / 40
                    return (t, base.accuracy * pow(c * t / base.meanTokens, 1.0 / 3))
                }
                let path = points.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ")
                s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"#bbb\" stroke-dasharray=\"\(c == 1 ? "none" : "4 3")\"/>\n"
                // Label where the curve leaves the plot on the right, if it is inside vertically.
                let end = points.last!
                if end.1 >= a0 && end.1 <= a1 {
                    labels += String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"#888\">ε³ = %@</text>\n", w - right + 4, y(end.1) + 4,
                                     c == 1 ? "1 (base)" : String(format: "%g", c))
                }
            }
            s += "</g>\n" + labels
        }
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
        var placer = LabelPlacer(points: results.map { (x($0.meanTokens), y($0.accuracy)) }, left: left, width: w)
        for (i, r) in results.enumerated() {
            let c = colors[i % colors.count], px = x(r.meanTokens), py = y(r.accuracy)
            if let b = bars[i] {
                s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\"/>\n",
                            x(b.meanTokens.lowerBound), py, x(b.meanTokens.upperBound), py, c)
                s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\"/>\n",
                            px, y(b.accuracy.lowerBound), px, y(b.accuracy.upperBound), c)
            }
            s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%@\"/>\n", px, py, c)
            let at = placer.place(r.label, x: px, y: py)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%@\" fill=\"%@\">%@</text>\n", at.x, at.y,
                        at.anchor, c, escaped(r.label))
        }
        let note = bars.contains { $0 == nil } ? "bars: 95% bootstrap intervals over problems (none where a run's records are missing)"
                                                : "bars: 95% bootstrap intervals over problems"
        s += "<text x=\"\(left)\" y=\"18\" fill=\"#555\">\(note); grey: equal ε³ to the first run</text>\n"
        return s + "</svg>\n"
    }
}

/// Where each point's label goes: the first of a few spots beside the point (right, then left; above, then below,
/// then further out) whose box meets no label placed before it, no point, the y axis and the plot's right edge; text
/// widths are estimated (12 px sans-serif: ~7 px a character).
struct LabelPlacer {
    struct Box { var x0, y0, x1, y1: Double }
    let points: [(Double, Double)]
    let left, width: Double   // the y axis and the right edge
    private(set) var placed: [Box] = []

    init(points: [(Double, Double)], left: Double, width: Double) {
        self.points = points
        self.left = left
        self.width = width
    }

    /// The label's text position and anchor; when every spot is taken, the spot inside the plot that meets the fewest
    /// labels and points.
    mutating func place(_ label: String, x: Double, y: Double) -> (x: Double, y: Double, anchor: String) {
        let textWidth = 7.0 * Double(label.count)
        var best: (x: Double, y: Double, anchor: String, box: Box, clashes: Int)?
        for dy in [-7.0, 16, -21, 30, -35, 44] {
            for right in [true, false] {
                let tx = right ? x + 8 : x - 8, ty = y + dy, anchor = right ? "start" : "end"
                let box = Box(x0: right ? tx : tx - textWidth, y0: ty - 11, x1: right ? tx + textWidth : tx, y1: ty + 3)
                let outside = box.x1 > width || box.x0 < left
                let clashes = (outside ? 1000 : 0) + 10 * placed.count { Self.overlap($0, box) }
                    + points.count { $0.0 + 5 > box.x0 && $0.0 - 5 < box.x1 && $0.1 + 5 > box.y0 && $0.1 - 5 < box.y1 }
                if clashes == 0 { placed.append(box); return (tx, ty, anchor) }
                if best == nil || clashes < best!.clashes { best = (tx, ty, anchor, box, clashes) }
            }
        }
        placed.append(best!.box)
        return (best!.x, best!.y, best!.anchor)
    }

    static func overlap(_ a: Box, _ b: Box) -> Bool { a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 }
}
