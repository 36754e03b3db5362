#!/usr/bin/python3
# A command agent that answers "echo: TEXT", at once unless TEXT starts
# with "lag": then after argv[1] seconds (4 by default), so a test can
# move a visitor to another node while that reply is being written.
import json, sys, time
delay = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
for line in sys.stdin:
    req = json.loads(line)
    if "messages" not in req:
        continue
    text = req["messages"][-1]["content"]
    if text.startswith("lag"):
        time.sleep(delay)
    print(json.dumps({"id": req["id"], "delta": "echo: " + text}),
          flush=True)
    print(json.dumps({"id": req["id"], "done": True}), flush=True)
