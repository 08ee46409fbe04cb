#!/usr/bin/env bash
# Writes Benchmarks/QUANTIZE.md: vpgea-quantize's outputs of one model (via an F16 copy) and their perplexity,
# measured by vpgea-perplexity and by llama.cpp (llama-cpp-python) on the same text and chunks.
# Usage: Benchmarks/quantize_perplexity.sh [MODEL] [WORK_DIR]   (defaults: qwen2.5-coder-1.5b, ~/.cache/vpgea/quantize)
# Knobs: CTX (512), CHUNKS (3), TYPES ("F16 Q8_0 Q6_K Q5_0 Q4_K_M Q4_K Q4_0"), PYTHON (python3 with llama_cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-qwen2.5-coder-1.5b}
WORK=${2:-$HOME/.cache/vpgea/quantize}
CTX=${CTX:-512}; CHUNKS=${CHUNKS:-3}; PYTHON=${PYTHON:-python3}
TYPES=${TYPES:-F16 Q8_0 Q6_K Q5_0 Q4_K_M Q4_K Q4_0}
TEXT=Tests/Qwen2Tests/Fixtures/ppl-text.txt
mkdir -p "$WORK"
swift build -c release --product vpgea-quantize >/dev/null
swift build -c release --product vpgea-perplexity >/dev/null
BIN=.build/release
ppl() { "$BIN/vpgea-perplexity" "$1" -f "$TEXT" -c "$CTX" --chunks "$CHUNKS" 2>/dev/null | sed -n 's/.*PPL = \([0-9.]*\).*/\1/p'; }
llama_ppl() { printf "%.4f" "$("$PYTHON" Tools/oracles/llama_perplexity.py "$1" "$TEXT" "$CTX" "$CHUNKS" | sed -n 's/.*"ppl": \([0-9.]*\).*/\1/p')"; }
out=Benchmarks/QUANTIZE.md
{
    echo "# vpgea-quantize: output types and their perplexity"
    echo
    echo "$(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD). Source: \`$MODEL\`, first written as F16 by"
    echo "vpgea-quantize, then quantized from that F16 copy to each type (so each type rounds a model that was"
    echo "already quantized once). Perplexity on \`$TEXT\`, $CHUNKS chunks of $CTX tokens, second half of each"
    echo "chunk scored, by vpgea-perplexity (f16 KV cache) and by llama.cpp (llama-cpp-python, flash attention off;"
    echo "its quantized products use 8-bit activations in prompt processing too, vpgea's use f32 there)."
    echo "Quantize times are wall times, whatever else ran on the machine."
    echo "Made by \`Benchmarks/quantize_perplexity.sh\`."
    echo
    echo "| type | file MiB | quantize s | vpgea PPL | llama.cpp PPL | Δ vs source (vpgea) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
} > "$out"
src=$(ppl "$MODEL")
echo "| source ($MODEL) | – | – | $src | – | – |" >> "$out"
for t in $TYPES; do
    if [ "$t" = F16 ]; then from="$MODEL"; else from="$WORK/F16.gguf"; fi
    start=$(date +%s.%N)
    "$BIN/vpgea-quantize" "$from" "$WORK/$t.gguf" "$t" 2>/dev/null
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    size=$(( $(stat -c %s "$WORK/$t.gguf") / 1048576 ))
    ours=$(ppl "$WORK/$t.gguf"); theirs=$(llama_ppl "$WORK/$t.gguf")
    delta=$(echo "scale=2; 100 * ($ours - $src) / $src" | bc)
    printf "| %s | %s | %.0f | %s | %s | %+.2f%% |\n" "$t" "$size" "$secs" "$ours" "$theirs" "$delta" >> "$out"
    echo "$t done" >&2
done
cat "$out"
