#!/usr/bin/env python3
"""Writes the quantization and GGUF fixtures of the test suite.

Oracle: gguf-py (PyPI `gguf`, version in Tools/oracles/requirements.txt). For every tensor type it writes the raw
blocks and gguf-py's own dequantization (`gguf.quants.dequantize`) of them, so the Swift scalar
dequantizers are checked bit for bit against an independent implementation:

- types the real models use (F32, Q5_0, Q8_0, Q6_K, Q4_K): a few real rows of the real models;
- other types: blocks quantized by gguf-py (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) or random valid blocks
  (Q2_K, Q3_K, Q5_K, Q8_K: random bytes with finite f16/f32 scales).
  gguf-py has no Q8_K dequantizer; its expected values come from the numpy formula below (d * q).

Also writes fuzz seeds: small GGUF files that carry the real models' metadata (long arrays cut short) and
real tensors' names, types and rows, plus one metadata entry of every value type.

Usage: make_fixtures.py MODEL_0_5B.gguf MODEL_1_5B.gguf OUT_DIR_QUANTS OUT_DIR_GGUF
"""
import sys
import numpy as np
import gguf
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

rng = np.random.default_rng(20261127)
ROWS = 3


def real_rows(reader, type_name, max_rows=ROWS):
    """The first rows of the first tensor of the given type that is a 2-D weight."""
    for t in reader.tensors:
        if t.tensor_type.name == type_name and len(t.shape) == 2:
            data = np.asarray(t.data)  # (rows, bytes per row) for quantized, (rows, cols) for float
            rows = data[:max_rows]
            return t.name, rows, int(t.shape[0])
    return None


def random_blocks(qtype, n_blocks):
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    scales = rng.uniform(-0.02, 0.02, size=(n_blocks, 2)).astype(np.float16).view(np.uint8)
    if qtype == T.Q2_K:      # d, dmin at the end
        raw[:, 80:84] = scales
    elif qtype == T.Q3_K:    # d at the end
        raw[:, 108:110] = scales[:, :2]
    elif qtype in (T.Q4_K, T.Q5_K):  # d, dmin first
        raw[:, 0:4] = scales
    elif qtype == T.Q6_K:
        raw[:, 208:210] = scales[:, :2]
    elif qtype == T.Q8_K:    # f32 d first
        raw[:, 0:4] = rng.uniform(-0.02, 0.02, size=(n_blocks, 1)).astype(np.float32).view(np.uint8)
    return raw


def q8_k_dequantize(raw):
    d = raw[:, 0:4].copy().view(np.float32)
    q = raw[:, 4:260].copy().view(np.int8).astype(np.float32)
    return (d * q).astype(np.float32)


