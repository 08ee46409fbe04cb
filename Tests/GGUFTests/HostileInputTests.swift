import Foundation
import GGUF
import Sampling
import TestSupport
import Testing

/// Corrupt, truncated and hostile files: each must give a typed `GGUFError`, never a crash, a hang, or an
/// allocation sized by the file.
@Suite struct HostileInputTests {
    static func parse(_ bytes: [UInt8]) -> Result<GGUFHeader, GGUFError> {
        bytes.withUnsafeBytes { buffer in Result { () throws(GGUFError) in try GGUFHeader(parsing: buffer) } }
    }

    static func expectError(_ bytes: [UInt8], _ check: (GGUFError.Kind) -> Bool, _ comment: Comment) {
        switch parse(bytes) {
        case .success: Issue.record("parsed, but should fail: \(comment)")
        case .failure(let e): #expect(check(e.kind), "\(comment): got \(e)")
        }
    }

    /// A minimal valid file built by hand: one key, one F32 tensor of 4 elements.
    static func minimal(alignment: UInt32 = 32, offset: UInt64 = 0, type: UInt32 = 0, dims: [UInt64] = [4],
                        nameLength: UInt64? = nil, kvCount: UInt64 = 1, tensorCount: UInt64 = 1) -> [UInt8] {
        var b: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func str(_ s: String, length: UInt64? = nil) { u64(length ?? UInt64(s.utf8.count)); b += Array(s.utf8) }
        u32(0x4655_4747); u32(3); u64(tensorCount); u64(kvCount)
        str("general.alignment"); u32(4); u32(alignment)
        str("w", length: nameLength); u32(UInt32(dims.count)); dims.forEach(u64); u32(type); u64(offset)
        while b.count % Int(max(alignment, 1)) != 0 { b.append(0) }
        b += [UInt8](repeating: 0x3F, count: 16)
        return b
    }

    @Test func theHandBuiltFileIsValid() throws {
        let h = try Self.parse(Self.minimal()).get()
        #expect(h.tensors.first?.byteCount == 16)
    }

    @Test func namedProblems() {
        var bad = Self.minimal()
        bad[0] = 0x00
        Self.expectError(bad, { if case .badMagic = $0 { true } else { false } }, "magic")
        bad = Self.minimal(); bad[4] = 1
        Self.expectError(bad, { $0 == .unsupportedVersion(1) }, "version 1")
        Self.expectError(Self.minimal(kvCount: 1 << 60), { if case .countTooLarge = $0 { true } else { false } }, "kv count")
        Self.expectError(Self.minimal(tensorCount: .max), { if case .countTooLarge = $0 { true } else { false } }, "tensor count")
        Self.expectError(Self.minimal(nameLength: 1 << 40), { if case .countTooLarge = $0 { true } else { false } }, "name length")
        Self.expectError(Self.minimal(type: 99), { $0 == .unknownTensorType(tensor: "w", type: 99) }, "tensor type")
        Self.expectError(Self.minimal(type: 2), { if case .notWholeBlocks = $0 { true } else { false } }, "Q4_0 of 4")
        Self.expectError(Self.minimal(offset: 32), { $0 == .tensorOutOfBounds(tensor: "w") }, "past the end")
        Self.expectError(Self.minimal(offset: 3), { if case .misalignedTensor = $0 { true } else { false } }, "misaligned")
        Self.expectError(Self.minimal(alignment: 3), { if case .badAlignment = $0 { true } else { false } }, "alignment 3")
        Self.expectError(Self.minimal(alignment: 0), { if case .badAlignment = $0 { true } else { false } }, "alignment 0")
        Self.expectError(Self.minimal(dims: [4, 1, 1, 1, 1]), { if case .tooManyDimensions = $0 { true } else { false } }, "5 dims")
        Self.expectError(Self.minimal(dims: [1 << 32, 1 << 32]), { if case .badDimension = $0 { true } else { false } }, "overflow")
        Self.expectError(Self.minimal(dims: [.max]), { if case .badDimension = $0 { true } else { false } }, "huge dim")
        Self.expectError(Self.minimal(dims: [1 << 62]), { if case .badDimension = $0 { true } else { false } }, "byte overflow")
    }

    @Test func overlappingTensorsAndDuplicates() throws {
        var w = GGUFWriter()
        try w.addTensor(name: "a", type: .f32, dims: [8], data: [UInt8](repeating: 1, count: 32))
        try w.addTensor(name: "b", type: .f32, dims: [8], data: [UInt8](repeating: 2, count: 32))
        var bytes = w.headerBytes() + [UInt8](repeating: 0, count: 64)
        // Point b's offset (the last 8 bytes of its table entry) at a's data.
        let bOffsetAt = try #require(Self.lastOffsetField(bytes))
        for i in 0..<8 { bytes[bOffsetAt + i] = 0 }
        Self.expectError(bytes, { $0 == .tensorsOverlap("a", "b") || $0 == .tensorsOverlap("b", "a") }, "overlap")

        var d = GGUFWriter()
        d.set("k", .uint8(1))
        var dup = d.headerBytes()
        // Duplicate the only key: bump the count and append the same entry.
        dup[16] = 2
        let entry = Array(dup[24..<(24 + 8 + 1 + 4 + 1)])
        dup.insert(contentsOf: entry, at: 24)
        Self.expectError(dup, { $0 == .duplicateKey("k") }, "duplicate key")
    }

