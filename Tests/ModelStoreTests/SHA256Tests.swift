import Foundation
import ModelStore
import TestSupport
import Testing

@Suite(.seededRandom) struct SHA256Tests {
    func digest(_ bytes: [UInt8]) -> String {
        var h = SHA256()
        h.update(bytes)
        return SHA256.hex(h.finalize())
    }

    @Test func nistVectors() {
        #expect(digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest([UInt8](repeating: 0x61, count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Random lengths fed in random pieces, against coreutils' sha256sum.
    @Test func matchesSha256sumInPieces() throws {
        var rng = TestRandom()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for length in [1, 55, 56, 63, 64, 65, 119, 1000, 100_003] {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let url = dir.appendingPathComponent("\(length).bin")
            try Data(data).write(to: url)
            var h = SHA256()
            var i = 0
            while i < data.count {
                let n = min(Int.random(in: 1...97, using: &rng), data.count - i)
                data[i..<i + n].withUnsafeBytes { h.update($0) }
                i += n
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sha256sum", url.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(SHA256.hex(h.finalize()) == out.split(separator: " ").first.map(String.init), "length \(length)")
        }
    }
}
