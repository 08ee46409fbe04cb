/// Splits streamed text of a reasoning model into reasoning (inside `<think>…</think>`) and answer, even when
/// a tag arrives cut across pieces.
public struct ThinkFilter: Sendable {
    public enum Kind: Sendable { case reasoning, answer }
    private var inside = false
    private var pending = ""
    static let open = "<think>", close = "</think>"

    public init(startsInside: Bool = false) { inside = startsInside }

    /// Feeds a piece; returns the parts that can be shown now, each with its kind (tags themselves are dropped).
    public mutating func feed(_ piece: String) -> [(Kind, String)] {
        pending += piece
        var out: [(Kind, String)] = []
        while true {
            let tag = inside ? Self.close : Self.open
            if let r = pending.range(of: tag) {
                let before = String(pending[..<r.lowerBound])
                if !before.isEmpty { out.append((inside ? .reasoning : .answer, before)) }
                pending = String(pending[r.upperBound...])
                inside.toggle()
                continue
            }
            // Hold back a tail that could be the start of a tag.
            let keep = pending.heldBackLength(startsOf: [tag])
            let shown = String(pending.dropLast(keep))
            if !shown.isEmpty { out.append((inside ? .reasoning : .answer, shown)) }
            pending = String(pending.suffix(keep))
            return out
        }
    }

    /// Whatever is held back at the end.
    public mutating func flush() -> [(Kind, String)] {
        defer { pending = "" }
        return pending.isEmpty ? [] : [(inside ? .reasoning : .answer, pending)]
    }
}

extension String {
    /// The length of the longest tail of this text that is the start (not the whole) of one of `markers`: text a
    /// stream must hold back until the next piece says whether a marker begins there.
    public func heldBackLength(startsOf markers: [String]) -> Int {
        var keep = 0
        for m in markers {
            for n in stride(from: Swift.min(m.count - 1, count), to: keep, by: -1) where m.hasPrefix(suffix(n)) {
                keep = n
                break
            }
        }
        return keep
    }
}
