#!/usr/bin/env python3
"""vpgea-serve against llama.cpp's llama-server on the same model, machine and --parallel, in one run: aggregate
generated tokens/s and time to first token with 1, 4, 8 and 16 concurrent streaming clients (greedy, one distinct
prompt per client, max_tokens each), the two servers taking turns in alternating rounds. Run it alone on the
machine. llama-server comes from Benchmarks/build_llama_server.sh (built once).

Usage: python3 Benchmarks/serve_compare.py [--model qwen2.5-coder-0.5b] [--parallel 8] [--clients 1,4,8,16]
                                           [--tokens 64] [--rounds 2] [--threads 2] [--out Benchmarks/RESULTS.md]
"""
import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
from compare import resolve, write_section  # noqa: E402


def cpu_description():
    """The CPU's model name and its SIMD flags that matter here."""
    info = open("/proc/cpuinfo").read()
    name = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), platform.machine())
    flags = next((l.split(":", 1)[1].split() for l in info.splitlines() if l.startswith("flags")), [])
    wanted = ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "amx_int8"]
    return f"{name} [{' '.join(f for f in wanted if f in flags)}], {os.cpu_count()} cores"

TOPICS = ["a lighthouse keeper", "the first bicycle", "a city under the sea", "a robot learning to paint",
          "a long winter", "the last library", "a river that flows uphill", "a clockmaker's apprentice",
          "a journey across a desert", "an orchestra of birds", "a forgotten language", "a garden on Mars",
          "a train that never stops", "a dragon who fears fire", "the smallest kingdom", "a map of the stars"]


def wait_healthy(port, process, seconds=300):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server on port {port} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"the server on port {port} did not become healthy")


def one_request(port, topic, tokens, result):
    """Streams one chat completion; result gets (seconds to the first content, total seconds, completion tokens)."""
    started = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    body = {"messages": [{"role": "user", "content": f"Write a long story about {topic}."}], "temperature": 0,
            "max_tokens": tokens, "stream": True, "stream_options": {"include_usage": True}}
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first, completion = None, 0
    while True:
        line = resp.readline()
        if not line:
            break
        line = line.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            if line == "data: [DONE]":
                break
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            completion = chunk["usage"]["completion_tokens"]
        for c in chunk.get("choices", []):
            if first is None and (c.get("delta", {}).get("content") or c.get("delta", {}).get("reasoning_content")):
                first = time.time() - started
    conn.close()
    result.append((first or float("nan"), time.time() - started, completion))


def first_token_alone(port, words=180, repetitions=3):
    """(median seconds to the first token, prompt tokens) of a long prompt no cache has seen (a new number each time)."""
    times, prompt_tokens = [], 0
    for r in range(repetitions):
        text = f"Case {time.time_ns()}: " + " ".join(TOPICS[i % len(TOPICS)].split()[-1] for i in range(words))
        body = {"messages": [{"role": "user", "content": "Summarize: " + text}], "temperature": 0, "max_tokens": 1}
        started = time.time()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
        reply = json.loads(conn.getresponse().read())
        times.append(time.time() - started)
        prompt_tokens = reply["usage"]["prompt_tokens"]
    return statistics.median(times), prompt_tokens


