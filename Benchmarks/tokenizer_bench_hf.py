#!/usr/bin/env python3
"""The same measurement with Hugging Face `tokenizers` (Rust), the tokenizer built from the same GGUF by
transformers' GGUF loader. Usage: tokenizer_bench_hf.py MODEL.gguf TEXT_FILE [runs]"""
import os
import sys
import time

from transformers import AutoTokenizer

model, path = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
tok = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(model)), gguf_file=os.path.basename(model))
text = open(path, encoding="utf-8").read()
size = len(text.encode("utf-8"))
times = []
for _ in range(runs):
    t = time.perf_counter()
    ids = tok.backend_tokenizer.encode(text, add_special_tokens=False).ids
    times.append(time.perf_counter() - t)
median = sorted(times)[runs // 2]
print(f"HF tokenizers: {size} bytes -> {len(ids)} tokens, median {median:.3f} s of {runs} runs, {size / median / 1e6:.2f} MB/s")
