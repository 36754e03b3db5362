"""The console over TLS (issue #16): any address but loopback needs a
certificate and its key; root reads both (the key with a secret's
checks), the configuration tries the pair, and the console's worker
serves HTTPS from its sandbox with a Secure cookie and HSTS.  Plain HTTP
stays loopback-only."""

import json
import os
import re
import socket
import ssl
import subprocess

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from conftest import check_config, free_port, wait_for
from test_console import COOKIE, OPERATORS, NAME, header

HTTPS_RE = re.compile(
    r"^https://127\.0\.0\.1:(\d+)/login\?token=([0-9a-f]{32})$")


def make_pair(d, name, cn="127.0.0.1"):
    """A self-signed P-256 certificate for 127.0.0.1 and its key (0600)."""
    cert = os.path.join(d, name + ".crt")
    key = os.path.join(d, name + ".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", "/CN=" + cn, "-addext", "subjectAltName=IP:" + cn,
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=30)
    os.chmod(key, 0o600)
    return cert, key


@pytest.fixture
def pair(tmp_path):
    return make_pair(str(tmp_path), "a")


def console(listen, **tls):
    c = {"listen": listen, "operators": OPERATORS}
    c.update(tls)
    return {"console": c}


def test_non_loopback_needs_tls(pair):
    cert, key = pair
    port = free_port()
    rc, out = check_config(console("0.0.0.0:%d" % port))
    assert rc != 0 and "console.listen" in out and "tls_cert" in out, out
    rc, out = check_config(console("0.0.0.0:%d" % port, tls_cert=cert,
                                    tls_key=key))
    assert rc == 0, out


def test_login_links_name_the_public_url(gate_factory, pair):
    """console.public_url: the address wxgatectl's login links name,
    for a console on 0.0.0.0 or behind a name; https for a TLS console,
    never http (which would send the token in clear)."""
    cert, key = pair
    port = free_port()
    rc, out = check_config(console("127.0.0.1:%d" % port, tls_cert=cert,
                                    tls_key=key,
                                    public_url="http://localhost:%d" % port))
    assert rc != 0 and "console.public_url: must be an https:// URL" in out, \
        out
    gate = gate_factory(console("127.0.0.1:%d" % port, tls_cert=cert,
                                tls_key=key,
                                public_url="https://localhost:%d" % port))
    wait_for(lambda: (gate.worker(NAME) or {}).get("state") == "running",
             10, 0.05, "the console worker")
    rc, out, err = gate.ctl("console-url")
    assert rc == 0, err
    m = re.match(r"^https://localhost:%d/login\?token=([0-9a-f]{32})$" % port,
                 out.strip())
    assert m, out
    st, hdrs, _ = https(port, cert, "GET", "/login?token=" + m.group(1))
    assert st == 303, hdrs


def test_a_bad_pair_is_a_configuration_error(tmp_path, pair):
    cert, key = pair
    _, other = make_pair(str(tmp_path), "b")
    port = free_port()
    listen = "127.0.0.1:%d" % port
    rc, out = check_config(console(listen, tls_cert=cert, tls_key=other))
    assert rc != 0 and "not the certificate's key" in out, out
    rc, out = check_config(console(listen, tls_cert=cert))
    assert rc != 0 and "go together" in out, out
    # The key is a secret: others may not read it.
    os.chmod(key, 0o644)
    rc, out = check_config(console(listen, tls_cert=cert, tls_key=key))
    assert rc != 0 and "chmod 600" in out, out
    os.chmod(key, 0o600)
    # A key where the certificate goes, and the other way round.
    rc, out = check_config(console(listen, tls_cert=key, tls_key=key))
    assert rc != 0 and "no PEM certificate" in out, out
    junk = os.path.join(str(tmp_path), "junk.key")
    with open(junk, "w") as f:
        f.write("not a key\n")
    os.chmod(junk, 0o600)
    rc, out = check_config(console(listen, tls_cert=cert, tls_key=junk))
    assert rc != 0 and "no unencrypted PEM private key" in out, out
    big = os.path.join(str(tmp_path), "big.crt")
    for times, why in ((10, "more than 8 in the chain"),
                       (50, "larger than 24576 bytes")):
        with open(big, "wb") as f:
            f.write(open(cert, "rb").read() * times)
        rc, out = check_config(console(listen, tls_cert=big, tls_key=key))
        assert rc != 0 and why in out, out
    # A damaged certificate after a good one: not a chain cut short.
    pem = open(cert).read()
    with open(big, "w") as f:
        f.write(pem + pem.replace("\n", "\n#", 3))
    rc, out = check_config(console(listen, tls_cert=big, tls_key=key))
    assert rc != 0 and "certificate 2: not a valid PEM certificate" in out, \
        out
    # The key's bytes never appear in what is said.
    body = open(key).read().split("-----")[2].strip().splitlines()[0]
    assert body not in out


def https(port, cafile, method, path, headers=None, maxver=None):
    """One request over TLS, verifying the certificate: (status,
    headers, body)."""
    ctx = ssl.create_default_context(cafile=cafile)
    if maxver is not None:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = maxver
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    h = {"Host": "127.0.0.1:%d" % port}
    h.update(headers or {})
    if method == "POST":
        h.setdefault("Content-Length", "0")
    raw = "%s %s HTTP/1.1\r\n" % (method, path)
    raw += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            t.sendall(raw.encode())
            data = b""
            while True:
                try:
                    b = t.recv(65536)
                except ssl.SSLEOFError:
                    break
                if not b:
                    break
                data += b
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    hdrs = [(k.strip().lower(), v.strip()) for k, _, v in
            (ln.partition(":") for ln in lines[1:])]
    return int(lines[0].split(" ")[1]), hdrs, rest


