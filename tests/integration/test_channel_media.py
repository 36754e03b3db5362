"""Attachments people send to a channel account (issues #12 and #13,
the supervisor's half): a worker hands a message's parts over in a
sealed memfd (inbound.media); the hub checks it, keeps the parts in the
store's media area with the message, in the same commit, and the agent
reads a note per part.  A worker that breaks the rules (an unsealed
memfd, sizes that do not add up) is killed as compromised and
restarted.  The media area is bounded by bytes and by age.

The test channel kind workers/loopback sends the attachment: byte i of
an N-byte part is (i * 31 + 7) mod 256."""

import hashlib
import os

from conftest import wait_for

FAST_ECHO = [{"name": "default", "type": "echo",
              "echo": {"chunks": 1, "delay_ms": 0}}]


def pattern(n):
    return bytes((i * 31 + 7) & 0xff for i in range(n))


def note(kind, name, n):
    return '[attachment: %s "%s", %d bytes, sha256 %s]' % (
        kind, name, n, hashlib.sha256(pattern(n)).hexdigest())


def media(gate, action, peer, kind, name, n, text=""):
    rc, out, err = gate.ctl("test", "loopback.t", "%s:%s:%s:%s:%d%s" % (
        action, peer, kind, name, n, ":" + text if text else ""))
    return rc, out, err


def answered(gate, peer):
    return gate.rows("SELECT text, reply FROM messages WHERE account = 't'"
                     " AND sender = ? AND state = 3 ORDER BY id", (peer,))


def base(extra=None):
    c = {"agents": FAST_ECHO,
         "channels": [{"name": "t", "type": "loopback",
                       "dm_policy": "open"}]}
    c.update(extra or {})
    return c


def test_image_reaches_agent_and_store(gate_factory):
    gate = gate_factory(base())
    rc, out, err = media(gate, "media", "ann", "image", "cat.jpg", 70000,
                         "look at this")
    assert rc == 0, (out, err)
    rows = wait_for(lambda: answered(gate, "ann"), 10, 0.05,
                    "the message answered")
    want = "look at this\n" + note("image", "cat.jpg", 70000)
    assert rows == [(want, "echo: " + want)], rows
    got = gate.rows("SELECT m.kind, m.name, m.size, m.seq, m.data,"
                    " hex(m.sha256) FROM media m JOIN messages g ON"
                    " g.id = m.msg_id WHERE g.sender = 'ann'")
    assert len(got) == 1, got
    kind, name, size, seq, data, digest = got[0]
    assert (kind, name, size, seq) == ("image", "cat.jpg", 70000, 0)
    assert bytes(data) == pattern(70000)
    assert digest.lower() == hashlib.sha256(pattern(70000)).hexdigest()
    rc, out, err = gate.ctl("metrics")
    assert rc == 0, err
    assert "\nwxgate_media_stored_bytes 70000\n" in out, out
    assert "\nwxgate_media_stored_parts 1\n" in out, out


def test_attachment_alone_and_unsafe_name(gate_factory):
    """A part with no text is a message; a name is shown, never a path
    or a second line."""
    gate = gate_factory(base())
    rc, out, err = media(gate, "media", "bob", "file", '..\\"x"', 10)
    assert rc == 0, (out, err)
    rows = wait_for(lambda: answered(gate, "bob"), 10, 0.05,
                    "the message answered")
    assert rows[0][0] == note("file", "..__x_", 10), rows


def test_unknown_kind_unsealed_or_short_is_a_violation(gate_factory):
    gate = gate_factory(base())
    for i, (action, kind, why) in enumerate([
            ("media-unsealed", "image", "unsealed"),
            ("media-short", "image", "of another size"),
            ("media", "sticker", "unknown kind")]):
        old = gate.worker("loopback.t")
        media(gate, action, "eve", kind, "x", 100)
        gate.wait_log("killing worker loopback.t", 10)

        def back():
            w = gate.worker("loopback.t")
            return w if (w["state"] == "running" and
                         w["pid"] != old["pid"] and
                         w["restarts"] == i + 1) else None
        w = wait_for(back, 10, 0.05, "loopback.t restarted")
        assert "protocol violation" in w["last_exit"], w
        assert why in gate.log(), why
    # Nothing of them was kept.
    assert gate.rows("SELECT count(*) FROM media") == [(0,)]
    assert gate.rows("SELECT count(*) FROM messages WHERE sender = 'eve'"
                     ) == [(0,)]


