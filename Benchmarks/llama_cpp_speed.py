#!/usr/bin/env python3
"""llama.cpp's prompt and generation speed on this machine, through llama-cpp-python (pip install
llama-cpp-python builds llama.cpp from source), flash attention off, the way vpgea-bench measures (ordinary
token ids, pp = one batch, tg = one token at a time after one token of context, or after --depth=D tokens).
Usage: llama_cpp_speed.py MODEL.gguf [threads] [runs] [n_prompt] [n_gen] [--depth=D] [--json]"""
import json
import statistics
import sys
import time

from llama_cpp import Llama

model = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
n_prompt = int(sys.argv[4]) if len(sys.argv) > 4 else 512
n_gen = int(sys.argv[5]) if len(sys.argv) > 5 and not sys.argv[5].startswith("--") else 64
depth = next((int(a.split("=")[1]) for a in sys.argv if a.startswith("--depth=")), 0)
llm = Llama(model_path=model, n_ctx=max(1024, depth + n_gen + 2), n_batch=512, n_threads=threads, n_threads_batch=threads,
            flash_attn=False, verbose=False)
prompt = list(range(1000, 1000 + n_prompt))   # ordinary tokens
pp, tg = [], []
for _ in range(runs):
    llm.reset()
    t = time.perf_counter()
    llm.eval(prompt)
    pp.append(len(prompt) / (time.perf_counter() - t))
    llm.reset()
    llm.eval([1000] + [1000 + i % 5000 for i in range(depth)])   # the context: one token, or the depth
    t = time.perf_counter()
    token = 1000
    for _ in range(n_gen):
        llm.eval([token])
        token = 1001
    tg.append(n_gen / (time.perf_counter() - t))
if "--json" in sys.argv:
    import llama_cpp
    print(json.dumps({"engine": "llama.cpp", "version": "llama-cpp-python " + llama_cpp.__version__, "n_threads": threads,
                      "pp": pp, "tg": tg, "n_prompt": n_prompt, "n_gen": n_gen, "depth": depth}))
else:
    print(f"llama.cpp {model.split('/')[-1]} threads={threads}: pp{n_prompt} {statistics.median(pp):.1f} t/s, "
          f"tg{n_gen}{f' @ d{depth}' if depth else ''} {statistics.median(tg):.1f} t/s (medians of {runs})")
