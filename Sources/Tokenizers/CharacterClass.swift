/// The character classes the pre-tokenizer regexes use: `\p{L}`, `\p{N}` and `\s` (Unicode White_Space).
struct CharacterClass: OptionSet {
    let rawValue: UInt8
    static let letter = CharacterClass(rawValue: 1)
    static let number = CharacterClass(rawValue: 2)
    static let whitespace = CharacterClass(rawValue: 4)
    /// Past the end of the text: matches no class, not even a negated one.
    static let none: CharacterClass = []

    /// `[128]`: ASCII looked up, the rest computed from Unicode properties.
    private static let ascii: [CharacterClass] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    @inline(__always) static func of(_ scalar: Unicode.Scalar) -> CharacterClass {
        scalar.value < 128 ? ascii[Int(scalar.value)] : classify(scalar)
    }

    private static func classify(_ scalar: Unicode.Scalar) -> CharacterClass {
        var c: CharacterClass = []
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: c.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber: c.insert(.number)
        default: break
        }
        if scalar.properties.isWhitespace { c.insert(.whitespace) }
        return c
    }
}
