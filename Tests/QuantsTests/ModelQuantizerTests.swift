import Foundation
import GGUF
import Quants
import Qwen2
import TestSupport
import Testing

/// `vpgea-quantize`'s type plan and files: the plan against llama.cpp's published Q4_K_M files, the files
/// against gguf-py (llama.cpp's Python reader), which must read every tensor back close to the source.
@Suite struct ModelQuantizerTests {
    /// A llama.cpp Q4_K_M file's tensor table (names, dims, types, read with gguf-py) against the plan: the count of
    /// tensors and the tensors whose planned type differs.
    static func planAgainst(_ fixture: String) throws -> (count: Int, mismatches: [String]) {
        struct Table: Decodable { let tensors: [[Entry]] }
        enum Entry: Decodable {
            case text(String), dims([Int])
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .text(s) } else { self = .dims(try c.decode([Int].self)) }
            }
        }
        let url = try #require(Bundle.module.url(forResource: "Fixtures/" + fixture, withExtension: "json"))
        let rows = try JSONDecoder().decode(Table.self, from: Data(contentsOf: url)).tensors
        var names: [String] = [], dims: [[Int]] = [], types: [GGMLType] = []
        for row in rows {
            guard case .text(let n) = row[0], case .dims(let d) = row[1], case .text(let t) = row[2],
                  let type = GGMLType.allCases.first(where: { $0.name == t }) else { Issue.record("bad row \(row)"); continue }
            names.append(n); dims.append(d); types.append(type)
        }
        var plan = QuantizationPlan(scheme: .q4_K_M, tensorNames: names)
        var mismatches: [String] = []
        for i in names.indices {
            let planned = plan.type(name: names[i], dims: dims[i], current: .f32)
            if planned != types[i] { mismatches.append("\(names[i]): \(planned.name) vs \(types[i].name)") }
        }
        return (names.count, mismatches)
    }

    @Test func planReproducesPublishedQ4KM() throws {
        let (count, mismatches) = try Self.planAgainst("qwen2.5-coder-1.5b-q4_k_m-tensors")
        #expect(count == 339)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        // The 0.5B file is llama.cpp's Q4_K_M too, with 896-wide rows falling back to Q5_0 and Q8_0.
        let small = try GGUFFile(path: TestSupport.testModelPath())
        let changes = ModelQuantizer.plan(small, .q4_K_M).filter { $0.from != $0.to }
        #expect(changes.isEmpty, "\(changes.prefix(5).map { "\($0.name): \($0.from.name) → \($0.to.name)" })")
    }

    /// A model without output.weight multiplies by its embeddings, so llama.cpp gives them the output matrix's type
    /// (Q6_K in Q4_K_M), not the embeddings' (Q4_K): the tied 1.5B as llama.cpp's quantizer wrote it.
    @Test func planGivesTiedEmbeddingsTheOutputType() throws {
        let (count, mismatches) = try Self.planAgainst("qwen2.5-coder-1.5b-tied-q4_k_m-tensors")
        #expect(count == 338)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test(arguments: ["Q8_0", "Q5_0", "Q4_0", "Q6_K", "Q4_K", "Q4_K_M", "F16", "BF16"])
    func writesWhatGGUFPyReadsBack(_ name: String) throws {
        let scheme = try #require(QuantizationScheme(name: name))
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("tiny.gguf").path, output = dir.appendingPathComponent("out.gguf").path
        // Rows of 256 and 512 values, so that the k-quants apply without falling back.
        try TinyModel(layers: 2, embd: 256, ff: 512, heads: 4, kvHeads: 2, vocab: 61).write(to: source)
        let file = try GGUFFile(path: source)
        let changes = try ModelQuantizer.write(file, scheme: scheme, to: output)
        // gguf-py reads the copy: {name: [type, relative RMS error against the source]}.
        let read = try JSONSerialization.jsonObject(with: TestSupport.runOracle("requant_error.py", [source, output])) as! [String: [Any]]
        // Relative RMS error of a Gaussian-like matrix: the step of each format, with a margin.
        let bound: [String: Double] = ["Q8_0": 0.006, "Q6_K": 0.02, "Q5_0": 0.05, "Q4_K": 0.09, "Q4_0": 0.11,
                                       "F16": 1e-3, "BF16": 5e-3, "F32": 0]
        for c in changes {
            let entry = try #require(read[c.name])
            #expect(entry[0] as? String == c.to.name, "\(c.name): gguf-py reads \(entry[0]), planned \(c.to.name)")
            let error = try #require(entry[1] as? Double)
            #expect(error <= bound[c.to.name]!, "\(c.name) as \(c.to.name): relative error \(error)")
        }
        #expect(changes.contains { $0.to != .f32 })
        if scheme == .q4_K_M {
            #expect(changes.first { $0.name == "output.weight" }?.to == .q6_K)
            #expect(changes.first { $0.name == "blk.0.attn_q.weight" }?.to == .q4_K)
        }
    }
}
