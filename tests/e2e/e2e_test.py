#!/usr/bin/python3
"""End to end: what a user does with an installed new-kernel, for each pattern.

Generate a kernel (with git), lint its Kubernetes manifest, build it with warnings as
errors, run its own tests, run it with --samples, then run it against kernel-dev-broker
(a broker in its own process), send messages with confluent-kafka (a client nobody here
wrote) and check what arrives on the output and dead-letter topics, and that the group's
committed offsets cover every input. Prints the figures: render time, build time, size.

    e2e_test.py --prefix PREFIX        (PREFIX/bin/new-kernel, PREFIX/bin/kernel-dev-broker)
"""
import argparse
import concurrent.futures
import json
import re
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import kernel_harness as kh  # noqa: E402

# KERNEL_DEBUG_INFO=0 (CI's one-off build): the kernels are built without -g as well, which
# compiles them about a quarter faster; the generated build type stays RelWithDebInfo.
DEBUG_INFO_FLAGS = (["-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"]
                    if os.environ.get("KERNEL_DEBUG_INFO", "1") == "0" else [])

PATTERNS = {  # the longest first: transform also checks settings and a broken handler
    "transform": {"output": True},
    "consumer": {"output": False},
    "enrichment": {"output": True},
    "batch-sink": {"output": False},
}
# A description that must be escaped differently in C++, CMake, YAML, JSON and Markdown.
DESCRIPTION = 'Checks "escaping": $HOME ${X} `x` *y* <z> & a\\b; 100% done.'
VALID = 40
DEADLINE = 90  # seconds for any wait on the broker
PARTITIONS = 4  # of every topic on kernel-dev-broker


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(command, cwd=None, env=None, timeout=600):
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise Failure(f"{' '.join(command)} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result, time.monotonic() - started


def consume(servers, topic, count):
    """The `count` messages of `topic`, and then no more: anything beyond would be a duplicate or
    a stray."""
    with kh.TopicReader(servers, topic, PARTITIONS) as reader:
        reader.read_until(count, DEADLINE)
        messages = reader.drain(quiet=2)
    check(len(messages) == count, f"{topic}: expected {count} messages, got {len(messages)}")
    return messages


def wait_for_commits(servers, group, topic, expected_total):
    """The group's committed offsets on `topic` must reach the end of every partition."""
    def committed_total():
        return sum(max(offset, 0) for offset in kh.committed(servers, group, topic, PARTITIONS).values())
    kh.wait_for(lambda: committed_total() == expected_total, DEADLINE,
                f"group {group} to commit {expected_total} offsets on {topic} (has {committed_total()})")


def headers_of(message):
    return {k: v.decode() for k, v in (message.headers() or [])}


def exercise_on_broker(prefix, name, directory, pattern, log_path):
    """Runs the built kernel against kernel-dev-broker and checks outputs, dead letters, commits."""
    topic_in, topic_out, topic_dlq = f"{name}.in", f"{name}.out", f"{name}.dlq"
    topics = [topic_in, topic_out, topic_dlq] + ([f"{name}.audit"] if pattern == SETTINGS_PATTERN else [])
    broker = kh.DevBroker(topics, PARTITIONS, binary=os.path.join(prefix, "bin", "kernel-dev-broker"))
    kernel = None
    try:
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, KERNEL_HTTP_PORT="0",
                   KAFKA_CONSUMER_SESSION_TIMEOUT="6s", KAFKA_CONSUMER_HEARTBEAT_INTERVAL="1s")
        if pattern == SETTINGS_PATTERN:
            env[name.upper().replace("-", "_") + "_API_KEY"] = API_KEY
            printed, _ = run([os.path.join(directory, "build", name), "--print-config"], cwd=directory, env=env)
            check(f"{name.upper().replace('-', '_')}_API_KEY=***  # env" in printed.stdout,
                  "--print-config does not show the secret setting as ***")
            check(API_KEY not in printed.stdout + printed.stderr, "--print-config printed the secret")
        with open(log_path, "w") as log:
            kernel = subprocess.Popen([os.path.join(directory, "build", name)], cwd=directory, env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
        records = [(f"k{i}", json.dumps({"id": f"evt-{i}", "account": "acme" if i % 2 else "nobody", "amount": i + 0.25}),
                    [("event-id", f"input-{i}")]) for i in range(VALID)]
        poison = [("bad-1", "not json at all", [("event-id", "input-bad-1")]),
                  ("bad-2", json.dumps({"id": "evt-no-account", "amount": 1}), [])]
        kh.produce(broker.bootstrap, topic_in, records + poison, **{"enable.idempotence": True})

        if PATTERNS[pattern]["output"]:
            outputs = consume(broker.bootstrap, topic_out, VALID)
            by_key = {m.key().decode(): m for m in outputs}
            check(set(by_key) == {key for key, _, _ in records}, "output keys differ from input keys")
            for i in range(VALID):
                message = by_key[f"k{i}"]
                document = json.loads(message.value())
                headers = headers_of(message)
                check(headers.get("source") == name, f"source header {headers.get('source')!r}")
                check(headers.get("causation-id") == f"input-{i}", f"causation-id {headers.get('causation-id')!r}")
                check(headers.get("content-type") == "application/json", "content-type")
                if pattern == "transform":
                    check(document == {"id": f"evt-{i}", "account": "acme" if i % 2 else "nobody",
                                       "amount_cents": round((i + 0.25) * 100)}, f"transform output {document}")
                else:
                    details = document["account_details"]
                    check((details is not None) == bool(i % 2), f"enrichment output {document}")
                    check(document["amount"] == i + 0.25, f"enrichment kept fields {document}")

        dead = {m.key().decode(): m for m in consume(broker.bootstrap, topic_dlq, len(poison))}
        check(dead["bad-1"].value() == b"not json at all", "dead letter value is not byte for byte")
        check(headers_of(dead["bad-1"]).get("dlq-failure-reason") == "deserialization_error", "reason of bad-1")
        check(headers_of(dead["bad-1"]).get("event-id") == "input-bad-1", "original headers kept")
        check(headers_of(dead["bad-2"]).get("dlq-failure-reason") == "validation_error", "reason of bad-2")
        check(headers_of(dead["bad-2"]).get("dlq-original-topic") == topic_in, "dlq-original-topic")

        wait_for_commits(broker.bootstrap, name, topic_in, VALID + len(poison))

        kernel.send_signal(signal.SIGTERM)
        code = kernel.wait(timeout=40)
        check(code == 0, f"{name} exited {code} after SIGTERM")
        kernel = None
        with open(log_path) as f:
            log = f.read()
        if pattern == SETTINGS_PATTERN:
            check(API_KEY not in log, "the kernel's log shows the secret setting")
        if pattern == "consumer":
            handled = [line for line in log.splitlines() if " handled)" in line and f"[{name}]" in line]
            check(len(handled) == VALID, f"consumer logged {len(handled)} handled events, expected {VALID}")
            check(f", {VALID} handled)" in log, "the consumer's count did not reach every event")
        if pattern == "batch-sink":
            # One log line per write: every valid event written once, in batches.
            writes = [int(count) for count in re.findall(rf"\[{re.escape(name)}\].* wrote (\d+) rows", log)]
            check(sum(writes) == VALID, f"the sink wrote {sum(writes)} rows, expected {VALID}: {writes}")
            check(max(writes) > 1, f"no write held more than one row: {writes}")
            check(f"({VALID} in all)" in log, "the sink's count did not reach every event")
    finally:
        if kernel is not None:
            kernel.kill()
            kernel.wait()
        broker.stop()


# In debian:bookworm-slim already: the run stage need not install these.
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "liblz4-1", "libcrypt1"}


