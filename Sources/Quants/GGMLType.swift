/// Tensor element types as numbered in GGUF files (ggml's `ggml_type`).
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1
    case q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39

    /// The name llama.cpp and gguf-py print (`Q4_K`, `F32`, …).
    public var name: String { String(describing: self).uppercased() }

    /// Parses a type name such as `q4_k` or `Q8_0`, case-insensitively.
    public init?(name: String) {
        let wanted = name.uppercased()
        guard let match = GGMLType.allCases.first(where: { $0.name == wanted }) else { return nil }
        self = match
    }
}
