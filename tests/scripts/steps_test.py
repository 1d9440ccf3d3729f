#!/usr/bin/env python3
"""scripts/steps.sh, what scripts/quickstart.sh and scripts/test.sh say as they go: a line when
a step starts and its duration when it ends; a build shown through the progress filter and, when
it fails, the end of its output and where the whole of it is; the tests one line each as they
finish, a failing test's output in full.

    steps_test.py --source CHECKOUT
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import unittest

STEPS = None


def bash(script, *args):
    """Runs script after sourcing steps.sh, as the scripts do (set -euo pipefail)."""
    return subprocess.run(["bash", "-c", f'set -euo pipefail; source "$0"; {script}', STEPS, *args],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


class Durations(unittest.TestCase):
    def test_minutes_and_seconds(self):
        for seconds, text in [(0, "0s"), (9, "9s"), (59, "59s"), (60, "1m 0s"), (72, "1m 12s"),
                              (1523, "25m 23s")]:
            with self.subTest(seconds=seconds):
                result = bash('duration "$1"', str(seconds))
                self.assertEqual(result.stdout, text + "\n", result.stderr)


class Steps(unittest.TestCase):
    def test_a_step_says_when_it_starts_and_how_long_it_took(self):
        result = bash('step_begin "building the runtime"; echo working; step_end')
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[:2], ["== building the runtime", "working"])
        self.assertRegex(lines[2], r"^   done in (\d+m )?\d+s$")
        self.assertEqual(len(lines), 3)


class LoggedBuild(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.log = os.path.join(self._dir.name, "logs", "build.log")

    def tearDown(self):
        self._dir.cleanup()

    def test_a_build_shows_its_progress_and_keeps_everything_in_the_log(self):
        build = "; ".join(f"echo '[{p:3d}%] Building CXX object o{p}.cpp.o'" for p in range(0, 101, 5))
        result = bash('run_logged "$1" sh -c "$2"', self.log, build)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([line.strip()[:6] for line in result.stdout.splitlines()],
                         [f"[{p:3d}%]" for p in range(0, 101, 10)])
        with open(self.log) as f:
            self.assertEqual(len(f.read().splitlines()), 21)

    def test_a_failed_build_shows_its_error_the_end_of_its_output_and_the_log(self):
        build = ("echo '[ 40%] Building CXX object x.cpp.o'; echo 'x.cpp:3:1: error: expected ;'; "
                 "echo '    3 | int x'; echo 'make: *** [all] Error 2'; exit 2")
        result = bash('run_logged "$1" sh -c "$2"; echo not reached', self.log, build)
        self.assertEqual(result.returncode, 2)
        self.assertNotIn("not reached", result.stdout)
        everything = result.stdout + result.stderr
        self.assertIn("x.cpp:3:1: error: expected ;", result.stdout)
        # The lines around the error (here its source line), which the filter alone drops.
        self.assertIn("    3 | int x", result.stderr)
        self.assertIn(self.log, result.stderr)
        self.assertRegex(everything, r"exit 2")

    def test_the_end_shown_of_a_long_failed_build_is_its_last_lines(self):
        build = "i=0; while [ $i -lt 500 ]; do echo line$i; i=$((i+1)); done; exit 1"
        result = bash('run_logged "$1" sh -c "$2"', self.log, build)
        self.assertEqual(result.returncode, 1)
        shown = re.findall(r"^line(\d+)$", result.stderr, re.M)
        self.assertEqual(shown[-1], "499")
        self.assertLess(len(shown), 100, "the whole log was printed, not its end")


class LoggedTests(unittest.TestCase):
    CTEST = """Test project /src/build
    Start  1: runtime_unit_tests
    Start  2: generator_cli
1/2 Test  #2: generator_cli ....................***Failed    2.01 sec
FAIL: test_invalid_names (__main__.Refusals)
AssertionError: 64 != 1

    Start  3: format
2/2 Test  #1: runtime_unit_tests ...............   Passed   12.30 sec

50% tests passed, 1 tests failed out of 2

The following tests FAILED:
\t  2 - generator_cli (Failed)
"""

    @staticmethod
    def run_tests_logged(printed, status):
        """run_tests_logged on a command that prints `printed` and exits with `status`:
        (its result, the log's path, the log's text)."""
        with tempfile.TemporaryDirectory() as scratch:
            log = os.path.join(scratch, "tests.log")
            result = bash(f'run_tests_logged "$1" sh -c \'printf "%s" "$0"; exit {status}\' "$2"', log, printed)
            with open(log) as f:
                return result, log, f.read()

    def test_one_line_per_finished_test_and_a_failures_output_in_full(self):
        result, _, logged = self.run_tests_logged(self.CTEST, 8)
        self.assertEqual(logged, self.CTEST)
        self.assertEqual(result.returncode, 8)
        expected = [line for line in self.CTEST.splitlines() if not re.match(r"^ +Start +\d+: ", line)]
        self.assertEqual(result.stdout.splitlines()[:len(expected)], expected)

    DOCTEST = """Test project /src/build
    Start  5: runtime_integration_tests_3
1/1 Test  #5: runtime_integration_tests_3 ......***Failed  317.22 sec
[doctest] doctest version is "2.4.9"
===============================================================================
/src/tests/runtime/integration/exactly_once_test.cpp:260:
TEST CASE:  exactly-once: a revocation commits the open transaction

2026-12-07T17:00:11.303Z WARN  [eos-revoke] a kernel's own log line
/src/tests/runtime/integration/exactly_once_test.cpp:289: ERROR: REQUIRE( testwait::wait_until(committed) ) is NOT correct!
  values: REQUIRE( false )

===============================================================================
[doctest] test cases:  25 |  24 passed | 1 failed | 61 skipped
""" + "2026-12-07T17:00:21.361Z WARN  [eos-undelivered] filler\n" * 300 + """
0% tests passed, 1 tests failed out of 1

The following tests FAILED:
\t  5 - runtime_integration_tests_3 (Failed)
"""

    def test_a_failed_run_ends_with_what_failed_in_a_few_lines(self):
        result, log, _ = self.run_tests_logged(self.DOCTEST + self.CTEST, 8)
        self.assertEqual(result.returncode, 8)
        end = result.stdout.splitlines()[-12:]
        self.assertIn(f"!! what failed (2 report(s); whole output: {log}):", end)
        self.assertIn("TEST CASE:  exactly-once: a revocation commits the open transaction", end)
        self.assertIn("/src/tests/runtime/integration/exactly_once_test.cpp:289: ERROR: REQUIRE( "
                      "testwait::wait_until(committed) ) is NOT correct!", end)
        self.assertIn("  values: REQUIRE( false )", end)
        self.assertIn("FAIL: test_invalid_names (__main__.Refusals)", end)
        self.assertIn("AssertionError: 64 != 1", end)
        self.assertFalse([line for line in end if "WARN" in line], "a kernel's log line in the summary")

    def test_a_passing_run_adds_nothing(self):
        passing = "Test project /src/build\n1/1 Test  #1: format ....   Passed    1.00 sec\n"
        result, _, _ = self.run_tests_logged(passing, 0)
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stdout, passing)


def main():
    global STEPS
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    args, rest = parser.parse_known_args()
    STEPS = os.path.join(os.path.abspath(args.source), "scripts", "steps.sh")
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
