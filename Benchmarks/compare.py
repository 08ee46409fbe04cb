#!/usr/bin/env python3
"""Side-by-side throughput of vpgea and llama.cpp on the same GGUF files, in alternation (A B A B …), with the
ratio vpgea / llama.cpp and the fraction of the memory-bandwidth ceiling for generation; writes this CPU kind's
section of Benchmarks/RESULTS.md (date, commit, machine, table), keeping the other kinds' sections. llama.cpp comes
from llama-cpp-python (built once into ~/.cache/vpgea/llama-cpp-venv, flash attention off) unless --llama-python
names an interpreter that has it.
Run it alone: anything else on the CPU spoils the figures.
A model may carry its own test sizes, MODEL@P/N (e.g. the 7B-shaped model at pp64/tg16), and MODEL:TYPE names a
requantization (e.g. qwen2.5-coder-1.5b:Q4_0), written once into Models/ by vpgea-quantize.
Each figure is the median of the rounds; the ratio is of the medians, with the range of the per-round ratios.
Usage: Benchmarks/compare.py [--models A,B@64/16,C:Q8_0] [--threads 1,2] [--rounds 3] [-p 512] [-n 64] [--depth D]
       [--out FILE] [--llama-python PY]"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build/release/vpgea-bench")


def llama_python(given):
    if given:
        return given
    for candidate in (sys.executable, "python3"):
        if subprocess.run([candidate, "-c", "import llama_cpp"], capture_output=True).returncode == 0:
            return candidate
    venv = os.path.expanduser("~/.cache/vpgea/llama-cpp-venv")
    py = os.path.join(venv, "bin/python3")
    if not os.path.exists(py) or subprocess.run([py, "-c", "import llama_cpp"], capture_output=True).returncode != 0:
        print("building llama.cpp (pip install llama-cpp-python, ~10 minutes, once)…", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "llama-cpp-python"], check=True)
    return py


def resolve(model):
    """A path, a catalog name fetched (once) into Models/ by vpgea-fetch, which prints the file's path, or
    SOURCE:TYPE, SOURCE requantized (once) into Models/ by vpgea-quantize."""
    source, _, qtype = model.partition(":")
    if qtype:
        base = resolve(source)
        out = os.path.join(ROOT, "Models", os.path.basename(base).rsplit(".", 1)[0] + f"-requant-{qtype.lower()}.gguf")
        if not os.path.exists(out):
            print(f"writing {out} (vpgea-quantize {qtype})…", file=sys.stderr)
            subprocess.run([os.path.join(ROOT, ".build/release/vpgea-quantize"), base, out + ".partial", qtype],
                           check=True, stdout=subprocess.DEVNULL)
            os.replace(out + ".partial", out)
        return out
    if os.path.exists(model):
        return model
    if os.path.basename(model) == "r1-7b-shaped.gguf":   # generated, not downloaded (4.7 GB, a few minutes)
        vocab = resolve("qwen2.5-coder-1.5b")   # lends its tokenizer and metadata (downloaded into Models/)
        subprocess.run(["swift", "run", "-c", "release", "make-shaped-model", vocab, model], cwd=ROOT, check=True)
        return model
    out = subprocess.run([os.path.join(ROOT, ".build/release/vpgea-fetch"), "--dir", os.path.join(ROOT, "Models"), model],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def bytes_per_token(path):
    """The weight bytes one generated token reads: every tensor but the token-embedding table, of which one row is
    read (unless the model ties it to the output head, which reads all of it)."""
    out = subprocess.run([os.path.join(ROOT, ".build/release/vpgea-gguf"), "--json", path], check=True, capture_output=True,
                         text=True).stdout
    tensors = {t["name"]: t["bytes"] for t in json.loads(out)["tensors"]}
    tied = "output.weight" not in tensors
    return sum(b for name, b in tensors.items() if tied or name != "token_embd.weight")


def vpgea(path, threads, n_prompt, n_gen, depth=0):
    out = subprocess.run([BENCH, "-m", path, "-t", str(threads), "-p", str(n_prompt), "-n", str(n_gen), "-d", str(depth), "-r", "1",
                          "-o", "json"],
                         check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)   # llama-bench's shape: an array of rows, each naming the machine
    result = {r["n_prompt"] and "pp" or "tg": r["avg_ts"] for r in rows}
    first = rows[0]
    machine = {"cpu": first["cpu_info"], "cpu_flags": first["cpu_flags"], "kernels": first["kernels"],
               "blas_core": first["blas_core"], "read_bandwidth_gbs": first["read_bandwidth_gbs"],
               "huge_pages": first.get("huge_pages", "?"),
               "row_prefetch": first.get("row_prefetch", "?"), "bf16_products": first.get("bf16_products", "?")}
    return result, machine


def llama(py, path, threads, n_prompt, n_gen, depth=0):
    out = subprocess.run([py, os.path.join(ROOT, "Benchmarks/llama_cpp_speed.py"), path, str(threads), "1", str(max(n_prompt, 8)),
                          str(n_gen), f"--depth={depth}", "--json"], check=True, capture_output=True, text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return {"pp": data["pp"][0], "tg": data["tg"][0]}, data["version"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b,Models/r1-7b-shaped.gguf@64/16")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--depth", type=int, default=0, help="generation after this many context tokens (with -p 0: tg only)")
    ap.add_argument("--llama-python")
    ap.add_argument("--out", default=os.path.join(ROOT, "Benchmarks/RESULTS.md"))
    args = ap.parse_args()
    # One product per build: given several --product flags, swift build builds only the last one (the others would
    # be measured as they were last built).
    for product in ["vpgea-bench", "vpgea-fetch", "vpgea-quantize", "vpgea-gguf"]:
        subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True, capture_output=True)
    py = llama_python(args.llama_python)
    rows, machine, version = [], None, None
    for spec in args.models.split(","):
        model, _, sizes = spec.partition("@")
        n_prompt, n_gen = (int(x) for x in sizes.split("/")) if sizes else (args.p, args.n)
        path = resolve(model)
        size, read = os.path.getsize(path), bytes_per_token(path)
        for threads in [int(t) for t in args.threads.split(",")]:
            ours, theirs = {"pp": [], "tg": []}, {"pp": [], "tg": []}
            for r in range(args.rounds):
                a, machine = vpgea(path, threads, n_prompt, n_gen, args.depth)
                b, version = llama(py, path, threads, n_prompt, n_gen, args.depth)
                for k in a:
                    ours[k].append(a[k])
                    theirs[k].append(b[k])
                print(f"{os.path.basename(path)} t={threads} round {r + 1}: vpgea {a} | llama.cpp {b}", file=sys.stderr)
            bandwidth = machine["read_bandwidth_gbs"] * 1e9
            at = f" @ d{args.depth}" if args.depth else ""
            for k, name in (("pp", f"pp{n_prompt}{at}"), ("tg", f"tg{n_gen}{at}")):
                if not ours[k]:
                    continue
                # The ceiling counts the weights a token reads (at depth the cache adds its bytes: then omitted).
                ceiling = bandwidth / read if k == "tg" and not args.depth else None
                rows.append((os.path.basename(path), size, threads, name, ours[k], theirs[k], ceiling))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    kind = f"{machine['cpu']} [{machine.get('cpu_flags', '')}]"
    lines = [f"## {kind}", "",
             f"{datetime.date.today()}, commit {commit}, {os.cpu_count()} cores, kernels {machine['kernels']}, "
             f"OpenBLAS core {machine.get('blas_core', '?')}, huge pages {machine.get('huge_pages', '?')}, "
             f"row prefetch {machine.get('row_prefetch', '?')}, bf16 products {machine.get('bf16_products', '?')}, read bandwidth {machine['read_bandwidth_gbs']:.1f} GB/s; "
             f"{version}, flash attention off. Alternating runs, {args.rounds} rounds; each cell lists the rounds; the "
             f"ratio is of the medians (in brackets the range of the rounds' own ratios); the bandwidth ceiling is the read "
             f"bandwidth at the row's thread count over the weight bytes one token reads (all but the embedding table). "
             f"Made by `Benchmarks/compare.py`.",
             "",
             "| model | size | threads | test | vpgea t/s | llama.cpp t/s | vpgea / llama.cpp | vpgea / bandwidth ceiling |",
             "|---|---:|---:|---|---|---|---:|---:|"]
    for model, size, threads, name, a, b, ceiling in rows:
        ours, theirs = statistics.median(a), statistics.median(b)
        frac = f"{ours / ceiling:.0%}" if ceiling else "–"
        per_round = [x / y for x, y in zip(a, b)]
        spread = f" ({min(per_round):.2f}–{max(per_round):.2f})" if len(per_round) > 1 else ""
        lines.append(f"| {model} | {size / 2**30:.2f} GiB | {threads} | {name} | {' / '.join(f'{x:.1f}' for x in a)} | "
                     f"{' / '.join(f'{x:.1f}' for x in b)} | {ours / theirs:.2f}{spread} | {frac} |")
    write_section(args.out, kind, "\n".join(lines) + "\n", {row[0] for row in rows})
    print("\n".join(lines))


def kept_rows(old_section, measured):
    """The table rows of an earlier section whose models this run did not measure, each naming the run it came from:
    the header line above it (a row already naming one keeps it). Of a model, test and thread count measured by
    several runs, the last row in the section stays (runs are listed oldest first)."""
    origin, rows = "an earlier run", {}
    for line in old_section.splitlines():
        run = re.match(r"^(\d{4}-\d{2}-\d{2}), commit (\w+)", line)
        if run:
            origin = f"{run.group(1)}, commit {run.group(2)}"
        if not line.startswith("| ") or line.startswith("| model "):
            continue
        cells = line.split("|")
        model = cells[1].strip()
        if model.split(" (")[0] in measured:
            continue
        if " (" not in model:
            cells[1] = f" {model} ({origin}) "
        rows[(model.split(" (")[0], cells[3].strip(), cells[4].strip())] = "|".join(cells)
    return list(rows.values())


def write_section(path, kind, section, measured):
    """RESULTS.md keeps one section per CPU kind (its heading: the model name and SIMD flags): this run's section
    replaces the one of its kind, and the others stay; rows of models this run did not measure stay in the section
    too, marked with the run they came from."""
    title = "# Throughput: vpgea and llama.cpp, side by side, one section per CPU kind\n"
    sections = {}
    if os.path.exists(path):
        text = open(path).read()
        for part in text.split("\n## ")[1:]:
            heading = part.split("\n", 1)[0]
            sections[heading] = "## " + part.rstrip("\n") + "\n"
    kept = kept_rows(sections.get(kind, ""), measured)
    if kept:
        header = [line for line in section.splitlines() if line.startswith("| model ") or line.startswith("|---")]
        section += ("\nRows of models this run did not measure, from earlier runs on this CPU kind (each names its "
                    "run; its header line there has the details):\n\n" + "\n".join(header + kept) + "\n")
    sections[kind] = section
    with open(path, "w") as f:
        f.write(title + "\n" + "\n".join(sections[k] for k in sorted(sections)))


if __name__ == "__main__":
    main()
