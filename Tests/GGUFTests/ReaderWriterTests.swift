import Foundation
import GGUF
import Quants
import TestSupport
import Testing

func fixturePath(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "bin")!.path
}

let fixtureNames = ["all-value-types.gguf", "seed-0.5b.gguf", "seed-1.5b.gguf"]

@Suite struct ReaderTests {
    @Test(arguments: fixtureNames)
    func readsLikeGGUFPy(_ name: String) throws {
        let path = fixturePath(name)
        OracleComparison.expectSame(try GGUFFile(path: path), as: try OracleComparison.summary(path))
    }

    @Test func readsTheRealTestModelLikeGGUFPy() throws {
        let path = try TestSupport.testModelPath()
        let file = try GGUFFile(path: path)
        #expect(file.tensors.count == 291)
        #expect(try file.header.int("qwen2.block_count") == 24)
        OracleComparison.expectSame(file, as: try OracleComparison.summary(path))
    }

    @Test func decodesEveryValueType() throws {
        let h = try GGUFFile(path: fixturePath("all-value-types.gguf")).header
        #expect(h["t.uint8"] == .uint8(200))
        #expect(h["t.int8"] == .int8(-100))
        #expect(h["t.uint16"] == .uint16(60000))
        #expect(h["t.int16"] == .int16(-30000))
        #expect(h["t.uint32"] == .uint32(4_000_000_000))
        #expect(h["t.int32"] == .int32(-2_000_000_000))
        #expect(h["t.float32"] == .float32(1.5))
        #expect(h["t.bool"] == .bool(true))
        #expect(h["t.string"] == .string("héllo, \"wörld\" ✓"))
        #expect(h["t.uint64"] == .uint64(18_000_000_000_000_000_000))
        #expect(h["t.int64"] == .int64(-9_000_000_000_000_000_000))
        #expect(h["t.float64"] == .float64(-2.25))
        #expect(h["t.array.nested"] == .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)])]))
        #expect(try h.ints("t.array.int32") == [1, -2, 3])
        #expect(try h.strings("t.array.string") == ["a", "", "ĠĠ"])
        #expect(throws: GGUFError.self) { try h.string("t.uint8") }
        #expect(throws: GGUFError.self) { try h.int("missing.key") }
    }
}

@Suite struct WriterTests {
    @Test(arguments: fixtureNames)
    func rewritingAFileGivesTheSameBytes(_ name: String) throws {
        let path = fixturePath(name)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("copy.gguf").path
        try GGUFWriter(copying: try GGUFFile(path: path)).write(to: copy)
        #expect(FileManager.default.contents(atPath: copy) == FileManager.default.contents(atPath: path))
    }

    @Test func rewritingTheRealModelGivesTheSameBytes() throws {
        let path = try TestSupport.testModelPath()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("copy.gguf").path
        try GGUFWriter(copying: try GGUFFile(path: path)).write(to: copy)
        let a = try GGUFFile(path: path), b = try GGUFFile(path: copy)
        #expect(a.fileSize == b.fileSize)
        #expect(a.metadata == b.metadata)
        #expect(a.tensors == b.tensors)
        for t in a.tensors { #expect(a.data(of: t).elementsEqual(b.data(of: t)), "\(t.name)") }
    }

    @Test func ggufPyReadsWhatWeWrite() throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("qwen2"))
        w.set("general.alignment", .uint32(64))
        w.set("a.u8", .uint8(7))
        w.set("a.i16", .int16(-7))
        w.set("a.f32", .float32(0.1))
        w.set("a.f64", .float64(1e-300))
        w.set("a.u64", .uint64(.max))
        w.set("a.bool", .bool(false))
        w.set("a.strings", .array(.string, [.string("x"), .string("ÿ")]))
        w.set("a.floats", .array(.float32, (0..<100).map { .float32(Float($0) / 3) }))
        w.set("a.u8", .uint8(8))  // replaces in place
        try w.addTensor(name: "f32", type: .f32, dims: [3, 2], data: (0..<24).map { UInt8($0) })
        try w.addTensor(name: "q4k", type: .q4_K, dims: [256, 2], data: [UInt8](repeating: 3, count: 288))
        try w.addTensor(name: "q8", type: .q8_0, dims: [32], data: [UInt8](repeating: 9, count: 34))
        #expect(throws: GGUFError.self) { try w.addTensor(name: "f32", type: .f32, dims: [1], data: [0, 0, 0, 0]) }
        #expect(throws: GGUFError.self) { try w.addTensor(name: "bad", type: .q4_0, dims: [31], data: [0]) }

        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ours.gguf").path
        try w.write(to: path)
        let file = try GGUFFile(path: path)
        #expect(file.header.alignment == 64)
        #expect(file["a.u8"] == .uint8(8))
        #expect(file.metadata.map(\.key) == w.metadata.map(\.key))
        OracleComparison.expectSame(file, as: try OracleComparison.summary(path))
    }
}
