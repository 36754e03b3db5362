"""The Conversations page's text search in any language (issue #16):
the text rides in console.get's own bounded field (UTF-8, at most 256
bytes), not in the page's 64-byte name, so a Chinese word finds a
Chinese message; ASCII case is folded; markup found stays text."""

from conftest import wait_for
from test_console import (FRIEND, XSS, conversation, conversations_gate,
                          login, page, request, with_cookie)
from urllib.parse import quote

ZH = "请问明天上午的会议改到几点了"


def search(gate, session, **q):
    return page(gate, session, "conversations?" + "&".join(
        "%s=%s" % (k, quote(v)) for k, v in q.items()))


def test_search_finds_chinese_text_and_keeps_markup_as_text(
        gate_factory, tmp_path):
    from fake_ilink import FakeIlink
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        gate = conversations_gate(gate_factory, fake, tmp_path)
        viewer = login(gate, "--operator", "watcher")
        fake.inject(FRIEND, ZH)
        fake.inject(FRIEND, XSS)
        wait_for(lambda: (lambda r: r and r["count"] == 2 and all(
            m["delivery"] == "sent" for m in r["messages"]))(conversation(
                page(gate, viewer, "conversations"), FRIEND)), 20, 0.1,
            "FRIEND's two messages answered")
        for text in ("会议", "明天上午", ZH, "ECHO: 请问", "onerror=alert(1)",
                     "<IMG src"):
            c = conversation(search(gate, viewer, text=text), FRIEND)
            assert c, text
        c = conversation(search(gate, viewer, text="会议", peer="friend"),
                         FRIEND)
        assert [m["text"] for m in c["messages"]] == [ZH, XSS], c
        assert c["messages"][1]["reply"] == "echo: " + XSS, c
        for text in ("晚上", "会 议", "明天上午的会议改到几点了吗"):
            o = search(gate, viewer, text=text)
            assert o == {"conversations": [], "more": False}, (text, o)
        # Bounded: 256 bytes go, 257 do not; nor do bytes that are not
        # UTF-8; the worker says 400 and stays up.
        o = search(gate, viewer, text="会" * 85 + "a")
        assert o["conversations"] == [], o
        pid = gate.worker("console.http")["pid"]
        for q in (quote("会" * 85 + "ab"), "%FF%FE", "caf%E9"):
            st, _, body = request(gate.console_port, "GET",
                                  "/api/conversations?text=" + q,
                                  with_cookie(viewer))
            assert st == 400, (q, st, body)
        assert gate.worker("console.http")["pid"] == pid
    finally:
        fake.stop()
