/// A value in a template: Python's types as Jinja sees them. Dictionaries keep insertion order (as Python's do),
/// because `tojson` and iteration must follow it.
public indirect enum JinjaValue: Sendable, Equatable {
    case undefined
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([JinjaValue])
    case dict(JinjaDict)
    case namespace(JinjaNamespace)
    case callable(JinjaCallable)

    public static func == (a: JinjaValue, b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): true
        case (.bool(let x), .bool(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.list(let x), .list(let y)): x == y
        case (.dict(let x), .dict(let y)): x == y
        case (.namespace(let x), .namespace(let y)): x === y
        default:
            if let x = a.number, let y = b.number { x == y } else { false }
        }
    }

    /// Ints, floats and bools as a Double (Python's numeric tower, with True == 1).
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }

    /// Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s): !s.isEmpty
        case .list(let l): !l.isEmpty
        case .dict(let d): !d.entries.isEmpty
        case .namespace, .callable: true
        }
    }

    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .list: "list"
        case .dict: "dict"
        case .namespace: "Namespace"
        case .callable: "function"
        }
    }
}

/// An insertion-ordered dictionary with string keys.
public struct JinjaDict: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: JinjaValue)] = []

    public init(_ entries: [(String, JinjaValue)] = []) {
        for (k, v) in entries { self[k] = v }
    }

    public subscript(key: String) -> JinjaValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    /// Python's dict equality: the same keys and values, in any order.
    public static func == (a: JinjaDict, b: JinjaDict) -> Bool {
        a.entries.count == b.entries.count && a.entries.allSatisfy { b[$0.key] == $0.value }
    }
}

/// `namespace(...)`: the one mutable object in Jinja, so that loops can update outer state.
public final class JinjaNamespace: @unchecked Sendable {
    var values: JinjaDict
    init(_ values: JinjaDict) { self.values = values }
}

/// A function a template can call: a built-in (`raise_exception`, `namespace`) or a macro.
public struct JinjaCallable: Sendable {
    let name: String
    let call: @Sendable (_ positional: [JinjaValue], _ keywords: JinjaDict, _ interpreter: JinjaInterpreter) throws -> JinjaValue
}

extension JinjaValue {
    /// Python's `str()` of the value, which is what `{{ }}` prints.
    public var text: String {
        switch self {
        case .undefined: ""
        case .string(let s): s
        default: repr
        }
    }

    /// Python's `repr()`.
    var repr: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .double(let d): Self.pythonFloat(d)
        case .string(let s): Self.pythonQuote(s)
        case .list(let l): "[" + l.map(\.repr).joined(separator: ", ") + "]"
        case .dict(let d): "{" + d.entries.map { Self.pythonQuote($0.key) + ": " + $0.value.repr }.joined(separator: ", ") + "}"
        case .namespace(let n): "<Namespace \(JinjaValue.dict(n.values).repr)>"
        case .callable(let c): "<function \(c.name)>"
        }
    }

    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e16 { return String(format1: d) }
        return "\(d)"
    }

    static func pythonQuote(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where c == quote.unicodeScalars.first!: out += "\\" + String(c)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + String(quote)
    }
}

extension String {
    /// A whole-number double as Python prints it: `3.0`.
    init(format1 d: Double) {
        self = String(Int(d)) + ".0"
    }
}
