import Foundation
import Sampling
import Testing

/// Random numbers that a failing test can replay. Every test under the `.seededRandom` trait draws from its own
/// generator, seeded by the run's seed and the test's name, so what a test draws does not depend on which tests ran
/// alongside it; the run's seed is `VPGEA_TEST_SEED` when set, else a fresh one, printed once.
/// Use: `@Suite(.seededRandom)`, then `var rng = TestRandom()` and `Float.random(in: -1...1, using: &rng)`.
public struct TestRandom: RandomNumberGenerator {
    public init() {}

    /// The run's seed.
    public static let seed: UInt64 = {
        let seed = ProcessInfo.processInfo.environment["VPGEA_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64(UInt32.max))
        print("random tests: VPGEA_TEST_SEED=\(seed) replays them")
        return seed
    }()

    /// The running test's generator (shared by every `TestRandom` value made in that test).
    final class Stream: @unchecked Sendable {
        private var generator: SeededGenerator
        private let lock = NSLock()
        init(seed: UInt64) { generator = SeededGenerator(seed: seed) }
        func next() -> UInt64 { lock.withLock { generator.next() } }
    }

    @TaskLocal static var current: Stream?

    public mutating func next() -> UInt64 {
        guard let stream = Self.current else {
            preconditionFailure("TestRandom outside a test under the .seededRandom trait (add it to the suite)")
        }
        return stream.next()
    }

    /// FNV-1a of the test's identity: the same number on every run and machine.
    static func hash(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

/// Gives each test (each case of a parameterized one) its own `TestRandom` stream; see `TestRandom`.
public struct SeededRandomTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        let stream = TestRandom.Stream(seed: TestRandom.seed ^ TestRandom.hash(test.id.description))
        try await TestRandom.$current.withValue(stream) { try await function() }
    }
}

extension Trait where Self == SeededRandomTrait {
    /// Random numbers from `TestRandom`, replayable with `VPGEA_TEST_SEED`.
    public static var seededRandom: Self { SeededRandomTrait() }
}

extension TestRandom {
    /// A uniform float from the running test's stream.
    public static func float(in range: ClosedRange<Float>) -> Float {
        var rng = TestRandom()
        return Float.random(in: range, using: &rng)
    }

    /// A uniform byte from the running test's stream.
    public static func byte() -> UInt8 {
        var rng = TestRandom()
        return UInt8.random(in: 0...255, using: &rng)
    }
}
