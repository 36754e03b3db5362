#!/usr/bin/python3
# A wxgate command agent: one JSON request per line on stdin, JSON lines
# of deltas and a final line on stdout (see README.md, "Command agents").
import json, sys, time
for line in sys.stdin:
    req = json.loads(line)
    if "messages" not in req:                   # {"id": N, "abort": true}
        continue
    reply = "echo: " + req["messages"][-1]["content"]
    step = -(-len(reply) // 4)                  # four deltas, 50 ms apart
    for i in range(0, len(reply), step):
        print(json.dumps({"id": req["id"], "delta": reply[i:i + step]}), flush=True)
        time.sleep(0.05)
    print(json.dumps({"id": req["id"], "done": True}), flush=True)
