"""check_spf end to end: the real moat against real DNS (NSD serving
tests/fixtures/dns/spf.test.zone), and against the real policyd-spf
(Debian's postfix-policyd-spf-python) given the same transactions.

SpfCheck asserts moat's replies, log lines and delivered headers.
PolicydSpfDifferential runs /usr/bin/policyd-spf with its DNS pointed at the
same NSD (a private mount namespace with a test resolv.conf, see
harness/private_resolver.py), feeds it Postfix policy requests and compares
its actions with moat's replies and headers for the same transactions.

Clients: 127.0.70.0/24 is the network the spf.test records permit,
127.0.71.0/24 one they permit nowhere (see tests/fixtures/dns/README.md).
moat_spf_skip_addresses is set to ::1 (policyd-spf: skip_addresses) so
these loopback clients are checked, except where the default is the test.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness.moat import MoatServer, default_moat_binary as moat_binary
from harness.nsd import NsdTestCase, SilentDnsServer
from harness.private_resolver import unshare_problem, with_resolver_files, write_resolver_files
from harness.smtp import RawClient, data_body

PERMITTED = "127.0.70.1"   # in 127.0.70.0/24: pass.spf.test and friends permit it
PERMITTED_2 = "127.0.70.9"  # the same network, not the A of any name
STRANGER = "127.0.71.1"    # permitted by no record
HELO = "helo-none.spf.test"  # exists, has no SPF record: the HELO identity says none
RCPT = "postmaster@localhost"  # an alias of root
MYHOSTNAME = "mx.example.test"  # MoatServer's
POLICYD_SPF = "/usr/bin/policyd-spf"


def why(identity, ip):
    """The "Please see" URL of moat's refusals."""
    return f"https://www.open-spf.org/Why;id={identity};ip={ip};r={MYHOSTNAME}"


def rejected(reason, identity, ip, rcpt=RCPT, code="550 5.7.23", verb="rejected"):
    return (f"{code} <{rcpt}>: Recipient address rejected: Message {verb} due to: {reason}. "
            f"Please see {why(identity, ip)}")


def text(reply):
    return f"{reply.code} {reply.text}" if reply is not None else None


class Transaction:
    """One SMTP session with one mail transaction: EHLO (unless helo is ""), MAIL, RCPT for each
    recipient, and DATA when a recipient was accepted (Subject: `subject`).
    `.mail`, `.rcpts`, `.data` hold the replies as "CODE text"."""

    def __init__(self, server, source, sender, helo=HELO, recipients=(RCPT,), subject="spf"):
        self.server = server
        self.source = source
        self.rcpts = []
        self.data = None
        with RawClient(server.host, server.port, source=source) as c:
            c.expect(220)
            if helo:  # else none: MAIL without HELO is allowed (smtpd_helo_required = no)
                c.command(f"EHLO {helo}")
            reply = c.command(f"MAIL FROM:<{sender}>")
            self.mail = text(reply)
            if reply.code == 250:
                for recipient in recipients:
                    self.rcpts.append(text(c.command(f"RCPT TO:<{recipient}>")))
            if any(r.startswith("250 ") for r in self.rcpts):
                if c.command("DATA").code == 354:
                    c.send(data_body(f"Subject: {subject}\n\nbody\n"))
                    self.data = text(c.read_reply())
            c.command("QUIT")

    @property
    def rcpt(self):
        return self.rcpts[0] if self.rcpts else None

    def messages(self, user="root"):
        """The header blocks of what this transaction delivered to `user`."""
        m = re.match(r"250 2\.0\.0 Ok: queued as (\w+)", self.data or "")
        if not m:
            raise AssertionError(f"no message was accepted: {self.mail} {self.rcpts} {self.data}")
        qid = m.group(1)
        self.server.wait_for_log(rf"{qid}: removed")
        out = []
        for raw in self.server.maildir_messages(user):
            head = raw.decode("utf-8", "replace").split("\n\n", 1)[0]
            if re.search(rf"\bid {qid}\b", head):
                out.append(head)
        return out

    def header(self, user="root"):
        """The only header block delivered to `user`."""
        blocks = self.messages(user)
        if len(blocks) != 1:
            raise AssertionError(f"expected one message, found {len(blocks)}: {blocks}")
        return blocks[0]


def spf_lines(server, client):
    """moat's "SPF RESULT: identity=..." log lines for `client`."""
    return re.findall(rf"^.* unknown\[{re.escape(client)}\]: SPF (\w+): identity=(\w+); .*$",
                      server.log(), re.M)


