/// Recursive-descent parser for the Jinja subset, with Jinja's operator precedence: conditional, or, and, not,
/// comparisons and `in`, `~`, `+ -`, `* / // %`, `**`, unary minus, then postfix (`.x`, `[i]`, calls) and filters
/// and tests, which bind tightest.
struct JinjaParser {
    private let tokens: [LocatedToken]
    private var k = 0

    static func parse(_ template: String) throws(TemplateError) -> [Node] {
        var parser = JinjaParser(tokens: try JinjaLexer.tokenize(template))
        let (nodes, stop) = try parser.parseBody(until: [])
        if let stop { throw TemplateError("unexpected {% \(stop) %}", at: parser.tokens[parser.k].position) }
        return nodes
    }

    private init(tokens: [LocatedToken]) { self.tokens = tokens }

    private var current: Token { tokens[k].token }
    private var position: SourcePosition { tokens[k].position }

    private mutating func next() -> Token {
        let t = tokens[k].token
        if k < tokens.count - 1 { k += 1 }
        return t
    }

    private mutating func expect(_ t: Token, _ what: String) throws(TemplateError) {
        guard current == t else { throw TemplateError("expected \(what)", at: position) }
        _ = next()
    }

    private mutating func accept(_ t: Token) -> Bool {
        guard current == t else { return false }
        _ = next()
        return true
    }

    private mutating func name(_ what: String) throws(TemplateError) -> String {
        guard case .name(let n) = current else { throw TemplateError("expected \(what)", at: position) }
        _ = next()
        return n
    }

    // MARK: Statements

    /// Parses nodes until a statement whose keyword is in `stops`; returns that keyword (its tag is left open,
    /// positioned after the keyword).
    private mutating func parseBody(until stops: Set<String>) throws(TemplateError) -> ([Node], String?) {
        var nodes: [Node] = []
        while true {
            switch current {
            case .end:
                if !stops.isEmpty {
                    throw TemplateError("missing {% \(stops.sorted().joined(separator: " or ")) %}", at: position)
                }
                return (nodes, nil)
            case .text(let t):
                _ = next()
                nodes.append(.text(t))
            case .expressionStart:
                _ = next()
                nodes.append(.output(try parseExpression()))
                try expect(.expressionEnd, "}}")
            case .statementStart:
                let at = tokens[k + 1].position
                _ = next()
                let keyword = try name("a statement keyword")
                if stops.contains(keyword) { return (nodes, keyword) }
                if let node = try parseStatement(keyword, at: at) { nodes.append(node) }
            default:
                throw TemplateError("unexpected token", at: position)
            }
        }
    }

    private mutating func endTag() throws(TemplateError) { try expect(.statementEnd, "%}") }

