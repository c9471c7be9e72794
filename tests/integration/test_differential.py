"""Differential protocol tests: the real Postfix 3.7 is the oracle.

Every scenario below is a main.cf override set and a client script. It runs
against a private Postfix (harness.PostfixServer) and against moat
(harness.MoatServer) configured alike (same aliases, same virtual mailbox
domain and users, same overrides), and every reply must carry the same code
and the same enhanced status code. Reply texts must match too, after
normalising what always differs (queue ids); a step whose text may differ is
wrapped in Loose(step, why) with the reason. The smtpd log lines of the
session (without timestamp, host and pid; queue ids normalised) must match
as well: test_log_NAME, so that fail2ban filters and pflogsumm keep working.

A scenario whose comparison moat deliberately fails is marked with
`differs=` (or `log_differs=` for its log lines only) and the reason; it is
skipped, not deleted, so the reason stays next to the behaviour.

Run:
    MOAT_BINARY=build/release/moat /usr/bin/python3 -m unittest tests/integration/test_differential.py
    /usr/bin/python3 tests/integration/test_differential.py --show [--log] [NAME...]
        # Postfix's replies (and smtpd log lines) only; --markdown for a table
    /usr/bin/python3 tests/integration/test_differential.py --show --moat [--log] [NAME...]
        # both, side by side

Without a moat binary (MOAT_BINARY unset and build/release/moat missing) the
comparisons are skipped; with MOAT_BINARY set, a missing binary is an error.
"""

from __future__ import annotations

import os
import re
import sys
import time
import unittest
from dataclasses import dataclass, field
from typing import Mapping, Sequence, Union

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Data,
    MoatServer,
    PostfixServer,
    Reply,
    Send,
    default_moat_binary,
    dialogue,
    postfix_available,
)

VIRTUAL_USERS = ("user@example.test", "other@example.test")
ALIASES = {"postmaster": "root", "root": "root", "alias": "root"}

# Overrides every scenario gets, on both servers.
COMMON: dict = {
    # Recipients in mydestination are checked against the aliases only, so
    # both servers accept exactly the same local recipients (Postfix's default
    # also consults passwd through proxymap).
    "local_recipient_maps": "$alias_maps",
    # Postfix's default banner names the software ($mail_name).
    "smtpd_banner": "$myhostname ESMTP",
    # Postfix would name 127.0.0.1 "localhost" (from /etc/hosts); moat does
    # no reverse lookups (yet), so both log the client as unknown[127.0.0.1].
    "smtpd_peername_lookup": "no",
}

UNTRUSTED = {"mynetworks": "192.0.2.0/24"}  # 127.0.0.1 is then an outsider


@dataclass(frozen=True)
class Loose:
    """A step whose reply text may differ (code and enhanced code may not)."""

    step: object
    why: str


EHLO = "EHLO client.example.org"
# EHLO as the opening of a scenario about something else: its code is
# compared, its keyword list only where that is the subject.
KEYWORDS = "EHLO keywords are compared in banner_ehlo_helo, vrfy_disabled, mail_size_over_limit"
CLIENT = Loose(EHLO, KEYWORDS)
# Deliberate: moat keeps no deferred mail (nothing for ETRN to flush) and sends
# no delivery status notifications, so it does not offer ETRN or DSN.
NO_ETRN_DSN = "moat does not advertise ETRN or DSN (no queue to flush, no DSNs sent)"
EHLO_KEYWORDS = Loose(EHLO, NO_ETRN_DSN)
# Deliberate: Postfix 3.7.11 made "yes" mean "normalize"; moat keeps the meaning
# "yes" had when the parameter appeared (Postfix 3.7.9): 521 and disconnect.
BARE_LF_YES = ("smtpd_forbid_bare_newline = yes answers 521 and disconnects in moat "
               "(Postfix 3.7.9's meaning); 3.7.11 normalizes, which moat does for 'normalize'")
SENDER = "MAIL FROM:<sender@client.example.org>"


StepLike = Union[str, bytes, Send, Data, Loose]


@dataclass
class Scenario:
    name: str
    steps: Sequence[StepLike]
    params: Mapping[str, str] = field(default_factory=dict)
    differs: str | None = None  # documented deliberate difference: skip the comparison
    log_differs: str | None = None  # same, for the smtpd log lines only
    doc: str = ""


S = Scenario
SMUGGLE = (b"Subject: smuggling\r\n\r\nhello\n.\nMAIL FROM:<evil@client.example.org>\r\n"
           b"RCPT TO:<other@example.test>\r\nDATA\r\nsmuggled\r\n.\r\n")
BODY = "Subject: differential test\nFrom: <sender@client.example.org>\n\nHello.\n.leading dot\n"

