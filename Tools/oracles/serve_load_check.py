"""Load check of a running vpgea-serve: N streaming clients at once, greedy, must each get exactly the text the
same request gets alone; none lost or mixed up; the server's memory after within 10% of before; a client that
disconnects mid-stream frees its slot. Prints the findings as JSON for the Swift test to judge.

Usage: serve_load_check.py BASE_URL SERVER_PID [CLIENTS]
"""
import http.client
import json
import re
import sys
import threading
import time
import urllib.parse

base_url, pid = sys.argv[1], int(sys.argv[2])
clients = int(sys.argv[3]) if len(sys.argv) > 3 else 32
host = urllib.parse.urlparse(base_url)


def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def stream(question, max_tokens=32, stop_after=None):
    """Streams one chat request; returns (text, finish_reason). stop_after: close the connection after that many
    chunks (a client that goes away)."""
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=600)
    body = json.dumps({"messages": [{"role": "user", "content": question}], "temperature": 0,
                       "max_tokens": max_tokens, "stream": True})
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200, (resp.status, resp.read())
    text, finish, chunks, done = [], None, 0, False
    while not done:
        line = resp.readline()
        if not line:
            break
        line = line.decode().strip()
        if not line.startswith("data: "):
            continue
        if line == "data: [DONE]":
            done = True
            break
        chunk = json.loads(line[6:])
        for c in chunk["choices"]:
            text.append(c["delta"].get("content") or "")
            finish = c["finish_reason"] or finish
        chunks += 1
        if stop_after is not None and chunks >= stop_after:
            conn.sock.close()
            return "".join(text), "disconnected"
    conn.close()
    return "".join(text), finish if done else "truncated"


def metric(name):
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    return float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))


questions = [f"In one sentence, what is {a} plus {b}? Then name a colour." for a, b in
             zip(range(3, 3 + clients), range(17, 17 + 2 * clients, 2))]
alone = [stream(q) for q in questions]
before = rss_kib()
together = [None] * clients


def client(i):
    together[i] = stream(questions[i])


threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
started = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
seconds = time.time() - started
after = rss_kib()

# A client that goes away after three chunks of a long answer: its slot must be free again at once.
cancelled_before = metric("vpgea_requests_cancelled_total")
stream("Write a very long essay about the history of the bicycle.", max_tokens=3000, stop_after=3)
freed_after = None
deadline = time.time() + 30
while time.time() < deadline:
    if metric("vpgea_requests_running") == 0:
        freed_after = time.time() - (deadline - 30)
        break
    time.sleep(0.05)
print(json.dumps({
    "clients": clients,
    "mismatches": [i for i in range(clients) if together[i] != alone[i]],
    "lost": [i for i in range(clients) if together[i] is None or together[i][1] not in ("stop", "length")],
    "empty": [i for i in range(clients) if not alone[i][0]],
    "rss_before_kib": before, "rss_after_kib": after,
    "seconds_together": seconds,
    "disconnect_freed_seconds": freed_after,
    "cancelled": metric("vpgea_requests_cancelled_total") - cancelled_before,
}))
