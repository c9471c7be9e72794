"""The real Postfix 3.7, started as an oracle on an ephemeral loopback port.

PostfixServer runs a private Postfix instance out of a temporary directory:
its own main.cf and master.cf (nothing chrooted), queue and data
directories, aliases, maillog file and Maildir delivery, so it neither reads
nor changes the machine's Postfix (/etc/postfix, /var/spool/postfix,
/var/mail). It has the same shape as MoatServer:

    with PostfixServer(params={"smtpd_helo_required": "yes"}) as pf:
        dialogue(pf.host, pf.port, [...])
        pf.wait_for_log(r"status=sent")
        pf.maildir_messages("user@example.test")

main.cf is the defaults in main_cf_params() overlaid with the caller's
params (a param set to None removes a default).

Layout of the instance directory (`.dir`):
    main.cf master.cf   configuration (config_directory)
    queue/              queue_directory (root-owned, subdirectories owned by
                        mail_owner as postfix-files wants)
    data/               data_directory
    aliases(.db)        alias_maps = hash:DIR/aliases (built with postalias)
    vmailbox            virtual_mailbox_maps = texthash:DIR/vmailbox
    vmail/U/            virtual(8) Maildirs of virtual users U@example.test
    mail/U/             local(8) Maildirs (mail_spool_directory = DIR/mail/)
    maillog             maillog_file (written by postlogd)

Decisions worth knowing:
- Postfix runs as root (we are root here and in CI); mail_owner is the
  `postfix` account. The instance directory is made traversable for it.
- Delivery happens as `nobody` (virtual_uid_maps/virtual_gid_maps static,
  default_privs for local(8)), into directories owned by nobody.
- master is started as `master -c /ABSOLUTE/DIR -w`, which is what
  `postfix -c DIR start` runs after its checks. We do not go through
  postfix(1): postfix-script always reads /etc/postfix/main.cf (for
  multi_instance_directories), which Debian's "No configuration" install
  (ours and CI's) does not have, and its checks would create or chmod files
  from postfix-files. We create the queue directories ourselves instead.
  Stopping is SIGTERM to master's pid (what `postfix stop` does), waiting
  until it is gone and the port is closed, then SIGKILL of anything left of
  this instance after a bounded wait.
- compatibility_level = 3.6 (what Debian's main.cf says) so Postfix uses its
  current defaults, not the backwards-compatible ones with warnings.
- smtpd_client_event_limit_exceptions covers loopback so load tests do not
  hit smtpd_client_connection_count_limit (50).
- DNS is hermetic. Postfix resolves through glibc (/etc/resolv.conf,
  /etc/hosts, /etc/nsswitch.conf; nothing is chrooted), so master runs inside
  `unshare --mount --propagation private`, with test files bind-mounted over
  those three, visible only to this instance's processes (private_resolver.py):
    resolv.conf    `nameserver NSD` (dns=NsdServer) or `nameserver
                   127.53.255.254` where nothing listens (dns=None: lookups
                   fail at once and never leave the machine);
                   `options timeout:1 attempts:1`
    hosts          tests/fixtures/dns/hosts (127.0.0.1 and ::1 "localhost")
    nsswitch.conf  the machine's, with `hosts: files dns`
  unshare execs master in place (no --fork), so pids are unchanged:
  master.pid and SIGTERM work as before. Where unshare --mount is not
  permitted, dns=NsdServer fails to start and dns=None runs master without
  it (not hermetic: the machine's resolver).
"""

from __future__ import annotations

import atexit
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Iterable, Mapping

from .nsd import UNUSED_DNS_ADDRESS
from .private_resolver import unshare_problem as _unshare_problem
from .private_resolver import with_resolver_files, write_resolver_files
from .server_files import ServerFiles
from .smtp import RawClient

__all__ = ["PostfixServer", "postfix_available", "resolver_isolation_problem", "free_port", "aliases_text", "write_vmailbox"]

POSTFIX = "/usr/sbin/postfix"  # only tested for presence; see _start_master
POSTCONF = "/usr/sbin/postconf"
POSTALIAS = "/usr/sbin/postalias"
MASTER_CF_PROTO = "/etc/postfix/master.cf"

