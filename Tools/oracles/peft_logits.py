#!/usr/bin/env python3
"""PyTorch + PEFT logits of token ids on a GGUF model (dequantized by transformers' GGUF loader, fp32, eager
attention) with a PEFT LoRA directory, as JSON lines like vpgea-logits. Needs torch, transformers, peft, gguf.
Usage: peft_logits.py MODEL.gguf PEFT_DIR|- IDS [TOP]"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM

model_path, adapter, ids = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
top = int(sys.argv[4]) if len(sys.argv) > 4 else 20
torch.set_num_threads(2)
model = AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(model_path)), gguf_file=os.path.basename(model_path),
                                             torch_dtype=torch.float32, attn_implementation="eager")
if adapter != "-":
    from peft import PeftModel
    model = PeftModel.from_pretrained(model, adapter)
model.eval()
with torch.no_grad():
    logits = model(torch.tensor([ids])).logits[0].double()
for pos in range(len(ids)):
    row = logits[pos]
    values, indices = torch.topk(row, top)
    print(json.dumps({"pos": pos, "top": [[int(i), float(v)] for i, v in zip(indices, values)],
                      "logsumexp": float(torch.logsumexp(row, 0))}))
