"""The test DNS world: a real NSD serving tests/fixtures/dns/ on 127.53.X.Y:53.

    with NsdServer() as nsd:
        nsd.address   # "127.53.X.Y"     (resolv.conf: nameserver 127.53.X.Y)
        nsd.server    # "127.53.X.Y:53"  (moat_dns_servers)
        nsd.query("good.dns.test", "A")   # -> DnsAnswer(rcode=0, answers=[...])
        with MoatServer(dns=nsd) as m, PostfixServer(dns=nsd) as pf:
            ...

NsdServer runs Debian's /usr/sbin/nsd in the foreground (`nsd -d -c CONF`)
out of a temporary directory with a generated nsd.conf: no chroot, no
privilege drop, no nsd.db, no remote control, response-rate-limiting off
(Debian's default drops answers under load), IPv4 only. It listens on a
random 127.53.X.Y, port 53 (glibc's resolv.conf cannot name a port, and
Postfix resolves through glibc), chosen so that parallel instances never
collide: an address is taken only when both its UDP and TCP port 53 can be
bound right now, and the pick is retried if NSD still fails to bind it.

Zones: every tests/fixtures/dns/NAME.zone is served as a primary for NAME;
the zones in SERVFAIL_ZONES are served as secondaries of a dead primary
(127.0.0.1@9, where nothing listens): NSD never loads them, so every name
in them answers SERVFAIL, a temporary DNS failure. See
tests/fixtures/dns/README.md for what each name is for.

Readiness: a raw UDP query for `harness.test TXT` answers this instance's
own random token (a zone written per instance), so an answer from another
NSD that happens to hold the same address cannot pass for ours; and
good.dns.test A must answer (the fixture zones loaded). Bounded waits.
Stopping: SIGTERM, bounded wait, then SIGKILL of its process group; also at
interpreter exit (atexit), like the other harness servers.

SilentDnsServer is a UDP and TCP socket on a loopback port that reads and
never answers: a name server that times out. With port53=True it takes a
127.53.X.Y:53 like NsdServer and can be given as `dns=` to PostfixServer and
MoatServer instead of one.

Standard library only.
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
from dataclasses import dataclass, field

__all__ = [
    "NsdServer",
    "SilentDnsServer",
    "DnsAnswer",
    "dns_query",
    "nsd_available",
    "FIXTURES",
    "HOSTS_FILE",
    "SERVFAIL_ZONES",
    "UNUSED_DNS_ADDRESS",
]

NSD = "/usr/sbin/nsd"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "dns")
# 127.0.0.1 and ::1 "localhost" only: moat_dns_hosts_file for moat, bind-mounted
# over /etc/hosts for Postfix.
HOSTS_FILE = os.path.join(FIXTURES, "hosts")
# Served as secondaries of a dead primary: every name in them answers SERVFAIL.
SERVFAIL_ZONES = ("servfail.test", "9.0.127.in-addr.arpa")
DEAD_PRIMARY = "127.0.0.1@9"
# A loopback address in NSD's range that NsdServer never picks: nothing
# listens on it, so a resolver pointed there fails fast (ICMP port
# unreachable) and never sends queries off the machine.
UNUSED_DNS_ADDRESS = "127.53.255.254"
READY_NAME = ("good.dns.test", "A")
INSTANCE_ZONE = "harness.test"  # per instance: TXT = a random token, for readiness

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def nsd_available() -> str | None:
    """None when NSD can run here, else why not."""
    if not os.access(NSD, os.X_OK):
        return "nsd is not installed (apt-get install nsd)"
    if os.geteuid() != 0:
        return "NsdServer binds port 53 and needs root"
    return None


# ---------------------------------------------------------------------------
# a minimal DNS client (raw UDP, one question), for readiness and test checks

@dataclass
class DnsAnswer:
    rcode: int
    answers: list = field(default_factory=list)  # [(name, type name or number, text)]
    aa: bool = False

    @property
    def rcode_name(self) -> str:
        return RCODES.get(self.rcode, str(self.rcode))

    def values(self, rtype: str | None = None) -> list[str]:
        return [v for _n, t, v in self.answers if rtype is None or t == rtype]


def _encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode("ascii")
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def _read_name(msg: bytes, pos: int) -> tuple[str, int]:
    labels, end, jumps = [], None, 0
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            jumps += 1
            if jumps > 64:
                raise ValueError("compression loop")
            continue
        if n == 0:
            pos += 1
            break
        labels.append(msg[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(labels) + ".", (end if end is not None else pos)


def _rdata_text(msg: bytes, rtype: int, start: int, length: int) -> str:
    rd = msg[start : start + length]
    if rtype == 1 and length == 4:
        return socket.inet_ntop(socket.AF_INET, rd)
    if rtype == 28 and length == 16:
        return socket.inet_ntop(socket.AF_INET6, rd)
    if rtype in (2, 5, 12):
        return _read_name(msg, start)[0]
    if rtype == 15:
        return f"{struct.unpack('!H', rd[:2])[0]} {_read_name(msg, start + 2)[0]}"
    if rtype == 16:
        parts, i = [], 0
        while i < len(rd):
            n = rd[i]
            parts.append(rd[i + 1 : i + 1 + n].decode("utf-8", "replace"))
            i += 1 + n
        return "".join(parts)
    return rd.hex()


def parse_response(msg: bytes, qid: int | None = None) -> DnsAnswer:
    rid, flags, qd, an, _ns, _ar = struct.unpack("!6H", msg[:12])
    if qid is not None and rid != qid:
        raise ValueError("wrong query id")
    pos = 12
    for _ in range(qd):
        _, pos = _read_name(msg, pos)
        pos += 4
    answers = []
    for _ in range(an):
        name, pos = _read_name(msg, pos)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[pos : pos + 10])
        pos += 10
        tname = next((k for k, v in TYPES.items() if v == rtype), rtype)
        answers.append((name, tname, _rdata_text(msg, rtype, pos, rdlen)))
        pos += rdlen
    return DnsAnswer(rcode=flags & 0xF, answers=answers, aa=bool(flags & 0x0400))


def dns_query(server: str, name: str, rtype: str = "A", port: int = 53,
              timeout: float = 2.0) -> DnsAnswer:
    """One UDP query to server:port; raises socket.timeout / OSError."""
    qid = random.randrange(1 << 16)
    packet = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + _encode_name(name) + \
        struct.pack("!HH", TYPES[rtype] if isinstance(rtype, str) else rtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.connect((server, port))
        s.send(packet)
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            data = s.recv(65535)
            try:
                return parse_response(data, qid)
            except (ValueError, IndexError, struct.error):
                if time.monotonic() >= deadline:
                    raise socket.timeout("no valid answer")


# ---------------------------------------------------------------------------

def _bindable(address: str, port: int = 53) -> bool:
    """Both UDP and TCP address:port can be bound right now."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((address, port))
            except OSError:
                return False
    return True


