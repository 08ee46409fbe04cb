#!/bin/bash
# Does `--products integer` train as well as the exact products? The same SFT run twice (0.5B, 64 GSM8K train
# records, 64 steps, seed 7), once per --products; validation loss on 32 other records every 16 steps, always with
# exact products, so the two columns compare. Prints both runs' losses side by side.
# Usage: Benchmarks/products_sft.sh [MODEL] [WORK_DIR]   (from the repository root, after swift build -c release)
set -euo pipefail
model=${1:-qwen2.5-coder-0.5b-instruct}
work=${2:-/tmp/vpgea-products-sft}
data=${VPGEA_DATA:-../shared/data}/gsm8k/train.jsonl
train=$(pwd)/.build/release/vpgea-train
mkdir -p "$work"
python3 - "$data" "$work" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def record(r): return {"prompt": r["question"], "completion": r["answer"].replace("####", "The answer is")}
for name, part in (("train", rows[:64]), ("valid", rows[1000:1032])):
    with open(f"{sys.argv[2]}/{name}.jsonl", "w") as f:
        for r in part: f.write(json.dumps(record(r)) + "\n")
EOF
for products in exact integer; do
    "$train" sft --model "$model" --data "$work/train.jsonl" --validation "$work/valid.jsonl" --valid-every 16 \
        --steps 64 --max-tokens 320 --seed 7 --products $products --out "$work/$products.gguf" 2> "$work/$products.log"
done
python3 - "$work" <<'EOF'
import re, sys
def steps(path):
    out = {}
    for line in open(path).read().replace("\r", "\n").split("\n"):
        m = re.match(r"step (\d+)/\d+\s+loss ([0-9.]+).*?([0-9.]+) tok/s.*?(?:valid ([0-9.]+))?\s+\|g\|", line)
        if m: out[int(m.group(1))] = (float(m.group(2)), float(m.group(3)), m.group(4))
    return out
e, i = steps(f"{sys.argv[1]}/exact.log"), steps(f"{sys.argv[1]}/integer.log")
common = sorted(set(e) & set(i))
delta = [abs(e[k][0] - i[k][0]) for k in common]
print(f"{len(common)} steps: mean |Δ training loss| {sum(delta) / len(delta):.4f}, max {max(delta):.4f}")
print(f"tokens/s (median of steps): exact {sorted(v[1] for v in e.values())[len(e) // 2]:.1f}, "
      f"integer {sorted(v[1] for v in i.values())[len(i) // 2]:.1f}")
print("| step | validation loss, exact products | integer products |")
print("|---:|---:|---:|")
for k in common:
    if e[k][2] or i[k][2]: print(f"| {k} | {e[k][2]} | {i[k][2]} |")
EOF
