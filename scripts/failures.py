#!/usr/bin/env python3
"""After a failed test run, says what failed in a few lines at the end, where someone reading the
end of a long CI log looks first: each failed check of doctest (its test case, file:line, the
check and its values) and each failed Python test (its name and the last lines of its
traceback). The whole output stays in the log; kernels' own log lines are left out here.

    scripts/failures.py build/logs/tests.log
"""
import argparse
import re
import sys

MAX_LINES = 120  # the whole summary; a run with more failures than that points at the log
DOCTEST_RULE = re.compile(r"^={20,}$")
DOCTEST_FAILURE = re.compile(r": (ERROR|FATAL ERROR): ")
PYTHON_FAILURE = re.compile(r"^(FAIL|ERROR): \S+ \(")
PYTHON_RULE = re.compile(r"^-{20,}$|^={20,}$")
TRACEBACK_TAIL = 8  # lines of a Python failure: its assertion and what led to it


def doctest_failures(lines):
    """doctest's reports, each between two rules: the ones holding a failed check, without the
    lines a kernel under test logged meanwhile (they carry a timestamp)."""
    blocks, block = [], None
    for line in lines:
        if DOCTEST_RULE.match(line):
            if block and any(DOCTEST_FAILURE.search(entry) for entry in block):
                blocks.append(block)
            block = []
        elif block is not None and not re.match(r"^\d{4}-\d\d-\d\dT", line):
            block.append(line)
    if block and any(DOCTEST_FAILURE.search(entry) for entry in block):
        blocks.append(block)
    return [[entry for entry in b if entry.strip()] for b in blocks]


def python_failures(lines):
    """unittest's reports of a failure or an error: the name and the end of the traceback."""
    reports, i = [], 0
    while i < len(lines):
        if PYTHON_FAILURE.match(lines[i]):
            name, body, i = lines[i], [], i + 1
            while i < len(lines) and PYTHON_RULE.match(lines[i]):
                i += 1
            # The traceback ends at the first blank line (unittest's own layout).
            while i < len(lines) and lines[i].strip() and not PYTHON_RULE.match(lines[i]):
                body.append(lines[i])
                i += 1
            reports.append([name] + body[-TRACEBACK_TAIL:])
        else:
            i += 1
    return reports


def summary(lines, log_name):
    reports = doctest_failures(lines) + python_failures(lines)
    out = []
    for report in reports:
        out.extend(report)
        out.append("")
    if not out:
        return []
    header = [f"!! what failed ({len(reports)} report(s); whole output: {log_name}):"]
    if len(out) > MAX_LINES:
        out = out[:MAX_LINES] + [f"!! ... more in {log_name}"]
    return header + out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    args = parser.parse_args()
    with open(args.log, errors="replace") as f:
        lines = f.read().splitlines()
    for line in summary(lines, args.log):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
