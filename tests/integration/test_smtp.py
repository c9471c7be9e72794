"""The real moat binary on an ephemeral loopback port, talked to by Python's
smtplib, swaks and raw sockets: replies, Maildir contents and log lines."""
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import threading
import time
import unittest

from harness.moat import MoatServer, default_moat_binary as moat_binary
from harness.smtp import RawClient

MESSAGE = b"From: a@example.org\r\nTo: postmaster@localhost\r\nSubject: test\r\nMessage-ID: <m1@example.org>\r\n\r\nhello\r\n"
UNTRUSTED = {"mynetworks": "192.0.2.0/24"}  # 127.0.0.1 is then an outside client


def wait_log(server, regex):
    """Waits for a maillog line matching `regex`; returns the whole log."""
    server.wait_for_log(regex)
    return server.log()


def dialogue(server, *lines):
    """Sends each line (CRLF added) after the banner; returns [(code, text)]."""
    client = RawClient(server.host, server.port)
    try:
        client.read_reply()
        replies = []
        for line in lines:
            client.send(line.encode() + b"\r\n")
            code, text = client.read_reply()
            replies.append((code, "\n".join(text)))
        return replies
    finally:
        client.close()


class Delivery(unittest.TestCase):
    def test_smtplib_message_lands_in_maildir_with_received_header(self):
        with MoatServer(moat_binary()) as server:
            with smtplib.SMTP(server.host, server.port, timeout=10) as client:
                client.ehlo("client.example.org")
                client.mail("a@example.org")
                code, _ = client.rcpt("postmaster@localhost")
                self.assertEqual(code, 250)
                code, text = client.data(MESSAGE)
                self.assertEqual(code, 250)
                queue_id = re.search(rb"Ok: queued as (\w+)", text).group(1).decode()
            messages = server.maildir_messages("root")
            self.assertEqual(len(messages), 1)
            message = messages[0]
            self.assertIn(b"Return-Path: <a@example.org>\n", message)
            self.assertIn(b"Delivered-To: root@localhost\n", message)
            self.assertRegex(message, rb"Received: from client\.example\.org \(unknown \[127\.0\.0\.1\]\)\n\tby mx\.example\.test \(moat\) with ESMTP id " + queue_id.encode())
            self.assertTrue(message.endswith(b"Subject: test\nMessage-ID: <m1@example.org>\n\nhello\n"))
            self.assertNotIn(b"\r", message)
            log = wait_log(server, r"disconnect from")
            self.assertIn("connect from unknown[127.0.0.1]", log)
            self.assertIn(f"{queue_id}: client=unknown[127.0.0.1]", log)
            self.assertIn(f"{queue_id}: message-id=<m1@example.org>", log)
            self.assertRegex(log, rf"{queue_id}: from=<a@example\.org>, size=\d+, nrcpt=1 \(queue active\)")
            self.assertRegex(log, rf"postfix/local\[\d+\]: {queue_id}: to=<root@localhost>, orig_to=<postmaster@localhost>, relay=local, .*dsn=2\.0\.0, status=sent \(delivered to maildir\)")
            self.assertIn(f"{queue_id}: removed", log)
            self.assertRegex(log, r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")

    def test_swaks_delivers_to_postmaster(self):
        if not shutil.which("swaks"):
            self.skipTest("swaks not installed")
        with MoatServer(moat_binary()) as server:
            result = subprocess.run(["swaks", "--server", f"{server.host}:{server.port}", "--to", "postmaster@localhost",
                                     "--from", "sender@example.org", "--timeout", "10"],
                                    capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertIn("250 2.0.0 Ok: queued as", result.stdout)
            self.assertEqual(len(server.maildir_messages("root")), 1)

    def test_alias_with_several_members_delivers_one_copy_each(self):
        aliases = {"postmaster": "root", "root": "root", "team": "alice, bob", "alice": "alice", "bob": "bob"}
        with MoatServer(moat_binary(), aliases=aliases) as server:
            with smtplib.SMTP(server.host, server.port, timeout=10) as client:
                refused = client.sendmail("a@example.org", ["team@localhost", "alice@localhost"], MESSAGE)
                self.assertEqual(refused, {})
            # alice is reached twice (directly and through team): Postfix's local(8)
            # would deliver once per recipient; moat does the same per RCPT.
            self.assertEqual(len(server.maildir_messages("bob")), 1)
            self.assertGreaterEqual(len(server.maildir_messages("alice")), 1)

    def test_virtual_mailbox_domain(self):
        with MoatServer(moat_binary(), virtual_users=["user@example.test"],
                        params={"recipient_delimiter": "+"}) as server:
            replies = dialogue(server, "EHLO c", "MAIL FROM:<a@example.org>", "RCPT TO:<user+tag@example.test>",
                               "RCPT TO:<nosuchuser@example.test>")
            self.assertEqual(replies[2][0], 250, replies)
            self.assertEqual(replies[3], (550, "5.1.1 <nosuchuser@example.test>: Recipient address rejected: User unknown in virtual mailbox table"))
            with smtplib.SMTP(server.host, server.port, timeout=10) as client:
                client.sendmail("a@example.org", ["user@example.test"], MESSAGE)
            messages = server.maildir_messages("user@example.test")
            self.assertEqual(len(messages), 1)
            self.assertIn(b"Delivered-To: user@example.test\n", messages[0])
            self.assertRegex(server.log(), r"postfix/virtual\[\d+\]: \w+: to=<user@example\.test>, relay=virtual, .*status=sent \(delivered to maildir\)")

    def test_many_concurrent_sessions_all_delivered(self):
        errors = []

        def send(server, i):
            try:
                with smtplib.SMTP(server.host, server.port, timeout=20) as client:
                    client.sendmail(f"s{i}@example.org", ["postmaster@localhost"], MESSAGE)
            except Exception as e:  # collected and asserted below
                errors.append(repr(e))

        with MoatServer(moat_binary()) as server:
            threads = [threading.Thread(target=send, args=(server, i)) for i in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            self.assertEqual(errors, [])
            self.assertEqual(len(server.maildir_messages("root")), 40)


class Protocol(unittest.TestCase):
    def test_ehlo_advertises_postfix_extensions(self):
        with MoatServer(moat_binary()) as server:
            (code, text), = dialogue(server, "EHLO client.example.org")
            self.assertEqual(code, 250)
            lines = text.split("\n")
            self.assertEqual(lines[0], "mx.example.test")
            for keyword in ("PIPELINING", "SIZE 10240000", "VRFY", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8",
                            "CHUNKING"):
                self.assertIn(keyword, lines)
            self.assertNotIn("ETRN", lines)
            self.assertNotIn("DSN", lines)

    def test_command_sequence_errors(self):
        with MoatServer(moat_binary(), params={"smtpd_helo_required": "yes"}) as server:
            replies = dialogue(server, "MAIL FROM:<a@b.c>", "RCPT TO:<root@localhost>", "DATA", "HELO",
                               "HELO c", "MAIL FROM:<a@b.c>", "MAIL FROM:<a@b.c>", "DATA", "BOGUS", "RSET x",
                               "RSET", "NOOP", "QUIT")
            self.assertEqual(replies, [
                (503, "5.5.1 Error: send HELO/EHLO first"),
                (503, "5.5.1 Error: need MAIL command"),
                (503, "5.5.1 Error: need RCPT command"),
                (501, "Syntax: HELO hostname"),
                (250, "mx.example.test"),
                (250, "2.1.0 Ok"),
                (503, "5.5.1 Error: nested MAIL command"),
                (554, "5.5.1 Error: no valid recipients"),
                (500, "5.5.2 Error: command not recognized"),
                (501, "5.5.4 Syntax: RSET"),
                (250, "2.0.0 Ok"),
                (250, "2.0.0 Ok"),
                (221, "2.0.0 Bye"),
            ])

    def test_mail_parameters(self):
        with MoatServer(moat_binary(), params={"message_size_limit": "1000"}) as server:
            replies = dialogue(server, "EHLO c", "MAIL FROM:<a@b.c> SIZE=1001", "MAIL FROM:<a@b.c> SIZE=x",
                               "MAIL FROM:<a@b.c> BODY=bogus", "MAIL FROM:<a@b.c> FOO=bar",
                               "MAIL FROM:<a@b.c> SIZE=999 BODY=8BITMIME SMTPUTF8")
            self.assertEqual([r[0] for r in replies], [250, 552, 501, 555, 555, 250])
            self.assertEqual(replies[1][1], "5.3.4 Message size exceeds fixed limit")
            self.assertEqual(replies[4][1], "5.5.4 Unsupported option: FOO=bar")

    def test_unknown_local_user_is_rejected_and_logged(self):
        with MoatServer(moat_binary()) as server:
            replies = dialogue(server, "EHLO c.example", "MAIL FROM:<a@example.org>", "RCPT TO:<nosuchuser@localhost>")
            self.assertEqual(replies[2], (550, "5.1.1 <nosuchuser@localhost>: Recipient address rejected: User unknown in local recipient table"))
            log = wait_log(server, r"NOQUEUE: reject")
            self.assertIn("NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 <nosuchuser@localhost>: Recipient address rejected: "
                          "User unknown in local recipient table; from=<a@example.org> to=<nosuchuser@localhost> proto=ESMTP helo=<c.example>", log)

    def test_recipient_limit(self):
        with MoatServer(moat_binary(), params={"smtpd_recipient_limit": "2"}) as server:
            replies = dialogue(server, "EHLO c", "MAIL FROM:<>", "RCPT TO:<root@localhost>",
                               "RCPT TO:<postmaster@localhost>", "RCPT TO:<root@localhost>")
            self.assertEqual(replies[4], (452, "4.5.3 Error: too many recipients"))

    def test_vrfy_enabled_and_disabled(self):
        with MoatServer(moat_binary()) as server:
            replies = dialogue(server, "VRFY root", "VRFY nosuchuser@localhost", "VRFY")
            self.assertEqual(replies[0], (252, "2.0.0 root"))
            self.assertEqual(replies[1][0], 550)
            self.assertEqual(replies[2], (501, "5.5.4 Syntax: VRFY address [SMTPUTF8]"))
        with MoatServer(moat_binary(), params={"disable_vrfy_command": "yes"}) as server:
            self.assertEqual(dialogue(server, "VRFY root"), [(502, "5.5.1 VRFY command is disabled")])

    def test_strict_envelopes(self):
        with MoatServer(moat_binary(), params={"strict_rfc821_envelopes": "yes"}) as server:
            replies = dialogue(server, "EHLO c", "MAIL FROM:a@example.org", "MAIL FROM:<a@example.org>",
                               "RCPT TO:root@localhost")
            self.assertEqual(replies[1], (501, "5.1.7 Bad sender address syntax"))
            self.assertEqual(replies[2][0], 250)
            self.assertEqual(replies[3], (501, "5.1.3 Bad recipient address syntax"))

    def test_pipelined_transaction_in_one_write(self):
        with MoatServer(moat_binary()) as server:
            client = RawClient(server.host, server.port)
            client.read_reply()
            client.send(b"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<root@localhost>\r\n"
                        b"RCPT TO:<nosuchuser@localhost>\r\nDATA\r\n")
            codes = [client.read_reply()[0] for _ in range(5)]
            self.assertEqual(codes, [250, 250, 250, 550, 354])
            client.send(b"Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
            self.assertEqual(client.read_reply()[0], 250)
            self.assertEqual(client.read_reply()[0], 221)
            client.close()
            self.assertEqual(len(server.maildir_messages("root")), 1)

    def test_commands_before_the_banner_are_answered_in_order(self):
        with MoatServer(moat_binary()) as server:
            client = RawClient(server.host, server.port)
            client.send(b"EHLO early\r\nNOOP\r\n")
            self.assertEqual(client.read_reply()[0], 220)
            self.assertEqual(client.read_reply()[0], 250)
            self.assertEqual(client.read_reply()[0], 250)
            client.close()

    def test_ipv6_loopback_listener(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no ::1 on this machine")
        with MoatServer(moat_binary(), params={"moat_smtp_listen": "[::1]:0"}) as server:
            self.assertEqual(server.host, "::1")
            with smtplib.SMTP(server.host, server.port, timeout=10) as client:
                self.assertEqual(client.noop()[0], 250)


class Relay(unittest.TestCase):
    TRICKS = ["user@other.test", "user%other.test@localhost", '"user@other.test"@localhost',
              "@localhost:user@other.test", "other.test!user@localhost", "user@other.test@localhost"]

    def test_never_an_open_relay_for_outside_clients(self):
        with MoatServer(moat_binary(), params=UNTRUSTED) as server:
            lines = ["EHLO c", "MAIL FROM:<a@example.org>"] + [f"RCPT TO:<{t}>" for t in self.TRICKS]
            replies = dialogue(server, *lines)[2:]
            for trick, (code, text) in zip(self.TRICKS, replies):
                self.assertEqual(code, 454, trick)
                self.assertRegex(text, r"^4\.7\.1 <.*>: Relay access denied$", trick)
            self.assertEqual(server.maildir_messages("user"), [])

    def test_outside_client_may_send_to_local_users(self):
        with MoatServer(moat_binary(), params=UNTRUSTED) as server:
            replies = dialogue(server, "EHLO c", "MAIL FROM:<a@example.org>", "RCPT TO:<postmaster@localhost>")
            self.assertEqual(replies[2][0], 250)

    def test_reject_unauth_destination_uses_relay_domains_reject_code(self):
        params = dict(UNTRUSTED, smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination")
        with MoatServer(moat_binary(), params=params) as server:
            replies = dialogue(server, "EHLO c", "MAIL FROM:<a@example.org>", "RCPT TO:<user@other.test>")
            self.assertEqual(replies[2], (554, "5.7.1 <user@other.test>: Relay access denied"))
            self.assertIn("NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 554 5.7.1 <user@other.test>: Relay access denied; "
                          "from=<a@example.org> to=<user@other.test> proto=ESMTP helo=<c>", wait_log(server, "NOQUEUE"))


class DataPhase(unittest.TestCase):
    def start_data(self, server, client):
        client.read_reply()
        client.send(b"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<root@localhost>\r\nDATA\r\n")
        for _ in range(4):
            code, _ = client.read_reply()
        self.assertEqual(code, 354)

    def test_bare_lf_is_refused_with_521_and_nothing_is_delivered(self):
        with MoatServer(moat_binary(), params=UNTRUSTED) as server:
            client = RawClient(server.host, server.port)
            self.start_data(server, client)
            client.send(b"Subject: x\n\nbody\n.\n")
            code, text = client.read_reply()
            self.assertEqual(code, 521)
            self.assertIn("5.5.2", text[0])
            self.assertTrue(client.is_closed())
            client.close()
            time.sleep(0.2)
            self.assertEqual(server.maildir_messages("root"), [])

    def test_bare_lf_command_is_refused(self):
        with MoatServer(moat_binary(), params=UNTRUSTED) as server:
            client = RawClient(server.host, server.port)
            client.read_reply()
            client.send(b"EHLO c\n")
            self.assertEqual(client.read_reply()[0], 521)
            client.close()

    def test_smuggling_sequences_do_not_end_the_message(self):
        # With bare LF allowed (the client is in the exclusions), the smuggled
        # "end of data" must stay message content: one message, no second one.
        for separator in (b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r"):
            with self.subTest(separator=separator), MoatServer(moat_binary()) as server:
                client = RawClient(server.host, server.port)
                self.start_data(server, client)
                client.send(b"Subject: s\r\n\r\nfirst" + separator +
                            b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<root@localhost>\r\nDATA\r\nsmuggled\r\n.\r\n")
                code, _ = client.read_reply()
                self.assertEqual(code, 250)
                client.send(b"QUIT\r\n")
                self.assertEqual(client.read_reply()[0], 221)
                client.close()
                messages = server.maildir_messages("root")
                self.assertEqual(len(messages), 1)
                self.assertIn(b"MAIL FROM:<evil@example.org>", messages[0])

    def test_oversized_message_gets_552_and_is_not_delivered(self):
        with MoatServer(moat_binary(), params={"message_size_limit": "2000"}) as server:
            client = RawClient(server.host, server.port)
            self.start_data(server, client)
            client.send(b"Subject: big\r\n\r\n" + (b"x" * 100 + b"\r\n") * 50 + b".\r\n")
            self.assertEqual(tuple(client.read_reply()), (552, ("5.3.4 Error: message file too big",)))
            client.send(b"NOOP\r\n")
            self.assertEqual(client.read_reply()[0], 250)
            client.close()
            self.assertEqual(server.maildir_messages("root"), [])

    def test_disconnect_mid_data_delivers_nothing(self):
        with MoatServer(moat_binary()) as server:
            client = RawClient(server.host, server.port)
            self.start_data(server, client)
            client.send(b"Subject: cut\r\n\r\npartial body\r\n")
            client.close()
            log = wait_log(server, r"lost connection after DATA \(\d+ bytes\) from unknown\[127\.0\.0\.1\]")
            self.assertRegex(log, r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=0/1 commands=3/4")
            self.assertEqual(server.maildir_messages("root"), [])
            self.assertEqual(os.listdir(os.path.join(server.dir, "mail", "root", "tmp")) if os.path.isdir(os.path.join(server.dir, "mail", "root", "tmp")) else [], [])


class BadInput(unittest.TestCase):
    def assert_still_serving(self, server):
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            self.assertEqual(client.noop()[0], 250)

    def test_silent_client_times_out(self):
        with MoatServer(moat_binary(), params={"smtpd_timeout": "1s"}) as server:
            client = RawClient(server.host, server.port)
            client.read_reply()
            code, text = client.read_reply(timeout=10)
            self.assertEqual(code, 421)
            self.assertEqual(tuple(text), ("4.4.2 mx.example.test Error: timeout exceeded",))
            client.close()
            wait_log(server, r"timeout after CONNECT from unknown\[127\.0\.0\.1\]")

    def test_over_long_line_is_cut_and_the_session_goes_on(self):
        with MoatServer(moat_binary()) as server:
            client = RawClient(server.host, server.port)
            client.read_reply()
            client.send(b"X" * 100000 + b"\r\nNOOP\r\n")
            self.assertEqual(client.read_reply()[0], 500)
            self.assertEqual(client.read_reply()[0], 250)
            client.close()
            self.assert_still_serving(server)

    def test_nul_bytes_and_binary_garbage(self):
        with MoatServer(moat_binary()) as server:
            client = RawClient(server.host, server.port)
            client.read_reply()
            client.send(b"EHLO \x00\x01\x02\r\n\xff\xfe\x00garbage\r\nMAIL FROM:<a\x00b@c>\r\n")
            for _ in range(3):
                code, _ = client.read_reply()
                self.assertIn(code // 100, (2, 5))
            client.close()
            self.assert_still_serving(server)

    def test_thousands_of_commands_end_in_too_many_errors(self):
        with MoatServer(moat_binary(), params={"smtpd_error_sleep_time": "0"}) as server:
            client = RawClient(server.host, server.port)
            client.read_reply()
            client.send(b"NOOP\r\n" * 5000)
            last = None
            for _ in range(5000):
                last = client.read_reply_or_closed(timeout=10)
                if last.code in (0, 421):
                    break
            self.assertEqual(tuple(last), (421, ("4.7.0 mx.example.test Error: too many errors",)))
            client.close()
            self.assert_still_serving(server)

    def test_hard_error_limit(self):
        with MoatServer(moat_binary(), params={"smtpd_hard_error_limit": "3", "smtpd_error_sleep_time": "0"}) as server:
            replies = dialogue(server, "BAD1", "BAD2", "BAD3")
            self.assertEqual([r[0] for r in replies], [500, 500, 500])
            client = RawClient(server.host, server.port)
            client.read_reply()
            client.send(b"BAD1\r\nBAD2\r\nBAD3\r\n")
            codes = [client.read_reply()[0] for _ in range(4)]
            self.assertEqual(codes, [500, 500, 500, 421])
            client.close()
            wait_log(server, r"too many errors after UNKNOWN from unknown\[127\.0\.0\.1\]")


class Lifecycle(unittest.TestCase):
    def test_sighup_reload_applies_to_new_sessions(self):
        with MoatServer(moat_binary()) as server:
            old = RawClient(server.host, server.port)
            self.assertIn("mx.example.test", old.read_reply()[1][0])
            server.reload({"myhostname": "new.example.test"}, wait_log=r"reload -- configuration")
            new = RawClient(server.host, server.port)
            self.assertIn("new.example.test", new.read_reply()[1][0])
            old.send(b"HELO c\r\n")
            self.assertEqual(tuple(old.read_reply()), (250, ("mx.example.test",)))  # keeps its snapshot
            old.close()
            new.close()

    def test_invalid_reload_keeps_the_running_config(self):
        with MoatServer(moat_binary()) as server:
            server.reload({"smtpd_timeout": "bogus"}, wait_log=r"reload of .* refused")
            client = RawClient(server.host, server.port)
            self.assertIn("mx.example.test", client.read_reply()[1][0])
            client.close()

    def test_sigterm_lets_running_sessions_finish_and_refuses_new_ones(self):
        server = MoatServer(moat_binary())
        server.start()
        try:
            client = RawClient(server.host, server.port)
            client.read_reply()
            client.send(b"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<root@localhost>\r\nDATA\r\n")
            for _ in range(4):
                code, _ = client.read_reply()
            self.assertEqual(code, 354)
            server.proc.send_signal(signal.SIGTERM)
            server.wait_for_log(r"terminating on signal 15")
            deadline = time.monotonic() + 5
            refused = False
            while time.monotonic() < deadline and not refused:
                try:
                    socket.create_connection((server.host, server.port), timeout=1).close()
                    time.sleep(0.05)
                except OSError:
                    refused = True
            self.assertTrue(refused, "moat still accepts connections after SIGTERM")
            client.send(b"Subject: last\r\n\r\nbody\r\n.\r\nQUIT\r\n")
            self.assertEqual(client.read_reply()[0], 250)
            self.assertEqual(client.read_reply()[0], 221)
            client.close()
            self.assertEqual(len(server.maildir_messages("root")), 1)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_sigterm_exits_zero(self):
        server = MoatServer(moat_binary())
        server.start()
        try:
            with smtplib.SMTP(server.host, server.port, timeout=10) as client:
                client.noop()
        finally:
            self.assertEqual(server.stop(), 0)


class Check(unittest.TestCase):
    def run_check(self, text, *flags):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "main.cf")
            with open(path, "w") as f:
                f.write(text)
            result = subprocess.run([moat_binary(), "check", "-c", path, *flags], capture_output=True, text=True, timeout=30)
            return result.returncode, result.stdout, result.stderr.replace(path, "main.cf")

    def test_valid_config(self):
        rc, _, err = self.run_check("mynetworks = 127.0.0.0/8\nmoat_smtp_listen = 127.0.0.1:2525\n")
        self.assertEqual((rc, err), (0, ""))

    def test_errors_name_file_line_and_parameter(self):
        rc, _, err = self.run_check("# comment\nmyhostname = x.example\nsmtpd_timeout = 5x\n"
                                    "moat_smtp_listen = nonsense\nmynetworks = 1.2.3.4/99\n")
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"main\.cf:3: smtpd_timeout: .*5x")
        self.assertRegex(err, r"main\.cf:4: moat_smtp_listen: .*nonsense")
        self.assertRegex(err, r"main\.cf:5: mynetworks: .*1\.2\.3\.4/99")

    def test_unknown_restriction_is_an_error(self):
        rc, _, err = self.run_check("smtpd_relay_restrictions = permit_mynetworks, reject_everything_bad\n")
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"main\.cf:1: smtpd_relay_restrictions: .*reject_everything_bad")

    def test_unknown_parameter_is_a_warning(self):
        rc, _, err = self.run_check("no_such_parameter = 1\n")
        self.assertEqual(rc, 0)
        self.assertRegex(err, r"main\.cf:1: no_such_parameter: warning: unused parameter")

    def test_non_default_parameters(self):
        rc, out, _ = self.run_check("myhostname = a.example\nmydestination = $myhostname,\n  localhost\n", "-n")
        self.assertEqual(rc, 0)
        self.assertEqual(out, "mydestination = $myhostname, localhost\nmyhostname = a.example\n")


if __name__ == "__main__":
    unittest.main()
