"""`moat query TYPE:NAME KEY` against the real binary, and against Postfix's
own `postmap -q` on the same table files when Postfix is installed: the
same value on stdout and the same exit status (0 found, 1 not found)."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness.moat import default_moat_binary as moat_binary

TABLES = {
    "access": (
        "texthash",
        "Example.COM  OK\n"
        "\"quoted key\"@example.org REJECT quoted\n"
        "dup 1\ndup 2\n"
        "multi first\n  second line\n"
        "# comment\n"
        "user@example.net 550 5.7.1 go away  \n",
    ),
    "senders.regexp": (
        "regexp",
        "/^(.*)@(.*)\\.example$/ user=$1 domain=${2} $$\n"
        "if /^admin/\n/@corp\\.test$/ ADMIN-CORP\nendif\n"
        "!/@/ NO-AT-SIGN\n"
        "/CASE/i CASE-SENSITIVE\n"
        "/(a)(b)?c/ [$2]\n"
        "|x/y| PIPES\n",
    ),
    "senders.pcre": (
        "pcre",
        "/^(\\w+)\\+\\w+@(\\S+)$/ $1@$2\n"
        "/a b c/x EXTENDED\n/^X.Y$/s NO-DOTALL\n/(b)/A [$1]\n/(a+?)/U [$1]\n"
        "if !/^a/\n/(.)$/ last=$1\nendif\n",
    ),
    "clients.cidr": (
        "cidr",
        "192.0.2.0/24 NET\n198.51.100.7 HOST\n[2001:db8::]/32 V6\n"
        "if 10.0.0.0/8\n10.1.0.0/16 INNER\nendif\n!172.16.0.0/12 OUTSIDE-172\n",
    ),
}

CASES = [
    ("access", "example.com"), ("access", "EXAMPLE.COM"), ("access", "\"quoted key\"@example.org"),
    ("access", "dup"), ("access", "multi"), ("access", "user@example.net"), ("access", "nothing"),
    ("senders.regexp", "Bob@Mail.example"), ("senders.regexp", "admin@corp.test"),
    ("senders.regexp", "other@corp.test"), ("senders.regexp", "localpart"),
    ("senders.regexp", "x@CASE"), ("senders.regexp", "x@case"), ("senders.regexp", "x@ac"),
    ("senders.regexp", "x@abc"), ("senders.regexp", "x/y@z"),
    ("senders.pcre", "joe+tag@example.org"), ("senders.pcre", "ABC"),
    ("senders.pcre", "x\ny"), ("senders.pcre", "ab"), ("senders.pcre", "aaa"),
    ("senders.pcre", "qrs"),
    ("clients.cidr", "192.0.2.55"), ("clients.cidr", "198.51.100.7"),
    ("clients.cidr", "198.51.100.8"), ("clients.cidr", "2001:DB8::25"),
    ("clients.cidr", "10.1.2.3"), ("clients.cidr", "10.2.2.2"), ("clients.cidr", "8.8.8.8"),
    ("clients.cidr", "172.16.0.1"), ("clients.cidr", "::ffff:192.0.2.1"),
    ("clients.cidr", "not-an-address"),
]


def run(args):
    process = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return process.returncode, process.stdout, process.stderr


class Query(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="moat-query-")
        for name, (_, text) in TABLES.items():
            with open(os.path.join(cls.dir, name), "w") as f:
                f.write(text)
        # postmap needs a main.cf; an empty one means Postfix's defaults.
        cls.postfix_dir = os.path.join(cls.dir, "postfix")
        os.mkdir(cls.postfix_dir)
        open(os.path.join(cls.postfix_dir, "main.cf"), "w").close()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def spec(self, name):
        return f"{TABLES[name][0]}:{os.path.join(self.dir, name)}"

    def moat(self, *args):
        return run([moat_binary(), "query", *args])

    def test_found_and_not_found(self):
        self.assertEqual(self.moat(self.spec("access"), "Example.Com"), (0, "OK\n", ""))
        self.assertEqual(self.moat(self.spec("access"), "nothing"), (1, "", ""))
        self.assertEqual(self.moat(self.spec("senders.regexp"), "Bob@Mail.example"),
                         (0, "user=Bob domain=Mail $\n", ""))
        self.assertEqual(self.moat(self.spec("clients.cidr"), "2001:db8::1"), (0, "V6\n", ""))
        self.assertEqual(self.moat("inline:{ {k = value with spaces}, b=2 }", "k"),
                         (0, "value with spaces\n", ""))
        self.assertEqual(self.moat("static:{ always }", "anything"), (0, "always\n", ""))

    def test_config_option_is_accepted(self):
        self.assertEqual(self.moat("-c", "/nonexistent/main.cf", self.spec("access"), "dup"),
                         (0, "1\n", ""))

    def test_pcre_table(self):
        path = os.path.join(self.dir, "x.pcre")
        with open(path, "w") as f:
            f.write("/^(\\w+)\\+(?:\\w+)@(\\S+)$/ $1@$2\n/a b c/x EXTENDED\n")
        self.assertEqual(self.moat("pcre:" + path, "joe+tag@example.org"),
                         (0, "joe@example.org\n", ""))
        self.assertEqual(self.moat("pcre:" + path, "ABC"), (0, "EXTENDED\n", ""))

    def test_errors_name_file_and_line(self):
        path = os.path.join(self.dir, "bad.cidr")
        with open(path, "w") as f:
            f.write("192.0.2.0/24 OK\n# comment\n192.0.2.1/24 BAD\n")
        code, out, err = self.moat("cidr:" + path, "192.0.2.1")
        self.assertEqual((code, out), (1, ""))
        self.assertIn(f"{path}, line 3: non-null host address bits in \"192.0.2.1/24\"", err)
        code, out, err = self.moat("nosuch:x", "key")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("unsupported table type", err)

    def test_usage(self):
        self.assertEqual(self.moat(self.spec("access"))[0], 2)
        self.assertEqual(self.moat()[0], 2)

    @unittest.skipUnless(shutil.which("postmap"), "Postfix's postmap is not installed")
    def test_same_answers_as_postmap(self):
        # pcre: needs Debian's postfix-pcre; without it postmap cannot answer.
        postconf = subprocess.run(["postconf", "-c", self.postfix_dir, "-m"],
                                  capture_output=True, text=True)
        have_pcre = "pcre" in postconf.stdout.split()
        for name, key in CASES:
            if TABLES[name][0] == "pcre" and not have_pcre:
                continue
            with self.subTest(table=name, key=key):
                expected = run(["postmap", "-c", self.postfix_dir, "-q", key, self.spec(name)])
                got = self.moat(self.spec(name), key)
                self.assertEqual(got[:2], expected[:2], f"postmap stderr: {expected[2]}")


if __name__ == "__main__":
    unittest.main()
