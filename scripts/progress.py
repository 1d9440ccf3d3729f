#!/usr/bin/env python3
"""Shows a build's output to someone waiting for it: of CMake's progress lines (`[ 42%]` with
make, `[12/86]` with Ninja) the first and one per 10% crossed; every line reporting an error,
in full; nothing else. Every line read goes to the log unchanged, so nothing is lost.

    cmake --build build 2>&1 | scripts/progress.py --log build/logs/build.log
"""
import argparse
import re
import sys

MAKE_PROGRESS = re.compile(rb"^\[\s*(\d{1,3})%\]")
NINJA_PROGRESS = re.compile(rb"^\[(\d+)/(\d+)\]")
# Compiler and linker diagnostics (`error:`, `fatal error:`, `collect2: error`, `Error 1`),
# make's `***`, Ninja's `FAILED:` and `build stopped`, `CMake Error`, and the linker's messages
# that carry no "error" (`undefined reference`, `/usr/bin/ld: cannot find -lx`). "error" as a
# whole word only, so that sources named errors.cpp or error_text.cpp are not errors.
ERROR = re.compile(rb"\berror\b|\*\*\*|^FAILED: |^ninja: build stopped|undefined reference|(^|[/ ])ld: ",
                   re.IGNORECASE)


def percentage(line):
    """The progress a line of CMake's reports, in percent, or None for another line."""
    make = MAKE_PROGRESS.match(line)
    if make:
        return min(int(make.group(1)), 100)
    ninja = NINJA_PROGRESS.match(line)
    if ninja and int(ninja.group(2)) > 0:
        return min(int(ninja.group(1)) * 100 // int(ninja.group(2)), 100)
    return None


def show(lines, log, out):
    """Copies every line to log and the ones worth showing to out, each as soon as it is read."""
    shown_tenth = -1  # the highest tenth (0 for 0-9%, ..., 10 for 100%) a shown line reached
    for line in lines:
        log.write(line)
        log.flush()
        progress = percentage(line)
        if progress is not None:
            if progress // 10 > shown_tenth:
                shown_tenth = progress // 10
                out.write(b"   " + line.rstrip(b"\r\n") + b"\n")
                out.flush()
        elif ERROR.search(line):
            out.write(line if line.endswith(b"\n") else line + b"\n")
            out.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True, help="file that receives every line")
    args = parser.parse_args()
    try:
        log = open(args.log, "wb")
    except OSError as error:
        print(f"progress.py: cannot write the log {args.log}: {error.strerror}", file=sys.stderr)
        return 1
    with log:
        # Bytes, not text: a compiler's message may quote a source's bytes, and the log keeps them.
        show(iter(sys.stdin.buffer.readline, b""), log, sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
