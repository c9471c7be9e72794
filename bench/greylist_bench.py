#!/usr/bin/python3
"""Greylisting decisions per second: moat's check_greylist on LMDB and on Redis, postgrey as the reference.

    /usr/bin/python3 bench/greylist_bench.py

Runs the C++ program (bench/greylist_bench.cc) three times, on the same
workload and settings:

- moat on LMDB: `moat_state_store = lmdb:` a file in a temporary directory
  (on the same file system as postgrey's database);
- moat on Redis: a private redis-server on a free loopback port, no
  persistence (tests/integration/harness/redis.py);
- postgrey (Debian's /usr/sbin/postgrey, in the foreground:
  --inet=127.0.0.1:PORT --dbdir=TMP --delay=D --auto-whitelist-clients=N,
  empty whitelist files as moat's allowlists are empty by default),
  driven by the same program over the Postfix policy protocol: one
  persistent connection per session, one request per decision, the
  attributes Postfix sends at RCPT.

moat's side: one thread, one io_context; an Engine built from main.cf text
(smtpd_recipient_restrictions = check_greylist, moat_greylist_delay = D,
moat_greylist_auto_allowlist_clients = N); per decision a RCPT-stage
Context for a new (client, sender, recipient) triplet, Engine::check ->
pending -> DecisionSet::decide_needed(store) -> Engine::check, as a
session does. At each concurrency level (1, 10, 50 sessions in flight):
"new" (unknown triplets: each is written and greylisted) and, once D
seconds have passed, "known" (the same triplets: each passes, first pass,
X-Greylist header). The outcome counts are checked (exit 1 when wrong).

Prints a table (decisions/s, µs per decision, decisions per CPU-second,
ratios moat/postgrey, the aims met or not) and appends it to
bench/RESULTS.md with the date and the command (`--no-record` skips that).
Needs root (postgrey runs as its user), the postgrey and redis-server
packages. Bounded: about a minute.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

from driver import (RELEASE, add_common_arguments, heading, machine, programs_missing, publish,
                    run_program, version_of)
from harness.postgrey import POSTGREY, PostgreyServer  # noqa: E402
from harness.redis import RedisServer, redis_available  # noqa: E402

AIMS = {"lmdb": 50000, "redis": 20000}  # decisions/s on one core, at the highest concurrency


def postgrey(work: str, delay: int, auto_allowlist: int) -> PostgreyServer:
    """The real postgrey on a free loopback port, its database under `work`
    (the file system moat's LMDB file is on), with empty whitelists as
    moat's allowlists are empty by default."""
    empty = os.path.join(work, "empty-whitelist")
    open(empty, "w").close()
    return PostgreyServer(delay=delay, parent=work, extra=[
        f"--auto-whitelist-clients={auto_allowlist}", f"--whitelist-clients={empty}",
        f"--whitelist-recipients={empty}"])


def run_bench(args, target_args: list[str], peer_pids: list[int], maillog: str) -> tuple[dict | None, int, str]:
    command = [args.bench, *target_args, "--concurrency", args.concurrency,
               "--count", str(args.count), "--time-limit", str(args.time_limit),
               "--delay", str(args.delay), "--auto-allowlist", str(args.auto_allowlist),
               "--maillog", maillog]
    if peer_pids:
        command += ["--peer-pids", ",".join(map(str, peer_pids))]
    return run_program(command, args.prefix, args.time_limit * 8 + args.delay + 60)


def run(args) -> int:
    if os.geteuid() != 0:
        print("greylist_bench: needs root (postgrey runs as its own user)", file=sys.stderr)
        return 2
    why = redis_available()
    if why or not os.access(POSTGREY, os.X_OK):
        print(f"greylist_bench: {why or 'postgrey is not installed'}", file=sys.stderr)
        return 2
    results: dict[str, dict] = {}
    problems = ""
    args.load = os.getloadavg()[0]
    work = tempfile.mkdtemp(prefix="moat-greylist-bench-", dir=args.db_dir)
    os.chmod(work, 0o755)
    args.fs = filesystem_of(work)
    try:
        targets = [t for t in ("lmdb", "redis", "postgrey") if t in args.targets.split(",")]
        for target in targets:
            maillog = os.path.join(work, f"{target}.maillog")
            if target == "lmdb":
                result, rc, text = run_bench(
                    args, ["--store", f"lmdb:{os.path.join(work, 'lmdb', 'state.lmdb')}"], [],
                    maillog)
            elif target == "redis":
                with RedisServer() as redis:
                    result, rc, text = run_bench(args, ["--store", redis.spec], [redis.proc.pid],
                                                 maillog)
            else:
                with postgrey(work, args.delay, args.auto_allowlist) as pg:
                    result, rc, text = run_bench(
                        args, ["--policy", f"127.0.0.1:{pg.port}", "--name", "postgrey"],
                        [pg.proc.pid], maillog)
            found = take_result("greylist_bench", target, result, rc, text, results)
            if found is None:
                return 1
            problems += found
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return publish(format_report(results, args, problems), args.no_record, bool(problems))


def take_result(program: str, target: str, result: dict | None, rc: int, text: str,
                results: dict) -> str | None:
    """Prints a run's output and keeps its RESULT under `target`; the
    problems it reports, or None when it printed no RESULT line."""
    print(text)
    if result is None:
        print(f"{program}: {target}: no RESULT line (exit {rc})", file=sys.stderr)
        return None
    results[target] = result
    if rc != 0 and not result["problems"]:
        return f"{target}: exit {rc}; "
    return result["problems"]


def filesystem_of(path: str) -> str:
    """The file system type and device a path is on ("ext4 /dev/vda")."""
    best = ("", "?", "?")
    with open("/proc/self/mounts") as f:
        for line in f:
            device, mount, kind = line.split()[:3]
            if (path + "/").startswith(mount.rstrip("/") + "/") and len(mount) >= len(best[0]):
                best = (mount, kind, device)
    return f"{best[1]} {best[2]}"


def phase_of(results: dict, target: str, kind: str, level: int) -> dict | None:
    for p in results.get(target, {}).get("phases", []):
        if p["phase"] == kind and p["concurrency"] == level:
            return p
    return None


def per_cpu(p: dict | None, key: str) -> str:
    return f"{p['decisions'] / p[key]:,.0f}" if p and p[key] else "—"


def batch(p: dict | None) -> str:
    return f"{p['jobs'] / p['commits']:.1f}" if p and p.get("commits") else "—"


def rate(p: dict | None) -> str:
    return f"{p['rate']:,.0f}" if p else "—"


def ratio(a: dict | None, b: dict | None) -> str:
    return f"{a['rate'] / b['rate']:,.1f}" if a and b and b["rate"] else "—"


def format_report(results: dict, args, problems: str) -> str:
    levels = [int(x) for x in args.concurrency.split(",")]
    lines = heading("greylisting decisions (greylist_bench)") + [
        f"{machine()}, load average "
        f"{args.load:.2f} at the start (other jobs share the machine). moat: one "
        f"thread, one `io_context`, `smtpd_recipient_restrictions = check_greylist`, "
        f"`moat_greylist_delay = {args.delay}s`, "
        f"`moat_greylist_auto_allowlist_clients = {args.auto_allowlist}`"
        f"{' (the default)' if args.auto_allowlist == 5 else ''}; per decision a RCPT context "
        f"for a new triplet through the session's `restriction::Answers` (one per session): "
        f"`evaluate` (`Engine::check(kRecipient)`) pending → `finish_pending` "
        f"(`DecisionSet::decide_needed(store)`, check again); "
        f"decisions logged to a file. Databases (LMDB's and postgrey's) in a temporary "
        f"directory under {args.db_dir or tempfile.gettempdir()} ({args.fs}). LMDB: writes group-"
        f"committed by the store's writer thread (one fdatasync per batch). Redis: a private redis-server on loopback, "
        f"no persistence, one pipelined connection. postgrey {postgrey_version()} "
        f"(`--delay={args.delay} --auto-whitelist-clients={args.auto_allowlist}`, empty "
        f"whitelists, BerkeleyDB with a synced commit per write) over the policy protocol, one "
        f"persistent connection per session. new = unknown triplets (each written, greylisted); "
        f"known = the same triplets after the delay (each passes, first pass). At most "
        f"{args.count} decisions or {args.time_limit:g} s per phase.",
        "",
        "| phase | in flight | moat LMDB dec/s | LMDB µs/dec | LMDB dec/loop-CPU-s | LMDB "
        "dec/process-CPU-s | LMDB jobs/commit | moat Redis dec/s | Redis dec/loop-CPU-s | redis-server CPU-s per "
        "1000 dec | postgrey req/s | postgrey req/its-CPU-s | LMDB/postgrey | Redis/postgrey |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in ("new", "known"):
        for level in levels:
            lm = phase_of(results, "lmdb", kind, level)
            rd = phase_of(results, "redis", kind, level)
            pg = phase_of(results, "postgrey", kind, level)
            redis_cpu = (f"{1000 * rd['peer_cpu'] / rd['decisions']:.3f}"
                         if rd and rd["decisions"] else "—")
            lines.append(
                f"| {kind} | {level} | {rate(lm)} | "
                f"{1e6 / lm['rate'] if lm and lm['rate'] else 0:.1f} | "
                f"{per_cpu(lm, 'thread_cpu')} | {per_cpu(lm, 'process_cpu')} | {batch(lm)} | {rate(rd)} | "
                f"{per_cpu(rd, 'thread_cpu')} | {redis_cpu} | {rate(pg)} | "
                f"{per_cpu(pg, 'peer_cpu')} | {ratio(lm, pg)} | {ratio(rd, pg)} |")
    lines.append("")
    top = max(levels)
    for target, aim in AIMS.items():
        if target not in results:
            continue
        got = [phase_of(results, target, kind, top) for kind in ("new", "known")]
        worst = min(p["rate"] for p in got if p)
        verdict = "met" if worst >= aim else "not met"
        lines.append(f"Aim {target}: ≥ {aim:,} decisions/s at {top} in flight (new and known): "
                     f"{verdict} (lowest {worst:,.0f}/s).")
    return "\n".join(lines + outcomes(results, problems)) + "\n"


def outcomes(results: dict, problems: str) -> list[str]:
    """A report's last lines: each phase's checked outcomes, and the problems."""
    counts = []
    for target in results:
        for p in results[target]["phases"]:
            counts.append(f"{target} {p['phase']} {p['concurrency']}: "
                          f"{p['greylisted']} greylisted / {p['first_pass']} first pass of "
                          f"{p['decisions']}")
    lines = ["", "Outcomes (checked): " + "; ".join(counts) + "."]
    if problems:
        lines += ["", f"Problems: {problems}"]
    return lines


def postgrey_version() -> str:
    return version_of([POSTGREY, "--version"])


def add_workload_arguments(p: argparse.ArgumentParser, in_flight: str, unit: str) -> None:
    """The options of the C++ program's workload (run_bench passes them on)."""
    p.add_argument("--concurrency", default="1,10,50",
                   help=f"{in_flight}, one run per level (default 1,10,50)")
    p.add_argument("--count", type=int, default=100000,
                   help=f"{unit} per phase at most (default 100000)")
    p.add_argument("--time-limit", type=float, default=2.5,
                   help="seconds per phase at most (default 2.5)")
    p.add_argument("--delay", type=int, default=1, help="greylisting delay, seconds (default 1)")
    p.add_argument("--auto-allowlist", type=int, default=5,
                   help="moat_greylist_auto_allowlist_clients and postgrey's "
                        "--auto-whitelist-clients (default 5, both defaults; 0: off)")
    p.add_argument("--db-dir", default=None,
                   help="where the LMDB file and postgrey's database go (a temporary directory "
                        "under it; default: the system's temporary directory, /tmp; /dev/shm: "
                        "tmpfs, where a sync costs nothing)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bench", default=os.path.join(RELEASE, "greylist_bench"),
                   help="the C++ program (default: build/release/greylist_bench)")
    p.add_argument("--targets", default="lmdb,redis,postgrey",
                   help="which to run, of lmdb,redis,postgrey (default: all three)")
    add_workload_arguments(p, "sessions in flight", "decisions")
    add_common_arguments(p)
    args = p.parse_args()
    args.bench = os.path.abspath(args.bench)
    if programs_missing("greylist_bench", [args.bench]):
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