DEFAULT_ALIASES = {"postmaster": "root", "root": "root"}
DEFAULT_VIRTUAL_USERS = ("user@example.test",)
VIRTUAL_DOMAIN = "example.test"


def postfix_available() -> str | None:
    """None when Postfix can be used as an oracle here, else why not."""
    if not os.path.exists(POSTFIX) or not os.path.exists(POSTCONF):
        return "postfix is not installed (apt-get install postfix)"
    if os.geteuid() != 0:
        return "running Postfix as an oracle needs root"
    try:
        daemon_dir = _postconf_default("daemon_directory")
    except (OSError, subprocess.SubprocessError) as e:
        return f"postconf fails: {e}"
    if not os.path.exists(os.path.join(daemon_dir, "master")):
        return f"no Postfix master in {daemon_dir}"
    return None


def _postconf_default(name: str) -> str:
    out = subprocess.run(
        [POSTCONF, "-d", "-h", name], capture_output=True, text=True, timeout=30, check=True
    )
    return out.stdout.strip()


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (bind to port 0, read it, close)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def aliases_text(aliases: Mapping[str, str] | str) -> str:
    """aliases(5) text from a dict {name: "target, target"} or verbatim text."""
    if isinstance(aliases, str):
        return aliases if aliases.endswith("\n") or not aliases else aliases + "\n"
    return "".join(f"{name}: {target}\n" for name, target in aliases.items())


def write_vmailbox(path: str, users: Iterable[str]) -> None:
    """virtual_mailbox_maps text: `user@example.test user/` (a Maildir)."""
    with open(path, "w") as f:
        for address in users:
            local = address.split("@", 1)[0]
            f.write(f"{address} {local}/\n")


def format_main_cf(params: Mapping[str, object]) -> str:
    lines = []
    for name, value in params.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        text = str(value)
        if "\n" in text:
            raise ValueError(f"multi-line value for {name}: use one line")
        lines.append(f"{name} = {text}")
    return "\n".join(lines) + "\n"


