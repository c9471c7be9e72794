"""The compat suite (tests/compat/*.compat): hardening-guide restriction sets
run against the real Postfix 3.7 and against moat with the same main.cf.

One test per scenario, named test_FILE__SCENARIO, so the pass count shows how
much of each guide moat answers like Postfix. A test fails when a reply code
or enhanced status code differs (outside steps marked `differs:`), when
Postfix itself does not answer what the scenario's `=>` expectations say (the
scenario no longer exercises its restriction), or when moat refuses the
main.cf, crashes or reports a sanitizer error. Reply texts are not asserted;
a failure message shows every reply side by side. See tests/compat/README.md.

Run:
    /usr/bin/python3 tests/integration/run.py build/release/moat test_compat
    /usr/bin/python3 tests/compat/compat.py --show [--moat] [FILE[:SCENARIO] ...]
"""

from __future__ import annotations

import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.join(os.path.dirname(HERE), "compat")
for path in (HERE, COMPAT):
    if path not in sys.path:
        sys.path.insert(0, path)

import compat  # noqa: E402
import test_differential as td  # noqa: E402
from harness import postfix_available  # noqa: E402


class CompatTest(unittest.TestCase):
    runner: compat.Runner

    @classmethod
    def setUpClass(cls):
        why = postfix_available() or td.moat_missing()
        if why:
            raise unittest.SkipTest(why)
        cls.runner = compat.Runner(with_moat=True)

    @classmethod
    def tearDownClass(cls):
        cls.runner.close()

    def check(self, cfile: compat.CompatFile, scenario: compat.Scenario) -> None:
        if scenario.differs:
            self.skipTest(f"documented difference: {scenario.differs}")
        try:
            expected, actual = self.runner.run_pair(cfile, scenario)
            error = None
        except RuntimeError as e:  # failing outside the handler: no chained traceback
            error = f"{scenario.id}: {e}"
        if error:
            self.fail(error)
        if compat.lost_race(scenario, expected):
            # Postfix greeted before the early bytes every time: moat is held to
            # the scenario's expectations instead of to Postfix's replies.
            print(f"\n  {scenario.id}: Postfix lost the race {scenario.retry} times; moat is "
                  f"checked against the scenario's expectations", end="", flush=True)
            problems = compat.expectation_failures(scenario, actual, "moat")
            if problems:
                self.fail(f"{scenario.id}: moat does not answer as the scenario expects:\n"
                          + "\n".join(problems) + "\n\n" + compat.report(scenario, expected, actual))
            return
        problems = compat.expectation_failures(scenario, expected)
        if problems:
            self.fail(f"{scenario.id}: Postfix does not answer as the scenario expects "
                      f"(fix the scenario):\n" + "\n".join(problems) + "\n\n"
                      + compat.report(scenario, expected, None))
        outcome = compat.compare(scenario, expected, actual)
        for line in outcome.documented:
            print(f"\n  {scenario.id} {line}", end="", flush=True)
        if outcome.code_diffs:
            self.fail(f"{scenario.id} (client {scenario.client}): moat's reply codes differ "
                      f"from Postfix's:\n" + "\n".join(outcome.code_diffs) + "\n\n"
                      + compat.report(scenario, expected, actual))


def _make_test(cfile, scenario):
    def test(self):
        self.check(cfile, scenario)
    test.__doc__ = None  # unittest prints the first doc line instead of the name otherwise
    return test


def _add_tests():
    for cfile in compat.load_files():
        for scenario in cfile.scenarios:
            name = "test_" + re.sub(r"\W", "_", f"{cfile.name}__{scenario.name}")
            setattr(CompatTest, name, _make_test(cfile, scenario))


_add_tests()

if __name__ == "__main__":
    unittest.main()
