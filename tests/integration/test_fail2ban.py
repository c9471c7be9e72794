"""fail2ban's stock Postfix filter matches moat's reject lines as it matches Postfix's.

The same client sessions (from 127.0.0.77, outside mynetworks) run against the
real Postfix 3.7 and against moat; the reject lines each writes to its
maillog_file ("NOQUEUE: reject: RCPT from ...", "improper command pipelining
after ...", "too many errors after ...") are paired in order and given to

    fail2ban-regex --print-all-matched LOG /etc/fail2ban/filter.d/postfix.conf[mode=MODE]

for every mode of the filter. For each mode in which Postfix's lines match at
all, every moat line whose Postfix counterpart matches must match too, and the
matched counts must be equal. The counts are printed.

fail2ban comes from Debian's `fail2ban` package (`make deps`); without
fail2ban-regex the test is skipped with that message.

Run:
    /usr/bin/python3 tests/integration/run.py build/release/moat test_fail2ban
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Send, dialogue, postfix_available  # noqa: E402
import test_differential as td  # noqa: E402

FILTER = "/etc/fail2ban/filter.d/postfix.conf"
MODES = ("more", "normal", "rbl", "auth", "ddos", "extra", "aggressive", "errors")
CLIENT = "127.0.0.77"
EHLO = "EHLO client.example.org"
SENDER = "MAIL FROM:<sender@client.example.org>"

# The lines fail2ban's postfix filter is about (its prefregex alternatives).
_REJECT_LINE = re.compile(
    r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ postfix(?:-\w+)?/smtpd\[\d+\]: "
    r"(?:\w+: (?:milter-)?reject(?:_warning)?:|(?:improper command pipelining|too many errors) after )")
_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ postfix(?:-\w+)?/smtpd\[\d+\]: ")
_LINES = re.compile(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed")

BASE = {"mynetworks": "127.0.0.1/32"}  # 127.0.0.77 is an outsider

# Replies without restrictions: relay denied, unknown users, pipelining, errors.
BASIC = {
    **BASE,
    "smtpd_hard_error_limit": "4",
    "smtpd_error_sleep_time": "0",
}
BASIC_SESSIONS = [
    [EHLO, SENDER, "RCPT TO:<someone@remote.example>", "RCPT TO:<user%remote.example@example.test>",
     "RCPT TO:<user@example.test>", "QUIT"],
    [EHLO, SENDER, "RCPT TO:<nosuch@example.test>", "RCPT TO:<nosuch@mx.example.test>",
     "RCPT TO:<nosuch@localhost>", "QUIT"],
    [EHLO, SENDER, "RCPT TO:<a@remote.example>", "RCPT TO:<b@remote.example>",
     "RCPT TO:<c@remote.example>", "RCPT TO:<d@remote.example>", "RCPT TO:<e@remote.example>"],
]

# Commands pipelined after HELO (no PIPELINING offered): Postfix logs
# "improper command pipelining after MAIL from ...", which the filter matches.
PIPELINING_SESSIONS = [
    ["HELO client.example.org",
     Send(b"MAIL FROM:<sender@client.example.org>\r\nRCPT TO:<user@example.test>\r\n", replies=2),
     "QUIT"],
    [Send(b"EHLO client.example.org\r\nMAIL FROM:<sender@client.example.org>\r\n", replies=2),
     "QUIT"],
]

# Replies of the restriction engine: client, HELO, sender and recipient checks.
TABLES = {
    "client_access": "127.0.0.77 DUNNO\n",
    "sender_access": "spammer@bad.example REJECT\nbad.example 554 5.7.1 Domain blocked\n",
    "recipient_access": "closed@example.test REJECT Mailbox closed\n",
}
RESTRICTED = {
    **BASE,
    "smtpd_helo_required": "yes",
    "smtpd_helo_restrictions": "permit_mynetworks, reject_invalid_helo_hostname, "
                               "reject_non_fqdn_helo_hostname",
    "smtpd_sender_restrictions": "permit_mynetworks, reject_non_fqdn_sender, "
                                 "check_sender_access texthash:@TABLES@/sender_access",
    "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_pipelining, "
                                    "reject_non_fqdn_recipient, reject_unauth_destination, "
                                    "check_recipient_access texthash:@TABLES@/recipient_access",
    "smtpd_client_restrictions": "permit_mynetworks, check_client_access texthash:@TABLES@/client_access",
}
RESTRICTED_SESSIONS = [
    ["EHLO workstation", SENDER, "RCPT TO:<user@example.test>", "QUIT"],
    ["EHLO [1.2.3]", SENDER, "RCPT TO:<user@example.test>", "QUIT"],
    [EHLO, "MAIL FROM:<sender>", "RCPT TO:<user@example.test>", "QUIT"],
    [EHLO, "MAIL FROM:<spammer@bad.example>", "RCPT TO:<user@example.test>", "RSET",
     "MAIL FROM:<x@bad.example>", "RCPT TO:<user@example.test>", "QUIT"],
    [EHLO, SENDER, "RCPT TO:<closed@example.test>", "RCPT TO:<user>", "RCPT TO:<x@remote.example>",
     "QUIT"],
    ["HELO client.example.org",
     Send(b"MAIL FROM:<sender@client.example.org>\r\nRCPT TO:<user@example.test>\r\n", replies=2),
     "QUIT"],
]
RESTRICTED_NO_DELAY = {**RESTRICTED, "smtpd_delay_reject": "no"}


def fail2ban_regex() -> str | None:
    return shutil.which("fail2ban-regex") or (
        "/usr/bin/fail2ban-regex" if os.access("/usr/bin/fail2ban-regex", os.X_OK) else None)


def run_fail2ban(lines: list[str], mode: str, workdir: str, name: str) -> tuple[int, list[bool]]:
    """(matched count, matched flag per line) of fail2ban-regex on `lines`."""
    path = os.path.join(workdir, f"{name}-{mode}.log")
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    proc = subprocess.run(
        [fail2ban_regex(), "--print-all-matched", "--print-no-missed", path,
         f"{FILTER}[mode={mode}]"],
        capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    m = _LINES.search(out)
    if proc.returncode != 0 or not m:
        raise AssertionError(f"fail2ban-regex failed ({proc.returncode}):\n{out[-3000:]}")
    matched_text = []
    section = out.split("|- Matched line(s):", 1)
    if len(section) == 2:
        for row in section[1].splitlines():
            if row.startswith("`-"):
                break
            if row.startswith("|  "):
                matched_text.append(row[3:])
    pool = list(matched_text)
    flags = []
    for line in lines:
        if line in pool:
            pool.remove(line)
            flags.append(True)
        else:
            flags.append(False)
    return int(m.group(3)), flags


def session_log(server, sessions: list, source: str) -> list[str]:
    """Run the sessions from `source`; the reject lines they logged (whole lines)."""
    before = len(server.log())
    for steps in sessions:
        dialogue(server.host, server.port, steps, timeout=5, source=source)
    want = len(sessions)
    deadline = time.monotonic() + 10
    while True:
        text = server.log()[before:]
        if len(re.findall(rf"disconnect from \S*\[{re.escape(source)}\]", text)) >= want:
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    return [line for line in text.splitlines() if _REJECT_LINE.match(line)]


def normalise(line: str) -> str:
    return td.normalise_log(line[_PREFIX.match(line).end():]) if _PREFIX.match(line) else line


def pair_lines(expected: list[str], actual: list[str]) -> list[tuple]:
    """(Postfix index or None, moat index or None): the two logs aligned on
    their normalised text (difflib), so one missing line does not shift the rest."""
    import difflib
    a = [normalise(x) for x in expected]
    b = [normalise(x) for x in actual]
    pairs = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal" or op == "replace":
            n = max(i2 - i1, j2 - j1)
            for k in range(n):
                pairs.append((i1 + k if i1 + k < i2 else None, j1 + k if j1 + k < j2 else None))
        elif op == "delete":
            pairs += [(i, None) for i in range(i1, i2)]
        else:
            pairs += [(None, j) for j in range(j1, j2)]
    return pairs


class Fail2banTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not fail2ban_regex() or not os.path.exists(FILTER):
            raise unittest.SkipTest("fail2ban-regex or /etc/fail2ban/filter.d/postfix.conf missing: "
                                    "install Debian's fail2ban package (make deps)")
        why = postfix_available() or td.moat_missing()
        if why:
            raise unittest.SkipTest(why)
        cls.workdir = tempfile.mkdtemp(prefix="moat-fail2ban-")
        os.chmod(cls.workdir, 0o755)
        cls.tables = os.path.join(cls.workdir, "tables")
        os.mkdir(cls.tables, 0o755)
        for name, text in TABLES.items():
            with open(os.path.join(cls.tables, name), "w") as f:
                f.write(text)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def params(self, extra: dict) -> dict:
        return {k: v.replace("@TABLES@", self.tables) for k, v in {**td.COMMON, **extra}.items()}

    def logs(self, extra: dict, sessions: list) -> tuple[list[str], list[str]]:
        params = self.params(extra)
        with td.postfix_factory(params) as pf:
            expected = session_log(pf, sessions, CLIENT)
        moat, error = td.moat_factory(params), None
        try:
            moat.__enter__()
        except Exception as e:  # noqa: BLE001 -- e.g. a restriction moat does not know yet
            error = f"moat did not start with this main.cf: {e}"
        if error:  # failing outside the handler: no chained traceback
            self.fail(error)
        try:
            actual = session_log(moat, sessions, CLIENT)
        finally:
            moat.__exit__(None, None, None)
        return expected, actual

    def compare(self, name: str, extra: dict, sessions: list) -> None:
        expected, actual = self.logs(extra, sessions)
        self.assertTrue(expected, "Postfix logged no reject lines: the sessions test nothing")
        pairs = pair_lines(expected, actual)
        problems, counts = [], []
        for mode in MODES:
            pf_count, pf_flags = run_fail2ban(expected, mode, self.workdir, f"{name}-postfix")
            moat_count, moat_flags = run_fail2ban(actual, mode, self.workdir, f"{name}-moat") \
                if actual else (0, [])
            counts.append(f"{mode}: postfix {pf_count}/{len(expected)}, moat {moat_count}/{len(actual)}")
            if pf_count == 0:
                continue  # a mode for other log lines (auth, ddos ...)
            for i, j in pairs:
                if i is None or not pf_flags[i]:
                    continue
                if j is None:
                    problems.append(f"[mode={mode}] Postfix's line matches, moat logs no such line:\n"
                                    f"  postfix: {normalise(expected[i])}")
                elif not moat_flags[j]:
                    problems.append(f"[mode={mode}] Postfix's line matches, moat's does not:\n"
                                    f"  postfix: {normalise(expected[i])}\n"
                                    f"  moat:    {normalise(actual[j])}")
            if pf_count != moat_count:
                problems.append(f"[mode={mode}] matched lines: postfix {pf_count}, moat {moat_count}")
        print(f"\n  fail2ban postfix.conf, {name}: " + "; ".join(counts), end="", flush=True)
        if problems:
            table = "\n".join(f"  postfix: {normalise(expected[i]) if i is not None else '-'}\n"
                              f"  moat:    {normalise(actual[j]) if j is not None else '-'}"
                              for i, j in pairs)
            self.fail("fail2ban's postfix filter does not treat moat's lines as Postfix's:\n"
                      + "\n".join(problems) + "\n\nreject lines, paired:\n" + table)

    def test_basic_rejects(self):
        """Relay denied, unknown virtual and local users, too many errors."""
        self.compare("basic", BASIC, BASIC_SESSIONS)

    def test_improper_pipelining(self):
        """"improper command pipelining after ..." lines (no restriction needed)."""
        self.compare("pipelining", BASE, PIPELINING_SESSIONS)

    def test_restriction_rejects(self):
        """HELO, sender, recipient and relay restrictions, smtpd_delay_reject = yes."""
        self.compare("restrictions", RESTRICTED, RESTRICTED_SESSIONS)

    def test_restriction_rejects_no_delay(self):
        """The same with smtpd_delay_reject = no: rejects logged at EHLO and MAIL."""
        self.compare("restrictions-no-delay", RESTRICTED_NO_DELAY, RESTRICTED_SESSIONS)


if __name__ == "__main__":
    unittest.main()
