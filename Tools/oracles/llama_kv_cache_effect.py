#!/usr/bin/env python3
"""llama.cpp's own KV-cache effect on the reference prompts: logits with an f16 cache against a q8_0 cache
(flash attention, which llama.cpp needs for a quantized V cache). Prints the largest |Δ| on the f16 top-20 and
the top-1 agreement per prompt. Usage: llama_kv_cache_effect.py (from the repository root)."""
import json, numpy as np
from llama_cpp import Llama
ref = json.load(open("Tests/Qwen2Tests/Fixtures/logits.json"))
m = [k for k in ref['models'] if '0.5' in k][0]
prompts = {p['name']: p['token_ids'] for p in ref['models'][m]['prompts']}
res = {}
for name, kt, fa in [("f16", 1, False), ("q8_0", 8, True)]:
    llm = Llama(model_path="Models/qwen2.5-coder-0.5b-instruct.gguf", n_ctx=256, logits_all=True, verbose=False, type_k=kt, type_v=kt, flash_attn=fa, n_threads=2)
    for pn, toks in prompts.items():
        llm.reset(); llm.eval(toks)
        res[(name, pn)] = np.array(llm.scores[:len(toks)])
for pn, toks in prompts.items():
    a, b = res[("f16", pn)], res[("q8_0", pn)]
    d = [np.abs(b[p][np.argsort(-a[p])[:20]] - a[p][np.argsort(-a[p])[:20]]).max() for p in range(len(toks))]
    print(pn, "max %.2f" % max(d), "top1 same %d/%d" % (sum(a[p].argmax() == b[p].argmax() for p in range(len(toks))), len(toks)))
