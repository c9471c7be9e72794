#!/usr/bin/python3
"""DNSBL checks per second: moat's resolver and restriction engine against a real NSD.

    /usr/bin/python3 bench/dnsbl_bench.py --bench build/release/dnsbl_bench

Writes five DNS block list zones (dnsbl1.bench.test .. dnsbl5.bench.test)
into a temporary directory: client i (127.(16 + i/65536).(i/256%256).(i%256))
is listed in zone j when i % EVERY == j, with A 127.0.0.2 and a TXT reason;
every other client gets NXDOMAIN (negative answers cacheable for an hour).
Serves them with a private NSD on 127.53.X.Y:53 (tests/integration/harness/
nsd.py: one server process, response-rate-limiting off), then runs the C++
program with --dns-server pointing there. In one invocation (see the header
of bench/dnsbl_bench.cc):

- reference: blocking glibc res_nquery(), one lookup after the other, one
  client at a time (what one Postfix smtpd process does);
- moat cold: new clients, 50 and then 200 in flight on one thread (one
  io_context, one resolver); then one client in flight;
- moat warm: the same clients from the resolver cache, through the loop and
  as bare Engine::check decisions;
- per phase: the event loop's longest stall (a 1 ms timer's worst
  lateness, and the most CPU time the thread spent between two ticks), the CPU time of the program's thread and of NSD, involuntary
  context switches, the machine's UDP receive-buffer drops.

Needs root (NSD binds port 53 of a loopback address) and the `nsd` package.
Everything is loopback and bounded (about 20 s). The table is printed and
appended to bench/RESULTS.md with the date and the exact command
(`--no-record` skips that). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from driver import (RELEASE, add_common_arguments, heading, machine, programs_missing, publish,
                    run_program, version_of)
from harness.nsd import NsdServer, nsd_available  # noqa: E402 (driver puts it on sys.path)

ZONES = [f"dnsbl{n}.bench.test" for n in range(1, 6)]
TTL = 3600


def client_ip(i: int) -> str:
    return f"127.{16 + i // 65536}.{i // 256 % 256}.{i % 256}"


def write_zones(directory: str, clients: int, every: int) -> None:
    """The five list zones, and dns.test with good.dns.test (NsdServer's readiness name)."""
    soa = (f"$TTL {TTL}\n@ SOA ns.dns.test. hostmaster.dns.test. 1 3600 600 86400 {TTL}\n"
           "@ NS ns.dns.test.\n")
    for j, zone in enumerate(ZONES):
        lines = [f"$ORIGIN {zone}.\n", soa]
        for i in range(j, clients, every):
            a, b, c, d = client_ip(i).split(".")
            owner = f"{d}.{c}.{b}.{a}"
            lines.append(f"{owner} A 127.0.0.2\n"
                         f"{owner} TXT \"{client_ip(i)} is listed in {zone}\"\n")
        with open(os.path.join(directory, zone + ".zone"), "w") as f:
            f.writelines(lines)
    with open(os.path.join(directory, "dns.test.zone"), "w") as f:
        f.write(f"$ORIGIN dns.test.\n{soa}ns A 127.0.0.1\ngood A 127.0.2.1\n")


def process_group(pgid: int) -> list[int]:
    """The pids of a process group (NSD's main, server and xfrd processes)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5, pgrp
            pids.append(int(name))
    return pids


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(args) -> int:
    why = nsd_available()
    if why:
        print(f"dnsbl_bench: {why}", file=sys.stderr)
        return 2
    levels = len(args.concurrency.split(","))
    total = max(levels * args.clients + args.serial_clients, args.blocking_clients)
    with tempfile.TemporaryDirectory(prefix="moat-dnsbl-bench-") as zones_dir:
        write_zones(zones_dir, total, args.every)
        with NsdServer(zones_dir=zones_dir, servfail_zones=()) as nsd:
            probe = nsd.query("0.0.16.127." + ZONES[0], "A")  # client 0, listed in zone 0
            if probe.values("A") != ["127.0.0.2"]:
                print(f"dnsbl_bench: NSD does not list 127.16.0.0: {probe}", file=sys.stderr)
                return 1
            command = [
                args.bench, "--dns-server", nsd.server, "--zones", ",".join(ZONES),
                "--clients", str(args.clients), "--concurrency", args.concurrency,
                "--serial-clients", str(args.serial_clients),
                "--blocking-clients", str(args.blocking_clients), "--every", str(args.every),
                "--time-limit", str(args.time_limit), "--warm-repeat", str(args.warm_repeat),
                "--hot-clients", str(args.hot_clients),
                "--nsd-pids", ",".join(str(p) for p in process_group(nsd.proc.pid)),
            ]
            load_before = loadavg()
            started = time.monotonic()
            result, rc, text = run_program(command, args.prefix, args.time_limit * 4 + 120)
            elapsed = time.monotonic() - started
    print(text)
    print(f"(program ran {elapsed:.1f} s, exit {rc})")
    if result is None:
        print("dnsbl_bench: no RESULT line", file=sys.stderr)
        return 1
    result["load"] = (load_before, loadavg())
    return publish(format_report(result, args), args.no_record, rc != 0 or result["problems"])


def format_report(r: dict, args) -> str:
    phases = r["phases"]
    ref_rate = phases[0]["rate"]
    decision_rates = {phases[-2]["name"]: 1e9 / r["decision_ns"][0],
                      phases[-1]["name"]: 1e9 / r["hot_decision_ns"][0]}

    def row(p):
        rate = decision_rates.get(p["name"], p["rate"])
        wall = p["wall"] or 1
        stall = (f"{p['stall_ms']:.1f} ms / {p['stall_cpu_ms']:.1f} ms" if p["stall_ms"] >= 0
                 else "-")
        per_cpu = p["checks"] / p["cpu"] if p["cpu"] else 0
        return (f"| {p['name']} | {p['checks']} | {rate:,.0f} | {1e6 / rate:.2f} | {stall} | "
                f"{rate / ref_rate:.2f} | {per_cpu:,.0f} | {100 * p['cpu'] / wall:.0f}% | "
                f"{100 * p['nsd_cpu'] / wall:.0f}% | {p['preempted']} | {p['udp_drops']} |")

    lines = heading("DNSBL checks (dnsbl_bench)") + [
        f"{machine()}; load average "
        f"{r['load'][0]} before, {r['load'][1]} after. NSD {version_of(['/usr/sbin/nsd', '-v'])} on 127.53.X.Y:53, "
        f"one server process. Five zones; client i listed in zone i % {r['every']} "
        f"({r['zones']} clients in {r['every']} rejected: A, then TXT for the reply); one check "
        f"= `reject_rbl_client` × 5 through the restriction engine; {r['clients']} new clients "
        f"per cold run.",
        "",
        "| phase | checks | checks/s | µs/check | longest loop stall: wall / CPU | vs reference | "
        "checks per moat CPU-s | moat CPU | NSD CPU | preempted | UDP drops |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [row(p) for p in phases]
    lines += [
        "",
        f"Warm decision (`Engine::check` with a fresh `AnswerSet`, answers from the resolver "
        f"cache, no loop): {r['decision_ns'][0]:.0f} ns best / {r['decision_ns'][1]:.0f} ns "
        f"median over {phases[-2]['checks']} clients; {r['hot_decision_ns'][0]:.0f} / "
        f"{r['hot_decision_ns'][1]:.0f} ns over {r['hot_clients']}.",
    ]
    for p in phases[1:-3]:
        if p["queries"]:
            lines.append(f"{p['name']}: {p['queries']} queries in {p['seconds']:.2f} s "
                         f"({p['queries'] / p['seconds']:,.0f}/s), {p['dns_errors']} lookup "
                         f"errors, {p['late_ticks']} of {p['ticks']} loop ticks over 1 ms late.")
    lines.append(f"Reference: {phases[0]['queries']} queries in {phases[0]['seconds']:.2f} s "
                 f"({phases[0]['queries'] / phases[0]['seconds']:,.0f}/s).")
    if r["problems"]:
        lines += ["", f"Problems: {r['problems']}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bench", default=os.path.join(RELEASE, "dnsbl_bench"),
                   help="the C++ program (default: build/release/dnsbl_bench)")
    p.add_argument("--clients", type=int, default=20000,
                   help="new clients per cold run (default 20000)")
    p.add_argument("--concurrency", default="50,200",
                   help="clients in flight, one cold run per level (default 50,200)")
    p.add_argument("--serial-clients", type=int, default=2000,
                   help="cold clients with one in flight (default 2000)")
    p.add_argument("--blocking-clients", type=int, default=5000,
                   help="clients for the blocking reference (default 5000)")
    p.add_argument("--every", type=int, default=50,
                   help="client i is listed in zone i %% EVERY (default 50: 10%% listed)")
    p.add_argument("--time-limit", type=float, default=4.0,
                   help="seconds per phase at most, DNS timeouts aside (default 4)")
    p.add_argument("--warm-repeat", type=int, default=5, help="warm decision passes (default 5)")
    p.add_argument("--hot-clients", type=int, default=1000,
                   help="warm decisions also over this many clients (CPU-cache-sized set)")
    add_common_arguments(p)
    args = p.parse_args()
    args.bench = os.path.abspath(args.bench)
    if programs_missing("dnsbl_bench", [args.bench]):
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