SCENARIOS: list[Scenario] = [
    # -- greeting --------------------------------------------------------------
    S("banner_ehlo_helo", [
        # The EHLO keyword list is compared as text: moat should advertise
        # what Postfix advertises with the same settings.
        EHLO_KEYWORDS, "HELO client.example.org", "EHLO", "QUIT",
    ]),
    S("helo_without_argument", ["HELO", "HELO client.example.org", "QUIT"]),
    S("helo_odd_arguments", [
        "HELO [127.0.0.1]", Loose("EHLO bad_name!", KEYWORDS), "HELO a b c",
        Loose("EHLO -start", KEYWORDS), "QUIT",
    ]),
    S("mail_before_helo_allowed", [SENDER, "RCPT TO:<user@example.test>", "QUIT"]),
    S("mail_before_helo_required", [
        SENDER, "RCPT TO:<user@example.test>", "VRFY user@example.test", CLIENT, SENDER, "QUIT",
    ], params={"smtpd_helo_required": "yes"}),
    # -- command order -----------------------------------------------------------
    S("nested_mail", [CLIENT, SENDER, "MAIL FROM:<again@client.example.org>", "QUIT"]),
    S("rcpt_before_mail", [CLIENT, "RCPT TO:<user@example.test>", "QUIT"]),
    S("data_before_mail_and_rcpt", [
        CLIENT, "DATA", SENDER, "DATA", "RCPT TO:<nosuch@example.test>", "DATA", "QUIT",
    ]),
    S("unknown_and_empty_commands", [CLIENT, "FOO bar", "", "   ", "XYZZY", "QUIT"]),
    S("mail_header_as_command", [CLIENT, "Subject: hello", "NOOP"]),
    S("glued_mail_from", [CLIENT, "MAILFROM:<sender@client.example.org>", "NOOP"]),
    S("http_proxy_request", ["GET / HTTP/1.0", "NOOP"]),
    S("other_commands", [
        CLIENT, "HELP", "EXPN postmaster", "TURN", "ETRN example.test", "AUTH PLAIN AGFAYg==",
        "STARTTLS", "XCLIENT ADDR=192.0.2.1", "XFORWARD ADDR=192.0.2.1", "QUIT",
    ]),
    S("bdat", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>",
        Send(b"BDAT 28 LAST\r\nSubject: chunking\r\n\r\nhello\r\n"), "QUIT",
    ]),
    S("bdat_without_mail", [CLIENT, Send(b"BDAT 5\r\nhello"), "BDAT", "BDAT x LAST", "QUIT"]),
    S("command_case_and_spacing", [
        Loose("ehlo client.example.org", NO_ETRN_DSN), "mail from:<sender@client.example.org>",
        "rcpt to:<user@example.test>", "RsEt", "noop", "quit",
    ]),
    S("noop_rset", [
        CLIENT, "NOOP", "NOOP with arguments", SENDER, "RSET", "RCPT TO:<user@example.test>",
        "RSET extra", "QUIT",
    ]),
    S("vrfy_enabled", [
        CLIENT, "VRFY user@example.test", "VRFY <user@example.test>", "VRFY nosuch@example.test",
        "VRFY postmaster", "VRFY nosuch", "VRFY", "QUIT",
    ]),
    S("vrfy_disabled", [
        Loose(EHLO, NO_ETRN_DSN), "VRFY user@example.test", "VRFY nosuch@example.test", "VRFY", "QUIT",
    ], params={"disable_vrfy_command": "yes"}),
    # -- MAIL parameters ---------------------------------------------------------
    S("mail_size_over_limit", [
        EHLO_KEYWORDS, "MAIL FROM:<sender@client.example.org> SIZE=2000",
        "MAIL FROM:<sender@client.example.org> SIZE=1000", "RSET",
        "MAIL FROM:<sender@client.example.org> SIZE=abc", "QUIT",
    ], params={"message_size_limit": "1000"}),
    S("data_over_size_limit", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Data("Subject: big\n\n" + ("x" * 70 + "\n") * 40), "QUIT",
    ], params={"message_size_limit": "1000"}),
    S("mail_body_8bitmime", [
        CLIENT, "MAIL FROM:<sender@client.example.org> BODY=8BITMIME", "RSET",
        "MAIL FROM:<sender@client.example.org> BODY=7BIT", "RSET",
        "MAIL FROM:<sender@client.example.org> body=8bitmime", "QUIT",
    ]),
    S("mail_body_bogus", [CLIENT, "MAIL FROM:<sender@client.example.org> BODY=bogus", "QUIT"]),
    S("mail_unknown_parameter", [
        CLIENT, "MAIL FROM:<sender@client.example.org> FOO=bar", "MAIL FROM:<sender@client.example.org> FOO",
        "QUIT",
    ]),
    S("rcpt_parameters", [
        CLIENT, SENDER, "RCPT TO:<user@example.test> NOTIFY=NEVER",
        "RCPT TO:<other@example.test> FOO=bar", "QUIT",
    ]),
    # -- envelope syntax -----------------------------------------------------------
    S("sender_syntax_lenient", [
        CLIENT,
        "MAIL FROM:sender@client.example.org", "RSET",
        "MAIL FROM:<a b@client.example.org>", "RSET",
        "MAIL FROM:<<a>>", "RSET",
        "MAIL <sender@client.example.org>", "RSET",
        "MAIL FROM: <sender@client.example.org>", "RSET",
        "MAIL FROM:<>", "RSET",
        "MAIL FROM:<sender@client.example.org", "RSET",
        "MAIL FROM:", "RSET",
        'MAIL FROM:<"a b"@client.example.org>', "RSET",
        "MAIL FROM:<@relay.example.org:sender@client.example.org>", "QUIT",
    ], params={"strict_rfc821_envelopes": "no"}),
    S("sender_syntax_strict", [
        CLIENT,
        "MAIL FROM:sender@client.example.org", "RSET",
        "MAIL FROM:<a b@client.example.org>", "RSET",
        "MAIL FROM:<<a>>", "RSET",
        "MAIL <sender@client.example.org>", "RSET",
        "MAIL FROM: <sender@client.example.org>", "RSET",
        "MAIL FROM:<>", "RSET",
        "MAIL FROM:<sender@client.example.org", "RSET",
        "MAIL FROM:", "RSET",
        'MAIL FROM:<"a b"@client.example.org>', "RSET",
        "MAIL FROM:<@relay.example.org:sender@client.example.org>", "QUIT",
    ], params={"strict_rfc821_envelopes": "yes"}),
    S("recipient_syntax", [
        CLIENT, SENDER,
        "RCPT TO:user@example.test", "RCPT TO:<a b@example.test>", "RCPT TO:<>",
        "RCPT <user@example.test>", "RCPT TO:", "RCPT TO:<postmaster>", "RCPT TO:<Postmaster>",
        "RCPT TO:<USER@EXAMPLE.TEST>", "QUIT",
    ]),
    # -- recipients ----------------------------------------------------------------
    S("unknown_local_user", [
        CLIENT, SENDER, "RCPT TO:<nosuch@mx.example.test>", "RCPT TO:<nosuch@localhost>",
        "RCPT TO:<nosuch>", "RCPT TO:<alias@mx.example.test>", "RCPT TO:<root@localhost>",
        "QUIT",
    ]),
    S("unknown_virtual_user", [
        CLIENT, SENDER, "RCPT TO:<nosuch@example.test>", "RCPT TO:<user@example.test>", "QUIT",
    ]),
    S("relay_attempts_untrusted", [
        CLIENT, SENDER,
        "RCPT TO:<user@other.test>",
        "RCPT TO:<user%other.test@example.test>",
        'RCPT TO:<"user@other.test"@example.test>',
        "RCPT TO:<@example.test:user@other.test>",
        "RCPT TO:<other.test!user@example.test>",
        "RCPT TO:<user@other.test@example.test>",
        "RCPT TO:<user@example.test>",
        "QUIT",
    ], params=UNTRUSTED),
    S("relay_trusted", [
        CLIENT, SENDER, "RCPT TO:<user@other.test>", "RCPT TO:<user%other.test@example.test>",
        "QUIT",
    ], differs="moat has no outbound SMTP client yet: mail for remote domains from trusted "
               "clients gets 451 4.3.0 instead of being queued for relaying"),
    # -- messages ------------------------------------------------------------------
    S("full_message", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "RCPT TO:<postmaster>", "DATA",
        Data(BODY), SENDER, "RCPT TO:<other@example.test>", "DATA", Data(BODY), "QUIT",
    ]),
    S("null_sender_message", [
        CLIENT, "MAIL FROM:<>", "RCPT TO:<user@example.test>", "DATA", Data(BODY), "QUIT",
    ]),
    S("recipient_limit", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "RCPT TO:<other@example.test>",
        "RCPT TO:<postmaster>", "RCPT TO:<user@example.test>", "DATA", Data(BODY), "QUIT",
    ], params={"smtpd_recipient_limit": "2"}),
    S("too_many_errors", [
        CLIENT, "FOO", "BAR", "BAZ", "QUX", "NOOP",
    ], params={"smtpd_hard_error_limit": "3", "smtpd_error_sleep_time": "0"}),
    S("too_many_errors_rejected_rcpt", [
        CLIENT, SENDER, "RCPT TO:<nosuch@example.test>", "RCPT TO:<nosuch2@example.test>",
        "RCPT TO:<nosuch3@example.test>", "RCPT TO:<user@example.test>",
    ], params={"smtpd_hard_error_limit": "3", "smtpd_error_sleep_time": "0"}),
    S("pipelined_transaction", [
        CLIENT,
        Send(b"MAIL FROM:<sender@client.example.org>\r\nRCPT TO:<user@example.test>\r\n"
             b"RCPT TO:<nosuch@example.test>\r\nDATA\r\n", replies=4),
        Data(BODY),
        Send(b"MAIL FROM:<sender@client.example.org>\r\nRCPT TO:<other@example.test>\r\n"
             b"DATA\r\n" + b"Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n", replies=5),
    ]),
    S("pipelined_ehlo_and_quit", [
        Loose(Send(b"EHLO client.example.org\r\nNOOP\r\nQUIT\r\n", replies=3), NO_ETRN_DSN)]),
    S("overlong_command_line", [
        CLIENT,
        "MAIL FROM:<" + "a" * 3000 + "@client.example.org>",
        "NOOP " + "x" * 5000,
        SENDER,
        "RCPT TO:<" + "u" * 300 + "@example.test>",
        "QUIT",
    ]),
    # smtpd_forbid_bare_newline (Postfix 3.7.11): normalize (3.7.11's "yes") =
    # bare LF taken as CRLF, but only CRLF.CRLF ends DATA; reject = 550 and the
    # command or message is refused; clients in $mynetworks are exempt by default.
    S("bare_lf_in_data_normalize", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Data(b"Subject: bare lf\r\n\r\nline one\nline two\r\n.\r\n", raw=True), "NOOP",
    ], params={**UNTRUSTED, "smtpd_forbid_bare_newline": "normalize"}),
    S("bare_lf_in_data_yes", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Data(b"Subject: bare lf\r\n\r\nline one\nline two\r\n.\r\n", raw=True), "NOOP",
    ], params={**UNTRUSTED, "smtpd_forbid_bare_newline": "yes"}, differs=BARE_LF_YES),
    S("bare_lf_in_data_reject", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Data(b"Subject: bare lf\r\n\r\nline one\nline two\r\n.\r\n", raw=True), "NOOP",
    ], params={**UNTRUSTED, "smtpd_forbid_bare_newline": "reject"}),
    S("bare_lf_in_command_normalize", [CLIENT, Send(b"NOOP\n"), "NOOP"],
      params={**UNTRUSTED, "smtpd_forbid_bare_newline": "normalize"}),
    S("bare_lf_in_command_yes", [CLIENT, Send(b"NOOP\n"), "NOOP"],
      params={**UNTRUSTED, "smtpd_forbid_bare_newline": "yes"}, differs=BARE_LF_YES),
    S("bare_lf_in_command_reject", [CLIENT, Send(b"NOOP\n"), "NOOP", "QUIT"],
      params={**UNTRUSTED, "smtpd_forbid_bare_newline": "reject"}),
    S("bare_lf_in_data_allowed", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Data(b"Subject: bare lf\r\n\r\nline one\nline two\r\n.\r\n", raw=True), "QUIT",
    ], params={**UNTRUSTED, "smtpd_forbid_bare_newline": "no"}),
    S("bare_lf_reject_but_trusted", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Data(b"Subject: bare lf\r\n\r\nline one\nline two\r\n.\r\n", raw=True), "QUIT",
    ], params={"smtpd_forbid_bare_newline": "reject"}),
    # SMTP smuggling: <LF>.<LF> inside DATA followed by a second transaction.
    S("smuggling_normalize", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Data(SMUGGLE, raw=True), "QUIT",
    ], params={**UNTRUSTED, "smtpd_forbid_bare_newline": "normalize"}),
    S("smuggling_reject", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Data(SMUGGLE, raw=True), "QUIT",
    ], params={**UNTRUSTED, "smtpd_forbid_bare_newline": "reject"}),
    S("smuggling_default", [
        CLIENT, SENDER, "RCPT TO:<user@example.test>", "DATA",
        Send(SMUGGLE, replies=5, labels=("(body up to <LF>.<LF>)", "(smuggled) MAIL FROM",
                                          "(smuggled) RCPT TO", "(smuggled) DATA",
                                          "(smuggled body)")), "QUIT",
    ], params=UNTRUSTED,
      differs="moat is never open to SMTP smuggling: its default is yes (521), and even with "
              "'no' only <CR><LF>.<CR><LF> ends DATA; Postfix 3.7's default 'no' accepts the "
              "smuggled second message"),
]


