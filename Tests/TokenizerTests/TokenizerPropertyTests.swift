import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite(.seededRandom) struct TokenizerPropertyTests {
    /// Any bytes, valid UTF-8 or not, survive encode → decode: BPE over bytes loses nothing.
    @Test func randomBytesRoundTrip() {
        let tokenizer = Vocabularies.qwen2
        var rng = TestRandom()
        for round in 0..<3000 {
            let length = Int.random(in: 0...64, using: &rng)
            var bytes: [UInt8]
            if round % 3 == 0 {
                bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                // Valid text from a mix of scripts, spaces, digits and punctuation.
                let pool = Array("aZ 09\n\t\r'’é中文🙂ß\u{0301}.,;:!?<|>{}()[]-_=+*&^%$#@~`\"\\/ \u{00A0}\u{3000}")
                bytes = Array(String((0..<length).map { _ in pool.randomElement(using: &rng)! }).utf8)
            }
            // Round trip at the byte level (text only when the bytes are valid UTF-8).
            let text = String(decoding: bytes, as: UTF8.self)
            let ids = tokenizer.encode(text, parseSpecial: false, addBOS: false)
            let back = ids.flatMap(tokenizer.bytes(of:))
            #expect(back == Array(text.utf8), "round \(round): \(bytes)")
            if back != Array(text.utf8) { return }
        }
        // Arbitrary bytes, straight through BPE (the path that never sees invalid text).
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 1...48, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let ids = tokenizer.bpe(bytes).map(Int.init)
            #expect(ids.flatMap(tokenizer.bytes(of:)) == bytes)
        }
    }

    @Test func streamingNeverSplitsACharacter() {
        let tokenizer = Vocabularies.qwen2
        let text = "naïve 中文 🙂👍🏽 emoji and ✓ marks\nnext line"
        let ids = tokenizer.encode(text, addBOS: false)
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var out = ""
        for id in ids {
            let piece = decoder.append(id)
            #expect(!piece.contains("\u{FFFD}"))
            out += piece
        }
        out += decoder.flush()
        #expect(out == text)
        // A lone continuation byte is invalid at once; an unfinished 3-byte lead waits.
        #expect(StreamingDecoder.completePrefixLength([0x61, 0xE4, 0xB8]) == 1)
        #expect(StreamingDecoder.completePrefixLength([0x61, 0xE4, 0xB8, 0xAD]) == 4)
        #expect(StreamingDecoder.completePrefixLength([0x80]) == 1)
        #expect(StreamingDecoder.completePrefixLength([]) == 0)
    }

    @Test func specialTokensAndBOS() {
        let q = Vocabularies.qwen2, d = Vocabularies.deepseek
        let imStart = q.id(of: "<|im_start|>")!
        #expect(q.encode("<|im_start|>user", addBOS: false).first == imStart)
        #expect(!q.encode("<|im_start|>user", parseSpecial: false, addBOS: false).contains(imStart))
        // User-defined tokens are matched even without special parsing, as in llama.cpp.
        let think = d.id(of: "<think>")!
        #expect(d.encode("<think>", parseSpecial: false, addBOS: false) == [think])
        // DeepSeek-R1 adds BOS by default, Qwen2.5 does not.
        #expect(d.addBOS && d.encode("hi").first == d.bos)
        #expect(!q.addBOS && q.encode("hi").first != q.bos)
        #expect(q.endOfGeneration.contains(q.id(of: "<|im_end|>")!))
        #expect(d.endOfGeneration.contains(d.eos!))
    }

    @Test func rejectsUnknownPreTokenizer() throws {
        #expect(PreTokenizerKind(rawValue: "llama-bpe") == nil)
        #expect(throws: TokenizerError.self) {
            try Tokenizer(tokens: ["a"], types: [.normal], merges: [], preTokenizer: .qwen2, bos: nil, eos: nil, addBOS: false)
        }
    }
}
