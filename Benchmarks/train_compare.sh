#!/bin/bash
# LoRA training throughput, vpgea (exact and integer products) against PyTorch + PEFT fp32, alternating on the same
# machine: ROUNDS rounds of (vpgea-bench, torch_lora_train_bench.py) per model, sequence SEQ, 2 threads, rank 16 on
# all seven projections, batch 1, loss on every position. Run it alone: anything else running ruins the figures.
# Usage: Benchmarks/train_compare.sh PYTHON_WITH_TORCH_AND_PEFT [MODELS] [SEQ] [ROUNDS] [OUT_DIR]
# (from the repository root, after swift build -c release; MODELS: comma-separated GGUF paths)
set -euo pipefail
python=$1
models=${2:-Models/qwen2.5-coder-0.5b-instruct.gguf,Models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}
seq=${3:-512}
rounds=${4:-2}
out=${5:-/tmp/vpgea-train-compare}
mkdir -p "$out"
cp .build/release/vpgea-bench "$out/vpgea-bench"   # a rebuild during the run must not change the binary
for round in $(seq "$rounds"); do
    for model in ${models//,/ }; do
        echo "round $round: $model" >&2
        "$out/vpgea-bench" -m "$model" -p 0 -n 0 --train "$seq" --train-products exact,integer -r 3 -o jsonl >> "$out/vpgea.jsonl"
        "$python" Benchmarks/torch_lora_train_bench.py "$model" "$seq" 2 3 >> "$out/torch.jsonl"
    done
done
echo "results: $out/vpgea.jsonl (mean of 3 steps per run) and $out/torch.jsonl (median of 3 steps per run)" >&2