class SpfCheck(NsdTestCase):
    def server(self, **params):
        # mynetworks must not hold the 127.0.X.Y test clients; only ::1 is
        # skipped so they are checked.
        base = {"mynetworks": "192.0.2.0/24", "moat_spf_skip_addresses": "::1",
                "smtpd_recipient_restrictions": "check_spf"}
        base.update(params)
        return MoatServer(moat_binary(), dns=self.nsd, params=base)

    def test_fail_reply_and_log_lines(self):
        with self.server() as m:
            t = Transaction(m, STRANGER, "alice@fail.spf.test")
            reply = rejected("SPF fail - not authorized", "alice@fail.spf.test", STRANGER)
            self.assertEqual(t.rcpt, reply)
            m.wait_for_log(re.escape(
                f"NOQUEUE: reject: RCPT from unknown[{STRANGER}]: {reply}; "
                f"from=<alice@fail.spf.test> to=<{RCPT}> proto=ESMTP helo=<{HELO}>"))
            m.wait_for_log(re.escape(
                f"unknown[{STRANGER}]: SPF fail: identity=mailfrom; client-ip={STRANGER}; "
                f"helo={HELO}; envelope-from=<alice@fail.spf.test>: "))
            m.wait_for_log(re.escape(
                f"unknown[{STRANGER}]: SPF none: identity=helo; client-ip={STRANGER}; "
                f"helo={HELO}; envelope-from=<>: "))
            # An address outside the record's ip4: network fails the same way.
            self.assertEqual(Transaction(m, STRANGER, "alice@pass.spf.test").rcpt,
                             rejected("SPF fail - not authorized", "alice@pass.spf.test",
                                      STRANGER))

    def test_explanation_with_macros_is_the_reason(self):
        with self.server() as m:
            self.assertEqual(
                Transaction(m, STRANGER, "alice@exp.spf.test").rcpt,
                rejected(f"alice may not send mail for exp.spf.test from {STRANGER} "
                         f"(HELO {HELO})", "alice@exp.spf.test", STRANGER))
            # exp= is for fail only: a permitted client passes.
            self.assertTrue(Transaction(m, PERMITTED, "alice@exp.spf.test").rcpt.startswith("250 "))

    def test_pass_delivers_one_received_spf_header_above_received(self):
        with self.server() as m:
            t = Transaction(m, PERMITTED, "alice@pass.spf.test",
                            recipients=(RCPT, "root@localhost"))
            self.assertEqual(t.rcpts, ["250 2.1.5 Ok", "250 2.1.5 Ok"])
            self.assertTrue(t.data.startswith("250 2.0.0 Ok: queued as "), t.data)
            blocks = t.messages()
            self.assertEqual(len(blocks), 2)  # one file per recipient
            expected = (
                f"Received-SPF: pass ({MYHOSTNAME}: domain of alice@pass.spf.test designates "
                f"{PERMITTED} as permitted sender)\n\tclient-ip={PERMITTED}; "
                f'envelope-from="alice@pass.spf.test"; helo={HELO}; receiver={MYHOSTNAME}; '
                f"identity=mailfrom\n")
            for head in blocks:
                self.assertEqual(head.count("Received-SPF:"), 1, head)
                self.assertIn(expected, head)
                self.assertLess(head.index("Received-SPF:"), head.index("\nReceived: from "), head)
            # Two recipients, one evaluation per identity.
            self.assertEqual(sorted(spf_lines(m, PERMITTED)),
                             [("none", "helo"), ("pass", "mailfrom")])

    def test_mechanisms(self):
        with self.server() as m:
            for domain in ("include", "redirect", "a", "mx"):
                sender = f"alice@{domain}.spf.test"
                self.assertEqual(Transaction(m, PERMITTED_2, sender).rcpt, "250 2.1.5 Ok", domain)
                self.assertEqual(Transaction(m, STRANGER, sender).rcpt,
                                 rejected("SPF fail - not authorized", sender, STRANGER), domain)

    def test_helo_fail_is_refused_with_the_helo_identity(self):
        with self.server() as m:
            t = Transaction(m, PERMITTED, "alice@pass.spf.test", helo="helo-fail.spf.test")
            self.assertEqual(t.rcpt, rejected("SPF fail - not authorized", "helo-fail.spf.test",
                                              PERMITTED))
            # A HELO softfail is not refused (moat_spf_helo_reject = Fail).
            t = Transaction(m, STRANGER, "alice@none.spf.test", helo="helo-softfail.spf.test")
            self.assertEqual(t.rcpt, "250 2.1.5 Ok")
            # MAIL FROM says none: the HELO result is the one reported.
            self.assertIn(f"Received-SPF: softfail ({MYHOSTNAME}: domain of transitioning "
                          f"helo-softfail.spf.test does not designate {STRANGER} as permitted "
                          f"sender)\n\tclient-ip={STRANGER}; "
                          f'envelope-from="alice@none.spf.test"; '
                          f"helo=helo-softfail.spf.test; receiver={MYHOSTNAME}; identity=helo\n",
                          t.header())

    def test_null_sender_is_checked_by_its_helo(self):
        with self.server() as m:
            t = Transaction(m, PERMITTED, "", helo="helo-pass.spf.test")
            self.assertEqual(t.rcpt, "250 2.1.5 Ok")
            self.assertIn(f"Received-SPF: pass ({MYHOSTNAME}: domain of helo-pass.spf.test "
                          f"designates {PERMITTED} as permitted sender)\n\tclient-ip={PERMITTED}; "
                          f'envelope-from="<>"; helo=helo-pass.spf.test; receiver={MYHOSTNAME}; '
                          f"identity=helo\n", t.header())
            self.assertEqual(spf_lines(m, PERMITTED), [("pass", "helo")])
            m.wait_for_log(re.escape(
                f"unknown[{PERMITTED}]: SPF pass: identity=helo; client-ip={PERMITTED}; "
                f"helo=helo-pass.spf.test; envelope-from=<>: "))
            self.assertEqual(Transaction(m, STRANGER, "", helo="helo-fail.spf.test").rcpt,
                             rejected("SPF fail - not authorized", "helo-fail.spf.test", STRANGER))

    def test_softfail_accepted_by_default_refused_when_asked(self):
        with self.server() as m:
            t = Transaction(m, STRANGER, "alice@softfail.spf.test")
            self.assertEqual(t.rcpt, "250 2.1.5 Ok")
            self.assertIn("Received-SPF: softfail (", t.header())
            # Neutral is not refused either.
            self.assertEqual(Transaction(m, STRANGER, "alice@neutral.spf.test").rcpt,
                             "250 2.1.5 Ok")
        with self.server(moat_spf_mail_from_reject="Softfail") as m:
            self.assertEqual(Transaction(m, STRANGER, "alice@softfail.spf.test").rcpt,
                             rejected("domain owner discourages use of this host",
                                      "alice@softfail.spf.test", STRANGER))
            self.assertEqual(Transaction(m, STRANGER, "alice@neutral.spf.test").rcpt,
                             "250 2.1.5 Ok")
        with self.server(moat_spf_mail_from_reject="SPF_Not_Pass") as m:
            self.assertEqual(Transaction(m, STRANGER, "alice@neutral.spf.test").rcpt,
                             rejected("access neither permitted nor denied",
                                      "alice@neutral.spf.test", STRANGER))
            self.assertEqual(Transaction(m, STRANGER, "alice@none.spf.test").rcpt, "250 2.1.5 Ok")

    def test_permerror(self):
        with self.server() as m:
            t = Transaction(m, PERMITTED, "alice@permerror.spf.test")
            self.assertEqual(t.rcpt, "250 2.1.5 Ok")
            self.assertIn("Received-SPF: permerror (", t.header())
        with self.server(moat_spf_permerror_reject="yes") as m:
            t = Transaction(m, PERMITTED, "alice@permerror.spf.test")
            # A syntax error anywhere is a permerror, even after a matching ip4:.
            self.assertEqual(t.rcpt, rejected(
                "SPF Permanent Error: permerror.spf.test: unknown mechanism: 'frobnicate'",
                "alice@permerror.spf.test", PERMITTED, code="550 5.7.24"))
            self.assertEqual(Transaction(m, PERMITTED, "alice@twospf.spf.test").rcpt, rejected(
                "SPF Permanent Error: twospf.spf.test: more than one SPF record",
                "alice@twospf.spf.test", PERMITTED, code="550 5.7.24"))

    def test_temperror(self):
        # temperror.spf.test includes a name that answers SERVFAIL; example.com
        # is in no zone of NSD's, which answers REFUSED: both are temporary.
        with self.server() as m:
            t = Transaction(m, PERMITTED, "alice@temperror.spf.test")
            self.assertEqual(t.rcpt, "250 2.1.5 Ok")
            self.assertIn(f"Received-SPF: temperror ({MYHOSTNAME}: error in processing during "
                          f"lookup of alice@temperror.spf.test: DNS error looking up "
                          f"host.servfail.test: SERVFAIL)\n", t.header())
            self.assertEqual(Transaction(m, PERMITTED, "alice@example.com").rcpt, "250 2.1.5 Ok")
        with self.server(moat_spf_temperror_defer="yes") as m:
            reply = rejected("SPF Temporary Error: DNS error looking up host.servfail.test: "
                             "SERVFAIL", "alice@temperror.spf.test", PERMITTED,
                             code="451 4.4.3", verb="deferred")
            self.assertEqual(Transaction(m, PERMITTED, "alice@temperror.spf.test").rcpt, reply)
            m.wait_for_log(re.escape(
                f"NOQUEUE: reject: RCPT from unknown[{PERMITTED}]: {reply}; "
                f"from=<alice@temperror.spf.test> to=<{RCPT}> proto=ESMTP helo=<{HELO}>"))
            self.assertEqual(Transaction(m, PERMITTED, "alice@example.com").rcpt, rejected(
                "SPF Temporary Error: DNS error looking up example.com: REFUSED",
                "alice@example.com", PERMITTED, code="451 4.4.3", verb="deferred"))

    def test_authentication_results_header(self):
        with self.server(moat_spf_header_type="AR") as m:
            head = Transaction(m, PERMITTED, "alice@pass.spf.test").header()
            self.assertIn(f"Authentication-Results: {MYHOSTNAME};\n\tspf=pass (domain of "
                          f"alice@pass.spf.test designates {PERMITTED} as permitted sender) "
                          f"smtp.mailfrom=pass.spf.test\n", head)
            self.assertNotIn("Received-SPF:", head)
            head = Transaction(m, PERMITTED, "", helo="helo-pass.spf.test").header()
            self.assertIn(f"Authentication-Results: {MYHOSTNAME};\n\tspf=pass (domain of "
                          f"helo-pass.spf.test designates {PERMITTED} as permitted sender) "
                          f"smtp.helo=helo-pass.spf.test\n", head)

    def test_local_clients_are_skipped_by_default(self):
        with self.server(moat_spf_skip_addresses=None) as m:
            t = Transaction(m, STRANGER, "alice@fail.spf.test")
            self.assertEqual(t.rcpt, "250 2.1.5 Ok")
            head = t.header()
            self.assertIn(f"X-Comment: SPF check N/A for local connections - client-ip={STRANGER}; "
                          f"helo={HELO}; envelope-from=alice@fail.spf.test; "
                          f"receiver={MYHOSTNAME}\n", head)
            self.assertNotIn("Received-SPF:", head)
            self.assertNotRegex(m.log(), r"\]: SPF \w+: identity=")

    def test_in_sender_restrictions_without_delay_reject(self):
        with self.server(smtpd_recipient_restrictions=None, smtpd_sender_restrictions="check_spf",
                         smtpd_delay_reject="no") as m:
            t = Transaction(m, STRANGER, "alice@fail.spf.test")
            reply = ("550 5.7.23 <alice@fail.spf.test>: Sender address rejected: Message rejected "
                     f"due to: SPF fail - not authorized. Please see "
                     f"{why('alice@fail.spf.test', STRANGER)}")
            self.assertEqual(t.mail, reply)
            self.assertEqual(t.rcpts, [])
            m.wait_for_log(re.escape(
                f"NOQUEUE: reject: MAIL from unknown[{STRANGER}]: {reply}; "
                f"from=<alice@fail.spf.test> proto=ESMTP helo=<{HELO}>"))
            self.assertEqual(Transaction(m, PERMITTED, "alice@pass.spf.test").mail, "250 2.1.0 Ok")


