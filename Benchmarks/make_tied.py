#!/usr/bin/env python3
"""A tied-embeddings copy of a Qwen2 GGUF, for benchmarks: output.weight becomes token_embd.weight (the type llama.cpp
gives a tied model's embeddings: the output matrix's) and the model multiplies by its embeddings, as Qwen2.5's small
instruct models do. Reads and writes with gguf-py (the project's oracle venv: Tools/setup-oracles).

Usage: .venv/bin/python3 Benchmarks/make_tied.py IN.gguf OUT.gguf
"""
import sys

import gguf


def main(source: str, target: str) -> None:
    reader = gguf.GGUFReader(source)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(target, arch=arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue   # written by the writer itself
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    by_name = {t.name: t for t in reader.tensors}
    if "output.weight" not in by_name:
        sys.exit(f"{source} has no output.weight: its embeddings are tied already")
    # token_embd takes output's place in the file order; output.weight is left out.
    tensors = [("token_embd.weight", by_name["output.weight"]) if t.name == "token_embd.weight" else (t.name, t)
               for t in reader.tensors if t.name != "output.weight"]
    for name, t in tensors:
        writer.add_tensor_info(name, t.data.shape, t.data.dtype, t.data.nbytes, t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, t in tensors:
        writer.write_tensor_data(t.data, tensor_endianess=reader.endianess)
    writer.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
