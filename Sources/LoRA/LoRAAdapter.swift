import Foundation
import Kernels
import Qwen2

/// LoRA hyper-parameters.
public struct LoRAConfig: Codable, Sendable, Equatable {
    public var rank: Int
    public var alpha: Float
    /// Dropout on the adapter branch's input, training only.
    public var dropout: Float
    public var targets: [LoRATarget]
    /// rsLoRA: scale by alpha/√rank instead of alpha/rank.
    public var rsLoRA: Bool

    public init(rank: Int = 16, alpha: Float = 32, dropout: Float = 0, targets: [LoRATarget] = LoRATarget.allCases,
                rsLoRA: Bool = false) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
        self.rsLoRA = rsLoRA
    }

    /// The factor on `B·A·x`.
    public var scale: Float { rsLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }
}

/// LoRA adapter weights for every targeted linear layer of a Qwen2 model, in one flat buffer so that the
/// optimiser, zeroing and checkpoints are single loops. The adapted layer computes
/// `y = W·x + scale · B·(A·x)` (PEFT's and llama.cpp's convention).
public final class LoRAAdapter: @unchecked Sendable {
    /// Where one adapted layer's matrices live in `parameters`.
    public struct Slot: Sendable, Equatable {
        public let layer: Int
        public let target: LoRATarget
        public let aOffset: Int   // A: [rank, inFeatures]
        public let bOffset: Int   // B: [outFeatures, rank]
        public let outFeatures: Int
        public let inFeatures: Int
    }

    public let config: LoRAConfig
    public let model: Qwen2Config
    /// Multiplies `config.scale` at inference (`--lora-scale`).
    public var userScale: Float = 1
    public let count: Int
    public let parameters: UnsafeMutablePointer<Float>   // [count] f32, slot by slot
    public let slots: [Slot]
    private let slotIndex: [[Int?]]                      // [layer][target.index] → index into slots

    /// Zero-filled adapter (call `initializePEFT` or load values).
    public init(config: LoRAConfig, model: Qwen2Config) {
        self.config = config
        self.model = model
        var slots: [Slot] = [], index = [[Int?]](repeating: [Int?](repeating: nil, count: LoRATarget.allCases.count),
                                                  count: model.layerCount)
        var offset = 0
        for l in 0..<model.layerCount {
            for t in LoRATarget.allCases where config.targets.contains(t) {
                let (o, i) = t.shape(model)
                index[l][t.index] = slots.count
                slots.append(Slot(layer: l, target: t, aOffset: offset, bOffset: offset + config.rank * i,
                                  outFeatures: o, inFeatures: i))
                offset += config.rank * (i + o)
            }
        }
        self.slots = slots
        slotIndex = index
        count = offset
        parameters = .allocate(capacity: max(offset, 1))
        parameters.initialize(repeating: 0, count: max(offset, 1))
    }

    deinit { parameters.deallocate() }

    public var effectiveScale: Float { config.scale * userScale }

    public func slot(layer: Int, _ target: LoRATarget) -> Slot? {
        guard layer < slotIndex.count, let i = slotIndex[layer][target.index] else { return nil }
        return slots[i]
    }

    /// Inference: `y += scale · (x·Aᵀ)·Bᵀ` for `n` rows.
    /// - Parameters: x `[n, in]`; y `[n, ldY]`; scratch `[n, rank]`.
    public func apply(_ s: Slot, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldY: Int, n: Int,
                      scratch: UnsafeMutablePointer<Float>) {
        let r = config.rank
        Gemm.multiply(n, r, s.inFeatures, x, lda: s.inFeatures, parameters + s.aOffset, ldb: s.inFeatures, transB: true,
                      scratch, ldc: r)
        Gemm.multiply(n, s.outFeatures, r, scratch, lda: r, parameters + s.bOffset, ldb: r, transB: true,
                      y, ldc: ldY, alpha: effectiveScale, beta: 1)
    }
}

extension LoRAAdapter: ProjectionAdapter {
    public func scratchPerRow(layer: Int, _ target: LoRATarget) -> Int? {
        slot(layer: layer, target).map { _ in config.rank }
    }

    public func addBranch(layer: Int, _ target: LoRATarget, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                          ldY: Int, n: Int, scratch: UnsafeMutablePointer<Float>) {
        guard let s = slot(layer: layer, target) else { return }
        apply(s, x: x, y: y, ldY: ldY, n: n, scratch: scratch)
    }
}
