/// Token kinds, numbered as `tokenizer.ggml.token_type` stores them.
public enum TokenType: Int, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

public struct TokenizerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Byte-level BPE as llama.cpp runs it for `gpt2`-model vocabularies (Qwen2, DeepSeek-R1-Distill-Qwen):
/// special tokens are split out of the text first, the rest is cut into words by the pre-tokenizer, and each
/// word's bytes are merged by rank.
public final class Tokenizer: Sendable {
    public let tokens: [String]            // [vocab] token texts (byte-level for normal tokens)
    public let types: [TokenType]          // [vocab]
    public let preTokenizer: PreTokenizerKind
    public let bos: Int?
    public let eos: Int?
    /// Token ids that end a generation (eos, and end-of-turn tokens such as `<|im_end|>`).
    public let endOfGeneration: Set<Int>
    public let addBOS: Bool

    private let ids: [String: Int]                      // token text → id
    private let merges: [UInt64: (rank: Int32, merged: Int32)]   // (left id << 32 | right id) → merge
    private let byteTokens: [Int32]                     // [256] id of each single-byte token
    /// Special tokens matched in text, longest first: (UTF-8 text, id, matched even when special parsing is off).
    private let specials: [(text: [UInt8], id: Int, always: Bool)]

    public var vocabularySize: Int { tokens.count }

    public init(tokens: [String], types: [TokenType], merges mergeList: [String], preTokenizer: PreTokenizerKind,
                bos: Int?, eos: Int?, addBOS: Bool, extraEndOfGeneration: [Int] = []) throws(TokenizerError) {
        guard tokens.count == types.count else {
            throw TokenizerError("\(tokens.count) tokens but \(types.count) token types")
        }
        self.tokens = tokens
        self.types = types
        self.preTokenizer = preTokenizer
        self.bos = bos
        self.eos = eos
        self.addBOS = addBOS
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        self.ids = ids

        var byteTokens = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            guard let id = ids[String(ByteLevel.byteToScalar[b])] else {
                throw TokenizerError("the vocabulary has no token for byte \(b): not a byte-level BPE vocabulary")
            }
            byteTokens[b] = Int32(id)
        }
        self.byteTokens = byteTokens

        var merges: [UInt64: (rank: Int32, merged: Int32)] = [:]
        merges.reserveCapacity(mergeList.count)
        for (rank, merge) in mergeList.enumerated() {
            guard let space = merge.firstIndex(of: " ") else { continue }
            let left = merge[..<space], right = merge[merge.index(after: space)...]
            guard let l = ids[String(left)], let r = ids[String(right)], let m = ids[String(left + right)] else { continue }
            let key = UInt64(l) << 32 | UInt64(r)
            if merges[key] == nil { merges[key] = (Int32(rank), Int32(m)) }
        }
        self.merges = merges

        specials = tokens.indices
            .filter { [.control, .userDefined, .unknown].contains(types[$0]) && !tokens[$0].isEmpty }
            .map { (Array(tokens[$0].utf8), $0, types[$0] == .userDefined) }
            .sorted { $0.text.count != $1.text.count ? $0.text.count > $1.text.count : $0.id < $1.id }

        var eog = Set(extraEndOfGeneration)
        if let eos { eog.insert(eos) }
        for name in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|EOT|>", "<｜end▁of▁sentence｜>"] {
            if let id = ids[name], types[id] == .control { eog.insert(id) }
        }
        endOfGeneration = eog
    }

    public func id(of token: String) -> Int? { ids[token] }

    // MARK: Encoding

    /// Token ids of `text`. `parseSpecial` recognises control tokens such as `<|im_start|>` in the text
    /// (user-defined tokens such as `<think>` are always recognised, as llama.cpp does); `addBOS` defaults to
    /// the model's `add_bos_token`.
    public func encode(_ text: String, parseSpecial: Bool = true, addBOS: Bool? = nil) -> [Int] {
        var out: [Int] = []
        if addBOS ?? self.addBOS, let bos { out.append(bos) }
        var cache: [[Unicode.Scalar]: [Int32]] = [:]
        for fragment in partition(Array(text.utf8), parseSpecial: parseSpecial) {
            switch fragment {
            case .special(let id): out.append(id)
            case .text(let bytes):
                let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
                for range in PreTokenizer.split(scalars) {
                    let word = Array(scalars[range])
                    if let hit = cache[word] {
                        out.append(contentsOf: hit.lazy.map(Int.init))
                        continue
                    }
                    let ids = bpe(Array(String(String.UnicodeScalarView(word)).utf8))
                    cache[word] = ids
                    out.append(contentsOf: ids.lazy.map(Int.init))
                }
            }
        }
        return out
    }

    enum Fragment {
        case text([UInt8])
        case special(Int)
    }

    /// Splits special tokens out of the text: each special token in turn (longest first) is cut out of every
    /// remaining text fragment, left to right.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = bytes.isEmpty ? [] : [.text(bytes)]
        for special in specials where parseSpecial || special.always {
            var next: [Fragment] = []
            for fragment in fragments {
                guard case .text(let t) = fragment else { next.append(fragment); continue }
                var start = 0
                var i = 0
                while i + special.text.count <= t.count {
                    if t[i] == special.text[0], t[i..<i + special.text.count].elementsEqual(special.text) {
                        if i > start { next.append(.text(Array(t[start..<i]))) }
                        next.append(.special(special.id))
                        i += special.text.count
                        start = i
                    } else {
                        i += 1
                    }
                }
                if start < t.count { next.append(.text(Array(t[start...]))) }
            }
            fragments = next
        }
        return fragments
    }

    /// Byte-pair merges of one word: repeatedly merge the adjacent pair of lowest rank (leftmost first).
    func bpe(_ bytes: [UInt8]) -> [Int32] {
        var symbols = bytes.map { byteTokens[Int($0)] }   // [word length] token ids
        while symbols.count > 1 {
            var best: (rank: Int32, at: Int, merged: Int32)? = nil
            for i in 0..<symbols.count - 1 {
                if let m = merges[UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[i + 1]))],
                   best == nil || m.rank < best!.rank {
                    best = (m.rank, i, m.merged)
                }
            }
            guard let merge = best else { break }
            // Merge every occurrence of that pair, left to right, without overlaps.
            let left = symbols[merge.at], right = symbols[merge.at + 1]
            var merged: [Int32] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i >= merge.at, i + 1 < symbols.count, symbols[i] == left, symbols[i + 1] == right {
                    merged.append(merge.merged)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        return symbols
    }

    // MARK: Decoding

    /// The bytes a token stands for. Control and user-defined tokens are their text; normal tokens are
    /// decoded from the byte-level alphabet.
    public func bytes(of id: Int) -> [UInt8] {
        guard id >= 0, id < tokens.count else { return [] }
        switch types[id] {
        case .normal, .byte:
            var out: [UInt8] = []
            ByteLevel.decode(tokens[id], into: &out)
            return out
        default:
            return Array(tokens[id].utf8)
        }
    }

    /// The text of a sequence of ids (invalid UTF-8, possible in a cut sequence, becomes U+FFFD).
    public func decode(_ ids: [Int]) -> String {
        String(decoding: ids.flatMap(bytes(of:)), as: UTF8.self)
    }
}
