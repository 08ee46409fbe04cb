import Foundation

/// Final-answer extraction and comparison. GSM8K: the model's last `\boxed{}`, else its last number, compared
/// as numbers. MATH-500: the last `\boxed{}`, normalised (spaces, `\left`/`\right`, `\dfrac`, degrees, units,
/// `\text{}`, trailing `.0`, thousands separators, `x =`, `x \in`, `(C)`) and compared as text, as numbers (fractions
/// and decimals), element by element for tuples and intervals (in order), or for sets, bare lists and `±` (in any
/// order). Checked against Hugging Face's math-verify on 4,000 pairs (AnswerCheckOracleTests). AIME24: integers.
public enum AnswerCheck {
    /// Whether `completion` answers `reference` correctly.
    public static func isCorrect(_ kind: BenchmarkKind, completion: String, reference: String) -> Bool {
        guard let predicted = extract(kind, from: completion) else { return false }
        return equivalent(kind, predicted, reference)
    }

    /// The final answer of a completion, or nil.
    public static func extract(_ kind: BenchmarkKind, from text: String) -> String? {
        let text = text.components(separatedBy: "</think>").last ?? text
        if let boxed = lastBoxed(text) { return boxed }
        switch kind {
        case .gsm8k, .aime24: return lastNumber(text)
        case .math500: return nil
        }
    }

    /// The content of the last `\boxed{…}` (or `\fbox{…}`), braces matched.
    public static func lastBoxed(_ text: String) -> String? {
        let chars = Array(text)
        var best: String?
        var i = 0
        while i < chars.count {
            if chars[i] == "\\", let open = matchCommand(chars, at: i, names: ["boxed", "fbox"]) {
                var depth = 0, j = open
                var content: [Character] = []
                while j < chars.count {
                    let c = chars[j]
                    if c == "{" { depth += 1; if depth == 1 { j += 1; continue } }
                    if c == "}" { depth -= 1; if depth == 0 { break } }
                    content.append(c)
                    j += 1
                }
                if depth == 0, j < chars.count { best = String(content) }
                i = j
            }
            i += 1
        }
        return best
    }

    /// Index of the `{` after `\name` at i, when the text there is one of the commands.
    private static func matchCommand(_ chars: [Character], at i: Int, names: [String]) -> Int? {
        for name in names {
            let n = Array(name)
            guard i + 1 + n.count <= chars.count, Array(chars[i + 1..<i + 1 + n.count]) == n else { continue }
            var j = i + 1 + n.count
            while j < chars.count, chars[j] == " " { j += 1 }
            if j < chars.count, chars[j] == "{" { return j }
        }
        return nil
    }

