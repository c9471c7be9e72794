"""Restrictions with the real moat binary: what the differential test cannot
see (delivered message contents, discarded mail, timing, `moat check`), and
the session-level effects of smtpd_delay_reject."""
import os
import re
import subprocess
import tempfile
import time
import unittest

from harness.moat import MoatServer, default_moat_binary as moat_binary
from harness.smtp import RawClient

UNTRUSTED = {"mynetworks": "192.0.2.0/24"}  # 127.0.0.1 is then an outside client
BODY = b"Subject: restrictions\r\n\r\nhello\r\n.\r\n"


def table(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return f"texthash:{path}"


def talk(server, *lines, data=None):
    """Sends each line after the banner; returns [(code, text)] with the
    banner first. `data` (bytes) goes out after a 354."""
    client = RawClient(server.host, server.port)
    try:
        code, text = client.read_reply()
        replies = [(code, "\n".join(text))]
        for line in lines:
            client.send(line.encode() + b"\r\n")
            code, text = client.read_reply()
            replies.append((code, "\n".join(text)))
            if code == 354 and data is not None:
                client.send(data)
                code, text = client.read_reply()
                replies.append((code, "\n".join(text)))
        return replies
    finally:
        client.close()


TRANSACTION = ("EHLO client.example.org", "MAIL FROM:<sender@client.example.org>",
               "RCPT TO:<postmaster@localhost>", "DATA")


class TableActions(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.access = table(self.dir.name, "access",
                            "prepend@client.example.org PREPEND X-Screened: by moat\n"
                            "discard@client.example.org DISCARD\n"
                            "bogus@client.example.org no_such_restriction\n"
                            "slow@client.example.org sleep 1, permit\n")

    def tearDown(self):
        self.dir.cleanup()

    def server(self, **params):
        return MoatServer(moat_binary(), params={
            **UNTRUSTED, "smtpd_sender_restrictions": f"check_sender_access {self.access}", **params})

    def test_prepend_header_is_added_above_received(self):
        with self.server() as server:
            replies = talk(server, "EHLO client.example.org", "MAIL FROM:<prepend@client.example.org>",
                           "RCPT TO:<postmaster@localhost>", "DATA", data=BODY)
            self.assertEqual(replies[-1][0], 250, replies)
            messages = server.maildir_messages("root")
            self.assertEqual(len(messages), 1)
            self.assertRegex(messages[0], rb"\nX-Screened: by moat\nReceived: from client\.example\.org")

    def test_discard_accepts_and_drops(self):
        with self.server() as server:
            replies = talk(server, "EHLO client.example.org", "MAIL FROM:<discard@client.example.org>",
                           "RCPT TO:<postmaster@localhost>", "DATA", data=BODY)
            self.assertEqual(replies[-1][0], 250, replies)
            self.assertIn("queued as", replies[-1][1])
            log = server.wait_for_log(r"disconnect from") and server.log()
            self.assertRegex(log, r"NOQUEUE: discard: RCPT from unknown\[127\.0\.0\.1\]: "
                                  r"<discard@client\.example\.org>: Sender address triggers DISCARD action;")
            self.assertEqual(server.maildir_messages("root"), [])

    def test_unknown_restriction_in_a_table_result_is_a_server_error(self):
        with self.server() as server:
            replies = talk(server, "EHLO client.example.org", "MAIL FROM:<bogus@client.example.org>",
                           "RCPT TO:<postmaster>", "RCPT TO:<root@localhost>")
            self.assertEqual(replies[3], (250, "2.1.5 Ok"))  # "postmaster" is never refused
            self.assertEqual(replies[4], (451, "4.3.5 Server configuration error"))
            server.wait_for_log(r"disconnect from")
            self.assertIn('warning: unknown smtpd restriction: "no_such_restriction"', server.log())

    def test_sleep_delays_the_reply(self):
        with self.server() as server:
            start = time.monotonic()
            replies = talk(server, "EHLO client.example.org", "MAIL FROM:<slow@client.example.org>",
                           "RCPT TO:<postmaster@localhost>")
            self.assertGreaterEqual(time.monotonic() - start, 1.0)
            self.assertEqual(replies[-1][0], 250)


class Stages(unittest.TestCase):
    def test_client_reject_at_connect_without_delay(self):
        with MoatServer(moat_binary(), params={**UNTRUSTED, "smtpd_delay_reject": "no",
                                               "smtpd_client_restrictions": "reject"}) as server:
            replies = talk(server, "EHLO client.example.org", "NOOP", "QUIT")
            self.assertEqual(replies[0], (554, "5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access denied"))
            self.assertEqual(replies[1], (503, "5.7.0 Error: access denied for unknown[127.0.0.1]"))
            self.assertEqual(replies[2][0], 503)
            self.assertEqual(replies[3][0], 221)
            server.wait_for_log(r"disconnect from")
            self.assertIn("NOQUEUE: reject: CONNECT from unknown[127.0.0.1]: 554 5.7.1 <unknown[127.0.0.1]>: "
                          "Client host rejected: Access denied; proto=SMTP\n", server.log())

    def test_client_reject_delayed_to_rcpt(self):
        with MoatServer(moat_binary(), params={**UNTRUSTED, "smtpd_client_restrictions": "reject"}) as server:
            replies = talk(server, "EHLO client.example.org", "MAIL FROM:<s@client.example.org>",
                           "RCPT TO:<user@localhost>")
            self.assertEqual(replies[1][0], 250)
            self.assertEqual(replies[2][0], 250)
            self.assertEqual(replies[3], (554, "5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access denied"))

    def test_end_of_data_reject_delivers_nothing(self):
        with MoatServer(moat_binary(), params={**UNTRUSTED,
                                               "smtpd_end_of_data_restrictions": "reject"}) as server:
            replies = talk(server, *TRANSACTION, data=BODY)
            self.assertEqual(replies[-1], (554, "5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied"))
            self.assertEqual(server.maildir_messages("root"), [])

    def test_dns_failure_defers_and_warns(self):
        # No name server answers (the harness points moat at a dead port):
        # a temporary failure is never a listing and never a permanent refusal.
        params = {**UNTRUSTED, "smtpd_client_restrictions": "reject_rbl_client zen.example.invalid",
                  "smtpd_recipient_restrictions": "reject_unknown_sender_domain, reject_unauth_destination"}
        with MoatServer(moat_binary(), params=params) as server:
            replies = talk(server, "EHLO client.example.org", "MAIL FROM:<s@client.example.org>",
                           "RCPT TO:<root@localhost>", "RCPT TO:<x@remote.example>")
            self.assertEqual(replies[3], (450, "4.1.8 <s@client.example.org>: Sender address rejected: "
                                               "Domain not found"))
            self.assertEqual(replies[4][0], 454)
            server.wait_for_log(r"disconnect from")
            self.assertIn("warning: client.example.org: address or MX lookup error", server.log())


class Check(unittest.TestCase):
    def run_check(self, text):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "main.cf")
            with open(path, "w") as f:
                f.write(text)
            result = subprocess.run([moat_binary(), "check", "-c", path], capture_output=True,
                                    text=True, timeout=30)
            return result.returncode, result.stderr.replace(path, "main.cf")

    def test_unknown_restriction_names_file_and_line(self):
        rc, err = self.run_check("mynetworks = 127.0.0.0/8\n"
                                 "smtpd_recipient_restrictions = permit_mynetworks,\n"
                                 "    reject_unath_destination\n")
        self.assertEqual(rc, 1)
        self.assertIn('main.cf:2: smtpd_recipient_restrictions: unknown restriction '
                      '"reject_unath_destination"', err)

    def test_relay_opening_order_is_a_warning(self):
        with tempfile.TemporaryDirectory() as d:
            access = table(d, "access", "example.org OK\n")
            rc, err = self.run_check("smtpd_relay_restrictions =\n"
                                     f"smtpd_recipient_restrictions = check_sender_access {access},\n"
                                     "    reject_unauth_destination\n")
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"main\.cf:2: smtpd_recipient_restrictions: warning: \"check_sender_access\" "
                              r"before reject_unauth_destination can permit mail for any destination")

    def test_no_working_relay_restriction_is_an_error(self):
        rc, err = self.run_check("smtpd_relay_restrictions = warn_if_reject, reject_unauth_destination\n")
        self.assertEqual(rc, 1)
        self.assertIn("main.cf:1: smtpd_relay_restrictions: in smtpd_relay_restrictions or "
                      "smtpd_recipient_restrictions, specify at least one working instance", err)

    def test_hardening_guide_with_dns_restrictions_is_valid(self):
        rc, err = self.run_check(
            "smtpd_helo_required = yes\n"
            "smtpd_helo_restrictions = permit_mynetworks, reject_invalid_helo_hostname,\n"
            "    reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname\n"
            "smtpd_sender_restrictions = permit_mynetworks, reject_non_fqdn_sender,\n"
            "    reject_unknown_sender_domain, reject_unauth_pipelining\n"
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
            "    reject_rbl_client zen.spamhaus.org, reject_rhsbl_sender dbl.spamhaus.org,\n"
            "    check_policy_service unix:private/policy-spf, reject_unauth_pipelining\n"
            "smtpd_data_restrictions = reject_unauth_pipelining, reject_multi_recipient_bounce\n")
        self.assertEqual((rc, err), (0, ""))


if __name__ == "__main__":
    unittest.main()
