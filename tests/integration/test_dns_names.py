"""The client's name, as Postfix finds it: reverse and forward DNS against a
real NSD serving tests/fixtures/dns/, with moat and the real Postfix 3.7
pointed at the same NSD and the same hosts file. For each test client the
`warning:` and `connect from NAME[IP]` lines must be the same; a name
server that never answers delays the banner by the DNS timeout and nothing
else; smtpd_peername_lookup = no skips the lookups."""
import re
import threading
import time
import unittest

from harness.moat import MoatServer
from harness.nsd import NsdServer, SilentDnsServer, nsd_available
from harness.postfix import PostfixServer, postfix_available
from harness.smtp import RawClient

# Client addresses of tests/fixtures/dns/README.md, one per kind of name.
CLIENTS = [
    "127.0.0.1",  # hosts file: localhost
    "127.0.2.1",  # forward-confirmed good.dns.test
    "127.0.3.1",  # PTR name resolves to another address
    "127.0.4.1",  # no PTR
    "127.0.5.1",  # PTR name does not exist
    "127.0.6.1",  # two PTRs, the first confirms
    "127.0.7.1",  # forward lookup SERVFAIL
    "127.0.9.1",  # reverse lookup SERVFAIL
]

PARAMS = {"smtpd_peername_lookup": "yes", "mynetworks": "127.0.0.1/32"}


def client_lines(log: str, address: str) -> list[str]:
    """The warning and connect lines logged for `address`, without prefixes."""
    out = []
    for line in log.splitlines():
        text = re.sub(r"^.*? postfix/smtpd\[\d+\]: ", "", line)
        if f"address {address}" in text and text.startswith("warning: hostname "):
            out.append(text)
        elif text.startswith("connect from ") and text.endswith(f"[{address}]"):
            out.append(text)
    return out


def greet(server, source: str) -> float:
    """Seconds until the banner, for a client connecting from `source`."""
    start = time.monotonic()
    with RawClient(server.host, server.port, source=source, timeout=20) as client:
        reply = client.read_reply()
        elapsed = time.monotonic() - start
        assert reply.code == 220, reply
        client.command("QUIT")
    return elapsed


def wait_for_lines(server, address: str, count: int, since: int = 0) -> list[str]:
    """The lines for `address` logged after offset `since` of the log."""
    deadline = time.monotonic() + 10
    while True:
        lines = client_lines(server.log()[since:], address)
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@unittest.skipUnless(nsd_available() is None, "NSD is not installed")
class ClientNameTest(unittest.TestCase):
    def test_names_and_warnings_match_postfix(self):
        why = postfix_available()
        if why:
            self.skipTest(why)
        with NsdServer() as nsd, MoatServer(params=PARAMS, dns=nsd) as moat, PostfixServer(
            params=PARAMS, dns=nsd
        ) as postfix:
            for address in CLIENTS:
                with self.subTest(client=address):
                    postfix_since, moat_since = len(postfix.log()), len(moat.log())
                    greet(postfix, address)
                    greet(moat, address)
                    expected = wait_for_lines(postfix, address, 1, postfix_since)
                    actual = wait_for_lines(moat, address, len(expected), moat_since)
                    self.assertTrue(expected[-1].startswith("connect from "), expected)
                    self.assertEqual(actual, expected)

    def test_moat_names_without_postfix(self):
        # The same expectations written down, so they hold where Postfix is absent.
        expected = {
            "127.0.0.1": "connect from localhost[127.0.0.1]",
            "127.0.2.1": "connect from good.dns.test[127.0.2.1]",
            "127.0.3.1": "connect from unknown[127.0.3.1]",
            "127.0.6.1": "connect from twoa.dns.test[127.0.6.1]",
            "127.0.9.1": "connect from unknown[127.0.9.1]",
        }
        with NsdServer() as nsd, MoatServer(params=PARAMS, dns=nsd) as moat:
            for address, line in expected.items():
                greet(moat, address)
                self.assertEqual(wait_for_lines(moat, address, 1)[-1], line)
            self.assertIn(
                "warning: hostname mismatch.dns.test does not resolve to address 127.0.3.1",
                moat.log(),
            )

    def test_peername_lookup_no_asks_nothing(self):
        with SilentDnsServer() as silent:
            params = dict(PARAMS, smtpd_peername_lookup="no", moat_dns_servers=silent.server)
            with MoatServer(params=params) as moat:
                self.assertLess(greet(moat, "127.0.2.1"), 0.5)
                self.assertEqual(silent.queries, 0)
                self.assertIn("connect from unknown[127.0.2.1]", moat.log())

    def test_silent_name_server_delays_only_that_banner(self):
        with SilentDnsServer() as silent:
            params = dict(PARAMS, moat_dns_servers=silent.server, moat_dns_timeout="1s",
                          moat_dns_tries="1", moat_dns_hosts_file="")
            with MoatServer(params=params) as moat:
                # 127.0.0.1 without a hosts file: the PTR query times out.
                slow = greet(moat, "127.0.2.1")
                self.assertGreaterEqual(slow, 0.9)
                self.assertLess(slow, 5)
                self.assertGreater(silent.queries, 0)
                self.assertIn("connect from unknown[127.0.2.1]", moat.log())
                # Lookups wait side by side, never one after the other:
                # three clients at once take about as long as one.
                start = time.monotonic()
                times = []
                threads = [threading.Thread(target=lambda a=a: times.append(greet(moat, a)))
                           for a in ("127.0.2.2", "127.0.2.3", "127.0.2.4")]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertLess(time.monotonic() - start, 3.5)
                self.assertEqual(len(times), 3)


if __name__ == "__main__":
    unittest.main()
