#!/usr/bin/python3
"""The compat suite: hardening-guide restriction sets, Postfix 3.7 as the oracle.

Every *.compat file in this directory is a main.cf fragment, optional lookup
tables and scenarios (client address + SMTP dialogue); the format is in
README.md. Each scenario runs against a private Postfix (harness.PostfixServer)
and against moat (harness.MoatServer) with the same main.cf, and every reply
must carry the same code and enhanced status code. Reply texts are shown, not
asserted. A step marked `differs: REASON` is not compared (the reason is
printed); a `=> CODE [X.Y.Z]` on a step is what the scenario expects Postfix
to answer, checked against Postfix so that a scenario cannot silently stop
exercising the restriction it is about.

The unittest entry point is tests/integration/test_compat.py (one test per
scenario). From the command line:

    /usr/bin/python3 tests/compat/compat.py --show [FILE[:SCENARIO] ...]
        # Postfix alone: its replies, and whether the => expectations hold
    /usr/bin/python3 tests/compat/compat.py --show --moat [FILE[:SCENARIO] ...]
        # both side by side ("!" code differs, "~" only the text, "=" documented)
    /usr/bin/python3 tests/compat/compat.py --show path/to/FILE.compat.draft[:SCENARIO]
        # a file outside the suite (a draft), by its path
    /usr/bin/python3 tests/compat/compat.py --show --log [--moat] [...]
        # also each server's maillog lines for each scenario's session
    /usr/bin/python3 tests/compat/compat.py --list

A file with a [dns] section needs the test DNS world (tests/fixtures/dns/):
the Runner starts one harness.NsdServer, shared by every such file, and gives
it to both servers (PostfixServer(dns=...) and MoatServer(dns=...)).

The running and reporting helpers come from tests/integration/test_differential.py
(server pools, factories, COMMON settings, side-by-side report).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")
if INTEGRATION not in sys.path:
    sys.path.insert(0, INTEGRATION)

from harness import MoatServer, NsdServer, PostfixServer, RawClient, Reply, data_body  # noqa: E402
from harness import default_moat_binary, nsd_available  # noqa: E402
from harness.postfix import resolver_isolation_problem  # noqa: E402
from harness.smtp import CLOSED  # noqa: E402
import test_differential as td  # noqa: E402

TABLES = "@TABLES@"  # placeholder in main.cf values: the directory holding the [table] files
POSTMAP = "/usr/sbin/postmap"
# Table types whose Postfix form is a compiled file made by postmap; moat reads the source.
COMPILED_TYPES = ("hash", "btree", "lmdb", "cdb", "dbm", "sdbm")
STEP_TIMEOUT = 5.0


class FormatError(ValueError):
    pass


@dataclass
class Step:
    """One write to the server and the replies it gets."""

    kind: str  # "cmd" (one line), "pipe" (several lines, one write), "early" (before the banner), "body"
    lines: list  # command lines, or body lines for "body"
    expect: list = field(default_factory=list)  # per reply: None or (code, enhanced or None)
    differs: str | None = None  # deliberate difference: not compared
    lineno: int = 0

    def payload(self) -> bytes:
        if self.kind == "body":
            return data_body("\n".join(self.lines) + "\n")
        return b"".join(line.encode("utf-8") + b"\r\n" for line in self.lines)

    def labels(self) -> list[str]:
        if self.kind == "body":
            return ["(message body)"]
        if self.kind == "cmd":
            return [td.short(self.lines[0])]
        mark = "<" if self.kind == "early" else "|"
        out, in_data = [], False
        for line in self.lines:  # a pipelined DATA's content gets one "(message body)" reply
            if in_data:
                if line == ".":
                    out.append(f"{mark} (message body)")
                    in_data = False
                continue
            out.append(f"{mark} {td.short(line, 56)}")
            in_data = line.upper() == "DATA"
        return out

    @property
    def replies(self) -> int:
        return len(self.labels())


@dataclass
class Scenario:
    file: str  # base name without .compat
    name: str
    client: str = "127.0.0.1"
    params: dict = field(default_factory=dict)  # scenario overrides
    steps: list = field(default_factory=list)
    differs: str | None = None  # the whole scenario
    banner_expect: tuple | None = None  # "banner => CODE [X.Y.Z]"
    retry: int = 1  # runs allowed for a scenario that races the server (see README)
    doc: str = ""
    lineno: int = 0

    @property
    def id(self) -> str:
        return f"{self.file}:{self.name}"

    def labels(self) -> list[str]:
        out = ["(banner)"]
        early = [s for s in self.steps if s.kind == "early"]
        for s in early:
            out += s.labels()
        for s in self.steps:
            if s.kind != "early":
                out += s.labels()
        return out

    def ordered_steps(self) -> list[Step]:
        """Steps in reply order: early ones first (their replies follow the banner)."""
        return [s for s in self.steps if s.kind == "early"] + [s for s in self.steps if s.kind != "early"]

    def reply_info(self) -> list[tuple[Step | None, int]]:
        """(step, index of the reply within it) for every reply; the banner has step None."""
        out = [(None, 0)]
        for s in self.ordered_steps():
            out += [(s, i) for i in range(s.replies)]
        return out


@dataclass
class CompatFile:
    path: str
    name: str
    main_cf: dict
    tables: dict  # name -> text
    scenarios: list
    header: str = ""
    dns: bool = False  # a [dns] section: needs the test DNS world (NsdServer)


_EXPECT = re.compile(r"\s+=>\s+([2-5][0-9][0-9])(?:\s+([245]\.[0-9]{1,3}\.[0-9]{1,3}))?\s*$")
_SECTION = re.compile(r"^\[(main\.cf|dns|table\s+[\w.-]+|scenario\s+[\w-]+)\]\s*$")


def _split_expect(text: str):
    m = _EXPECT.search(text)
    if not m:
        return text, None
    return text[: m.start()], (int(m.group(1)), m.group(2))


def _main_cf_lines(lines: list[tuple[int, str]], where: str) -> dict:
    """main.cf syntax: name = value, continuation lines start with whitespace."""
    params: dict = {}
    last = None
    for lineno, line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t":
            if last is None:
                raise FormatError(f"{where}:{lineno}: continuation line without a parameter")
            params[last] = (params[last] + " " + line.strip()).strip()
            continue
        name, eq, value = line.partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z0-9_]+", name.strip()):
            raise FormatError(f"{where}:{lineno}: expected 'name = value': {line!r}")
        last = name.strip()
        params[last] = value.strip()
    return params


def parse_file(path: str) -> CompatFile:
    base = os.path.basename(path)
    name = re.sub(r"\.compat(\.draft)?$", "", base)
    with open(path, encoding="utf-8") as f:
        raw = f.read().split("\n")
    sections: list[tuple[str, int, list]] = []
    header: list[str] = []
    current = None
    for i, line in enumerate(raw, 1):
        line = line.rstrip("\r")
        m = _SECTION.match(line)
        if m:
            current = (m.group(1), i, [])
            sections.append(current)
        elif current is None:
            if line.strip() and not line.startswith("#"):
                raise FormatError(f"{path}:{i}: text before the first [section]: {line!r}")
            header.append(line)
        else:
            current[2].append((i, line))
    main_cf: dict = {}
    tables: dict = {}
    scenarios: list = []
    dns = False
    for title, lineno, body in sections:
        if title == "main.cf":
            main_cf.update(_main_cf_lines(body, path))
        elif title == "dns":
            dns = True
            for i, line in body:
                if line.strip() and not line.lstrip().startswith("#"):
                    raise FormatError(f"{path}:{i}: [dns] takes only comments: {line!r}")
        elif title.startswith("table"):
            tname = title.split(None, 1)[1]
            text = [line for _, line in body]
            while text and not text[-1].strip():
                text.pop()
            tables[tname] = "\n".join(text) + "\n"
        else:
            scenarios.append(_parse_scenario(path, name, title.split(None, 1)[1], lineno, body))
    names = [s.name for s in scenarios]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise FormatError(f"{path}: duplicate scenario names: {sorted(dup)}")
    for tname in tables:
        if not any(f"{TABLES}/{tname}" in v for v in main_cf.values()) and not any(
                f"{TABLES}/{tname}" in v for s in scenarios for v in s.params.values()):
            raise FormatError(f"{path}: [table {tname}] is not used as {TABLES}/{tname} in main.cf")
    return CompatFile(path, name, main_cf, tables, scenarios, "\n".join(header), dns)


def _parse_scenario(path: str, fname: str, sname: str, lineno: int, body) -> Scenario:
    sc = Scenario(fname, sname, lineno=lineno)
    doc: list[str] = []
    pending: Step | None = None  # the pipelined/early group or body being collected
    last: Step | None = None
    in_body = False

    def flush():
        nonlocal pending
        if pending is not None:
            sc.steps.append(pending)
            pending = None

    for i, line in body:
        where = f"{path}:{i}"
        if in_body:
            if line.startswith("|"):
                pending.lines.append(line[2:] if line.startswith("| ") else line[1:])
                continue
            text, expect = _split_expect(line)
            if text.strip() != ".":
                raise FormatError(f"{where}: a message body ('| ' lines) ends with a '.' line")
            pending.expect = [expect]
            last = pending
            flush()
            in_body = False
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if not sc.steps and pending is None:
                doc.append(stripped.lstrip("# "))
            continue
        if line.startswith(">>") or line.startswith("<"):
            kind = "pipe" if line.startswith(">>") else "early"
            text, expect = _split_expect(line[2:] if kind == "pipe" else line[1:])
            text = text[1:] if text.startswith(" ") else text
            if pending is None or pending.kind != kind:
                flush()
                pending = Step(kind, [], [], lineno=i)
            pending.lines.append(text)  # after a DATA: message content up to "."
            last = pending
            # expectations line up with replies: recompute after each line
            pending.expect = (pending.expect + [None] * pending.replies)[: pending.replies]
            if expect is not None:
                pending.expect[-1] = expect
            continue
        flush()
        if line.startswith(">"):
            text, expect = _split_expect(line[1:])
            text = text[1:] if text.startswith(" ") else text
            last = Step("cmd", [text], [expect], lineno=i)
            sc.steps.append(last)
        elif line.startswith("|"):
            pending = Step("body", [line[2:] if line.startswith("| ") else line[1:]], [None], lineno=i)
            in_body = True
        elif stripped.startswith("banner") and _EXPECT.search(line):
            sc.banner_expect = _split_expect(line)[1]
        elif stripped.startswith("differs:"):
            if last is None:
                raise FormatError(f"{where}: 'differs:' must follow the step it is about")
            last.differs = stripped.split(":", 1)[1].strip()
            if not last.differs:
                raise FormatError(f"{where}: 'differs:' needs a reason")
        elif "=" in stripped:
            key, _, value = stripped.partition("=")
            key, value = key.strip(), value.strip()
            if key == "client":
                sc.client = value
            elif key == "differs":
                sc.differs = value
            elif key == "retry" and value.isdigit() and 1 <= int(value) <= 20:
                sc.retry = int(value)
            elif key.startswith("set "):
                sc.params[key[4:].strip()] = value
            else:
                raise FormatError(f"{where}: unknown scenario setting {key!r}")
        else:
            raise FormatError(f"{where}: cannot parse {line!r}")
    if in_body:
        raise FormatError(f"{path}: scenario {sname}: message body without its '.' line")
    flush()
    if not re.fullmatch(r"127\.\d{1,3}\.\d{1,3}\.\d{1,3}", sc.client):
        raise FormatError(f"{path}: scenario {sname}: client must be in 127.0.0.0/8, not {sc.client}")
    if not sc.steps:
        raise FormatError(f"{path}: scenario {sname} has no steps")
    sc.doc = " ".join(doc)
    return sc


def load_files(paths=None) -> list[CompatFile]:
    paths = paths or sorted(glob.glob(os.path.join(HERE, "*.compat")))
    return [parse_file(p) for p in paths]


# ---------------------------------------------------------------------------
# the tables directory and the servers

class TableDir:
    """The [table] files of one compat file in a temporary directory both
    servers can read, hash:/btree: ones also compiled with postmap for Postfix."""

    def __init__(self, cfile: CompatFile):
        self.cfile = cfile
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix="moat-compat-"))
        os.chmod(self.dir, 0o755)
        self.tables = os.path.join(self.dir, "tables")
        os.mkdir(self.tables, 0o755)
        with open(os.path.join(self.dir, "main.cf"), "w") as f:  # postmap -c needs one
            f.write("compatibility_level = 3.6\n")
        for name, text in cfile.tables.items():
            with open(os.path.join(self.tables, name), "w") as f:
                f.write(text)
        self._postmap()

    def _postmap(self) -> None:
        values = list(self.cfile.main_cf.values()) + [
            v for s in self.cfile.scenarios for v in s.params.values()]
        done = set()
        for value in values:
            for kind, name in re.findall(r"\b(\w+):" + re.escape(TABLES) + r"/([\w.-]+)", value):
                if kind in COMPILED_TYPES and (kind, name) not in done and os.path.exists(POSTMAP):
                    done.add((kind, name))
                    subprocess.run([POSTMAP, "-c", self.dir, f"{kind}:{self.tables}/{name}"],
                                   check=True, capture_output=True, timeout=30)

    def expand(self, params: dict) -> dict:
        return {k: v.replace(TABLES, self.tables) for k, v in params.items()}

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def session_log(server, before: int, timeout: float = 5.0) -> list[str]:
    """The maillog lines a session added after offset `before`, up to its
    `disconnect from` line (bounded wait), without their timestamp/host prefix."""
    deadline = time.monotonic() + timeout
    while True:
        text = server.log()[before:]
        if "disconnect from" in text or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    return [re.sub(r"^\w{3} [ \d]\d [\d:]{8} \S+ ", "", line) for line in text.splitlines()]


def params_for(cfile: CompatFile, scenario: Scenario, tables: TableDir) -> dict:
    return tables.expand({**td.COMMON, **cfile.main_cf, **scenario.params})


def converse(server, scenario: Scenario, timeout: float = STEP_TIMEOUT) -> list[Reply]:
    """Run the scenario's dialogue from its client address; the replies in
    order (banner first). Early steps are written before the banner is read.
    Once the server has closed the connection, every later reply is CLOSED."""
    replies: list[Reply] = []
    with RawClient(server.host, server.port, timeout=timeout, source=scenario.client) as c:
        early = [s for s in scenario.steps if s.kind == "early"]
        closed = False
        if early:
            try:
                c.send(b"".join(s.payload() for s in early))
            except OSError:
                closed = True
        replies.append(CLOSED if closed else c.read_reply_or_closed())
        closed = closed or replies[0].closed
        for step in scenario.ordered_steps():
            if not closed and step.kind != "early":
                try:
                    c.send(step.payload())
                except OSError:
                    closed = True
            for _ in range(step.replies):
                reply = CLOSED if closed else c.read_reply_or_closed()
                closed = closed or reply.closed
                replies.append(reply)
    return replies


# ---------------------------------------------------------------------------
# comparing

@dataclass
class Outcome:
    code_diffs: list  # "reply N (label): postfix X, moat Y"
    documented: list  # "reply N (label): documented difference: REASON (postfix X, moat Y)"
    text_diffs: list  # informational


def _flat(r: Reply | None) -> str:
    return "-" if r is None else str(r).replace("\n", " | ")


def compare(scenario: Scenario, expected: list[Reply], actual: list[Reply]) -> Outcome:
    labels = scenario.labels()
    info = scenario.reply_info()
    out = Outcome([], [], [])
    for i in range(max(len(expected), len(actual))):
        want = expected[i] if i < len(expected) else None
        got = actual[i] if i < len(actual) else None
        label = labels[i] if i < len(labels) else "?"
        step = info[i][0] if i < len(info) else None
        where = f"reply {i} ({label})"
        same_code = want is not None and got is not None and \
            (want.code, want.enhanced) == (got.code, got.enhanced)
        if same_code:
            if td.normalise_text(want) != td.normalise_text(got):
                out.text_diffs.append(f"{where}: text {_flat(want)!r} / {_flat(got)!r}")
            continue
        if step is not None and step.differs:
            out.documented.append(f"{where}: documented difference: {step.differs} "
                                  f"(postfix: {_flat(want)}; moat: {_flat(got)})")
        else:
            out.code_diffs.append(f"{where}: postfix: {_flat(want)}  moat: {_flat(got)}")
    return out


def expectation_failures(scenario: Scenario, expected: list[Reply],
                         who: str = "Postfix") -> list[str]:
    """The => expectations that `who`'s replies (Postfix's by default) do not meet."""
    labels = scenario.labels()
    problems = []
    want = scenario.banner_expect
    got = expected[0] if expected else None
    if want is not None and (got is None or got.code != want[0]
                             or (want[1] is not None and got.enhanced != want[1])):
        problems.append(f"reply 0 (banner): scenario expects {want[0]}"
                        f"{' ' + want[1] if want[1] else ''}, {who} answered {_flat(got)}")
    index = 1
    for step in scenario.ordered_steps():
        for k in range(step.replies):
            want = step.expect[k] if k < len(step.expect) else None
            got = expected[index] if index < len(expected) else None
            if want is not None and (got is None or got.code != want[0]
                                     or (want[1] is not None and got.enhanced != want[1])):
                problems.append(f"reply {index} ({labels[index]}): scenario expects "
                                f"{want[0]}{' ' + want[1] if want[1] else ''}, "
                                f"{who} answered {_flat(got)}")
            index += 1
    return problems


def lost_race(scenario: Scenario, expected: list[Reply]) -> bool:
    """A racing scenario (retry > 1) whose Postfix runs never met its expectations."""
    return scenario.retry > 1 and bool(expectation_failures(scenario, expected))


def report(scenario: Scenario, expected: list[Reply], actual: list[Reply] | None) -> str:
    """A side-by-side table: '!' codes differ, '~' only the text, '=' documented difference."""
    labels = scenario.labels()
    info = scenario.reply_info()
    rows = []
    n = max(len(expected), len(actual or []))
    for i in range(n):
        want = expected[i] if i < len(expected) else None
        label = td.short(labels[i] if i < len(labels) else "", 50)
        if actual is None:
            rows.append(f"   {label:<50} {_flat(want)}")
            continue
        got = actual[i] if i < len(actual) else None
        step = info[i][0] if i < len(info) else None
        if want is not None and got is not None and want.code == got.code and \
                want.enhanced == got.enhanced:
            if td.normalise_text(want) == td.normalise_text(got):
                rows.append(f"   {label:<50} {_flat(want)}")
                continue
            mark = "~"
        else:
            mark = "=" if step is not None and step.differs else "!"
        rows.append(f" {mark} {label:<50} postfix: {_flat(want)}")
        rows.append(f"   {'':<50} moat:    {_flat(got)}")
    return "\n".join(rows)


# ---------------------------------------------------------------------------
# a run of many scenarios, sharing servers

def postfix_factory(nsd):
    return lambda params: PostfixServer(params=params, aliases=td.ALIASES,
                                        virtual_users=td.VIRTUAL_USERS, dns=nsd)


def moat_factory(nsd):
    return lambda params: MoatServer(default_moat_binary(), params=params, aliases=td.ALIASES,
                                     virtual_users=td.VIRTUAL_USERS, dns=nsd)


class Runner:
    """Servers per distinct main.cf (td.ServerPool), one table directory per
    file. Files with [dns] get servers from their own pools, pointed at one
    NsdServer that is started on first use and shared."""

    def __init__(self, with_moat: bool = True):
        self.postfix = td.ServerPool(td.postfix_factory)
        self.moat = td.ServerPool(td.moat_factory) if with_moat else None
        self.nsd: NsdServer | None = None
        self.dns_postfix: td.ServerPool | None = None
        self.dns_moat: td.ServerPool | None = None
        self.tables: dict = {}
        self.failed_start: dict = {}  # (server kind, params key) -> message
        self.capture_log = False  # --log: keep each run's maillog lines
        self.session_log: dict = {}  # server kind -> the last run's log lines

    def _start_dns(self) -> None:
        if self.nsd is None:
            why = nsd_available() or resolver_isolation_problem()
            if why:  # the unittest entry point reports the scenario as skipped
                raise unittest.SkipTest(f"the test DNS world is not available: {why}")
            self.nsd = NsdServer().start()
            self.dns_postfix = td.ServerPool(postfix_factory(self.nsd))
            self.dns_moat = td.ServerPool(moat_factory(self.nsd))

    def pool(self, cfile: CompatFile, server_kind: str):
        if cfile.dns:
            self._start_dns()
            if server_kind == "postfix":
                return self.dns_postfix
            return self.dns_moat if self.moat is not None else None
        return self.postfix if server_kind == "postfix" else self.moat

    def table_dir(self, cfile: CompatFile) -> TableDir:
        if cfile.path not in self.tables:
            self.tables[cfile.path] = TableDir(cfile)
        return self.tables[cfile.path]

    def _server(self, pool, kind: str, params: dict):
        key = (kind, tuple(sorted(params.items())))
        if key in self.failed_start:
            raise RuntimeError(self.failed_start[key])
        try:
            return pool.get(params)
        except Exception as e:  # a config one server refuses: every scenario using it says so
            self.failed_start[key] = f"{kind} did not start with this main.cf: {e}"
            raise RuntimeError(self.failed_start[key]) from None

    def run(self, cfile: CompatFile, scenario: Scenario, server_kind: str) -> list[Reply]:
        params = params_for(cfile, scenario, self.table_dir(cfile))
        pool = self.pool(cfile, server_kind)
        server = self._server(pool, server_kind + (" (dns)" if cfile.dns else ""), params)
        before = len(server.log()) if self.capture_log else 0
        replies = converse(server, scenario)
        if self.capture_log:
            self.session_log[server_kind] = session_log(server, before)
        if server_kind == "moat":
            report_text, alive = server.sanitizer_report(), server.running()
            if report_text or not alive:
                stderr = server.stderr()[-4000:]
                pool.discard(params)
                raise RuntimeError(f"moat {'exited' if not alive else 'reported a sanitizer error'} "
                                   f"in {scenario.id}:\n{report_text or stderr}")
        return replies

    def run_pair(self, cfile: CompatFile, scenario: Scenario):
        """(Postfix's replies, moat's replies or None without moat). A scenario
        with `retry = N` races the server (bytes before the banner): Postfix
        runs until its replies meet the expectations, moat until its codes
        match Postfix's, each at most N times. RuntimeError when a server
        refuses the main.cf or moat dies."""
        expected = None
        for _ in range(scenario.retry):
            expected = self.run(cfile, scenario, "postfix")
            if not expectation_failures(scenario, expected):
                break
        # A race that Postfix lost every time (a warm smtpd greets before the
        # early bytes arrive): the scenario's expectations, which say what
        # Postfix answers when it sees them, are then moat's reference.
        lost = lost_race(scenario, expected)
        actual = None
        if self.moat is not None:
            for _ in range(scenario.retry):
                actual = self.run(cfile, scenario, "moat")
                if lost:
                    if not expectation_failures(scenario, actual, "moat"):
                        break
                elif not compare(scenario, expected, actual).code_diffs:
                    break
        return expected, actual

    def close(self) -> None:
        try:
            for pool in (self.moat, self.dns_moat):
                if pool:
                    pool.close()
        finally:
            try:
                for pool in (self.postfix, self.dns_postfix):
                    if pool:
                        pool.close()
            finally:
                for t in self.tables.values():
                    t.close()
                self.tables.clear()
                if self.nsd is not None:
                    self.nsd.stop()
                    self.nsd = None


# ---------------------------------------------------------------------------
# command line

def select(files: list[CompatFile], names: list[str]) -> list[tuple[CompatFile, Scenario]]:
    chosen = []
    for cfile in files:
        for sc in cfile.scenarios:
            if not names or any(n in (cfile.name, sc.id, sc.name) for n in names):
                chosen.append((cfile, sc))
    return chosen


def files_and_names(args: list[str]) -> tuple[list[CompatFile], list[str]]:
    """The suite's files plus any named by path (PATH or PATH:SCENARIO, e.g. a
    .compat.draft), and the names to select (a path selects its whole file)."""
    files = load_files()
    known = {os.path.realpath(f.path) for f in files}
    names = []
    for arg in args:
        path, _, scenario = arg.partition(":") if not os.path.exists(arg) else (arg, "", "")
        if os.path.isfile(path):
            cfile = parse_file(path)
            if os.path.realpath(path) not in known:
                files.append(cfile)
                known.add(os.path.realpath(path))
            names.append(f"{cfile.name}:{scenario}" if scenario else cfile.name)
        else:
            names.append(arg)
    return files, names


def show(args: list[str], with_moat: bool, with_log: bool = False) -> int:
    files, names = files_and_names(args)
    chosen = select(files, names)
    if not chosen:
        print(f"no scenario matches {names}", file=sys.stderr)
        return 2
    runner = Runner(with_moat)
    runner.capture_log = with_log
    totals = {"same": 0, "differ": 0, "documented": 0, "expect": 0, "error": 0}
    try:
        for cfile, sc in chosen:
            print(f"== {sc.id}  client {sc.client}"
                  + (f"  {sc.params}" if sc.params else "")
                  + (f"\n   {sc.doc}" if sc.doc else ""))
            actual = None
            try:
                expected, actual = runner.run_pair(cfile, sc)
            except unittest.SkipTest as e:
                print(f"  SKIPPED: {e}\n")
                totals["error"] += 1
                continue
            except RuntimeError as e:
                if not with_moat or str(e).startswith("postfix"):
                    print(f"  ERROR: {e}\n")
                    totals["error"] += 1
                    continue
                lines = str(e).splitlines()
                print("  moat ERROR: " + "\n    ".join(lines[:5])
                      + (f"\n    ... ({len(lines) - 5} more lines)" if len(lines) > 5 else ""))
                totals["error"] += 1
                runner.moat, saved = None, runner.moat  # Postfix's side alone
                try:
                    expected, _ = runner.run_pair(cfile, sc)
                finally:
                    runner.moat = saved
            print(report(sc, expected, actual))
            for kind, lines in sorted(runner.session_log.items(), reverse=True):
                print(f"  {kind} log:")
                for line in lines:
                    print(f"    {line}")
            runner.session_log.clear()
            for p in expectation_failures(sc, expected):
                print(f"  !! {p}")
                totals["expect"] += 1
            if actual is not None:
                out = compare(sc, expected, actual)
                for d in out.documented:
                    print(f"  documented: {d}")
                if sc.differs:
                    print(f"  scenario differs on purpose: {sc.differs}")
                key = "differ" if out.code_diffs and not sc.differs else \
                    "documented" if out.documented or sc.differs else "same"
                totals[key] += 1
            print()
    finally:
        runner.close()
    print("totals: " + ", ".join(f"{k}={v}" for k, v in totals.items()))
    return 0


def main(argv: list[str]) -> int:
    if "--list" in argv:
        files, _ = files_and_names([a for a in argv if not a.startswith("--")])
        for cfile in files:
            for sc in cfile.scenarios:
                print(f"{sc.id:<50} client {sc.client:<12} steps {len(sc.steps)}")
        return 0
    if "--show" in argv:
        args = [a for a in argv if not a.startswith("--")]
        return show(args, "--moat" in argv, "--log" in argv)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
