import Kernels
import Qwen2

/// How the trainer multiplies by the frozen base weights.
public enum BaseProducts: String, CaseIterable, Codable, Sendable {
    /// f32 both ways (dequantized panels and sgemm): the loss and gradients of PyTorch + PEFT on the dequantized
    /// model, to f32 rounding.
    case exact
    /// Integers both ways: the forward products with 8-bit activations, as inference runs them, and `dX = dY·W`
    /// from a 7-bit transposed copy of each weight (`TransposedWeight`; 1.25 bytes per weight, built once). Faster;
    /// each product carries some rounding, which the backward pass amplifies, most in the first layers
    /// (TorchLoRAGradientTests prints the error against PEFT; Benchmarks/README.md has the figures).
    case integer
}

/// The 7-bit transposed copies of a model's frozen matrices, for `BaseProducts.integer`.
final class TransposedBase {
    /// [layer][target.index]; nil where a matrix's row count is not a multiple of 32 (it keeps the exact product).
    let layers: [[TransposedWeight?]]
    let output: TransposedWeight?

    init(_ model: Qwen2Model, threads: Int) {
        layers = model.weights.layers.map { layer in LoRATarget.allCases.map { TransposedWeight(layer.matrix($0), threads: threads) } }
        output = TransposedWeight(model.weights.output, threads: threads)
    }

    var byteCount: Int { layers.joined().reduce(output?.byteCount ?? 0) { $0 + ($1?.byteCount ?? 0) } }
}
