#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C stops the answer being generated, not the program.
enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    static func install() {
        signal(SIGINT) { _ in Interrupt.flag = 1 }
    }

    /// True once after each Ctrl-C.
    static func take() -> Bool {
        guard flag != 0 else { return false }
        flag = 0
        return true
    }
}
