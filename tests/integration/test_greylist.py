"""check_greylist end to end: postgrey's replies and semantics on the real
state stores, LMDB (this host) and a real redis-server shared by two moat
processes. Delays are a few seconds so that tests wait for real."""
import os
import re
import tempfile
import threading
import time
import unittest

from harness.moat import MoatServer, default_moat_binary as moat_binary
from harness.redis import RedisServer, redis_available
from harness.smtp import RawClient

RCPT = "root@localhost"
GREYLISTED = (f"450 4.2.0 <{RCPT}>: Recipient address rejected: Greylisted, see "
              "https://postgrey.schweikert.ch/help/localhost.html")
# Whole seconds, as postgrey counts: a retry 1.1 s later has waited 1 or 2.
DELAY = 3


def transaction(server, source, sender="alice@sender.example", recipient=RCPT, data=False,
                helo="client.example"):
    """The RCPT reply ("CODE text"), or with data=True the reply to the
    message's end (a 4XX/5XX RCPT reply is returned as it is)."""
    client = RawClient(server.host, server.port, source=source)
    try:
        client.expect(220)
        client.command(f"EHLO {helo}")
        client.command(f"MAIL FROM:<{sender}>")
        reply = client.command(f"RCPT TO:<{recipient}>")
        if not data or reply.code != 250:
            return f"{reply.code} {reply.text}"
        reply = client.command("DATA")
        if reply.code != 354:
            return f"{reply.code} {reply.text}"
        client.send(b"Subject: greylisting\r\n\r\nhello\r\n.\r\n")
        reply = client.read_reply()
        client.command("QUIT")
        return f"{reply.code} {reply.text}"
    finally:
        client.close()


class GreylistCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def server(self, store=None, host="127.0.0.1", **params):
        base = {
            # The 127.0.X.Y test clients must not be in mynetworks.
            "mynetworks": "192.0.2.0/24",
            "smtpd_recipient_restrictions": "reject_unauth_destination, check_greylist",
            "moat_state_store": store or f"lmdb:{self.tmp.name}/state.lmdb",
            "moat_greylist_delay": f"{DELAY}s",
        }
        base.update(params)
        return MoatServer(moat_binary(), params=base, host=host)

    def greylist_lines(self, server, reason):
        return [line for line in server.log().splitlines()
                if "greylist: action=" in line and f"reason={reason}" in line]


