/// Renders a parsed template. Scoping follows Jinja: a `for` body gets its own scope, so `set` inside a loop
/// does not leak out (templates use `namespace` for that); `if` bodies share the enclosing scope.
public final class JinjaInterpreter {
    private var scopes: [[String: JinjaValue]]

    init(globals: [String: JinjaValue]) { scopes = [globals] }

    private enum Flow { case normal, breakLoop, continueLoop }

    func render(_ nodes: [Node]) throws(TemplateError) -> String {
        var out = ""
        _ = try execute(nodes, into: &out)
        return out
    }

    func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return .undefined
    }

    private func assign(_ name: String, _ value: JinjaValue) { scopes[scopes.count - 1][name] = value }

    private func execute(_ nodes: [Node], into out: inout String) throws(TemplateError) -> Flow {
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .output(let e): out += try eval(e).text
            case .ifBlock(let branches, let otherwise):
                var body = otherwise
                for branch in branches {
                    if try eval(branch.condition).isTruthy {
                        body = branch.body
                        break
                    }
                }
                let flow = try execute(body, into: &out)
                if flow != .normal { return flow }
            case .forLoop(let targets, let iterable, let condition, let body, let otherwise, let at):
                try runLoop(targets, iterable, condition, body, otherwise, at, into: &out)
            case .set(let target, let valueExpr, let at):
                let value = try eval(valueExpr)
                switch target {
                case .name(let n): assign(n, value)
                case .names(let names):
                    guard case .list(let items) = value, items.count == names.count else {
                        throw TemplateError("cannot unpack \(value.typeName) into \(names.count) names", at: at)
                    }
                    for (n, v) in zip(names, items) { assign(n, v) }
                case .attribute(let object, let name):
                    guard case .namespace(let ns) = lookup(object) else {
                        throw TemplateError("'\(object)' is not a namespace: cannot set .\(name)", at: at)
                    }
                    ns.values[name] = value
                }
            case .macro(let name, let parameters, let body):
                assign(name, .callable(makeMacro(name, parameters, body)))
            case .breakLoop: return .breakLoop
            case .continueLoop: return .continueLoop
            }
        }
        return .normal
    }

    private func runLoop(_ targets: [String], _ iterableExpr: Expr, _ condition: Expr?, _ body: [Node],
                         _ otherwise: [Node], _ at: SourcePosition, into out: inout String) throws(TemplateError) {
        let iterable = try eval(iterableExpr)
        var items: [JinjaValue]
        switch iterable {
        case .list(let l): items = l
        case .dict(let d): items = d.entries.map { .string($0.key) }
        case .string(let s): items = s.unicodeScalars.map { .string(String($0)) }
        case .undefined, .none: items = []
        default: throw TemplateError("cannot loop over \(iterable.typeName)", at: at)
        }
        if let condition {
            var kept: [JinjaValue] = []
            for item in items {
                scopes.append([:])
                bind(targets, item)
                let keep = try eval(condition).isTruthy
                scopes.removeLast()
                if keep { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try execute(otherwise, into: &out)
            return
        }
        for (i, item) in items.enumerated() {
            scopes.append([:])
            defer { scopes.removeLast() }
            bind(targets, item)
            assign("loop", .dict(JinjaDict([
                ("index", .int(i + 1)), ("index0", .int(i)),
                ("revindex", .int(items.count - i)), ("revindex0", .int(items.count - i - 1)),
                ("first", .bool(i == 0)), ("last", .bool(i == items.count - 1)), ("length", .int(items.count)),
                ("previtem", i > 0 ? items[i - 1] : .undefined),
                ("nextitem", i + 1 < items.count ? items[i + 1] : .undefined),
            ])))
            if try execute(body, into: &out) == .breakLoop { break }
        }
    }

    private func bind(_ targets: [String], _ item: JinjaValue) {
        if targets.count == 1 {
            assign(targets[0], item)
        } else if case .list(let parts) = item {
            for (n, v) in zip(targets, parts) { assign(n, v) }
        }
    }

    private func makeMacro(_ name: String, _ parameters: [(name: String, defaultValue: Expr?)], _ body: [Node]) -> JinjaCallable {
        JinjaCallable(name: name) { args, keywords, interpreter throws in
            var frame: [String: JinjaValue] = [:]
            for (i, p) in parameters.enumerated() {
                if i < args.count {
                    frame[p.name] = args[i]
                } else if let v = keywords[p.name] {
                    frame[p.name] = v
                } else if let d = p.defaultValue {
                    frame[p.name] = try interpreter.eval(d)
                } else {
                    frame[p.name] = .undefined
                }
            }
            interpreter.scopes.append(frame)
            defer { interpreter.scopes.removeLast() }
            return .string(try interpreter.render(body))
        }
    }

    // MARK: Expressions

    func eval(_ e: Expr) throws(TemplateError) -> JinjaValue {
        switch e {
        case .literal(let v): return v
        case .name(let n): return lookup(n)
        case .list(let items):
            var out: [JinjaValue] = []
            for item in items { out.append(try eval(item)) }
            return .list(out)
        case .dict(let pairs):
            var d = JinjaDict()
            for (k, v) in pairs { d[try eval(k).text] = try eval(v) }
            return .dict(d)
        case .attribute(let objectExpr, let name):
            return try member(of: try eval(objectExpr), name, at: nil)
        case .index(let objectExpr, let indexExpr):
            return try index(try eval(objectExpr), try eval(indexExpr))
        case .slice(let objectExpr, let start, let stop, let step):
            let object = try eval(objectExpr)
            return try Builtins.slice(object, start.map(eval), stop.map(eval), step.map(eval))
        case .call(let calleeExpr, let argExprs, let keywordExprs, let at):
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try eval(a)) }
            var keywords = JinjaDict()
            for (n, v) in keywordExprs { keywords[n] = try eval(v) }
            if case .attribute(let objectExpr, let name) = calleeExpr {
                let object = try eval(objectExpr)
                if case .dict(let d) = object, let v = d[name], case .callable(let f) = v {
                    return try call(f, args, keywords, at)
                }
                return try Builtins.method(object, name, args, keywords, at: at)
            }
            guard case .callable(let f) = try eval(calleeExpr) else {
                throw TemplateError("\(describe(calleeExpr)) is not callable", at: at)
            }
            return try call(f, args, keywords, at)
        case .filter(let valueExpr, let name, let argExprs, let keywordExprs, let at):
            let value = try eval(valueExpr)
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try eval(a)) }
            var keywords = JinjaDict()
            for (n, v) in keywordExprs { keywords[n] = try eval(v) }
            return try Builtins.filter(name, value, args, keywords, interpreter: self, at: at)
        case .test(let valueExpr, let name, let argExprs, let negated, let at):
            let value = try eval(valueExpr)
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try eval(a)) }
            let result = try Builtins.test(name, value, args, at: at)
            return .bool(negated ? !result : result)
        case .unary(let op, let operandExpr):
            let v = try eval(operandExpr)
            if op == "not" { return .bool(!v.isTruthy) }
            switch v {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            default: throw TemplateError("cannot negate \(v.typeName)")
            }
        case .binary(let op, let leftExpr, let rightExpr, let at):
            if op == "and" {
                let l = try eval(leftExpr)
                return l.isTruthy ? try eval(rightExpr) : l
            }
            if op == "or" {
                let l = try eval(leftExpr)
                return l.isTruthy ? l : try eval(rightExpr)
            }
            return try Builtins.binary(op, try eval(leftExpr), try eval(rightExpr), at: at)
        case .conditional(let condition, let then, let otherwise):
            if try eval(condition).isTruthy { return try eval(then) }
            return try otherwise.map(eval) ?? .undefined
        }
    }

    private func call(_ f: JinjaCallable, _ args: [JinjaValue], _ keywords: JinjaDict, _ at: SourcePosition) throws(TemplateError) -> JinjaValue {
        do { return try f.call(args, keywords, self) } catch let e as TemplateError {
            throw e.position == nil ? TemplateError(e.message, at: at) : e
        } catch {
            throw TemplateError("\(error)", at: at)
        }
    }

    /// `a.b`: a dictionary key, a namespace attribute, or nothing (undefined).
    func member(of object: JinjaValue, _ name: String, at: SourcePosition?) throws(TemplateError) -> JinjaValue {
        switch object {
        case .dict(let d): return d[name] ?? .undefined
        case .namespace(let ns): return ns.values[name] ?? .undefined
        case .undefined: throw TemplateError("undefined value has no attribute '\(name)'", at: at)
        default: return .undefined
        }
    }

    /// `a[i]`: list and string indexing (negative from the end), dictionary look-up.
    func index(_ object: JinjaValue, _ i: JinjaValue) throws(TemplateError) -> JinjaValue {
        switch (object, i) {
        case (.list(let l), .int(let n)):
            let j = n < 0 ? l.count + n : n
            return l.indices.contains(j) ? l[j] : .undefined
        case (.string(let s), .int(let n)):
            let chars = Array(s.unicodeScalars)   // Python strings index code points
            let j = n < 0 ? chars.count + n : n
            return chars.indices.contains(j) ? .string(String(chars[j])) : .undefined
        case (.dict(let d), _): return d[i.text] ?? .undefined
        case (.namespace(let ns), _): return ns.values[i.text] ?? .undefined
        case (.undefined, _): throw TemplateError("undefined value is not subscriptable ([\(i.repr)])")
        default: return .undefined
        }
    }

    private func describe(_ e: Expr) -> String {
        if case .name(let n) = e { return "'\(n)'" }
        return "the value"
    }
}