# -- restriction scenarios: access tables ------------------------------------------
# Access tables for restriction scenarios, written once per test run to a
# shared directory and read by both servers (texthash: needs no postmap).
_TABLE_DIR = None


def access_table(name: str, text: str) -> str:
    """"texthash:PATH" of a table file NAME holding TEXT (one "key value" a line)."""
    global _TABLE_DIR
    import atexit
    import shutil
    import tempfile
    if _TABLE_DIR is None:
        _TABLE_DIR = tempfile.mkdtemp(prefix="moat-diff-tables-")
        os.chmod(_TABLE_DIR, 0o755)  # Postfix's smtpd may read it as another user
        atexit.register(shutil.rmtree, _TABLE_DIR, True)
    path = os.path.join(_TABLE_DIR, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return f"texthash:{path}"


SENDER_ACCESS = access_table("sender_access", """\
reject@client.example.org REJECT
text@client.example.org REJECT Go away
code@client.example.org 550 5.7.0 Not you
soft@client.example.org 450 Later please
defer@client.example.org DEFER
deferp@client.example.org DEFER_IF_PERMIT
deferr@client.example.org DEFER_IF_REJECT
ok@client.example.org OK
number@client.example.org 12345
dunno@client.example.org DUNNO
warn@client.example.org WARN watch this one
hold@client.example.org HOLD
discard@client.example.org DISCARD
filter@client.example.org FILTER smtp:[127.0.0.1]:10025
redirect@client.example.org REDIRECT root@localhost
prepend@client.example.org PREPEND X-Checked: yes
class@client.example.org strict_class
list@client.example.org reject_non_fqdn_recipient, permit
blocked.example.org REJECT Domain blocked
parent.example.org REJECT Parent blocked
postmaster@ REJECT No postmasters
<> REJECT Null sender blocked
bogus@client.example.org no_such_restriction
""")
RECIPIENT_ACCESS = access_table("recipient_access", """\
user+tag@example.test REJECT Tagged
other@example.test 550 5.1.1 Gone away
example.test DUNNO
""")
DATA_RECIPIENT_ACCESS = access_table("data_recipient_access", "other@example.test REJECT Not now\n")
CLIENT_ACCESS = access_table("client_access", "127.0.0.1 REJECT Your address\n")
CLIENT_NET_ACCESS = access_table("client_net_access", "127.0 REJECT Your network\n")
CLIENT_OK_ACCESS = access_table("client_ok_access", "127.0.0.1 OK\n")
HELO_ACCESS = access_table("helo_access", "bad.example.org REJECT Bad HELO\nexample.net 550 Parent\n")

RCPT_USER = "RCPT TO:<user@example.test>"


def mail_from(address: str) -> str:
    return f"MAIL FROM:<{address}>"


SCENARIOS.extend([
    # smtpd_*_restrictions: table results, stages, delay_reject.
    S("restrict_sender_access_results", [CLIENT] + [
        step for local in ("reject", "text", "code", "soft", "defer", "deferp", "deferr", "ok",
                           "number", "dunno", "warn", "hold", "filter", "redirect", "class",
                           "list", "x@blocked", "x@sub.parent")
        for step in (mail_from(local + "@client.example.org" if "@" not in local
                               else local + ".example.org"), RCPT_USER, "RSET")
    ] + ["MAIL FROM:<postmaster@client.example.org>", RCPT_USER, "RSET",
         "MAIL FROM:<>", RCPT_USER, "RSET", "QUIT"],
      params={**UNTRUSTED, "smtpd_sender_restrictions": f"check_sender_access {SENDER_ACCESS}",
              "smtpd_restriction_classes": "strict_class",
              "strict_class": "reject_unauth_destination, reject"}),
    S("restrict_sender_access_no_delay", [CLIENT] + [
        step for local in ("reject", "code", "deferp", "deferr", "ok", "warn", "hold", "discard")
        for step in (mail_from(local + "@client.example.org"), RCPT_USER, "RSET")
    ] + ["MAIL FROM:<>", "QUIT"],
      params={**UNTRUSTED, "smtpd_delay_reject": "no",
              "smtpd_sender_restrictions": f"check_sender_access {SENDER_ACCESS}"}),
    S("restrict_discard_message", [
        CLIENT, "MAIL FROM:<discard@client.example.org>", RCPT_USER, "DATA", Data(BODY), "QUIT",
    ], params={**UNTRUSTED, "smtpd_sender_restrictions": f"check_sender_access {SENDER_ACCESS}"}),
    S("restrict_prepend_message", [
        CLIENT, "MAIL FROM:<prepend@client.example.org>", RCPT_USER, "DATA", Data(BODY), "QUIT",
    ], params={**UNTRUSTED, "smtpd_sender_restrictions": f"check_sender_access {SENDER_ACCESS}"}),
    S("restrict_recipient_access", [
        CLIENT, SENDER, "RCPT TO:<user+tag@example.test>", "RCPT TO:<other@example.test>",
        RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "recipient_delimiter": "+",
               "smtpd_recipient_restrictions":
                   f"check_recipient_access {RECIPIENT_ACCESS}, reject_unauth_destination"}),
    S("restrict_client_access_delayed", [
        CLIENT, SENDER, RCPT_USER, "RCPT TO:<other@example.test>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_client_restrictions": f"check_client_access {CLIENT_ACCESS}"}),
    S("restrict_client_network_prefix", [CLIENT, SENDER, RCPT_USER, "QUIT"],
      params={**UNTRUSTED, "smtpd_client_restrictions": CLIENT_NET_ACCESS}),
    S("restrict_client_reject_no_delay", [
        CLIENT, "HELO client.example.org", SENDER, RCPT_USER, "NOOP", "RSET", "QUIT",
    ], params={**UNTRUSTED, "smtpd_delay_reject": "no",
               "smtpd_client_restrictions": f"check_client_access {CLIENT_ACCESS}"}),
    S("restrict_generic_reject_each_list", [
        CLIENT, SENDER, RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "smtpd_client_restrictions": "permit_mynetworks, reject"}),
    S("restrict_helo_no_delay", [
        "HELO bad_name!", "HELO localname", "HELO bad.example.org", "HELO x.example.net",
        "HELO [127.0.0.1]", EHLO_KEYWORDS, SENDER, RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "smtpd_delay_reject": "no",
               "smtpd_helo_restrictions": "reject_invalid_helo_hostname, "
                                          f"reject_non_fqdn_helo_hostname, {HELO_ACCESS}"}),
    S("restrict_helo_delayed", [
        "HELO localname", SENDER, RCPT_USER, "RSET", "HELO bad_name!", SENDER, RCPT_USER,
        "RSET", "HELO bad.example.org", SENDER, RCPT_USER, "QUIT",
    ], params={**UNTRUSTED,
               "smtpd_helo_restrictions": "reject_invalid_helo_hostname, "
                                          f"reject_non_fqdn_helo_hostname, {HELO_ACCESS}"}),
    S("restrict_missing_helo", [SENDER, RCPT_USER, "QUIT"],
      params={**UNTRUSTED, "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname"}),
    S("restrict_non_fqdn_addresses", [
        CLIENT, "MAIL FROM:<sender@localname>", RCPT_USER, "RSET", "MAIL FROM:<sender>",
        RCPT_USER, "RSET", SENDER, "RCPT TO:<user@localname>", "RCPT TO:<postmaster>",
        "QUIT",
    ], params={**UNTRUSTED, "smtpd_sender_restrictions": "reject_non_fqdn_sender",
               "smtpd_recipient_restrictions":
                   "reject_non_fqdn_recipient, reject_unauth_destination"}),
    S("restrict_generic_defer", [
        CLIENT, SENDER, RCPT_USER, "RCPT TO:<postmaster>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_recipient_restrictions": "defer"}),
    S("restrict_generic_reject", [
        CLIENT, SENDER, RCPT_USER, "RCPT TO:<Postmaster>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_client_restrictions": "reject"}),
    S("restrict_defer_if_reject_then_reject", [
        CLIENT, SENDER, RCPT_USER, "RSET", "MAIL FROM:<deferr@client.example.org>", RCPT_USER,
        "QUIT",
    ], params={**UNTRUSTED, "smtpd_sender_restrictions": f"check_sender_access {SENDER_ACCESS}",
               "smtpd_recipient_restrictions": "defer_if_reject, reject_non_fqdn_helo_hostname, "
                                               "reject"}),
    S("restrict_defer_if_permit", [
        CLIENT, SENDER, RCPT_USER, "RCPT TO:<nobody@other.test>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_recipient_restrictions":
               "defer_if_permit, reject_unauth_destination, permit"}),
    S("restrict_defer_if_reject", [
        CLIENT, SENDER, RCPT_USER, "RCPT TO:<nobody@other.test>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_recipient_restrictions":
               "defer_if_reject, reject_unauth_destination, permit"}),
    S("restrict_warn_if_reject", [
        "HELO localname", SENDER, "RCPT TO:<user+tag@example.test>", RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "smtpd_recipient_restrictions":
               "warn_if_reject, reject_non_fqdn_helo_hostname, warn_if_reject, "
               f"check_recipient_access {RECIPIENT_ACCESS}, warn_if_reject, reject_unlisted_sender"}),
    S("restrict_relay_then_recipient", [
        CLIENT, SENDER, RCPT_USER, "RCPT TO:<nobody@other.test>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_relay_restrictions": "permit",
               "smtpd_recipient_restrictions": "reject_unauth_destination"}),
    S("restrict_unauth_pipelining", [
        Send(b"HELO client.example.org\r\nMAIL FROM:<sender@client.example.org>\r\n"
             b"RCPT TO:<user@example.test>\r\n", replies=3),
        "RSET", SENDER, RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "smtpd_recipient_restrictions":
               "reject_unauth_pipelining, reject_unauth_destination"}),
    S("restrict_unauth_pipelining_ehlo", [
        Loose(Send(b"EHLO client.example.org\r\nMAIL FROM:<sender@client.example.org>\r\n"
                   b"RCPT TO:<user@example.test>\r\n", replies=3), NO_ETRN_DSN), "QUIT",
    ], params={**UNTRUSTED, "smtpd_recipient_restrictions":
               "reject_unauth_pipelining, reject_unauth_destination"}),
    S("restrict_data_restrictions", [
        CLIENT, "MAIL FROM:<>", RCPT_USER, "RCPT TO:<other@example.test>", "DATA", "RSET",
        "MAIL FROM:<text@client.example.org>", RCPT_USER, "DATA", "QUIT",
    ], params={**UNTRUSTED, "smtpd_data_restrictions":
               "reject_multi_recipient_bounce, reject_unauth_pipelining, "
               f"check_sender_access {SENDER_ACCESS}, permit"}),
    S("restrict_data_unauth_pipelining", [
        "HELO client.example.org",
        Send(b"MAIL FROM:<sender@client.example.org>\r\nRCPT TO:<user@example.test>\r\n"
             b"DATA\r\n", replies=3), "QUIT",
    ], params={**UNTRUSTED, "smtpd_data_restrictions": "reject_unauth_pipelining"}),
    S("restrict_data_reject", [CLIENT, SENDER, RCPT_USER, "DATA", "QUIT"],
      params={**UNTRUSTED, "smtpd_data_restrictions": "reject"}),
    S("restrict_end_of_data", [
        CLIENT, SENDER, RCPT_USER, "DATA", Data(BODY), "QUIT",
    ], params={**UNTRUSTED, "smtpd_end_of_data_restrictions": "permit_mynetworks, defer"}),
    S("restrict_multi_recipient_bounce", [
        CLIENT, "MAIL FROM:<>", RCPT_USER, "RCPT TO:<other@example.test>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_recipient_restrictions":
               "reject_multi_recipient_bounce, reject_unauth_destination"}),
    S("restrict_unlisted_sender", [
        CLIENT, "MAIL FROM:<nosuch@example.test>", RCPT_USER, "RSET",
        "MAIL FROM:<user@example.test>", RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "smtpd_sender_restrictions": "reject_unlisted_sender"}),
    S("restrict_unlisted_recipient_explicit", [
        CLIENT, SENDER, "RCPT TO:<nosuch@example.test>", RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "smtpd_reject_unlisted_recipient": "no",
               "smtpd_recipient_restrictions":
                   "reject_unlisted_recipient, reject_unauth_destination"}),
    S("restrict_reply_codes", [
        "HELO bad_name!", "MAIL FROM:<sender@localname>", RCPT_USER, "RSET", "HELO ok.example.org",
        "MAIL FROM:<sender@localname>", RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "invalid_hostname_reject_code": "550", "non_fqdn_reject_code": "550",
               "smtpd_sender_restrictions": "reject_non_fqdn_sender",
               "smtpd_helo_restrictions": "reject_invalid_helo_hostname",
               "reject_code": "550", "relay_domains_reject_code": "550"}),
    S("restrict_client_ok_then_reject", [CLIENT, SENDER, RCPT_USER, "QUIT"],
      params={**UNTRUSTED, "smtpd_client_restrictions": f"check_client_access {CLIENT_OK_ACCESS}",
              "smtpd_sender_restrictions": "reject"}),
    S("restrict_permit_auth_destination", [
        CLIENT, SENDER, RCPT_USER, "RCPT TO:<nobody@other.test>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_recipient_restrictions": "permit_auth_destination, reject"}),
    S("restrict_unknown_name_in_table_result", [
        CLIENT, "MAIL FROM:<bogus@client.example.org>", RCPT_USER, "RCPT TO:<postmaster>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_sender_restrictions": f"check_sender_access {SENDER_ACCESS}"}),
    S("restrict_table_421", [CLIENT, "MAIL FROM:<gone@client.example.org>", RCPT_USER, "NOOP"],
      params={**UNTRUSTED, "smtpd_sender_restrictions": "check_sender_access "
              + access_table("sender_421", "gone@client.example.org 421 Go away now\n")}),
    S("restrict_client_unknown_name_key", [CLIENT, SENDER, RCPT_USER, "QUIT"],
      params={**UNTRUSTED, "smtpd_client_restrictions": "check_client_access "
              + access_table("client_unknown", "unknown REJECT No name\n")}),
    S("restrict_reverse_client_access", [CLIENT, SENDER, RCPT_USER, "QUIT"],
      params={**UNTRUSTED, "smtpd_client_restrictions": "check_reverse_client_hostname_access "
              + CLIENT_NET_ACCESS}),
    S("restrict_sleep", [CLIENT, SENDER, RCPT_USER, "QUIT"],
      params={**UNTRUSTED, "smtpd_recipient_restrictions": "sleep 1, reject_unauth_destination"}),
    S("restrict_client_defer_if_permit_no_delay", [
        CLIENT, SENDER, RCPT_USER, "RCPT TO:<nobody@other.test>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_delay_reject": "no", "smtpd_client_restrictions":
               "check_client_access " + access_table("client_dip", "127.0.0.1 DEFER_IF_PERMIT\n")}),
    S("restrict_helo_actions_no_delay", [
        "HELO warn.example.org", "HELO hold.example.org", SENDER, RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "smtpd_delay_reject": "no", "smtpd_helo_restrictions":
               "check_helo_access " + access_table("helo_actions", "warn.example.org WARN odd helo\n"
                                                   "hold.example.org HOLD\n")}),
    S("restrict_implicit_unlisted_sender", [
        CLIENT, "MAIL FROM:<nosuch@example.test>", RCPT_USER, "RSET",
        "MAIL FROM:<nosuch@example.test>", "RCPT TO:<nobody@other.test>", "QUIT",
    ], params={**UNTRUSTED, "smtpd_reject_unlisted_sender": "yes"}),
    S("restrict_implicit_unlisted_sender_no_delay", [
        CLIENT, "MAIL FROM:<nosuch@example.test>", RCPT_USER, "QUIT",
    ], params={**UNTRUSTED, "smtpd_reject_unlisted_sender": "yes", "smtpd_delay_reject": "no",
               "smtpd_sender_restrictions": "permit"}),
    S("restrict_data_restrictions_bdat", [
        CLIENT, SENDER, RCPT_USER,
        Send(b"BDAT 28 LAST\r\nSubject: chunking\r\n\r\nhello\r\n"), "QUIT",
    ], params={**UNTRUSTED, "smtpd_data_restrictions": "reject",
               "smtpd_end_of_data_restrictions": "reject"}),
    S("restrict_end_of_data_bdat", [
        CLIENT, SENDER, RCPT_USER,
        Send(b"BDAT 28 LAST\r\nSubject: chunking\r\n\r\nhello\r\n"), "QUIT",
    ], params={**UNTRUSTED, "smtpd_end_of_data_restrictions": "reject"}),
    S("restrict_recipient_access_at_data", [
        CLIENT, SENDER, "RCPT TO:<other@example.test>", "DATA", "RSET", SENDER,
        "RCPT TO:<other@example.test>", RCPT_USER, "DATA", Data(BODY), "QUIT",
    ], params={**UNTRUSTED,
               "smtpd_data_restrictions": f"check_recipient_access {DATA_RECIPIENT_ACCESS}"}),
    S("restrict_reject_footer", [CLIENT, SENDER, "RCPT TO:<nobody@other.test>", "QUIT"],
      params={**UNTRUSTED, "smtpd_reject_footer": "Contact postmaster"}),
])

SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}


