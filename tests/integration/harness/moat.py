"""The `moat` binary under test, started on an ephemeral loopback port.

    with MoatServer(default_moat_binary(), params={"smtpd_helo_required": "yes"}) as m:
        dialogue(m.host, m.port, [...])
        m.wait_for_log(r"disconnect from")
        m.maildir_messages("root")

MoatServer writes main.cf (the defaults below, then the caller's params; a
param set to None removes a default), the aliases(5) text file and, when
virtual users are given, a virtual_mailbox_maps file, all in a temporary
directory (`.dir`), then runs `moat serve -c DIR/main.cf` in the foreground
and waits (bounded) for `moat: listening on HOST:PORT` on its stderr.

Layout of `.dir`, the same as PostfixServer's where it means the same:
    main.cf   aliases   vmailbox
    mail/U/   local Maildirs (moat_local_maildir_base)
    vmail/U/  virtual Maildirs of U@example.test (virtual_mailbox_base)
    maillog   maillog_file
    stderr    everything moat wrote on stderr (sanitizer reports included)

stop() sends SIGTERM, waits up to 10 s, then SIGKILLs; it returns the exit
code. Leaving the `with` block also fails (MoatFailure) when moat did not
exit 0 or when its stderr holds an AddressSanitizer/UBSan/LeakSanitizer
report, so every test that uses a sanitizer build checks for them for free.

DNS is hermetic, like PostfixServer's: with dns=NsdServer, moat asks that NSD
(moat_dns_servers = nsd.server, moat_dns_timeout = 1s, moat_dns_tries = 1)
and reads tests/fixtures/dns/hosts first (moat_dns_hosts_file), as Postfix
does through glibc; with dns=None, moat_dns_servers is 127.0.0.1:PORT where
nothing listens (lookups fail at once) and moat_dns_hosts_file is empty (so
127.0.0.1 stays unknown[127.0.0.1]). The caller's params override both.
"""

from __future__ import annotations

import atexit
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Iterable, Mapping

from .postfix import (
    DEFAULT_ALIASES,
    VIRTUAL_DOMAIN,
    aliases_text,
    format_main_cf,
    free_port,
    write_vmailbox,
)
from .nsd import HOSTS_FILE
from .server_files import ServerFiles
from .smtp import RawClient

__all__ = ["MoatServer", "MoatFailure", "default_moat_binary", "SANITIZER_REPORT"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

_LISTENING = re.compile(r"^moat: listening on (\[[0-9A-Fa-f:.]+\]|[^\s:]+):([0-9]+)\s*$", re.M)

# What sanitizers print; any of these on stderr fails the test.
SANITIZER_REPORT = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer)"
    r"|SUMMARY: \w+Sanitizer"
    r"|runtime error: "
    r"|WARNING: ThreadSanitizer"
)


def default_moat_binary() -> str:
    """$MOAT_BINARY, else build/release/moat of this work tree."""
    return os.environ.get("MOAT_BINARY") or os.path.join(REPO, "build", "release", "moat")


class MoatFailure(AssertionError):
    """moat exited badly or a sanitizer reported an error."""


