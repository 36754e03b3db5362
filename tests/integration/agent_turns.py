#!/usr/bin/python3
# A command agent that answers with what it was given (test_commands.py):
# the user turns of its context joined by " | ".
import json, sys

for line in sys.stdin:
    r = json.loads(line)
    if "messages" not in r:
        continue
    said = [m["content"] for m in r["messages"] if m["role"] == "user"]
    print(json.dumps({"id": r["id"], "delta": " | ".join(said)}), flush=True)
    print(json.dumps({"id": r["id"], "done": True}), flush=True)