class LmdbGreylist(GreylistCase):
    def test_first_attempt_retry_and_pass_after_the_delay(self):
        with self.server() as m:
            self.assertEqual(transaction(m, "127.0.40.1"), GREYLISTED)
            m.wait_for_log(re.escape(
                f"NOQUEUE: reject: RCPT from unknown[127.0.40.1]: {GREYLISTED}; "
                f"from=<alice@sender.example> to=<{RCPT}> proto=ESMTP helo=<client.example>"))
            m.wait_for_log(r"unknown\[127\.0\.40\.1\]: greylist: action=greylist, reason=new, "
                           r"sender=<alice@sender\.example>, recipient=<root@localhost>")
            time.sleep(1.1)  # a retry in the same second is "new" to postgrey too
            self.assertEqual(transaction(m, "127.0.40.1"), GREYLISTED)
            m.wait_for_log(r"action=greylist, reason=early-retry \(\d+s missing\)")
            time.sleep(DELAY + 0.2)
            self.assertTrue(transaction(m, "127.0.40.1", data=True).startswith("250 2.0.0 Ok"))
            m.wait_for_log(r"action=pass, reason=triplet found, delay=\d+")
            messages = m.maildir_messages("root")
            self.assertEqual(len(messages), 1)
            header = re.search(rb"^X-Greylist: delayed (\d+) seconds by moat at mx\.example\.test; ",
                               messages[0], re.M)
            self.assertIsNotNone(header, messages[0][:500])
            self.assertGreaterEqual(int(header.group(1)), DELAY)
            # A header only for the first accepted retry.
            self.assertTrue(transaction(m, "127.0.40.1", data=True).startswith("250 "))
            later = [x for x in m.maildir_messages("root") if x != messages[0]]
            self.assertEqual(len(later), 1)
            self.assertNotIn(b"X-Greylist:", later[0])

    def test_the_triplet_holds_the_clients_network(self):
        with self.server() as m:
            self.assertEqual(transaction(m, "127.0.41.1"), GREYLISTED)
            time.sleep(DELAY + 0.2)
            # Another host of the same /24 retries: postgrey's pools of senders.
            self.assertTrue(transaction(m, "127.0.41.2").startswith("250 "))
            self.assertEqual(transaction(m, "127.0.42.1"), GREYLISTED)
        with self.server(moat_greylist_client="host") as m:
            self.assertEqual(transaction(m, "127.0.41.3", sender="bob@x.example"), GREYLISTED)
            time.sleep(DELAY + 0.2)
            self.assertEqual(transaction(m, "127.0.41.4", sender="bob@x.example"), GREYLISTED)

    def test_sender_substitutions_make_one_triplet(self):
        with self.server() as m:
            self.assertEqual(transaction(m, "127.0.43.1", sender="bounce+1234@lists.example"),
                             GREYLISTED)
            time.sleep(DELAY + 0.2)
            self.assertTrue(transaction(m, "127.0.43.1", sender="bounce+9876@lists.example")
                            .startswith("250 "))

    def test_auto_allowlist(self):
        with self.server(moat_greylist_auto_allowlist_clients="1") as m:
            self.assertEqual(transaction(m, "127.0.44.1"), GREYLISTED)
            time.sleep(DELAY + 0.2)
            self.assertTrue(transaction(m, "127.0.44.1").startswith("250 "))
            m.wait_for_log(r"greylisting: auto-allowlisted client 127\.0\.44\.1")
            # A new triplet from the same client is not delayed any more...
            self.assertTrue(transaction(m, "127.0.44.1", sender="new@other.example")
                            .startswith("250 "))
            m.wait_for_log(r"action=pass, reason=client AWL")
            # ... but one from its neighbour is.
            self.assertEqual(transaction(m, "127.0.44.2", sender="new@other.example"), GREYLISTED)

    def test_entries_expire_after_max_age(self):
        with self.server(moat_greylist_max_age="5s") as m:
            self.assertEqual(transaction(m, "127.0.45.1"), GREYLISTED)
            time.sleep(DELAY + 0.2)
            self.assertTrue(transaction(m, "127.0.45.1").startswith("250 "))
            time.sleep(5.5)
            self.assertEqual(transaction(m, "127.0.45.1"), GREYLISTED)
            self.assertEqual(len(self.greylist_lines(m, "new")), 2)

    def test_state_survives_a_restart(self):
        with self.server() as m:
            self.assertEqual(transaction(m, "127.0.46.1"), GREYLISTED)
        time.sleep(DELAY + 0.2)
        with self.server() as m:
            self.assertTrue(transaction(m, "127.0.46.1").startswith("250 "))
            m.wait_for_log(r"action=pass, reason=triplet found, delay=")

    def test_null_sender_is_greylisted_too(self):
        with self.server() as m:
            self.assertEqual(transaction(m, "127.0.47.1", sender=""), GREYLISTED)
            m.wait_for_log(r"reason=new, sender=<>, recipient=<root@localhost>")
            time.sleep(DELAY + 0.2)
            self.assertTrue(transaction(m, "127.0.47.1", sender="").startswith("250 "))

    def test_allowlist_files(self):
        clients = os.path.join(self.tmp.name, "clients")
        recipients = os.path.join(self.tmp.name, "recipients")
        with open(clients, "w") as f:
            f.write("# postgrey's format\n127.0.48\n/^never\\.matches$/\n")
        with open(recipients, "w") as f:
            f.write("postmaster@\n")
        with self.server(moat_greylist_client_allowlist=clients,
                         moat_greylist_recipient_allowlist=recipients) as m:
            self.assertTrue(transaction(m, "127.0.48.9").startswith("250 "))
            self.assertTrue(transaction(m, "127.0.49.9", recipient="postmaster@localhost")
                            .startswith("250 "))
            self.assertEqual(transaction(m, "127.0.49.9"), GREYLISTED)
            self.assertEqual(len(self.greylist_lines(m, "new")), 1)

    def test_ipv6_client(self):
        with self.server(host="::1") as m:
            self.assertEqual(transaction(m, "::1"), GREYLISTED)
            m.wait_for_log(r"unknown\[::1\]: greylist: action=greylist, reason=new")
            time.sleep(DELAY + 0.2)
            self.assertTrue(transaction(m, "::1").startswith("250 "))