# ---------------------------------------------------------------------------
# moat against the real policyd-spf

def policyd_spf_problem():
    if not os.access(POLICYD_SPF, os.X_OK):
        return f"{POLICYD_SPF} is not installed (apt-get install postfix-policyd-spf-python)"
    return unshare_problem()


# Settings variations: moat's parameters and the same policy in policyd-spf.conf.
VARIATIONS = {
    "defaults": ({}, {}),
    "strict": ({"moat_spf_helo_reject": "Softfail", "moat_spf_mail_from_reject": "SPF_Not_Pass",
                "moat_spf_permerror_reject": "yes"},
               {"HELO_reject": "Softfail", "Mail_From_reject": "SPF_Not_Pass",
                "PermError_reject": "True"}),
    "null_helo": ({"moat_spf_helo_reject": "Null", "moat_spf_mail_from_reject": "Softfail"},
                  {"HELO_reject": "Null", "Mail_From_reject": "Softfail"}),
    # False refuses nothing, not even the permerror PermError_reject asks for.
    "never": ({"moat_spf_helo_reject": "False", "moat_spf_mail_from_reject": "False",
               "moat_spf_permerror_reject": "yes"},
              {"HELO_reject": "False", "Mail_From_reject": "False", "PermError_reject": "True"}),
    "ar": ({"moat_spf_header_type": "AR"}, {"Header_Type": "AR", "Authserv_Id": MYHOSTNAME}),
    # Listed domains are held to SPF_Not_Pass ("Receiver policy for SPF ..."),
    # but a permerror is still only refused with PermError_reject.
    "reject_not_pass": (
        {"moat_spf_reject_not_pass_domains":
            "softfail.spf.test, helo-softfail.spf.test, permerror.spf.test"},
        {"Reject_Not_Pass_Domains": "softfail.spf.test,helo-softfail.spf.test,permerror.spf.test"}),
}
FAIL_REFUSED = {"defaults", "strict", "null_helo", "ar", "reject_not_pass"}


