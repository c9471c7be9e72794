"""What every bench/*.py driver does alike: check that its programs are
built, run a C++ bench program and take its "RESULT {json}" line, head the
report with the date, the command and the machine, and append the report
to bench/RESULTS.md.

Importing it also puts tests/integration on sys.path, for the harness
(NSD, Redis, postgrey, Postfix and moat servers on loopback).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RELEASE = os.path.join(REPO, "build", "release")
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))


def add_common_arguments(p: argparse.ArgumentParser, prefix: bool = True) -> None:
    """--prefix (run the bench program under a profiler) and --no-record."""
    if prefix:
        p.add_argument("--prefix", default="",
                       help="run the bench program under this command (e.g. 'perf record -g')")
    p.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")


def programs_missing(driver: str, paths: list[str]) -> bool:
    """Whether a program is not built; says which, and how to build it."""
    for path in paths:
        if not os.access(path, os.X_OK):
            print(f"{driver}: no program at {path} (make build: a release build with the "
                  f"bench programs)", file=sys.stderr)
            return True
    return False


def run_program(command: list[str], prefix: str, timeout: float) -> tuple[dict | None, int, str]:
    """Runs a bench program (under `prefix`, if any): its RESULT (None when
    it printed none), its exit status and the rest of what it printed."""
    if prefix:
        command = shlex.split(prefix) + command
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=timeout)
    result, text = None, []
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
        else:
            text.append(line)
    return result, proc.returncode, "\n".join(text)


def heading(title: str) -> list[str]:
    """A report's first lines: the date and title, then the command that made it."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv)
    return [f"## {now} — {title}", "", f"`{command}`", ""]


def machine(cpus: str = "") -> str:
    """"HOST, N CPUs, Linux RELEASE", `cpus` said of the CPUs."""
    return f"{platform.node()}, {os.cpu_count()} CPUs{cpus}, Linux {platform.release()}"


def version_of(command: list[str]) -> str:
    """The last word of the first line a program prints of its version; "?"."""
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip().split("\n")[0].split()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def publish(report: str, no_record: bool, failed: bool) -> int:
    """Prints the report and appends it to bench/RESULTS.md (unless
    --no-record); the exit status."""
    print(report)
    if not no_record:
        with open(os.path.join(HERE, "RESULTS.md"), "a") as f:
            f.write("\n" + report)
        print("appended to bench/RESULTS.md")
    return 1 if failed else 0
