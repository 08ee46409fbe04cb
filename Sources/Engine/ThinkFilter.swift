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
            var keep = 0
            for n in stride(from: min(tag.count - 1, pending.count), to: 0, by: -1) where tag.hasPrefix(pending.suffix(n)) {
                keep = n
                break
            }
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
