#!/usr/bin/python3
# A command agent that answers with what it got (test_channel_media.py):
# per attachment, its kind, name, length, sha256 and whether a write to
# its descriptor was refused.  Attachments come as SCM_RIGHTS with the
# first byte of their request line on stdin, a Unix socket.
import array, hashlib, json, os, socket

s = socket.socket(fileno=0)
buf, fds = b"", []
while True:
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4 * 8))
    if not data:
        break
    for lvl, typ, d in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            a = array.array("i")
            a.frombytes(d[:len(d) - len(d) % 4])
            fds.extend(a)
    buf += data
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        r = json.loads(line)
        if "messages" not in r:
            continue
        att = r.get("attachments", [])
        mine, fds = fds[:len(att)], fds[len(att):]
        out = []
        for a, fd in zip(att, mine):
            b = os.read(fd, a["size"] + 1)
            try:
                os.write(fd, b"x")
                w = "writable"
            except OSError:
                w = "sealed"
            os.close(fd)
            out.append("%s %s %d %s %s" % (a["kind"], a["name"], len(b),
                       hashlib.sha256(b).hexdigest(), w))
        t = ";".join(out) or "none"
        print(json.dumps({"id": r["id"], "delta": t}), flush=True)
        print(json.dumps({"id": r["id"], "done": True}), flush=True)
