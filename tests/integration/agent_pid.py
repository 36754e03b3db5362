#!/usr/bin/python3
# A command agent whose answers differ from one process to the next: the
# first paragraph names its pid, then the user's text, streamed in 40
# deltas a tenth of a second apart (test_channel_wechat.py: an answer
# asked again after the agent restarted is not the one begun before).
import json, os, sys, time
for line in sys.stdin:
    req = json.loads(line)
    if "messages" not in req:
        continue
    reply = "run %d\n\n" % os.getpid() + req["messages"][-1]["content"]
    step = -(-len(reply) // 40)
    for i in range(0, len(reply), step):
        print(json.dumps({"id": req["id"], "delta": reply[i:i + step]}),
              flush=True)
        time.sleep(0.1)
    print(json.dumps({"id": req["id"], "done": True}), flush=True)
