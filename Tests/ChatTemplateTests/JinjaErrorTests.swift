import ChatTemplate
import Testing

/// Unsupported or broken templates fail with the line and column of the problem, never a crash.
@Suite struct JinjaErrorTests {
    func error(_ source: String, render: Bool = false) -> TemplateError? {
        do {
            let t = try ChatTemplate(source)
            if render { _ = try t.render(messages: [ChatTemplate.message("user", "hi")], addGenerationPrompt: true) }
            return nil
        } catch {
            return error
        }
    }

    @Test func positionsAreReported() throws {
        let e = try #require(error("line one\n{% for x in y %}\n  {% filter upper %}x{% endfilter %}\n{% endfor %}"))
        #expect(e.position == SourcePosition(line: 3, column: 6))  // the keyword "filter"
        #expect(e.description.contains("unsupported statement 'filter'"))
        #expect(error("{{ x | nosuchfilter }}", render: true)?.description.contains("unsupported filter 'nosuchfilter'") == true)
        #expect(error("{% if x %}never closed")?.description.contains("missing {% elif or else or endif %}") == true)
        #expect(error("{{ 'unterminated }}") != nil)
        #expect(error("{{ messages[0].role.nosuchmethod() }}", render: true)?.description.contains("no method 'nosuchmethod'") == true)
        #expect(error("{{ raise_exception('custom failure') }}", render: true)?.description.contains("custom failure") == true)
        #expect(error("{{ undefined_variable.attribute }}", render: true) != nil)
    }

    @Test func chatMLFallbackRenders() throws {
        let out = try ChatTemplate(ChatTemplate.chatML).render(
            messages: [ChatTemplate.message("system", "S"), ChatTemplate.message("user", "U")], addGenerationPrompt: true)
        #expect(out == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func jsonKeepsKeyOrderBothWays() throws {
        let text = #"{"z": 1, "a": [true, null, 2.5, "é\n\"q\""], "m": {}}"#
        let value = try JSON.decode(text)
        #expect(try JSON.encode(value) == text)
        #expect(throws: TemplateError.self) { try JSON.decode("{\"a\": }") }
    }
}