    private mutating func parseStatement(_ keyword: String, at: SourcePosition) throws(TemplateError) -> Node? {
        switch keyword {
        case "if":
            var branches: [(Expr, [Node])] = []
            var condition = try parseExpression()
            try endTag()
            while true {
                let (body, stop) = try parseBody(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                if stop == "elif" {
                    condition = try parseExpression()
                    try endTag()
                    continue
                }
                var otherwise: [Node] = []
                if stop == "else" {
                    try endTag()
                    (otherwise, _) = try parseBody(until: ["endif"])
                }
                try endTag()
                return .ifBlock(branches: branches, otherwise: otherwise)
            }
        case "for":
            var targets = [try name("a loop variable")]
            while accept(.op(",")) { targets.append(try name("a loop variable")) }
            guard accept(.name("in")) else { throw TemplateError("expected 'in'", at: position) }
            let iterable = try parseOr(allowConditional: false)
            var condition: Expr? = nil
            if accept(.name("if")) { condition = try parseExpression() }
            try endTag()
            let (body, stop) = try parseBody(until: ["else", "endfor"])
            var otherwise: [Node] = []
            if stop == "else" {
                try endTag()
                (otherwise, _) = try parseBody(until: ["endfor"])
            }
            try endTag()
            return .forLoop(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise, at: at)
        case "set":
            let first = try name("a variable name")
            let target: SetTarget
            if accept(.op(".")) {
                target = .attribute(object: first, name: try name("an attribute name"))
            } else if current == .op(",") {
                var names = [first]
                while accept(.op(",")) { names.append(try name("a variable name")) }
                target = .names(names)
            } else {
                target = .name(first)
            }
            guard accept(.op("=")) else {
                throw TemplateError("only '{% set x = value %}' is supported (not block set)", at: position)
            }
            let value = try parseExpression()
            try endTag()
            return .set(target: target, value: value, at: at)
        case "macro":
            let macroName = try name("a macro name")
            try expect(.op("("), "(")
            var parameters: [(String, Expr?)] = []
            while !accept(.op(")")) {
                let p = try name("a parameter name")
                parameters.append((p, accept(.op("=")) ? try parseExpression() : nil))
                if !accept(.op(",")) {
                    try expect(.op(")"), ")")
                    break
                }
            }
            try endTag()
            let (body, _) = try parseBody(until: ["endmacro"])
            try endTag()
            return .macro(name: macroName, parameters: parameters, body: body)
        case "break":
            try endTag()
            return .breakLoop
        case "continue":
            try endTag()
            return .continueLoop
        case "generation":
            // Hugging Face's marker for assistant-token masks: renders its body unchanged.
            try endTag()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try endTag()
            return .ifBlock(branches: [(.literal(.bool(true)), body)], otherwise: [])
        default:
            throw TemplateError("unsupported statement '\(keyword)'", at: at)
        }
    }

    // MARK: Expressions

    mutating func parseExpression() throws(TemplateError) -> Expr { try parseOr(allowConditional: true) }

    private mutating func parseOr(allowConditional: Bool) throws(TemplateError) -> Expr {
        var left = try parseAnd()
        while accept(.name("or")) { left = .binary("or", left, try parseAnd(), at: position) }
        if allowConditional, accept(.name("if")) {
            let condition = try parseOr(allowConditional: false)
            let otherwise = accept(.name("else")) ? try parseOr(allowConditional: true) : nil
            return .conditional(condition: condition, then: left, otherwise: otherwise)
        }
        return left
    }

    private mutating func parseAnd() throws(TemplateError) -> Expr {
        var left = try parseNot()
        while accept(.name("and")) { left = .binary("and", left, try parseNot(), at: position) }
        return left
    }

    private mutating func parseNot() throws(TemplateError) -> Expr {
        if accept(.name("not")) { return .unary("not", try parseNot()) }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(TemplateError) -> Expr {
        var left = try parseConcat()
        while true {
            let at = position
            if case .op(let op) = current, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                _ = next()
                left = .binary(op, left, try parseConcat(), at: at)
            } else if accept(.name("in")) {
                left = .binary("in", left, try parseConcat(), at: at)
            } else if current == .name("not"), tokens[k + 1].token == .name("in") {
                _ = next(); _ = next()
                left = .unary("not", .binary("in", left, try parseConcat(), at: at))
            } else {
                return left
            }
        }
    }

    private mutating func parseConcat() throws(TemplateError) -> Expr {
        var left = try parseMath1()
        while accept(.op("~")) { left = .binary("~", left, try parseMath1(), at: position) }
        return left
    }

    private mutating func parseMath1() throws(TemplateError) -> Expr {
        var left = try parseMath2()
        while case .op(let op) = current, op == "+" || op == "-" {
            let at = position
            _ = next()
            left = .binary(op, left, try parseMath2(), at: at)
        }
        return left
    }

    private mutating func parseMath2() throws(TemplateError) -> Expr {
        var left = try parsePower()
        while case .op(let op) = current, ["*", "/", "//", "%"].contains(op) {
            let at = position
            _ = next()
            left = .binary(op, left, try parsePower(), at: at)
        }
        return left
    }

    private mutating func parsePower() throws(TemplateError) -> Expr {
        var left = try parseUnary()
        while accept(.op("**")) { left = .binary("**", left, try parseUnary(), at: position) }
        return left
    }

    /// As in Jinja, filters apply to the negated value: `-3 | abs` is 3.
    private mutating func parseUnary(withFilters: Bool = true) throws(TemplateError) -> Expr {
        let e: Expr
        if accept(.op("-")) {
            e = .unary("-", try parseUnary(withFilters: false))
        } else if accept(.op("+")) {
            e = try parseUnary(withFilters: false)
        } else {
            e = try parsePostfix(try parsePrimary())
        }
        return withFilters ? try parseFilters(e) : e
    }

    private mutating func parsePrimary() throws(TemplateError) -> Expr {
        let at = position
        switch next() {
        case .string(var s):
            while case .string(let more) = current { s += more; _ = next() }   // adjacent literals concatenate
            return .literal(.string(s))
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .name(let n):
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .op("("):
            let e = try parseExpression()
            if current == .op(",") {   // a tuple: treated as a list
                var items = [e]
                while accept(.op(",")) { if current == .op(")") { break }; items.append(try parseExpression()) }
                try expect(.op(")"), ")")
                return .list(items)
            }
            try expect(.op(")"), ")")
            return e
        case .op("["):
            var items: [Expr] = []
            while !accept(.op("]")) {
                items.append(try parseExpression())
                if !accept(.op(",")) { try expect(.op("]"), "]"); break }
            }
            return .list(items)
        case .op("{"):
            var pairs: [(Expr, Expr)] = []
            while !accept(.op("}")) {
                let key = try parseExpression()
                try expect(.op(":"), ":")
                pairs.append((key, try parseExpression()))
                if !accept(.op(",")) { try expect(.op("}"), "}"); break }
            }
            return .dict(pairs)
        default:
            throw TemplateError("expected a value", at: at)
        }
    }

    private mutating func parsePostfix(_ base: Expr) throws(TemplateError) -> Expr {
        var e = base
        while true {
            let at = position
            if accept(.op(".")) {
                if case .int(let i) = current { _ = next(); e = .index(e, .literal(.int(i))); continue }
                e = .attribute(e, try name("an attribute name"))
            } else if accept(.op("[")) {
                var parts: [Expr?] = [nil]
                var colons = 0
                while !accept(.op("]")) {
                    if accept(.op(":")) {
                        colons += 1
                        parts.append(nil)
                    } else {
                        parts[parts.count - 1] = try parseExpression()
                    }
                }
                if colons == 0 {
                    guard let index = parts[0] else { throw TemplateError("empty subscript", at: at) }
                    e = .index(e, index)
                } else {
                    e = .slice(e, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil)
                }
            } else if current == .op("(") {
                let (args, keywords) = try parseArguments()
                e = .call(e, arguments: args, keywords: keywords, at: at)
            } else {
                return e
            }
        }
    }

    private mutating func parseArguments() throws(TemplateError) -> ([Expr], [(String, Expr)]) {
        try expect(.op("("), "(")
        var args: [Expr] = []
        var keywords: [(String, Expr)] = []
        while !accept(.op(")")) {
            if case .name(let n) = current, tokens[k + 1].token == .op("=") {
                _ = next(); _ = next()
                keywords.append((n, try parseExpression()))
            } else {
                args.append(try parseExpression())
            }
            if !accept(.op(",")) { try expect(.op(")"), ")"); break }
        }
        return (args, keywords)
    }

    private mutating func parseFilters(_ base: Expr) throws(TemplateError) -> Expr {
        var e = base
        while true {
            let at = position
            if accept(.op("|")) {
                let filterName = try name("a filter name")
                var (args, keywords): ([Expr], [(String, Expr)]) = ([], [])
                if current == .op("(") { (args, keywords) = try parseArguments() }
                e = try parsePostfix(.filter(e, name: filterName, arguments: args, keywords: keywords, at: at))
            } else if accept(.name("is")) {
                let negated = accept(.name("not"))
                let testName = try name("a test name")
                var args: [Expr] = []
                if current == .op("(") {
                    args = try parseArguments().0
                } else if case .name(let n) = current, !["and", "or", "else", "if", "in", "is", "not"].contains(n) {
                    args = [try parsePrimary()]
                } else if case .string = current {
                    args = [try parsePrimary()]
                } else if case .int = current {
                    args = [try parsePrimary()]
                }
                e = .test(e, name: testName, arguments: args, negated: negated, at: at)
            } else {
                return e
            }
        }
    }
}
