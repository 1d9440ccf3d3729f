#!/usr/bin/env python3
"""scripts/progress.py, the filter the scripts show a build through: of CMake's progress lines
it keeps the first and one per 10% crossed, keeps every error line in full, drops the rest,
writes every line unchanged to its log, and shows each kept line as soon as it is read.

    progress_test.py --source CHECKOUT
"""
import argparse
import os
import select
import subprocess
import sys
import tempfile
import time
import unittest

FILTER = None
# As a user's shell runs it: Python buffers a pipe's output unless told otherwise, and the filter
# must flush what it shows itself.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

COMPILER_ERROR = "/src/runtime/src/loop/commit_tracker.cpp:42:7: error: 'offset' was not declared in this scope"
ERROR_LINES = [
    COMPILER_ERROR,
    "/src/runtime/src/core/message.cpp:3:10: fatal error: kernel/missing.hpp: No such file or directory",
    "make[2]: *** [runtime/CMakeFiles/kernel_runtime.dir/build.make:76: x.cpp.o] Error 1",
    "CMake Error at runtime/CMakeLists.txt:12 (find_package):",
    "/usr/bin/ld: main.cpp:(.text+0x1b): undefined reference to `kernel::run(kernel::KernelSpec const&, int, char**)'",
    "/usr/bin/ld: cannot find -lrdkafka: No such file or directory",
    "collect2: error: ld returned 1 exit status",
    "FAILED: runtime/CMakeFiles/kernel_runtime.dir/src/loop/consumer_loop.cpp.o",
    "ninja: build stopped: subcommand failed.",
]
NOISE_LINES = [
    "-- Found PkgConfig: /usr/bin/pkg-config (found version \"1.8.1\")",
    "Scanning dependencies of target kernel_runtime",
    "Consolidate compiler generated dependencies of target kernel_config",
    "/src/runtime/src/core/headers.cpp:9:3: warning: unused variable 'n' [-Wunused-variable]",
    "   12 |   int n = 0;",
    "make[1]: Leaving directory '/src/build'",
]


def run_filter(lines, log=None):
    """The filter's stdout for these lines, and its log's bytes."""
    with tempfile.TemporaryDirectory() as scratch:
        log = os.path.join(scratch, "build.log")
        data = b"".join(line.encode() + b"\n" if isinstance(line, str) else line + b"\n" for line in lines)
        result = subprocess.run([sys.executable, FILTER, "--log", log], input=data, capture_output=True,
                                timeout=30, env=ENVIRONMENT)
        if result.returncode != 0:
            raise AssertionError(f"exit {result.returncode}: {result.stderr.decode(errors='replace')}")
        with open(log, "rb") as f:
            return result.stdout.decode().splitlines(), f.read()


def make_line(percent, what="Building CXX object runtime/CMakeFiles/kernel_runtime.dir/src/x.cpp.o"):
    return f"[{percent:3d}%] {what}"


class ProgressLines(unittest.TestCase):
    def test_keeps_the_first_line_of_each_ten_percent(self):
        lines = [make_line(p, f"Building CXX object o{p}.cpp.o") for p in range(0, 101)]
        shown, _ = run_filter(lines)
        self.assertEqual([s.strip() for s in shown], [make_line(p, f"Building CXX object o{p}.cpp.o")
                                                      for p in range(0, 101, 10)])

    def test_a_jump_over_several_marks_shows_one_line(self):
        shown, _ = run_filter([make_line(p) for p in (3, 27, 28, 55, 59, 100)])
        self.assertEqual([s.strip()[:6] for s in shown], ["[  3%]", "[ 27%]", "[ 55%]", "[100%]"])

    def test_a_percentage_going_back_shows_nothing_again(self):
        # make -j prints its targets' percentages slightly out of order.
        shown, _ = run_filter([make_line(p) for p in (52, 45, 49, 50, 61)])
        self.assertEqual([s.strip()[:6] for s in shown], ["[ 52%]", "[ 61%]"])

    def test_ninja_counts_are_read_as_percentages(self):
        lines = [f"[{n}/40] Building CXX object o{n}.cpp.o" for n in range(1, 41)]
        shown, _ = run_filter(lines)
        # 1/40 is 2%, 4/40 the first at 10%, 8/40 at 20%, ..., 40/40 at 100%.
        self.assertEqual([s.strip().split("]")[0] + "]" for s in shown],
                         ["[1/40]"] + [f"[{n}/40]" for n in range(4, 41, 4)])

    def test_a_line_that_only_names_a_file_like_errors_cpp_is_progress(self):
        shown, _ = run_filter([make_line(5), make_line(6, "Building CXX object src/core/errors.cpp.o"),
                               "[  7%] Building CXX object src/core/error_text.cpp.o"])
        self.assertEqual(len(shown), 1, shown)


class ErrorLines(unittest.TestCase):
    def test_every_error_line_is_kept_in_full_and_in_order(self):
        lines = []
        for i, error in enumerate(ERROR_LINES):
            lines += [make_line(i + 1), NOISE_LINES[i % len(NOISE_LINES)], error]
        shown, _ = run_filter(lines)
        self.assertEqual([s for s in shown if not s.strip().startswith("[")], ERROR_LINES)

    def test_other_lines_are_dropped(self):
        shown, _ = run_filter(NOISE_LINES)
        self.assertEqual(shown, [])


class Log(unittest.TestCase):
    def test_the_log_holds_every_line_byte_for_byte(self):
        lines = [make_line(1), *NOISE_LINES, COMPILER_ERROR, b"\xff\xfe not UTF-8 \xe2\x82", make_line(2)]
        _, log = run_filter(lines)
        expected = b"".join((line.encode() if isinstance(line, str) else line) + b"\n" for line in lines)
        self.assertEqual(log, expected)

    def test_a_log_that_cannot_be_written_is_named(self):
        with tempfile.TemporaryDirectory() as scratch:
            log = os.path.join(scratch, "no-such-directory", "build.log")
            result = subprocess.run([sys.executable, FILTER, "--log", log], input=b"", capture_output=True,
                                    timeout=30, env=ENVIRONMENT)
        self.assertEqual(result.returncode, 1)
        self.assertIn(log, result.stderr.decode())


class Timeliness(unittest.TestCase):
    def test_a_kept_line_is_shown_before_the_build_ends(self):
        with tempfile.TemporaryDirectory() as scratch:
            process = subprocess.Popen([sys.executable, FILTER, "--log", os.path.join(scratch, "build.log")],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=ENVIRONMENT)
            try:
                process.stdin.write((make_line(10) + "\n").encode())
                process.stdin.flush()
                deadline = time.monotonic() + 10
                shown = b""
                while not shown.endswith(b"\n") and time.monotonic() < deadline:
                    ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
                    if not ready:
                        break
                    chunk = os.read(process.stdout.fileno(), 4096)
                    if not chunk:
                        break
                    shown += chunk
                self.assertEqual(shown.decode().strip(), make_line(10))
            finally:
                process.stdin.close()
                process.wait(timeout=10)
                process.stdout.close()


def main():
    global FILTER
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    args, rest = parser.parse_known_args()
    FILTER = os.path.join(os.path.abspath(args.source), "scripts", "progress.py")
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