class MoatServer(ServerFiles):
    def __init__(
        self,
        binary: str | None = None,
        params: Mapping[str, object] | None = None,
        aliases: Mapping[str, str] | str | None = None,
        virtual_users: Iterable[str] = (),
        host: str = "127.0.0.1",
        start_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        keep_dir: bool = False,
        nofile: int | None = None,
        env: Mapping[str, str] | None = None,
        dns=None,
    ):
        self.dns = dns  # an NsdServer (its .server), or None: no DNS at all
        self._dead_dns: str | None = None
        self.binary = os.path.abspath(binary or default_moat_binary())
        self.params = dict(params or {})
        self.aliases = DEFAULT_ALIASES if aliases is None else aliases
        self.virtual_users = list(virtual_users)
        self.host = host
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.keep_dir = keep_dir
        self.nofile = nofile
        self.extra_env = dict(env or {})
        self.dir: str | None = None
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.listeners: list[tuple[str, int]] = []
        self.returncode: int | None = None
        self._stderr_file = None

    # -- configuration -----------------------------------------------------
    @property
    def main_cf(self) -> str:
        return os.path.join(self.dir, "main.cf")

    def main_cf_params(self) -> dict:
        d = self.dir
        listen = "[::1]:0" if ":" in self.host else f"{self.host}:0"
        base: dict = {
            "moat_smtp_listen": listen,
            "moat_workers": "2",
            "maillog_file": os.path.join(d, "maillog"),
            "moat_local_maildir_base": os.path.join(d, "mail"),
            "alias_maps": f"hash:{d}/aliases",
            "myhostname": "mx.example.test",
            "mydestination": "localhost, $myhostname",
            "mynetworks": "127.0.0.0/8",
        }
        base.update(self.dns_params())
        if self.virtual_users:
            base.update(
                {
                    "virtual_mailbox_domains": VIRTUAL_DOMAIN,
                    "virtual_mailbox_base": os.path.join(d, "vmail"),
                    "virtual_mailbox_maps": f"texthash:{d}/vmailbox",
                }
            )
        base.update(self.params)
        return {k: v for k, v in base.items() if v is not None}

    def dns_params(self) -> dict:
        if self.dns is not None:
            return {
                "moat_dns_servers": self.dns.server,
                "moat_dns_timeout": "1s",
                "moat_dns_tries": "1",
                "moat_dns_hosts_file": HOSTS_FILE,
            }
        if self._dead_dns is None:  # a UDP port nothing listens on (ICMP unreachable)
            self._dead_dns = f"127.0.0.1:{free_port_udp()}"
        return {
            "moat_dns_servers": self._dead_dns,
            "moat_dns_timeout": "1s",
            "moat_dns_tries": "1",
            "moat_dns_hosts_file": "",
        }

    def write_config(self) -> None:
        with open(self.main_cf, "w") as f:
            f.write(format_main_cf(self.main_cf_params()))
        with open(os.path.join(self.dir, "aliases"), "w") as f:
            f.write(aliases_text(self.aliases))
        write_vmailbox(os.path.join(self.dir, "vmailbox"), self.virtual_users)

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> "MoatServer":
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.stop(check=exc_type is None)
        finally:
            self.cleanup()

    def start(self) -> "MoatServer":
        if not os.access(self.binary, os.X_OK):
            raise FileNotFoundError(f"moat binary not found: {self.binary} (set MOAT_BINARY)")
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix="moat-test-"))
        os.chmod(self.dir, 0o755)
        for sub in ("mail", "vmail"):
            os.mkdir(os.path.join(self.dir, sub))
        self.write_config()
        atexit.register(self._atexit)
        self._stderr_file = open(os.path.join(self.dir, "stderr"), "wb")
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.update(self.extra_env)
        nofile = self.nofile

        def raise_nofile():
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            want = hard if nofile is None else min(nofile, hard)
            if want == resource.RLIM_INFINITY or want > soft:
                resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

        self.proc = subprocess.Popen(
            [self.binary, "serve", "-c", self.main_cf],
            stdin=subprocess.DEVNULL,
            stdout=self._stderr_file,
            stderr=self._stderr_file,
            cwd=self.dir,
            env=env,
            start_new_session=True,
            preexec_fn=raise_nofile,
        )
        try:
            self._wait_listening()
        except BaseException:
            self.stop(check=False)
            self.cleanup()  # the exception carries moat's stderr
            raise
        return self

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            text = self.stderr()
            found = [(h.strip("[]"), int(p)) for h, p in _LISTENING.findall(text)]
            if found:
                self.listeners = found
                self.host, self.port = found[0]
                return
            if self.proc.poll() is not None:
                raise MoatFailure(
                    f"moat exited with {self.proc.returncode} before listening:\n{text}"
                )
            if time.monotonic() >= deadline:
                raise MoatFailure(f"moat did not print 'moat: listening on' within "
                                  f"{self.start_timeout}s:\n{text}")
            time.sleep(0.02)

    def stop(self, check: bool = True) -> int | None:
        """SIGTERM, wait up to stop_timeout, then SIGKILL. Returns the exit code
        (negative: killed by that signal). With check, raises MoatFailure on a
        sanitizer report or an exit code other than 0. Idempotent."""
        if self.proc is None:
            return self.returncode
        proc, self.proc = self.proc, None
        killed = False
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                killed = True
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        self.returncode = proc.returncode
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None
        if not check:
            return self.returncode
        report = self.sanitizer_report()
        if report:
            raise MoatFailure(f"sanitizer report on moat's stderr:\n{report}")
        if killed:
            raise MoatFailure(f"moat did not exit within {self.stop_timeout}s of SIGTERM; "
                              f"killed\n{self.stderr()}")
        if self.returncode != 0:
            raise MoatFailure(f"moat exited with {self.returncode} after SIGTERM:\n{self.stderr()}")
        return self.returncode

    def cleanup(self) -> None:
        if self.dir and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def _atexit(self) -> None:
        try:
            self.stop(check=False)
        finally:
            self.cleanup()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def reload(self, params: Mapping[str, object] | None = None, wait_log: str | None = None,
               timeout: float = 10.0) -> None:
        """Merge `params` into main.cf, rewrite it and send SIGHUP. With
        wait_log, wait until one more line than before matches that regex."""
        if params:
            self.params.update(params)
        before = len(re.findall(wait_log, self.log(), re.M)) if wait_log else 0
        self.write_config()
        self.proc.send_signal(signal.SIGHUP)
        if wait_log:
            deadline = time.monotonic() + timeout
            while len(re.findall(wait_log, self.log(), re.M)) <= before:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no new {wait_log!r} log line after SIGHUP:\n{self.log()}")
                time.sleep(0.02)

    def check(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """`moat check [ARGS] -c DIR/main.cf` with the current main.cf."""
        return subprocess.run(
            [self.binary, "check", *args, "-c", self.main_cf],
            capture_output=True, text=True, timeout=timeout,
        )

    # -- observation -------------------------------------------------------
    def died(self) -> str | None:
        if self.proc is not None and self.proc.poll() is not None:
            return f"moat exited ({self.proc.returncode}):\n{self.stderr()}"
        return None

    def stderr(self) -> str:
        if not self.dir:
            return ""
        try:
            with open(os.path.join(self.dir, "stderr"), "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def sanitizer_report(self) -> str | None:
        text = self.stderr()
        m = SANITIZER_REPORT.search(text)
        if not m:
            return None
        start = text.rfind("\n", 0, max(0, m.start() - 2000)) + 1
        return text[start : m.end() + 8000]

    def proc_status(self, field: str) -> int | None:
        """A kB field of /proc/PID/status (VmRSS, VmHWM ...), in kB."""
        if not self.pid:
            return None
        return proc_status_kb(self.pid, field)

    def connect(self, timeout: float = 10.0, source: str | None = None) -> RawClient:
        return RawClient(self.host, self.port, timeout=timeout, source=source)


def free_port_udp(host: str = "127.0.0.1") -> int:
    """A UDP port (also free for TCP) that was free a moment ago."""
    for _ in range(50):
        port = free_port(host)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback UDP port")


def proc_status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


if __name__ == "__main__":  # manual smoke test: python3 -m harness.moat
    with MoatServer() as m:
        print(f"moat listening on {m.host}:{m.port}, dir {m.dir}", file=sys.stderr)
