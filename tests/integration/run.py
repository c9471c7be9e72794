#!/usr/bin/python3
"""Runs the integration tests (tests/integration/test_*.py) against one moat
binary and prints "integration: N passed, N failed, N skipped".

usage: run.py MOAT_BINARY [unittest name patterns...]
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    os.environ["MOAT_BINARY"] = os.path.abspath(sys.argv[1])
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if len(sys.argv) > 2:
        suite = loader.loadTestsFromNames(sys.argv[2:])
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    print(f"integration: {os.environ['MOAT_BINARY']}", flush=True)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print(f"integration: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    sys.exit(1 if failed or result.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
