import Engine

/// Finds stop strings in streamed text: text is released only once no stop string can begin in it, so a stop
/// string cut across tokens is still caught and never shown.
public struct StopScanner: Sendable {
    public let stops: [String]
    private var held = ""

    public init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Feeds a piece of text: what can be shown now, and whether a stop string was reached (the text before it is
    /// what is returned; everything from it on is dropped).
    public mutating func feed(_ piece: String) -> (text: String, stopped: Bool) {
        held += piece
        guard !stops.isEmpty else { defer { held = "" }; return (held, false) }
        // The earliest stop string wins.
        var first: String.Index? = nil
        for s in stops {
            if let r = held.range(of: s), first == nil || r.lowerBound < first! { first = r.lowerBound }
        }
        if let first {
            defer { held = "" }
            return (String(held[..<first]), true)
        }
        // Keep the longest tail that could start a stop string.
        let keep = held.heldBackLength(startsOf: stops)
        let shown = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return (shown, false)
    }

    /// What is held back when generation ends for another reason.
    public mutating func flush() -> String {
        defer { held = "" }
        return held
    }
}
