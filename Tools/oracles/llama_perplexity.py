#!/usr/bin/env python3
"""Perplexity of a GGUF model with llama.cpp (llama-cpp-python), scored as llama-perplexity and
vpgea-perplexity do: chunks of N_CTX tokens, each from an empty cache, the second half of each chunk scored.
Usage: llama_perplexity.py MODEL.gguf TEXT_FILE N_CTX CHUNKS [THREADS]   Prints {"ppl": x, "tokens": n}."""
import json
import math
import sys

import numpy as np
from llama_cpp import Llama

path, text, n_ctx, chunks = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3]), int(sys.argv[4])
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
llm = Llama(model_path=path, n_ctx=n_ctx, n_batch=n_ctx, logits_all=True, n_threads=threads, verbose=False,
            flash_attn=False)
tokens = llm.tokenize(text, add_bos=llm.metadata.get("tokenizer.ggml.add_bos_token") == "true", special=False)
nll, scored = 0.0, 0
for c in range(min(chunks, len(tokens) // n_ctx)):
    chunk = tokens[c * n_ctx:(c + 1) * n_ctx]
    llm.reset()
    llm.eval(chunk)
    logits = np.array(llm.scores[:n_ctx], dtype=np.float64)
    for j in range(n_ctx // 2, n_ctx - 1):
        row = logits[j]
        m = row.max()
        nll += m + math.log(np.exp(row - m).sum()) - row[chunk[j + 1]]
        scored += 1
print(json.dumps({"ppl": math.exp(nll / scored), "tokens": scored}))
