#!/usr/bin/python3
# A command agent whose reply carries files (test_channel_media.py): the
# user's text "files N SIZE" gets the reply "here" and N files of SIZE
# bytes (byte i of file k is (i * 31 + 7 + k) mod 256), "out0.png" an
# image, the rest files; "bad" gets a file whose data is not base64.
import base64, json, sys

for line in sys.stdin:
    r = json.loads(line)
    if "messages" not in r:
        continue
    words = r["messages"][-1]["content"].split()
    print(json.dumps({"id": r["id"], "delta": "here"}), flush=True)
    if words[0] == "files":
        for k in range(int(words[1])):
            data = bytes((i * 31 + 7 + k) & 0xff for i in range(int(words[2])))
            f = {"name": "out%d.%s" % (k, "png" if k == 0 else "bin"),
                 "kind": "image" if k == 0 else "file",
                 "data": base64.b64encode(data).decode()}
            print(json.dumps({"id": r["id"], "file": f}), flush=True)
    elif words[0] == "bad":
        f = {"name": "x", "kind": "file", "data": "no t base64!"}
        print(json.dumps({"id": r["id"], "file": f}), flush=True)
    print(json.dumps({"id": r["id"], "done": True}), flush=True)
