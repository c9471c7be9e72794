"""What Postfix's spawn(8) does for policyd-spf: a loopback listener that runs
a command for each connection, the socket as its stdin and stdout.

    with SpawnServer(["/usr/bin/policyd-spf", conf]) as s:
        ... check_policy_service {s.endpoint} ...
"""

from __future__ import annotations

import socket
import subprocess
import threading

__all__ = ["SpawnServer"]


class SpawnServer:
    def __init__(self, command: list[str]):
        self.command = command
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.children: list[subprocess.Popen] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"inet:127.0.0.1:{self.port}"

    def __enter__(self) -> "SpawnServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.children.append(subprocess.Popen(self.command, stdin=conn.fileno(),
                                                      stdout=conn.fileno(),
                                                      stderr=subprocess.DEVNULL))
