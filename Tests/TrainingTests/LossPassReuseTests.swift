import Foundation
import LoRA
import Qwen2
import Testing
import TestSupport
@testable import Training

/// `accumulate(afterLossPass: true)` right after a `loss` pass on the same tokens starts from that pass's activations
/// (VPG-EA scores a path, then distils it): the same loss and gradients, bit for bit, as a whole `accumulate`.
@Suite struct LossPassReuseTests {
    static let tokens = [7, 1, 30, 30, 2, 59, 14, 3, 44, 0, 21]
    static let other = [5, 9, 9, 40, 2, 11]

    static func setUp(dropout: Float = 0) throws -> (Qwen2Model, LoRAAdapter, URL) {
        let (model, dir) = try WholeModelGradientTests.tinyModel(TinyModel(seed: 12, ff: 64))
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 3, alpha: 6, dropout: dropout), model: model.config)
        adapter.fill { s, isB, i, j in Float(0.2 * cos(Double(2 * i + 5 * j + s.layer + (isB ? 3 : 0)))) }
        return (model, adapter, dir)
    }

    /// A whole `accumulate` on a fresh object: (loss, gradients).
    static func whole(_ model: Qwen2Model, _ adapter: LoRAAdapter, recompute: Bool, products: BaseProducts) throws -> (Double, [Float]) {
        let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: 12, threads: 2, recompute: recompute, products: products)
        let loss = try backprop.accumulate(tokens: tokens, loss: CrossEntropyLoss(tokens: tokens), dropoutSeed: 5)
        return (loss, Array(UnsafeBufferPointer(start: backprop.gradients, count: adapter.count)))
    }

    /// Bit for bit (a short message when not: the arrays are long).
    static func same(_ a: [Float], _ b: [Float]) -> Bool { a.map(\.bitPattern) == b.map(\.bitPattern) }

    @Test(arguments: [false, true], [BaseProducts.exact, .integer])
    func accumulateAfterALossPassEqualsAWholeOne(recompute: Bool, products: BaseProducts) throws {
        let (model, adapter, dir) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (wholeLoss, wholeGradients) = try Self.whole(model, adapter, recompute: recompute, products: products)
        #expect(wholeGradients.contains { $0 != 0 })
        let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: 12, threads: 2, recompute: recompute, products: products)
        let ce = CrossEntropyLoss(tokens: Self.tokens)
        func gradients() -> [Float] { Array(UnsafeBufferPointer(start: backprop.gradients, count: adapter.count)) }

        // Reused: the loss pass's activations, the same bits.
        _ = try backprop.loss(tokens: Self.tokens, loss: ce, exact: false)
        #expect(backprop.keptPass == Self.tokens)
        #expect(try backprop.accumulate(tokens: Self.tokens, loss: ce, dropoutSeed: 5, afterLossPass: true) == wholeLoss)
        #expect(Self.same(gradients(), wholeGradients))
        #expect(backprop.keptPass == nil)

        // A pass on other tokens, or on the base alone, in between: the forward runs again, the same bits.
        for between in [true, false] {
            backprop.zeroGradients()
            _ = try backprop.loss(tokens: Self.tokens, loss: ce, exact: false)
            _ = between ? try backprop.loss(tokens: Self.other, loss: CrossEntropyLoss(tokens: Self.other), exact: false)
                        : try backprop.loss(tokens: Self.tokens, loss: ce, exact: false, withAdapter: false)
            #expect(try backprop.accumulate(tokens: Self.tokens, loss: ce, dropoutSeed: 5, afterLossPass: true) == wholeLoss)
            #expect(Self.same(gradients(), wholeGradients))
        }
        // An exact pass is what the training passes compute only where they are exact too.
        _ = try backprop.loss(tokens: Self.tokens, loss: ce, exact: true)
        #expect(backprop.keptPass == (products == .exact ? Self.tokens : nil))

        // The reuse is real: an adapter changed after the loss pass (which the caller must not do) is not seen by the
        // forward half, so the gradients differ from a whole pass with the changed adapter.
        backprop.zeroGradients()
        _ = try backprop.loss(tokens: Self.tokens, loss: ce, exact: false)
        for i in 0..<adapter.count { adapter.parameters[i] *= 1.5 }
        _ = try backprop.accumulate(tokens: Self.tokens, loss: ce, dropoutSeed: 5, afterLossPass: true)
        let stale = gradients()
        #expect(!Self.same(stale, try Self.whole(model, adapter, recompute: recompute, products: products).1))
    }

    /// With dropout configured, `accumulate` draws masks the loss pass did not: nothing is reused.
    @Test func dropoutRunsTheForwardAgain() throws {
        let (model, adapter, dir) = try Self.setUp(dropout: 0.2)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (wholeLoss, wholeGradients) = try Self.whole(model, adapter, recompute: false, products: .exact)
        let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: 12, threads: 2, recompute: false)
        let ce = CrossEntropyLoss(tokens: Self.tokens)
        _ = try backprop.loss(tokens: Self.tokens, loss: ce, exact: false)
        #expect(backprop.keptPass == nil)
        #expect(try backprop.accumulate(tokens: Self.tokens, loss: ce, dropoutSeed: 5, afterLossPass: true) == wholeLoss)
        #expect(Self.same(Array(UnsafeBufferPointer(start: backprop.gradients, count: adapter.count)), wholeGradients))
    }
}
