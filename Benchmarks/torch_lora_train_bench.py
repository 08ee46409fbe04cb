#!/usr/bin/env python3
"""PyTorch + PEFT LoRA training throughput on a GGUF model, the way ../shared/ref/torch/ANCHORS-TORCH.md measured
it: weights dequantized to fp32 by transformers' GGUF loader, LoRA r=16 alpha=32 dropout 0 on q,k,v,o,gate,up,down,
batch 1, random token ids (seed 0) as input and labels (full-vocabulary causal-LM loss), step = zero_grad + forward
+ backward + AdamW(lr=1e-4), one warm-up step then the median of REPS steps; sdpa attention, no checkpointing.
Prints one JSON line per sequence length. Usage: torch_lora_train_bench.py MODEL.gguf SEQ[,SEQ…] [THREADS] [REPS]"""
import json
import os
import resource
import statistics
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

path, seqs = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
reps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
torch.set_num_threads(threads)
model = AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(path)), gguf_file=os.path.basename(path),
                                             torch_dtype=torch.float32, attn_implementation="sdpa")
config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
model = get_peft_model(model, config)
model.train()
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
generator = torch.Generator().manual_seed(0)
for seq in seqs:
    ids = torch.randint(0, model.config.vocab_size, (1, seq), generator=generator)
    times = []
    for step in range(reps + 1):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        if step > 0:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps({"engine": "pytorch+peft fp32", "torch": torch.__version__, "model": os.path.basename(path),
                      "n_threads": threads, "n_train": seq, "step_seconds": times, "tokens_per_second": seq / median,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
