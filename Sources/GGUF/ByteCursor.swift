/// A bounds-checked little-endian reader over untrusted bytes. Every read checks the remaining length first.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw GGUFError(.truncated(what: what()), at: offset) }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    /// Reads a GGUF string (u64 length, then bytes). `strict` rejects invalid UTF-8;
    /// otherwise invalid bytes become U+FFFD.
    mutating func readString(_ what: @autoclosure () -> String, strict: Bool) throws(GGUFError) -> String {
        let start = offset
        let length = try read(UInt64.self, what())
        guard length <= UInt64(remaining) else {
            throw GGUFError(.countTooLarge(what: "\(what()) length", count: length), at: start)
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)])
        offset += Int(length)
        let units = raw.bindMemory(to: UInt8.self)
        if strict {
            guard let s = String(validating: units, as: UTF8.self) else {
                throw GGUFError(.invalidUTF8(what: what()), at: start)
            }
            return s
        }
        return String(decoding: units, as: UTF8.self)
    }

    /// Checks that `count` items of at least `minimumSize` bytes each can fit in what remains, so that
    /// nothing is ever allocated from an untrusted count alone.
    func checkCount(_ count: UInt64, minimumSize: Int, _ what: String, at start: Int) throws(GGUFError) -> Int {
        let (need, overflow) = count.multipliedReportingOverflow(by: UInt64(max(minimumSize, 1)))
        guard !overflow, need <= UInt64(remaining) else {
            throw GGUFError(.countTooLarge(what: what, count: count), at: start)
        }
        return Int(count)
    }
}
