#!/usr/bin/env python3
"""Reads a model and its re-quantized copy with gguf-py and prints, as JSON, each tensor of the copy:
{name: [type, relative RMS error against the source]} (both dequantized by gguf-py).
Usage: requant_error.py SOURCE.gguf COPY.gguf"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

source = {t.name: t for t in GGUFReader(sys.argv[1]).tensors}
result = {}
for t in GGUFReader(sys.argv[2]).tensors:
    a = dequantize(source[t.name].data, source[t.name].tensor_type).astype(np.float64).ravel()
    b = dequantize(t.data, t.tensor_type).astype(np.float64).ravel()
    norm = np.sqrt(np.sum(a * a))
    result[t.name] = [t.tensor_type.name, float(np.sqrt(np.sum((a - b) ** 2)) / norm) if norm > 0 else 0.0]
print(json.dumps(result))
