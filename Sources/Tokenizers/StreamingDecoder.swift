/// Turns tokens into text as they are generated, never emitting half a UTF-8 character: bytes of an
/// incomplete character wait for the next token.
public struct StreamingDecoder {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []   // [< 4] bytes of a character not yet complete

    public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// The text that token `id` completes (possibly empty).
    public mutating func append(_ id: Int) -> String {
        pending += tokenizer.bytes(of: id)
        let complete = Self.completePrefixLength(pending)
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is left at the end (an incomplete character becomes U+FFFD).
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix that holds no incomplete character at its end. Invalid bytes count as complete
    /// (they decode to U+FFFD at once); only a valid but unfinished trailing sequence is held back.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // Look back at most 3 bytes for the lead byte of the last character.
        var i = n - 1
        while i >= 0, i >= n - 4, bytes[i] & 0xC0 == 0x80 { i -= 1 }
        guard i >= 0, i >= n - 4 else { return n }
        let lead = bytes[i]
        let need = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return n - i < need ? i : n
    }
}
