#!/usr/bin/env python3
"""Prints what gguf-py (the `gguf` package, llama.cpp's Python reader) sees in a GGUF file, as JSON:
version, alignment, data offset, metadata (type names and values; arrays of over 64 items as count + first 8 +
last item), and tensors (name, type, dims, offset in the data section, sha256 of the data)."""
import hashlib
import json
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType


def value(field):
    types = field.types
    if types[0] == GGUFValueType.ARRAY:
        n = len(field.data)
        if types[1] == GGUFValueType.ARRAY:
            return {"count": n}
        items = [jsonable(field.contents(i)) for i in range(n)] if n <= 64 else None
        if items is None:
            return {"count": n, "head": [jsonable(field.contents(i)) for i in range(8)],
                    "last": jsonable(field.contents(n - 1))}
        return items
    return jsonable(field.contents())


def jsonable(v):
    if isinstance(v, float):
        return repr(v)  # exact text, compared as a float32/float64 on the Swift side
    return v


def main(path):
    r = GGUFReader(path)
    meta = {}
    for key, field in r.fields.items():
        if key.startswith("GGUF."):
            continue
        meta[key] = {"type": [t.name for t in field.types], "value": value(field)}
    tensors = []
    for t in r.tensors:
        data = np.asarray(t.data).view(np.uint8).tobytes()
        tensors.append({"name": t.name, "type": t.tensor_type.name, "dims": [int(d) for d in t.shape],
                        "offset": int(t.data_offset - r.data_offset), "bytes": int(t.n_bytes),
                        "sha256": hashlib.sha256(data).hexdigest()})
    print(json.dumps({"version": int(r.fields["GGUF.version"].contents()), "alignment": int(r.alignment),
                      "data_offset": int(r.data_offset), "metadata": meta, "tensors": tensors}))


if __name__ == "__main__":
    main(sys.argv[1])
