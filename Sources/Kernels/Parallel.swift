#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Runs `body(part)` for `parts` parts on up to `threads` threads (the caller's included); parts are handed
/// out one at a time, so work is split finer than the thread count and a busy core slows the run down instead
/// of stalling it. The workers are persistent; between jobs they spin briefly, then sleep.
public func parallelFor(parts: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || parts <= 1 {
        for p in 0..<parts { body(p) }
        return
    }
    withoutActuallyEscaping(body) { body in
        ThreadPool.shared(workers: threads - 1).run(parts: parts, helpers: min(threads, parts) - 1, body)
    }
}

/// Worker threads shared by every product and attention call.
final class ThreadPool: @unchecked Sendable {
    private static let lock = Lock()
    nonisolated(unsafe) private static var pool: ThreadPool?

    /// The shared pool, grown to at least `workers` workers.
    static func shared(workers: Int) -> ThreadPool {
        lock.lock()
        defer { lock.unlock() }
        if let pool, pool.workers >= workers { return pool }
        let grown = ThreadPool(workers: workers)
        pool = grown   // an older, smaller pool is simply left idle
        return grown
    }

    let workers: Int
    private let generation = Atomic<Int>(0)   // bumped for each job
    private let next = Atomic<Int>(0)         // next part to hand out
    private let pending = Atomic<Int>(0)      // workers not yet done with the current job
    nonisolated(unsafe) private var body: ((Int) -> Void)?
    nonisolated(unsafe) private var parts = 0
    nonisolated(unsafe) private var helpers = 0
    private let sleepLock = Lock()
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)   // never freed: the pool lives on
    private let runLock = Lock()             // one job at a time

    private init(workers: Int) {
        self.workers = workers
        pthread_cond_init(wake, nil)
        for index in 0..<workers {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(index: context.index)
                return nil
            }, context)
            pthread_detach(thread)
        }
    }

    private final class WorkerContext {
        let pool: ThreadPool
        let index: Int
        init(pool: ThreadPool, index: Int) {
            self.pool = pool
            self.index = index
        }
    }

    func run(parts: Int, helpers: Int, _ body: @escaping (Int) -> Void) {
        runLock.lock()
        defer { runLock.unlock() }
        self.body = body
        self.parts = parts
        self.helpers = helpers
        next.store(0, ordering: .relaxed)
        pending.store(workers, ordering: .relaxed)
        sleepLock.lock()
        generation.add(1, ordering: .releasing)
        pthread_cond_broadcast(wake)
        sleepLock.unlock()
        work(body)
        // Wait for every worker to leave the job (they may still be finishing a part).
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > 1000 { sched_yield() }
        }
        self.body = nil
    }

    private func work(_ body: (Int) -> Void) {
        while true {
            let p = next.add(1, ordering: .relaxed).oldValue
            if p >= parts { return }
            body(p)
        }
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < 20_000 { continue }
                // Sleep until the next job: no unbounded spinning on a busy machine.
                sleepLock.lock()
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, sleepLock.mutex) }
                sleepLock.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if index < helpers, let body { work(body) }
            pending.subtract(1, ordering: .releasing)
        }
    }
}

/// A pthread mutex.
final class Lock: @unchecked Sendable {
    fileprivate(set) var mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
