"""The real postgrey (Debian package) on a free loopback port, in the
foreground, with its database in a temporary directory: a policy server for
tests of check_policy_service and a reference for moat's own greylisting.

    with PostgreyServer(delay=2) as p:
        MoatServer(params={"smtpd_recipient_restrictions":
                           f"reject_unauth_destination, check_policy_service {p.endpoint}"})
"""

from __future__ import annotations

import os
import socket

from .child_server import ChildServer

__all__ = ["PostgreyServer", "postgrey_available"]

POSTGREY = "/usr/sbin/postgrey"


def postgrey_available() -> str | None:
    if not os.access(POSTGREY, os.X_OK):
        return "postgrey is not installed (apt-get install postgrey)"
    return None


class PostgreyServer(ChildServer):
    name = "postgrey"

    def __init__(self, delay: int = 300, extra: list[str] | None = None,
                 start_timeout: float = 15.0, parent: str | None = None):
        self.delay = delay
        self.extra = list(extra or [])
        super().__init__(start_timeout, parent)

    @property
    def endpoint(self) -> str:
        return f"inet:127.0.0.1:{self.port}"

    def command_line(self) -> list[str]:
        # postgrey drops privileges to --user; root's own account keeps the
        # temporary directory writable.
        return [POSTGREY, f"--inet=127.0.0.1:{self.port}", f"--dbdir={self.dir}",
                f"--delay={self.delay}", "--user=root", "--group=root",
                f"--pidfile={self.dir}/pid", "--hostname=postgrey.test", *self.extra]

    def ready(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True