# ---------------------------------------------------------------------------
# running and comparing

def unwrap(step: StepLike):
    return step.step if isinstance(step, Loose) else step


def loose_reasons(scenario: Scenario) -> dict[int, str]:
    """Reply index (0 = banner) -> why its text may differ."""
    out = {}
    index = 1
    for step in scenario.steps:
        count = unwrap(step).replies if isinstance(unwrap(step), Send) else 1
        if isinstance(step, Loose):
            for i in range(index, index + count):
                out[i] = step.why
        index += count
    return out


_QUEUE_ID = re.compile(r"\bqueued as [0-9A-Za-z]+")  # in replies and log lines


def normalise_text(reply: Reply) -> str:
    return _QUEUE_ID.sub("queued as QUEUEID", reply.text)


def run_scenario(server, scenario: Scenario) -> list[Reply]:
    return dialogue(server.host, server.port, [unwrap(s) for s in scenario.steps], timeout=5)


_CONNECT = re.compile(r"postfix/smtpd\[\d+\]: connect from ", re.M)
_DISCONNECT = re.compile(r"postfix/smtpd\[\d+\]: disconnect from ", re.M)
_LOG_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ postfix/smtpd\[\d+\]: ")
# Postfix's short (hex) and long queue ids, and moat's: 10+ letters and digits
# with at least one digit, so words like "warning" or "disconnect" never match.
_LOG_QUEUE_ID = re.compile(r"^(warning: )?(?=[0-9A-Za-z]*[0-9])[0-9A-Za-z]{10,}(?=: )")


