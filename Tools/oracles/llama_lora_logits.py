#!/usr/bin/env python3
"""llama.cpp (llama-cpp-python) logits of a token sequence with a LoRA adapter GGUF, as JSON lines like
vpgea-logits: {"pos", "top": [[id, logit]...], "logsumexp"}. Usage: MODEL ADAPTER IDS [TOP]"""
import json
import sys

import numpy as np
from llama_cpp import Llama

model, adapter, ids = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
top = int(sys.argv[4]) if len(sys.argv) > 4 else 20
llm = Llama(model_path=model, lora_path=adapter if adapter != "-" else None, n_ctx=max(64, len(ids) + 8),
            n_batch=512, logits_all=True, verbose=False, n_threads=2, flash_attn=False)
llm.eval(ids)
for pos in range(len(ids)):
    row = np.array(llm.scores[pos], dtype=np.float64)
    best = np.argsort(-row)[:top]
    m = row.max()
    print(json.dumps({"pos": pos, "top": [[int(i), float(row[i])] for i in best],
                      "logsumexp": float(m + np.log(np.exp(row - m).sum()))}))
