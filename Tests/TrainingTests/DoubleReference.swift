import Foundation
import TestSupport

/// Plain Double implementations of the Qwen2 forward pass with LoRA, written from the model's definition
/// (HF `Qwen2ForCausalLM` + PEFT), independent of the code under test. Finite differences run on these.
enum DoubleReference {
    static func rmsNorm(_ x: [Double], _ w: [Double], eps: Double) -> [Double] {
        let r = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + eps).squareRoot()
        return zip(x, w).map { $0 * r * $1 }
    }

    static func silu(_ g: Double) -> Double { g / (1 + exp(-g)) }

    /// NEOX rotary on one head vector: pairs (i, i + d/2), angle pos · base^(−2i/d).
    static func rope(_ v: [Double], pos: Int, base: Double) -> [Double] {
        let d = v.count, half = d / 2
        var out = v
        for i in 0..<half {
            let a = Double(pos) * pow(base, -2 * Double(i) / Double(d))
            out[i] = v[i] * cos(a) - v[i + half] * sin(a)
            out[i + half] = v[i] * sin(a) + v[i + half] * cos(a)
        }
        return out
    }

    /// Causal GQA attention: q `[n][heads*hd]`, k/v `[n][kvHeads*hd]`.
    static func attention(q: [[Double]], k: [[Double]], v: [[Double]], heads: Int, kvHeads: Int, hd: Int) -> [[Double]] {
        let n = q.count, group = heads / kvHeads
        var out = [[Double]](repeating: [Double](repeating: 0, count: heads * hd), count: n)
        for t in 0..<n {
            for h in 0..<heads {
                let g = h / group
                var s = (0...t).map { j in (0..<hd).reduce(0.0) { $0 + q[t][h * hd + $1] * k[j][g * hd + $1] } / Double(hd).squareRoot() }
                let m = s.max()!
                s = s.map { exp($0 - m) }
                let z = s.reduce(0, +)
                for j in 0...t { for d in 0..<hd { out[t][h * hd + d] += s[j] / z * v[j][g * hd + d] } }
            }
        }
        return out
    }

    /// `x·Wᵀ` for one row; w `[out, in]` row-major.
    static func linear(_ x: [Double], _ w: [Double], out: Int) -> [Double] {
        let inF = x.count
        return (0..<out).map { o in (0..<inF).reduce(0.0) { $0 + x[$1] * w[o * inF + $1] } }
    }

    static func logSumExp(_ x: [Double]) -> Double {
        let m = x.max()!
        return m + log(x.reduce(0) { $0 + exp($1 - m) })
    }

    /// The adapter of one linear layer: A `[r, in]`, B `[out, r]`.
    struct Adapter { var a: [Double]; var b: [Double]; var rank: Int }

    /// Mean next-token cross-entropy of the tiny model on `tokens`, with `adapters[layer][target]` applied as
    /// `W·x + scale·B·A·x`.
    static func loss(model m: TinyModel, tokens: [Int], adapters: [[String: Adapter]], scale: Double) -> Double {
        let t64 = m.tensors.mapValues { $0.map(Double.init) }
        let e = m.embd, hd = e / m.heads, kv = m.kvHeads * hd, eps = Double(m.eps)
        func proj(_ x: [Double], _ l: Int, _ name: String, _ key: String, out: Int) -> [Double] {
            var y = linear(x, t64["blk.\(l).\(name).weight"]!, out: out)
            if let ad = adapters[l][key] {
                let u = linear(x, ad.a, out: ad.rank)
                let bu = linear(u, ad.b, out: out)
                for i in 0..<out { y[i] += scale * bu[i] }
            }
            return y
        }
        var xs = tokens.map { Array(t64["token_embd.weight"]![$0 * e..<($0 + 1) * e]) }
        for l in 0..<m.layers {
            let b = "blk.\(l)."
            let n1 = xs.map { rmsNorm($0, t64[b + "attn_norm.weight"]!, eps: eps) }
            var q = n1.map { zip(proj($0, l, "attn_q", "q", out: e), t64[b + "attn_q.bias"]!).map(+) }
            var k = n1.map { zip(proj($0, l, "attn_k", "k", out: kv), t64[b + "attn_k.bias"]!).map(+) }
            let v = n1.map { zip(proj($0, l, "attn_v", "v", out: kv), t64[b + "attn_v.bias"]!).map(+) }
            for t in 0..<tokens.count {
                q[t] = (0..<m.heads).flatMap { rope(Array(q[t][$0 * hd..<($0 + 1) * hd]), pos: t, base: Double(m.ropeBase)) }
                k[t] = (0..<m.kvHeads).flatMap { rope(Array(k[t][$0 * hd..<($0 + 1) * hd]), pos: t, base: Double(m.ropeBase)) }
            }
            let att = attention(q: q, k: k, v: v, heads: m.heads, kvHeads: m.kvHeads, hd: hd)
            for t in 0..<tokens.count { xs[t] = zip(xs[t], proj(att[t], l, "attn_output", "o", out: e)).map(+) }
            for t in 0..<tokens.count {
                let n2 = rmsNorm(xs[t], t64[b + "ffn_norm.weight"]!, eps: eps)
                let g = proj(n2, l, "ffn_gate", "gate", out: m.ff), u = proj(n2, l, "ffn_up", "up", out: m.ff)
                let h = zip(g, u).map { silu($0) * $1 }
                xs[t] = zip(xs[t], proj(h, l, "ffn_down", "down", out: e)).map(+)
            }
        }
        var total = 0.0
        for t in 0..<tokens.count - 1 {
            let logits = linear(rmsNorm(xs[t], t64["output_norm.weight"]!, eps: eps), t64["output.weight"]!, out: m.vocab)
            total += logSumExp(logits) - logits[tokens[t + 1]]
        }
        return total / Double(tokens.count - 1)
    }
}
