/// Indices of scratch rows, one per running job.
public final class SlotPool: @unchecked Sendable {
    private var free: [Int]
    private let lock = Lock()
    public init(count: Int) { free = Array(0..<max(count, 1)) }
    public func acquire() -> Int {
        lock.lock()
        defer { lock.unlock() }
        return free.removeLast()
    }
    public func release(_ i: Int) {
        lock.lock()
        free.append(i)
        lock.unlock()
    }
}
