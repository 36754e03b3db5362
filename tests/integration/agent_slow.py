#!/usr/bin/python3
# A command agent that takes its time (argv[1] seconds, 8 by default)
# before it answers "slow N: TEXT", N counting the requests this process
# has answered: test_channel_callback.py proves a retried callback runs
# the agent once, and a reply past the platform's 5 s goes by the API.
import json, sys, time
delay = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
n = 0
for line in sys.stdin:
    req = json.loads(line)
    if "messages" not in req:
        continue
    n += 1
    time.sleep(delay)
    text = "slow %d: %s" % (n, req["messages"][-1]["content"])
    print(json.dumps({"id": req["id"], "delta": text}), flush=True)
    print(json.dumps({"id": req["id"], "done": True}), flush=True)
