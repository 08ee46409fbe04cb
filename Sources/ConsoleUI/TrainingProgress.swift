import Foundation

/// The progress line of a training run: step, loss, learning rate, tokens/s and ETA; a plain line per step when
/// standard error is not a terminal.
public final class TrainingProgress {
    private let total: Int
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var seconds: [Double] = []

    public init(total: Int) { self.total = max(total, 1) }

    /// Shows one step. `extra` is appended (method-specific figures).
    public func show(step: Int, loss: Double, learningRate: Float, tokens: Int, seconds stepSeconds: Double,
                     validationLoss: Double? = nil, extra: String = "") {
        seconds.append(stepSeconds)
        let recent = seconds.suffix(10)
        let perStep = recent.reduce(0, +) / Double(recent.count)
        let eta = Int(perStep * Double(max(total - step, 0)))
        var line = String(format: "step %d/%d  loss %.4f  lr %.2e  %.1f tok/s  ETA %dm%02ds",
                          step, total, loss, learningRate, Double(tokens) / max(stepSeconds, 1e-9), eta / 60, eta % 60)
        if let validationLoss { line += String(format: "  valid %.4f", validationLoss) }
        if !extra.isEmpty { line += "  " + extra }
        let keep = validationLoss != nil || !isTerminal
        writeStandardError((isTerminal ? "\r\u{1B}[2K" : "") + line + (keep ? "\n" : ""))
    }

    public func finish() {
        if isTerminal { writeStandardError("\n") }
    }
}
