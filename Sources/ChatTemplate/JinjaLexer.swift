/// Where something is in the template, for error messages.
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "line \(line), column \(column)" }
}

public struct TemplateError: Error, CustomStringConvertible {
    public let message: String
    public let position: SourcePosition?
    public init(_ message: String, at position: SourcePosition? = nil) {
        self.message = message
        self.position = position
    }
    public var description: String { position.map { "\(message) (template \($0))" } ?? message }
}

enum Token: Equatable {
    case text(String)
    case expressionStart, expressionEnd, statementStart, statementEnd
    case name(String)
    case string(String)
    case int(Int)
    case double(Double)
    case op(String)
    case end
}

struct LocatedToken {
    let token: Token
    let position: SourcePosition
}

/// Splits a template into text and tag tokens, applying whitespace control as Hugging Face renders chat
/// templates: `trim_blocks` (drop the newline after a block tag), `lstrip_blocks` (drop spaces and tabs before a
/// block tag on its own line), and the `-` / `+` markers inside tags.
struct JinjaLexer {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var line = 1, column = 1

    init(_ template: String) { s = Array(template.unicodeScalars) }

    private enum Segment {
        case text(String, SourcePosition)
        case tag(kind: Kind, trimLeft: Bool, trimRight: Bool, keepLeft: Bool, tokens: [LocatedToken], at: SourcePosition)
        enum Kind { case expression, statement, comment }
    }

    static func tokenize(_ template: String) throws(TemplateError) -> [LocatedToken] {
        var lexer = JinjaLexer(template)
        return try lexer.run()
    }

    private var position: SourcePosition { SourcePosition(line: line, column: column) }

    private func starts(_ p: String, at k: Int? = nil) -> Bool {
        var j = k ?? i
        for c in p.unicodeScalars {
            guard j < s.count, s[j] == c else { return false }
            j += 1
        }
        return true
    }

    private mutating func advance(_ n: Int = 1) {
        for _ in 0..<n where i < s.count {
            if s[i] == "\n" { line += 1; column = 1 } else { column += 1 }
            i += 1
        }
    }

    private mutating func run() throws(TemplateError) -> [LocatedToken] {
        var segments: [Segment] = []
        var text = String.UnicodeScalarView()
        var textStart = position
        while i < s.count {
            let kind: Segment.Kind? = starts("{{") ? .expression : starts("{%") ? .statement : starts("{#") ? .comment : nil
            guard let kind else {
                text.append(s[i])
                advance()
                continue
            }
            if !text.isEmpty { segments.append(.text(String(text), textStart)) }
            text = String.UnicodeScalarView()
            let at = position
            advance(2)
            var trimLeft = false, keepLeft = false
            if starts("-") { trimLeft = true; advance() } else if starts("+") { keepLeft = true; advance() }
            var tokens: [LocatedToken] = []
            var trimRight = false
            if kind == .comment {
                while i < s.count, !(starts("#}") || starts("-#}")) { advance() }
                guard i < s.count else { throw TemplateError("unclosed comment", at: at) }
                if starts("-") { trimRight = true; advance() }
                advance(2)
            } else {
                let closer = kind == .expression ? "}}" : "%}"
                while true {
                    while i < s.count, s[i] == " " || s[i] == "\t" || s[i] == "\n" || s[i] == "\r" { advance() }
                    guard i < s.count else { throw TemplateError("unclosed tag", at: at) }
                    if starts(closer) { advance(2); break }
                    if (starts("-") || starts("+")) && starts(closer, at: i + 1) {
                        trimRight = starts("-")
                        advance(3)
                        break
                    }
                    tokens.append(try lexToken())
                }
            }
            segments.append(.tag(kind: kind, trimLeft: trimLeft, trimRight: trimRight, keepLeft: keepLeft,
                                 tokens: tokens, at: at))
            textStart = position
        }
        if !text.isEmpty { segments.append(.text(String(text), textStart)) }
        return Self.applyWhitespaceControl(segments)
    }

