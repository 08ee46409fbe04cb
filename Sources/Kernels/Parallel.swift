import Dispatch

/// Runs `body(part)` for `parts` parts on up to `threads` threads; parts are handed out in order, so work is
/// split finer than the thread count and a busy core slows the run down instead of stalling it.
public func parallelFor(parts: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || parts <= 1 {
        for p in 0..<parts { body(p) }
        return
    }
    let workers = min(threads, parts)
    let next = Counter()
    withoutActuallyEscaping(body) { body in
        // The parts write disjoint memory; the box only carries the closure across threads.
        let box = UncheckedBox(body)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let p = next.take()
                if p >= parts { break }
                box.value(p)
            }
        }
    }
}

private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A shared counter handing out part numbers.
private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = Lock()
    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex.
final class Lock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}
