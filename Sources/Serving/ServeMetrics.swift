import Foundation
import Synchronization

/// Counters for `/metrics`, in Prometheus's text format.
public final class ServeMetrics: Sendable {
    private struct Counts {
        var requests = 0, finished = 0, cancelled = 0, refused = 0
        var promptTokens = 0, reusedPromptTokens = 0, computedPromptTokens = 0, generatedTokens = 0
        var promptSeconds = 0.0, generationSeconds = 0.0
        var waiting = 0
        /// (time, tokens) of the recent decoding steps, for the current rate.
        var recent: [(Double, Int)] = []
    }
    private let counts = Mutex(Counts())

    func queued(waiting: Int) { counts.withLock { $0.waiting = waiting } }
    func refused() { counts.withLock { $0.refused += 1 } }
    func started(promptTokens: Int, reused: Int) {
        counts.withLock {
            $0.requests += 1
            $0.promptTokens += promptTokens
            $0.reusedPromptTokens += reused
        }
    }
    func finished() { counts.withLock { $0.finished += 1 } }
    func cancelled() { counts.withLock { $0.cancelled += 1 } }
    func computedPrompt(tokens: Int, seconds: Double) {
        counts.withLock {
            $0.computedPromptTokens += tokens
            $0.promptSeconds += seconds
        }
    }
    func generated(tokens: Int, seconds: Double) {
        let now = Date().timeIntervalSince1970
        counts.withLock {
            $0.generatedTokens += tokens
            $0.generationSeconds += seconds
            $0.recent.append((now, tokens))
            $0.recent.removeAll { now - $0.0 > 10 }
        }
    }

    /// The Prometheus exposition text; `running`: requests in slots now.
    public func render(running: Int, slots: Int) -> String {
        let c = counts.withLock { $0 }
        let now = Date().timeIntervalSince1970
        let recent = c.recent.filter { now - $0.0 <= 10 }
        let rate = recent.isEmpty ? 0 : Double(recent.map(\.1).reduce(0, +)) / 10
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("vpgea_requests_total", "counter", "Requests that entered a slot.", "\(c.requests)")
        metric("vpgea_requests_finished_total", "counter", "Requests that ended normally.", "\(c.finished)")
        metric("vpgea_requests_cancelled_total", "counter", "Requests whose client went away.", "\(c.cancelled)")
        metric("vpgea_requests_refused_total", "counter", "Requests refused because the queue was full.", "\(c.refused)")
        metric("vpgea_prompt_tokens_total", "counter", "Prompt tokens of the requests.", "\(c.promptTokens)")
        metric("vpgea_prompt_tokens_reused_total", "counter", "Prompt tokens found in a slot's cache.", "\(c.reusedPromptTokens)")
        metric("vpgea_generated_tokens_total", "counter", "Tokens generated.", "\(c.generatedTokens)")
        metric("vpgea_prompt_seconds_total", "counter", "Time spent computing prompts.", String(c.promptSeconds))
        metric("vpgea_generation_seconds_total", "counter", "Time spent in decoding steps.", String(c.generationSeconds))
        metric("vpgea_queue_length", "gauge", "Requests waiting for a slot.", "\(c.waiting)")
        metric("vpgea_requests_running", "gauge", "Requests in a slot.", "\(running)")
        metric("vpgea_slots", "gauge", "Slots (requests decoded together at most).", "\(slots)")
        metric("vpgea_generated_tokens_per_second", "gauge", "Tokens generated per second over the last 10 s.",
               String(format: "%.3f", rate))
        return out
    }
}
