#!/usr/bin/python3
"""Run an OpenSPF test suite (rfc7208-tests.yml, rfc4408-tests.yml) over real DNS.

    run_suite.py SUITE.yml --evaluator pyspf
    run_suite.py SUITE.yml --evaluator moat [--moat build/release/moat] [--only SCENARIO:TEST]

Each scenario's zonedata is served by tests/spf/dns_responder.py on
127.0.0.1:<ephemeral port> (UDP and TCP); the evaluator resolves through it:

- pyspf: Debian's python3-spf (spf.query) over pydns (python3-dns), pointed
  at the responder with DNS.defaults['server'] / ['port'], a per-lookup
  timeout of --timeout seconds (TIMEOUT tests then take about that long),
  the default explanation set to the literal "DEFAULT" as the suite expects,
  and the test's `strict` value when it has one.
- moat: `MOAT spf --dns-server 127.0.0.1:PORT IP MAILFROM HELO`, one process
  per test (--moat-arg adds arguments after `spf`); the first line of its
  output is "RESULT EXPLANATION-OR-COMMENT", the explanation compared
  exactly (only a trailing CR is removed).
  The suite's `explanation: DEFAULT` means the evaluator's default
  explanation: checked against --default-explanation when given, else any
  explanation passes for those tests.

A test passes when the result is `result` or one of them when it is a list,
and the explanation equals `explanation` when the test has one. One line per
failure, then `spf suite NAME: N passed, N failed of T`; exit 1 when anything
failed, 2 when the evaluator cannot run at all.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dns_responder import DnsResponder  # noqa: E402

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "temperror", "permerror")
OLD_NAMES = {"unknown": "permerror", "error": "temperror"}   # pyspf's RFC 4408-era words
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class EvaluatorUnavailable(Exception):
    pass


class PySpf:
    name = "pyspf"

    def __init__(self, responder: DnsResponder, timeout: float):
        try:
            import DNS  # pydns, python3-dns
            import spf  # pyspf, python3-spf
        except ImportError as e:
            raise EvaluatorUnavailable(f"{e}: apt-get install -y python3-spf python3-dns")
        if spf.DNSLookup is not getattr(spf, "DNSLookup_pydns", None):
            # pyspf prefers dnspython when it is installed; use pydns (which
            # takes a server port) the way pyspf sets it up itself.
            spf.DNS = DNS
            if not hasattr(DNS.Type, "SPF"):
                DNS.Type.SPF = 99
                DNS.Type.typemap[99] = "SPF"
                DNS.Lib.RRunpacker.getSPFdata = DNS.Lib.RRunpacker.getTXTdata
            spf.DNSLookup = spf.DNSLookup_pydns
        # pydns turns answer names into text through IDNA by default, so the
        # owner of an answer for foo.example.xn--zckzah comes back as
        # "foo.example.\u30c6\u30b9\u30c8" and pyspf's cache (keyed by
        # the asked name) misses it: a-dash-in-toplabel fails with a
        # false "fail". Labels are octets; keep them as they are (UTF-8).
        DNS.LABEL_UTF8 = True
        DNS.defaults["server"] = [responder.host]
        DNS.defaults["port"] = responder.port
        DNS.defaults["server_rotate"] = 0
        self.spf = spf
        self.timeout = timeout

    def check(self, host: str, mailfrom: str, helo: str, test: dict) -> tuple[str, str]:
        kw = {"strict": test["strict"]} if "strict" in test else {}
        q = self.spf.query(i=host, s=mailfrom, h=helo, timeout=self.timeout, **kw)
        q.set_default_explanation("DEFAULT")
        res, _code, exp = q.check()
        return OLD_NAMES.get(res, res), exp or ""


class Moat:
    name = "moat"

    def __init__(self, responder: DnsResponder, binary: str, test_timeout: float, extra: list[str]):
        self.binary = binary
        self.extra = list(extra)
        self.server = responder.server
        self.test_timeout = test_timeout
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise EvaluatorUnavailable(f"{binary}: no such executable (build moat first: make build)")
        # Probe: the subcommand must exist and answer in the expected form.
        try:
            cp = self._run("192.0.2.1", "probe@spf-suite-probe.invalid", "spf-suite-probe.invalid")
        except subprocess.TimeoutExpired:
            raise EvaluatorUnavailable(f"`{binary} spf ...` did not finish within {test_timeout}s")
        word = cp.stdout.split(" ", 1)[0].strip().lower() if cp.stdout else ""
        if cp.returncode != 0 or word not in RESULTS:
            raise EvaluatorUnavailable(
                f"`{binary} spf --dns-server {self.server} IP MAILFROM HELO` does not work yet "
                f"(exit {cp.returncode}, stdout {cp.stdout.strip()[:200]!r}, "
                f"stderr {cp.stderr.strip()[:200]!r}): moat's SPF evaluator is missing or broken")

    def _run(self, host, mailfrom, helo):
        return subprocess.run([self.binary, "spf", *self.extra, "--dns-server", self.server,
                               host, mailfrom, helo],
                              capture_output=True, text=True, errors="replace",
                              timeout=self.test_timeout, stdin=subprocess.DEVNULL)

    def check(self, host: str, mailfrom: str, helo: str, test: dict) -> tuple[str, str]:
        try:
            cp = self._run(host, mailfrom, helo)
        except subprocess.TimeoutExpired:
            return "(hung)", f"no answer within {self.test_timeout}s"
        if cp.returncode != 0:
            return f"(exit {cp.returncode})", cp.stderr.strip().replace("\n", " | ")[:300]
        line = cp.stdout.split("\n", 1)[0]
        word, _, rest = line.partition(" ")
        return word.strip().lower(), rest.rstrip("\r")


def load_suite(path: str) -> list[dict]:
    with open(path, "rb") as f:
        return [s for s in yaml.safe_load_all(f) if s]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("suite", help="rfc7208-tests.yml or rfc4408-tests.yml")
    ap.add_argument("--evaluator", choices=("pyspf", "moat"), required=True)
    ap.add_argument("--moat", default=os.environ.get("MOAT_BINARY") or os.path.join(REPO, "build", "release", "moat"),
                    help="the moat binary (default: $MOAT_BINARY, else build/release/moat)")
    ap.add_argument("--only", action="append", default=[], metavar="SCENARIO:TEST",
                    help="run only these tests (repeatable); SCENARIO is the description "
                         "or its index (0-based), either part may be empty or '*'")
    ap.add_argument("--timeout", type=float, default=1.0,
                    help="pyspf's per-DNS-lookup timeout in seconds (default 1)")
    ap.add_argument("--test-timeout", type=float, default=30.0,
                    help="moat: kill an evaluation after this many seconds (default 30)")
    ap.add_argument("--moat-arg", action="append", default=[], metavar="ARG",
                    help="moat: an extra argument put right after `spf` (repeatable), "
                         "e.g. a DNS timeout option once the evaluator has one")
    ap.add_argument("--default-explanation", default=None,
                    help="moat: its default explanation, for tests expecting DEFAULT")
    ap.add_argument("-v", "--verbose", action="store_true", help="also print passing tests")
    args = ap.parse_args(argv)

    suite_name = os.path.basename(args.suite)
    scenarios = load_suite(args.suite)
    only = []
    for o in args.only:
        sc, _, tn = o.rpartition(":") if ":" in o else ("", "", o)
        only.append((sc, tn))

    def selected(index: int, scenario: dict, test_name: str) -> bool:
        if not only:
            return True
        for sc, tn in only:
            sc_ok = sc in ("", "*", str(index)) or sc == scenario.get("description")
            if sc_ok and tn in ("", "*", test_name):
                return True
        return False

    started = time.monotonic()
    passed = failed = loose = 0
    with DnsResponder() as responder:
        try:
            if args.evaluator == "pyspf":
                evaluator = PySpf(responder, args.timeout)
            else:
                evaluator = Moat(responder, args.moat, args.test_timeout, args.moat_arg)
        except EvaluatorUnavailable as e:
            print(f"spf suite {suite_name}: cannot run evaluator {args.evaluator}: {e}", file=sys.stderr)
            return 2
        for index, scenario in enumerate(scenarios):
            tests = [(n, t) for n, t in (scenario.get("tests") or {}).items() if selected(index, scenario, n)]
            if not tests:
                continue
            responder.load(scenario.get("zonedata") or {})
            desc = scenario.get("description", f"scenario {index}")
            for name, test in tests:
                expected = test["result"]
                accepted = [expected] if isinstance(expected, str) else list(expected)
                mailfrom = test.get("mailfrom") or ""
                helo = test.get("helo") or ""
                try:
                    got, exp = evaluator.check(str(test["host"]), str(mailfrom), str(helo), test)
                except Exception as e:  # an evaluator crash is a failed test, not a dead run
                    got, exp = "(exception)", f"{type(e).__name__}: {e}"
                ok = got in accepted
                want_exp = test.get("explanation")
                if ok and want_exp is not None:
                    if want_exp == "DEFAULT" and args.evaluator == "moat" and args.default_explanation is None:
                        loose += 1          # no way to know moat's default text: any passes
                    else:
                        target = args.default_explanation if (want_exp == "DEFAULT" and args.evaluator == "moat") \
                            else want_exp
                        ok = exp == target
                if ok:
                    passed += 1
                    if args.verbose:
                        print(f"ok   [{desc}] {name}: {got} {exp!r}")
                else:
                    failed += 1
                    want = "|".join(accepted) + (f" {want_exp!r}" if want_exp is not None else "")
                    print(f"FAIL [{desc}] {name}: expected {want}, got {got} {exp!r}")
    elapsed = time.monotonic() - started
    total = passed + failed
    if loose:
        print(f"note: {loose} test(s) expecting the DEFAULT explanation accepted any explanation "
              f"(give --default-explanation to check them)")
    print(f"elapsed {elapsed:.1f}s, {responder.queries} DNS queries, {responder.unanswered} left unanswered (TIMEOUT)")
    print(f"spf suite {suite_name}: {passed} passed, {failed} failed of {total}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
