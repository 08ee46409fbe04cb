import CKernels
import Quants

/// Causal grouped-query attention of a batch of new tokens over a key/value cache that holds one or more
/// sequences.
public enum Attention {
    /// An f32 cache.
    public static func run(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                           out: UnsafeMutablePointer<Float>, n: Int, positions: UnsafePointer<Int32>,
                           sequenceStart: UnsafePointer<Int32>, heads: Int, kvHeads: Int, headDim: Int,
                           scratch: UnsafeMutablePointer<Float>, ctx: Int, threads: Int) {
        run(q: q, keys: UnsafeRawPointer(keys), values: UnsafeRawPointer(values), cache: .f32, path: .selected,
            out: out, n: n, positions: positions, sequenceStart: sequenceStart, heads: heads, kvHeads: kvHeads,
            headDim: headDim, scratch: scratch, ctx: ctx, threads: threads)
    }

    /// Scratch floats `run` needs: `[threads, heads / kvHeads, ctx]` scores.
    public static func scratchCount(threads: Int, heads: Int, kvHeads: Int, ctx: Int) -> Int {
        max(threads, 1) * (heads / kvHeads) * ctx
    }

    /// - Parameters:
    ///   - q: `[n, heads * headDim]` queries of the new tokens (rotary already applied).
    ///   - keys, values: `[cacheRows, kvHeads * headDim]` in `cache`'s type; each row's keys and values are
    ///     already written.
    ///   - path: the instruction-set path of the kernel.
    ///   - out: `[n, heads * headDim]`.
    ///   - positions: `[n]` position of each new token in its sequence; it attends to positions `0...position`.
    ///   - sequenceStart: `[n]` cache row where each token's sequence starts.
    ///   - scratch: `[scratchCount(threads:heads:kvHeads:ctx:)]` f32 for scores; `ctx` bounds every position + 1.
    public static func run(q: UnsafePointer<Float>, keys: UnsafeRawPointer, values: UnsafeRawPointer, cache: KVCacheType,
                           path: KernelPath, out: UnsafeMutablePointer<Float>, n: Int, positions: UnsafePointer<Int32>,
                           sequenceStart: UnsafePointer<Int32>, heads: Int, kvHeads: Int, headDim: Int,
                           scratch: UnsafeMutablePointer<Float>, ctx: Int, threads: Int) {
        let group = heads / kvHeads
        let qDim = heads * headDim
        let rowBytes = cache.bytes(kvHeads * headDim), headBytes = cache.bytes(headDim)
        let scale = 1 / Float(headDim).squareRoot()
        // One job per token and key/value head: the heads of a group read each cache row once between them.
        let attend = vpg_attend_kernel(Int32(cache.ggmlType.rawValue), path.rawValue)!
        let slots = SlotPool(count: threads)
        parallelFor(parts: n * kvHeads, threads: threads) { job in
            let t = job / kvHeads, kvh = job % kvHeads
            let slot = slots.acquire()
            defer { slots.release(slot) }
            let start = Int(sequenceStart[t]) * rowBytes + kvh * headBytes
            let groupStart = t * qDim + kvh * group * headDim   // the group's first query head
            attend(q + groupStart, keys + start, values + start, Int64(rowBytes), Int64(positions[t]) + 1, Int32(group),
                   Int32(headDim), scale, scratch + slot * group * ctx, out + groupStart)
        }
    }
}