def check_run_stage_packages(binary, dockerfile):
    """Every shared library the kernel loads comes from a package the Dockerfile's run stage
    installs (or one bookworm-slim has, or a dependency apt pulls in with them)."""
    ldd, _ = run(["ldd", binary])
    needed = set()
    for line in ldd.stdout.splitlines():
        if "=>" not in line or "not found" in line:
            check("not found" not in line, f"ldd: {line}")
            continue
        path = os.path.realpath(line.split("=>")[1].split("(")[0].strip())
        # Merged /usr: dpkg may know the library under /lib.
        candidates = [path, path.replace("/usr/lib/", "/lib/", 1)]
        owners = [subprocess.run(["dpkg", "-S", c], capture_output=True, text=True) for c in candidates]
        found = [o.stdout.split(":")[0] for o in owners if o.returncode == 0]
        check(bool(found), f"no Debian package owns {path}")
        needed.add(found[0])
    with open(dockerfile) as f:
        text = f.read()
    run_stage = text[text.rindex("FROM "):]
    listed = set(re.findall(r"^\s+(lib[a-z0-9.+-]+|ca-certificates)\s*\\?$", run_stage, re.MULTILINE))
    check(listed, "no packages found in the Dockerfile's run stage")
    installed = set(listed)
    pending = list(listed)
    while pending:  # what apt installs with them: their Depends, recursively
        depends = subprocess.run(["dpkg-query", "-W", "-f=${Depends},${Pre-Depends}", pending.pop()],
                                 capture_output=True, text=True).stdout
        for item in re.split(r"[,|]", depends):
            name = item.strip().split(" ")[0].split(":")[0]
            if name and name not in installed:
                installed.add(name)
                pending.append(name)
    missing = sorted(needed - BASE_PACKAGES - installed)
    check(not missing, f"the Dockerfile's run stage does not install {missing}")


