"""DNS block and allow lists against the test DNS world (NSD serving
tests/fixtures/dns/): the replies and log lines that
tests/fixtures/dns/POSTFIX-REPLIES.md records for Postfix 3.7, moat's
deliberate difference for 127.255.255.x answers, and `moat check --dnsbl`."""
import os
import re
import tempfile
import unittest

from harness.moat import MoatServer, default_moat_binary as moat_binary
from harness.nsd import NsdTestCase
from harness.smtp import RawClient, dialogue

SENDER = "sender@withmx.dns.test"
HELO = "client.example.org"
LISTED_20 = ("554 5.7.1 Service unavailable; Client host [127.0.20.2] blocked using dnsbl.test; "
             "127.0.20.2 is listed, see https://dnsbl.test/lookup?127.0.20.2")


def talk(server, *lines, source=None):
    """Sends each line after the banner; returns ["CODE text"], banner first."""
    return [f"{r.code} {r.text}" for r in dialogue(server.host, server.port, lines, source=source)]


class Dnsbl(NsdTestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def server(self, **params):
        # mynetworks must not hold the 127.0.X.Y test clients.
        return MoatServer(moat_binary(), dns=self.nsd,
                          params={"mynetworks": "192.0.2.0/24", **params})

    def rcpt(self, server, source, sender=SENDER, recipient="postmaster@localhost", helo=HELO):
        """The RCPT reply (the last one) for one transaction from `source`."""
        return talk(server, f"EHLO {helo}", f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>",
                    source=source)[-1]

    def test_reject_rbl_client_reply_and_log(self):
        with self.server(smtpd_client_restrictions="reject_rbl_client dnsbl.test") as m:
            self.assertEqual(self.rcpt(m, "127.0.20.2"), LISTED_20)
            m.wait_for_log(re.escape(
                f"NOQUEUE: reject: RCPT from unknown[127.0.20.2]: {LISTED_20}; "
                f"from=<{SENDER}> to=<postmaster@localhost> proto=ESMTP helo=<{HELO}>"))
            self.assertEqual(self.rcpt(m, "127.0.23.2"),
                             "554 5.7.1 Service unavailable; Client host [127.0.23.2] blocked "
                             "using dnsbl.test")
            self.assertEqual(self.rcpt(m, "127.0.0.2"),
                             "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked "
                             "using dnsbl.test; RFC 5782 test point")
            self.assertTrue(self.rcpt(m, "127.0.4.1").startswith("250 "))

    def test_reply_filter(self):
        with self.server(smtpd_client_restrictions="reject_rbl_client dnsbl.test=127.0.0.[2..9]") as m:
            self.assertTrue(self.rcpt(m, "127.0.21.2").startswith("250 "))
            self.assertEqual(self.rcpt(m, "127.0.20.2"), LISTED_20)

    def test_refused_query_code_is_not_a_listing(self):
        # Postfix 3.7 rejects here; moat deliberately does not.
        with self.server(smtpd_client_restrictions="reject_rbl_client dnsbl.test") as m:
            self.assertTrue(self.rcpt(m, "127.0.22.2").startswith("250 "))
            m.wait_for_log(re.escape(
                "warning: dnsbl dnsbl.test: unexpected answer 127.255.255.254 for "
                "2.22.0.127.dnsbl.test (list refused the query?); not treated as a listing"))

    def test_lookup_error_is_not_listed_with_postfix_warning(self):
        with self.server(smtpd_client_restrictions="reject_rbl_client servfail.test") as m:
            self.assertTrue(self.rcpt(m, "127.0.20.2").startswith("250 "))
            m.wait_for_log(re.escape(
                "warning: 2.20.0.127.servfail.test: RBL lookup error: Host or domain name not "
                "found. Name service error for name=2.20.0.127.servfail.test type=A: Host not "
                "found, try again"))

    def test_reply_code_and_templates(self):
        with self.server(smtpd_client_restrictions="reject_rbl_client dnsbl.test",
                         maps_rbl_reject_code="550") as m:
            self.assertEqual(self.rcpt(m, "127.0.20.2"), "550" + LISTED_20[3:])
        with self.server(smtpd_client_restrictions="reject_rbl_client dnsbl.test",
                         default_rbl_reply="$rbl_code 5.7.0 $rbl_class $rbl_what on $rbl_domain "
                                           "said $rbl_txt") as m:
            self.assertEqual(self.rcpt(m, "127.0.20.2"),
                             "554 5.7.0 Client host 127.0.20.2 on dnsbl.test said 127.0.20.2 is "
                             "listed, see https://dnsbl.test/lookup?127.0.20.2")
        maps = os.path.join(self.dir.name, "rbl_reply")
        with open(maps, "w") as f:
            f.write("dnsbl.test   550 5.7.1 custom: $client_address is listed by $rbl_domain "
                    "($rbl_reason)\n")
        with self.server(smtpd_client_restrictions="reject_rbl_client dnsbl.test",
                         rbl_reply_maps=f"texthash:{maps}") as m:
            self.assertEqual(self.rcpt(m, "127.0.20.2"),
                             "550 5.7.1 custom: 127.0.20.2 is listed by dnsbl.test (127.0.20.2 is "
                             "listed, see https://dnsbl.test/lookup?127.0.20.2)")

    def test_warn_if_reject(self):
        with self.server(smtpd_client_restrictions="warn_if_reject reject_rbl_client dnsbl.test") as m:
            self.assertTrue(self.rcpt(m, "127.0.20.2").startswith("250 "))
            m.wait_for_log(re.escape(
                f"NOQUEUE: reject_warning: RCPT from unknown[127.0.20.2]: {LISTED_20}; "
                f"from=<{SENDER}> to=<postmaster@localhost> proto=ESMTP helo=<{HELO}>"))

    def test_without_delay_reject_the_banner_is_the_reject(self):
        with self.server(smtpd_client_restrictions="reject_rbl_client dnsbl.test",
                         smtpd_delay_reject="no") as m:
            client = RawClient(m.host, m.port, source="127.0.20.2")
            try:
                reply = client.read_reply()
                self.assertEqual(f"{reply.code} {reply.text}", LISTED_20)
            finally:
                client.close()
            m.wait_for_log(re.escape(
                f"NOQUEUE: reject: CONNECT from unknown[127.0.20.2]: {LISTED_20}; proto=SMTP"))

    def test_rhsbl(self):
        with self.server(smtpd_sender_restrictions="reject_rhsbl_sender rhsbl.test",
                         smtpd_helo_restrictions="reject_rhsbl_helo rhsbl.test",
                         smtpd_client_restrictions="reject_rhsbl_client rhsbl.test, "
                                                   "reject_rhsbl_reverse_client rhsbl.test") as m:
            self.assertEqual(self.rcpt(m, "127.0.4.1", sender="sender@spammer.dns.test"),
                             "554 5.7.1 Service unavailable; Sender address "
                             "[sender@spammer.dns.test] blocked using rhsbl.test; sender domain "
                             "spammer.dns.test is listed")
            self.assertTrue(self.rcpt(m, "127.0.4.1", sender="").startswith("250 "))
            self.assertEqual(self.rcpt(m, "127.0.4.1", helo="badhelo.dns.test"),
                             "554 5.7.1 Service unavailable; Helo command [badhelo.dns.test] "
                             "blocked using rhsbl.test; HELO name badhelo.dns.test is listed")
            self.assertEqual(self.rcpt(m, "127.0.40.1"),
                             "554 5.7.1 Service unavailable; Client host [listedhost.dns.test] "
                             "blocked using rhsbl.test; client name listedhost.dns.test is listed")
            self.assertEqual(self.rcpt(m, "127.0.42.1"),
                             "554 5.7.1 Service unavailable; Unverified Client host "
                             "[listedrev.dns.test] blocked using rhsbl.test; client name "
                             "listedrev.dns.test is listed")
        with self.server(smtpd_recipient_restrictions="reject_rhsbl_recipient rhsbl.test, "
                                                      "permit_auth_destination, reject",
                         relay_domains="spammer.dns.test") as m:
            self.assertEqual(self.rcpt(m, "127.0.4.1", recipient="someone@spammer.dns.test"),
                             "554 5.7.1 Service unavailable; Recipient address "
                             "[someone@spammer.dns.test] blocked using rhsbl.test; sender domain "
                             "spammer.dns.test is listed")

    def test_dnswl(self):
        with self.server(smtpd_client_restrictions="permit_dnswl_client dnswl.test, reject") as m:
            self.assertTrue(self.rcpt(m, "127.0.30.1").startswith("250 "))
            self.assertEqual(self.rcpt(m, "127.0.4.1"),
                             "554 5.7.1 <unknown[127.0.4.1]>: Client host rejected: Access denied")
        with self.server(
                smtpd_client_restrictions="permit_dnswl_client dnswl.test=127.0.[0..255].[1..3], "
                                          "reject") as m:
            self.assertTrue(self.rcpt(m, "127.0.30.1").startswith("554 "))
        with self.server(smtpd_client_restrictions="permit_dnswl_client servfail.test, reject") as m:
            self.assertEqual(self.rcpt(m, "127.0.30.1"),
                             "450 4.7.1 <127.0.30.1>: Client host rejected: Service unavailable")
            m.wait_for_log(re.escape("warning: 1.30.0.127.servfail.test: RBL lookup error:"))
        with self.server(smtpd_client_restrictions="permit_rhswl_client rhswl.test, reject") as m:
            self.assertTrue(self.rcpt(m, "127.0.41.1").startswith("250 "))
        with self.server(smtpd_client_restrictions="permit_rhswl_client servfail.test, reject") as m:
            self.assertEqual(self.rcpt(m, "127.0.41.1"),
                             "450 4.7.1 <trusted.dns.test>: Client host rejected: Service "
                             "unavailable")

    def test_dnswl_never_permits_relaying(self):
        with self.server(smtpd_relay_restrictions="permit_dnswl_client dnswl.test, "
                                                  "reject_unauth_destination") as m:
            self.assertEqual(self.rcpt(m, "127.0.30.1", recipient="someone@withmx.dns.test"),
                             "554 5.7.1 <someone@withmx.dns.test>: Relay access denied")

    def test_check_dnsbl(self):
        with self.server(smtpd_client_restrictions="reject_rbl_client dnsbl.test=127.0.0.2") as m:
            m.write_config()
            done = m.check("--dnsbl")
            self.assertEqual((done.returncode, done.stdout), (0, "dnsbl.test ok\n"), done.stderr)
            m.params["smtpd_client_restrictions"] = ("reject_rbl_client dnsbl.test, "
                                                     "permit_dnswl_client dnswl.test, "
                                                     "reject_rbl_client servfail.test")
            m.write_config()
            done = m.check("--dnsbl")
            self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
            lines = done.stdout.splitlines()
            self.assertEqual(lines[:2], ["dnsbl.test ok", "dnswl.test: dead (127.0.0.2 not listed)"])
            self.assertTrue(lines[2].startswith("servfail.test: lookup error"), lines)


if __name__ == "__main__":
    unittest.main()
