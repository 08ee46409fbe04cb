import Foundation
import GGUF
import LoRA
import Qwen2
import Sampling

/// Where a training run is: enough to continue it exactly.
public struct TrainingState: Codable, Sendable, Equatable {
    /// Optimiser steps taken.
    public var step = 0
    /// Passes over the data started, and the next example's index in this pass's order.
    public var epoch = 0
    public var position = 0
    /// Seed of the data order and the dropout masks.
    public var seed: UInt64 = 0
    /// Loss of every step so far.
    public var losses: [Double] = []
    public init(seed: UInt64 = 0) { self.seed = seed }
}

/// The seeded order of the data: a fresh shuffle per epoch, derived from `state.seed` and `state.epoch`, so a
/// resumed run continues exactly where it stopped.
public struct DataOrder {
    public let count: Int
    private var order: [Int]

    public init(count: Int, state: TrainingState) {
        self.count = count
        order = Self.shuffle(count, seed: state.seed, epoch: state.epoch)
    }

    static func shuffle(_ count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        return Array(0..<count).shuffled(using: &rng)
    }

    /// The next index; advances `state.position` (and `state.epoch` at the end of a pass).
    public mutating func next(_ state: inout TrainingState) -> Int {
        if state.position >= count {
            state.epoch += 1
            state.position = 0
            order = Self.shuffle(count, seed: state.seed, epoch: state.epoch)
        }
        defer { state.position += 1 }
        return order[state.position]
    }
}

/// A checkpoint file (GGUF): the adapter, the AdamW moments, the training state and the run's settings as JSON.
/// Written atomically (temporary file, fsync, rename): a crash or Ctrl-C at any moment leaves the previous
/// checkpoint whole.
public enum Checkpoint {
    public static func save(to path: String, adapter: LoRAAdapter, optimizer: AdamW, state: TrainingState, settings: String) throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("qwen2"))
        w.set("general.type", .string("vpgea-checkpoint"))
        let configJSON = String(decoding: try JSONEncoder().encode(adapter.config), as: UTF8.self)
        w.set("vpgea.lora.config", .string(configJSON))
        w.set("vpgea.state", .string(String(decoding: try JSONEncoder().encode(state), as: UTF8.self)))
        w.set("vpgea.adam.step", .uint64(UInt64(optimizer.step)))
        w.set("vpgea.settings", .string(settings))
        func bytes(_ p: UnsafePointer<Float>) -> [UInt8] { Array(UnsafeRawBufferPointer(start: p, count: adapter.count * 4)) }
        try w.addTensor(name: "lora.parameters", type: .f32, dims: [adapter.count], data: bytes(adapter.parameters))
        try w.addTensor(name: "adam.m", type: .f32, dims: [adapter.count], data: bytes(optimizer.m))
        try w.addTensor(name: "adam.v", type: .f32, dims: [adapter.count], data: bytes(optimizer.v))
        try w.write(to: path)
    }

    public struct Loaded {
        public let adapter: LoRAAdapter
        public let optimizer: AdamW
        public let state: TrainingState
        public let settings: String
    }

    public static func load(from path: String, model: Qwen2Config) throws -> Loaded {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw AdapterError("checkpoint \(path): \(error)") }
        let h = file.header
        guard (try? h.string("general.type")) == "vpgea-checkpoint",
              let configText = try? h.string("vpgea.lora.config"), let stateText = try? h.string("vpgea.state"),
              let config = try? JSONDecoder().decode(LoRAConfig.self, from: Data(configText.utf8)),
              let state = try? JSONDecoder().decode(TrainingState.self, from: Data(stateText.utf8)),
              let adamStep = try? h.int("vpgea.adam.step") else {
            throw AdapterError("\(path) is not a vpgea checkpoint")
        }
        let adapter = LoRAAdapter(config: config, model: model)
        let optimizer = AdamW(count: adapter.count)
        var arrays: [[Float]] = []
        for name in ["lora.parameters", "adam.m", "adam.v"] {
            guard let t = h.tensor(name), t.type == .f32, t.elementCount == adapter.count else {
                throw AdapterError("checkpoint \(path): \(name) is missing or does not fit this model (\(adapter.count) values expected)")
            }
            arrays.append(Array(file.data(of: t).bindMemory(to: Float.self)))
        }
        adapter.parameters.update(from: arrays[0], count: adapter.count)
        optimizer.restore(step: adamStep, m: arrays[1], v: arrays[2])
        return Loaded(adapter: adapter, optimizer: optimizer, state: state, settings: (try? h.string("vpgea.settings")) ?? "")
    }
}
