import Foundation

/// A linear layer of the Qwen2 block that a LoRA adapter can wrap.
public enum LoRATarget: String, CaseIterable, Codable, Sendable {
    case q, k, v, o, gate, up, down

    /// The matrix it wraps, in the tensor table.
    public var role: Qwen2Tensor.Role {
        switch self {
        case .q: .attnQ
        case .k: .attnK
        case .v: .attnV
        case .o: .attnOutput
        case .gate: .ffnGate
        case .up: .ffnUp
        case .down: .ffnDown
        }
    }

    /// The tensor name inside `blk.N.` in GGUF files.
    public var ggufName: String { role.rawValue }

    /// The module name inside `model.layers.N.` in Hugging Face / PEFT checkpoints.
    public var peftName: String {
        switch self {
        case .q: "self_attn.q_proj"
        case .k: "self_attn.k_proj"
        case .v: "self_attn.v_proj"
        case .o: "self_attn.o_proj"
        case .gate: "mlp.gate_proj"
        case .up: "mlp.up_proj"
        case .down: "mlp.down_proj"
        }
    }

    /// `(out, in)` of the wrapped weight.
    public func shape(_ c: Qwen2Config) -> (out: Int, in: Int) {
        let (rows, cols) = c.matrixShape(role)
        return (rows, cols)
    }

    /// Parses "q,k,v,o,gate,up,down" (also accepts "all" and PEFT's names such as `q_proj`).
    public static func parseList(_ text: String) -> [LoRATarget]? {
        if text == "all" { return allCases }
        var out: [LoRATarget] = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let t = allCases.first(where: {
                $0.rawValue == name || $0.ggufName == name || $0.peftName.hasSuffix("." + name)
            }) else { return nil }
            if !out.contains(t) { out.append(t) }
        }
        return out.isEmpty ? nil : out.sorted { $0.index < $1.index }
    }

    /// Position in `allCases` (0…6).
    public var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// A branch added to some of the block's projections, applied by `Qwen2Session` after each product (a LoRA adapter
/// in the LoRA module).
public protocol ProjectionAdapter: AnyObject, Sendable {
    /// Floats of scratch per input row that `addBranch` needs for this projection, or nil when it leaves it alone.
    func scratchPerRow(layer: Int, _ target: LoRATarget) -> Int?
    /// `y += branch(x)` for `n` rows. x `[n, in]`; y `[n, ldY]`; scratch `[n, scratchPerRow]`.
    func addBranch(layer: Int, _ target: LoRATarget, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldY: Int,
                   n: Int, scratch: UnsafeMutablePointer<Float>)
}