class Scenario:
    """One transaction; `header` = (result, identity) of the SPF header when
    the mail is accepted, `refused` = the variations that refuse it (for
    the identity `refused_by`, or {variation: identity})."""

    def __init__(self, name, client, helo, sender, header, refused=(), refused_by="mailfrom"):
        self.name, self.client, self.helo, self.sender = name, client, helo, sender
        self.header = header
        self.refused = refused if isinstance(refused, dict) else dict.fromkeys(refused, refused_by)

    def identity(self, variation):
        """The id= of the refusal in `variation`; without a HELO name both
        use the sender's domain for it."""
        if self.refused[variation] == "mailfrom":
            return self.sender
        return self.helo or self.sender.rpartition("@")[2]


SCENARIOS = [
    Scenario("pass", PERMITTED, HELO, "alice@pass.spf.test", ("pass", "mailfrom")),
    Scenario("fail", STRANGER, HELO, "alice@fail.spf.test", ("fail", "mailfrom"), FAIL_REFUSED),
    Scenario("fail_outside_ip4", STRANGER, HELO, "alice@pass.spf.test", ("fail", "mailfrom"),
             FAIL_REFUSED),
    Scenario("softfail", STRANGER, HELO, "alice@softfail.spf.test", ("softfail", "mailfrom"),
             {"strict", "null_helo", "reject_not_pass"}),
    Scenario("neutral", STRANGER, HELO, "alice@neutral.spf.test", ("neutral", "mailfrom"),
             {"strict"}),
    Scenario("none", STRANGER, HELO, "alice@none.spf.test", ("none", "mailfrom")),
    Scenario("none_nxdomain", STRANGER, HELO, "alice@nx.spf.test", ("none", "mailfrom")),
    Scenario("permerror", PERMITTED, HELO, "alice@permerror.spf.test", ("permerror", "mailfrom"),
             {"strict"}),
    Scenario("permerror_two_records", PERMITTED, HELO, "alice@twospf.spf.test",
             ("permerror", "mailfrom"), {"strict"}),
    Scenario("exp", STRANGER, HELO, "alice@exp.spf.test", ("fail", "mailfrom"), FAIL_REFUSED),
    Scenario("include_pass", PERMITTED_2, HELO, "alice@include.spf.test", ("pass", "mailfrom")),
    Scenario("redirect_pass", PERMITTED_2, HELO, "alice@redirect.spf.test", ("pass", "mailfrom")),
    Scenario("mx_fail", STRANGER, HELO, "alice@mx.spf.test", ("fail", "mailfrom"), FAIL_REFUSED),
    Scenario("helo_fail", PERMITTED, "helo-fail.spf.test", "alice@pass.spf.test",
             ("pass", "mailfrom"), {"defaults", "strict", "ar", "reject_not_pass"}, "helo"),
    Scenario("helo_softfail_mail_none", STRANGER, "helo-softfail.spf.test", "alice@none.spf.test",
             ("softfail", "helo"), {"strict", "reject_not_pass"}, "helo"),
    # No HELO at all: the sender's domain stands in for the HELO name.
    Scenario("no_helo_pass", PERMITTED, "", "alice@pass.spf.test", ("pass", "mailfrom")),
    Scenario("no_helo_fail", STRANGER, "", "alice@fail.spf.test", ("fail", "mailfrom"),
             {"defaults": "helo", "strict": "helo", "ar": "helo", "reject_not_pass": "helo",
              "null_helo": "mailfrom"}),
    Scenario("null_sender_helo_pass", PERMITTED, "helo-pass.spf.test", "", ("pass", "helo")),
    Scenario("null_sender_helo_fail", STRANGER, "helo-fail.spf.test", "", ("fail", "helo"),
             FAIL_REFUSED, "helo"),
    Scenario("null_sender_helo_none", STRANGER, HELO, "", ("none", "helo")),
]