    private static func applyWhitespaceControl(_ segments: [Segment]) -> [LocatedToken] {
        var texts: [Int: [Unicode.Scalar]] = [:]
        for (k, seg) in segments.enumerated() { if case .text(let t, _) = seg { texts[k] = Array(t.unicodeScalars) } }
        // Whether each text segment starts a line: at the template start, or after a tag whose end consumed a
        // newline (Jinja's `line_starting`).
        var startsLine: [Int: Bool] = [0: true]
        for (k, seg) in segments.enumerated() {
            guard case .tag(let kind, let trimLeft, let trimRight, let keepLeft, _, _) = seg else { continue }
            let block = kind != .expression
            if var before = texts[k - 1] {
                if trimLeft {
                    while let last = before.last, last.properties.isWhitespace { before.removeLast() }
                } else if block, !keepLeft {
                    // lstrip_blocks: spaces and tabs between the line start and the tag go.
                    let lineStart = (before.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                    if lineStart > 0 || startsLine[k - 1] == true,
                       before[lineStart...].allSatisfy({ $0 == " " || $0 == "\t" }) {
                        before.removeSubrange(lineStart...)
                    }
                }
                texts[k - 1] = before
            }
            if var after = texts[k + 1] {
                var consumed: Unicode.Scalar? = nil
                if trimRight {
                    while let first = after.first, first.properties.isWhitespace { consumed = after.removeFirst() }
                } else if block, after.first == "\n" {
                    consumed = after.removeFirst()   // trim_blocks
                }
                texts[k + 1] = after
                startsLine[k + 1] = consumed == "\n"
            }
        }
        var out: [LocatedToken] = []
        for (k, seg) in segments.enumerated() {
            switch seg {
            case .text(_, let at):
                if let t = texts[k], !t.isEmpty {
                    out.append(LocatedToken(token: .text(String(String.UnicodeScalarView(t))), position: at))
                }
            case .tag(let kind, _, _, _, let tokens, let at):
                switch kind {
                case .comment: break
                case .expression:
                    out.append(LocatedToken(token: .expressionStart, position: at))
                    out += tokens
                    out.append(LocatedToken(token: .expressionEnd, position: at))
                case .statement:
                    out.append(LocatedToken(token: .statementStart, position: at))
                    out += tokens
                    out.append(LocatedToken(token: .statementEnd, position: at))
                }
            }
        }
        out.append(LocatedToken(token: .end, position: out.last?.position ?? SourcePosition(line: 1, column: 1)))
        return out
    }

    private static let operators = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=",
                                    "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"]

    private mutating func lexToken() throws(TemplateError) -> LocatedToken {
        let at = position
        let c = s[i]
        if c == "'" || c == "\"" {
            advance()
            var value = String.UnicodeScalarView()
            while i < s.count, s[i] != c {
                if s[i] == "\\", i + 1 < s.count {
                    advance()
                    switch s[i] {
                    case "n": value.append("\n")
                    case "t": value.append("\t")
                    case "r": value.append("\r")
                    case "\\": value.append("\\")
                    case "'": value.append("'")
                    case "\"": value.append("\"")
                    default:
                        value.append("\\")
                        value.append(s[i])
                    }
                } else {
                    value.append(s[i])
                }
                advance()
            }
            guard i < s.count else { throw TemplateError("unterminated string", at: at) }
            advance()
            return LocatedToken(token: .string(String(value)), position: at)
        }
        if c.properties.numericType != nil, ("0"..."9").contains(c) {
            var digits = ""
            while i < s.count, ("0"..."9").contains(s[i]) || s[i] == "_" { if s[i] != "_" { digits.unicodeScalars.append(s[i]) }; advance() }
            if i + 1 < s.count, s[i] == ".", ("0"..."9").contains(s[i + 1]) {
                digits += "."
                advance()
                while i < s.count, ("0"..."9").contains(s[i]) { digits.unicodeScalars.append(s[i]); advance() }
                return LocatedToken(token: .double(Double(digits) ?? 0), position: at)
            }
            guard let value = Int(digits) else { throw TemplateError("number \(digits) is too large", at: at) }
            return LocatedToken(token: .int(value), position: at)
        }
        if c == "_" || c.properties.isAlphabetic {
            var name = String.UnicodeScalarView()
            while i < s.count, s[i] == "_" || s[i].properties.isAlphabetic || ("0"..."9").contains(s[i]) {
                name.append(s[i])
                advance()
            }
            return LocatedToken(token: .name(String(name)), position: at)
        }
        for op in Self.operators where starts(op) {
            advance(op.unicodeScalars.count)
            return LocatedToken(token: .op(op), position: at)
        }
        throw TemplateError("unexpected character \"\(c)\"", at: at)
    }
}
