"""Raw-socket SMTP client helpers for tests.

smtplib hides what the tests are about (it re-sends EHLO, rewrites lines,
refuses bad syntax), so these helpers put bytes on the wire exactly as given
and parse replies exactly as received.

    with RawClient("127.0.0.1", port) as c:
        c.expect(220)
        code, lines = c.command("EHLO client.test")

    replies = dialogue("127.0.0.1", port, [
        "EHLO client.test",
        "MAIL FROM:<a@example.test>",
        "RCPT TO:<b@example.test>",
        "DATA",
        Data("Subject: hi\n\nbody\n"),     # dot-stuffed, CRLF, "." appended
        Send(b"NOOP\r\nNOOP\r\n", replies=2),  # pipelined: one write, two replies
        "QUIT",
    ])

A Reply is a (code, lines) tuple; `lines` holds the text after "NNN-"/"NNN "
of every line. `.enhanced` is the RFC 3463 status code of the first line, if
any. CLOSED (code 0) means the server closed the connection instead of
answering, SILENT (code -1) that it sent nothing before the timeout.
"""

from __future__ import annotations

import re
import socket
import time
from typing import Iterable, NamedTuple, Sequence, Union

__all__ = ["CLOSED", "SILENT", "Data", "RawClient", "Reply", "Send", "SmtpError", "dialogue", "data_body"]

_REPLY_LINE = re.compile(rb"^([0-9]{3})([ -])(.*)$", re.S)
_ENHANCED = re.compile(r"^([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:\s|$)")

MAX_REPLY_LINES = 1000  # a server that never ends a multi-line reply is a bug
MAX_LINE = 64 * 1024


class SmtpError(Exception):
    """The server did not answer as a well-formed SMTP server would."""


class Reply(NamedTuple):
    code: int
    lines: Sequence[str]

    @property
    def enhanced(self) -> str | None:
        """The enhanced status code ("5.1.1") of the first line, or None."""
        if not self.lines:
            return None
        m = _ENHANCED.match(self.lines[0])
        return m.group(1) if m else None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def closed(self) -> bool:
        """True for CLOSED and SILENT: the server gave no reply."""
        return self.code <= 0

    def __str__(self) -> str:
        if self.code <= 0:
            return self.lines[0]
        return "\n".join(
            f"{self.code}{'-' if i + 1 < len(self.lines) else ' '}{line}"
            for i, line in enumerate(self.lines)
        )


CLOSED = Reply(0, ("(connection closed)",))
SILENT = Reply(-1, ("(no reply before the timeout)",))


class Send(NamedTuple):
    """Raw bytes to write in one send(), followed by `replies` replies to read.
    `labels` optionally names what each reply answers (for reports)."""

    data: bytes
    replies: int = 1
    labels: tuple = ()


class Data(NamedTuple):
    """A message body for after a 354: LF made CRLF, dot-stuffed, "." appended.

    With raw=True the bytes go out untouched (nothing appended either): use it
    for bare-LF and other malformed-input scenarios.
    """

    body: Union[str, bytes]
    raw: bool = False


Step = Union[str, bytes, Send, Data]


