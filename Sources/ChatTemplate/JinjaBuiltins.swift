import Foundation

/// Filters, tests, operators and Python methods available to templates.
enum Builtins {
    // MARK: Operators

    static func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue, at: SourcePosition) throws(TemplateError) -> JinjaValue {
        switch op {
        case "~": return .string(a.text + b.text)
        case "==": return .bool(a == b)
        case "!=": return .bool(a != b)
        case "in": return .bool(try contains(b, a, at: at))
        case "<", "<=", ">", ">=":
            let order: Bool?
            if let x = a.number, let y = b.number {
                order = op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y
            } else if case .string(let x) = a, case .string(let y) = b {
                order = op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y
            } else {
                order = nil
            }
            guard let order else { throw TemplateError("cannot compare \(a.typeName) and \(b.typeName) with \(op)", at: at) }
            return .bool(order)
        case "+":
            switch (a, b) {
            case (.string(let x), .string(let y)): return .string(x + y)
            case (.list(let x), .list(let y)): return .list(x + y)
            default: break
            }
        case "*":
            if case .string(let s) = a, case .int(let n) = b { return .string(String(repeating: s, count: max(n, 0))) }
            if case .list(let l) = a, case .int(let n) = b { return .list(Array([[JinjaValue]](repeating: l, count: max(n, 0)).joined())) }
        default: break
        }
        guard a.number != nil, b.number != nil, !(a == .undefined || b == .undefined) else {
            throw TemplateError("unsupported operand types for \(op): \(a.typeName) and \(b.typeName)", at: at)
        }
        if case .int(let x) = intLike(a), case .int(let y) = intLike(b), op != "/" {
            switch op {
            case "+": return .int(x &+ y)
            case "-": return .int(x &- y)
            case "*": return .int(x &* y)
            case "//":
                guard y != 0 else { throw TemplateError("integer division by zero", at: at) }
                return .int(Int((Double(x) / Double(y)).rounded(.down)))
            case "%":
                guard y != 0 else { throw TemplateError("modulo by zero", at: at) }
                return .int(((x % y) + y) % y)
            case "**": return y >= 0 ? .int(Int(pow(Double(x), Double(y)))) : .double(pow(Double(x), Double(y)))
            default: break
            }
        }
        let x = a.number!, y = b.number!
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw TemplateError("division by zero", at: at) }
            return .double(x / y)
        case "//": return .double((x / y).rounded(.down))
        case "%": return .double(x - y * (x / y).rounded(.down))
        case "**": return .double(pow(x, y))
        default: throw TemplateError("unknown operator \(op)", at: at)
        }
    }

    private static func intLike(_ v: JinjaValue) -> JinjaValue {
        if case .bool(let b) = v { return .int(b ? 1 : 0) }
        return v
    }

    static func contains(_ container: JinjaValue, _ item: JinjaValue, at: SourcePosition) throws(TemplateError) -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else { throw TemplateError("'in <string>' needs a string", at: at) }
            return sub.isEmpty || s.contains(sub)
        case .list(let l): return l.contains(item)
        case .dict(let d): return d[item.text] != nil
        case .undefined: throw TemplateError("'in' on an undefined value", at: at)
        default: throw TemplateError("argument of type \(container.typeName) is not iterable", at: at)
        }
    }

    static func slice(_ v: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?) throws(TemplateError) -> JinjaValue {
        func ints(_ count: Int) throws(TemplateError) -> [Int] {
            let st: Int
            if let step, case .int(let s) = step { st = s } else { st = 1 }
            guard st != 0 else { throw TemplateError("slice step cannot be zero") }
            func clamp(_ x: JinjaValue?, _ dflt: Int) -> Int {
                guard let x, case .int(var i) = x else { return dflt }
                if i < 0 { i += count }
                return st > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
            }
            let a = clamp(start, st > 0 ? 0 : count - 1), b = clamp(stop, st > 0 ? count : -1)
            return Array(stride(from: a, to: b, by: st))
        }
        switch v {
        case .list(let l): return .list(try ints(l.count).map { l[$0] })
        case .string(let s):
            let chars = Array(s.unicodeScalars)   // Python strings are sequences of code points
            return .string(String(String.UnicodeScalarView(try ints(chars.count).map { chars[$0] })))
        default: throw TemplateError("cannot slice \(v.typeName)")
        }
    }

    // MARK: Filters

    static func filter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kw: JinjaDict,
                       interpreter: JinjaInterpreter, at: SourcePosition) throws(TemplateError) -> JinjaValue {
        func arg(_ i: Int, _ key: String) -> JinjaValue? { i < args.count ? args[i] : kw[key] }
        switch name {
        case "tojson":
            let indent = arg(0, "indent").flatMap { if case .int(let n) = $0 { n } else { nil } }
            return .string(try JSON.encode(v, indent: indent, at: at))
        case "trim":
            return .string(v.text.trimmingCharacters(in: .whitespacesAndNewlines))
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.entries.count)
            case .undefined: return .int(0)
            default: throw TemplateError("object of type \(v.typeName) has no length", at: at)
            }
        case "join":
            let separator = arg(0, "d")?.text ?? ""
            let attribute = kw["attribute"]?.text
            var parts: [String] = []
            for item in try items(v, at: at) {
                parts.append(attribute == nil ? item.text : try interpreter.member(of: item, attribute!, at: at).text)
            }
            return .string(parts.joined(separator: separator))
        case "upper": return .string(v.text.uppercased())
        case "lower": return .string(v.text.lowercased())
        case "capitalize": return .string(v.text.prefix(1).uppercased() + v.text.dropFirst().lowercased())
        case "title": return .string(v.text.capitalized)
        case "default", "d":
            let fallback = arg(0, "default_value") ?? .string("")
            let boolean = arg(1, "boolean")?.isTruthy ?? false
            if case .undefined = v { return fallback }
            return boolean && !v.isTruthy ? fallback : v
        case "first": return try items(v, at: at).first ?? .undefined
        case "last": return try items(v, at: at).last ?? .undefined
        case "string": return .string(v.text)
        case "safe", "e", "escape": return v
        case "int":
            switch v {
            case .int: return v
            case .double(let d): return .int(Int(d))
            case .bool(let b): return .int(b ? 1 : 0)
            default: return .int(Int(v.text.trimmingCharacters(in: .whitespaces)) ?? 0)
            }
        case "float": return .double(v.number ?? Double(v.text) ?? 0)
        case "abs":
            if case .int(let i) = v { return .int(abs(i)) }
            return .double(abs(v.number ?? 0))
        case "list": return .list(try items(v, at: at))
        case "reverse":
            if case .string(let s) = v { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try items(v, at: at).reversed())
        case "items":
            guard case .dict(let d) = v else { throw TemplateError("items needs a mapping", at: at) }
            return .list(d.entries.map { .list([.string($0.key), $0.value]) })
        case "replace":
            guard let old = arg(0, "old"), let new = arg(1, "new") else { throw TemplateError("replace needs 2 arguments", at: at) }
            return .string(v.text.replacingOccurrences(of: old.text, with: new.text))
        case "unique":
            var seen: [JinjaValue] = []
            for item in try items(v, at: at) where !seen.contains(item) { seen.append(item) }
            return .list(seen)
        case "map":
            if let attribute = kw["attribute"]?.text {
                return .list(try items(v, at: at).map { item throws(TemplateError) in try interpreter.member(of: item, attribute, at: at) })
            }
            guard let filterName = args.first?.text else { throw TemplateError("map needs a filter or attribute=", at: at) }
            return .list(try items(v, at: at).map { item throws(TemplateError) in
                try filter(filterName, item, Array(args.dropFirst()), JinjaDict(), interpreter: interpreter, at: at)
            })
        case "selectattr", "rejectattr":
            guard let attribute = args.first?.text else { throw TemplateError("\(name) needs an attribute", at: at) }
            let keep = name == "selectattr"
            var kept: [JinjaValue] = []
            for item in try items(v, at: at) {
                let value = try interpreter.member(of: item, attribute, at: at)
                let passed = args.count > 1 ? try test(args[1].text, value, Array(args.dropFirst(2)), at: at) : value.isTruthy
                if passed == keep { kept.append(item) }
            }
            return .list(kept)
        case "select", "reject":
            let keep = name == "select"
            var kept: [JinjaValue] = []
            for item in try items(v, at: at) {
                let passed = args.isEmpty ? item.isTruthy : try test(args[0].text, item, Array(args.dropFirst()), at: at)
                if passed == keep { kept.append(item) }
            }
            return .list(kept)
        case "indent":
            let width = arg(0, "width").flatMap { if case .int(let n) = $0 { n } else { nil } } ?? 4
            let first = arg(1, "first")?.isTruthy ?? false
            let pad = String(repeating: " ", count: width)
            let lines = v.text.components(separatedBy: "\n")
            return .string(lines.enumerated().map { i, line in
                (i == 0 && !first) || line.isEmpty ? line : pad + line
            }.joined(separator: "\n"))
        default:
            throw TemplateError("unsupported filter '\(name)'", at: at)
        }
    }

    static func items(_ v: JinjaValue, at: SourcePosition) throws(TemplateError) -> [JinjaValue] {
        switch v {
        case .list(let l): return l
        case .dict(let d): return d.entries.map { .string($0.key) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw TemplateError("\(v.typeName) is not iterable", at: at)
        }
    }

    // MARK: Tests

    static func test(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], at: SourcePosition) throws(TemplateError) -> Bool {
        switch name {
        case "defined": if case .undefined = v { return false } else { return true }
        case "undefined": if case .undefined = v { return true } else { return false }
        case "none": if case .none = v { return true } else { return false }
        case "string": if case .string = v { return true } else { return false }
        case "number": if case .int = v { return true } else if case .double = v { return true } else { return false }
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .double = v { return true } else { return false }
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        case "mapping": if case .dict = v { return true } else if case .namespace = v { return true } else { return false }
        case "sequence", "iterable":
            switch v {
            case .list, .string, .dict: return true
            default: return false
            }
        case "callable": if case .callable = v { return true } else { return false }
        case "even", "odd":
            guard case .int(let i) = v else { throw TemplateError("\(name) needs an integer", at: at) }
            return (i % 2 == 0) == (name == "even")
        case "divisibleby":
            guard case .int(let i) = v, case .int(let n)? = args.first, n != 0 else {
                throw TemplateError("divisibleby needs integers", at: at)
            }
            return i % n == 0
        case "eq", "equalto", "==", "sameas": return args.first.map { $0 == v } ?? false
        case "ne", "!=": return args.first.map { $0 != v } ?? false
        case "in":
            guard let container = args.first else { return false }
            return try contains(container, v, at: at)
        case "lower": return v.text == v.text.lowercased()
        case "upper": return v.text == v.text.uppercased()
        default: throw TemplateError("unsupported test '\(name)'", at: at)
        }
    }

    // MARK: Python methods

    static func method(_ object: JinjaValue, _ name: String, _ args: [JinjaValue], _ kw: JinjaDict,
                       at: SourcePosition) throws(TemplateError) -> JinjaValue {
        func stringArg(_ i: Int) -> String? { i < args.count ? (args[i] == .none ? nil : args[i].text) : nil }
        switch (object, name) {
        case (.string(let s), "strip"), (.string(let s), "lstrip"), (.string(let s), "rstrip"):
            let set = stringArg(0).map { CharacterSet(charactersIn: $0) } ?? .whitespacesAndNewlines
            var scalars = Substring(s).unicodeScalars[...]
            if name != "rstrip" { while let f = scalars.first, set.contains(f) { scalars = scalars.dropFirst() } }
            if name != "lstrip" { while let l = scalars.last, set.contains(l) { scalars = scalars.dropLast() } }
            return .string(String(String.UnicodeScalarView(scalars)))
        case (.string(let s), "split"), (.string(let s), "rsplit"):
            let maxSplit: Int = { if case .int(let n)? = args.count > 1 ? args[1] : kw["maxsplit"] { n } else { -1 } }()
            guard let separator = stringArg(0) ?? kw["sep"].map(\.text) else {
                let parts = s.split(whereSeparator: { $0.isWhitespace }).map(String.init)
                if maxSplit < 0 || parts.count <= maxSplit + 1 { return .list(parts.map { .string($0) }) }
                // Whitespace split with a limit: keep the rest of the string as the last piece.
                var rest = Substring(s).drop(while: \.isWhitespace)
                var out: [JinjaValue] = []
                for _ in 0..<maxSplit {
                    guard let end = rest.firstIndex(where: \.isWhitespace) else { break }
                    out.append(.string(String(rest[..<end])))
                    rest = rest[end...].drop(while: \.isWhitespace)
                }
                out.append(.string(String(rest)))
                return .list(out)
            }
            guard !separator.isEmpty else { throw TemplateError("empty separator", at: at) }
            var parts = s.components(separatedBy: separator)
            if maxSplit >= 0, parts.count > maxSplit + 1 {
                if name == "split" {
                    parts = Array(parts[..<maxSplit]) + [parts[maxSplit...].joined(separator: separator)]
                } else {
                    let cut = parts.count - maxSplit
                    parts = [parts[..<cut].joined(separator: separator)] + Array(parts[cut...])
                }
            }
            return .list(parts.map { .string($0) })
        case (.string(let s), "startswith"), (.string(let s), "endswith"):
            let candidates: [String]
            if case .list(let l)? = args.first { candidates = l.map(\.text) } else { candidates = [stringArg(0) ?? ""] }
            return .bool(candidates.contains { name == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
        case (.string(let s), "upper"): return .string(s.uppercased())
        case (.string(let s), "lower"): return .string(s.lowercased())
        case (.string(let s), "title"): return .string(s.capitalized)
        case (.string(let s), "capitalize"): return .string(s.prefix(1).uppercased() + s.dropFirst().lowercased())
        case (.string(let s), "replace"):
            guard let old = stringArg(0), let new = stringArg(1) else { throw TemplateError("replace needs 2 arguments", at: at) }
            return .string(s.replacingOccurrences(of: old, with: new))
        case (.string(let s), "find"):
            guard let sub = stringArg(0) else { throw TemplateError("find needs an argument", at: at) }
            guard let r = s.range(of: sub) else { return .int(-1) }
            return .int(s.distance(from: s.startIndex, to: r.lowerBound))
        case (.string(let s), "count"):
            guard let sub = stringArg(0), !sub.isEmpty else { throw TemplateError("count needs a non-empty argument", at: at) }
            return .int(s.components(separatedBy: sub).count - 1)
        case (.string(let s), "splitlines"):
            return .list(s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { .string(String($0)) }
                .dropLast(s.last?.isNewline == true ? 1 : 0))
        case (.string(let s), "isdigit"): return .bool(!s.isEmpty && s.allSatisfy(\.isNumber))
        case (.string(let s), "join"):
            guard case .list(let l)? = args.first else { throw TemplateError("join needs a list", at: at) }
            return .string(l.map(\.text).joined(separator: s))
        case (.dict(let d), "items"): return .list(d.entries.map { .list([.string($0.key), $0.value]) })
        case (.dict(let d), "keys"): return .list(d.entries.map { .string($0.key) })
        case (.dict(let d), "values"): return .list(d.entries.map(\.value))
        case (.dict(let d), "get"):
            guard let key = args.first else { throw TemplateError("get needs a key", at: at) }
            return d[key.text] ?? (args.count > 1 ? args[1] : .none)
        case (.undefined, _): throw TemplateError("undefined value has no method '\(name)'", at: at)
        default: throw TemplateError("\(object.typeName) has no method '\(name)'", at: at)
        }
    }
}