def test_pattern(prefix, workdir, pattern, figures):
    new_kernel = os.path.join(prefix, "bin", "new-kernel")
    name = f"e2e-{pattern}"
    directory = os.path.join(workdir, name)
    args = [new_kernel, name, "--topic", f"{name}.in", "--pattern", pattern, "--dir", directory,
            "--description", DESCRIPTION]
    if PATTERNS[pattern]["output"]:
        args += ["--output-topic", f"{name}.out"]
    if pattern == SETTINGS_PATTERN:
        # Settings of its own and a named output: declared in kernel_spec.cpp, listed in the files its
        # own configuration_files test checks against the binary.
        args += ["--setting", "BATCH_SIZE=int:100:rows per insert", "--setting", "API_KEY=secret::pricing API key",
                 "--output", f"audit={name}.audit"]
    home = os.path.join(workdir, "home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home)  # no git identity: the fallback is used
    _, figures[f"{pattern} render s"] = run(args, env=env)
    log, _ = run(["git", "-C", directory, "log", "--oneline"], env=env)
    check(len(log.stdout.splitlines()) == 1, "expected one first commit")

    run(["yamllint", "-s", os.path.join(directory, "deploy", "kubernetes.yaml"),
         os.path.join(directory, "deploy", "alerts.yaml")])

    build = os.path.join(directory, "build")
    run(["cmake", "-S", directory, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
         "-DCMAKE_COMPILE_WARNING_AS_ERROR=ON", *DEBUG_INFO_FLAGS])
    _, figures[f"{pattern} build s"] = run(["nice", "-n", "10", "cmake", "--build", build, "-j2"])  # niced: tests beside it wait on timers
    figures[f"{pattern} binary MB"] = os.path.getsize(os.path.join(build, name)) / 1e6
    run(["ctest", "--test-dir", build, "--output-on-failure", "--timeout", "180"])
    check_run_stage_packages(os.path.join(build, name), os.path.join(directory, "Dockerfile"))
    if pattern == SETTINGS_PATTERN:
        check_configuration_files_catch_drift(directory, build, name)

    samples_env = dict(os.environ)
    if pattern == SETTINGS_PATTERN:
        samples_env[name.upper().replace("-", "_") + "_API_KEY"] = API_KEY  # required: it has no default
    samples, _ = run([os.path.join(build, name), "--samples", os.path.join(directory, "samples", "input.jsonl")],
                     cwd=directory, env=samples_env, timeout=120)
    lines = [json.loads(line) for line in samples.stdout.splitlines() if line.strip()]
    outputs = [line for line in lines if line["topic"] == f"{name}.out"]
    dead = [line for line in lines if line["topic"] == f"{name}.dlq"]
    check(len(outputs) == (3 if PATTERNS[pattern]["output"] else 0), f"--samples printed {len(outputs)} outputs")
    check(sorted(d["headers"]["dlq-failure-reason"] for d in dead) == ["deserialization_error", "validation_error"],
          f"--samples dead letters: {dead}")

    check("5 expectations met" in samples.stderr, f"--samples did not check the expectations:\n{samples.stderr[-2000:]}")

    exercise_on_broker(prefix, name, directory, pattern, os.path.join(workdir, f"{name}.log"))
    if pattern == BROKEN_PATTERN:
        check_samples_catch_a_broken_handler(directory, build, name)


# One pattern is enough to show it: a rebuild costs half a minute.
BROKEN_PATTERN = "transform"
# The pattern generated with --setting and --output.
SETTINGS_PATTERN = "transform"
API_KEY = "pk-e2e-7c41b9d2"


def check_configuration_files_catch_drift(directory, build, name):
    """A setting missing from the generated files makes the kernel's own configuration_files
    test fail, naming it; the files are put back afterwards."""
    variable = name.upper().replace("-", "_") + "_BATCH_SIZE"
    paths = [os.path.join(directory, ".env.template"), os.path.join(directory, "deploy", "kubernetes.yaml")]
    originals = []
    for path in paths:
        with open(path) as f:
            originals.append(f.read())
        check(variable in originals[-1], f"{path} does not mention {variable}")
        with open(path, "w") as f:
            f.write(originals[-1].replace(variable, variable + "_OLD"))
    try:
        result = subprocess.run(["ctest", "--test-dir", build, "-R", "^configuration_files$", "--output-on-failure"],
                                capture_output=True, text=True, timeout=120)
        check(result.returncode != 0, "configuration_files passed with a setting missing from the files")
        check(f".env.template does not list {variable}" in result.stdout and
              f"deploy/kubernetes.yaml does not set {variable}" in result.stdout,
              f"configuration_files did not name the missing setting:\n{result.stdout[-3000:]}")
    finally:
        for path, text in zip(paths, originals):
            with open(path, "w") as f:
                f.write(text)


def check_samples_catch_a_broken_handler(directory, build, name):
    """A handler that no longer does its job makes the kernel's own `samples` test fail,
    naming each sample whose fate changed."""
    handler = os.path.join(directory, "src", "handler.cpp")
    with open(handler) as f:
        text = f.read()
    entry = "void handle(const kernel::Message& message, kernel::Context& context) {\n"
    check(entry in text, "handle() not found in the generated handler")
    with open(handler, "w") as f:
        f.write(text.replace(entry, entry + '  throw kernel::BusinessError("broken on purpose");\n'))
    run(["nice", "-n", "10", "cmake", "--build", build, "-j2", "--target", name.replace("-", "_")])
    result = subprocess.run(["ctest", "--test-dir", build, "-R", "^samples$", "--output-on-failure"],
                            capture_output=True, text=True, timeout=180)
    check(result.returncode != 0, "the samples test passed with a broken handler")
    check("line 1: expected output, got business_error (broken on purpose)" in result.stdout,
          f"the samples test did not name the sample:\n{result.stdout[-3000:]}")
    check("5 of 5 expectations differed" in result.stdout, f"samples test output:\n{result.stdout[-3000:]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--patterns", nargs="*", default=list(PATTERNS))
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    prefix = os.path.abspath(args.prefix)

    figures = {}
    workdir = tempfile.mkdtemp(prefix="new-kernel-e2e-")
    try:
        # Render time: the median of a few dry runs (no disk writes) and real runs.
        times = []
        for i in range(5):
            _, seconds = run([os.path.join(prefix, "bin", "new-kernel"), f"timing-{i}", "--topic", "t",
                              "--dir", os.path.join(workdir, f"timing-{i}"), "--no-git"])
            times.append(seconds)
        figures["render median ms"] = statistics.median(times) * 1000
        # Two patterns at a time: one builds while the other waits on its broker.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            running = {pool.submit(test_pattern, prefix, workdir, pattern, figures): pattern
                       for pattern in args.patterns}
            for done in concurrent.futures.as_completed(running):
                done.result()  # a Failure (or a failed wait on the broker) stops the run here
                print(f"== {running[done]}: ok", flush=True)
    except (Failure, AssertionError) as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        print(f"(work directory kept: {workdir})", file=sys.stderr)
        return 1
    for key, value in figures.items():
        print(f"{key}: {value:.2f}")
    if not args.keep:
        subprocess.run(["rm", "-rf", workdir])
    else:
        print(f"work directory: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
