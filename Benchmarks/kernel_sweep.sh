#!/usr/bin/env bash
# Every quantized product kernel the models use, on every SIMD path this CPU has, over a range of token counts: one
# markdown table per path of G weight·tokens/s with the weights in L2 (one core), rows and panels side by side, and
# the one-token rows' streamed GB/s against a plain read. What it shows: a row kernel whose rate stops growing with
# the tokens (Q5_0's one token per pass until session 32), a count that spills, and where rows and panels cross
# (MatMul.rowsAsPanelsMaxTokens). Run it alone on the machine (pause any training: pkill -STOP -f vpgea-train).
#
#   Benchmarks/kernel_sweep.sh                  all types, paths and the default counts (~10 minutes a path)
#   TYPES="q4_k q6_k" COUNTS=1,4,16,32 PATHS=avx512 Benchmarks/kernel_sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TYPES=${TYPES:-q4_0 q5_0 q8_0 q4_k q6_k}
COUNTS=${COUNTS:-1,2,3,4,8,16,24,32,48,64}
PATHS=${PATHS:-avx2 avxvnni avx512}
bin=.build/row_kernel_rate
mkdir -p .build
# shellcheck disable=SC2046
clang -O2 -ISources/CKernels/include -ISources/CKernels $(ls Sources/CKernels/*.c | grep -v -e blas.c -e parallel.c) \
    Benchmarks/row_kernel_rate.c -o "$bin" -lm -lpthread

echo "# Kernel sweep, $(date -u +%F), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (family $(grep -m1 'cpu family' /proc/cpuinfo | awk '{print $NF}'), model $(grep -m1 '^model\s' /proc/cpuinfo | awk '{print $NF}')), flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16|avx_vnni)$' | tr '\n' ' ')"
echo
echo "One core, HUGE=1, best of 5 calls per figure; in L2: 256 rows × 1536 columns reused. G weight·tokens/s."
for path in $PATHS; do
    out=$(mktemp)
    for type in $TYPES; do
        # The interleaved layout where the path has its own kernels for the type (as the models load it), else the stored rows.
        HUGE=1 "$bin" "${type}_x16" "$path" "$COUNTS" >> "$out" 2>/dev/null ||
            HUGE=1 "$bin" "$type" "$path" "$COUNTS" >> "$out" 2>/dev/null || true
    done
    [ -s "$out" ] || { rm -f "$out"; continue; }   # the path is not on this CPU
    echo
    echo "## $path"
    echo
    # Lines: "<name> on <path>, <n> token[s (rows|panels)], one core: in L2 A GB/s (B G weight·tokens/s), streamed C GB/s; a plain read D GB/s"
    awk -v types="$TYPES" -v counts="$COUNTS" '
        {
            name = $1; sub(/_x16$/, "", name); n = $4 + 0; kind = $6 ~ /panels/ ? "panels" : "rows"
            for (i = 1; i < NF; i++) {
                if ($(i + 1) == "G") rate[name, n, kind] = substr($i, 2)
                if ($i == "streamed") streamed = $(i + 1)
                if ($i == "read") plain = $(i + 1)
            }
            if (n == 1) stream[name] = streamed " / " plain
            if (!(name in layout)) layout[name] = $1 ~ /_x16$/ ? "interleaved" : "stored"
        }
        END {
            nt = split(types, t, " "); nc = split(counts, c, ",")
            head = "| tokens |"; rule = "| ---: |"
            for (i = 1; i <= nt; i++) { head = head " " t[i] " rows | " t[i] " panels |"; rule = rule " ---: | ---: |" }
            print head; print rule
            for (j = 1; j <= nc; j++) {
                line = "| " c[j] " |"
                for (i = 1; i <= nt; i++) {
                    r = rate[t[i], c[j], "rows"]; p = rate[t[i], c[j], "panels"]
                    line = line " " (r == "" ? "–" : r) " | " (p == "" ? "–" : p) " |"
                }
                print line
            }
            print ""
            line = "One token, streamed from memory / a plain read of the same buffer (GB/s):"
            for (i = 1; i <= nt; i++) if (t[i] in stream) line = line " " t[i] " (" layout[t[i]] ") " stream[t[i]] ";"
            print line
        }' "$out"
    rm -f "$out"
done