def test_media_area_drops_answered_first(gate_factory):
    """media.stored_max_bytes: the oldest answered message's parts make
    room for a new one; the messages themselves stay."""
    gate = gate_factory(base({"media": {"stored_max_bytes": 1048576}}))
    for i, peer in enumerate(["p1", "p2", "p3"]):
        rc, out, err = media(gate, "media", peer, "file", "f%d" % i,
                             400000)
        assert rc == 0, (out, err)
        wait_for(lambda: answered(gate, peer), 10, 0.05, peer)
    kept = gate.rows("SELECT g.sender FROM media m JOIN messages g ON"
                     " g.id = m.msg_id ORDER BY m.id")
    assert kept == [("p2",), ("p3",)], kept
    assert gate.rows("SELECT count(*) FROM messages WHERE account = 't'"
                     ) == [(3,)]


def test_media_past_retention_dropped(gate_factory):
    gate = gate_factory(base({
        "media": {"retention_days": 2},
        "policy": {"sessions": {"idle_ttl_s": 4}}}))
    media(gate, "media", "old", "voice", "", 500)
    wait_for(lambda: answered(gate, "old"), 10, 0.05, "answered")
    assert gate.rows("SELECT count(*) FROM media") == [(1,)]
    rc, out, err = gate.ctl("test", "supervisor", "clock:+%d" % (3 * 86400))
    assert rc == 0, (out, err)
    wait_for(lambda: gate.rows("SELECT count(*) FROM media") == [(0,)],
             10, 0.1, "the sweep to drop the old part")
    assert "past media.retention_days dropped" in gate.log()


def test_media_area_full_of_unanswered_says_busy(gate_factory):
    """Parts of a message its agent has not answered are never dropped
    for a newer one: the newer one is refused busy (its worker offers
    it again later), and nothing is stored of it."""
    slow = [{"name": "default", "type": "echo",
             "echo": {"chunks": 2, "delay_ms": 3000}}]
    gate = gate_factory(base({"agents": slow,
                              "media": {"stored_max_bytes": 1048576}}))
    media(gate, "media", "p1", "file", "a", 700000)
    gate.wait_log("loopback t: inbound 1: accepted", 10)
    media(gate, "media", "p2", "file", "b", 700000)
    gate.wait_log("loopback t: inbound 2: busy", 10)
    assert "the media area is full of messages not answered yet" in \
        gate.log()
    assert gate.rows("SELECT g.sender FROM media m JOIN messages g ON"
                     " g.id = m.msg_id") == [("p1",)]
    wait_for(lambda: answered(gate, "p1"), 10, 0.05, "p1 answered")


