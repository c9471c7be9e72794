"""A real redis-server on a free loopback port, for tests of the shared state
store (moat_state_store = redis:...).

    with RedisServer() as r:
        MoatServer(params={"moat_state_store": r.spec})
        r.stop(); r.start()          # the same port again: an outage and a return
        r.command("GET", "grey:...")  # one command, its reply decoded

No persistence (--save '', --appendonly no), its own directory, bound to
127.0.0.1 only; stopped (SIGTERM, then SIGKILL) when the test ends or the
interpreter exits.
"""

from __future__ import annotations

import os
import socket

from .child_server import ChildServer

__all__ = ["RedisServer", "redis_available"]

REDIS_SERVER = "/usr/bin/redis-server"


def redis_available() -> str | None:
    """None when redis-server can be started here, else why not."""
    if not os.access(REDIS_SERVER, os.X_OK):
        return "redis-server is not installed (apt-get install redis-server)"
    return None


class RedisServer(ChildServer):
    name = "redis"

    def __init__(self, password: str | None = None, start_timeout: float = 10.0):
        self.password = password
        super().__init__(start_timeout)

    @property
    def spec(self) -> str:
        """The moat_state_store value for this server."""
        return f"redis:127.0.0.1:{self.port}"

    def command_line(self) -> list[str]:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
                "--logfile", self.log_path]
        if self.password:
            args += ["--requirepass", self.password]
        return args

    def writes_own_log(self) -> bool:
        return True

    def ready(self) -> bool:
        return self.command("PING") == "PONG" or bool(self.password)

    def command(self, *words: str, timeout: float = 2.0):
        """Sends one command (with AUTH first when there is a password) and
        returns its reply: str, int, None, or a list of those."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            f = s.makefile("rb")
            if self.password:
                s.sendall(_encode(["AUTH", self.password]))
                _read(f)
            s.sendall(_encode(list(words)))
            return _read(f)


def _encode(words: list[str]) -> bytes:
    out = b"*%d\r\n" % len(words)
    for w in words:
        b = w.encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


def _read(f):
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise OSError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise OSError(f"bad reply {line!r}")
