"""A throwaway PostgreSQL for the cluster tests: tests/pgserver.sh
starts Debian's server into a fresh folder on 127.0.0.1 and a free port,
with a random password in a file; the test is skipped only when no
PostgreSQL server is installed (the script's exit 77)."""

import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import REPO

PGSERVER = os.path.join(REPO, "tests", "pgserver.sh")


def _psql():
    for d in sorted((os.path.join("/usr/lib/postgresql", v, "bin")
                     for v in os.listdir("/usr/lib/postgresql")),
                    reverse=True) if os.path.isdir(
                        "/usr/lib/postgresql") else []:
        if os.access(os.path.join(d, "psql"), os.X_OK):
            return os.path.join(d, "psql")
    return shutil.which("psql") or "psql"


class PgServer:
    def __init__(self):
        # Not under pytest's tmp_path: its 0700 folders would keep the
        # server's own user out.
        self.dir = tempfile.mkdtemp(prefix="wxpg")
        p = subprocess.run(["sh", PGSERVER, "start", self.dir],
                           capture_output=True, text=True, timeout=120)
        if p.returncode == 77:
            shutil.rmtree(self.dir, ignore_errors=True)
            pytest.skip(p.stderr.strip())
        assert p.returncode == 0, p.stderr
        with open(os.path.join(self.dir, "port")) as f:
            self.port = int(f.read())
        self.password_file = os.path.join(self.dir, "password")
        self.uri = "postgresql://wxgate@127.0.0.1:%d/wxgate" % self.port

    def sql(self, query):
        """Rows of query as lists of strings, over the server's Unix
        socket (trust), as the wxgate role."""
        p = subprocess.run([_psql(), "-h", self.dir, "-p", str(self.port),
                            "-U", "wxgate", "-d", "wxgate", "-XAtq",
                            "-F", "\t", "-c", query],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return [ln.split("\t") for ln in p.stdout.splitlines() if ln]

    def stop(self):
        subprocess.run(["sh", PGSERVER, "stop", self.dir],
                       capture_output=True, timeout=60)

    def start_again(self):
        subprocess.run(["sh", PGSERVER, "restart", self.dir], check=True,
                       capture_output=True, timeout=60)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pg():
    s = PgServer()
    yield s
    s.close()
