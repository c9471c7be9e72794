"""check_policy_service against real policy servers: postgrey (Debian's
package) and policyd-spf (spawned per connection, as Postfix's spawn(8)
runs it), with the replies Postfix gives for their actions; and the faults
a policy server can have: down, silent, talking nonsense."""
import os
import re
import socket
import tempfile
import threading
import time
import unittest

from harness.moat import MoatServer, default_moat_binary as moat_binary
from harness.nsd import NsdServer, nsd_available
from harness.postgrey import PostgreyServer, postgrey_available
from harness.private_resolver import unshare_problem, with_resolver_files, write_resolver_files
from harness.smtp import RawClient
from harness.spawn_server import SpawnServer

RCPT = "root@localhost"
POSTGREY_GREYLISTED = (f"450 4.2.0 <{RCPT}>: Recipient address rejected: Greylisted, see "
                       "http://postgrey.schweikert.ch/help/localhost.html")
CONFIG_PROBLEM = f"451 4.3.5 <{RCPT}>: Recipient address rejected: Server configuration problem"


def transaction(server, source, sender="alice@sender.example", recipient=RCPT, data=False,
                helo="client.example"):
    client = RawClient(server.host, server.port, source=source, timeout=30)
    try:
        client.expect(220)
        client.command(f"EHLO {helo}")
        client.command(f"MAIL FROM:<{sender}>")
        reply = client.command(f"RCPT TO:<{recipient}>")
        if not data or reply.code != 250:
            return f"{reply.code} {reply.text}"
        if client.command("DATA").code != 354:
            return "DATA refused"
        client.send(b"Subject: policy\r\n\r\nhello\r\n.\r\n")
        reply = client.read_reply()
        return f"{reply.code} {reply.text}"
    finally:
        client.close()


def moat(policy, **params):
    base = {
        "mynetworks": "192.0.2.0/24",
        "smtpd_recipient_restrictions":
            f"reject_unauth_destination, check_recipient_access "
            f"inline:{{{{ok@localhost=OK}}}}, check_policy_service {policy}",
        "smtpd_policy_service_timeout": "2s",
        "smtpd_policy_service_retry_delay": "1s",
    }
    base.update(params)
    return MoatServer(moat_binary(), params=base,
                      aliases={"postmaster": "root", "root": "root", "ok": "root"})


@unittest.skipIf(postgrey_available() is not None, f"postgrey: {postgrey_available()}")
class Postgrey(unittest.TestCase):
    def test_greylisting_through_postgrey(self):
        with PostgreyServer(delay=2) as p, moat(p.endpoint) as m:
            self.assertEqual(transaction(m, "127.0.60.1"), POSTGREY_GREYLISTED)
            m.wait_for_log(re.escape(
                f"NOQUEUE: reject: RCPT from unknown[127.0.60.1]: {POSTGREY_GREYLISTED}; "
                f"from=<alice@sender.example> to=<{RCPT}> proto=ESMTP helo=<client.example>"))
            time.sleep(2.5)
            self.assertTrue(transaction(m, "127.0.60.1", data=True).startswith("250 2.0.0 Ok"))
            [message] = m.maildir_messages("root")
            self.assertRegex(message.decode(errors="replace"),
                             r"(?m)^X-Greylist: delayed \d+ seconds by postgrey-[\d.]+ at "
                             r"postgrey\.test; ")
            # postgrey saw moat's attributes (its log names the client and triplet).
            self.assertIn("client_address=127.0.60.1, sender=alice@sender.example, "
                          "recipient=root@localhost", p.log())

    def test_connections_are_reused(self):
        with PostgreyServer(delay=300) as p, moat(p.endpoint, moat_workers="1") as m:
            for i in range(5):
                self.assertEqual(transaction(m, f"127.0.61.{i + 1}"),
                                 POSTGREY_GREYLISTED.replace("localhost.html", "localhost.html"))
            out = os.popen(f"ss -tn state established '( dport = :{p.port} )'").read()
            self.assertEqual(len(out.strip().splitlines()) - 1, 1, out)


