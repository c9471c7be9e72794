"""moat as Postfix's policy server: the real Postfix (Debian package) with
`check_policy_service inet:127.0.0.1:PORT` pointed at moat's
moat_policy_listen, SMTP sessions through Postfix, and the replies Postfix
gives for moat's greylisting, SPF and DNSBL verdicts. Both resolve through
the same NSD; moat keeps greylisting state in LMDB."""
import re
import socket
import tempfile
import time
import unittest

from harness.moat import MoatServer, default_moat_binary as moat_binary
from harness.nsd import NsdServer, nsd_available
from harness.postfix import PostfixServer, free_port, postfix_available
from harness.smtp import RawClient

RCPT = "user@example.test"


def transaction(server, source, sender, recipient=RCPT, helo="client.example"):
    client = RawClient(server.host, server.port, source=source, timeout=30)
    try:
        client.expect(220)
        client.command(f"EHLO {helo}")
        client.command(f"MAIL FROM:<{sender}>")
        reply = client.command(f"RCPT TO:<{recipient}>")
        return f"{reply.code} {reply.text}"
    finally:
        client.close()


def policy_port(moat):
    m = re.search(r"moat: policy server listening on inet:127\.0\.0\.1:(\d+)", moat.stderr())
    assert m, moat.stderr()
    return int(m.group(1))


@unittest.skipIf(nsd_available() is not None, f"NSD: {nsd_available()}")
@unittest.skipIf(postfix_available() is not None, f"Postfix: {postfix_available()}")
class PostfixAsksMoat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.nsd = NsdServer().__enter__()
        cls.moat = MoatServer(moat_binary(), dns=cls.nsd, params={
            "myhostname": "mx.example.test",
            "moat_policy_listen": f"inet:127.0.0.1:{free_port()}",
            "moat_policy_restrictions":
                "reject_rbl_client dnsbl.test, check_spf, check_greylist",
            "moat_spf_skip_addresses": "::1",
            "moat_greylist_delay": "2s",
            "moat_state_store": f"lmdb:{cls.tmp.name}/state.lmdb",
        }).__enter__()
        port = policy_port(cls.moat)
        cls.postfix = PostfixServer(dns=cls.nsd, params={
            "mynetworks": "192.0.2.0/24",
            "smtpd_recipient_restrictions":
                f"reject_unauth_destination, check_policy_service inet:127.0.0.1:{port}",
        }).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.postfix.__exit__(None, None, None)
        cls.moat.__exit__(None, None, None)
        cls.nsd.__exit__(None, None, None)
        cls.tmp.cleanup()

    def test_greylisting_then_accepted_after_the_delay(self):
        greylisted = (f"450 4.2.0 <{RCPT}>: Recipient address rejected: Greylisted, see "
                      "https://postgrey.schweikert.ch/help/example.test.html")
        self.assertEqual(transaction(self.postfix, "127.0.80.1", "alice@none.spf.test"),
                         greylisted)
        self.moat.wait_for_log(r"greylist: action=greylist, reason=new, "
                               r"sender=<alice@none\.spf\.test>, recipient=<user@example\.test>")
        time.sleep(2.5)
        self.assertTrue(transaction(self.postfix, "127.0.80.1", "alice@none.spf.test")
                        .startswith("250 "))

    def test_spf_fail(self):
        self.assertEqual(
            transaction(self.postfix, "127.0.71.9", "alice@fail.spf.test"),
            f"550 5.7.23 <{RCPT}>: Recipient address rejected: Message rejected due to: SPF "
            "fail - not authorized. Please see "
            "https://www.open-spf.org/Why;id=alice@fail.spf.test;ip=127.0.71.9;r=mx.example.test")

    def test_dnsbl(self):
        self.assertEqual(
            transaction(self.postfix, "127.0.20.2", "alice@none.spf.test"),
            f"554 5.7.1 <{RCPT}>: Recipient address rejected: Service unavailable; Client host "
            "[127.0.20.2] blocked using dnsbl.test; 127.0.20.2 is listed, see "
            "https://dnsbl.test/lookup?127.0.20.2")

    def test_malformed_requests_close_only_their_connection(self):
        port = policy_port(self.moat)
        good = socket.create_connection(("127.0.0.1", port))
        bad = socket.create_connection(("127.0.0.1", port))
        bad.sendall(b"this is not a policy request\n\n")
        self.assertEqual(bad.recv(100), b"")  # closed
        good.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                     b"client_address=127.0.20.2\nsender=a@none.spf.test\n"
                     b"recipient=b@example.test\ninstance=x.1\n\n")
        answer = good.recv(1000).decode()
        self.assertTrue(answer.startswith("action=554 5.7.1 Service unavailable; Client host "
                                          "[127.0.20.2] blocked using dnsbl.test"), answer)
        self.moat.wait_for_log(r"warning: .*line without name=value")
        good.close()
        bad.close()


if __name__ == "__main__":
    unittest.main()
