#!/usr/bin/env python3
"""Exact logits of a single token at position 0, in float64 with numpy, from a GGUF's weights dequantized by
gguf-py. At position 0 attention sees only the token itself, so its output is the value projection: Q, K and
rotary drop out, and the forward is a short chain of matrix-vector products. With `bf16`, every product's input
vector is first rounded to bf16 (nearest, ties to even; llama.cpp's numerics for BF16 weights), the rest exact.
Usage: first_token_logits.py MODEL.gguf TOKEN_ID [top] [bf16]"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

path, token = sys.argv[1], int(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) > 3 else 5
bf16_inputs = len(sys.argv) > 4 and sys.argv[4] == "bf16"
r = GGUFReader(path)
T = {t.name: t for t in r.tensors}
f = lambda k: r.fields[k].contents()
n_layer, n_head, n_kv = f("qwen2.block_count"), f("qwen2.attention.head_count"), f("qwen2.attention.head_count_kv")
eps = f("qwen2.attention.layer_norm_rms_epsilon")


def W(name):  # [rows, cols] float64
    t = T[name]
    return dequantize(t.data, t.tensor_type).astype(np.float64).reshape(int(t.shape[1]), int(t.shape[0])) \
        if len(t.shape) == 2 else dequantize(t.data, t.tensor_type).astype(np.float64)


def product(w, x):  # w @ x, x rounded to bf16 first with bf16_inputs
    if bf16_inputs:
        bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
        bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
        x = bits.astype(np.uint32).view(np.float32).astype(np.float64)
    return w @ x


def norm(x, w):
    return x / np.sqrt(np.mean(x * x) + eps) * w


emb = T["token_embd.weight"]
x = dequantize(np.asarray(emb.data)[token:token + 1], emb.tensor_type).astype(np.float64).reshape(-1)
for l in range(n_layer):
    b = f"blk.{l}."
    h = norm(x, W(b + "attn_norm.weight"))
    v = product(W(b + "attn_v.weight"), h) + W(b + "attn_v.bias")
    head_dim = v.size // n_kv
    att = np.concatenate([v[(i // (n_head // n_kv)) * head_dim:(i // (n_head // n_kv) + 1) * head_dim] for i in range(n_head)])
    x = x + product(W(b + "attn_output.weight"), att)
    h = norm(x, W(b + "ffn_norm.weight"))
    g = product(W(b + "ffn_gate.weight"), h)
    x = x + product(W(b + "ffn_down.weight"), g / (1 + np.exp(-g)) * product(W(b + "ffn_up.weight"), h))
logits = product(W("output.weight"), norm(x, W("output_norm.weight")))
best = np.argsort(-logits)[:top]
print(json.dumps({"token": token, "top": [[int(i), float(logits[i])] for i in best]}))
