#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C as a request, not a kill: the program checks for it at safe points (between tokens, between
/// training steps) and stops what it is doing cleanly.
public enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    public static func install() {
        signal(SIGINT) { _ in Interrupt.flag = 1 }
    }

    /// True once after each Ctrl-C.
    public static func take() -> Bool {
        guard flag != 0 else { return false }
        flag = 0
        return true
    }

    /// Whether Ctrl-C was pressed (the request stays set).
    public static var requested: Bool { flag != 0 }
}