def policy_request(client, helo, sender, recipient=RCPT, instance="1"):
    """A Postfix policy request at RCPT, as smtpd sends it."""
    return "".join(f"{k}={v}\n" for k, v in (
        ("request", "smtpd_access_policy"), ("protocol_state", "RCPT"), ("protocol_name", "ESMTP"),
        ("client_address", client), ("client_name", "unknown"),
        ("reverse_client_name", "unknown"), ("helo_name", helo), ("sender", sender),
        ("recipient", recipient), ("recipient_count", "0"), ("queue_id", ""),
        ("instance", instance), ("size", "0"))) + "\n"


def postfix_reply(action, recipient=RCPT):
    """What Postfix's smtpd answers to RCPT for a policyd-spf action, or None
    when it accepts; ("prepend", HEADER) for a prepended header."""
    m = re.match(r"(\d{3}) (\d\.\d+\.\d+) (.*)$", action, re.S)
    if m:
        return f"{m[1]} {m[2]} <{recipient}>: Recipient address rejected: {m[3]}"
    m = re.match(r"defer_if_permit (\d\.\d+\.\d+) (.*)$", action, re.S)
    if m:  # smtpd's defer_code for DEFER_IF_PERMIT is 450
        return f"450 {m[1]} <{recipient}>: Recipient address rejected: {m[2]}"
    return None


def refusal(reply):
    """(reply code and enhanced code, the text before "Please see", the
    URL's id= and ip=) of a refusal, Postfix's or moat's."""
    m = re.match(r"(\d{3} \d\.\d+\.\d+) (.*)\. Please see (\S+)$", reply, re.S)
    if not m:
        raise AssertionError(f"not an SPF refusal: {reply!r}")
    url = re.search(r"[?;]id=([^;]*);ip=([^;]*)", m[3])
    if not url:
        raise AssertionError(f"no id= and ip= in the URL of {reply!r}")
    return m[1], m[2], url[1], url[2]


SPF_FIELDS = ("Received-SPF:", "Authentication-Results:", "X-Comment:")


def spf_header_fields(header_block):
    """The SPF header fields (folded lines joined) of a header block."""
    fields, current = [], None
    for line in header_block.split("\n"):
        if line[:1] in (" ", "\t") and current is not None:
            current += " " + line.strip()
            continue
        if current is not None:
            fields.append(current)
        current = line
    if current is not None:
        fields.append(current)
    return [f for f in fields if f.startswith(SPF_FIELDS)]