def main():
    m05, m15, out_q, out_g = sys.argv[1:5]
    r05, r15 = GGUFReader(m05), GGUFReader(m15)

    w = GGUFWriter(f"{out_q}/dequant-reference.gguf.bin", arch="fixture")
    cols_random = 512

    def add(name, qtype, rows_u8, cols):
        rows_u8 = np.ascontiguousarray(rows_u8, dtype=np.uint8)
        if qtype == T.Q8_K:
            expected = q8_k_dequantize(rows_u8.reshape(-1, 292)).reshape(rows_u8.shape[0], cols)
        else:
            expected = dequantize(rows_u8, qtype).reshape(rows_u8.shape[0], cols)
        w.add_tensor(f"{name}.raw", rows_u8, raw_shape=rows_u8.shape, raw_dtype=qtype)
        w.add_tensor(f"{name}.expected", expected.astype(np.float32))

    # Real rows from the real models.
    for reader, tag in ((r05, "0.5b"), (r15, "1.5b")):
        for type_name in ("Q5_0", "Q8_0", "Q6_K", "Q4_K"):
            found = real_rows(reader, type_name)
            if found is None:
                continue
            tname, rows, cols = found
            add(f"real.{tag}.{type_name}.{tname}", T[type_name], rows, cols)
        found = real_rows(reader, "F32") or next(
            (t.name, np.asarray(t.data)[None, :], int(t.shape[0])) for t in reader.tensors if t.tensor_type.name == "F32")
        tname, rows, cols = found
        add(f"real.{tag}.F32.{tname}", T.F32, np.asarray(rows, dtype=np.float32).view(np.uint8), cols)

    # Generated blocks for the types the models lack (and extra cases for all).
    floats = rng.normal(0, 0.05, size=(ROWS, cols_random)).astype(np.float32)
    floats[0, :7] = [0.0, -0.0, 65504.0, -65504.0, 1e-7, 3.0e38, -1.5]
    for qtype in (T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
        add(f"gen.{qtype.name}", qtype, np.ascontiguousarray(quantize(floats, qtype)).view(np.uint8), cols_random)
    for qtype in (T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K):
        blocks = random_blocks(qtype, ROWS * cols_random // 256)
        add(f"gen.{qtype.name}", qtype, blocks.reshape(ROWS, -1), cols_random)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # Fuzz seeds: real metadata (arrays cut to 16 items), real tensor names/types and rows.
    for reader, tag in ((r05, "0.5b"), (r15, "1.5b")):
        s = GGUFWriter(f"{out_g}/seed-{tag}.gguf.bin", arch="qwen2")
        for key, field in reader.fields.items():
            if key.startswith("GGUF.") or key == "general.architecture":
                continue
            vtype = field.types[0]
            if vtype == gguf.GGUFValueType.ARRAY:
                items = [field.contents(i) for i in range(min(16, len(field.data)))]
                s.add_key_value(key, items, vtype, sub_type=field.types[1])
            else:
                s.add_key_value(key, field.contents(), vtype)
        for t in reader.tensors[:12]:
            data = np.asarray(t.data)
            rows = data[:2] if data.ndim == 2 else data
            if t.tensor_type == T.F32:
                s.add_tensor(t.name, np.ascontiguousarray(rows, dtype=np.float32))
            else:
                s.add_tensor(t.name, np.ascontiguousarray(rows, dtype=np.uint8), raw_shape=rows.shape,
                             raw_dtype=t.tensor_type)
        s.write_header_to_file()
        s.write_kv_data_to_file()
        s.write_tensors_to_file()
        s.close()

    # Every metadata value type, nested arrays included.
    v = GGUFWriter(f"{out_g}/all-value-types.gguf.bin", arch="fixture")
    V = gguf.GGUFValueType
    v.add_key_value("t.uint8", 200, V.UINT8)
    v.add_key_value("t.int8", -100, V.INT8)
    v.add_key_value("t.uint16", 60000, V.UINT16)
    v.add_key_value("t.int16", -30000, V.INT16)
    v.add_key_value("t.uint32", 4000000000, V.UINT32)
    v.add_key_value("t.int32", -2000000000, V.INT32)
    v.add_key_value("t.float32", 1.5, V.FLOAT32)
    v.add_key_value("t.bool", True, V.BOOL)
    v.add_key_value("t.string", "héllo, \"wörld\" ✓", V.STRING)
    v.add_key_value("t.uint64", 18000000000000000000, V.UINT64)
    v.add_key_value("t.int64", -9000000000000000000, V.INT64)
    v.add_key_value("t.float64", -2.25, V.FLOAT64)
    v.add_key_value("t.array.int32", [1, -2, 3], V.ARRAY, sub_type=V.INT32)
    v.add_key_value("t.array.string", ["a", "", "ĠĠ"], V.ARRAY, sub_type=V.STRING)
    v.add_key_value("t.array.nested", [[1, 2], [3]], V.ARRAY, sub_type=V.ARRAY)
    v.add_tensor("tiny.f32", np.arange(8, dtype=np.float32).reshape(2, 4))
    v.add_tensor("tiny.q8_0", quantize(rng.normal(size=(2, 64)).astype(np.float32), T.Q8_0),
                 raw_shape=(2, 68), raw_dtype=T.Q8_0)
    v.write_header_to_file()
    v.write_kv_data_to_file()
    v.write_tensors_to_file()
    v.close()


if __name__ == "__main__":
    main()