class Faults(unittest.TestCase):
    def test_server_down_gives_the_default_action(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed again: nothing listens there
        with moat(f"inet:127.0.0.1:{port}") as m:
            start = time.monotonic()
            self.assertEqual(transaction(m, "127.0.62.1"), CONFIG_PROBLEM)
            self.assertLess(time.monotonic() - start, 5)
            m.wait_for_log(rf"warning: problem talking to server inet:127\.0\.0\.1:{port}: ")
        with moat(f"{{ inet:127.0.0.1:{port}, default_action=DUNNO }}") as m:
            self.assertTrue(transaction(m, "127.0.62.2").startswith("250 "))

    def serve(self, answer):
        """A policy server that reads one request, then does `answer(conn)`."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self.addCleanup(listener.close)

        def loop():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=answer, args=(conn,), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()
        return f"inet:127.0.0.1:{listener.getsockname()[1]}"

    @staticmethod
    def read_request(conn):
        data = b""
        while b"\n\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return data
            data += chunk
        return data

    def test_silent_server_times_out_without_stalling_others(self):
        silent = self.serve(lambda conn: (self.read_request(conn), time.sleep(30)))
        with moat(silent, smtpd_policy_service_try_limit="1") as m:
            results = {}

            def slow():
                start = time.monotonic()
                results["slow"] = (transaction(m, "127.0.63.1"), time.monotonic() - start)

            t = threading.Thread(target=slow)
            t.start()
            time.sleep(0.3)
            start = time.monotonic()
            # Another session on the same loop is not held up.
            fast = transaction(m, "127.0.63.2", recipient="ok@localhost")
            self.assertTrue(fast.startswith("250 "), fast)
            self.assertLess(time.monotonic() - start, 1.0)
            t.join()
            reply, took = results["slow"]
            self.assertEqual(reply, CONFIG_PROBLEM)
            self.assertGreaterEqual(took, 1.8)
            self.assertLess(took, 6)

    def test_garbage_and_mid_answer_close_give_the_default_action(self):
        def garbage(conn):
            self.read_request(conn)
            conn.sendall(b"\x00\x01 this is not a policy answer\n\n")
            time.sleep(1)
            conn.close()

        def half(conn):
            self.read_request(conn)
            conn.sendall(b"action=DEFER_IF_PER")
            conn.close()

        for answer in (garbage, half):
            with moat(self.serve(answer)) as m:
                self.assertEqual(transaction(m, "127.0.64.1"), CONFIG_PROBLEM, answer.__name__)
                m.wait_for_log(r"warning: problem talking to server inet:")

    def test_actions_are_access_table_results(self):
        def reject(conn):
            while self.read_request(conn):
                conn.sendall(b"action=REJECT go away\n\n")

        with moat(self.serve(reject)) as m:
            self.assertEqual(transaction(m, "127.0.65.1"),
                             f"554 5.7.1 <{RCPT}>: Recipient address rejected: go away")


@unittest.skipIf(nsd_available() is not None, f"NSD: {nsd_available()}")
@unittest.skipIf(unshare_problem() is not None, f"unshare: {unshare_problem()}")
class PolicydSpf(unittest.TestCase):
    def test_spf_fail_through_policyd_spf(self):
        with tempfile.TemporaryDirectory() as d, NsdServer() as nsd:
            conf = os.path.join(d, "policyd-spf.conf")
            with open(conf, "w") as f:
                f.write("debugLevel = 1\nTestOnly = 1\nHELO_reject = Fail\n"
                        "Mail_From_reject = Fail\nskip_addresses = 192.0.2.0/24\n")
            files = write_resolver_files(d, nsd.address)
            command = with_resolver_files(files, ["/usr/bin/policyd-spf", conf])
            with SpawnServer(command) as s, moat(s.endpoint) as m:
                reply = transaction(m, "127.0.71.9", sender="alice@fail.spf.test",
                                    helo="helo-none.spf.test")
                self.assertTrue(reply.startswith(
                    f"550 5.7.23 <{RCPT}>: Recipient address rejected: Message rejected due "
                    f"to: SPF fail - not authorized. Please see "), reply)
                self.assertIn("id=alice@fail.spf.test;ip=127.0.71.9", reply)
                accepted = transaction(m, "127.0.70.9", sender="alice@pass.spf.test",
                                       helo="helo-none.spf.test", data=True)
                self.assertTrue(accepted.startswith("250 "), accepted)
                [message] = m.maildir_messages("root")
                self.assertRegex(message.decode(errors="replace"),
                                 r"(?m)^Received-SPF: Pass \(mailfrom\) identity=mailfrom; "
                                 r"client-ip=127\.0\.70\.9;")


if __name__ == "__main__":
    unittest.main()