def run_logged(server, scenario: Scenario) -> tuple[list[Reply], list[str]]:
    """The replies, and the smtpd log lines of this one session (normalised:
    no timestamp, host or pid; queue ids replaced). Waits (bounded) for the
    session's "disconnect from" line; without one the list ends with a note."""
    before = server.log()
    replies = run_scenario(server, scenario)

    def settled(text: str) -> bool:  # every session so far, ours included, logged its end
        return (_CONNECT.search(text, len(before)) is not None
                and len(_DISCONNECT.findall(text)) >= len(_CONNECT.findall(text)))

    deadline = time.monotonic() + 5
    text = server.log()
    while not settled(text) and time.monotonic() < deadline:
        time.sleep(0.02)
        text = server.log()
    lines = []
    for line in text[len(before):].splitlines():
        m = _LOG_PREFIX.match(line)
        if m:
            lines.append(normalise_log(line[m.end():]))
    if not settled(text):
        lines.append("(no disconnect line within 5 s)")
    return replies, lines


def normalise_log(message: str) -> str:
    message = _LOG_QUEUE_ID.sub(lambda m: (m.group(1) or "") + "QUEUEID", message)
    return _QUEUE_ID.sub("queued as QUEUEID", message)


def params_for(scenario: Scenario) -> dict:
    return {**COMMON, **scenario.params}


