#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar on standard error: redrawn in place on a terminal, a line every 10% otherwise.
public final class ProgressBar {
    private let label: String
    private let total: Int
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let started = ContinuousClock.now
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var lastDecile = -1

    public init(label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
    }

    /// Shows `done` of `total` units (bytes are shown in MB when `total` is large).
    public func update(_ done: Int) {
        let fraction = min(Double(done) / Double(total), 1)
        if isTerminal {
            let now = ContinuousClock.now
            guard now - lastDraw > .milliseconds(100) || done >= total else { return }
            lastDraw = now
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let elapsed = (ContinuousClock.now - started).seconds
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 ? Double(total - done) / rate : 0
            write("\r\u{1B}[2K\(label) \(bar) \(percent(fraction)) \(amount(done))/\(amount(total)) "
                + "\(amount(Int(rate)))/s ETA \(Int(eta))s")
        } else {
            let decile = Int(fraction * 10)
            guard decile > lastDecile else { return }
            lastDecile = decile
            write("\(label) \(percent(fraction))\n")
        }
    }

    /// Ends the line.
    public func finish(_ message: String = "done") {
        let elapsed = (ContinuousClock.now - started).seconds
        write((isTerminal ? "\r\u{1B}[2K" : "") + "\(label) \(message) in \(String(format1: elapsed))s\n")
    }

    private func percent(_ f: Double) -> String { "\(Int(f * 100))%" }

    private func amount(_ n: Int) -> String {
        total >= 10_000_000 ? String(format1: Double(n) / 1e6) + " MB" : "\(n)"
    }

    private func write(_ s: String) { writeStandardError(s) }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

extension String {
    /// A number with one decimal place.
    public init(format1 value: Double) {
        let tenths = (value * 10).rounded()
        self = "\(Int(tenths) / 10).\(abs(Int(tenths)) % 10)"
    }
}
