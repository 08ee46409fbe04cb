#!/usr/bin/env python3
"""Quantizes little-endian f32 values with gguf-py (`gguf.quants.quantize`) and writes the raw bytes.
Usage: quantize.py IN.f32 TYPE ROW_LENGTH OUT.bin   (TYPE: F16, BF16, Q8_0, Q4_0, Q5_0, …)"""
import sys

import numpy as np
from gguf import GGMLQuantizationType
from gguf.quants import quantize

src, qtype, row, out = sys.argv[1], GGMLQuantizationType[sys.argv[2]], int(sys.argv[3]), sys.argv[4]
data = np.fromfile(src, dtype="<f4").reshape(-1, row)
quantize(data, qtype).tofile(out)
