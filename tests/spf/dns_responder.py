"""An authoritative DNS responder on loopback serving one SPF-suite scenario.

    with DnsResponder() as dns:          # 127.0.0.1, ephemeral port, UDP + TCP
        dns.port                         # the same number for UDP and TCP
        dns.load(scenario["zonedata"])   # switch scenarios without restarting

It speaks DNS wire format (RFC 1035) over UDP and TCP on one port number and
serves the `zonedata` of an OpenSPF test-suite scenario (see
/work/shared/testdata/spf/README.md) as if it were authoritative for the
root zone, so every name is "in zone":

- Names are compared by their raw wire labels, ASCII case-insensitively.
  The query name is parsed label by label from the wire and never turned
  into text (the suite has names with spaces, '%', ':', '/' ...). The
  zonedata keys and targets are split on '.' into labels.
- Record forms: A, AAAA, MX [pref, exchange] (exchange "" is the root),
  PTR, CNAME, TXT and SPF (type 99): a string is one character-string, a
  list is several in one record, [] is a record with none; strings are
  encoded as Latin-1 (the suite writes bytes as "\\xNN" escapes), strings
  longer than 255 octets would be split in 255-octet pieces.
- SPF to TXT copy: a name's SPF records are also served as TXT unless the
  name lists TXT itself. `TXT: NONE` means no TXT (it only stops the copy).
- TIMEOUT: the name never gets an answer (UDP or TCP) for any type it has no
  records of; types it lists real records for answer normally.
- Names not in the data (and not ancestors of names in it, which are empty
  non-terminals) answer NXDOMAIN; existing names without the type answer
  NOERROR with no data. Both carry the root SOA in the authority section
  (negative caching, RFC 2308). AA is set on every answer.
- CNAME: a name with a CNAME answers it for every other type, followed by
  the chain inside the data (loops stop, at most 16 hops) and the records of
  the final target; the RCODE is the final target's (NXDOMAIN when it does
  not exist, RFC 6604). A chain into a TIMEOUT name is not answered at all,
  as a recursive resolver chasing it would time out.
- Records are served as listed, duplicates included (rfc*-tests multispf has
  the same SPF record twice on purpose).
- UDP answers longer than 512 octets (or the client's EDNS size, up to 1232,
  when the query has an OPT record) are truncated: TC set, no records, so the
  client retries over TCP. Queries with an OPT get an OPT back.
- Other opcodes: NOTIMP; not class IN (or ANY): REFUSED; malformed: FORMERR
  (or dropped when the header cannot be read).

Standard library only (socket, struct, threading).
"""

from __future__ import annotations

import socket
import struct
import threading

__all__ = ["DnsResponder", "TYPES", "name_labels"]

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SPF": 99}
QTYPE_ANY = 255
CLASS_IN, CLASS_ANY = 1, 255
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
MAX_CNAME_HOPS = 16
EDNS_MAX = 1232


def name_labels(name: str) -> tuple[bytes, ...]:
    """The labels of a name written in the suite ('a.b.', 'a.b' or '' for the root)."""
    if name.endswith("."):
        name = name[:-1]
    if not name:
        return ()
    return tuple(_text_bytes(label) for label in name.split("."))


def _text_bytes(s: str) -> bytes:
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def _key(labels) -> tuple[bytes, ...]:
    return tuple(label.lower() for label in labels)


def _wire_name(labels: tuple[bytes, ...]) -> bytes:
    out = bytearray()
    for label in labels:
        if not 0 < len(label) < 64:
            raise ValueError(f"label {label!r} cannot be encoded")
        out.append(len(label))
        out += label
    out.append(0)
    return bytes(out)


def _character_strings(value) -> bytes:
    strings = [value] if isinstance(value, str) else list(value)
    out = bytearray()
    for s in strings:
        raw = _text_bytes(str(s))
        if not raw:
            out.append(0)
        while raw:
            piece, raw = raw[:255], raw[255:]
            out.append(len(piece))
            out += piece
    return bytes(out)


