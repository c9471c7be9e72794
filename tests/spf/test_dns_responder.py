#!/usr/bin/python3
"""Checks of tests/spf/dns_responder.py with a raw wire-format client.

    /usr/bin/python3 tests/spf/test_dns_responder.py     (about 2 s)

Standard library only: the queries are built by hand, so names with spaces,
'%', mixed case and 63-octet labels reach the responder exactly as written.
"""

import os
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dns_responder import DnsResponder  # noqa: E402

A, CNAME, SOA, PTR, MX, TXT, AAAA, SPF = 1, 5, 6, 12, 15, 16, 28, 99
LONG = "x" * 63

ZONE = {
    "example.com": [{"SPF": "v=spf1 -all"}, {"A": "192.0.2.1"}, {"MX": [10, "mx.Example.com."]}],
    "both.example.com": [{"SPF": "v=spf1 ?all"}, {"TXT": "v=spf1 +all"}],
    "none.example.com": [{"SPF": "v=spf1 -all"}, {"TXT": "NONE"}],
    "multi.example.com": [{"TXT": ["v=spf1 ", "-all"]}, {"SPF": []}],
    "macro%percent  space%20url-space.example.com": [{"TXT": "spaces"}],
    f"{LONG}.example.com": [{"TXT": "long label"}],
    "bytes.example.com": [{"TXT": "\xEF\xBB\xBFx\0"}],
    "six.example.com": [{"AAAA": "2001:db8::1"}],
    "1.2.0.192.in-addr.arpa": [{"PTR": "Example.COM."}],
    "nullmx.example.com": [{"MX": [0, ""]}],
    "alias.example.org": [{"CNAME": "hop.example.org"}],
    "hop.example.org": [{"CNAME": "Target.example.org."}],
    "target.example.org": [{"TXT": "end of chain"}],
    "dangling.example.org": [{"CNAME": "missing.example.org"}],
    "loop.example.org": [{"CNAME": "loop.example.org"}],
    "spftimeout.example.net": [{"TXT": "v=spf1 -all"}, "TIMEOUT"],
    "txttimeout.example.net": [{"SPF": "v=spf1 -all"}, {"TXT": "NONE"}, "TIMEOUT"],
    "alltimeout.example.net": ["TIMEOUT"],
    "big.example.com": [{"TXT": "y" * 200}] * 3,
    "a.b.deep.example.com": [{"A": "192.0.2.9"}],
}


