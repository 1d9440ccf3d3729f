#!/usr/bin/env python3
"""The code a generated CLAUDE.md teaches compiles against the runtime's headers as written.

Every ```cpp block of the rendered CLAUDE.md of each golden kernel whose first line names a
file (`// src/database_sink.cpp`) is written to that path in a scratch kernel; the .cpp files
are then compiled, with the flags a kernel builds with, in one syntax-only run of the compiler
(one run instead of one per recipe: the runtime's headers take seconds to parse). Kernels
whose CLAUDE.md has the same files share one run.

    claude_recipes_test.py --compiler c++ --include runtime/include --golden tests/golden
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

FLAGS = ["-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
# A block whose first line is `// src/<file>` is a file of the kernel, to be compiled.
BLOCK = re.compile(r"^```cpp\n// (src/[A-Za-z0-9_./-]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RECIPES_AT_LEAST = 3


def recipe_files(golden):
    """{kernel: ((path, content), ...)} for every golden kernel's CLAUDE.md."""
    found = {}
    for kernel in sorted(os.listdir(golden)):
        claude = os.path.join(golden, kernel, "CLAUDE.md")
        if not os.path.isfile(claude):
            continue
        with open(claude, encoding="utf-8") as f:
            blocks = BLOCK.findall(f.read())
        sources = [path for path, _ in blocks if path.endswith(".cpp")]
        if len(sources) < RECIPES_AT_LEAST:
            sys.exit(f"{claude}: {len(sources)} recipe file(s) (// src/*.cpp), expected at least {RECIPES_AT_LEAST}")
        found[kernel] = tuple(sorted((path, f"// {path}\n{body}") for path, body in blocks))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compiler", required=True)
    parser.add_argument("--include", required=True, help="the runtime's public headers")
    parser.add_argument("--golden", required=True)
    args = parser.parse_args()

    kernels_files = recipe_files(args.golden)
    if not kernels_files:
        sys.exit(f"no CLAUDE.md under {args.golden}")
    groups = {}  # kernels whose CLAUDE.md has the same files share one scratch kernel
    for kernel, kernel_files in kernels_files.items():
        groups.setdefault(kernel_files, []).append(kernel)
    with tempfile.TemporaryDirectory() as scratch:
        compiled = 0
        for n, (kernel_files, kernels) in enumerate(groups.items()):
            root = os.path.join(scratch, f"kernel-{n}")
            for path, content in kernel_files:
                os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
                with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                    f.write(content)
            sources = [path for path, _ in kernel_files if path.endswith(".cpp")]
            print(f"{', '.join(kernels)}: {', '.join(sources)}")
            unit = os.path.join(root, "recipes.cpp")
            with open(unit, "w") as f:
                f.writelines(f'#include "{source}"\n' for source in sources)
            result = subprocess.run([args.compiler, *FLAGS, "-I", args.include, unit], capture_output=True,
                                    text=True, timeout=300)
            if result.returncode != 0:
                sys.exit(f"the recipes of CLAUDE.md ({', '.join(kernels)}) do not compile:\n"
                         f"{result.stdout}{result.stderr}")
            compiled += len(sources)
    print(f"{compiled} file(s) compiled")


if __name__ == "__main__":
    main()
