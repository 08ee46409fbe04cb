/// Template syntax tree.
indirect enum Node: Sendable {
    case text(String)
    case output(Expr)
    case ifBlock(branches: [(condition: Expr, body: [Node])], otherwise: [Node])
    case forLoop(targets: [String], iterable: Expr, condition: Expr?, body: [Node], otherwise: [Node], at: SourcePosition)
    case set(target: SetTarget, value: Expr, at: SourcePosition)
    case macro(name: String, parameters: [(name: String, defaultValue: Expr?)], body: [Node])
    case breakLoop, continueLoop
}

enum SetTarget: Sendable {
    case name(String)
    case names([String])
    case attribute(object: String, name: String)
}

indirect enum Expr: Sendable {
    case literal(JinjaValue)
    case name(String)
    case list([Expr])
    case dict([(key: Expr, value: Expr)])
    case attribute(Expr, String)
    case index(Expr, Expr)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
    case call(Expr, arguments: [Expr], keywords: [(String, Expr)], at: SourcePosition)
    case filter(Expr, name: String, arguments: [Expr], keywords: [(String, Expr)], at: SourcePosition)
    case test(Expr, name: String, arguments: [Expr], negated: Bool, at: SourcePosition)
    case unary(String, Expr)
    case binary(String, Expr, Expr, at: SourcePosition)
    case conditional(condition: Expr, then: Expr, otherwise: Expr?)
}
