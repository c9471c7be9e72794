#!/usr/bin/python3
"""Policy requests per second and their latency: moat's policy server vs postgrey, greylisting.

    /usr/bin/python3 bench/policy_bench.py \
        --moat build/release/moat --bench build/release/greylist_bench

Three policy servers in one invocation, one after the other, each alone
with the client on loopback:

- moat (`moat serve`, the --moat binary) with a generated main.cf
  (tests/integration/harness/moat.py's MoatServer, in a temporary
  directory): `moat_policy_listen = inet:127.0.0.1:PORT` (a free port),
  `moat_policy_restrictions = check_greylist`, `moat_state_store =
  lmdb:TMP/state.lmdb`, `moat_greylist_delay = D`,
  `moat_greylist_auto_allowlist_clients = N`, `moat_workers = W`;
- postgrey (Debian's /usr/sbin/postgrey, started by greylist_bench.py's
  postgrey(): `--delay=D --auto-whitelist-clients=N`, empty whitelists,
  its database in TMP/postgrey);
- the reference (bench/policy_reference.cc, next to the client): a
  one-thread server that greylists in a hash set in memory, no delay, no
  store, no log: what the loopback transport and the protocol cost on
  this machine, the ceiling any policy server meets with this client.

TMP is one temporary directory (under --db-dir), so both databases are on
the same file system.

The client is the C++ program bench/greylist_bench.cc with `--policy
127.0.0.1:PORT`, on one thread: one persistent connection per simulated
Postfix smtpd process, each with one request in flight (the attributes
Postfix sends at RCPT, a new triplet per request), 1, 10 and 50
connections (--concurrency). Per level, "new" (unknown triplets: the
answer must be a greylisting, DEFER_IF_PERMIT or 450) and, once D seconds
have passed, "known" (the same triplets: the answer must be the first
pass, PREPEND X-Greylist: ...); a wrong count is a problem (exit 1). The
latency of each request is taken by the client, from the write of the
request to the end of its answer.

Prints a Markdown table (requests/s, p50 and p99 latency, requests per
CPU-second of the server, the ratios moat/postgrey and moat/reference,
the reference's requests/s and p99) and the aims (at the
highest concurrency: moat ≥ 50x postgrey's requests/s, moat's p99 < 1 ms),
and appends it to bench/RESULTS.md with the date and the command
(`--no-record` skips that). Needs root (postgrey runs as its own user) and
the postgrey package. Bounded: about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from driver import RELEASE, add_common_arguments, heading, machine, programs_missing, publish
from greylist_bench import (
    POSTGREY,
    add_workload_arguments,
    filesystem_of,
    outcomes,
    per_cpu,
    phase_of,
    postgrey,
    postgrey_version,
    rate,
    ratio,
    run_bench,
    take_result,
)
from harness.moat import MoatServer  # noqa: E402
from harness.postfix import free_port  # noqa: E402

AIM_RATIO = 50  # moat's requests/s over postgrey's, at the highest concurrency
AIM_P99_US = 1000  # moat's p99 latency, at the highest concurrency

def wait_policy_listening(moat: MoatServer, port: int, timeout: float = 10.0) -> None:
    """Until moat says its policy server listens on `port` (after its SMTP
    listener, which MoatServer waits for)."""
    line = re.compile(rf"^moat: policy server listening on inet:127\.0\.0\.1:{port}\s*$", re.M)
    deadline = time.monotonic() + timeout
    while not line.search(moat.stderr()):
        if not moat.running() or time.monotonic() > deadline:
            raise RuntimeError(f"moat's policy server did not start:\n{moat.stderr()}")
        time.sleep(0.02)


def workers_of(args) -> int:
    """The event loops moat runs: moat_workers, 0 meaning one per CPU."""
    return args.workers or os.cpu_count() or 1


def run(args) -> int:
    if os.geteuid() != 0:
        print("policy_bench: needs root (postgrey runs as its own user)", file=sys.stderr)
        return 2
    if not os.access(POSTGREY, os.X_OK):
        print("policy_bench: postgrey is not installed", file=sys.stderr)
        return 2
    results: dict[str, dict] = {}
    problems = ""
    args.load = os.getloadavg()[0]
    work = tempfile.mkdtemp(prefix="moat-policy-bench-", dir=args.db_dir)
    os.chmod(work, 0o755)
    args.fs = filesystem_of(work)
    try:
        for target in ("moat", "postgrey", "reference"):
            if target == "moat":
                port = free_port()
                with MoatServer(args.moat, params={
                    "moat_workers": str(args.workers),
                    "moat_policy_listen": f"inet:127.0.0.1:{port}",
                    "moat_policy_restrictions": "check_greylist",
                    "moat_state_store": f"lmdb:{os.path.join(work, 'state.lmdb')}",
                    "moat_greylist_delay": f"{args.delay}s",
                    "moat_greylist_auto_allowlist_clients": str(args.auto_allowlist),
                }) as moat:
                    wait_policy_listening(moat, port)
                    result, rc, text = run_bench(
                        args, ["--policy", f"127.0.0.1:{port}", "--name", "moat"], [moat.pid],
                        os.devnull)
            elif target == "reference":
                port = free_port()
                with subprocess.Popen([args.reference, str(port)], stdout=subprocess.PIPE,
                                      text=True) as ref:
                    try:
                        ref.stdout.readline()  # "listening"
                        result, rc, text = run_bench(
                            args, ["--policy", f"127.0.0.1:{port}", "--name", "reference"],
                            [ref.pid], os.devnull)
                    finally:
                        ref.kill()
            else:
                with postgrey(work, args.delay, args.auto_allowlist) as pg:
                    result, rc, text = run_bench(
                        args, ["--policy", f"127.0.0.1:{pg.port}", "--name", "postgrey"],
                        [pg.proc.pid], os.devnull)
            found = take_result("policy_bench", target, result, rc, text, results)
            if found is None:
                return 1
            problems += found
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return publish(format_report(results, args, problems), args.no_record, bool(problems))


def micros(p: dict | None, key: str) -> str:
    if not p:
        return "—"
    return f"{p[key]:,.0f}" if p[key] >= 100 else f"{p[key]:.1f}"


def format_report(results: dict, args, problems: str) -> str:
    levels = [int(x) for x in args.concurrency.split(",")]
    workers = workers_of(args)
    lines = heading("policy requests, moat's policy server vs postgrey (policy_bench)") + [
        f"{machine(' shared by the client and the server')}, load average {args.load:.2f} at the start (other jobs share the "
        f"machine). Client: `greylist_bench --policy` (one thread), one persistent connection "
        f"per simulated smtpd process, one request in flight on each, the attributes Postfix "
        f"sends at RCPT, a new triplet per request; latency per request as the client sees it "
        f"(write of the request to the end of the answer). moat: `moat serve`, "
        f"`moat_workers = {args.workers}` ({workers} event loop{'s' if workers != 1 else ''}"
        f"{', one per CPU' if args.workers == 0 else ''}, plus LMDB's writer thread), "
        f"`moat_policy_restrictions = check_greylist`, `moat_state_store = lmdb:TMP/state.lmdb`, "
        f"`moat_greylist_delay = {args.delay}s`, "
        f"`moat_greylist_auto_allowlist_clients = {args.auto_allowlist}`; decisions logged to "
        f"a file. postgrey {postgrey_version()} (one process; `--delay={args.delay} "
        f"--auto-whitelist-clients={args.auto_allowlist}`, empty whitelists, BerkeleyDB in "
        f"TMP/postgrey, logging to a file). TMP under {args.db_dir or tempfile.gettempdir()} "
        f"({args.fs}). The servers run one after the other, each alone with the client. new = "
        f"unknown triplets (each written, greylisted); known = the same triplets after the "
        f"delay (each passes, first pass). At most {args.count} requests or "
        f"{args.time_limit:g} s per phase.",
        "",
        "| phase | connections | moat req/s | moat p50 µs | moat p99 µs | moat req/its-CPU-s "
        "| postgrey req/s | postgrey p50 µs | postgrey p99 µs | postgrey req/its-CPU-s "
        "| moat/postgrey req/s | reference req/s | reference p99 µs | moat/reference req/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in ("new", "known"):
        for level in levels:
            m = phase_of(results, "moat", kind, level)
            pg = phase_of(results, "postgrey", kind, level)
            ref = phase_of(results, "reference", kind, level)
            lines.append(
                f"| {kind} | {level} | {rate(m)} | {micros(m, 'p50_us')} | "
                f"{micros(m, 'p99_us')} | {per_cpu(m, 'peer_cpu')} | {rate(pg)} | "
                f"{micros(pg, 'p50_us')} | {micros(pg, 'p99_us')} | {per_cpu(pg, 'peer_cpu')} | "
                f"{ratio(m, pg)} | {rate(ref)} | {micros(ref, 'p99_us')} | {ratio(m, ref)} |")
    lines.append("")
    top = max(levels)
    pairs = [(phase_of(results, "moat", kind, top), phase_of(results, "postgrey", kind, top))
             for kind in ("new", "known")]
    if all(m and pg and pg["rate"] for m, pg in pairs):
        lowest = min(m["rate"] / pg["rate"] for m, pg in pairs)
        lines.append(f"Aim: moat ≥ {AIM_RATIO}× postgrey's requests/s at {top} connections "
                     f"(new and known): {'met' if lowest >= AIM_RATIO else 'not met'} "
                     f"(lowest {lowest:,.1f}×).")
    if all(m for m, _ in pairs):
        highest = max(m["p99_us"] for m, _ in pairs)
        lines.append(f"Aim: moat's p99 < {AIM_P99_US / 1000:g} ms at {top} connections (new and "
                     f"known): {'met' if highest < AIM_P99_US else 'not met'} "
                     f"(highest {highest:,.0f} µs).")
    refs = [phase_of(results, "reference", kind, top) for kind in ("new", "known")]
    pgs = [pg for _, pg in pairs]
    if all(refs) and all(pg and pg["rate"] for pg in pgs):
        lines.append(f"The reference on this machine, at {top} connections: "
                     f"{min(r['rate'] for r in refs):,.0f}-{max(r['rate'] for r in refs):,.0f} "
                     f"requests/s ({min(r['rate'] / pg['rate'] for r, pg in zip(refs, pgs)):,.1f}-"
                     f"{max(r['rate'] / pg['rate'] for r, pg in zip(refs, pgs)):,.1f}× postgrey), "
                     f"p99 {min(r['p99_us'] for r in refs):,.0f}-"
                     f"{max(r['p99_us'] for r in refs):,.0f} µs.")
    return "\n".join(lines + outcomes(results, problems)) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--moat", default=os.path.join(RELEASE, "moat"),
                   help="the moat binary, a release build (default: build/release/moat)")
    p.add_argument("--bench", default=os.path.join(RELEASE, "greylist_bench"),
                   help="the C++ client (default: build/release/greylist_bench)")
    p.add_argument("--reference", default=None,
                   help="the reference server (default: policy_reference next to --bench)")
    p.add_argument("--workers", type=int, default=0,
                   help="moat_workers, moat's event loops (default 0: one per CPU)")
    add_workload_arguments(p, "connections, one request in flight on each", "requests")
    add_common_arguments(p)
    args = p.parse_args()
    args.moat = os.path.abspath(args.moat)
    args.bench = os.path.abspath(args.bench)
    args.reference = os.path.abspath(
        args.reference or os.path.join(os.path.dirname(args.bench), "policy_reference"))
    if programs_missing("policy_bench", [args.moat, args.bench, args.reference]):
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
