#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C as a request, not a kill: the program checks for it at safe points (between tokens, between
/// training steps) and stops what it is doing cleanly.
public enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    public static func install() {
        signal(SIGINT) { _ in Interrupt.flag = 1 }
        unblock()
    }

    /// A program started with SIGINT blocked (the mask is inherited: some launchers block it) would never see it.
    private static func unblock() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// True once after each Ctrl-C.
    public static func take() -> Bool {
        guard flag != 0 else { return false }
        flag = 0
        return true
    }

    /// Whether Ctrl-C was pressed (the request stays set).
    public static var requested: Bool { flag != 0 }

    nonisolated(unsafe) private static var exitMessage: UnsafeBufferPointer<UInt8>?

    /// Ctrl-C (or SIGINT, also where a background job started ignoring it) ends the program at once with status 130,
    /// after `message` on its own line of stderr: for programs that keep their work as it goes, with nothing to save.
    public static func exitAtOnce(saying message: String) {
        let bytes = Array(("\n" + message + "\n").utf8)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)   // lives until the program ends
        _ = buffer.initialize(from: bytes)
        exitMessage = UnsafeBufferPointer(buffer)
        signal(SIGINT) { _ in
            if let m = Interrupt.exitMessage { _ = write(2, m.baseAddress, m.count) }
            _exit(130)
        }
        unblock()
    }
}
