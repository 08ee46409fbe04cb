/// GPT-2's byte-level alphabet: every byte is shown as a printable Unicode character, so that BPE tokens are
/// strings. Printable Latin-1 bytes stand for themselves; the others (control bytes, space, 127–160, 173)
/// become U+0100 onwards, in byte order.
enum ByteLevel {
    /// `[256]`: the character for each byte.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, or nil if it is not in the alphabet.
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// Encodes bytes as their byte-level string.
    static func encode<S: Sequence<UInt8>>(_ bytes: S) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// Decodes a byte-level string; characters outside the alphabet are kept as their UTF-8.
    static func decode(_ text: String, into bytes: inout [UInt8]) {
        for scalar in text.unicodeScalars {
            if let b = scalarToByte[scalar.value] {
                bytes.append(b)
            } else {
                bytes.append(contentsOf: Array(String(scalar).utf8))
            }
        }
    }
}
