import Foundation
import GGUF
import Kernels
import Quants
import Qwen2
import Testing
import TestSupport

/// A model whose embeddings are its output matrix too (tied, as in Qwen2.5's small models): on a path with kernels
/// for the interleaved layout that matrix takes it, as an untied output matrix does (the stored rows would take the
/// slow path of generation products there), and every embedding lookup still reads the row as stored.
@Suite struct TiedEmbeddingTests {
    @Test func tiedOutputIsInterleavedAndLookupsReadTheStoredRows() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("tiny.gguf").path, quantized = dir.appendingPathComponent("q.gguf").path
        // Rows of 256 values (the k-quants' block), a vocabulary of four groups of sixteen rows.
        try TinyModel(layers: 1, embd: 256, ff: 256, heads: 4, kvHeads: 2, vocab: 64).write(to: source, tiedEmbeddings: true)
        try ModelQuantizer.write(try GGUFFile(path: source), scheme: .q4_K_M, to: quantized)
        let file = try GGUFFile(path: quantized)
        let model = try Qwen2Model(file: file)
        let embeddings = model.weights.tokenEmbd, info = try file.tensor("token_embd.weight")
        #expect(file.header.tensor("output.weight") == nil && embeddings.type == .q6_K)   // the output's type, tied
        #expect(model.weights.output.data == embeddings.data)
        // Every x86 SIMD path has its own Q6_K products on the layout (AVX-512's, and the 256-bit paths' since session
        // 27); the generic path keeps the rows as stored.
        let ownLayout: Set<KernelPath> = [.avx512, .avxVNNI, .avx2]
        #expect(model.weights.output.interleaved == (ownLayout.contains(KernelPath.selected) && WeightMatrix.interleavesByDefault))
        let stored = WeightMatrix(type: info.type, data: file.data(of: info).baseAddress!, rows: 64, cols: 256)
        var want = [Float](repeating: 0, count: 256), got = want
        for r in 0..<64 {
            Dequantize.unchecked(info.type, stored.data + r * stored.rowBytes, &want, count: 256)
            embeddings.dequantizeRow(r, into: &got)
            #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "row \(r)")
        }
    }
}
