import Foundation
import LoRA
import Qwen2
import TestSupport
import Testing
import Training

/// vpgea-serve as its users drive it: OpenAI's own Python client against a server on loopback, on the test model.
@Suite(.serialized) struct ServeCommandTests {
    /// A running vpgea-serve; `stop()` sends SIGTERM and returns the exit status and standard error.
    final class Server {
        let process = Process()
        let url: String
        private let err = Pipe()
        private var stderrText = ""

        init(_ arguments: [String]) throws {
            process.executableURL = try TestSupport.productBinary("vpgea-serve")
            process.arguments = arguments + ["--host", "127.0.0.1", "--port", "0"]
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // The start line names the port: "… on http://127.0.0.1:PORT (…".
            let deadline = Date().addingTimeInterval(180)
            var found: String? = nil
            while found == nil && Date() < deadline && process.isRunning {
                let data = err.fileHandleForReading.availableData
                if data.isEmpty { usleep(50_000); continue }
                stderrText += String(decoding: data, as: UTF8.self)
                if let r = stderrText.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                    found = String(stderrText[r])
                }
            }
            guard let found else {
                process.terminate()
                throw TestSupport.OracleError(description: "vpgea-serve did not start: \(stderrText)")
            }
            url = found
        }

        func stop() -> (status: Int32, stderr: String) {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            stderrText += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, stderrText)
        }
    }

    /// A rank-8 adapter with random values, large enough to change greedy answers.
    static func randomAdapter(at path: String, model: String) throws {
        let config = try Qwen2Model(path: model).config
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 8, alpha: 16), model: config)
        var state: UInt64 = 12345
        for i in 0..<adapter.count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            adapter.parameters[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 0.08
        }
        try adapter.saveGGUF(to: path)
    }

    static func vpgeaRun(_ arguments: [String]) throws -> String {
        try CommandLineTests.run("vpgea-run", arguments).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func openAIClientAgainstTheServer() throws {
        let model = try TestSupport.testModelPath()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapterPath = dir.appendingPathComponent("alt.gguf").path
        try Self.randomAdapter(at: adapterPath, model: model)
        let server = try Server([model, "--api-key", "test-key", "--lora", "alt=\(adapterPath)", "--parallel", "2",
                                 "--ctx-size", "2048", "-t", "2"])
        let base = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
        let data: Data
        do {
            data = try TestSupport.runOracle("openai_client_check.py", [server.url, "test-key", base, "alt"])
        } catch {
            _ = server.stop()
            throw error
        }
        let stopped = server.stop()
        #expect(stopped.status == 0 && stopped.stderr.contains("vpgea-serve: stopped"), "\(stopped.stderr)")
        let r = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])

        let chat = try #require(r["chat"] as? [String: Any]), stream = try #require(r["stream"] as? [String: Any])
        let chatText = try #require(chat["text"] as? String)
        let usage = try #require((chat["usage"] as? [String: Any])?.compactMapValues { $0 as? Int })
        #expect(chat["object"] as? String == "chat.completion" && chat["role"] as? String == "assistant")
        #expect(["stop", "length"].contains(chat["finish"] as? String) && !chatText.isEmpty)
        #expect(usage["prompt_tokens"]! > 10 && usage["completion_tokens"]! <= 24
                && usage["total_tokens"] == usage["prompt_tokens"]! + usage["completion_tokens"]!)
        // Streamed: the same text in several pieces, the role once, the same usage at the end.
        #expect(stream["text"] as? String == chatText && (stream["pieces"] as? Int ?? 0) > 3)
        #expect(stream["roles"] as? [String] == ["assistant"] && stream["finish"] as? String == chat["finish"] as? String)
        #expect((stream["usage"] as? [String: Any])?.compactMapValues { $0 as? Int } == usage)
        // The server answers as vpgea-run does (greedy, the same model and template).
        #expect(chatText == (try Self.vpgeaRun([model, "-p", "List the first five prime numbers.", "--temp", "0", "-n", "24"])))

        // Completions, and a stop string that cuts the same text.
        let completion = try #require((r["completion"] as? [String: Any])?["text"] as? String)
        let stop = try #require(r["completion_stop"] as? [String: Any])
        let cut = try #require(completion.range(of: "return"), "no `return` in \(completion.debugDescription)")
        #expect(stop["text"] as? String == String(completion[..<cut.lowerBound]) && stop["finish"] as? String == "stop")

        // Logprobs: greedy tokens are the most likely ones; log-probabilities are ≤ 0 and sorted.
        let logprobs = try #require(r["logprobs"] as? [[String: Any]])
        #expect(logprobs.count == 4)
        for lp in logprobs {
            let value = try #require(lp["logprob"] as? Double), top = try #require(lp["top"] as? [[Any]])
            let topValues = top.compactMap { $0[1] as? Double }
            #expect(value <= 0 && top.count == 3 && top[0][0] as? String == lp["token"] as? String)
            #expect(topValues == topValues.sorted(by: >) && abs(topValues[0] - value) < 1e-6)
        }

        // Seeds repeat; another seed differs.
        let seeded = try #require(r["seeded"] as? [String])
        #expect(seeded[0] == seeded[1] && seeded[0] != seeded[2])

        // Models: the base, then the adapter, which answers as vpgea-run --lora does.
        #expect(r["models"] as? [String] == [base, "alt"])
        let adapter = try #require(r["adapter"] as? [String: Any])
        let adapterText = try #require(adapter["text"] as? String)
        #expect(adapter["model"] as? String == "alt" && adapterText != r["haiku_base"] as? String)
        #expect(adapterText == (try Self.vpgeaRun([model, "--lora", adapterPath, "-p", "Write a haiku about rain.",
                                                   "--temp", "0", "-n", "24"])))

        let errors = try #require(r["errors"] as? [String: Int])
        #expect(errors == ["unknown_model": 404, "too_long": 400, "bad_temperature": 400, "no_key": 401,
                           "malformed_json": 400, "wrong_type": 400, "missing_messages": 400, "missing_header": 401])
        #expect((r["health"] as? [String: String])?["status"] == "ok")
        let metrics = try #require(r["metrics"] as? String)
        #expect(metrics.contains("vpgea_requests_total") && metrics.contains("vpgea_generated_tokens_total"))
    }

    /// 32 streaming clients at once on 8 slots, greedy: each gets exactly the text it gets alone, none is lost, the
    /// server's memory stays within 10%, and a client that disconnects mid-answer frees its slot at once (within a
    /// step or two: under 5 s even with the other tests running).
    @Test func thirtyTwoClientsAtOnceGetTheirTextAlone() throws {
        let model = try TestSupport.testModelPath()
        let server = try Server([model, "--parallel", "8", "--ctx-size", "1024", "-t", "2"])
        let data: Data
        do {
            data = try TestSupport.runOracle("serve_load_check.py", [server.url, "\(server.process.processIdentifier)", "32"])
        } catch {
            _ = server.stop()
            throw error
        }
        #expect(server.stop().status == 0)
        let r = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(r["mismatches"] as? [Int] == [] && r["lost"] as? [Int] == [] && r["empty"] as? [Int] == [], "\(r)")
        let before = try #require(r["rss_before_kib"] as? Double), after = try #require(r["rss_after_kib"] as? Double)
        #expect(abs(after - before) <= 0.1 * before, "RSS \(before) KiB before, \(after) KiB after")
        let freed = try #require(r["disconnect_freed_seconds"] as? Double, "the disconnected client's slot stayed busy: \(r)")
        #expect(freed < 5 && r["cancelled"] as? Double == 1, "slot freed after \(freed) s")
    }

    /// The chat page in a real headless browser (Debian's chromium, driven by selenium): it lists the model, sends a
    /// typed message on Enter and shows the answer as it streams in. Leaves a screenshot in .build/chat-page.png.
    @Test func chatPageStreamsAnAnswerInABrowser() throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw TestSupport.OracleError(description: "\(tool) is missing: apt-get install chromium chromium-driver (.ci/run does)")
        }
        let model = try TestSupport.testModelPath()
        let server = try Server([model, "-t", "2"])
        let screenshot = TestSupport.repositoryRoot.appendingPathComponent(".build/chat-page.png").path
        let data: Data
        do {
            data = try TestSupport.runOracle("chat_page_check.py", [server.url, screenshot])
        } catch {
            _ = server.stop()
            throw error
        }
        #expect(server.stop().status == 0)
        let r = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let base = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
        #expect(r["models"] as? [String] == [base] && r["user"] as? [String] == ["Write a haiku about rain."])
        #expect(!(r["answer"] as? String ?? "").isEmpty && r["errors"] as? [String] == [] && r["send_enabled"] as? Bool == true)
        // Streamed: the answer was seen growing, not only appearing whole.
        #expect((r["growth_steps"] as? Int ?? 0) >= 3, "\(r)")
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }
}