def _pick_address(rng: random.Random) -> str:
    for _ in range(200):
        address = f"127.53.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"
        if address != UNUSED_DNS_ADDRESS and _bindable(address):
            return address
    raise RuntimeError(
        "no bindable 127.53.X.Y:53 found: is something listening on port 53 of all "
        "addresses (a system nsd or named)? `systemctl disable --now nsd`")


class NsdServer:
    """A private NSD on 127.53.X.Y:53 serving the fixture zones. See the module doc."""

    def __init__(
        self,
        zones_dir: str = FIXTURES,
        servfail_zones=SERVFAIL_ZONES,
        address: str | None = None,
        start_timeout: float = 15.0,
        stop_timeout: float = 10.0,
        verbosity: int = 1,
        keep_dir: bool = False,
    ):
        self.zones_dir = os.path.abspath(zones_dir)
        self.servfail_zones = tuple(servfail_zones)
        self.fixed_address = address
        self.address: str | None = None
        self.port = 53
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.verbosity = verbosity
        self.keep_dir = keep_dir
        self.dir: str | None = None
        self.proc: subprocess.Popen | None = None
        self._stderr = None
        self._token = ""

    @property
    def server(self) -> str:
        """HOST:PORT, for moat_dns_servers."""
        return f"{self.address}:{self.port}"

    def zones(self) -> list[str]:
        """The zones served as primaries: NAME for every NAME.zone in zones_dir."""
        return sorted(f[: -len(".zone")] for f in os.listdir(self.zones_dir) if f.endswith(".zone"))

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> "NsdServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "NsdServer":
        why = nsd_available()
        if why:
            raise RuntimeError(why)
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix="nsd-test-"))
        atexit.register(self._atexit)
        rng = random.Random()
        last = ""
        try:
            for _attempt in range(5):
                self.address = self.fixed_address or _pick_address(rng)
                self._write_conf()
                self._spawn()
                ok, last = self._wait_ready()
                if ok:
                    return self
                self._kill()
                if self.fixed_address:
                    break
            raise RuntimeError(f"nsd did not answer on {self.server}: {last}\n{self.log()}")
        except BaseException:
            self.stop()
            raise

    def _write_conf(self) -> None:
        d = self.dir
        self._token = os.urandom(8).hex()
        with open(os.path.join(d, INSTANCE_ZONE + ".zone"), "w") as f:
            f.write(f"$ORIGIN {INSTANCE_ZONE}.\n$TTL 300\n"
                    f"@ SOA ns.dns.test. hostmaster.dns.test. 1 3600 600 86400 300\n"
                    f"@ NS ns.dns.test.\n@ TXT \"{self._token}\"\n")
        lines = [
            "server:",
            f"    ip-address: {self.address}@{self.port}",
            "    do-ip4: yes",
            "    do-ip6: no",
            "    server-count: 1",
            '    username: ""',
            '    chroot: ""',
            f'    zonesdir: "{self.zones_dir}"',
            '    database: ""',
            f'    zonelistfile: "{d}/zone.list"',
            f'    xfrdfile: "{d}/xfrd.state"',
            f'    xfrdir: "{d}"',
            f'    pidfile: "{d}/nsd.pid"',
            f'    logfile: "{d}/nsd.log"',
            "    log-only-syslog: no",
            f"    verbosity: {self.verbosity}",
            "    hide-version: yes",
            "    rrl-ratelimit: 0",
            "    rrl-whitelist-ratelimit: 0",
            "    round-robin: no",
            "    zonefiles-write: 0",
            "",
            "remote-control:",
            "    control-enable: no",
            "",
        ]
        for name in self.zones():
            lines += ["zone:", f"    name: {name}", f'    zonefile: "{self.zones_dir}/{name}.zone"', ""]
        lines += ["zone:", f"    name: {INSTANCE_ZONE}",
                  f'    zonefile: "{d}/{INSTANCE_ZONE}.zone"', ""]
        for name in self.servfail_zones:
            lines += [
                "zone:",
                f"    name: {name}",
                f'    zonefile: "{d}/{name}.secondary"',  # never written: the primary is dead
                f"    request-xfr: {DEAD_PRIMARY} NOKEY",
                f"    allow-notify: {DEAD_PRIMARY.split('@')[0]} NOKEY",
                "",
            ]
        with open(os.path.join(d, "nsd.conf"), "w") as f:
            f.write("\n".join(lines))

    def _spawn(self) -> None:
        if self._stderr:
            self._stderr.close()
        self._stderr = open(os.path.join(self.dir, "stderr"), "ab")
        self.proc = subprocess.Popen(
            [NSD, "-d", "-c", os.path.join(self.dir, "nsd.conf")],
            stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr,
            cwd=self.dir, start_new_session=True,
        )

    def _wait_ready(self) -> tuple[bool, str]:
        deadline = time.monotonic() + self.start_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, f"nsd exited with {self.proc.returncode}"
            try:
                mine = dns_query(self.address, INSTANCE_ZONE, "TXT", port=self.port, timeout=0.3)
                if mine.values("TXT") == [self._token]:
                    answer = dns_query(self.address, *READY_NAME, port=self.port, timeout=0.3)
                    if answer.rcode == 0 and answer.answers:
                        return True, ""
                    last = f"{' '.join(READY_NAME)}: {answer.rcode_name} {answer.answers}"
                else:
                    last = f"{INSTANCE_ZONE} TXT: {mine.rcode_name} {mine.answers} (not this instance's)"
            except OSError as e:
                last = str(e) or type(e).__name__
            time.sleep(0.02)
        return False, f"{last} within {self.start_timeout}s"

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        # nsd -d forks its server and xfrd children into its process group
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self) -> None:
        """SIGTERM, bounded wait, SIGKILL; idempotent."""
        self._kill()
        if self._stderr:
            self._stderr.close()
            self._stderr = None
        if self.dir and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def _atexit(self) -> None:
        self.stop()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- observation -------------------------------------------------------
    def log(self) -> str:
        if not self.dir:
            return ""
        out = []
        for name in ("nsd.log", "stderr"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out.append(f.read())
            except FileNotFoundError:
                pass
        return "".join(out)

    def query(self, name: str, rtype: str = "A", timeout: float = 2.0) -> DnsAnswer:
        return dns_query(self.address, name, rtype, port=self.port, timeout=timeout)


@unittest.skipIf(nsd_available() is not None, f"NSD: {nsd_available()}")
class NsdTestCase(unittest.TestCase):
    """Tests of one class share one NSD serving the test DNS world
    (self.nsd), started before the first and stopped after the last."""

    nsd: NsdServer

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nsd = NsdServer().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.nsd.__exit__(None, None, None)
        super().tearDownClass()


class SilentDnsServer:
    """A name server that never answers: UDP and TCP sockets on a loopback
    port (the same number for both) that read and discard. For timeouts.

        with SilentDnsServer() as silent:
            params["moat_dns_servers"] = silent.server   # "127.0.0.1:PORT"

    SilentDnsServer(port53=True) listens on a random 127.53.X.Y:53 instead,
    like NsdServer, so it can stand in for one: PostfixServer(dns=silent)
    (resolv.conf names only an address) and MoatServer(dns=silent) both wait
    for it (1 s per query with their test settings).
    """

    def __init__(self, host: str = "127.0.0.1", port53: bool = False):
        self.host = host
        self.port53 = port53
        self.port: int | None = None
        self.queries = 0  # UDP datagrams and TCP connections seen
        self._udp = self._tcp = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def address(self) -> str:
        return self.host

    def __enter__(self) -> "SilentDnsServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "SilentDnsServer":
        rng = random.Random()
        for _ in range(50):
            if self.port53:
                self.host = _pick_address(rng)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind((self.host, 53 if self.port53 else 0))
            except OSError:
                udp.close()
                continue
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            self._udp, self._tcp, self.port = udp, tcp, port
            break
        else:
            raise RuntimeError("no loopback port free for both UDP and TCP")
        for s in (self._udp, self._tcp):
            s.settimeout(0.1)
        for target in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)
        atexit.register(self.stop)
        return self

    def _udp_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._udp.recv(65535)
                self.queries += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def _tcp_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
                self.queries += 1
                conn.setblocking(False)
                self._conns.append(conn)  # held open, never answered
            except socket.timeout:
                continue
            except OSError:
                return
            for c in list(self._conns):  # drain what was sent
                try:
                    c.recv(65535)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()
        for s in [self._udp, self._tcp, *self._conns]:
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        self._udp = self._tcp = None
        self._conns.clear()


if __name__ == "__main__":  # manual check: python3 tests/integration/harness/nsd.py NAME TYPE ...
    import sys

    with NsdServer() as nsd:
        print(f"nsd on {nsd.server}, dir {nsd.dir}", file=sys.stderr)
        args = sys.argv[1:] or ["good.dns.test", "A"]
        for i in range(0, len(args), 2):
            name, rtype = args[i], (args[i + 1] if i + 1 < len(args) else "A")
            a = nsd.query(name, rtype)
            print(f"{name} {rtype}: {a.rcode_name} {a.answers}")
