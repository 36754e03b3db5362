#!/usr/bin/python3
# The chaos test's command agent (README.md, "Command agents"): answers
# "echo: <last message>" in two deltas, one request at a time, quickly,
# so the kills rather than the agent set the pace.
import json
import sys
import time

for line in sys.stdin:
    req = json.loads(line)
    if "messages" not in req:                   # {"id": N, "abort": true}
        continue
    reply = "echo: " + req["messages"][-1]["content"]
    half = len(reply) // 2
    for piece in (reply[:half], reply[half:]):
        print(json.dumps({"id": req["id"], "delta": piece}), flush=True)
        time.sleep(0.005)
    print(json.dumps({"id": req["id"], "done": True}), flush=True)