class PostfixServer(ServerFiles):
    """A private, non-chrooted Postfix on 127.0.0.1:PORT. See the module doc."""

    def __init__(
        self,
        params: Mapping[str, object] | None = None,
        aliases: Mapping[str, str] | str | None = None,
        virtual_users: Iterable[str] = DEFAULT_VIRTUAL_USERS,
        host: str = "127.0.0.1",
        port: int | None = None,
        start_timeout: float = 30.0,
        keep_dir: bool = False,
        extra_master_cf: str = "",
        base_dir: str = "/tmp",
        dns=None,
    ):
        self.params = dict(params or {})
        self.dns = dns  # an NsdServer (its .address), or None: no DNS at all
        self.aliases = DEFAULT_ALIASES if aliases is None else aliases
        self.virtual_users = list(virtual_users)
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        self.keep_dir = keep_dir
        self.extra_master_cf = extra_master_cf
        self.base_dir = base_dir  # must be traversable by the postfix account
        self.dir: str | None = None
        self.master_pid: int | None = None
        self._started = False

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> "PostfixServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "PostfixServer":
        why = postfix_available()
        if why:
            raise RuntimeError(why)
        if self.port is None:
            self.port = free_port(self.host)
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix="postfix-oracle-", dir=self.base_dir))
        atexit.register(self._atexit)
        try:
            self._write_instance()
            self._start_master()
            self._wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def _atexit(self) -> None:
        if self._started or self.dir:
            self.stop()

    @property
    def queue_dir(self) -> str:
        return os.path.join(self.dir, "queue")

    def main_cf_params(self) -> dict:
        d = self.dir
        base = {
            "compatibility_level": "3.6",
            "config_directory": d,
            "queue_directory": os.path.join(d, "queue"),
            "data_directory": os.path.join(d, "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "default_privs": "nobody",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4" if ":" not in self.host else "all",
            "maillog_file": os.path.join(d, "maillog"),
            "maillog_file_prefixes": d,
            "myhostname": "mx.example.test",
            "mydestination": "localhost, $myhostname",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": f"hash:{d}/aliases",
            "alias_database": f"hash:{d}/aliases",
            "mail_spool_directory": os.path.join(d, "mail") + "/",
            "smtpd_client_event_limit_exceptions": "127.0.0.0/8 [::1]/128",
            # No deliveries off the machine: mail for other domains stays queued
            # (the transports themselves stay the defaults, so smtpd's view of
            # recipients does not change).
            "defer_transports": "smtp, relay",
            "notify_classes": "",
            "biff": "no",
        }
        if self.virtual_users:
            base.update(
                {
                    "virtual_mailbox_domains": VIRTUAL_DOMAIN,
                    "virtual_mailbox_base": os.path.join(d, "vmail"),
                    "virtual_mailbox_maps": f"texthash:{d}/vmailbox",
                    "virtual_uid_maps": f"static:{pwd.getpwnam('nobody').pw_uid}",
                    "virtual_gid_maps": f"static:{pwd.getpwnam('nobody').pw_gid}",
                    "virtual_minimum_uid": "100",
                }
            )
        base.update(self.params)
        return {k: v for k, v in base.items() if v is not None}

    def _write_instance(self) -> None:
        d = self.dir
        pf = pwd.getpwnam("postfix")
        nobody = pwd.getpwnam("nobody")
        postdrop = grp.getgrnam("postdrop").gr_gid
        os.chmod(d, 0o755)

        with open(os.path.join(d, "main.cf"), "w") as f:
            f.write(format_main_cf(self.main_cf_params()))
        with open(os.path.join(d, "master.cf"), "w") as f:
            f.write(self._master_cf())
        with open(os.path.join(d, "aliases"), "w") as f:
            f.write(aliases_text(self.aliases))
        with open(os.path.join(d, "maillog"), "w"):
            pass
        write_vmailbox(os.path.join(d, "vmailbox"), self.virtual_users)

        # queue and data directories as postfix-files describes them
        q = os.path.join(d, "queue")
        os.mkdir(q, 0o755)
        for sub in (
            "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold",
            "incoming", "private", "saved", "trace",
        ):
            p = os.path.join(q, sub)
            os.mkdir(p, 0o700)
            os.chown(p, pf.pw_uid, -1)
        for sub, mode, gid in (("maildrop", 0o1730, postdrop), ("public", 0o2710, postdrop)):
            p = os.path.join(q, sub)
            os.mkdir(p)
            os.chown(p, pf.pw_uid, gid)
            os.chmod(p, mode)
        os.mkdir(os.path.join(q, "pid"), 0o755)
        data = os.path.join(d, "data")
        os.mkdir(data, 0o700)
        os.chown(data, pf.pw_uid, -1)
        for sub in ("vmail", "mail"):
            p = os.path.join(d, sub)
            os.mkdir(p, 0o755)
            os.chown(p, nobody.pw_uid, nobody.pw_gid)

        subprocess.run(
            [POSTALIAS, "-c", d, os.path.join(d, "aliases")],
            check=True, capture_output=True, timeout=30,
        )

    def _master_cf(self) -> str:
        """Debian's master.cf with nothing chrooted, the smtp listener moved to
        our port, and postlog present (maillog_file needs it)."""
        out = []
        have_postlog = False
        with open(MASTER_CF_PROTO) as f:
            proto = f.read().splitlines()
        for line in proto:
            fields = line.split()
            if not line or line[0] in "# \t" or len(fields) < 8:
                out.append(line)
                continue
            service, kind = fields[0], fields[1]
            if service == "smtp" and kind == "inet":
                line = f"{self._listen_address()} inet n - n - - smtpd"
            elif kind in ("inet", "unix", "unix-dgram", "fifo", "pass"):
                fields[4] = "n"  # chroot column
                line = "  ".join(fields)
            if service == "postlog":
                have_postlog = True
            out.append(line)
        if not have_postlog:
            out.append("postlog unix-dgram n - n - 1 postlogd")
        if self.extra_master_cf:
            out.append(self.extra_master_cf)
        return "\n".join(out) + "\n"

    def _listen_address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAIL_")}
        env["MAIL_CONFIG"] = self.dir
        env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        return env

    def _write_resolver_files(self) -> tuple[str, str, str]:
        """resolv.conf, hosts and nsswitch.conf for master's mount namespace."""
        if self.dns is not None:
            return write_resolver_files(self.dir, self.dns.address, "PostfixServer: the test NSD")
        return write_resolver_files(self.dir, UNUSED_DNS_ADDRESS, "PostfixServer: no DNS")

    def _master_command(self, master: list[str]) -> list[str]:
        """master's command line, inside a private mount namespace with the
        test resolver files when unshare --mount works here."""
        why = _unshare_problem()
        if why:
            if self.dns is not None:
                raise RuntimeError(f"PostfixServer(dns=...) needs `unshare --mount`: {why}")
            return master
        return with_resolver_files(self._write_resolver_files(), master)

    def _start_master(self) -> None:
        daemon_dir = _postconf_default("daemon_directory")
        cmd = self._master_command([os.path.join(daemon_dir, "master"), "-c", self.dir, "-w"])
        self._started = True
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=self.start_timeout, env=self._env(),
            cwd=self.dir,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}\n"
                f"maillog:\n{self.log()}"
            )
        self.master_pid = self._read_master_pid()

    def _read_master_pid(self) -> int | None:
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=2):
                    pass
            except OSError as e:
                last = e
                time.sleep(0.05)
                continue
            # Let the probe's own connect/disconnect lines reach the maillog
            # first, so that tests reading the log see only their sessions.
            while time.monotonic() < deadline and "disconnect from" not in self.log():
                time.sleep(0.02)
            return
        raise RuntimeError(f"Postfix did not listen on {self.host}:{self.port}: {last}\n{self.log()}")

    def running(self) -> bool:
        pid = self.master_pid or (self._read_master_pid() if self.dir else None)
        return bool(self._started and pid and _alive(pid))

    def problems(self) -> list[str]:
        """fatal/panic lines in the maillog (a misconfigured instance)."""
        return [l for l in self.log().splitlines() if re.search(r"\]: (fatal|panic): ", l)]

    def stop(self, timeout: float = 15.0, check: bool = True) -> None:
        """Stop master and its children; bounded; idempotent. (`check` is
        accepted for symmetry with MoatServer.stop and ignored.)"""
        if not self.dir:
            return
        if self._started:
            self._started = False
            pid = self.master_pid or self._read_master_pid()
            if pid and _alive(pid):
                try:
                    os.kill(pid, signal.SIGTERM)  # what `postfix stop` does
                except ProcessLookupError:
                    pass
                deadline = time.monotonic() + timeout
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if _alive(pid):
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self._kill_leftovers()
            self._wait_port_closed(timeout=5.0)
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def _kill_leftovers(self) -> None:
        """Children of this instance that outlived master (they carry
        MAIL_CONFIG=DIR in their environment); bounded."""
        marker = f"MAIL_CONFIG={self.dir}".encode() + b"\0"
        for _ in range(20):
            pids = []
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                try:
                    with open(f"/proc/{name}/environ", "rb") as f:
                        if marker in f.read() + b"\0":
                            pids.append(int(name))
                except OSError:
                    continue
            pids = [p for p in pids if p != os.getpid()]
            if not pids:
                return
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    def _wait_port_closed(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError:
                return
            time.sleep(0.05)

    # -- observation -------------------------------------------------------
    def queue_count(self) -> int:
        """Messages still in the queue (incoming, active, deferred, hold)."""
        n = 0
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _root, _dirs, files in os.walk(os.path.join(self.queue_dir, sub)):
                n += len(files)
        return n

    def reload(self, params: Mapping[str, object] | None = None) -> None:
        """Merge `params` into main.cf and `postfix reload` (SIGHUP to master)."""
        if params:
            self.params.update(params)
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write(format_main_cf(self.main_cf_params()))
        pid = self.master_pid or self._read_master_pid()
        if pid:
            os.kill(pid, signal.SIGHUP)

    def connect(self, timeout: float = 10.0) -> RawClient:
        return RawClient(self.host, self.port, timeout=timeout)


def resolver_isolation_problem() -> str | None:
    """None when PostfixServer can give master its own resolv.conf/hosts
    (dns=... works), else why not."""
    return _unshare_problem()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie of ours counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return False