class _Zone:
    """One scenario's data: key -> [(type, owner labels as written, rdata)], timeouts."""

    def __init__(self, zonedata: dict | None):
        self.records: dict[tuple, list[tuple[int, bytes]]] = {}
        self.timeout: set[tuple] = set()
        self.names: set[tuple] = set()      # existing names incl. empty non-terminals
        for name, entries in (zonedata or {}).items():
            key = _key(name_labels(str(name)))
            rrs = self.records.setdefault(key, [])
            for k in range(len(key) + 1):
                self.names.add(key[k:])
            entries = entries or []
            lists_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
            for entry in entries:
                if isinstance(entry, str):
                    if entry.upper() == "TIMEOUT":
                        self.timeout.add(key)
                        continue
                    raise ValueError(f"{name}: unknown zonedata entry {entry!r}")
                for rtype, value in entry.items():
                    rtype = str(rtype).upper()
                    if value == "NONE":
                        continue
                    if value == "TIMEOUT":          # per-type timeout form
                        self.timeout.add(key)
                        continue
                    rdata = self._rdata(name, rtype, value)
                    rrs.append((TYPES[rtype], rdata))
                    if rtype == "SPF" and not lists_txt:
                        rrs.append((TYPES["TXT"], rdata))
        # keep TXT copies after the records as written; order within a type kept

    @staticmethod
    def _rdata(name, rtype: str, value) -> bytes:
        if rtype == "A":
            return socket.inet_pton(socket.AF_INET, str(value))
        if rtype == "AAAA":
            return socket.inet_pton(socket.AF_INET6, str(value))
        if rtype == "MX":
            pref, exchange = value
            return struct.pack("!H", int(pref)) + _wire_name(name_labels(str(exchange)))
        if rtype in ("PTR", "CNAME", "NS"):
            return _wire_name(name_labels(str(value)))
        if rtype in ("TXT", "SPF"):
            return _character_strings(value)
        raise ValueError(f"{name}: unsupported record type {rtype}")

    def cname_target(self, key) -> tuple | None:
        for rtype, rdata in self.records.get(key, ()):
            if rtype == TYPES["CNAME"]:
                return _key(_read_labels(rdata, 0)[0])
        return None

    def rrset(self, key, qtype: int) -> list[tuple[int, bytes]]:
        return [(t, r) for t, r in self.records.get(key, ()) if qtype in (t, QTYPE_ANY)]


def _read_labels(msg: bytes, pos: int) -> tuple[tuple[bytes, ...], int]:
    """Uncompressed labels at pos (question names, our own rdata)."""
    labels = []
    while True:
        if pos >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[pos]
        if n == 0:
            return tuple(labels), pos + 1
        if n & 0xC0:
            raise ValueError("compressed or extended label in a question")
        if pos + 1 + n > len(msg):
            raise ValueError("label runs past the message")
        labels.append(bytes(msg[pos + 1:pos + 1 + n]))
        pos += 1 + n


SOA_RDATA = (_wire_name(name_labels("ns.spf-suite.test")) + _wire_name(name_labels("hostmaster.spf-suite.test"))
             + struct.pack("!IIIII", 1, 3600, 600, 86400, 60))


