import LoRA
import Qwen2
import Sampling

extension LoRAAdapter {
    /// PEFT's default initialisation, seeded: A Kaiming-uniform with a = √5 (bound 1/√in), B zero, so the
    /// adapted model starts equal to the base model.
    public func initializePEFT(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for s in slots {
            let bound = 1 / Float(s.inFeatures).squareRoot()
            for i in 0..<config.rank * s.inFeatures { parameters[s.aOffset + i] = Float.random(in: -bound..<bound, using: &rng) }
            (parameters + s.bOffset).update(repeating: 0, count: s.outFeatures * config.rank)
        }
    }

    /// Fills A and B with values `value(slot, isB, row, col)` (tests and fixtures use formula initialisations).
    public func fill(_ value: (Slot, Bool, Int, Int) -> Float) {
        let r = config.rank
        for s in slots {
            for i in 0..<r { for j in 0..<s.inFeatures { parameters[s.aOffset + i * s.inFeatures + j] = value(s, false, i, j) } }
            for i in 0..<s.outFeatures { for j in 0..<r { parameters[s.bOffset + i * r + j] = value(s, true, i, j) } }
        }
    }
}