def encode_labels(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def query_msg(labels, qtype, qid=0x1234, edns=None):
    head = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    msg = head + encode_labels(labels) + struct.pack("!HH", qtype, 1)
    if edns:
        msg += b"\0" + struct.pack("!HHIH", 41, edns, 0, 0)
    return msg


def read_name(msg, pos):
    labels, end = [], None
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            end = end or pos + 2
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            continue
        if n == 0:
            return labels, (end or pos + 1)
        labels.append(msg[pos + 1:pos + 1 + n])
        pos += 1 + n


def parse(msg):
    qid, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    pos = 12
    qlabels, pos = read_name(msg, pos)
    pos += 4
    sections = []
    for count in (an, ns, ar):
        rrs = []
        for _ in range(count):
            owner, pos = read_name(msg, pos)
            rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
            pos += 10
            rrs.append((b".".join(owner), rtype, msg[pos:pos + rdlen], pos))
            pos += rdlen
        sections.append(rrs)
    return {"id": qid, "rcode": flags & 0xF, "aa": bool(flags & 0x400), "tc": bool(flags & 0x200),
            "question": qlabels, "answer": sections[0], "authority": sections[1],
            "additional": sections[2], "msg": msg}


def txt_strings(rdata):
    out, pos = [], 0
    while pos < len(rdata):
        n = rdata[pos]
        out.append(rdata[pos + 1:pos + 1 + n])
        pos += 1 + n
    return out


def labels(name):
    return [l.encode("latin-1") for l in name.split(".")]


class ResponderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = DnsResponder().start()
        cls.r.load(ZONE)

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def udp(self, name, qtype, timeout=2.0, edns=None):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(query_msg(labels(name) if isinstance(name, str) else name, qtype, edns=edns),
                     ("127.0.0.1", self.r.port))
            return parse(s.recv(65535))

    def tcp(self, name, qtype, timeout=2.0):
        with socket.create_connection(("127.0.0.1", self.r.port), timeout=timeout) as s:
            q = query_msg(labels(name) if isinstance(name, str) else name, qtype)
            s.sendall(struct.pack("!H", len(q)) + q)
            n = struct.unpack("!H", s.recv(2))[0]
            buf = b""
            while len(buf) < n:
                buf += s.recv(n - len(buf))
            return parse(buf)

    def test_answer_aa_case_insensitive_question_echoed(self):
        a = self.udp("eXaMpLe.CoM", A)
        self.assertEqual((a["rcode"], a["aa"], a["id"]), (0, True, 0x1234))
        self.assertEqual(a["question"], [b"eXaMpLe", b"CoM"])
        self.assertEqual([socket.inet_ntoa(rd) for _o, t, rd, _p in a["answer"] if t == A], ["192.0.2.1"])

    def test_spf_copied_to_txt_unless_txt_listed(self):
        self.assertEqual(txt_strings(self.udp("example.com", TXT)["answer"][0][2]), [b"v=spf1 -all"])
        self.assertEqual(txt_strings(self.udp("example.com", SPF)["answer"][0][2]), [b"v=spf1 -all"])
        both = self.udp("both.example.com", TXT)["answer"]
        self.assertEqual([txt_strings(rd) for _o, _t, rd, _p in both], [[b"v=spf1 +all"]])
        none = self.udp("none.example.com", TXT)
        self.assertEqual((none["rcode"], none["answer"]), (0, []))
        self.assertEqual(len(self.udp("none.example.com", SPF)["answer"]), 1)

    def test_character_strings(self):
        multi = self.udp("multi.example.com", TXT)["answer"]
        self.assertEqual([txt_strings(rd) for _o, t, rd, _p in multi], [[b"v=spf1 ", b"-all"]])
        empty = self.udp("multi.example.com", SPF)["answer"]
        self.assertEqual([rd for _o, _t, rd, _p in empty], [b""])
        raw = self.udp("bytes.example.com", TXT)["answer"]
        self.assertEqual(txt_strings(raw[0][2]), [b"\xef\xbb\xbfx\0"])

    def test_raw_labels(self):
        a = self.udp("MACRO%percent  space%20url-space.example.com", TXT)
        self.assertEqual(txt_strings(a["answer"][0][2]), [b"spaces"])
        b = self.tcp(f"{LONG.upper()}.example.com", TXT)
        self.assertEqual(txt_strings(b["answer"][0][2]), [b"long label"])

    def test_other_types(self):
        six = self.udp("six.example.com", AAAA)["answer"]
        self.assertEqual(socket.inet_ntop(socket.AF_INET6, six[0][2]), "2001:db8::1")
        ptr = self.udp("1.2.0.192.in-addr.arpa", PTR)
        self.assertEqual(read_name(ptr["msg"], ptr["answer"][0][3])[0], [b"Example", b"COM"])
        mx = self.udp("example.com", MX)
        self.assertEqual(struct.unpack("!H", mx["answer"][0][2][:2])[0], 10)
        self.assertEqual(read_name(mx["msg"], mx["answer"][0][3] + 2)[0], [b"mx", b"Example", b"com"])
        null = self.udp("nullmx.example.com", MX)["answer"][0][2]
        self.assertEqual(null, b"\0\0\0")

    def test_nxdomain_nodata_ent_with_soa(self):
        nx = self.udp("nope.example.com", A)
        self.assertEqual((nx["rcode"], nx["aa"], nx["answer"]), (3, True, []))
        self.assertEqual([t for _o, t, _r, _p in nx["authority"]], [SOA])
        nodata = self.udp("example.com", AAAA)
        self.assertEqual((nodata["rcode"], nodata["answer"]), (0, []))
        self.assertEqual([t for _o, t, _r, _p in nodata["authority"]], [SOA])
        ent = self.udp("b.deep.example.com", A)          # empty non-terminal
        self.assertEqual((ent["rcode"], ent["answer"]), (0, []))

    def test_cname_chain(self):
        a = self.udp("alias.example.org", TXT)
        self.assertEqual(a["rcode"], 0)
        self.assertEqual([t for _o, t, _r, _p in a["answer"]], [CNAME, CNAME, TXT])
        self.assertEqual(txt_strings(a["answer"][-1][2]), [b"end of chain"])
        only = self.udp("alias.example.org", CNAME)["answer"]
        self.assertEqual([t for _o, t, _r, _p in only], [CNAME])
        dangling = self.udp("dangling.example.org", A)
        self.assertEqual((dangling["rcode"], [t for _o, t, _r, _p in dangling["answer"]]), (3, [CNAME]))
        loop = self.udp("loop.example.org", A)
        self.assertEqual((loop["rcode"], [t for _o, t, _r, _p in loop["answer"]]), (0, [CNAME]))

    def test_timeout_never_answers(self):
        for name, qtype in [("alltimeout.example.net", TXT), ("spftimeout.example.net", SPF),
                            ("txttimeout.example.net", TXT)]:
            with self.assertRaises(socket.timeout, msg=f"UDP {name}"):
                self.udp(name, qtype, timeout=0.3)
            with self.assertRaises(socket.timeout, msg=f"TCP {name}"):
                self.tcp(name, qtype, timeout=0.3)
        # listed types still answer
        self.assertEqual(len(self.udp("spftimeout.example.net", TXT)["answer"]), 1)
        self.assertEqual(len(self.udp("txttimeout.example.net", SPF)["answer"]), 1)

    def test_truncation_and_tcp(self):
        tc = self.udp("big.example.com", TXT)
        self.assertEqual((tc["tc"], tc["answer"]), (True, []))
        full = self.tcp("big.example.com", TXT)
        self.assertEqual((full["tc"], len(full["answer"])), (False, 3))
        edns = self.udp("big.example.com", TXT, edns=1232)
        self.assertEqual((edns["tc"], len(edns["answer"])), (False, 3))
        self.assertEqual([t for _o, t, _r, _p in edns["additional"]], [41])

    def test_load_switches_scenarios(self):
        r = DnsResponder().start()
        try:
            r.load({"one.test": [{"A": "192.0.2.1"}]})
            port = r.port
            r.load({"two.test": [{"A": "192.0.2.2"}]})
            self.assertEqual(r.port, port)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(2)
                for name, rcode in (("one.test", 3), ("two.test", 0)):
                    s.sendto(query_msg(labels(name), A), ("127.0.0.1", port))
                    self.assertEqual(parse(s.recv(512))["rcode"], rcode)
        finally:
            r.stop()


if __name__ == "__main__":
    unittest.main()