class DnsResponder:
    """See the module doc. load() swaps the served zonedata atomically."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ttl: int = 60):
        self.host = host
        self.ttl = ttl
        self._zone = _Zone({})
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.queries = 0
        self.unanswered = 0
        self.udp, self.tcp = self._bind(port)
        self.port = self.udp.getsockname()[1]

    # -- lifecycle ---------------------------------------------------------

    def _bind(self, port: int):
        last = None
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                udp.bind((self.host, port))
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((self.host, udp.getsockname()[1]))
                tcp.listen(64)
                return udp, tcp
            except OSError as e:
                last = e
                udp.close()
                tcp.close()
                if port:
                    break
        raise OSError(f"cannot bind UDP and TCP on {self.host}:{port or 'ephemeral'}: {last}")

    def start(self) -> "DnsResponder":
        for target in (self._serve_udp, self._serve_tcp):
            t = threading.Thread(target=target, daemon=True, name=f"dns-{target.__name__}")
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for s in [self.udp, self.tcp, *list(self._conns)]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self) -> "DnsResponder":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    def load(self, zonedata: dict | None) -> None:
        """Serve this scenario's zonedata from now on (replaces the previous one)."""
        self._zone = _Zone(zonedata)

    # -- transport ---------------------------------------------------------

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                msg, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            if self._stop.is_set():
                return
            reply = self.answer(msg, udp=True)
            if reply is not None:
                try:
                    self.udp.sendto(reply, peer)
                except OSError:
                    pass

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve_conn, args=(conn,), daemon=True)
            t.start()

    def _serve_conn(self, conn: socket.socket) -> None:
        self._conns.add(conn)
        conn.settimeout(60)
        try:
            while not self._stop.is_set():
                head = self._recv_exact(conn, 2)
                if head is None:
                    return
                msg = self._recv_exact(conn, struct.unpack("!H", head)[0])
                if msg is None:
                    return
                reply = self.answer(msg, udp=False)
                if reply is not None:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            pass
        finally:
            self._conns.discard(conn)
            conn.close()

    @staticmethod
    def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    # -- the answer --------------------------------------------------------

    def answer(self, msg: bytes, udp: bool) -> bytes | None:
        """The reply to one query message, or None to stay silent."""
        with self._lock:
            self.queries += 1
        if len(msg) < 12:
            return None
        qid, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
        if flags & 0x8000:                       # a response: ignore
            return None
        opcode = (flags >> 11) & 0xF
        rd = flags & 0x0100
        if opcode != 0:
            return struct.pack("!6H", qid, 0x8000 | (opcode << 11) | rd | NOTIMP, 0, 0, 0, 0)
        try:
            if qd != 1:
                raise ValueError("QDCOUNT != 1")
            qlabels, pos = _read_labels(msg, 12)
            if pos + 4 > len(msg):
                raise ValueError("short question")
            qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
            question = msg[12:pos + 4]
            edns = self._edns_size(msg, pos + 4, an, ns, ar)
        except (ValueError, struct.error, IndexError):
            return struct.pack("!6H", qid, 0x8000 | rd | FORMERR, 0, 0, 0, 0)

        opt = b""
        limit = 512
        if edns is not None:
            opt = b"\0" + struct.pack("!HHIH", 41, EDNS_MAX, 0, 0)
            limit = min(max(edns, 512), EDNS_MAX)

        def reply(rcode, answers=(), authority=(), aa=True):
            hflags = 0x8000 | (0x0400 if aa else 0) | rd | rcode
            body = b"".join(answers) + b"".join(authority)
            out = (struct.pack("!6H", qid, hflags, 1, len(answers), len(authority), 1 if opt else 0)
                   + question + body + opt)
            if udp and len(out) > limit:
                out = struct.pack("!6H", qid, hflags | 0x0200, 1, 0, 0, 1 if opt else 0) + question + opt
            return out

        if qclass not in (CLASS_IN, CLASS_ANY):
            return reply(REFUSED, aa=False)

        zone = self._zone
        owner = msg[12:pos]                     # the query name exactly as asked
        key = _key(qlabels)
        answers: list[bytes] = []
        seen = set()
        hops = 0
        cname_type = TYPES["CNAME"]
        while True:
            if key in zone.timeout and not zone.rrset(key, qtype) and not (
                    qtype != cname_type and zone.cname_target(key) is not None):
                with self._lock:
                    self.unanswered += 1
                return None                      # TIMEOUT: never answer
            if key not in zone.names:
                return reply(NXDOMAIN, answers, [self._soa()])
            target = zone.cname_target(key) if qtype not in (cname_type, QTYPE_ANY) else None
            if target is not None:
                cname_rdata = next(r for t, r in zone.records[key] if t == cname_type)
                answers.append(self._rr(owner, cname_type, cname_rdata))
                seen.add(key)
                hops += 1
                if target in seen or hops > MAX_CNAME_HOPS:
                    break
                key = target
                owner = _wire_name(target)
                continue
            for rtype, rdata in zone.rrset(key, qtype):
                answers.append(self._rr(owner, rtype, rdata))
            break
        # NODATA (also at the end of a CNAME chain) carries the SOA
        has_data = key in zone.names and bool(zone.rrset(key, qtype))
        return reply(NOERROR, answers, [] if has_data else [self._soa()])

    def _rr(self, owner: bytes, rtype: int, rdata: bytes) -> bytes:
        return owner + struct.pack("!HHIH", rtype, CLASS_IN, self.ttl, len(rdata)) + rdata

    def _soa(self) -> bytes:
        return b"\0" + struct.pack("!HHIH", TYPES["SOA"], CLASS_IN, self.ttl, len(SOA_RDATA)) + SOA_RDATA

    @staticmethod
    def _edns_size(msg: bytes, pos: int, an: int, ns: int, ar: int) -> int | None:
        """The UDP payload size of the query's OPT record, if it has one."""
        if an or ns or not ar:
            return None
        for _ in range(ar):
            if pos >= len(msg):
                return None
            # skip the owner name (may be compressed in principle)
            while True:
                n = msg[pos]
                if n == 0:
                    pos += 1
                    break
                if n & 0xC0 == 0xC0:
                    pos += 2
                    break
                pos += 1 + n
            rtype, rclass, _ttl, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
            if rtype == 41:
                return rclass
            pos += 10 + rdlen
        return None


if __name__ == "__main__":   # serve a YAML scenario by index for manual digging
    import sys
    import time

    import yaml

    path, index = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with open(path, "rb") as f:
        scenario = list(yaml.safe_load_all(f))[index]
    with DnsResponder() as r:
        r.load(scenario["zonedata"])
        print(f"serving {scenario['description']!r} on {r.server} (UDP+TCP); Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
