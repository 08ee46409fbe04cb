/// The processes a training run is spread over (data parallelism): each holds a replica of the adapter, computes
/// the gradients of its share of a step's examples, and the sums are taken over all of them before every rank makes
/// the same optimiser update.
public protocol Collective: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// buffer[0..<count] = its sum over all ranks (every rank gets the same bits).
    func sum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws
    /// Each value summed over all ranks.
    func sum(_ values: [Double]) throws -> [Double]
}

extension Collective {
    /// Rank 0 writes logs, checkpoints and adapters; the others only compute.
    public var isLeader: Bool { rank == 0 }

    /// Whether `flag` holds on any rank (every rank gets the same answer): how ranks agree to stop at the same
    /// step, when each sees Ctrl-C at its own time.
    public func anyRank(_ flag: Bool) throws -> Bool {
        size > 1 ? try sum([flag ? 1 : 0])[0] > 0 : flag
    }
}

/// One process: sums are the values themselves.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {}
    public func sum(_ values: [Double]) -> [Double] { values }
}
