#!/usr/bin/env python3
"""Renders chat templates with jinja2 the way transformers' apply_chat_template does, for the tests.

Oracle: jinja2 (PyPI, version in requirements.txt) with an ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True, loopcontrols), transformers' tojson (json.dumps, ensure_ascii=False) and raise_exception,
`tools` passed as None when there are none (as transformers does).

Templates: the Qwen2.5 template (from the test model's GGUF), the DeepSeek-R1-Distill-Qwen template (from the
vocab-only GGUF), and the templates in Tools/oracles/templates/. Conversations: Fixtures/conversations.json.

Usage: make_chat_fixtures.py QWEN.gguf DEEPSEEK_VOCAB.gguf FIXTURES_DIR
"""
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from gguf import GGUFReader


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    qwen, deepseek, out_dir = sys.argv[1:4]
    templates = {
        "qwen2.5": GGUFReader(qwen).fields["tokenizer.chat_template"].contents(),
        "deepseek-r1": GGUFReader(deepseek).fields["tokenizer.chat_template"].contents(),
    }
    here = os.path.join(os.path.dirname(__file__), "templates")
    for name in sorted(os.listdir(here)):
        templates[name.removesuffix(".jinja")] = open(os.path.join(here, name), encoding="utf-8").read()
    conversations = json.load(open(os.path.join(out_dir, "conversations.json"), encoding="utf-8"))

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    results = []
    for tname, source in templates.items():
        template = env.from_string(source)
        for i, conv in enumerate(conversations):
            kwargs = dict(messages=conv["messages"], tools=conv.get("tools"), documents=None,
                          add_generation_prompt=conv["add_generation_prompt"],
                          bos_token=conv.get("bos_token", ""), eos_token=conv.get("eos_token", ""))
            try:
                rendered, error = template.render(**kwargs), None
            except Exception as e:  # the template raised or failed: the Swift side must fail too
                rendered, error = None, f"{type(e).__name__}: {e}"
            results.append({"template": tname, "conversation": i, "rendered": rendered, "error": error})
    json.dump({"generator": f"jinja2 {jinja2.__version__}", "templates": templates, "results": results},
              open(os.path.join(out_dir, "rendered.json"), "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    print(f"{len(results)} renderings of {len(templates)} templates × {len(conversations)} conversations")


if __name__ == "__main__":
    main()