    /// The last number in the text ("1,234.5", "-3", ".5"), without thousands separators.
    public static func lastNumber(_ text: String) -> String? {
        let pattern = try! NSRegularExpression(pattern: #"-?\d[\d,]*(?:\.\d+)?|-?\.\d+"#)
        let ns = text as NSString
        guard let m = pattern.matches(in: text, range: NSRange(location: 0, length: ns.length)).last else { return nil }
        var s = ns.substring(with: m.range).replacingOccurrences(of: ",", with: "")
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    public static func equivalent(_ kind: BenchmarkKind, _ predicted: String, _ reference: String) -> Bool {
        switch kind {
        case .gsm8k:
            guard let a = number(simpleNumber(predicted)), let b = number(simpleNumber(reference)) else {
                return simpleNumber(predicted) == simpleNumber(reference)
            }
            return abs(a - b) <= 1e-6 * max(1, abs(b))
        case .aime24:
            // Answers are 0–999: a comma is a list ("2,3"), never a thousands separator.
            guard !normalize(predicted).contains(","), let a = Int(simpleNumber(predicted)), let b = Int(simpleNumber(reference))
            else { return false }
            return a == b
        case .math500:
            return mathEquivalent(normalize(predicted), normalize(reference))
        }
    }

    /// GSM8K/AIME answers: `$1,234.00`, `42.`, `\$5`, `10\%`, `\text{ dollars}` → plain number text.
    static func simpleNumber(_ s: String) -> String {
        var t = normalize(s)
        t = t.replacingOccurrences(of: ",", with: "")
        if let n = lastNumber(t), t.count > n.count, number(t) == nil { t = n }
        return t
    }

    /// MATH-style normalisation of an answer string.
    public static func normalize(_ input: String) -> String {
        var s = input.trimmingCharacters(in: .whitespacesAndNewlines)
        // Text wrappers: \text{Evelyn} → Evelyn; units after a number are dropped below.
        for (from, to) in [("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\:", ""),
                           ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("^{\\circ}", ""), ("^\\circ", ""), ("\\circ", ""),
                           ("°", ""), ("\\$", ""), ("$", ""), ("\\%", ""), ("%", ""), ("\\displaystyle", ""),
                           ("\\infty", "∞")] {
            s = s.replacingOccurrences(of: from, with: to)
        }
        // Relations, whole commands only (`\leq` is not `\le` followed by q).
        for (from, to) in [(#"\\leq?(?![A-Za-z])"#, "≤"), (#"\\geq?(?![A-Za-z])"#, "≥"), (#"\\neq?(?![A-Za-z])"#, "≠")] {
            s = s.replacingOccurrences(of: from, with: to, options: .regularExpression)
        }
        s = stripUnits(s)
        s = replaceCommand(s, "text") { $0 }
        s = replaceCommand(s, "mbox") { $0 }
        s = replaceCommand(s, "mathrm") { $0 }
        s = replaceCommand(s, "textbf") { $0 }
        s = s.replacingOccurrences(of: #"(?<!\\)\\ "#, with: "", options: .regularExpression)   // "\ " (not "\\ ")
        s = s.filter { !$0.isWhitespace }
        // A choice: "(C)" → "C".
        if let r = s.range(of: #"^\(([A-Z])\)$"#, options: .regularExpression), r == s.startIndex..<s.endIndex {
            s = String(s.dropFirst().dropLast())
        }
        // Thousands separators in a lone number: "10{,}080", "2,220" → "10080", "2220".
        s = s.replacingOccurrences(of: "{,}", with: ",")
        if s.range(of: #"^-?\d{1,3}(,\d{3})+(\.\d+)?$"#, options: .regularExpression) != nil {
            s = s.replacingOccurrences(of: ",", with: "")
        }
        // "x\in(2,3]" → the set itself.
        if let r = s.range(of: #"^[A-Za-z]\\in"#, options: .regularExpression) { s = String(s[r.upperBound...]) }
        // "(\pi)/(2)" → "\frac{\pi}{2}".
        s = s.replacingOccurrences(of: #"\(([^()]*)\)/\(([^()]*)\)"#, with: "\\\\frac{$1}{$2}", options: .regularExpression)
        // "x=5", "k = 3" → the value (a single variable on the left).
        if let eq = s.firstIndex(of: "="), s[..<eq].count <= 2, s[..<eq].allSatisfy({ $0.isLetter || $0 == "\\" }) {
            s = String(s[s.index(after: eq)...])
        }
        s = fixShorthand(s)
        if s.hasSuffix(".") { s.removeLast() }
        // Trailing ".0", ".00" on plain numbers.
        if let r = s.range(of: #"^(-?\d+)\.0+$"#, options: .regularExpression) { s = String(s[r]).components(separatedBy: ".")[0] }
        if s.hasPrefix("{"), s.hasSuffix("}"), balanced(String(s.dropFirst().dropLast())) { s = String(s.dropFirst().dropLast()) }
        return s
    }

    /// Drops a unit written after a number: `10\text{ cm}`, `5\mbox{ inches}`, `12 dollars`.
    static func stripUnits(_ s: String) -> String {
        var t = s
        if let r = t.range(of: #"^(-?[\d.,/\\{}a-z]*\d[}]?)\s*\\(text|mbox)\{\s*[A-Za-z][A-Za-z ]*\}$"#, options: .regularExpression), r == t.startIndex..<t.endIndex,
           let cut = t.range(of: #"\\(text|mbox)\{"#, options: .regularExpression) {
            t = String(t[..<cut.lowerBound])
        }
        if let r = t.range(of: #"^(-?\d[\d.,]*)\s+[A-Za-z]+( [A-Za-z]+)?$"#, options: .regularExpression), r == t.startIndex..<t.endIndex {
            t = String(t.split(separator: " ")[0])
        }
        return t
    }

    /// `\name{X}` → `f(X)` everywhere.
    static func replaceCommand(_ s: String, _ name: String, _ f: (String) -> String) -> String {
        var chars = Array(s)
        let key = Array("\\" + name + "{")
        var i = 0
        while i + key.count <= chars.count {
            if Array(chars[i..<i + key.count]) == key {
                var depth = 1, j = i + key.count
                while j < chars.count, depth > 0 {
                    if chars[j] == "{" { depth += 1 } else if chars[j] == "}" { depth -= 1 }
                    j += 1
                }
                guard depth == 0 else { break }
                let inner = String(chars[i + key.count..<j - 1])
                chars.replaceSubrange(i..<j, with: Array(f(inner)))
            } else {
                i += 1
            }
        }
        return String(chars)
    }

    /// `\frac12` → `\frac{1}{2}`, `\sqrt2` → `\sqrt{2}`.
    static func fixShorthand(_ s: String) -> String {
        var t = s
        t = t.replacingOccurrences(of: #"\\frac(\d)(\d)"#, with: "\\\\frac{$1}{$2}", options: .regularExpression)
        t = t.replacingOccurrences(of: #"\\frac\{([^{}]+)\}(\d)"#, with: "\\\\frac{$1}{$2}", options: .regularExpression)
        t = t.replacingOccurrences(of: #"\\frac(\d)\{"#, with: "\\\\frac{$1}{", options: .regularExpression)
        t = t.replacingOccurrences(of: #"\\sqrt(\d+)"#, with: "\\\\sqrt{$1}", options: .regularExpression)
        return t
    }

    static func balanced(_ s: String) -> Bool {
        var depth = 0
        for c in s {
            if c == "{" { depth += 1 } else if c == "}" { depth -= 1; if depth < 0 { return false } }
        }
        return depth == 0
    }

    /// Numeric value of an integer, decimal, `a/b`, `\frac{a}{b}` (signs allowed), else nil.
    public static func number(_ s: String) -> Double? {
        var t = s
        var sign = 1.0
        if t.hasPrefix("-") { sign = -1; t.removeFirst() }
        if t.hasPrefix("+") { t.removeFirst() }
        if let v = Double(t), t.range(of: #"^(\d+\.?\d*|\.\d+)$"#, options: .regularExpression) != nil { return sign * v }
        if let m = t.range(of: #"^\\frac\{(-?[\d.]+)\}\{(-?[\d.]+)\}$"#, options: .regularExpression), m.lowerBound == t.startIndex {
            let parts = t.dropFirst(6).dropLast().components(separatedBy: "}{")
            if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 { return sign * a / b }
        }
        let slash = t.split(separator: "/")
        if slash.count == 2, let a = Double(slash[0]), let b = Double(slash[1]), b != 0 { return sign * a / b }
        return nil
    }

    static func mathEquivalent(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        if let x = number(a), let y = number(b) { return abs(x - y) <= 1e-6 * max(1, abs(y)) }
        // Unordered: sets "\{…\}", bare lists "1,-2", and "a\pm b" (as "a+b,a-b"), element by element in any order.
        if let x = unordered(a), let y = unordered(b) {
            guard x.count == y.count, x.count > 1 else { return false }
            var rest = y
            for e in x {
                guard let k = rest.firstIndex(where: { mathEquivalent(e, $0) }) else { return false }
                rest.remove(at: k)
            }
            return true
        }
        // Tuples and intervals: same brackets, elements equivalent in order.
        let (pa, ea) = elements(a), (pb, eb) = elements(b)
        if ea.count > 1 || eb.count > 1 || pa != nil || pb != nil {
            guard pa?.0 == pb?.0, pa?.1 == pb?.1, ea.count == eb.count, ea != [a] || eb != [b] else { return false }
            return zip(ea, eb).allSatisfy { mathEquivalent($0, $1) }
        }
        return false
    }

    /// The elements of an answer that lists values in no particular order: a set `\{…\}`, a list without brackets, or
    /// one `±` (two values); nil for anything else (tuples and intervals keep their order).
    static func unordered(_ s: String) -> [String]? {
        if s.hasPrefix("\\{"), s.hasSuffix("\\}") { return elements(String(s.dropFirst(2).dropLast(2))).1.flatMap(plusMinus) }
        let (brackets, parts) = elements(s)
        guard brackets == nil else { return nil }
        let all = parts.flatMap(plusMinus)
        return all.count > 1 ? all : nil
    }

    /// "a\pmb" → ["a+b", "a-b"]; anything else as it is.
    static func plusMinus(_ s: String) -> [String] {
        guard let r = s.range(of: "\\pm") ?? s.range(of: "±") else { return [s] }
        let before = String(s[..<r.lowerBound]), after = String(s[r.upperBound...])
        return [before + "+" + after, before + "-" + after]
    }

    /// Splits a bracketed or comma list at top-level commas: "(1,2]" → (("(", "]"), ["1", "2"]).
    static func elements(_ s: String) -> ((Character, Character)?, [String]) {
        var body = Substring(s)
        var brackets: (Character, Character)?
        if let f = body.first, let l = body.last, "([".contains(f), ")]".contains(l), body.count >= 2 {
            brackets = (f, l)
            body = body.dropFirst().dropLast()
        }
        var parts: [String] = [], depth = 0, current = ""
        for c in body {
            if "({[".contains(c) { depth += 1 }
            if ")}]".contains(c) { depth -= 1 }
            if c == ",", depth == 0 { parts.append(current); current = ""; continue }
            current.append(c)
        }
        parts.append(current)
        return (brackets, parts)
    }
}
