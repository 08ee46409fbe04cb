import Foundation
import LoRA
import Qwen2
import Testing
import TestSupport
@testable import Training

/// A LoRA adapter written by gguf-py and run by llama.cpp (Fixtures/llama-lora-logits.json, made by
/// Tools/oracles/make_lora_fixture.py) against the same adapter in vpgea: file convention, scaling and
/// application all have to agree.
@Suite struct LlamaAdapterTests {
    struct Position: Decodable {
        let pos: Int
        let top: [[Double]]
        let logsumexp: Double
    }
    struct Fixture: Decodable {
        let ids: [Int]
        let with_adapter: [Position]
        let without_adapter: [Position]
    }

    @Test func adapterLogitsMatchLlamaCpp() throws {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("llama-lora-logits.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let model = try Qwen2Model(path: try TestSupport.testModelPath())
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 8, alpha: 16), model: model.config)
        adapter.fill { _, isB, i, j in Float(isB ? 0.05 * cos(Double(5 * i + 11 * j)) : 0.05 * sin(Double(7 * i + 3 * j))) }
        // Through our own file format and loader, as a user would.
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("adapter.gguf").path
        try adapter.saveGGUF(to: path)
        let session = Qwen2Session(model: model, contextSize: 64, maxBatch: 64, threads: 2)
        session.adapter = try LoRAAdapter.load(path: path, model: model.config)
        let logits = try session.decode(fixture.ids, logits: .all)
        let vocab = model.config.vocabularySize
        var maxError = 0.0, effect = 0.0
        for (p, base) in zip(fixture.with_adapter, fixture.without_adapter) {
            let row = logits[p.pos * vocab..<(p.pos + 1) * vocab]
            for entry in p.top { maxError = max(maxError, abs(Double(row[row.startIndex + Int(entry[0])]) - entry[1])) }
            if p.top[0][1] - p.top[1][1] > 0.5 {
                #expect(row.firstIndex(of: row.max()!)! - row.startIndex == Int(p.top[0][0]), "position \(p.pos)")
            }
            let baseTop = Dictionary(uniqueKeysWithValues: base.top.map { (Int($0[0]), $0[1]) })
            for entry in p.top { if let b = baseTop[Int(entry[0])] { effect = max(effect, abs(entry[1] - b)) } }
        }
        print("adapter vs llama.cpp: max |Δlogit| on its top-20 = \(maxError); the adapter moves logits by up to \(effect)")
        #expect(effect > 1, "the fixture's adapter should change the logits visibly")
        #expect(maxError < 0.5)
    }
}