def test_console_serves_https_with_a_secure_cookie(gate_factory, pair):
    cert, key = pair
    port = free_port()
    gate = gate_factory(console("127.0.0.1:%d" % port, tls_cert=cert,
                                tls_key=key))
    wait_for(lambda: (gate.worker(NAME) or {}).get("state") == "running",
             10, 0.05, "the console worker")
    rc, out, err = gate.ctl("console-url")
    assert rc == 0, err
    m = HTTPS_RE.match(out.strip())
    assert m and int(m.group(1)) == port, out
    st, hdrs, _ = https(port, cert, "GET", "/login?token=" + m.group(2))
    assert st == 303, hdrs
    cookie = header(hdrs, "set-cookie")
    attrs = [a.strip() for a in cookie.split(";")]
    assert "Secure" in attrs and "HttpOnly" in attrs, cookie
    assert "SameSite=Strict" in attrs, cookie
    assert header(hdrs, "strict-transport-security") == "max-age=31536000"
    session = re.match(COOKIE + r"=([0-9a-f]{32})", cookie).group(1)
    st, hdrs, body = https(port, cert, "GET", "/api/session",
                           {"Cookie": "%s=%s" % (COOKIE, session)})
    assert st == 200 and b"root-op" in body, (st, body)
    csrf = json.loads(body)["csrf"]
    # Same-origin is https:// now; the http:// origin is another site.
    for origin, want in (("http://127.0.0.1:%d" % port, 403),
                         ("https://127.0.0.1:%d" % port, 200)):
        st, _, body = https(port, cert, "POST", "/api/logout", {
            "Cookie": "%s=%s" % (COOKIE, session), "Origin": origin,
            "X-CSRF-Token": csrf})
        assert st == want, (origin, st, body)

    # Plain HTTP on the TLS port gets no HTTP answer.
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(10)
        data = b""
        try:
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
        except (ConnectionResetError, socket.timeout):
            pass
    assert not data.startswith(b"HTTP/"), data[:64]
    # Nor does TLS 1.1.
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        https(port, cert, "GET", "/", maxver=ssl.TLSVersion.TLSv1_1)
    # The worker is still the same one: nothing above crashed it.
    w = gate.worker(NAME)
    assert w["state"] == "running" and w["restarts"] == 0, w


def test_a_download_keeps_its_headers_under_tls(gate_factory, pair,
                                                tmp_path):
    """A file named in 48 Chinese characters is a Content-Disposition of
    some 600 bytes (127 for the ASCII name, 436 escaped for RFC 5987);
    under TLS, with HSTS before it, the head is still whole: the name
    and the Content-Type each on a line of their own."""
    from urllib.parse import unquote
    from fake_ilink import FakeIlink
    from test_channel_wechat import channel
    from test_console import FRIEND
    from test_console_thread import FAST_ECHO
    cert, key = pair
    port = free_port()
    fake = FakeIlink(longpoll_ms=1500).start()
    try:
        conf = console("127.0.0.1:%d" % port, tls_cert=cert, tls_key=key)
        conf["agents"] = FAST_ECHO
        conf["channels"] = [channel(fake, tmp_path, allow_from=[FRIEND],
                                    wechat={"cdn_url": fake.url + "/c2c"})]
        gate = gate_factory(conf)
        wait_for(lambda: (gate.worker(NAME) or {}).get("state") ==
                 "running", 10, 0.05, "the console worker")
        rc, out, err = gate.ctl("console-url")
        assert rc == 0, err
        tok = HTTPS_RE.match(out.strip()).group(2)
        st, hdrs, _ = https(port, cert, "GET", "/login?token=" + tok)
        assert st == 303, hdrs
        h = {"Cookie": header(hdrs, "set-cookie").split(";")[0]}

        def get(path):
            st, hdrs, body = https(port, cert, "GET", path, h)
            assert st == 200, (path, st, body[:200])
            return hdrs, body

        name = "第三季度销售报告" * 6 + ".pdf"
        doc = b"%PDF-1.4\n" + os.urandom(2000)
        fake.inject(FRIEND, "", item_list=[
            {"type": 1, "text_item": {"text": "report"}},
            fake.media_item("file", doc, name=name)])

        def conv():
            o = json.loads(get("/api/conversations")[1])
            c = [c for c in o["conversations"] if c["peer"] == FRIEND]
            return c[0] if c else None
        sid = wait_for(conv, 30, 0.1, "the conversation")["session"]
        msg = wait_for(lambda: [m for m in json.loads(get(
            "/api/thread?session=%d" % sid)[1])["messages"] if m["parts"]],
            30, 0.1, "the attachment listed")[0]
        part = msg["parts"][0]
        # The page cuts the name it lists; the download has it whole.
        assert name.startswith(part["name"]), part
        hdrs, body = get("/api/media?msg=%d&seq=%d" % (msg["id"],
                                                      part["seq"]))
        assert body == doc
        assert header(hdrs, "content-type") == "application/octet-stream", \
            hdrs
        d = header(hdrs, "content-disposition")
        m = re.fullmatch(r'attachment; filename="_{127}"; '
                         r"filename\*=UTF-8''([A-Za-z0-9%.]+)", d)
        assert m and unquote(m.group(1)) == name, d
        assert header(hdrs, "strict-transport-security") == \
            "max-age=31536000"
        assert fake.violations == [], fake.violations
    finally:
        fake.stop()
