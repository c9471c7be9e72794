#!/usr/bin/python3
"""SMTP throughput of moat against the real Postfix and smtp-sink, in one run.

    /usr/bin/python3 bench/smtp_bench.py --moat build/release/moat

Three servers on loopback, each driven by Postfix's smtp-source at 1, 20 and
100 concurrent sessions (one message per connection, 1 KiB payload, one
recipient):

- moat: Maildir delivery of user@example.test (virtual_mailbox_maps). moat
  writes and fsyncs the message file and its directory before it answers 250,
  so the Maildir count is final when smtp-source finishes.
- Postfix 3.7: the same recipient delivered by virtual(8) into a Maildir.
  cleanup(8) fsyncs the queue file before smtpd answers 250, virtual(8)
  fsyncs the Maildir file when it delivers; the clock runs until every
  message is in the Maildir (both rates are printed).
- smtp-sink: accepts and discards, no disk: the ceiling of the protocol
  exchange with this client on this machine.

Machines are noisy: read the ratios, not the absolute numbers. Each level
runs moat, Postfix and the sink back to back. Results are printed and
appended to bench/RESULTS.md with the date and the exact command. At the end
bench/idle_sessions.py measures moat's memory with many idle sessions.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from driver import RELEASE, add_common_arguments, heading, machine, programs_missing, publish
from harness import MoatServer, PostfixServer, postfix_available  # noqa: E402
from harness.postfix import free_port  # noqa: E402

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
RCPT = "user@example.test"
SENDER = "sender@client.example.org"
CLIENT_NAME = "client.example.org"
# Both servers exempt loopback from Postfix's per-client limits (50 sessions).
COMMON = {"smtpd_client_event_limit_exceptions": "127.0.0.0/8"}


class Sink:
    """smtp-sink on an ephemeral port; discards everything."""

    def __init__(self):
        self.port = free_port()
        self.proc = None

    def __enter__(self):
        cmd = [SMTP_SINK, "-u", "nobody", f"127.0.0.1:{self.port}", "1024"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"smtp-sink exited: {self.proc.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.recv(100)
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not listen")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def smtp_source(port: int, sessions: int, messages: int, size: int, time_limit: float):
    """Runs smtp-source; returns (seconds, error or None)."""
    cmd = [SMTP_SOURCE, "-c", "-s", str(sessions), "-m", str(messages), "-l", str(size),
           "-M", CLIENT_NAME, "-f", SENDER, "-t", RCPT, f"127.0.0.1:{port}"]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=time_limit)
    except subprocess.TimeoutExpired:
        return time.monotonic() - start, f"smtp-source did not finish within {time_limit}s"
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        tail = (proc.stdout[-200:] + proc.stderr[-800:]).decode(errors="replace")
        return elapsed, f"smtp-source exited {proc.returncode}: {tail.strip()}"
    return elapsed, None


def wait_count(server, target: int, deadline: float) -> int:
    n = server.maildir_count(RCPT)
    while n < target and time.monotonic() < deadline:
        time.sleep(0.01)
        n = server.maildir_count(RCPT)
    return n


def rate(messages: int, seconds: float | None) -> float | None:
    return messages / seconds if seconds else None


def fmt(x, spec=".0f", none="-"):
    return none if x is None else format(x, spec)


def messages_for(sessions: int, args) -> int:
    return args.messages_single if sessions == 1 else args.messages


def run(args) -> int:
    why = postfix_available()
    if why:
        print(f"smtp_bench: {why}", file=sys.stderr)
        return 2
    for tool in (SMTP_SOURCE, SMTP_SINK):
        if not os.access(tool, os.X_OK):
            print(f"smtp_bench: {tool} missing (apt-get install postfix)", file=sys.stderr)
            return 2
    levels = [int(x) for x in args.sessions.split(",")]
    workers = args.workers or os.cpu_count() or 1
    moat_params = {**COMMON, "moat_workers": str(workers), "smtpd_timeout": "60s",
                   **dict(p.split("=", 1) for p in args.moat_param)}
    rows = []
    problems = []
    peak_kb = None

    with MoatServer(args.moat, params=moat_params, virtual_users=[RCPT]) as moat, \
            PostfixServer(params=COMMON, virtual_users=[RCPT]) as postfix, Sink() as sink:
        print(f"moat {args.moat} pid {moat.pid} on :{moat.port} ({workers} workers); "
              f"postfix on :{postfix.port}; smtp-sink on :{sink.port}", file=sys.stderr)
        for sessions in levels:
            n = messages_for(sessions, args)
            row = {"sessions": sessions, "messages": n}

            before = moat.maildir_count(RCPT)
            secs, err = smtp_source(moat.port, sessions, n, args.size, args.time_limit)
            got = moat.maildir_count(RCPT) - before
            if err:
                problems.append(f"moat, {sessions} sessions: {err}")
            elif got != n:
                # moat delivers before its 250: anything missing now is lost or late
                late = wait_count(moat, before + n, time.monotonic() + 5) - before
                problems.append(f"moat, {sessions} sessions: {got} of {n} messages in the Maildir "
                                f"when smtp-source finished ({late} after 5 s more)")
            row["moat"] = None if err or got != n else rate(n, secs)

            before = postfix.maildir_count(RCPT)
            start = time.monotonic()
            secs, err = smtp_source(postfix.port, sessions, n, args.size, args.time_limit)
            if err:
                problems.append(f"postfix, {sessions} sessions: {err}")
                row["postfix"] = row["postfix_accept"] = None
            else:
                got = wait_count(postfix, before + n, start + args.time_limit) - before
                delivered = time.monotonic() - start
                if got != n:
                    problems.append(f"postfix, {sessions} sessions: only {got} of {n} delivered "
                                    f"within {args.time_limit}s")
                row["postfix_accept"] = rate(n, secs)
                row["postfix"] = rate(n, delivered) if got == n else None

            secs, err = smtp_source(sink.port, sessions, n, args.size, args.time_limit)
            if err:
                problems.append(f"smtp-sink, {sessions} sessions: {err}")
            row["sink"] = None if err else rate(n, secs)
            rows.append(row)
            print(f"  {sessions:>4} sessions: moat {fmt(row['moat'])}  postfix {fmt(row['postfix'])} "
                  f"(accept {fmt(row['postfix_accept'])})  sink {fmt(row['sink'])} msg/s",
                  file=sys.stderr)
        peak_kb = moat.proc_status("VmHWM")

    idle = None
    if args.idle > 0:
        import idle_sessions
        try:
            idle = idle_sessions.measure_fresh_moat(args.moat, args.idle, timeout=args.time_limit)
        except Exception as e:  # the throughput table is still worth recording
            problems.append(f"idle sessions: {e}")
        if idle and idle["still_open"] != idle["opened"]:
            problems.append(f"idle sessions: moat closed {idle['opened'] - idle['still_open']} "
                            f"of them before the measurement")
        if idle and idle["failures"]:
            problems.append("idle sessions: " + ", ".join(f"{k}: {v}" for k, v in
                                                          idle["failures"].items()))

    return publish(format_report(rows, peak_kb, idle, problems, args, workers), args.no_record,
                   bool(problems))


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def format_report(rows, peak_kb, idle, problems, args, workers) -> str:
    out = heading("SMTP messages, moat vs Postfix (smtp_bench)") + [
        f"{machine()}; "
        f"moat_workers = {workers}; {args.size}-byte messages, one per connection, one recipient; "
        f"{args.messages_single} messages at 1 session, {args.messages} otherwise.",
        "",
        "| sessions | moat msg/s | postfix msg/s (to Maildir) | postfix accept msg/s | "
        "sink msg/s | moat/postfix | moat/sink |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    durability = ("moat: file data made durable by a syncfs() shared by the deliveries in flight, "
                  "then the rename by a shared fsync of new/, before 250 (moat_delivery_sync = "
                  "syncfs); Postfix: fsync of the queue file before 250, fsync of the Maildir "
                  "file by virtual(8); smtp-sink: no disk")
    for r in rows:
        out.append(f"| {r['sessions']} | {fmt(r['moat'])} | {fmt(r['postfix'])} | "
                   f"{fmt(r['postfix_accept'])} | {fmt(r['sink'])} | "
                   f"{ratio(r['moat'], r['postfix'])} | {ratio(r['moat'], r['sink'])} |")
    out.append("")
    out.append(durability + ".")
    out.append("")
    out.append(f"moat peak RSS (VmHWM) after the throughput runs: "
               f"{fmt(peak_kb / 1024 if peak_kb else None, '.1f')} MiB")
    if idle:
        out.append(
            f"moat with {idle['opened']} idle sessions (of {idle['wanted']}): VmRSS "
            f"{idle['rss_before_kb'] / 1024:.1f} MiB before, {idle['rss_with_kb'] / 1024:.1f} MiB with "
            f"them open ({idle['per_session_bytes'] / 1024:.1f} KiB per session); "
            f"opened in {idle['open_seconds']:.1f} s")
    if problems:
        out.append("")
        out.append("Problems:")
        out.extend(f"- {p}" for p in problems)
    out.append("")
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--moat", default=os.path.join(RELEASE, "moat"),
                   help="the moat binary (default: build/release/moat)")
    p.add_argument("--sessions", default="1,20,100", help="concurrency levels (default 1,20,100)")
    p.add_argument("--messages", type=int, default=2000, help="messages per run (default 2000)")
    p.add_argument("--messages-single", type=int, default=500,
                   help="messages at 1 session (default 500)")
    p.add_argument("--size", type=int, default=1024, help="payload bytes (smtp-source -l)")
    p.add_argument("--time-limit", type=float, default=300, help="seconds per run (default 300)")
    p.add_argument("--workers", type=int, default=0, help="moat_workers (default: CPU count)")
    p.add_argument("--moat-param", action="append", default=[], metavar="NAME=VALUE",
                   help="extra main.cf parameter for moat (repeatable)")
    p.add_argument("--idle", type=int, default=10000,
                   help="idle sessions for the memory test; 0 skips it (default 10000)")
    add_common_arguments(p, prefix=False)
    args = p.parse_args()
    args.moat = os.path.abspath(args.moat)
    if programs_missing("smtp_bench", [args.moat]):
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
