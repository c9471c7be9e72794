"""check_*_{a,mx,ns}_access against the test DNS world (NSD serving
tests/fixtures/dns/): the replies and warnings that
tests/fixtures/dns/POSTFIX-REPLIES.md records for Postfix 3.7."""
import os
import tempfile
import unittest

from harness.moat import MoatServer, default_moat_binary as moat_binary
from harness.nsd import NsdTestCase
from harness.smtp import dialogue

BAD_HOSTS = "127.0.66.0/24 REJECT bad network\n"
BAD_PROVIDER_NAME = "ns1.bad-provider.dns.test REJECT bad DNS provider\n"
BAD_PROVIDER_NET = "127.0.67.0/24 REJECT bad provider network\n"


def talk(server, *lines, source=None):
    """Sends each line after the banner; returns [(code, text)], banner first."""
    return [(r.code, r.text) for r in dialogue(server.host, server.port, lines, source=source)]


class DnsAccess(NsdTestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def table(self, kind, text):
        path = os.path.join(self.dir.name, f"t{len(os.listdir(self.dir.name))}.{kind}")
        with open(path, "w") as f:
            f.write(text)
        return f"{kind}:{path}"

    def server(self, **params):
        return MoatServer(moat_binary(), dns=self.nsd, params=params)

    def mail(self, server, sender, recipient="postmaster@localhost", helo="client.example.org",
             source=None):
        return talk(server, f"EHLO {helo}", f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>",
                    source=source)

    def assertRejected(self, reply, code, text):
        self.assertEqual(reply[0], code, reply)
        self.assertEqual(reply[1], text)

    def test_sender_mx_host_in_a_bad_network(self):
        net = self.table("cidr", BAD_HOSTS)
        with self.server(smtpd_sender_restrictions=f"check_sender_mx_access {net}") as m:
            replies = self.mail(m, "sender@badmx.dns.test")
            self.assertRejected(replies[-1], 554,
                                "5.7.1 <sender@badmx.dns.test>: Sender address rejected: bad network")
            m.wait_for_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                           r"<sender@badmx\.dns\.test>: Sender address rejected: bad network; "
                           r"from=<sender@badmx\.dns\.test> to=<postmaster@localhost> "
                           r"proto=ESMTP helo=<client\.example\.org>")
            # A domain whose MX host is elsewhere passes.
            self.assertEqual(self.mail(m, "sender@withmx.dns.test")[-1][0], 250)

    def test_sender_ns_host_by_name_and_by_address(self):
        names = self.table("texthash", BAD_PROVIDER_NAME)
        net = self.table("cidr", BAD_PROVIDER_NET)
        with self.server(smtpd_sender_restrictions=f"check_sender_ns_access {names}") as m:
            self.assertRejected(self.mail(m, "sender@nsbad.test")[-1], 554,
                                "5.7.1 <sender@nsbad.test>: Sender address rejected: bad DNS provider")
            # sub.nsbad.test does not exist: the parent's NS is used.
            self.assertRejected(
                self.mail(m, "sender@sub.nsbad.test")[-1], 554,
                "5.7.1 <sender@sub.nsbad.test>: Sender address rejected: bad DNS provider")
            self.assertEqual(self.mail(m, "sender@withmx.dns.test")[-1][0], 250)
        with self.server(smtpd_sender_restrictions=f"check_sender_ns_access {net}") as m:
            self.assertRejected(
                self.mail(m, "sender@nsbad.test")[-1], 554,
                "5.7.1 <sender@nsbad.test>: Sender address rejected: bad provider network")

    def test_sender_a_access(self):
        net = self.table("cidr", BAD_HOSTS)
        with self.server(smtpd_sender_restrictions=f"check_sender_a_access {net}") as m:
            self.assertRejected(
                self.mail(m, "sender@badnet-host.dns.test")[-1], 554,
                "5.7.1 <sender@badnet-host.dns.test>: Sender address rejected: bad network")
            # The MX host's address does not count for _a_.
            self.assertEqual(self.mail(m, "sender@badmx.dns.test")[-1][0], 250)

    def test_helo_mx_and_a_access(self):
        net = self.table("cidr", BAD_HOSTS)
        with self.server(smtpd_helo_restrictions=f"check_helo_mx_access {net}") as m:
            self.assertRejected(self.mail(m, "sender@withmx.dns.test", helo="badmx.dns.test")[-1],
                                554, "5.7.1 <badmx.dns.test>: Helo command rejected: bad network")
        with self.server(smtpd_helo_restrictions=f"check_helo_a_access {net}") as m:
            self.assertRejected(
                self.mail(m, "sender@withmx.dns.test", helo="badnet-host.dns.test")[-1], 554,
                "5.7.1 <badnet-host.dns.test>: Helo command rejected: bad network")
            self.assertEqual(self.mail(m, "sender@withmx.dns.test", helo="good.dns.test")[-1][0],
                             250)

    def test_recipient_mx_access(self):
        net = self.table("cidr", BAD_HOSTS)
        with self.server(smtpd_recipient_restrictions=f"check_recipient_mx_access {net}") as m:
            replies = self.mail(m, "sender@withmx.dns.test", recipient="someone@badmx.dns.test")
            self.assertRejected(
                replies[-1], 554,
                "5.7.1 <someone@badmx.dns.test>: Recipient address rejected: bad network")

    def test_client_a_access(self):
        net = self.table("cidr", BAD_HOSTS)
        with self.server(smtpd_client_restrictions=f"check_client_a_access {net}") as m:
            self.assertRejected(
                self.mail(m, "sender@withmx.dns.test", source="127.0.68.1")[-1], 554,
                "5.7.1 <multi.dns.test[127.0.68.1]>: Client host rejected: bad network")
            # A client whose name is unknown is not looked up.
            self.assertEqual(self.mail(m, "sender@withmx.dns.test", source="127.0.4.1")[-1][0], 250)

    def test_lookup_failures_are_warnings(self):
        net = self.table("cidr", "0.0.0.0/0 REJECT everything\n")
        with self.server(smtpd_sender_restrictions=f"check_sender_mx_access {net}, "
                                                   f"check_sender_ns_access {net}") as m:
            self.assertEqual(self.mail(m, "sender@host.servfail.test")[-1][0], 250)
            m.wait_for_log(r"warning: Unable to look up MX host for host\.servfail\.test: "
                           r"Host not found, try again")
            m.wait_for_log(r"warning: Unable to look up NS host for host\.servfail\.test: "
                           r"Host not found, try again")
        with self.server(smtpd_sender_restrictions=f"check_sender_mx_access {net}") as m:
            self.assertEqual(self.mail(m, "sender@nonexistent.dns.test")[-1][0], 250)
            m.wait_for_log(r"warning: Unable to look up MX host nonexistent\.dns\.test for Sender "
                           r"address sender@nonexistent\.dns\.test: Name or service not known")
            # A null MX is not checked.
            self.assertEqual(self.mail(m, "sender@nullmx.dns.test")[-1][0], 250)

    def test_mx_host_without_address_and_address_literal(self):
        net = self.table("cidr", "0.0.0.0/0 REJECT everything\n")
        with self.server(smtpd_sender_restrictions=f"check_sender_mx_access {net}",
                         smtpd_helo_restrictions=f"check_helo_mx_access {net}") as m:
            self.assertEqual(self.mail(m, "sender@mxnoaddr.dns.test")[-1][0], 250)
            m.wait_for_log(r"warning: Unable to look up MX host noaddr\.dns\.test for Sender "
                           r"address sender@mxnoaddr\.dns\.test: No address associated with hostname")
            # An address literal is its own MX host.
            self.assertRejected(self.mail(m, "sender@withmx.dns.test", helo="[127.0.2.1]")[-1], 554,
                                "5.7.1 <[127.0.2.1]>: Helo command rejected: everything")

    def test_ok_is_not_allowed(self):
        names = self.table("texthash", "ns1.bad-provider.dns.test OK\n")
        with self.server(smtpd_sender_restrictions=f"check_sender_ns_access {names}") as m:
            self.assertRejected(self.mail(m, "sender@nsbad.test")[-1], 451,
                                "4.3.5 Server configuration error")
            m.wait_for_log(r"warning: restriction check_sender_ns_access returns OK for "
                           r"sender@nsbad\.test\n.*warning: this is not allowed for security "
                           r"reasons\n.*warning: use DUNNO instead of OK if you want to make an "
                           r"exception\n.*NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: "
                           r"451 4\.3\.5 Server configuration error;")


if __name__ == "__main__":
    unittest.main()