def load(port, clients, tokens):
    """(aggregate tokens/s, median time to first token) of `clients` concurrent requests."""
    results = []
    threads = [threading.Thread(target=one_request, args=(port, TOPICS[i % len(TOPICS)], tokens, results))
               for i in range(clients)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - started
    return sum(r[2] for r in results) / wall, statistics.median(r[0] for r in results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--clients", default="1,4,8,16")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=1024, help="context per slot")
    ap.add_argument("--out", default=os.path.join(ROOT, "Benchmarks/RESULTS.md"),
                    help="the results file: this model's serving section for this CPU kind is replaced")
    a = ap.parse_args()
    model = resolve(a.model)
    for product in ("vpgea-serve", "vpgea-bench"):
        subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    llama = subprocess.run([os.path.join(ROOT, "Benchmarks/build_llama_server.sh")], check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    servers = {
        "vpgea": (8701, [os.path.join(ROOT, ".build/release/vpgea-serve"), model, "--port", "8701", "--parallel",
                         str(a.parallel), "--ctx-size", str(a.ctx), "-t", str(a.threads)]),
        "llama.cpp": (8702, [llama, "-m", model, "--port", "8702", "--parallel", str(a.parallel), "-c",
                             str(a.ctx * a.parallel), "-t", str(a.threads), "-tb", str(a.threads), "--no-webui"]),
    }
    processes = {}
    try:
        for name, (port, cmd) in servers.items():
            processes[name] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_healthy(port, processes[name])
            load(port, 1, 8)   # warm-up
        clients = [int(c) for c in a.clients.split(",")]
        figures = {(n, c): [] for n in servers for c in clients}
        for r in range(a.rounds):
            for c in clients:
                for name, (port, _) in (servers.items() if r % 2 == 0 else reversed(list(servers.items()))):
                    figures[(name, c)].append(load(port, c, a.tokens))
                    print(f"round {r + 1} {name} {c} clients: {figures[(name, c)][-1][0]:.1f} t/s, "
                          f"first token {figures[(name, c)][-1][1]:.2f} s", file=sys.stderr)
        # A long new prompt alone: the time to its first token against vpgea-bench's prompt speed at that length.
        ttft, prompt_tokens = first_token_alone(servers["vpgea"][0])
    finally:
        for p in processes.values():
            p.terminate()
            p.wait()
    bench = subprocess.run([os.path.join(ROOT, ".build/release/vpgea-bench"), "-m", model, "-t", str(a.threads), "-p",
                            str(prompt_tokens), "-n", "0", "-r", "3", "-o", "json"], check=True, capture_output=True,
                           text=True, cwd=ROOT).stdout
    pp = json.loads(bench)[0]["avg_ts"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    kind = f"Serving {os.path.basename(model)}: {cpu_description()}"
    lines = [f"## {kind}", "",
             f"{time.strftime('%Y-%m-%d')}, commit {commit}; vpgea-serve and llama.cpp's llama-server "
             f"(llama-cpp-python {os.environ.get('LLAMA_CPP_PYTHON_VERSION', '0.3.36')} sources, "
             f"GGML_NATIVE, its default flash-attention setting), --parallel {a.parallel}, {a.threads} threads, "
             f"{a.ctx} tokens per slot; each client streams one chat request (greedy, max_tokens {a.tokens}, its own "
             f"prompt); aggregate = completion tokens of all clients / wall time; first token = median time to the "
             f"first streamed text; medians of {a.rounds} alternating rounds. Made by `Benchmarks/serve_compare.py`.", "",
             "| clients | vpgea t/s | llama.cpp t/s | ratio | vpgea first token (s) | llama.cpp first token (s) |",
             "|---:|---:|---:|---:|---:|---:|"]
    for c in clients:
        v = [f[0] for f in figures[("vpgea", c)]], [f[1] for f in figures[("vpgea", c)]]
        l = [f[0] for f in figures[("llama.cpp", c)]], [f[1] for f in figures[("llama.cpp", c)]]
        lines.append(f"| {c} | {statistics.median(v[0]):.1f} | {statistics.median(l[0]):.1f} | "
                     f"{statistics.median(v[0]) / statistics.median(l[0]):.2f} | {statistics.median(v[1]):.2f} | "
                     f"{statistics.median(l[1]):.2f} |")
    lines += ["", f"First token of a new {prompt_tokens}-token prompt, 1 client, max_tokens 1 (median of 3): {ttft:.2f} s; "
              f"vpgea-bench's prompt speed at that length: {pp:.1f} t/s, i.e. {prompt_tokens / pp:.2f} s "
              f"(the server takes {ttft / (prompt_tokens / pp):.2f}× that)."]
    section = "\n".join(lines) + "\n"
    print(section)
    write_section(a.out, kind, section)


if __name__ == "__main__":
    main()