def step_labels(scenario: Scenario) -> list[str]:
    labels = ["(banner)"]
    for step in scenario.steps:
        s = unwrap(step)
        if isinstance(s, Send):
            cmds = send_labels(s)
            for i in range(s.replies):
                labels.append("| " + (cmds[i] if len(cmds) == s.replies
                                      else f"pipelined reply {i + 1}/{s.replies}"))
        elif isinstance(s, Data):
            labels.append("(message body)")
        else:
            labels.append(short(s.decode() if isinstance(s, bytes) else s))
    return labels


def send_labels(send: Send) -> list[str]:
    """What each reply to a pipelined write answers: its command lines, with
    a DATA's content up to "." shown as one "(message body)"."""
    if send.labels:
        return list(send.labels)
    if send.replies == 1 and not send.data.upper().startswith(b"DATA\r\n"):
        first = send.data.split(b"\n", 1)[0]
        return [short(first.decode("utf-8", "replace") + ("\n" if b"\n" in send.data else ""))]
    labels, in_data = [], False
    for part in send.data.decode("utf-8", "replace").split("\r\n")[:-1]:
        if in_data:
            if part == ".":
                labels.append("(message body)")
                in_data = False
            continue
        labels.append(short(part))
        in_data = part.upper() == "DATA"
    return labels


