#!/usr/bin/python3
"""SPF evaluations per second: moat's check_host() against a real NSD, pyspf as the reference.

    /usr/bin/python3 bench/spf_bench.py --bench build/release/spf_bench

Writes a zone set reproducing a big provider's include chain (like Google's
_spf.google.com): copy K of it is

    sK.example-sender.test         TXT "v=spf1 include:_spf.cK.provider.test ~all"
    _spf.cK.provider.test          TXT "v=spf1 include:_netblocks.cK.provider.test
                                        include:_netblocks2.cK.provider.test
                                        include:_netblocks3.cK.provider.test ~all"
    _netblocks.cK.provider.test    15 ip4: networks (10.J.0.0/16)
    _netblocks2.cK.provider.test   15 ip6: networks (2001:db8:J::/48)
    _netblocks3.cK.provider.test   15 ip4: networks (172.16.J.0/24)

(the netblock records are longer than 255 octets: several strings, as
Google's are), plus dK.amx.test "v=spf1 a mx -all" with its A, MX and the MX
host's A. All TTLs 300. Copy 0 is the warm set; copies 1..N are for the cold
runs, one copy per evaluation so that every include is a new lookup.
Served by a private NSD on 127.53.X.Y:53 (tests/integration/harness/nsd.py).

Each workload line is (client IP, MAIL FROM, expected result); nine lines
in ten use the chain (client in the first netblock, the last one, the IPv6
one, or in none: softfail), one in ten the a/mx domain (pass by a, by mx,
or fail). Then, in the same invocation:

- moat (bench/spf_bench.cc): cold, one resolver with an empty cache, 50
  evaluations in flight on one thread; warm, the copy-0 chain for 1000
  client IPs, every record in the resolver cache;
- pyspf (Debian python3-spf over pydns, pointed at the same NSD): cold, a
  new spf.query per evaluation (what policyd-spf does: pyspf keeps no cache
  between queries), one at a time; warm, one spf.query object per sender
  domain reused with set_ip() for each client, so its per-query cache
  (query.cache) answers every lookup after the first: the best pyspf can do
  without a caching resolver in front.

Prints a table with the ratios moat/pyspf and appends it to bench/RESULTS.md
with the date and the command (`--no-record` skips that). Needs root and
the `nsd` package. Bounded: about 20 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from driver import (RELEASE, add_common_arguments, heading, machine, programs_missing, publish,
                    run_program)
from harness.nsd import NsdServer, nsd_available  # noqa: E402 (driver puts it on sys.path)

TTL = 300
HELO = "mta.client.test"
NETBLOCKS = {
    "_netblocks": [f"ip4:10.{j}.0.0/16" for j in range(15)],
    "_netblocks2": [f"ip6:2001:db8:{j:x}::/48" for j in range(15)],
    "_netblocks3": [f"ip4:172.16.{j}.0/24" for j in range(15)],
}


def txt(record: str) -> str:
    """A TXT rdata: strings of at most 255 octets, split after a space (SPF joins them as is)."""
    strings, current = [], ""
    for word in record.split(" "):
        piece = word if not current else " " + word
        if len(current) + len(piece) > 250:
            strings.append(current + " ")
            current = word
        else:
            current += piece
    strings.append(current)
    return " ".join(f'"{s}"' for s in strings)


def write_zones(directory: str, copies: int) -> None:
    def soa(origin: str) -> str:
        return (f"$ORIGIN {origin}.\n$TTL {TTL}\n"
                f"@ SOA ns.dns.test. hostmaster.dns.test. 1 3600 600 86400 {TTL}\n"
                "@ NS ns.dns.test.\n")

    sender, provider, amx = [soa("example-sender.test")], [soa("provider.test")], [soa("amx.test")]
    for k in range(copies):
        sender.append(f"s{k} TXT {txt(f'v=spf1 include:_spf.c{k}.provider.test ~all')}\n")
        includes = " ".join(f"include:{n}.c{k}.provider.test" for n in NETBLOCKS)
        provider.append(f"_spf.c{k} TXT {txt(f'v=spf1 {includes} ~all')}\n")
        for name, nets in NETBLOCKS.items():
            provider.append(f"{name}.c{k} TXT {txt('v=spf1 ' + ' '.join(nets) + ' ~all')}\n")
        amx.append(f"d{k} TXT \"v=spf1 a mx -all\"\nd{k} A 192.0.2.10\n"
                   f"d{k} MX 10 mx.d{k}.amx.test.\nmx.d{k} A 192.0.2.20\n")
    for name, lines in (("example-sender.test", sender), ("provider.test", provider),
                        ("amx.test", amx)):
        with open(os.path.join(directory, name + ".zone"), "w") as f:
            f.writelines(lines)
    with open(os.path.join(directory, "dns.test.zone"), "w") as f:
        f.write(soa("dns.test") + "ns A 127.0.0.1\ngood A 127.0.2.1\n")


def workload_line(j: int, k: int) -> tuple[str, str, str]:
    """Evaluation j against copy k: (client IP, MAIL FROM, expected result)."""
    if j % 10 == 9:
        sender = f"bounce{j}@d{k}.amx.test"
        kind = (j // 10) % 3
        if kind == 0:
            return "192.0.2.10", sender, "pass"  # a
        if kind == 1:
            return "192.0.2.20", sender, "pass"  # mx
        return f"203.0.113.{j % 250 + 1}", sender, "fail"
    sender = f"user{j}@s{k}.example-sender.test"
    kind = j % 5
    if kind == 0:
        return f"10.{j % 15}.{j % 256}.{(j // 7) % 256}", sender, "pass"  # first netblock
    if kind == 1:
        return f"172.16.{j % 15}.{j % 250 + 1}", sender, "pass"  # the last one
    if kind == 2:
        return f"2001:db8:{j % 15:x}::{j % 65535 + 1:x}", sender, "pass"  # the IPv6 one
    if kind == 3:
        return f"198.51.100.{j % 250 + 1}", sender, "softfail"
    return f"2001:db8:ff00::{j % 65535 + 1:x}", sender, "softfail"


def write_workload(path: str, lines: list[tuple[str, str, str]]) -> None:
    with open(path, "w") as f:
        f.writelines(" ".join(line) + "\n" for line in lines)


def setup_pyspf(server: str):
    import DNS  # pydns, python3-dns
    import spf  # pyspf, python3-spf
    if spf.DNSLookup is not getattr(spf, "DNSLookup_pydns", None):
        spf.DNS = DNS  # as tests/spf/run_suite.py: pydns takes a server port
        if not hasattr(DNS.Type, "SPF"):
            DNS.Type.SPF = 99
            DNS.Type.typemap[99] = "SPF"
            DNS.Lib.RRunpacker.getSPFdata = DNS.Lib.RRunpacker.getTXTdata
        spf.DNSLookup = spf.DNSLookup_pydns
    DNS.LABEL_UTF8 = True
    host, port = server.rsplit(":", 1)
    DNS.defaults["server"] = [host]
    DNS.defaults["port"] = int(port)
    DNS.defaults["server_rotate"] = 0
    return spf


def run_pyspf(spf, lines, warm: bool, count: int, time_limit: float) -> dict:
    results: dict[str, int] = {}
    wrong = 0
    queries: dict[str, object] = {}  # warm: one query object per sender domain
    start = time.monotonic()
    cpu0 = time.process_time()
    deadline = start + time_limit
    done = 0
    while done < count and time.monotonic() < deadline:
        ip, sender, expected = lines[done % len(lines)]
        if warm:
            domain = sender.split("@", 1)[1]
            q = queries.get(domain)
            if q is None:
                q = queries[domain] = spf.query(i=ip, s=sender, h=HELO, timeout=2)
            else:
                q.set_ip(ip)
            res = q.check()[0]
        else:
            res = spf.query(i=ip, s=sender, h=HELO, timeout=2).check()[0]
        res = {"unknown": "permerror", "error": "temperror"}.get(res, res)
        results[res] = results.get(res, 0) + 1
        if res != expected:
            wrong += 1
            if wrong <= 5:
                print(f"pyspf: {ip} {sender}: {res}, expected {expected}", file=sys.stderr)
        done += 1
    seconds = time.monotonic() - start
    return {"evaluations": done, "seconds": seconds, "rate": done / seconds if seconds else 0,
            "cpu": time.process_time() - cpu0, "wrong": wrong, "results": results}


def run(args) -> int:
    why = nsd_available()
    if why:
        print(f"spf_bench: {why}", file=sys.stderr)
        return 2
    copies = 1 + args.cold + args.pyspf_cold
    with tempfile.TemporaryDirectory(prefix="moat-spf-bench-") as work:
        zones_dir = os.path.join(work, "zones")
        os.mkdir(zones_dir)
        write_zones(zones_dir, copies)
        warm = [workload_line(j, 0) for j in range(args.warm_clients)]
        cold = [workload_line(j, 1 + j) for j in range(args.cold)]
        pycold = [workload_line(j, 1 + args.cold + j) for j in range(args.pyspf_cold)]
        write_workload(os.path.join(work, "warm"), warm)
        write_workload(os.path.join(work, "cold"), cold)
        with NsdServer(zones_dir=zones_dir, servfail_zones=()) as nsd:
            probe = nsd.query("_netblocks3.c0.provider.test", "TXT")
            if not probe.values("TXT"):
                print(f"spf_bench: NSD does not serve the chain: {probe}", file=sys.stderr)
                return 1
            command = [args.bench, "--dns-server", nsd.server,
                       "--cold", os.path.join(work, "cold"), "--warm", os.path.join(work, "warm"),
                       "--concurrency", str(args.concurrency),
                       "--warm-count", str(args.warm_count), "--time-limit", str(args.time_limit)]
            result, rc, text = run_program(command, args.prefix, args.time_limit * 4 + 60)
            spf = setup_pyspf(nsd.server)
            py_cold = run_pyspf(spf, pycold, False, len(pycold), args.time_limit)
            py_warm = run_pyspf(spf, warm, True, args.warm_count, args.time_limit)
    print(text)
    if result is None:
        print(f"spf_bench: no RESULT line (exit {rc})", file=sys.stderr)
        return 1
    moat_cold, moat_warm = result["phases"]
    rows = [("cold", moat_cold, py_cold), ("warm", moat_warm, py_warm)]
    problems = result["problems"]
    for name, _, p in rows:
        if p["wrong"]:
            problems += f"pyspf {name}: {p['wrong']} unexpected results; "
    return publish(format_report(rows, args, problems), args.no_record, rc != 0 or problems)


def results_text(results: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(results.items()))


def format_report(rows, args, problems: str) -> str:
    lines = heading("SPF evaluations (spf_bench)") + [
        f"{machine()}. NSD on "
        f"127.53.X.Y:53 serving a provider include chain (sender → _spf → 3 netblock records "
        f"of 15 ip4:/ip6: networks, 3-5 TXT lookups per evaluation: a match in the first netblock ends it early) and, for one evaluation in "
        f"ten, a `v=spf1 a mx -all` domain; TTL 300. moat: `spf::check_host` on one thread, "
        f"one `dns::Resolver`; cold = a new copy of the chain per evaluation, "
        f"{args.concurrency} in flight; warm = {args.warm_clients} client IPs over the cached "
        f"copy 0 (one in flight, each from a posted handler). pyspf (Debian python3-spf over "
        f"pydns, one at a time): cold = a new `spf.query` per evaluation (as policyd-spf "
        f"does; no cache between queries); warm = one `spf.query` per sender domain reused "
        f"with `set_ip()`, its own cache answering every lookup after the first.",
        "",
        "| phase | moat evals | moat evals/s | moat µs/eval | moat evals/CPU-s | pyspf evals "
        "| pyspf evals/s | pyspf µs/eval | moat/pyspf | moat results | pyspf results |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, m, p in rows:
        per_cpu = m["evaluations"] / m["cpu"] if m["cpu"] else 0
        ratio = m["rate"] / p["rate"] if p["rate"] else 0
        lines.append(
            f"| {name} | {m['evaluations']} | {m['rate']:,.0f} | {1e6 / m['rate']:.2f} | "
            f"{per_cpu:,.0f} | {p['evaluations']} | {p['rate']:,.0f} | "
            f"{1e6 / p['rate']:.1f} | {ratio:,.1f} | {results_text(m['results'])} | "
            f"{results_text(p['results'])} |")
    m = rows[0][1]
    lines += ["", f"moat cold: {m['queries']} queries for {m['lookups']} lookups "
              f"({m['queries'] / m['seconds']:,.0f} queries/s); warm: {rows[1][1]['queries']} "
              f"queries."]
    if problems:
        lines += ["", f"Problems: {problems}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bench", default=os.path.join(RELEASE, "spf_bench"),
                   help="the C++ program (default: build/release/spf_bench)")
    p.add_argument("--cold", type=int, default=10000,
                   help="moat cold evaluations, each on its own copy of the chain (default 10000)")
    p.add_argument("--pyspf-cold", type=int, default=1000,
                   help="pyspf cold evaluations (default 1000)")
    p.add_argument("--concurrency", type=int, default=50,
                   help="moat cold evaluations in flight (default 50)")
    p.add_argument("--warm-clients", type=int, default=1000,
                   help="client IPs of the warm set (default 1000)")
    p.add_argument("--warm-count", type=int, default=500000,
                   help="warm evaluations at most (default 500000)")
    p.add_argument("--time-limit", type=float, default=4.0,
                   help="seconds per phase at most (default 4)")
    add_common_arguments(p)
    args = p.parse_args()
    args.bench = os.path.abspath(args.bench)
    if programs_missing("spf_bench", [args.bench]):
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
