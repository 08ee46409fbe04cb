/// Splits text into words before BPE, by the regex of the `qwen2` pre-tokenizer (also used for
/// `deepseek-r1-qwen`), as in the model's tokenizer.json:
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N} | ?[^\s\p{L}\p{N}]+[\r\n]*
///     | \s*[\r\n]+ | \s+(?!\S) | \s+
///
/// The alternatives are tried in order at each position, as a backtracking regex engine would; this is a
/// hand-written matcher for exactly that pattern (no regex engine needed).
public enum PreTokenizerKind: String, Sendable, CaseIterable {
    case qwen2
    case deepseekR1Qwen = "deepseek-r1-qwen"
}

enum PreTokenizer {
    /// Word boundaries as ranges of indices into `scalars`.
    static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let n = scalars.count
        let classes = scalars.map(CharacterClass.of)   // [n]
        @inline(__always) func cls(_ i: Int) -> CharacterClass { i < n ? classes[i] : .none }
        @inline(__always) func cpt(_ i: Int) -> UInt32 { i < n ? scalars[i].value : UInt32.max }
        @inline(__always) func isNewline(_ i: Int) -> Bool { cpt(i) == 0x0A || cpt(i) == 0x0D }
        @inline(__always) func lower(_ i: Int) -> UInt32 { let c = cpt(i); return (65...90).contains(c) ? c + 32 : c }

        var words: [Range<Int>] = []
        var pos = 0
        while pos < n {
            let start = pos
            defer { words.append(start..<pos) }
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if cpt(pos) == 0x27, pos + 1 < n {
                let a = lower(pos + 1)
                if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { pos += 2; continue }   // s t m d
                let b = lower(pos + 2)
                if pos + 2 < n, (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) {
                    pos += 3; continue                                                        // re ve ll
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !isNewline(pos), !cls(pos).contains(.number),
               cls(pos).contains(.letter) || cls(pos + 1).contains(.letter) {
                pos += 1
                while cls(pos).contains(.letter) { pos += 1 }
                continue
            }
            // \p{N}
            if cls(pos).contains(.number) { pos += 1; continue }
            // ' '?[^\s\p{L}\p{N}]+[\r\n]*
            let symbolAt = cpt(pos) == 0x20 ? pos + 1 : pos
            if symbolAt < n, cls(symbolAt).isDisjoint(with: [.whitespace, .letter, .number]) {
                pos = symbolAt
                while pos < n, cls(pos).isDisjoint(with: [.whitespace, .letter, .number]) { pos += 1 }
                while isNewline(pos) { pos += 1 }
                continue
            }
            // \s*[\r\n]+ : whitespace up to and including its last newline
            var end = pos, lastNewlineEnd = -1
            while cls(end).contains(.whitespace) {
                if isNewline(end) { lastNewlineEnd = end + 1 }
                end += 1
            }
            if lastNewlineEnd > 0 { pos = lastNewlineEnd; continue }
            // \s+(?!\S) : leave the last space for the word that follows
            if end - pos > 1, end < n { pos = end - 1; continue }
            // \s+
            if end > pos { pos = end; continue }
            // Anything else (a lone character no alternative matches) is its own word.
            pos += 1
        }
        return words
    }
}
