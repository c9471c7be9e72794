"""The real postgrey (Debian package) on a free loopback port, in the
foreground, with its database in a temporary directory: a policy server for
tests of check_policy_service and a reference for moat's own greylisting.

    with PostgreyServer(delay=2) as p:
        MoatServer(params={"smtpd_recipient_restrictions":
                           f"reject_unauth_destination, check_policy_service {p.endpoint}"})
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time

from .postfix import free_port

__all__ = ["PostgreyServer", "postgrey_available"]

POSTGREY = "/usr/sbin/postgrey"


def postgrey_available() -> str | None:
    if not os.access(POSTGREY, os.X_OK):
        return "postgrey is not installed (apt-get install postgrey)"
    return None


class PostgreyServer:
    def __init__(self, delay: int = 300, extra: list[str] | None = None,
                 start_timeout: float = 15.0, parent: str | None = None):
        """`parent`: where its temporary directory goes (the system's
        temporary directory by default)."""
        self.delay = delay
        self.extra = list(extra or [])
        self.start_timeout = start_timeout
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="moat-postgrey-", dir=parent)
        self.proc: subprocess.Popen | None = None
        atexit.register(self._atexit)

    @property
    def endpoint(self) -> str:
        return f"inet:127.0.0.1:{self.port}"

    def __enter__(self) -> "PostgreyServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self) -> "PostgreyServer":
        # postgrey drops privileges to --user; root's own account keeps the
        # temporary directory writable.
        args = [POSTGREY, f"--inet=127.0.0.1:{self.port}", f"--dbdir={self.dir}",
                f"--delay={self.delay}", "--user=root", "--group=root",
                f"--pidfile={self.dir}/pid", "--hostname=postgrey.test", *self.extra]
        self.log_file = open(os.path.join(self.dir, "postgrey.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgrey did not start:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _atexit(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "postgrey.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""