def header_summary(field):
    """What must agree in an SPF header: Received-SPF's result (any case) and
    identity; Authentication-Results' authserv-id, result and property; the
    text of X-Comment before "receiver=" (see the differences below)."""
    m = re.match(r"Received-SPF: (\w+) .*\bidentity=(\w+)", field, re.S)
    if m:
        return ("Received-SPF", m[1].lower(), m[2])
    m = re.match(r"Authentication-Results: ([^;\s]+);\s*spf=(\w+) \(.*?\) (smtp\.\w+=\S+)", field,
                 re.S)
    if m:
        return ("Authentication-Results", m[1], m[2], m[3])
    m = re.match(r"(X-Comment: .*?)receiver=", field, re.S)
    if m:
        return ("X-Comment", m[1])
    raise AssertionError(f"unexpected SPF header {field!r}")


def expected_summary(scenario, variation):
    result, identity = scenario.header
    if variation == "ar":
        domain = scenario.sender.rpartition("@")[2]
        prop = f"smtp.mailfrom={domain}" if identity == "mailfrom" else f"smtp.helo={scenario.helo}"
        return ("Authentication-Results", MYHOSTNAME, result, prop)
    return ("Received-SPF", result, identity)


@unittest.skipIf(policyd_spf_problem() is not None, f"policyd-spf: {policyd_spf_problem()}")
class PolicydSpfDifferential(NsdTestCase):
    """moat's check_spf against the real policyd-spf 3.0.4 (pyspf 2.0.14)
    for the same transactions and settings.

    What must agree: a refusal's reply code and enhanced code (policyd-spf's
    `action=550 5.7.23 TEXT` is Postfix's `550 5.7.23 <rcpt>: Recipient
    address rejected: TEXT`), its reason up to "Please see" and the id= and
    ip= of its URL; for accepted mail, the SPF header's result and identity.

    Differences where moat is right by design (asserted as moat behaves):
    1. The URL: policyd-spf 3.0.4 has the old
       http://www.openspf.net/Why?s=mfrom;id=...;ip=...;r=RECIPIENT-DOMAIN;
       moat the project's https://www.open-spf.org/Why;id=...;ip=...;r=
       MYHOSTNAME (r is the receiving host, RFC 7208 7.3's %{r}).
    2. Received-SPF: policyd-spf writes "Pass (mailfrom) identity=mailfrom;
       ..." (capitalised result; for MAIL FROM its comment is the identity's
       name, not a comment) with receiver= the recipient's domain; moat
       writes RFC 7208 9.1's form: lower-case result, "(RECEIVER: domain of
       ... designates ...)", key=value pairs, receiver=myhostname. The
       Authentication-Results comments differ the same way (pyspf's reason
       vs RFC 7208's sentence, and policyd-spf appends a second comment).
    3. permerror reasons: both say "SPF Permanent Error: " and then their
       evaluator's own words ("Unknown mechanism found: frobnicate" vs
       "permerror.spf.test: unknown mechanism: 'frobnicate'"; "Two or more
       type TXT spf records found." vs "twospf.spf.test: more than one SPF
       record"): only that prefix is compared.
    4. DNS errors: Debian's pyspf resolves with pydns, which ignores the
       RCODE of an answer: SERVFAIL and REFUSED read as "no records", so a
       domain whose lookup fails is "none" and an include: of one is a
       permerror. moat says temperror (RFC 7208 4.4, 5.2). test_dns_errors.
    5. Deferral: policyd-spf's `defer_if_permit 4.7.24` is Postfix's
       "450 4.7.24"; moat answers "451 4.4.3" (RFC 7208 8.6).
       Temporary-error reasons are compared up to "SPF Temporary Error: ".
       test_temperror_deferral.
    6. Case: policyd-spf lowercases the whole request before checking, so
       the URL's id= and pyspf's macro expansions are lower-case; moat keeps
       the sender and HELO as the client gave them (RFC 7208 7.3 expands the
       <sender> as given). test_case_of_the_identity.
    7. skip_addresses' X-Comment: policyd-spf ends it with "receiver=
       RECIPIENT-DOMAIN " (trailing space); moat with receiver=myhostname.
       Compared up to "receiver=". test_local_clients_skipped.
    8. A domain with a trailing dot (MAIL FROM:<alice@fail.spf.test.>,
       EHLO helo-fail.spf.test.): pyspf says none for it; moat checks the
       name it denotes (RFC 7208 4.3 allows a zero-length label at the end),
       so a trailing dot cannot get around a -all. test_trailing_dot.
    9. Without HELO, both check the sender's domain as the HELO identity;
       policyd-spf's Received-SPF then says helo=DOMAIN, moat's helo=""
       (what the client said). Not compared (the identity and result are).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="policyd-spf-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    # -- the two sides -------------------------------------------------------
    def policyd_spf(self, settings, requests, nameserver=None):
        """policyd-spf's action (the text after "action=") for each request,
        with policyd-spf.conf = the defaults below + `settings`."""
        conf = {"debugLevel": "1", "TestOnly": "1", "skip_addresses": "::1",
                "HELO_reject": "Fail", "Mail_From_reject": "Fail", "PermError_reject": "False",
                "TempError_Defer": "False", "Lookup_Time": "2"}
        conf.update(settings)
        conf = {k: v for k, v in conf.items() if v is not None}
        path = os.path.join(self.dir, "policyd-spf.conf")
        with open(path, "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in conf.items()))
        files = write_resolver_files(self.dir, nameserver or self.nsd.address,
                                     "policyd-spf: the test DNS")
        done = subprocess.run(with_resolver_files(files, [POLICYD_SPF, path]),
                              input="".join(requests), capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        actions = [b for b in done.stdout.split("\n\n") if b.strip()]
        self.assertEqual(len(actions), len(requests), done.stdout + done.stderr)
        for a in actions:
            self.assertTrue(a.startswith("action="), a)
        return [a[len("action="):].strip("\n") for a in actions]

    def moat(self, params, dns=None):
        base = {"mynetworks": "192.0.2.0/24", "moat_spf_skip_addresses": "::1",
                "smtpd_recipient_restrictions": "check_spf"}
        base.update(params)
        return MoatServer(moat_binary(), dns=dns or self.nsd, params=base)

    def moat_outcome(self, server, client, helo, sender):
        """("refused", RCPT reply) or ("accepted", [SPF header fields])."""
        t = Transaction(server, client, sender, helo=helo)
        if not t.rcpt.startswith("250 "):
            return ("refused", t.rcpt)
        return ("accepted", spf_header_fields(t.header()))

    def policyd_outcome(self, action):
        reply = postfix_reply(action)
        if reply is not None:
            return ("refused", reply)
        if action.startswith("prepend "):
            return ("accepted", [action[len("prepend "):].rstrip(" ")])
        self.assertEqual(action, "dunno")
        return ("accepted", [])

    # -- comparisons ---------------------------------------------------------
    def assertSameRefusal(self, moat_reply, postfix, identity, ip, own_words=None):
        """own_words: the reasons are compared up to this prefix only."""
        m_code, m_reason, m_id, m_ip = refusal(moat_reply)
        p_code, p_reason, p_id, p_ip = refusal(postfix)
        self.assertEqual(m_code, p_code, (moat_reply, postfix))
        if own_words:
            for reason in (m_reason, p_reason):
                self.assertIn(own_words, reason)
            m_reason = m_reason[: m_reason.index(own_words) + len(own_words)]
            p_reason = p_reason[: p_reason.index(own_words) + len(own_words)]
        self.assertEqual(m_reason, p_reason, (moat_reply, postfix))
        self.assertEqual((m_id, m_ip), (p_id, p_ip))
        self.assertEqual((m_id, m_ip), (identity, ip))

    def test_scenarios(self):
        requests = [policy_request(s.client, s.helo, s.sender, instance=str(i))
                    for i, s in enumerate(SCENARIOS)]
        for variation, (moat_params, conf) in VARIATIONS.items():
            actions = self.policyd_spf(conf, requests)
            with self.moat(moat_params) as m:
                for s, action in zip(SCENARIOS, actions):
                    with self.subTest(variation=variation, scenario=s.name):
                        theirs = self.policyd_outcome(action)
                        ours = self.moat_outcome(m, s.client, s.helo, s.sender)
                        if variation in s.refused:
                            self.assertEqual((theirs[0], ours[0]), ("refused", "refused"),
                                             (action, ours))
                            code = "550 5.7.24" if s.header[0] == "permerror" else "550 5.7.23"
                            self.assertTrue(ours[1].startswith(code + " "), ours[1])
                            own = "SPF Permanent Error: " if s.header[0] == "permerror" else None
                            self.assertSameRefusal(ours[1], theirs[1], s.identity(variation),
                                                   s.client, own)
                            if variation == "reject_not_pass" and "softfail" in s.name:
                                self.assertIn("due to: Receiver policy for SPF Softfail. ", ours[1])
                        else:
                            self.assertEqual((theirs[0], ours[0]), ("accepted", "accepted"),
                                             (action, ours))
                            self.assertEqual(len(theirs[1]), 1, action)
                            self.assertEqual(len(ours[1]), 1, ours)
                            self.assertEqual(header_summary(ours[1][0]),
                                             header_summary(theirs[1][0]), (ours, action))
                            self.assertEqual(header_summary(ours[1][0]),
                                             expected_summary(s, variation))

    def test_several_recipients_one_header(self):
        # policyd-spf remembers the instance: the second RCPT of a transaction
        # gets "dunno" (the header is already prepended); moat dedups.
        requests = [policy_request(PERMITTED, HELO, "alice@pass.spf.test", r, instance="7")
                    for r in (RCPT, "root@localhost")]
        actions = self.policyd_spf({}, requests)
        self.assertTrue(actions[0].startswith("prepend Received-SPF: Pass "), actions)
        self.assertEqual(actions[1], "dunno")
        with self.moat({}) as m:
            t = Transaction(m, PERMITTED, "alice@pass.spf.test",
                            recipients=(RCPT, "root@localhost"))
            for head in t.messages():
                fields = spf_header_fields(head)
                self.assertEqual([header_summary(f) for f in fields],
                                 [header_summary(actions[0][len("prepend "):])])

    def test_dns_errors(self):
        # Difference 4: pyspf over pydns reads SERVFAIL and REFUSED as empty
        # answers; moat's temperror is RFC 7208's.
        cases = [("alice@temperror.spf.test", "permerror", "include:host.servfail.test"),
                 ("alice@example.com", "none", "example.com")]
        actions = self.policyd_spf({}, [policy_request(PERMITTED, HELO, sender, instance=str(i))
                                        for i, (sender, _r, _n) in enumerate(cases)])
        with self.moat({}) as m:
            for (sender, theirs, what), action in zip(cases, actions):
                with self.subTest(sender=sender):
                    self.assertEqual(header_summary(self.policyd_outcome(action)[1][0]),
                                     ("Received-SPF", theirs, "mailfrom"), action)
                    ours = self.moat_outcome(m, PERMITTED, HELO, sender)
                    self.assertEqual(ours[0], "accepted", ours)
                    self.assertEqual(header_summary(ours[1][0]),
                                     ("Received-SPF", "temperror", "mailfrom"), ours)

    def test_temperror_deferral(self):
        # Difference 5. A name server that never answers: both check HELO
        # first, time out, and defer for the HELO identity.
        with SilentDnsServer(port53=True) as silent:
            action, = self.policyd_spf({"TempError_Defer": "True", "Lookup_Time": "1"},
                                       [policy_request(PERMITTED, HELO, "alice@pass.spf.test")],
                                       nameserver=silent.address)
            theirs = postfix_reply(action)
            with self.moat({"moat_spf_temperror_defer": "yes"}, dns=silent) as m:
                ours = Transaction(m, PERMITTED, "alice@pass.spf.test").rcpt
        self.assertIsNotNone(theirs, action)
        t_code, t_reason, t_id, t_ip = refusal(theirs)
        o_code, o_reason, o_id, o_ip = refusal(ours)
        self.assertEqual((t_code, o_code), ("450 4.7.24", "451 4.4.3"))
        prefix = (f"<{RCPT}>: Recipient address rejected: Message deferred due to: "
                  "SPF Temporary Error: ")
        self.assertTrue(t_reason.startswith(prefix), theirs)
        self.assertTrue(o_reason.startswith(prefix), ours)
        self.assertEqual((t_id, t_ip), (HELO, PERMITTED))
        self.assertEqual((o_id, o_ip), (HELO, PERMITTED))

    def test_case_of_the_identity(self):
        # Difference 6: the same refusal; policyd-spf lowercased what it was given.
        sender, helo = "Alice@EXP.spf.test", "Helo-None.SPF.test"
        action, = self.policyd_spf({}, [policy_request(STRANGER, helo, sender)])
        with self.moat({}) as m:
            ours = Transaction(m, STRANGER, sender, helo=helo).rcpt
        theirs = postfix_reply(action)
        self.assertEqual(refusal(theirs)[1:], (
            f"<{RCPT.lower()}>: Recipient address rejected: Message rejected due to: alice may not "
            f"send mail for exp.spf.test from {STRANGER} (HELO helo-none.spf.test)",
            sender.lower(), STRANGER))
        self.assertEqual(refusal(ours)[1:], (
            f"<{RCPT}>: Recipient address rejected: Message rejected due to: Alice may not send "
            f"mail for EXP.spf.test from {STRANGER} (HELO {helo})", sender, STRANGER))

    def test_trailing_dot(self):
        # Difference 8.
        cases = [(HELO, "alice@fail.spf.test.", "alice@fail.spf.test."),
                 ("helo-fail.spf.test.", "alice@none.spf.test", "helo-fail.spf.test.")]
        actions = self.policyd_spf({}, [policy_request(STRANGER, helo, sender, instance=str(i))
                                        for i, (helo, sender, _id) in enumerate(cases)])
        with self.moat({}) as m:
            for (helo, sender, identity), action in zip(cases, actions):
                with self.subTest(sender=sender, helo=helo):
                    self.assertEqual(header_summary(self.policyd_outcome(action)[1][0]),
                                     ("Received-SPF", "none", "mailfrom"), action)
                    ours = Transaction(m, STRANGER, sender, helo=helo).rcpt
                    self.assertEqual(ours, rejected("SPF fail - not authorized", identity,
                                                    STRANGER))

    def test_local_clients_skipped(self):
        # Difference 7: both skip 127.0.0.0/8 by default and say so.
        action, = self.policyd_spf({"skip_addresses": None},
                                   [policy_request(STRANGER, HELO, "alice@fail.spf.test")])
        with self.moat({"moat_spf_skip_addresses": None}) as m:
            ours = self.moat_outcome(m, STRANGER, HELO, "alice@fail.spf.test")
        theirs = self.policyd_outcome(action)
        self.assertEqual(ours[0], "accepted", ours)
        self.assertEqual(theirs[0], "accepted", action)
        self.assertEqual(header_summary(ours[1][0]), header_summary(theirs[1][0]))
        self.assertEqual(header_summary(ours[1][0]), (
            "X-Comment", f"X-Comment: SPF check N/A for local connections - client-ip={STRANGER}; "
            f"helo={HELO}; envelope-from=alice@fail.spf.test; "))


if __name__ == "__main__":
    unittest.main()
