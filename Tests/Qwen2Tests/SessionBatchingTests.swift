import Foundation
import Kernels
import Qwen2
import Testing
import TestSupport

/// A prompt longer than `maxBatch` is decoded in several batches; every logits selection must give what one
/// large batch gives (a selection outside a batch once made an invalid range and crashed).
@Suite struct SessionBatchingTests {
    @Test(arguments: [LogitsSelection.last, .none, .all, .from(7)])
    func longPromptsInSeveralBatches(_ selection: LogitsSelection) throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tiny.gguf").path
        try TinyModel(seed: 3).write(to: path)
        let model = try Qwen2Model(path: path)
        let tokens = (0..<23).map { ($0 * 17 + 5) % model.config.vocabularySize }
        func run(_ maxBatch: Int) throws -> ([Float], Int) {
            let session = Qwen2Session(model: model, contextSize: 32, maxBatch: maxBatch, threads: 2,
                                       exactActivations: true, cacheType: .f32)
            return (try session.decode(tokens, logits: selection), session.position)
        }
        let (split, length) = try run(5), (whole, _) = try run(64)
        #expect(length == tokens.count)
        #expect(split.count == whole.count)
        let worst = zip(split, whole).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "max |Δ| \(worst)")
    }
}
