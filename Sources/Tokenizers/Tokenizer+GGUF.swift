import GGUF

extension Tokenizer {
    /// Builds the tokenizer that a GGUF file describes (`tokenizer.ggml.*`).
    public convenience init(gguf header: GGUFHeader) throws(TokenizerError) {
        do {
            let model = try header.string("tokenizer.ggml.model")
            guard model == "gpt2" else {
                throw TokenizerError("tokenizer model \"\(model)\" is not supported (only byte-level BPE, \"gpt2\")")
            }
            let pre = (try? header.string("tokenizer.ggml.pre")) ?? "default"
            guard let kind = PreTokenizerKind(rawValue: pre) else {
                throw TokenizerError("pre-tokenizer \"\(pre)\" is not supported; supported: "
                    + PreTokenizerKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let tokens = try header.strings("tokenizer.ggml.tokens")
            let types = try header.ints("tokenizer.ggml.token_type").map { TokenType(rawValue: $0) ?? .normal }
            let merges = try header.strings("tokenizer.ggml.merges")
            let bos = try? header.int("tokenizer.ggml.bos_token_id")
            let eos = try? header.int("tokenizer.ggml.eos_token_id")
            let eot = (try? header.int("tokenizer.ggml.eot_token_id")).map { [$0] } ?? []
            let addBOS = header["tokenizer.ggml.add_bos_token"]?.bool ?? false
            try self.init(tokens: tokens, types: types, merges: merges, preTokenizer: kind,
                          bos: bos, eos: eos, addBOS: addBOS, extraEndOfGeneration: eot)
        } catch let error as GGUFError {
            throw TokenizerError("cannot read the tokenizer: \(error)")
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw TokenizerError("\(error)")
        }
    }
}
