import Foundation
import LoRA
import Qwen2
import Testing
import TestSupport
@testable import Training

/// The whole backward pass of a tiny model (2 layers, GQA, biases, every LoRA target) against central finite
/// differences of the Double reference forward.
@Suite struct WholeModelGradientTests {
    static func tinyModel(_ tiny: TinyModel) throws -> (Qwen2Model, URL) {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir.appendingPathComponent("tiny.gguf").path
        try tiny.write(to: path)
        return (try Qwen2Model(path: path), dir)
    }

    /// The adapter's values as the Double reference takes them.
    static func referenceAdapters(_ adapter: LoRAAdapter, layers: Int) -> [[String: DoubleReference.Adapter]] {
        var out = [[String: DoubleReference.Adapter]](repeating: [:], count: layers)
        let r = adapter.config.rank
        for s in adapter.slots {
            let a = (0..<r * s.inFeatures).map { Double(adapter.parameters[s.aOffset + $0]) }
            let b = (0..<s.outFeatures * r).map { Double(adapter.parameters[s.bOffset + $0]) }
            out[s.layer][s.target.rawValue] = .init(a: a, b: b, rank: r)
        }
        return out
    }

    @Test func lossAndGradientsMatchFiniteDifferences() throws {
        let tiny = TinyModel(seed: 9)
        let (model, dir) = try Self.tinyModel(tiny)
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 2, alpha: 4), model: model.config)
        adapter.fill { s, isB, i, j in Float(0.2 * sin(Double(3 * i + 7 * j + s.layer + (isB ? 5 : 0)))) }
        let tokens = [3, 17, 42, 5, 60, 8, 8, 29, 1]
        let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: 16, threads: 2, headRows: 3)
        let loss = try backprop.accumulate(tokens: tokens, loss: CrossEntropyLoss(tokens: tokens))
        let reference = DoubleReference.loss(model: tiny, tokens: tokens,
                                             adapters: Self.referenceAdapters(adapter, layers: tiny.layers), scale: 2)
        #expect(abs(loss - reference) < 1e-5 * max(1, reference), "loss \(loss) vs Double \(reference)")

        // Every slot's A and B, a few entries each.
        var worst = 0.0
        for s in adapter.slots {
            for (offset, isB) in [(s.aOffset, false), (s.bOffset, true)] {
                let size = isB ? s.outFeatures * 2 : 2 * s.inFeatures
                for index in [0, size / 3, size - 1] {
                    let i = offset + index
                    func f(_ delta: Double) -> Double {
                        var ads = Self.referenceAdapters(adapter, layers: tiny.layers)
                        let key = s.target.rawValue
                        if isB { ads[s.layer][key]!.b[index] += delta } else { ads[s.layer][key]!.a[index] += delta }
                        return DoubleReference.loss(model: tiny, tokens: tokens, adapters: ads, scale: 2)
                    }
                    let h = 1e-5
                    let numeric = (f(h) - f(-h)) / (2 * h)
                    let analytic = Double(backprop.gradients[i])
                    let error = abs(analytic - numeric) / max(abs(numeric), 1e-3)
                    worst = max(worst, error)
                    #expect(error < 2e-3, "layer \(s.layer) \(s.target) \(isB ? "B" : "A")[\(index)]: \(analytic) vs \(numeric)")
                }
            }
        }
        print("tiny model: loss \(loss) (Double \(reference)); worst gradient relative error \(worst)")
    }

    /// Dropout: the mask of the forward pass is the one the backward pass uses (a gradient that ignored it would
    /// not match the loss's own finite differences under the same seed).
    @Test func dropoutGradientIsConsistent() throws {
        let tiny = TinyModel(seed: 4, layers: 1)
        let (model, dir) = try Self.tinyModel(tiny)
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 2, alpha: 2, dropout: 0.3, targets: [.v, .down]), model: model.config)
        adapter.fill { _, isB, i, j in Float(0.3 * cos(Double(5 * i + 3 * j + (isB ? 1 : 0)))) }
        let tokens = [1, 2, 3, 4, 5, 6]
        let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: 8, threads: 1)
        let ce = CrossEntropyLoss(tokens: tokens)
        try backprop.accumulate(tokens: tokens, loss: ce, dropoutSeed: 77)
        let gradient = (0..<adapter.count).map { backprop.gradients[$0] }
        for i in [0, 7, adapter.slots[1].bOffset + 3] {
            let saved = adapter.parameters[i]
            func lossAt(_ v: Float) throws -> Double {
                adapter.parameters[i] = v
                backprop.zeroGradients()
                return try backprop.accumulate(tokens: tokens, loss: ce, dropoutSeed: 77)
            }
            let h: Float = 1e-2
            let plus = try lossAt(saved + h), minus = try lossAt(saved - h)
            let numeric = (plus - minus) / Double(2 * h)
            adapter.parameters[i] = saved
            // The loss comes from f32 logits: the difference resolves no better than ~2 f32 ulps of it over 2h (~5e-5 here).
            let resolution = 2 * Double(Float(plus).ulp) / Double(2 * h)
            #expect(abs(Double(gradient[i]) - numeric) <= max(2e-3 * abs(numeric), resolution), "entry \(i): \(gradient[i]) vs \(numeric)")
        }
        // A different seed draws a different mask, hence a different loss.
        backprop.zeroGradients()
        let other = try backprop.accumulate(tokens: tokens, loss: ce, dropoutSeed: 78)
        backprop.zeroGradients()
        let same = try backprop.accumulate(tokens: tokens, loss: ce, dropoutSeed: 77)
        #expect(other != same)
    }
}

extension WholeModelGradientTests {
    /// Recomputing each layer in the backward pass and keeping every layer's activations do the same arithmetic.
    @Test func recomputeAndKeepGiveTheSameGradients() throws {
        let tiny = TinyModel(seed: 12)
        let (model, dir) = try Self.tinyModel(tiny)
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 3, alpha: 6, dropout: 0.2), model: model.config)
        adapter.fill { s, isB, i, j in Float(0.2 * cos(Double(2 * i + 5 * j + s.layer + (isB ? 3 : 0)))) }
        let tokens = [7, 1, 30, 30, 2, 59, 14, 3, 44, 0, 21]
        var results: [[Float]] = []
        for recompute in [true, false] {
            let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: 12, threads: 1, recompute: recompute)
            #expect(backprop.recompute == recompute)
            try backprop.accumulate(tokens: tokens, loss: CrossEntropyLoss(tokens: tokens), dropoutSeed: 5)
            results.append(Array(UnsafeBufferPointer(start: backprop.gradients, count: adapter.count)))
        }
        #expect(results[0] == results[1])
        #expect(results[0].contains { $0 != 0 })
    }
}