def short(text: str, limit: int = 60) -> str:
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else f"{text[:limit - 15]}...({len(text)} chars)"


class ServerPool:
    """One running server per distinct override set, reused across scenarios;
    at most `keep` stay running (the least recently used one is stopped)."""

    def __init__(self, factory, keep: int = 4):
        self.factory = factory
        self.keep = keep
        self.servers: dict = {}  # insertion order = least recently used first

    def get(self, params: Mapping[str, str]):
        key = tuple(sorted(params.items()))
        server = self.servers.pop(key, None)
        if server is None:
            while len(self.servers) >= self.keep:
                oldest = next(iter(self.servers))
                self.servers.pop(oldest).__exit__(None, None, None)
            server = self.factory(dict(params))
            server.__enter__()
        self.servers[key] = server
        return server

    def discard(self, params: Mapping[str, str]) -> None:
        """Forget (and stop, unchecked) the server for `params`: after a crash."""
        server = self.servers.pop(tuple(sorted(params.items())), None)
        if server is not None:
            try:
                server.stop(check=False)
            finally:
                if hasattr(server, "cleanup"):
                    server.cleanup()

    def close(self) -> None:
        errors = []
        for server in self.servers.values():
            try:
                server.__exit__(None, None, None)
            except Exception as e:  # report every server's failure, then raise
                errors.append(e)
        self.servers.clear()
        if errors:
            raise errors[0]


def postfix_factory(params):
    return PostfixServer(params=params, aliases=ALIASES, virtual_users=VIRTUAL_USERS)


def moat_factory(params):
    return MoatServer(default_moat_binary(), params=params, aliases=ALIASES,
                      virtual_users=VIRTUAL_USERS)


def moat_missing() -> str | None:
    binary = default_moat_binary()
    if os.access(binary, os.X_OK):
        return None
    if os.environ.get("MOAT_BINARY"):
        raise FileNotFoundError(f"MOAT_BINARY={binary} is not an executable")
    return f"no moat binary at {binary} (build it or set MOAT_BINARY)"


class DifferentialTest(unittest.TestCase):
    """test_NAME compares the replies of scenario NAME, test_log_NAME its
    smtpd log lines; both come from the same run of the scenario."""

    postfix: ServerPool
    moat: ServerPool
    runs: dict

    @classmethod
    def setUpClass(cls):
        why = postfix_available()
        if why:
            raise unittest.SkipTest(why)
        why = moat_missing()
        if why:
            raise unittest.SkipTest(why)
        cls.postfix = ServerPool(postfix_factory)
        cls.moat = ServerPool(moat_factory)
        cls.runs = {}

    @classmethod
    def tearDownClass(cls):
        try:
            cls.moat.close()
        finally:
            cls.postfix.close()

    def run_both(self, scenario: Scenario):
        """((postfix replies, log), (moat replies, log)), run once per scenario."""
        if scenario.name not in self.runs:
            params = params_for(scenario)
            expected = run_logged(self.postfix.get(params), scenario)
            moat = self.moat.get(params)
            actual = run_logged(moat, scenario)
            report, alive = moat.sanitizer_report(), moat.running()
            if report or not alive:
                stderr = moat.stderr()[-6000:]
                self.moat.discard(params)  # the next scenario gets a fresh moat
                self.runs[scenario.name] = None
                self.fail(f"moat {'exited' if not alive else 'reported a sanitizer error'} "
                          f"during scenario {scenario.name}:\n{report or stderr}")
            self.runs[scenario.name] = (expected, actual)
        if self.runs[scenario.name] is None:
            self.fail(f"moat crashed or reported a sanitizer error in {scenario.name}")
        return self.runs[scenario.name]

    def compare(self, scenario: Scenario) -> None:
        if scenario.differs:
            self.skipTest(f"documented difference: {scenario.differs}")
        (expected, _), (actual, _) = self.run_both(scenario)
        problems = differences(scenario, expected, actual)
        if problems:
            self.fail("moat differs from Postfix:\n" + "\n".join(problems) + "\n\n"
                      + side_by_side(step_labels(scenario), expected, actual,
                                     loose_reasons(scenario)))

    def compare_log(self, scenario: Scenario) -> None:
        if scenario.differs or scenario.log_differs:
            self.skipTest(f"documented difference: {scenario.differs or scenario.log_differs}")
        (_, expected), (_, actual) = self.run_both(scenario)
        if expected != actual:
            self.fail("moat's smtpd log lines differ from Postfix's:\n"
                      + "\n".join(log_diff(expected, actual)))

    def test_full_message_is_delivered(self):
        """full_message's mail lands in the Maildirs, on both servers.

        The virtual users' (virtual_mailbox_base) and root's (alias of
        postmaster; Postfix: mail_spool_directory, moat: moat_local_maildir_base)."""
        scenario = SCENARIO_BY_NAME["full_message"]
        for factory in (postfix_factory, moat_factory):
            with factory(params_for(scenario)) as server:
                name = type(server).__name__
                replies = run_scenario(server, scenario)
                queued = [r for r in replies if r.code == 250 and "queued as" in r.text]
                self.assertEqual(len(queued), 2, f"{name}: {[str(r) for r in replies]}")
                if isinstance(server, PostfixServer):  # Postfix delivers after its 250
                    for pattern in (r"to=<user@example\.test>.*status=sent",
                                    r"to=<other@example\.test>.*status=sent",
                                    r"orig_to=<postmaster>.*status=sent"):
                        server.wait_for_log(pattern, timeout=20)
                for user in ("user@example.test", "other@example.test", "root"):
                    messages = server.maildir_messages(user)
                    self.assertEqual(len(messages), 1, f"{name}: Maildir of {user}")
                    text = messages[0].replace(b"\r\n", b"\n")
                    self.assertIn(b"Subject: differential test\n", text, f"{name}: {user}")
                    self.assertIn(b"\n\nHello.\n.leading dot\n", text, f"{name}: {user}")


