"""Drives a running vpgea-serve with OpenAI's own Python client (and raw HTTP for what the client cannot send),
and prints what came back as JSON, for the Swift test to judge.

Usage: openai_client_check.py BASE_URL API_KEY BASE_MODEL ADAPTER_NAME
"""
import json
import sys
import urllib.error
import urllib.request

import openai

base_url, api_key, base_model, adapter = sys.argv[1:5]
client = openai.OpenAI(base_url=base_url + "/v1", api_key=api_key, max_retries=0, timeout=300)
out = {}
question = [{"role": "user", "content": "List the first five prime numbers."}]

# Chat, not streamed, greedy.
r = client.chat.completions.create(model=base_model, messages=question, temperature=0, max_tokens=24)
out["chat"] = {"text": r.choices[0].message.content, "finish": r.choices[0].finish_reason,
               "usage": r.usage.model_dump(), "object": r.object, "role": r.choices[0].message.role}

# The same, streamed, with usage at the end.
pieces, finish, usage, roles = [], None, None, []
for chunk in client.chat.completions.create(model=base_model, messages=question, temperature=0, max_tokens=24,
                                            stream=True, stream_options={"include_usage": True}):
    if chunk.usage is not None:
        usage = chunk.usage.model_dump()
    for c in chunk.choices:
        if c.delta.role:
            roles.append(c.delta.role)
        if c.delta.content:
            pieces.append(c.delta.content)
        if c.finish_reason:
            finish = c.finish_reason
out["stream"] = {"text": "".join(pieces), "pieces": len(pieces), "finish": finish, "usage": usage, "roles": roles}

# Completions (raw text continued), and a stop string.
r = client.completions.create(model=base_model, prompt="def fibonacci(n):", temperature=0, max_tokens=32)
out["completion"] = {"text": r.choices[0].text, "finish": r.choices[0].finish_reason, "usage": r.usage.model_dump()}
r = client.completions.create(model=base_model, prompt="def fibonacci(n):", temperature=0, max_tokens=32, stop=["return"])
out["completion_stop"] = {"text": r.choices[0].text, "finish": r.choices[0].finish_reason}

# Logprobs: the chosen token's and the top 3.
r = client.chat.completions.create(model=base_model, messages=question, temperature=0, max_tokens=4, logprobs=True,
                                   top_logprobs=3)
out["logprobs"] = [{"token": t.token, "logprob": t.logprob, "top": [(a.token, a.logprob) for a in t.top_logprobs]}
                   for t in r.choices[0].logprobs.content]

# Seeded sampling: the same seed twice, and another seed.
def sampled(seed):
    return client.chat.completions.create(model=base_model, messages=[{"role": "user", "content": "Tell me a story."}],
                                          temperature=1.3, top_p=1, seed=seed, max_tokens=32).choices[0].message.content
out["seeded"] = [sampled(5), sampled(5), sampled(6)]

# Models, and an adapter chosen by name.
out["models"] = [m.id for m in client.models.list().data]
haiku = [{"role": "user", "content": "Write a haiku about rain."}]
r = client.chat.completions.create(model=adapter, messages=haiku, temperature=0, max_tokens=24)
out["adapter"] = {"text": r.choices[0].message.content, "model": r.model}
r = client.chat.completions.create(model=base_model, messages=haiku, temperature=0, max_tokens=24)
out["haiku_base"] = r.choices[0].message.content

# Errors: each must come back as OpenAI's error object with the right status.
errors = {}
def status_of(call):
    try:
        call()
        return 200
    except openai.APIStatusError as e:
        body = e.response.json()
        assert set(body["error"]) >= {"message", "type"}, body
        return e.status_code
errors["unknown_model"] = status_of(lambda: client.chat.completions.create(model="no-such-model", messages=question))
errors["too_long"] = status_of(lambda: client.completions.create(model=base_model, prompt="word " * 5000, max_tokens=1))
errors["bad_temperature"] = status_of(lambda: client.chat.completions.create(model=base_model, messages=question, temperature=5))
errors["no_key"] = status_of(lambda: openai.OpenAI(base_url=base_url + "/v1", api_key="wrong", max_retries=0)
                             .chat.completions.create(model=base_model, messages=question))

def raw(body, headers):
    req = urllib.request.Request(base_url + "/v1/chat/completions", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
auth = {"Authorization": "Bearer " + api_key, "Content-Type": "application/json"}
for name, body in [("malformed_json", b'{"messages": [{"role": "user", "content": "hi"}'),
                   ("wrong_type", json.dumps({"messages": question, "max_tokens": "many"}).encode()),
                   ("missing_messages", json.dumps({"model": base_model}).encode())]:
    code, body = raw(body, auth)
    assert "error" in body and "message" in body["error"], body
    errors[name] = code
errors["missing_header"] = raw(json.dumps({"messages": question}).encode(), {"Content-Type": "application/json"})[0]
out["errors"] = errors

# /health and /metrics need no key.
with urllib.request.urlopen(base_url + "/health") as resp:
    out["health"] = json.loads(resp.read())
with urllib.request.urlopen(base_url + "/metrics") as resp:
    out["metrics"] = resp.read().decode()
print(json.dumps(out))
