#!/usr/bin/env python3
"""Token generation on a busy machine (issue #5): tg with 2 threads, alone and while one CPU-bound process
competes for a core, vpgea and llama.cpp alternating. Writes Benchmarks/BUSY.md.
Usage: python3 Benchmarks/busy_machine.py [MODEL.gguf] [--gen 64] [--runs 3] [--rounds 2] [--llama-python PY]
The model must be a path (llama.cpp reads it directly); default: the 0.5B test model in Models/."""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("model", nargs="?", default=os.path.join(root, "Models", "qwen2.5-coder-0.5b-instruct.gguf"))
ap.add_argument("--gen", type=int, default=64)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--rounds", type=int, default=2)
ap.add_argument("--llama-python", default=sys.executable)
args = ap.parse_args()
subprocess.run(["swift", "build", "-c", "release", "--product", "vpgea-bench"], cwd=root, check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def vpgea():
    out = subprocess.run([os.path.join(root, ".build/release/vpgea-bench"), "-m", args.model, "-t", "2", "-p", "0",
                          "-n", str(args.gen), "-r", str(args.runs), "-o", "json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]["avg_ts"]


def llama():
    out = subprocess.run([args.llama_python, os.path.join(root, "Benchmarks/llama_cpp_speed.py"), args.model, "2",
                          str(args.runs), "1", str(args.gen), "--json"], capture_output=True, text=True, check=True).stdout
    return statistics.median(json.loads(out)["tg"])


results = {(e, load): [] for e in ("vpgea", "llama.cpp") for load in ("alone", "busy")}
for r in range(args.rounds):
    for load in ("alone", "busy"):
        hog = subprocess.Popen(["sh", "-c", "while :; do :; done"]) if load == "busy" else None
        try:
            for engine, run in (("vpgea", vpgea), ("llama.cpp", llama)):
                results[(engine, load)].append(run())
                print(f"round {r + 1} {load:5} {engine:9} tg{args.gen} {results[(engine, load)][-1]:.1f} t/s", file=sys.stderr)
        finally:
            if hog:
                hog.kill()
                hog.wait()

commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
lines = ["# Generation on a busy machine", "",
         f"{datetime.date.today()}, commit {commit}, `{os.path.basename(args.model)}`, 2 threads, tg{args.gen} "
         f"(medians of {args.runs} runs per round, {args.rounds} rounds, engines alternating). \"busy\": one shell "
         "busy-loop (`while :; do :; done`) runs during the measurement and takes one of the 2 cores. Made by "
         "`python3 Benchmarks/busy_machine.py`.", "",
         "| engine | alone t/s | busy t/s | busy / alone |", "| --- | ---: | ---: | ---: |"]
for engine in ("vpgea", "llama.cpp"):
    a, b = statistics.median(results[(engine, "alone")]), statistics.median(results[(engine, "busy")])
    lines.append(f"| {engine} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
open(os.path.join(root, "Benchmarks/BUSY.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
