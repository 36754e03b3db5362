#!/bin/bash
# Acceptance: the README's run command (scripts/run.sh) serves the page on
# 127.0.0.1:8080 and a WebSocket client gets a streamed echo reply.
set -u
cd "$(dirname "$0")/.."
log=$(mktemp)
rm -rf run
setsid scripts/run.sh >"$log" 2>&1 &
pid=$!
cleanup() {
	build/wxgatectl -s run/control.sock stop >/dev/null 2>&1
	sleep 1
	kill -- -"$pid" 2>/dev/null
	rm -f "$log"
}
trap cleanup EXIT
for _ in $(seq 1 600); do
	curl -fs http://127.0.0.1:8080/healthz >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
grep -q "http://127.0.0.1:8080/" "$log" || { cat "$log"; exit 1; }
curl -fs http://127.0.0.1:8080/ | grep -qi "<html" || { cat "$log"; exit 1; }
/usr/bin/python3 - <<'PY' || { cat "$log"; exit 1; }
import asyncio, json, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:8080/ws") as ws:
        await ws.send(json.dumps({"id": 1, "method": "session.open", "params": {}}))
        assert json.loads(await ws.recv())["ok"]
        await ws.send(json.dumps({"id": 2, "method": "chat.send",
            "params": {"text": "hello from CI", "client_msg_id": "ci-1"}}))
        deltas, done = [], None
        while done is None:
            m = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if m.get("event") == "chat.delta":
                deltas.append(m["text"])
            elif m.get("event") == "chat.done":
                done = m["text"]
        assert done == "echo: hello from CI", done
        assert len(deltas) >= 2 and "".join(deltas) == done, deltas
        print("streamed echo in", len(deltas), "deltas")
asyncio.run(main())
PY
