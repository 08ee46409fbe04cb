import Foundation
import ZIPFoundation

/// Reads one chunk out of a wheel, checking it against the sha256 the wheel's RECORD lists for it.
enum WheelChunk {
    /// The wheel file of chunk `n` in `directory`, if present.
    static func find(_ model: CatalogModel, chunk n: Int, in directory: URL) -> URL? {
        let prefix = model.packageName(chunk: n).replacingAll("-", with: "_") + "-\(model.version)-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.first { $0.hasPrefix(prefix) && $0.hasSuffix(".whl") }.map { directory.appendingPathComponent($0) }
    }

    /// Streams the chunk's bytes to `consume` and verifies them against RECORD.
    /// Throws `.corruptChunk` when the wheel is unreadable or the bytes do not match.
    static func extract(_ model: CatalogModel, chunk n: Int, wheel: URL,
                        consume: (UnsafeRawBufferPointer) throws(FetchError) -> Void) throws(FetchError) {
        let member = model.memberPath(chunk: n)
        let archive: Archive
        do { archive = try Archive(url: wheel, accessMode: .read) } catch {
            throw .corruptChunk(chunk: n, "\(wheel.lastPathComponent) is not a readable zip file")
        }
        guard let entry = archive[member] else {
            throw .corruptChunk(chunk: n, "\(wheel.lastPathComponent) has no \(member)")
        }
        guard let expected = recordHash(archive, member: member) else {
            throw .corruptChunk(chunk: n, "\(wheel.lastPathComponent) lists no sha256 for \(member) in RECORD")
        }
        var hash = SHA256()
        var failure: FetchError?
        do {
            _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: false) { data in
                guard failure == nil else { return }
                data.withUnsafeBytes { buffer in
                    hash.update(buffer)
                    do { try consume(buffer) } catch { failure = (error as? FetchError) ?? .io("\(error)") }
                }
            }
        } catch {
            throw .corruptChunk(chunk: n, "\(member) in \(wheel.lastPathComponent) cannot be decompressed (\(error))")
        }
        if let failure { throw failure }
        let actual = Data(hash.finalize()).base64EncodedString()
            .replacingAll("+", with: "-").replacingAll("/", with: "_").filter { $0 != "=" }
        guard actual == expected else {
            throw .corruptChunk(chunk: n, "\(member) does not match the sha256 in the wheel's RECORD")
        }
    }

    /// The urlsafe-base64 sha256 that RECORD gives for `member` (`path,sha256=…,size`).
    private static func recordHash(_ archive: Archive, member: String) -> String? {
        guard let record = archive.first(where: { $0.path.hasSuffix(".dist-info/RECORD") }) else { return nil }
        var text = Data()
        do { _ = try archive.extract(record) { text.append($0) } } catch { return nil }
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count >= 2, fields[0] == member, fields[1].hasPrefix("sha256=") {
                return String(fields[1].dropFirst("sha256=".count))
            }
        }
        return nil
    }
}
