/// JSON in and out of template values. Encoding follows Python's `json.dumps(x, ensure_ascii=False)` (what
/// Hugging Face's `tojson` calls): `", "` and `": "` separators, non-ASCII kept, keys in insertion order.
/// Decoding keeps key order too (Foundation's JSONSerialization does not).
public enum JSON {
    public static func encode(_ v: JinjaValue, indent: Int? = nil) throws(TemplateError) -> String {
        try encode(v, indent: indent, at: nil)
    }

    static func encode(_ v: JinjaValue, indent: Int?, at: SourcePosition?, level: Int = 0) throws(TemplateError) -> String {
        let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) }
        let closing = indent.map { "\n" + String(repeating: " ", count: $0 * level) } ?? ""
        let separator = indent == nil ? ", " : ","
        switch v {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            return JinjaValue.pythonFloat(d)
        case .string(let s): return quote(s)
        case .list(let l):
            if l.isEmpty { return "[]" }
            var parts: [String] = []
            for item in l { parts.append(try encode(item, indent: indent, at: at, level: level + 1)) }
            return "[" + (newline ?? "") + parts.joined(separator: separator + (newline ?? "")) + closing + "]"
        case .dict(let d):
            if d.entries.isEmpty { return "{}" }
            var parts: [String] = []
            for (k, item) in d.entries { parts.append(quote(k) + ": " + (try encode(item, indent: indent, at: at, level: level + 1))) }
            return "{" + (newline ?? "") + parts.joined(separator: separator + (newline ?? "")) + closing + "}"
        case .namespace(let ns): return try encode(.dict(ns.values), indent: indent, at: at, level: level)
        case .undefined: throw TemplateError("Object of type Undefined is not JSON serializable", at: at)
        case .callable: throw TemplateError("Object of type function is not JSON serializable", at: at)
        }
    }

    /// A JSON string literal, as Python writes it with ensure_ascii=False.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    /// Parses JSON text into a value; objects keep their key order.
    public static func decode(_ text: String) throws(TemplateError) -> JinjaValue {
        var p = Parser(Array(text.utf8))
        let v = try p.value()
        p.skipSpace()
        guard p.i == p.b.count else { throw TemplateError("JSON: extra text at byte \(p.i)") }
        return v
    }

    private struct Parser {
        let b: [UInt8]
        var i = 0
        init(_ b: [UInt8]) { self.b = b }

        mutating func skipSpace() { while i < b.count, [0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 } }

        mutating func fail(_ m: String) -> TemplateError { TemplateError("JSON: \(m) at byte \(i)") }

        mutating func literal(_ word: String, _ v: JinjaValue) throws(TemplateError) -> JinjaValue {
            let w = Array(word.utf8)
            guard i + w.count <= b.count, Array(b[i..<i + w.count]) == w else { throw fail("unexpected text") }
            i += w.count
            return v
        }

        mutating func value() throws(TemplateError) -> JinjaValue {
            skipSpace()
            guard i < b.count else { throw fail("unexpected end") }
            switch b[i] {
            case UInt8(ascii: "{"):
                i += 1
                var d = JinjaDict()
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .dict(d) }
                while true {
                    skipSpace()
                    guard case .string(let key) = try value() else { throw fail("object keys must be strings") }
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    d[key] = try value()
                    skipSpace()
                    guard i < b.count else { throw fail("unexpected end") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    guard b[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                    i += 1
                    return .dict(d)
                }
            case UInt8(ascii: "["):
                i += 1
                var l: [JinjaValue] = []
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .list(l) }
                while true {
                    l.append(try value())
                    skipSpace()
                    guard i < b.count else { throw fail("unexpected end") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    guard b[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                    i += 1
                    return .list(l)
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .none)
            default: return try number()
            }
        }

        mutating func string() throws(TemplateError) -> String {
            i += 1
            var out: [UInt8] = []
            while i < b.count, b[i] != UInt8(ascii: "\"") {
                if b[i] == UInt8(ascii: "\\") {
                    i += 1
                    guard i < b.count else { throw fail("bad escape") }
                    let e = b[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code), i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                            i += 2
                            let low = try hex4()
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        out += Array(String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8)
                    default: out.append(e)
                    }
                } else {
                    out.append(b[i])
                    i += 1
                }
            }
            guard i < b.count else { throw fail("unterminated string") }
            i += 1
            return String(decoding: out, as: UTF8.self)
        }

        mutating func hex4() throws(TemplateError) -> UInt32 {
            guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            i += 4
            return v
        }

        mutating func number() throws(TemplateError) -> JinjaValue {
            let start = i
            while i < b.count, "+-0123456789.eE".utf8.contains(b[i]) { i += 1 }
            let text = String(decoding: b[start..<i], as: UTF8.self)
            if let n = Int(text) { return .int(n) }
            if let d = Double(text) { return .double(d) }
            throw fail("bad value")
        }
    }
}
