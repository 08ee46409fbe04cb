#!/usr/bin/env python3
"""Reads a LoRA adapter with the reference readers and prints JSON: for a GGUF (gguf-py) the adapter metadata
and, per tensor, its numpy shape, sum and first 4 values; for a PEFT directory (`safetensors` + json) the
config and the same per tensor."""
import json
import os
import sys

import numpy as np


def describe(array):
    a = np.asarray(array, dtype=np.float64)
    return {"shape": list(a.shape), "sum": float(a.sum()), "first": [float(x) for x in a.reshape(-1)[:4]]}


def gguf_adapter(path):
    from gguf import GGUFReader
    reader = GGUFReader(path)
    meta = {}
    for key in ("general.architecture", "general.type", "adapter.type", "adapter.lora.alpha"):
        field = reader.get_field(key)
        meta[key] = None if field is None else field.contents()
    tensors = {}
    for t in reader.tensors:
        # gguf-py gives the data row-major with the ggml dims reversed: [rank, in] for lora_a, [out, rank] for lora_b.
        tensors[t.name] = describe(np.array(t.data).reshape([int(d) for d in reversed(t.shape)]))
    return {"metadata": meta, "tensors": tensors}


def peft_adapter(directory):
    from safetensors.numpy import load_file
    with open(os.path.join(directory, "adapter_config.json")) as f:
        config = json.load(f)
    tensors = {k: describe(v) for k, v in load_file(os.path.join(directory, "adapter_model.safetensors")).items()}
    return {"config": config, "tensors": tensors}


if __name__ == "__main__":
    target = sys.argv[1]
    print(json.dumps(peft_adapter(target) if os.path.isdir(target) else gguf_adapter(target)))
