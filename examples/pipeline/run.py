#!/usr/bin/env python3
"""Runs pipeline `orders` on kernel-dev-broker: step `validate` (order-validator) and step `price`
(order-pricer), fed with samples/orders.jsonl, then prints what each step produced.

  examples/pipeline/run.py [BIN_DIR] [--allow-express]

BIN_DIR holds order-validator and order-pricer (default: ./build); kernel-dev-broker is
$KERNEL_DEV_BROKER, else found on PATH. The kernels' logs go to a temporary directory, named at
the end. It waits (60 s at most) until both steps have committed every input and the broker has
shown every record they produced, stops everything, and exits 0 when both kernels stopped
cleanly, 1 otherwise.

--allow-express adds the shipping pipeline's topic to order-pricer's KERNEL_ALLOWED_TOPICS: the
express order then reaches it instead of being dead-lettered by the produce guard.
Python's standard library only."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PIPELINE = "orders"
SAMPLES = os.path.join(HERE, "samples", "orders.jsonl")
INVOICES = "pipeline.billing.step.invoice.input"
EXPRESS = "pipeline.shipping.step.express.input"


def topic(step, kind):
    return f"pipeline.{PIPELINE}.step.{step}.{kind}"


# Each step, what it reads, and the topics it writes, as printed.
STEPS = [
    ("validate", "order-validator", topic("validate", "input"),
     [topic("validate", "output"), topic("validate", "error"), topic("validate", "dead-letter")]),
    ("price", "order-pricer", topic("validate", "output"),
     [topic("price", "output"), INVOICES, EXPRESS, topic("price", "error"), topic("price", "dead-letter")]),
]


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)  # polling a condition, with a deadline
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class Broker:
    """kernel-dev-broker; its stdout (the address, then the records of the tailed topics) is
    collected line by line."""

    def __init__(self, args):
        self.lines = []
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def bootstrap(self):
        return next((line.split("=", 1)[1] for line in list(self.lines) if line.startswith("KAFKA_BOOTSTRAP_SERVERS=")),
                    None)

    def records(self):
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def stop(self):
        return stop(self.process)


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


class KernelStopped(Exception):
    pass


class Kernel:
    """A step's kernel; its log goes to a file."""

    def __init__(self, binary, env, log):
        self.log = log
        with open(log, "w") as output:
            self.process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=output)

    def logged(self):
        with open(self.log) as f:
            return f.read()

    def check_running(self):
        """Raises KernelStopped, with the end of its log, when the kernel has exited."""
        code = self.process.poll()
        if code is not None:
            last = "\n".join("    " + line for line in self.logged().splitlines()[-5:])
            raise KernelStopped(f"{os.path.basename(self.log)[:-4]} exited with {code}; its log ends:\n{last}")

    def stop(self):
        return stop(self.process)

    def address(self):
        found = re.search(r"health, metrics and admin on (http://[\d.]+:\d+)", self.logged())
        return found.group(1) if found else None

    def get(self, path):
        with urllib.request.urlopen(self.address() + path, timeout=5) as response:
            return response.read().decode()

    def done(self, expected_inputs):
        """Whether every input it has is committed, and there are `expected_inputs` of them."""
        self.check_running()
        if self.address() is None:
            return False
        try:
            status = json.loads(self.get("/admin/status"))
        except OSError:
            return False  # not serving yet, or stopping: check_running() tells next time
        partitions = status.get("partitions") or []
        if not partitions or any(p.get("high_watermark") is None for p in partitions):
            return False  # not assigned yet, or no watermarks seen yet
        total = sum(p["high_watermark"] for p in partitions)
        settled = all(p["high_watermark"] == p["low_watermark"] or p.get("committed") == p["high_watermark"]
                      for p in partitions)
        return total == expected_inputs and settled and status.get("in_flight", 0) == 0

    def produced(self):
        """Records the broker acknowledged, per topic (kernel_messages_produced_total)."""
        counts = {}
        for line in self.get("/metrics").splitlines():
            found = re.match(r'kernel_messages_produced_total\{topic="([^"]+)"\} (\S+)$', line)
            if found:
                counts[found.group(1)] = int(float(found.group(2)))
        return counts


