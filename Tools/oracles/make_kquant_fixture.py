#!/usr/bin/env python3
"""Writes the Q4_K / Q6_K quantizer fixture: input values and llama.cpp's bytes for them.
llama.cpp's quantizer is `ggml_quantize_chunk` (no importance matrix, as `llama-quantize` without --imatrix),
called from the ggml library that llama-cpp-python ships. Usage: make_kquant_fixture.py MODEL.gguf OUT_DIR
Writes OUT_DIR/kquant-input.f32 (rows of 256 little-endian f32) and kquant-q4_K.bin, kquant-q6_K.bin."""
import ctypes
import os
import sys

import llama_cpp
import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

model, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(3)
blocks = []
for kind in range(8):                    # 3 blocks of each awkward kind
    for _ in range(3):
        if kind == 0: b = rng.standard_normal(256)
        elif kind == 1: b = rng.standard_t(2, 256) * 0.02           # heavy tails, as real weights
        elif kind == 2: b = np.abs(rng.standard_normal(256)) + 0.5  # all positive: the minimum matters
        elif kind == 3: b = -np.abs(rng.standard_normal(256)) * 1e-3
        elif kind == 4: b = np.round(rng.standard_normal(256) * 4) / 2   # many ties and halves
        elif kind == 5: b = np.zeros(256); b[rng.integers(0, 256, 5)] = rng.standard_normal(5) * 50  # sparse spikes
        elif kind == 6: b = np.zeros(256); b[:128] = rng.standard_normal(128)   # half zero sub-blocks
        else: b = np.full(256, 0.25)                                   # constant
        blocks.append(b)
blocks.append(np.zeros(256))
# Real weights: rows of the model's first attention and feed-forward matrices.
reader = GGUFReader(model)
for name in ("blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.5.attn_v.weight"):
    t = next(t for t in reader.tensors if t.name == name)
    w = dequantize(t.data, t.tensor_type).reshape(-1, int(t.shape[0]))
    for r in (0, 7, 100):
        blocks.extend(w[r][: (len(w[r]) // 256) * 256].reshape(-1, 256)[:3])
x = np.ascontiguousarray(np.stack(blocks).astype("<f4"))
x.tofile(os.path.join(out, "kquant-input.f32"))

lib = ctypes.CDLL(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.so"))
lib.ggml_quantize_chunk.restype = ctypes.c_size_t
lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                    ctypes.c_int64, ctypes.c_void_p]
for name, code, size in (("q4_K", 12, 144), ("q6_K", 14, 210)):
    dst = np.zeros(len(x) * size, dtype=np.uint8)
    n = lib.ggml_quantize_chunk(code, x.ctypes.data, dst.ctypes.data, 0, len(x), 256, None)
    assert n == dst.size, (n, dst.size)
    dst.tofile(os.path.join(out, f"kquant-{name}.bin"))
print(f"{len(x)} blocks; llama-cpp-python {llama_cpp.__version__}")