def differences(scenario: Scenario, expected: list[Reply], actual: list[Reply]) -> list[str]:
    """What differs, codes first: reply code, enhanced status code, then
    text (outside Loose steps)."""
    labels = step_labels(scenario)
    loose = loose_reasons(scenario)
    codes, texts = [], []
    if len(expected) != len(actual):
        codes.append(f"reply count: postfix {len(expected)}, moat {len(actual)}")
    for i, (want, got) in enumerate(zip(expected, actual)):
        where = f"reply {i} ({labels[i] if i < len(labels) else '?'})"
        if want.code != got.code:
            codes.append(f"{where}: code {want.code} != {got.code}")
        elif want.enhanced != got.enhanced:
            codes.append(f"{where}: enhanced status code {want.enhanced} != {got.enhanced}")
        elif i not in loose and normalise_text(want) != normalise_text(got):
            texts.append(f"{where}: text {normalise_text(want)!r} != {normalise_text(got)!r}")
    return codes + texts


def side_by_side(labels, expected, actual, loose=()) -> str:
    """One line per step where both agree, the two replies where they do not
    ("!"; "~" where only the text of a Loose step differs)."""
    rows = []
    for i in range(max(len(expected), len(actual))):
        want = expected[i] if i < len(expected) else None
        got = actual[i] if i < len(actual) else None
        label = short(labels[i] if i < len(labels) else "", 50)
        flat = lambda r: "-" if r is None else str(r).replace("\n", " | ")  # noqa: E731
        if want is not None and got is not None and normalise_text(want) == normalise_text(got) \
                and want.code == got.code:
            rows.append(f"   {label:<50} {flat(want)}")
        else:
            mark = "~" if i in loose and want is not None and got is not None and \
                (want.code, want.enhanced) == (got.code, got.enhanced) else "!"
            rows.append(f" {mark} {label:<50} postfix: {flat(want)}")
            rows.append(f"   {'':<50} moat:    {flat(got)}")
    return "\n".join(rows)


def log_diff(expected: list[str], actual: list[str]) -> list[str]:
    import difflib
    return list(difflib.unified_diff(expected, actual, "postfix", "moat", lineterm="", n=20))


def _make_test(scenario: Scenario, log: bool):
    def test(self):
        (self.compare_log if log else self.compare)(scenario)
    test.__doc__ = scenario.doc or None
    return test


for _scenario in SCENARIOS:
    setattr(DifferentialTest, f"test_{_scenario.name}", _make_test(_scenario, log=False))
    setattr(DifferentialTest, f"test_log_{_scenario.name}", _make_test(_scenario, log=True))


# ---------------------------------------------------------------------------
# --show: print the replies (Postfix alone, or both) without asserting

def show(names: Sequence[str], with_moat: bool, logs: bool, markdown: bool) -> int:
    chosen = [SCENARIO_BY_NAME[n] for n in names] if names else SCENARIOS
    postfix = ServerPool(postfix_factory)
    moat = ServerPool(moat_factory) if with_moat else None
    if markdown:
        print("| scenario | client | Postfix 3.7 reply |\n|---|---|---|")
    try:
        for scenario in chosen:
            params = params_for(scenario)
            expected, expected_log = run_logged(postfix.get(params), scenario)
            labels = step_labels(scenario)
            if markdown:
                for i, (label, reply) in enumerate(zip(labels, expected)):
                    name = f"{scenario.name} {dict(scenario.params) or ''}" if i == 0 else ""
                    cell = str(reply).replace("\n", "<br>").replace("|", "\\|")
                    print(f"| {name} | `{short(label, 60)}` | {short(cell, 200)} |")
                continue
            print(f"== {scenario.name}  {dict(scenario.params) or ''}")
            if moat:
                actual, actual_log = run_logged(moat.get(params), scenario)
                print(side_by_side(labels, expected, actual, loose_reasons(scenario)))
                if logs:
                    print("  -- smtpd log " + ("(same)" if expected_log == actual_log else "diff:"))
                    for line in (expected_log if expected_log == actual_log
                                 else log_diff(expected_log, actual_log)):
                        print(f"  {line}")
            else:
                for label, reply in zip(labels, expected):
                    print(f"  {short(label, 44):<46} {str(reply).replace(chr(10), ' | ')}")
                if logs:
                    print("  -- smtpd log:")
                    for line in expected_log:
                        print(f"  {line}")
            print()
    finally:
        if moat:
            moat.close()
        postfix.close()
    return 0


if __name__ == "__main__":
    if "--show" in sys.argv:
        flags = {"--show", "--moat", "--log", "--markdown"}
        args = [a for a in sys.argv[1:] if a not in flags]
        sys.exit(show(args, "--moat" in sys.argv, "--log" in sys.argv, "--markdown" in sys.argv))
    unittest.main()
