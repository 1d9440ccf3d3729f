#!/usr/bin/env python3
"""Golden files: each pattern rendered with fixed answers by the installed new-kernel must
match tests/golden/<pattern>/ byte for byte.

    golden.py --new-kernel PREFIX/bin/new-kernel --golden tests/golden            # compare
    golden.py --new-kernel PREFIX/bin/new-kernel --golden tests/golden --update   # rewrite

Regenerate with scripts/update-golden.sh (never automatically): review the diff, commit it.
"""
import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import new_kernel_harness as nh  # noqa: E402

# The schemas the --format cases are generated from.
SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "schemas")

# The fixed answers. The transform description exercises escaping in every file type.
ANSWERS = {
    "consumer": ["audit-log", "--topic", "payments", "--description", "Logs and counts payments."],
    "transform": [
        "payment-mapper", "--topic", "payments", "--topic", "refunds",
        "--output-topic", "payments.mapped",
        "--description", 'Maps payments to "cents" documents: $HOME, ${X}, `x`, *y*, <z> & a\\b; done.',
        "--setting", 'ROUNDING=enum(half-up|half-even):half-up:how "cents" round: $HOME, `x` & <z> | a\\b',
        "--setting", "BATCH_SIZE=int:100:rows per insert",
        "--setting", "LEDGER_TOKEN=secret::token of the ledger API",
        "--setting", "REGION=string::region of the ledger",
        "--output", "audit=payments.audit", "--output", "large-amounts=payments.large",
    ],
    "enrichment": [
        "payment-enricher", "--topic", "payments", "--output-topic", "payments.enriched",
        "--pattern", "enrichment", "--dlq-topic", "payments.enricher.dlq", "--group", "payment-enrichers",
        "--description", "Adds account details to payments.",
    ],
    # A batch kernel (batch_handler); a named output shows kernel_spec.cpp's batch wording.
    "batch-sink": [
        "order-sink", "--topic", "orders", "--pattern", "batch-sink",
        "--description", "Writes orders to the warehouse in batches.",
        "--output", "rejected=orders.rejected",
    ],
    # Not patterns: a transform of protobuf values and a consumer of Avro records (--format).
    "protobuf-transform": [
        "order-mapper", "--topic", "orders", "--output-topic", "orders.mapped",
        "--format", "protobuf", "--schema", os.path.join(SCHEMAS, "order.proto"),
        "--description", "Maps orders to the order service's format.",
    ],
    "avro-consumer": [
        "order-auditor", "--topic", "orders", "--format", "avro", "--schema", os.path.join(SCHEMAS, "order.avsc"),
        "--description", "Logs and counts orders.",
    ],
    # Not a pattern: a transform wired as a pipeline step (topics and group by convention).
    "pipeline-step": [
        "order-router", "--pipeline", "orders", "--step", "route",
        "--description", "Routes orders to their region.",
    ],
}


def render(new_kernel, pattern, directory):
    result = subprocess.run([new_kernel, *ANSWERS[pattern], "--dir", directory, "--no-git"],
                            stdin=subprocess.DEVNULL, capture_output=True, env=nh.environment(), timeout=30)
    if result.returncode != 0:
        sys.exit(f"new-kernel failed for {pattern} ({result.returncode}): {result.stderr.decode()}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-kernel", required=True)
    parser.add_argument("--golden", required=True)
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()

    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for pattern in ANSWERS:
            rendered_dir = os.path.join(scratch, pattern)
            render(args.new_kernel, pattern, rendered_dir)
            golden_dir = os.path.join(args.golden, pattern)
            if args.update:
                shutil.rmtree(golden_dir, ignore_errors=True)
                shutil.copytree(rendered_dir, golden_dir)
                print(f"updated {golden_dir}")
                continue
            rendered, golden = nh.files_under(rendered_dir), nh.files_under(golden_dir)
            for path in sorted(set(rendered) | set(golden)):
                if path not in golden:
                    print(f"{pattern}: {path} is rendered but has no golden file")
                elif path not in rendered:
                    print(f"{pattern}: {path} has a golden file but is not rendered")
                elif rendered[path] != golden[path]:
                    print(f"{pattern}: {path} differs:")
                    sys.stdout.writelines(difflib.unified_diff(
                        golden[path].decode(errors="replace").splitlines(True),
                        rendered[path].decode(errors="replace").splitlines(True),
                        f"golden/{pattern}/{path}", f"rendered/{pattern}/{path}"))
                else:
                    continue
                failures += 1
    if failures:
        print(f"\n{failures} {'difference' if failures == 1 else 'differences'}. If the change is intended: scripts/update-golden.sh, "
              "review the diff, commit it.")
        return 1
    if not args.update:
        print(f"golden files match for {', '.join(ANSWERS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
