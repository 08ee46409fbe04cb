#!/usr/bin/env python3
"""Tokenizer speed of Hugging Face `tokenizers` (Rust) on the same vocabulary, for comparison with
`vpgea-tokenize --benchmark`. The tokenizer is built from the GGUF's vocabulary and merges with the Qwen2
pre-tokenizer regex (as in the model's tokenizer.json); it also checks that both produce the same ids.
Usage: tokenizer_bench_hf.py MODEL.gguf TEXT_FILE [runs]   (needs: pip install tokenizers gguf)"""
import sys
import time

from gguf import GGUFReader
from tokenizers import Regex, Tokenizer, models, pre_tokenizers

QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
         r"|\s*[\r\n]+|\s+(?!\S)|\s+")

model, path = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
r = GGUFReader(model)
tokens = [r.fields["tokenizer.ggml.tokens"].contents(i) for i in range(len(r.fields["tokenizer.ggml.tokens"].data))]
merges = [tuple(m.split(" ", 1)) for m in r.fields["tokenizer.ggml.merges"].contents()]
tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
tok.pre_tokenizer = pre_tokenizers.Sequence([
    pre_tokenizers.Split(Regex(QWEN2), behavior="isolated"),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
])
text = open(path, encoding="utf-8").read()
size = len(text.encode("utf-8"))
times = []
for _ in range(runs):
    t = time.perf_counter()
    ids = tok.encode(text, add_special_tokens=False).ids
    times.append(time.perf_counter() - t)
median = sorted(times)[runs // 2]
print(f"HF tokenizers: {size} bytes -> {len(ids)} tokens, median {median:.3f} s of {runs} runs, {size / median / 1e6:.2f} MB/s")
