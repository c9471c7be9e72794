"""Running a program that resolves through glibc or /etc/resolv.conf (Postfix,
policyd-spf's pyspf) against the test DNS without touching the machine's files.

    why = unshare_problem()            # None when this works here
    files = write_resolver_files(DIR, nsd.address)
    subprocess.run(with_resolver_files(files, ["/usr/bin/policyd-spf", CONF]), ...)

with_resolver_files() wraps a command in `unshare --mount --propagation
private` and bind-mounts the test files over SYSTEM_RESOLVER_FILES inside that
mount namespace only, then execs the command in place (no --fork: the pid is
the command's, so pid files and signals work as without the wrapper):
    resolv.conf    `nameserver ADDRESS` (port 53: resolv.conf cannot name one),
                   `options timeout:1 attempts:1`
    hosts          tests/fixtures/dns/hosts (127.0.0.1 and ::1 "localhost")
    nsswitch.conf  the machine's, with `hosts: files dns`

Standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from .nsd import HOSTS_FILE

__all__ = ["SYSTEM_RESOLVER_FILES", "UNSHARE", "unshare_problem", "with_resolver_files",
           "write_resolver_files"]

UNSHARE = "/usr/bin/unshare"
# What the wrapped command sees instead of the machine's files, in this order.
SYSTEM_RESOLVER_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf")

_UNSHARE_PROBLEM: list = []


def unshare_problem() -> str | None:
    """None when `unshare --mount` with bind mounts works here (probed once),
    else why not."""
    if not _UNSHARE_PROBLEM:
        why = None
        if not os.access(UNSHARE, os.X_OK):
            why = f"{UNSHARE} is missing (util-linux)"
        else:
            for target in SYSTEM_RESOLVER_FILES:
                if not os.path.exists(target):
                    why = f"{target} does not exist (nothing to bind-mount over)"
            if why is None:
                try:
                    p = subprocess.run(
                        [UNSHARE, "--mount", "--propagation", "private", "/bin/sh", "-c",
                         'mount --bind "$1" "$1"', "sh", SYSTEM_RESOLVER_FILES[0]],
                        capture_output=True, text=True, timeout=10)
                    if p.returncode != 0:
                        why = (p.stderr or p.stdout).strip() or f"exit {p.returncode}"
                except (OSError, subprocess.SubprocessError) as e:
                    why = str(e)
        _UNSHARE_PROBLEM.append(why)
    return _UNSHARE_PROBLEM[0]


def write_resolver_files(directory: str, nameserver: str, note: str = "the test DNS"
                         ) -> tuple[str, str, str]:
    """resolv.conf, hosts and nsswitch.conf in `directory`, in the order of
    SYSTEM_RESOLVER_FILES; `note` goes in resolv.conf's comment."""
    resolv = os.path.join(directory, "resolv.conf")
    with open(resolv, "w") as f:
        f.write(f"# {note}\nnameserver {nameserver}\noptions timeout:1 attempts:1\n")
    hosts = os.path.join(directory, "hosts")
    shutil.copyfile(HOSTS_FILE, hosts)
    nsswitch = os.path.join(directory, "nsswitch.conf")
    try:
        with open("/etc/nsswitch.conf") as f:
            lines = [l for l in f.read().splitlines() if not re.match(r"\s*hosts\s*:", l)]
    except FileNotFoundError:
        lines = []
    with open(nsswitch, "w") as f:
        f.write("\n".join(lines + ["hosts: files dns"]) + "\n")
    for p in (resolv, hosts, nsswitch):
        os.chmod(p, 0o644)
    return resolv, hosts, nsswitch


def with_resolver_files(files: tuple[str, str, str], command: list[str]) -> list[str]:
    """`command`, run in a private mount namespace where `files` (from
    write_resolver_files) are bind-mounted over SYSTEM_RESOLVER_FILES."""
    script = "".join(
        f'mount --bind "${i + 1}" {target} && ' for i, target in enumerate(SYSTEM_RESOLVER_FILES)
    ) + f'shift {len(SYSTEM_RESOLVER_FILES)} && exec "$@"'
    return [UNSHARE, "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh",
            *files, *command]
