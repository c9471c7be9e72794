#!/usr/bin/python3
"""Memory of moat with many idle SMTP sessions.

    /usr/bin/python3 bench/idle_sessions.py --moat build/release/moat [-n 10000]
    /usr/bin/python3 bench/idle_sessions.py --port PORT --pid PID [-n 10000]

Opens N concurrent connections (source addresses spread over
127.0.0.2-127.0.0.250, bound before connect), reads each banner, and reports
moat's VmRSS before, with all sessions open, and after closing them. One
thread and a selector; at most --in-flight connections wait for their banner
at a time, so the listen backlog does not overflow. With --moat it starts its
own moat (smtpd_timeout = 3600s, no per-client limits for loopback) and
stops it afterwards; smtp_bench.py calls measure_fresh_moat().
"""

from __future__ import annotations

import argparse
import errno
import os
import resource
import selectors
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))

from harness.moat import MoatServer, proc_status_kb  # noqa: E402

SOURCES = [f"127.0.0.{i}" for i in range(2, 251)]
IDLE_PARAMS = {
    "smtpd_timeout": "3600s",
    # Postfix's names for per-client limits; loopback is exempt from them.
    "smtpd_client_connection_count_limit": "0",
    "smtpd_client_event_limit_exceptions": "127.0.0.0/8",
}


def raise_nofile(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard
    if hard == resource.RLIM_INFINITY:  # the kernel caps it at fs.nr_open anyway
        target = max(wanted, soft)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        print(f"idle_sessions: RLIMIT_NOFILE is {soft}; fewer than {wanted} sessions possible",
              file=sys.stderr)
    return soft


def open_idle(host: str, port: int, n: int, timeout: float, in_flight: int = 256):
    """Opens up to n sessions that have each received a 220 banner.
    Returns (open sockets, failure messages)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sel = selectors.DefaultSelector()
    established: list[socket.socket] = []
    failures: dict[str, int] = {}
    pending = 0
    started = 0
    deadline = time.monotonic() + timeout

    def fail(reason: str, sock: socket.socket) -> None:
        failures[reason] = failures.get(reason, 0) + 1
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    try:
        while (started < n or pending) and time.monotonic() < deadline:
            while started < n and pending < in_flight:
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setblocking(False)
                if family == socket.AF_INET:
                    try:
                        sock.bind((SOURCES[started % len(SOURCES)], 0))
                    except OSError:
                        pass  # the default source address still works
                err = sock.connect_ex((host, port))
                started += 1
                if err not in (0, errno.EINPROGRESS):
                    fail(f"connect: {os.strerror(err)}", sock)
                    continue
                sel.register(sock, selectors.EVENT_READ, bytearray())
                pending += 1
            for key, _ in sel.select(timeout=0.5):
                sock, buf = key.fileobj, key.data
                try:
                    chunk = sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError as e:
                    pending -= 1
                    fail(f"recv: {e.strerror}", sock)
                    continue
                if not chunk:
                    pending -= 1
                    fail("closed before the banner", sock)
                    continue
                buf += chunk
                if b"\n" not in buf:
                    continue
                pending -= 1
                sel.unregister(sock)
                if buf.startswith(b"220 ") or buf.startswith(b"220-"):
                    established.append(sock)
                else:
                    fail(f"banner {bytes(buf[:40])!r}", sock)
        for key in list(sel.get_map().values()):
            fail("no banner before the timeout", key.fileobj)
        if started < n:
            failures["not attempted (timeout)"] = n - started
    finally:
        sel.close()
    return established, failures


def still_open(socks: list[socket.socket]) -> int:
    """How many of the sockets the server has not closed (nothing readable)."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    readable = len(sel.select(timeout=0.2))
    sel.close()
    return len(socks) - readable


def measure(host: str, port: int, pid: int, n: int, timeout: float = 300.0) -> dict:
    raise_nofile(n + 256)
    time.sleep(0.5)
    rss_before = proc_status_kb(pid, "VmRSS")
    start = time.monotonic()
    socks, failures = open_idle(host, port, n, timeout)
    open_seconds = time.monotonic() - start
    time.sleep(1.0)  # let moat settle (allocations after the banner)
    rss_with = proc_status_kb(pid, "VmRSS")
    alive = still_open(socks)
    for s in socks:
        s.close()
    time.sleep(2.0)
    rss_after = proc_status_kb(pid, "VmRSS")
    opened = len(socks)
    return {
        "wanted": n,
        "opened": opened,
        "still_open": alive,
        "failures": failures,
        "open_seconds": open_seconds,
        "rss_before_kb": rss_before,
        "rss_with_kb": rss_with,
        "rss_after_kb": rss_after,
        "per_session_bytes": (rss_with - rss_before) * 1024 / opened if opened else 0,
    }


def measure_fresh_moat(binary: str, n: int, timeout: float = 300.0, workers: int | None = None) -> dict:
    params = {**IDLE_PARAMS, "moat_workers": str(workers or os.cpu_count() or 1)}
    soft = raise_nofile(n + 256)
    with MoatServer(binary, params=params, nofile=max(soft, n + 256)) as moat:
        result = measure(moat.host, moat.port, moat.pid, n, timeout)
        result["moat_stderr_tail"] = moat.stderr()[-500:]
    return result


def describe(r: dict) -> str:
    lines = [
        f"sessions: {r['opened']} of {r['wanted']} opened in {r['open_seconds']:.1f} s, "
        f"{r['still_open']} still open at the measurement",
        f"moat VmRSS: {r['rss_before_kb'] / 1024:.1f} MiB before, "
        f"{r['rss_with_kb'] / 1024:.1f} MiB with the sessions open, "
        f"{r['rss_after_kb'] / 1024:.1f} MiB 2 s after closing them",
        f"per session: {r['per_session_bytes'] / 1024:.1f} KiB",
    ]
    if r["failures"]:
        lines.append("failures: " + ", ".join(f"{k}: {v}" for k, v in r["failures"].items()))
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description="moat's memory with many idle SMTP sessions")
    p.add_argument("--moat", help="start this moat binary for the test")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="a running moat's port (with --pid)")
    p.add_argument("--pid", type=int, help="a running moat's pid (with --port)")
    p.add_argument("-n", "--sessions", type=int, default=10000)
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args()
    if args.moat:
        result = measure_fresh_moat(os.path.abspath(args.moat), args.sessions, args.timeout)
    elif args.port and args.pid:
        result = measure(args.host, args.port, args.pid, args.sessions, args.timeout)
    else:
        p.error("give --moat PATH, or --port and --pid of a running moat")
    print(describe(result))
    return 0 if result["opened"] == result["wanted"] else 1


if __name__ == "__main__":
    sys.exit(main())