def describe(record):
    """One record as a line: its key, then its value, or for a dead letter or an error record why."""
    headers = record.get("headers") or {}
    key = record.get("key") or "-"
    if "dlq-failure-reason" in headers:
        if headers.get("dlq-error-class") == "business":
            return f"{key:5} business error: {headers.get('dlq-error-message')}"
        return f"{key:5} {headers['dlq-failure-reason']}: {headers.get('dlq-error-message')}"
    value = record["value"]
    return f"{key:5} {value if isinstance(value, str) else json.dumps(value, separators=(',', ':'))}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bin_dir", nargs="?", default="build", help="where order-validator and order-pricer are")
    parser.add_argument("--allow-express", action="store_true", help=f"let order-pricer write {EXPRESS}")
    options = parser.parse_args()

    binaries = {name: os.path.join(options.bin_dir, name) for name in ("order-validator", "order-pricer")}
    broker_binary = os.environ.get("KERNEL_DEV_BROKER") or shutil.which("kernel-dev-broker")
    missing = [path for path in [*binaries.values(), broker_binary] if not path or not os.access(path, os.X_OK)]
    if missing:
        print(f"run.py: not found: {', '.join(str(m) for m in missing)} (build the example; put "
              "kernel-dev-broker on PATH or in KERNEL_DEV_BROKER)", file=sys.stderr)
        return 2
    samples = sum(1 for line in open(SAMPLES) if line.strip())
    logs = tempfile.mkdtemp(prefix="pipeline-example-")

    topics = sorted({t for _, _, reads, writes in STEPS for t in [reads, *writes]})
    broker = Broker([broker_binary, "--partitions", "2", *[a for t in topics for a in ("--topic", t)],
                     "--seed", f"{topic('validate', 'input')}={SAMPLES}",
                     *[a for _, _, _, writes in STEPS for t in writes for a in ("--tail", t)]])
    kernels = []
    codes = []
    try:
        bootstrap = wait_for(broker.bootstrap, 30, "the broker")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "KERNEL_"))}
        base.update({"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KERNEL_PIPELINE": PIPELINE, "KERNEL_HTTP_PORT": "0",
                     "KERNEL_HTTP_ADDRESS": "127.0.0.1", "KAFKA_CONSUMER_COMMIT_INTERVAL": "200ms"})
        allowed = INVOICES + ("," + EXPRESS if options.allow_express else "")
        step_env = {
            "validate": {"KERNEL_STEP": "validate"},
            # Reads the step before it; may write billing's (and, if allowed, shipping's) input.
            "price": {"KERNEL_STEP": "price", "KAFKA_TOPIC": "pipeline.${pipelineName}.step.validate.output",
                      "KERNEL_ALLOWED_TOPICS": allowed},
        }
        for step, name, _, _ in STEPS:
            kernels.append(Kernel(binaries[name], {**base, **step_env[step]}, os.path.join(logs, f"{name}.log")))

        validator, pricer = kernels
        wait_for(lambda: validator.done(samples), 60, "order-validator to commit every sample")
        passed_on = validator.produced().get(topic("validate", "output"), 0)
        wait_for(lambda: pricer.done(passed_on), 60, "order-pricer to commit every validated order")
        produced = sum(validator.produced().values()) + sum(pricer.produced().values())
        wait_for(lambda: len(broker.records()) >= produced, 30, f"the broker to show the {produced} records produced")
    except (TimeoutError, KernelStopped) as error:
        print(f"run.py: {error}\nthe kernels' logs are in {logs}", file=sys.stderr)
        return 1
    finally:
        codes = [kernel.stop() for kernel in kernels]
        broker.stop()

    print(f"pipeline {PIPELINE}: {samples} samples into {topic('validate', 'input')}")
    for step, name, reads, writes in STEPS:
        print(f"\nstep {step} ({name}), reading {reads}")
        for written in writes:
            written_records = sorted((r for r in broker.records() if r["topic"] == written),
                                     key=lambda r: r.get("key") or "")
            lines = [describe(r) for r in written_records]
            print(f"  {written}: {len(lines) or 'nothing'}")
            for line in lines:
                print(f"    {line}")
    print(f"\nlogs: {logs}")
    clean = codes == [0] * len(STEPS)
    if not clean:
        print(f"run.py: the kernels exited with {codes}, not 0", file=sys.stderr)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
