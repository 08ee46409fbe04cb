#!/usr/bin/env python3
"""Makes Tests/TrainingTests/Fixtures/llama-lora-logits.json: llama.cpp's logits (llama-cpp-python, built from
source, flash attention off) for a chat prompt on the 0.5B test model with a formula LoRA adapter, written here
with gguf-py's own GGUFWriter (so neither the adapter file nor the logits come from vpgea).
Adapter: rank 8, alpha 16, all seven targets of every layer, A[i,j] = 0.05 sin(7i+3j), B[i,j] = 0.05 cos(5i+11j).
Usage: make_lora_fixture.py MODEL.gguf OUT.json"""
import json
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGUFReader, GGUFWriter

model_path, out_path = sys.argv[1], sys.argv[2]
rank, alpha = 8, 16.0
reader = GGUFReader(model_path)
layers = int(reader.get_field("qwen2.block_count").contents())
names = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
shapes = {t.name: [int(d) for d in t.shape] for t in reader.tensors}   # ggml order: [in, out]

def formula(rows, cols, f):
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return f(i, j).astype(np.float32)

adapter = tempfile.NamedTemporaryFile(suffix=".gguf", delete=False).name
w = GGUFWriter(adapter, "qwen2")
w.add_string("general.type", "adapter")
w.add_string("adapter.type", "lora")
w.add_float32("adapter.lora.alpha", alpha)
for l in range(layers):
    for n in names:
        inp, out = shapes[f"blk.{l}.{n}.weight"]
        w.add_tensor(f"blk.{l}.{n}.weight.lora_a", formula(rank, inp, lambda i, j: 0.05 * np.sin(7 * i + 3 * j)))
        w.add_tensor(f"blk.{l}.{n}.weight.lora_b", formula(out, rank, lambda i, j: 0.05 * np.cos(5 * i + 11 * j)))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

ids = [151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 785, 4226, 374, 220, 19, 13]
script = __file__.replace("make_lora_fixture.py", "llama_lora_logits.py")
rows = []
for path in (adapter, "-"):
    text = subprocess.run([sys.executable, script, model_path, path, ",".join(map(str, ids)), "20"],
                          check=True, capture_output=True, text=True).stdout
    rows.append([json.loads(line) for line in text.splitlines()])
import llama_cpp
json.dump({"source": "llama-cpp-python " + llama_cpp.__version__ + ", flash attention off, n_threads 2",
           "adapter": {"rank": rank, "alpha": alpha, "A": "0.05*sin(7i+3j)", "B": "0.05*cos(5i+11j)", "targets": names},
           "ids": ids, "with_adapter": rows[0], "without_adapter": rows[1]}, open(out_path, "w"))
print("wrote", out_path)
