"""A server the tests start as a child process on a free loopback port, in
a temporary directory of its own: started on entering, stopped (SIGTERM,
then SIGKILL) on leaving or when the interpreter exits, its directory
removed. Subclasses say how to start it and when it is ready.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import time

from .postfix import free_port


class ChildServer:
    name = "server"  # for directory names and errors

    def __init__(self, start_timeout: float = 10.0, parent: str | None = None):
        """`parent`: where its temporary directory goes (the system's
        temporary directory by default)."""
        self.start_timeout = start_timeout
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"moat-{self.name}-", dir=parent)
        self.log_path = os.path.join(self.dir, f"{self.name}.log")
        self.proc: subprocess.Popen | None = None
        atexit.register(self._atexit)

    # What subclasses give.
    def command_line(self) -> list[str]:
        raise NotImplementedError

    def writes_own_log(self) -> bool:
        """True when the server writes log_path itself (else its output goes there)."""
        return False

    def ready(self) -> bool:
        """Answers on its port; may raise OSError while it does not."""
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        if self.writes_own_log():
            self.proc = subprocess.Popen(self.command_line(), stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        else:
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(self.command_line(), stdout=log,
                                             stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                if self.ready():
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start on port {self.port}:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
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
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""
