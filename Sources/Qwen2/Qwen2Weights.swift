import GGUF
import Kernels
import Quants

/// One transformer block's weights, named as in the GGUF (`blk.N.<name>`).
public struct Qwen2Layer: @unchecked Sendable {
    public let attnNorm: [Float]          // [embd]
    public let attnQ: WeightMatrix        // [headCount*headDim, embd]
    public let attnK: WeightMatrix        // [kvDim, embd]
    public let attnV: WeightMatrix        // [kvDim, embd]
    public let attnQBias: [Float]         // [headCount*headDim]
    public let attnKBias: [Float]         // [kvDim]
    public let attnVBias: [Float]         // [kvDim]
    public let attnOutput: WeightMatrix   // [embd, headCount*headDim]
    public let ffnNorm: [Float]           // [embd]
    public let ffnGate: WeightMatrix      // [ff, embd]
    public let ffnUp: WeightMatrix        // [ff, embd]
    public let ffnDown: WeightMatrix      // [embd, ff]
}

/// All weights of a Qwen2 model. Matrices point into the memory-mapped file, except the layers' and the output's
/// Q4_0, Q5_0, Q8_0 and k-quant matrices on a path with kernels for their interleaved layout (the embeddings' too when
/// they are the output's), which are rearranged into a copy of the same size, and their F16 and BF16 ones, copied as
/// stored into 2 MiB pages (`WeightMatrix.interleavedForKernels`); the small f32 vectors (norms, biases) are copied out.
public struct Qwen2Weights: @unchecked Sendable {
    public let tokenEmbd: WeightMatrix    // [vocab, embd]
    public let layers: [Qwen2Layer]
    public let outputNorm: [Float]        // [embd]
    public let output: WeightMatrix       // [vocab, embd] (token_embd when the model ties them)

    /// The matrices that multiply activations in a prompt (the output matrix only ever multiplies rows whose logits
    /// are wanted).
    public var layerMatrices: [WeightMatrix] {
        layers.flatMap { [$0.attnQ, $0.attnK, $0.attnV, $0.attnOutput, $0.ffnGate, $0.ffnUp, $0.ffnDown] }
    }

    public init(file: GGUFFile, config c: Qwen2Config) throws(GGUFError) {
        /// `interleave`: a matrix that multiplies activations, interleaved where the kernels have that layout (its
        /// mapped pages are dropped as they are copied).
        func matrix(_ name: String, rows: Int, cols: Int, interleave: Bool) throws(GGUFError) -> WeightMatrix {
            let t = try file.tensor(name)
            guard t.dims.count == 2, t.dims[0] == cols, t.dims[1] == rows else {
                throw GGUFError(.invalidInput("tensor \(name) has shape \(t.dims), expected [\(cols), \(rows)]"), at: 0)
            }
            guard t.type.format.canDequantize else {
                throw GGUFError(.invalidInput("tensor \(name) uses \(t.type.name), which vpgea cannot compute with; supported: "
                    + GGMLType.dequantizable.map(\.name).joined(separator: ", ")), at: 0)
            }
            let stored = WeightMatrix(type: t.type, data: file.data(of: t).baseAddress!, rows: rows, cols: cols)
            return interleave ? stored.interleavedForKernels { file.releasePages(of: t, bytes: $0) } : stored
        }
        func vector(_ name: String, _ count: Int) throws(GGUFError) -> [Float] {
            let t = try file.tensor(name)
            guard t.elementCount == count, t.type.format.canDequantize else {
                throw GGUFError(.invalidInput("tensor \(name): \(t.elementCount) × \(t.type.name), expected \(count) floats"), at: 0)
            }
            var out = [Float](repeating: 0, count: count)
            out.withUnsafeMutableBufferPointer { Dequantize.unchecked(t.type, file.data(of: t).baseAddress!, $0.baseAddress!, count: count) }
            return out
        }
        func matrix(_ role: Qwen2Tensor.Role, _ prefix: String = "", interleave: Bool = true) throws(GGUFError)
            -> WeightMatrix {
            let (rows, cols) = c.matrixShape(role)
            return try matrix(prefix + role.rawValue + ".weight", rows: rows, cols: cols, interleave: interleave)
        }
        func vector(_ role: Qwen2Tensor.Role, _ prefix: String, bias: Bool = false) throws(GGUFError) -> [Float] {
            try vector(prefix + role.rawValue + (bias ? ".bias" : ".weight"), c.matrixShape(role).rows)
        }
        // The embeddings are read a row at a time; when they are the output matrix too (tied), they take the products'
        // layout, and each lookup puts its row back.
        let tied = file.header.tensor("output.weight") == nil
        tokenEmbd = try matrix(.tokenEmbedding, interleave: tied)
        var layers: [Qwen2Layer] = []
        for i in 0..<c.layerCount {
            let b = "blk.\(i)."
            layers.append(Qwen2Layer(
                attnNorm: try vector(.attnNorm, b),
                attnQ: try matrix(.attnQ, b),
                attnK: try matrix(.attnK, b),
                attnV: try matrix(.attnV, b),
                attnQBias: try vector(.attnQ, b, bias: true),
                attnKBias: try vector(.attnK, b, bias: true),
                attnVBias: try vector(.attnV, b, bias: true),
                attnOutput: try matrix(.attnOutput, b),
                ffnNorm: try vector(.ffnNorm, b),
                ffnGate: try matrix(.ffnGate, b),
                ffnUp: try matrix(.ffnUp, b),
                ffnDown: try matrix(.ffnDown, b)))
        }
        self.layers = layers
        outputNorm = try vector(.outputNorm, "")
        output = tied ? tokenEmbd : try matrix(.output)
    }
}

extension Qwen2Layer {
    /// The frozen matrix a LoRA target adapts.
    public func matrix(_ target: LoRATarget) -> WeightMatrix {
        switch target {
        case .q: attnQ
        case .k: attnK
        case .v: attnV
        case .o: attnOutput
        case .gate: ffnGate
        case .up: ffnUp
        case .down: ffnDown
        }
    }
}
