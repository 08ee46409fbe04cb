import ChatTemplate
import Foundation
import Testing

/// Every template × conversation rendered by Python's jinja2 as transformers does
/// (Tools/oracles/make_chat_fixtures.py); ours must be identical, or fail where jinja2 failed.
@Suite struct JinjaReferenceTests {
    struct Rendering: Decodable, CustomTestStringConvertible, Sendable {
        let template: String
        let conversation: Int
        let rendered: String?
        let error: String?
        var testDescription: String { "\(template) #\(conversation)" }
    }

    struct Reference: Decodable {
        let templates: [String: String]
        let results: [Rendering]
    }

    static func fixture(_ name: String) -> Data {
        try! Data(contentsOf: Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json")!)
    }

    static let reference = try! JSONDecoder().decode(Reference.self, from: fixture("rendered"))
    /// Conversations, decoded with key order kept (tool arguments are printed in order by tojson).
    static let conversations: [JinjaValue] = {
        guard case .list(let l) = try! JSON.decode(String(decoding: fixture("conversations"), as: UTF8.self)) else { return [] }
        return l
    }()

    @Test func atLeastTwelveConversationsPerTemplate() {
        let counts = Dictionary(grouping: Self.reference.results, by: \.template).mapValues(\.count)
        #expect(counts.keys.contains("qwen2.5") && counts.keys.contains("deepseek-r1"))
        for (template, n) in counts { #expect(n >= 12, "\(template)") }
    }

    @Test(arguments: reference.results)
    func rendersLikeJinja2(_ r: Rendering) throws {
        let template = try ChatTemplate(Self.reference.templates[r.template]!)
        guard case .dict(let conv) = Self.conversations[r.conversation], case .list(let messages)? = conv["messages"] else {
            Issue.record("bad conversation fixture")
            return
        }
        var extra: [String: JinjaValue] = [:]
        if let tools = conv["tools"] { extra["tools"] = tools }
        do {
            let ours = try template.render(messages: messages, addGenerationPrompt: conv["add_generation_prompt"] == .bool(true),
                                           bosToken: conv["bos_token"]?.text ?? "", eosToken: conv["eos_token"]?.text ?? "",
                                           extra: extra)
            #expect(r.error == nil, "jinja2 failed (\(r.error ?? "")) but we rendered")
            #expect(ours == r.rendered)
            if let want = r.rendered, ours != want {
                let a = Array(ours), b = Array(want)
                let i = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
                Issue.record("first difference at \(i): ours \(String(a[max(0, i - 20)..<min(a.count, i + 30)]).debugDescription) jinja2 \(String(b[max(0, i - 20)..<min(b.count, i + 30)]).debugDescription)")
            }
        } catch {
            #expect(r.error != nil, "we failed but jinja2 rendered: \(error)")
        }
    }
}
