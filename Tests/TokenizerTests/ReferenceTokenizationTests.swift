import Foundation
import GGUF
import TestSupport
import Testing
import Tokenizers
import ZIPFoundation

/// The two vocabularies of the reference: the test model's (`qwen2`) and DeepSeek-R1-Distill-Qwen's
/// (`deepseek-r1-qwen`, a vocab-only GGUF shipped zipped in Fixtures).
enum Vocabularies {
    static let qwen2: Tokenizer = {
        let file = try! GGUFFile(path: try! TestSupport.testModelPath())
        return try! Tokenizer(gguf: file.header)
    }()

    static let deepseek: Tokenizer = {
        let zip = Bundle.module.url(forResource: "Fixtures/deepseek-r1-distill-qwen-vocab", withExtension: "zip")!
        let archive = try! Archive(url: zip, accessMode: .read)
        var data = Data()
        _ = try! archive.extract(archive["deepseek-r1-distill-qwen-vocab.gguf"]!) { data.append($0) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vpgea-ds-vocab-\(getpid()).gguf")
        try! data.write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        return try! Tokenizer(gguf: try! GGUFFile(path: path.path).header)
    }()

    static func named(_ name: String) -> Tokenizer { name == "qwen2" ? qwen2 : deepseek }
}

struct ReferenceCase: CustomTestStringConvertible, Sendable {
    let name: String
    let vocabulary: String
    let text: String
    let ids: [Int]
    let pieces: [[UInt8]]
    let detokenized: String
    var testDescription: String { "\(vocabulary)/\(name)" }
}

/// llama.cpp's tokenization of 73 strings with both vocabularies (../shared/ref/tokenization.json).
@Suite struct ReferenceTokenizationTests {
    // JSONDecoder, not JSONSerialization: the latter drops a raw U+FEFF inside strings on Linux.
    struct File: Decodable {
        struct Case: Decodable {
            let name: String
            let text: String
            let vocabularies: [String: Result]
            enum CodingKeys: String, CodingKey { case name, text, qwen2, deepseek = "deepseek-r1-qwen" }
            init(from decoder: Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = try c.decode(String.self, forKey: .name)
                text = try c.decode(String.self, forKey: .text)
                vocabularies = ["qwen2": try c.decode(Result.self, forKey: .qwen2),
                                "deepseek-r1-qwen": try c.decode(Result.self, forKey: .deepseek)]
            }
        }
        struct Result: Decodable {
            let ids: [Int]
            let pieces: [Piece]
            let detokenized: String
        }
        /// A piece is its text, or `{"hex": …}` when it is not valid UTF-8 on its own.
        struct Piece: Decodable {
            let bytes: [UInt8]
            init(from decoder: Decoder) throws {
                if let text = try? decoder.singleValueContainer().decode(String.self) {
                    bytes = Array(text.utf8)
                    return
                }
                let hex = try decoder.singleValueContainer().decode([String: String].self)["hex"] ?? ""
                let digits = Array(hex.utf8)
                bytes = stride(from: 0, to: digits.count, by: 2).map {
                    UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
                }
            }
        }
        let cases: [Case]
    }

    static let cases: [ReferenceCase] = {
        let url = Bundle.module.url(forResource: "Fixtures/tokenization", withExtension: "json")!
        let file = try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        return file.cases.flatMap { c in
            ["qwen2", "deepseek-r1-qwen"].map { v in
                let r = c.vocabularies[v]!
                return ReferenceCase(name: c.name, vocabulary: v, text: c.text, ids: r.ids,
                                     pieces: r.pieces.map(\.bytes), detokenized: r.detokenized)
            }
        }
    }()

    @Test func all146CasesAreHere() { #expect(Self.cases.count == 146) }

    @Test(arguments: cases)
    func encodesLikeLlamaCpp(_ c: ReferenceCase) {
        let tokenizer = Vocabularies.named(c.vocabulary)
        let ids = tokenizer.encode(c.text, parseSpecial: true, addBOS: false)
        #expect(ids == c.ids)
        if ids != c.ids, let first = zip(ids, c.ids).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            Issue.record("first difference at \(first.offset): ours \(ids[first.offset...].prefix(5)) theirs \(c.ids[first.offset...].prefix(5))")
        }
    }

    @Test(arguments: cases)
    func decodesLikeLlamaCpp(_ c: ReferenceCase) {
        let tokenizer = Vocabularies.named(c.vocabulary)
        #expect(c.ids.map(tokenizer.bytes(of:)) == c.pieces)
        #expect(tokenizer.decode(c.ids) == c.detokenized)
    }
}
