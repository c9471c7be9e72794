"""What a test server leaves on disk, read the same way for moat and Postfix:
its maillog and the Maildirs under its directory (`.dir`)."""

from __future__ import annotations

import os
import re
import time
from typing import Iterable


def maildir_files(maildir: str) -> list[str]:
    """Paths of the messages in a Maildir's new/ and cur/, oldest name first."""
    paths = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        if os.path.isdir(d):
            paths.extend(os.path.join(d, name) for name in sorted(os.listdir(d)))
    return paths


def read_all(paths: Iterable[str]) -> list[bytes]:
    out = []
    for path in paths:
        with open(path, "rb") as f:
            out.append(f.read())
    return out


class ServerFiles:
    """Mixin: needs `self.dir`; may override `died()` to stop waits early."""

    dir: str | None

    def died(self) -> str | None:
        """Why waiting for the log is pointless (the server exited), or None."""
        return None

    def log(self) -> str:
        """The whole maillog text."""
        if not self.dir:
            return ""
        try:
            with open(os.path.join(self.dir, "maillog"), "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for_log(self, regex: str, timeout: float = 10.0) -> re.Match:
        """The first match of `regex` (re.M) in the maillog, waiting for it."""
        pattern = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.log())
            if m:
                return m
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no log line matching {regex!r} within {timeout}s:\n{self.log()}")
            why = self.died()
            if why:
                raise AssertionError(f"{why} while waiting for {regex!r}")
            time.sleep(0.02)

    def maildir_path(self, user: str) -> str:
        """Maildir of `user`: "u@example.test" is virtual (vmail/u/), "u" local (mail/u/)."""
        if "@" in user:
            return os.path.join(self.dir, "vmail", user.split("@", 1)[0])
        return os.path.join(self.dir, "mail", user)

    def maildir_messages(self, user: str) -> list[bytes]:
        return read_all(maildir_files(self.maildir_path(user)))

    def maildir_count(self, user: str) -> int:
        return len(maildir_files(self.maildir_path(user)))