def data_body(body: Union[str, bytes]) -> bytes:
    """The on-the-wire form of a DATA payload, terminator included."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    lines = body.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = bytearray()
    for line in lines:
        if line.startswith(b"."):
            out += b"."
        out += line + b"\r\n"
    out += b".\r\n"
    return bytes(out)


class RawClient:
    """One SMTP connection; bytes in, parsed replies out. Every read is bounded."""

    def __init__(self, host: str, port: int, timeout: float = 10.0, source: str | None = None):
        self.host = host
        self.port = port
        self.timeout = timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            if source is not None:
                self.sock.bind((source, 0))
            self.sock.connect((host, port))
        except Exception:
            self.sock.close()
            raise
        self._buf = bytearray()
        self._eof = False

    # -- context manager ---------------------------------------------------
    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- writing -----------------------------------------------------------
    def send(self, data: Union[bytes, str]) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def send_line(self, line: Union[bytes, str]) -> None:
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")

    # -- reading -----------------------------------------------------------
    def _read_line(self, deadline: float) -> bytes | None:
        """One line without its line ending, or None on EOF."""
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[: nl + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self._buf) > MAX_LINE:
                raise SmtpError(f"reply line longer than {MAX_LINE} bytes")
            if self._eof:
                if self._buf:
                    line = bytes(self._buf)
                    self._buf.clear()
                    return line
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("timed out waiting for a reply")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self._eof = True
            else:
                self._buf += chunk

    def read_reply(self, timeout: float | None = None) -> Reply:
        """The next (possibly multi-line) reply. Raises SmtpError on EOF,
        socket.timeout when the server stays silent."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        lines: list[str] = []
        code = None
        for _ in range(MAX_REPLY_LINES):
            raw = self._read_line(deadline)
            if raw is None:
                if lines:
                    raise SmtpError(f"connection closed inside a multi-line reply: {lines!r}")
                raise SmtpError("connection closed")
            m = _REPLY_LINE.match(raw)
            if not m and len(raw) == 3 and raw.isdigit():
                m = _REPLY_LINE.match(raw + b" ")
            if not m:
                raise SmtpError(f"malformed reply line: {raw!r}")
            this_code = int(m.group(1))
            if code is not None and this_code != code:
                raise SmtpError(f"reply code changed inside a multi-line reply: {raw!r}")
            code = this_code
            lines.append(m.group(3).decode("utf-8", "replace"))
            if m.group(2) == b" ":
                return Reply(code, tuple(lines))
        raise SmtpError(f"reply longer than {MAX_REPLY_LINES} lines")

    def read_reply_or_closed(self, timeout: float | None = None) -> Reply:
        """Like read_reply, but returns CLOSED on EOF, SILENT on a timeout."""
        try:
            return self.read_reply(timeout)
        except socket.timeout:
            return SILENT
        except SmtpError as e:
            if str(e) != "connection closed":
                raise
            return CLOSED
        except OSError:
            return CLOSED

    def expect(self, code: Union[int, Iterable[int]], timeout: float | None = None) -> Reply:
        reply = self.read_reply(timeout)
        codes = {code} if isinstance(code, int) else set(code)
        if reply.code not in codes:
            raise SmtpError(f"expected {sorted(codes)}, got:\n{reply}")
        return reply

    def command(self, line: Union[str, bytes], timeout: float | None = None) -> Reply:
        self.send_line(line)
        return self.read_reply(timeout)

    def is_closed(self, timeout: float = 2.0) -> bool:
        """True when the server closes the connection within `timeout` without
        sending anything more (leftover bytes make it False)."""
        if self._buf:
            return False
        if self._eof:
            return True
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            chunk = b""
        if chunk:
            self._buf += chunk
            return False
        self._eof = True
        return True


def dialogue(
    host: str,
    port: int,
    steps: Iterable[Step],
    timeout: float = 10.0,
    source: str | None = None,
) -> list[Reply]:
    """Connect, read the banner, run every step; return the replies in order.

    The first element is the banner. A str or bytes step is one command line
    (CRLF appended) with one reply; Send and Data are described above. Once the
    server has closed the connection, every later expected reply is CLOSED
    (nothing more is sent). The connection is closed at the end; a QUIT is
    not added.
    """
    replies: list[Reply] = []
    with RawClient(host, port, timeout=timeout, source=source) as client:
        replies.append(client.read_reply_or_closed())
        closed = replies[0].closed
        for step in steps:
            if isinstance(step, Send):
                payload, count = step.data, step.replies
            elif isinstance(step, Data):
                payload = step.body if step.raw else data_body(step.body)
                if isinstance(payload, str):
                    payload = payload.encode("utf-8")
                count = 1
            else:
                payload = (step.encode("utf-8") if isinstance(step, str) else step) + b"\r\n"
                count = 1
            if not closed:
                try:
                    client.send(payload)
                except OSError:
                    closed = True
            for _ in range(count):
                reply = CLOSED if closed else client.read_reply_or_closed()
                closed = closed or reply.closed
                replies.append(reply)
    return replies