@unittest.skipIf(redis_available() is not None, f"Redis: {redis_available()}")
class RedisGreylist(GreylistCase):
    def test_two_moats_share_one_greylist(self):
        with RedisServer() as r, self.server(r.spec) as a, self.server(r.spec) as b:
            self.assertEqual(transaction(a, "127.0.50.1"), GREYLISTED)
            time.sleep(1.1)  # a retry in the same second is "new" to postgrey too
            self.assertEqual(transaction(b, "127.0.50.1"), GREYLISTED)
            b.wait_for_log(r"reason=early-retry")  # not "new": A's entry
            time.sleep(DELAY + 0.2)
            self.assertTrue(transaction(b, "127.0.50.1").startswith("250 "))
            b.wait_for_log(r"action=pass, reason=triplet found, delay=")
            value = r.command("GET", "grey:127.0.50.0/alice@sender.example/root@localhost")
            self.assertRegex(value, r"^\d+,\d+$")

    def test_concurrent_retries_through_both_count_once(self):
        with RedisServer() as r, self.server(r.spec) as a, self.server(r.spec) as b:
            self.assertEqual(transaction(a, "127.0.51.1"), GREYLISTED)
            time.sleep(DELAY + 0.2)
            replies = []

            def retry(server):
                replies.append(transaction(server, "127.0.51.1"))

            threads = [threading.Thread(target=retry, args=(s,)) for s in (a, b) * 5]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(len(replies), 10)
            self.assertTrue(all(x.startswith("250 ") for x in replies), replies)
            first_passes = (len(self.greylist_lines(a, "triplet found, delay="))
                            + len(self.greylist_lines(b, "triplet found, delay=")))
            self.assertEqual(first_passes, 1)
            count, _ = r.command("GET", "awl:127.0.51.1").split(",")
            self.assertEqual(count, "1")

    def test_redis_down_fails_open_and_recovers(self):
        with RedisServer() as r, self.server(r.spec, moat_state_store_timeout="1s") as m:
            self.assertEqual(transaction(m, "127.0.52.1"), GREYLISTED)
            r.stop()
            self.assertTrue(transaction(m, "127.0.52.2").startswith("250 "))
            m.wait_for_log(r"warning: greylisting: state store unavailable: ")
            r.start()
            deadline = time.monotonic() + 15
            while True:
                reply = transaction(m, "127.0.53.1")
                if reply == GREYLISTED or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            self.assertEqual(reply, GREYLISTED)

    def test_redis_down_defers_when_asked(self):
        with RedisServer() as r, self.server(r.spec,
                                             moat_state_store_failure_action="defer") as m:
            r.stop()
            self.assertEqual(transaction(m, "127.0.54.1"),
                             f"451 4.3.0 <{RCPT}>: Temporary lookup failure")

    def test_password(self):
        with RedisServer(password="s3cret") as r:
            with self.server(r.spec, moat_state_store_password="s3cret") as m:
                self.assertEqual(transaction(m, "127.0.55.1"), GREYLISTED)
            with self.server(r.spec, moat_state_store_password="wrong") as m:
                self.assertTrue(transaction(m, "127.0.55.2").startswith("250 "))
                m.wait_for_log(r"warning: greylisting: state store unavailable: ")


if __name__ == "__main__":
    unittest.main()