# A command agent that answers with what it got (agent_fds.py).
FD_AGENT = [{"name": "default", "type": "command", "command": {"argv": [
    "/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                     "agent_fds.py")]}}]


def test_command_agent_gets_sealed_descriptors(gate_factory):
    """A command agent gets each attachment as its own sealed memfd with
    its request line, never a path; one with none gets none."""
    gate = gate_factory(base({"agents": FD_AGENT}))
    media(gate, "media", "cat", "file", "notes.txt", 300000, "read this")
    rows = wait_for(lambda: answered(gate, "cat"), 10, 0.05, "answered")
    assert rows[0][1] == "file notes.txt 300000 %s sealed" % (
        hashlib.sha256(pattern(300000)).hexdigest()), rows
    rc, out, err = gate.ctl("test", "loopback.t", "say:dog:plain words")
    assert rc == 0, (out, err)
    rows = wait_for(lambda: answered(gate, "dog"), 10, 0.05, "answered")
    assert rows[0][1] == "none", rows
    # No descriptor stays behind in the agent's worker, per request.
    pid = gate.worker("agent.default")["pid"]
    before = len(os.listdir("/proc/%d/fd" % pid))
    for i in range(5):
        media(gate, "media", "eel%d" % i, "image", "i", 100)
    for i in range(5):
        wait_for(lambda: answered(gate, "eel%d" % i), 10, 0.05, "answered")
    assert len(os.listdir("/proc/%d/fd" % pid)) == before


def test_openai_vision_gets_images_as_data_urls(gate_factory):
    """An OpenAI-compatible agent with vision: true gets the newest turn's
    images as content parts (checked by the fake: one leading text part,
    strict base64 data URLs); a file stays a note in the text."""
    from fake_openai import Fake
    fake = Fake(chunks=1, delay=0).start()
    try:
        gate = gate_factory(base({"agents": [{
            "name": "default", "type": "openai",
            "openai": {"url": fake.url, "model": "m", "timeout_s": 5,
                       "vision": True}}]}))
        media(gate, "media-png", "amy", "image", "p.png", 5000, "what is it")
        rows = wait_for(lambda: answered(gate, "amy"), 10, 0.05,
                        "answered")
        png = b"\x89PNG\r\n\x1a\n" + pattern(5000)[8:]
        want = "what is it\n" + '[attachment: image "p.png", 5000 bytes,' \
            ' sha256 %s]' % hashlib.sha256(png).hexdigest()
        assert rows == [(want, "echo: " + want)], rows
        assert fake.images == [[("image/png", png)]], fake.images
        # Not an image a model can read (no known signature): text only.
        media(gate, "media", "bea", "image", "x.bin", 100, "and this")
        wait_for(lambda: answered(gate, "bea"), 10, 0.05, "answered")
        assert len(fake.images) == 1
        assert isinstance(fake.requests[-1]["messages"][-1]["content"], str)
    finally:
        fake.stop()


def test_openai_without_vision_reads_notes(gate_factory):
    from fake_openai import Fake
    fake = Fake(chunks=1, delay=0).start()
    try:
        gate = gate_factory(base({"agents": [{
            "name": "default", "type": "openai",
            "openai": {"url": fake.url, "model": "m", "timeout_s": 5}}]}))
        media(gate, "media-png", "amy", "image", "p.png", 5000, "what")
        wait_for(lambda: answered(gate, "amy"), 10, 0.05, "answered")
        assert fake.images == []
        content = fake.requests[-1]["messages"][-1]["content"]
        assert content.startswith('what\n[attachment: image "p.png"')
    finally:
        fake.stop()


FILES_AGENT = [{"name": "default", "type": "command", "command": {"argv": [
    "/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                     "agent_files.py")]}}]


def out_bytes(k, n):
    return bytes((i * 31 + 7 + k) & 0xff for i in range(n))


def sent_file(gate, name, data, peer, kind):
    return gate.log().count(
        "loopback t: file %s %d bytes to %s (%s, sha256 %s)" % (
            name, len(data), peer, kind, hashlib.sha256(data).hexdigest()))


def test_agent_reply_files_sent_after_text_once(gate_factory):
    """Files a reply carries go out after its text, each once, from the
    reply's own bytes; more than four in one reply are said to be left
    out, never silently."""
    gate = gate_factory(base({"agents": FILES_AGENT}))
    rc, out, err = gate.ctl("test", "loopback.t", "say:fay:files 2 3000")
    assert rc == 0, (out, err)
    img, doc = out_bytes(0, 3000), out_bytes(1, 3000)
    wait_for(lambda: sent_file(gate, "out1.bin", doc, "fay", "file") == 1,
             10, 0.05, "the second file sent")
    assert sent_file(gate, "out0.png", img, "fay", "image") == 1
    log = gate.log()
    assert log.index("loopback t: to fay: here") < \
        log.index("loopback t: file out0.png") < \
        log.index("loopback t: file out1.bin")
    rows = gate.rows("SELECT o.seq, o.body, a.kind FROM outbox o LEFT JOIN"
                     " attachments a ON a.id = o.attachment_id WHERE"
                     " o.peer = 'fay' ORDER BY o.seq")
    assert rows == [(0, "here", None), (1, "out0.png", "image"),
                    (2, "out1.bin", "file")], rows

    gate.ctl("test", "loopback.t", "say:gil:files 5 10")
    rows = wait_for(lambda: answered(gate, "gil"), 10, 0.05, "answered")
    assert rows[0][1] == 'here\n[file "out4.bin" (10 bytes) not sent: ' \
        'too many files in one reply]', rows
    wait_for(lambda: gate.log().count("loopback t: file out3.bin 10 bytes"
                                      " to gil") == 1, 10, 0.05, "4 files")


def test_agent_bad_file_is_bad_response(gate_factory):
    gate = gate_factory(base({"agents": FILES_AGENT}))
    gate.ctl("test", "loopback.t", "say:hal:bad")
    gate.wait_log("loopback t: to hal:", 10)
    assert "loopback t: file" not in gate.log()
    rows = gate.rows("SELECT reply FROM messages WHERE sender = 'hal'")
    assert rows and "here" not in rows[0][0], rows


def test_agent_files_to_web_chat_are_named_not_sent(gate_factory):
    gate = gate_factory({"agents": FILES_AGENT})

    async def go():
        async with gate.client() as c:
            await c.open()
            status, done = await c.chat("files 1 100", "f-1")
            assert status == "accepted"
            assert done["text"] == 'here\n[file "out0.png" (100 bytes) ' \
                'not sent: only a channel\'s chats take files]', done
    from conftest import run
    run(go())