    /// Where the last tensor's u64 offset sits: just before the padding that ends the header.
    static func lastOffsetField(_ bytes: [UInt8]) -> Int? {
        guard case .success(let h) = parse(bytes), h.tensors.count == 2 else { return nil }
        var end = 24
        for kv in h.metadata { end += 8 + kv.key.utf8.count + 4 + 1 }  // only u8 keys here (none)
        for t in h.tensors { end += 8 + t.name.utf8.count + 4 + 8 * t.dims.count + 4 + 8 }
        return end - 8
    }

    @Test func deeplyNestedArrays() {
        var b: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        u32(0x4655_4747); u32(3); u64(0); u64(1)
        u64(1); b += [0x6B]; u32(9)
        for _ in 0..<10_000 { u32(9); u64(1) }  // array of array of … (10,000 deep)
        Self.expectError(b, { $0 == .nestingTooDeep }, "nesting")
    }

    @Test func everyPrefixOfARealHeaderFailsCleanly() throws {
        let bytes = Array(FileManager.default.contents(atPath: fixturePath("seed-0.5b.gguf"))!)
        let header = try Self.parse(bytes).get()
        var failures = 0
        for length in 0..<header.dataOffset {
            if case .failure = Self.parse(Array(bytes[0..<length])) { failures += 1 }
        }
        // Every cut inside the header or the tensor data fails: tensors then lie past the end.
        #expect(failures == header.dataOffset)
    }

    /// Mutation fuzzing over real headers: bit flips, interesting values in u32/u64 fields, cuts, insertions
    /// and deletions. Every outcome must be a parsed header whose tensors lie inside the file, or a GGUFError.
    @Test func mutationFuzz() throws {
        let seeds = fixtureNames.map { Array(FileManager.default.contents(atPath: fixturePath($0))!) }
        var rng = SeededGenerator(seed: 0x5EED_2026)
        let interesting: [UInt64] = [0, 1, 2, 3, 4, 8, 9, 12, 31, 32, 33, 63, 64, 255, 256, 0x7FFF_FFFF, 0xFFFF_FFFF,
                                     1 << 32, 1 << 40, 1 << 62, .max / 2, .max - 1, .max]
        let cases = 12_000
        var parsed = 0, rejected = 0
        for _ in 0..<cases {
            var b = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                // Mutations concentrate on the header, where the parser works.
                let headerEnd = min(b.count, 4096)
                let at = Int(rng.next() % UInt64(max(headerEnd, 1)))
                switch rng.next() % 6 {
                case 0: if at < b.count { b[at] ^= UInt8(1 << (rng.next() % 8)) }
                case 1: if at < b.count { b[at] = UInt8(truncatingIfNeeded: rng.next()) }
                case 2:
                    let v = interesting[Int(rng.next() % UInt64(interesting.count))]
                    let width = rng.next() % 2 == 0 ? 4 : 8
                    for i in 0..<width where at + i < b.count { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
                case 3: b = Array(b.prefix(Int(rng.next() % UInt64(b.count + 1))))
                case 4: b.insert(contentsOf: (0..<(1 + rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: min(at, b.count))
                default: if at < b.count { b.removeSubrange(at..<min(b.count, at + 1 + Int(rng.next() % 16))) }
                }
            }
            switch Self.parse(b) {
            case .success(let h):
                parsed += 1
                for t in h.tensors where h.dataOffset + t.offset + t.byteCount > b.count {
                    Issue.record("accepted tensor \(t.name) past the end")
                }
            case .failure(let e):
                rejected += 1
                #expect(e.offset >= 0 && e.offset <= b.count, "offset \(e.offset) outside the file: \(e)")
                #expect(!e.description.isEmpty)
            }
        }
        // The generator is seeded: some mutations keep a file that parses (a changed byte of a string, say) and
        // every such file was checked above.
        #expect(parsed > 0, "no mutated file parsed: the accepted path went untested")
        #expect(rejected > cases / 2, "the mutations should mostly break the files")
        print("mutation fuzz: \(cases) cases, \(parsed) parsed, \(rejected) rejected with GGUFError")
    }

    @Test func missingAndEmptyFiles() throws {
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/tmp") }
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.gguf").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: GGUFError.self) { try GGUFFile(path: empty) }
        let text = dir.appendingPathComponent("text.gguf").path
        FileManager.default.createFile(atPath: text, contents: Data("hello, not a model\n".utf8))
        do { _ = try GGUFFile(path: text); Issue.record("parsed a text file") } catch {
            #expect(error.description.contains("not a GGUF file"))
        }
    }
}
