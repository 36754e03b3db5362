"""A wxgated for a bench: written config, started in a temporary state
directory, stopped with wxgatectl, and its log checked for seccomp kills
(printed as "<prefix>.seccomp_kills 1 count", which the reader of a
bench must not miss).

    with BenchGate(build, conf, "wechat") as g:
        ... g.port ...
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import yaml


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def children(parent):
    """[(pid, argv)] of parent's child processes, from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = [a for a in f.read().split(b"\0") if a]
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent:
            out.append((int(d), argv))
    return out

class BenchGate:
    def __init__(self, build, conf, prefix):
        self.build = build
        self.prefix = prefix
        self.tmp = tempfile.mkdtemp(prefix="wxbench-%s" % prefix)
        self.port = free_port()
        self.conf = dict(conf)
        self.conf.setdefault("state_dir", self.tmp)
        self.conf.setdefault("log", {"level": "warn"})
        wc = dict(self.conf.get("webchat", {}))
        wc["listen"] = "127.0.0.1:%d" % self.port
        self.conf["webchat"] = wc
        self.proc = None
        self.stop_s = 10            # then SIGKILL
        self.logtext = ""           # the log, kept past the cleanup

    def path(self, name):
        return os.path.join(self.tmp, name)

    def __enter__(self):
        with open(self.path("wxgate.yaml"), "w") as f:
            yaml.safe_dump(self.conf, f)
        self.log = open(self.path("log"), "wb")
        self.proc = subprocess.Popen(
            [os.path.join(self.build, "wxgated"), "-f",
             self.path("wxgate.yaml")],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        time.sleep(1.5)
        if self.proc.poll() is not None:
            sys.exit("wxgated exited: %s" % open(self.path("log")).read())
        return self

    def __exit__(self, *exc):
        try:
            subprocess.run([os.path.join(self.build, "wxgatectl"), "-s",
                            self.path("control.sock"), "stop"],
                           capture_output=True, timeout=self.stop_s)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.proc.wait(self.stop_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        with open(self.path("log"), errors="replace") as f:
            self.logtext = f.read()
        if "killed by seccomp" in self.logtext:
            print("%s.seccomp_kills 1 count" % self.prefix)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False
