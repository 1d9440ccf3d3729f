#!/usr/bin/env python3
"""new-kernel's command line, as installed: exit codes, one-line messages, and that nothing is
written on any failure (refusals, an injected I/O error on the last file, SIGINT while
writing). Also --dry-run, --list-patterns, --version, git, and prompts on a pseudo-terminal.

    cli_test.py --new-kernel PREFIX/bin/new-kernel
"""
import argparse
import hashlib
import json
import os
import pty
import re
import select
import signal
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import new_kernel_harness as nh  # noqa: E402

NEW_KERNEL = None


def run(*args, cwd, env_extra=None, stdin=subprocess.DEVNULL):
    return subprocess.run([NEW_KERNEL, *args], cwd=cwd, env=nh.environment(**(env_extra or {})), stdin=stdin,
                          capture_output=True, text=True, timeout=60)


class Scratch(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.dir = self._dir.name
        # Git identity and config from nowhere: the fallback identity is used.
        self.home = os.path.join(self.dir, ".home")
        os.mkdir(self.home)

    def tearDown(self):
        self._dir.cleanup()

    def entries(self):
        return sorted(e for e in os.listdir(self.dir) if e != ".home")

    def assertRefused(self, result, code, message):
        self.assertEqual(result.returncode, code, result.stderr)
        self.assertIn(message, result.stderr)
        self.assertEqual(self.entries(), [], "something was left behind")
        for line in result.stderr.splitlines():
            self.assertTrue(line.startswith("new-kernel: "), line)


class Refusals(Scratch):
    def test_invalid_names(self):
        for name, message in [("My-Kernel", "contains 'M'"), ("9lives", "starts with '9'"),
                              ("a--b", "doubled dash"), ("trailing-", "ends with a dash"),
                              ("class", "C++ keyword `class`"), ("clean", "target CMake or CTest defines"),
                              ("kernel", "reserved for the runtime"), ("x" * 64, "at most 63"),
                              ("upgrade", "is a new-kernel command"), ("check", "is a new-kernel command"),
                              ("diff", "is a new-kernel command")]:
            with self.subTest(name=name):
                result = run(name, "--topic", "orders", cwd=self.dir)
                self.assertRefused(result, 64, message)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)

    def test_invalid_topics(self):
        for args, message in [(["--topic", "a b"], "contains a space"), (["--topic", ".."], "not allowed by Kafka"),
                              (["--topic", "t" * 250], "at most 249"),
                              (["--topic", "ok", "--output-topic", "bad/out"], "contains '/'"),
                              (["--topic", "ok", "--output-topic", "ok"], "consume its own output"),
                              (["--topic", "ok", "--dlq-topic", "ok"], "dead letters need a topic"),
                              (["--topic", "ok", "--group", "g g"], "--group \"g g\" contains a space")]:
            with self.subTest(args=args):
                self.assertRefused(run("good", *args, cwd=self.dir), 64, message)

    def test_every_problem_on_its_own_line(self):
        result = run("Bad", "--topic", "a b", "--pattern", "transform", cwd=self.dir)
        self.assertRefused(result, 64, "name \"Bad\"")
        self.assertGreaterEqual(len(result.stderr.splitlines()), 3)

    def test_pattern_rules(self):
        self.assertRefused(run("k", "--topic", "a", "--pattern", "transform", cwd=self.dir), 64,
                           "--pattern transform produces messages: give --output-topic TOPIC")
        self.assertRefused(run("k", "--topic", "a", "--pattern", "nope", cwd=self.dir), 64,
                           "choose one of consumer, transform, enrichment, batch-sink")

    def test_bad_settings_and_outputs(self):
        for args, message in [
                (["--setting", "BATCH_SIZE"], "--setting 'BATCH_SIZE': expected NAME=TYPE[:DEFAULT[:DESCRIPTION]]"),
                (["--setting", "BATCH_SIZE=integer"], 'unknown type "integer"; expected string, int, double, bool, '
                                                      "duration, size, list, secret or enum(a|b|c)"),
                (["--setting", "BATCH_SIZE=int:many"], 'default "many" is not a valid int'),
                (["--setting", "POLL=duration:5"], 'default "5" is not a valid duration'),
                (["--setting", "MODE=enum(fast||safe):fast"], "has an empty choice"),
                (["--setting", "MODE=enum(fast|safe):slow"], "expected one of fast, safe"),
                (["--setting", "batch_size=int:1"], "expected a name of capital letters"),
                (["--setting", "KEY=secret:abc"], "a secret has no default"),
                (["--setting", "A=int:1", "--setting", "A=bool:true"], "--setting A is given twice"),
                (["--setting", "A=string::two\nlines"], "the description contains control character 0x0a"),
                (["--output", "intl"], "--output 'intl': expected NAME=TOPIC"),
                (["--output", "Intl=t"], "expected a name of small letters"),
                (["--output", "intl=bad topic"], "contains a space"),
                (["--output", "intl=orders"], "is also an input or dead-letter topic"),
                (["--output", "a-b=t1", "--output", "a_b=t2"], "both set KAFKA_OUTPUT_TOPIC_A_B")]:
            with self.subTest(args=args):
                result = run("k", "--topic", "orders", *args, cwd=self.dir)
                self.assertRefused(result, 64, message)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)

    def test_names_that_would_read_the_runtime_variables(self):
        for name in ("kafka-router", "kernel-router"):
            with self.subTest(name=name):
                result = run(name, "--topic", "orders", cwd=self.dir)
                self.assertRefused(result, 64, "KAFKA_* and KERNEL_* belong to the runtime")
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)

    def test_bad_description(self):
        self.assertRefused(run("k", "--topic", "a", "--description", "two\nlines", cwd=self.dir), 64,
                           "use one line of text")

    def test_missing_values_without_a_terminal(self):
        result = run(cwd=self.dir)
        self.assertRefused(result, 64, "missing NAME, --topic TOPIC")
        self.assertEqual(len(result.stderr.splitlines()), 1)

    def test_command_line_errors_are_64(self):
        for args in (["k", "--topic"], ["k", "--topic", "a", "--no-such-option"], ["a", "b", "--topic", "t"]):
            with self.subTest(args=args):
                result = run(*args, cwd=self.dir)
                self.assertEqual(result.returncode, 64, result.stderr)
                self.assertEqual(self.entries(), [])

    def test_non_empty_target(self):
        os.mkdir(os.path.join(self.dir, "taken"))
        with open(os.path.join(self.dir, "taken", "mine.txt"), "w") as f:
            f.write("keep")
        result = run("taken", "--topic", "a", cwd=self.dir)
        self.assertEqual(result.returncode, 73, result.stderr)
        self.assertIn("exists and is not empty", result.stderr)
        self.assertEqual(os.listdir(os.path.join(self.dir, "taken")), ["mine.txt"])
        self.assertEqual(self.entries(), ["taken"])

    def test_broken_template_directory(self):
        templates = os.path.join(self.home, "templates")
        os.mkdir(templates)
        with open(os.path.join(templates, "template.json"), "w") as f:
            json.dump({"name": "t", "version": "1", "patterns": [{"name": "consumer"}],
                       "files": [{"path": "../escape.txt"}]}, f)
        self.assertRefused(run("k", "--topic", "a", "--templates", templates, cwd=self.dir), 65,
                           "outside the repository")
        with open(os.path.join(templates, "template.json"), "w") as f:
            json.dump({"name": "t", "version": "1", "patterns": [{"name": "consumer"}],
                       "files": [{"path": "a.txt"}, {"path": "b.txt"}]}, f)
        with open(os.path.join(templates, "a.txt.mustache"), "w") as f:
            f.write("{{name}}\n")
        with open(os.path.join(templates, "b.txt.mustache"), "w") as f:
            f.write("{{#unclosed}}\n")
        self.assertRefused(run("k", "--topic", "a", "--templates", templates, cwd=self.dir), 65, "b.txt.mustache")


class AllOrNothing(Scratch):
    def file_count(self):
        result = run("k", "--topic", "a", "--dry-run", cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        return int(result.stdout.strip().splitlines()[-1].split()[0])

    def test_io_failure_on_the_last_file_leaves_nothing(self):
        last = self.file_count()
        for n in (1, last):
            with self.subTest(file=n):
                result = run("k", "--topic", "a", "--dir", "deep/er/k", cwd=self.dir,
                             env_extra={"NEW_KERNEL_TEST_FAIL_AT_FILE": str(n), "HOME": self.home})
                self.assertRefused(result, 74, "injected by NEW_KERNEL_TEST_FAIL_AT_FILE")

    def test_io_failure_in_the_base_store_leaves_no_base_directory(self):
        # The base copies follow the rendered files; the manifest comes last.
        sources = len(Record.render(self, "probe", cwd=os.path.join(self.dir, ".home"))["files"])
        for n in (sources + 1, sources + 2):
            with self.subTest(file=n):
                result = run("k", "--topic", "a", cwd=self.dir,
                             env_extra={"NEW_KERNEL_TEST_FAIL_AT_FILE": str(n), "HOME": self.home})
                self.assertRefused(result, 74, ".new-kernel/base/")
                self.assertFalse(os.path.exists(os.path.join(self.dir, "k", ".new-kernel", "base")))

    def test_sigint_while_writing_leaves_nothing(self):
        env = nh.environment(NEW_KERNEL_TEST_PAUSE_AT_FILE="5", HOME=self.home)
        process = subprocess.Popen([NEW_KERNEL, "k", "--topic", "a"], cwd=self.dir, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = process.stderr.readline()  # the hook says when it is halfway through file 5
        self.assertIn("paused while writing file 5", line)
        self.assertEqual(len(self.entries()), 1)  # the temporary sibling, half written
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 130, err)
        self.assertIn("interrupted; nothing was written", err)
        self.assertEqual(self.entries(), [])


class Success(Scratch):
    def test_generates_with_a_first_commit(self):
        result = run("orders-audit", "--topic", "orders", cwd=self.dir, env_extra={"HOME": self.home})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Created orders-audit (consumer: orders)", result.stdout)
        self.assertIn("./build/orders-audit --samples samples/input.jsonl", result.stdout)
        target = os.path.join(self.dir, "orders-audit")
        log = subprocess.run(["git", "-C", target, "log", "--format=%an <%ae>|%s"], capture_output=True, text=True,
                             env={"HOME": self.home, "PATH": os.environ["PATH"]})
        self.assertEqual(log.stdout.strip(), "new-kernel <new-kernel@localhost>|Generate orders-audit with new-kernel "
                         + run("--version", cwd=self.dir).stdout.split()[-1])
        status = subprocess.run(["git", "-C", target, "status", "--porcelain"], capture_output=True, text=True)
        self.assertEqual(status.stdout, "")
        with open(os.path.join(target, ".new-kernel", "manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["answers"]["pattern"], "consumer")
        self.assertEqual({f["path"] for f in manifest["files"]} | {".new-kernel/manifest.json", ".git"}
                         | {".new-kernel/base/" + f["sha256"] for f in manifest["files"]},
                         set(self._walk(target)))

    @staticmethod
    def _walk(root):
        for directory, dirs, names in os.walk(root):
            if ".git" in dirs:
                dirs.remove(".git")
                yield ".git"
            for name in names:
                yield os.path.relpath(os.path.join(directory, name), root)

    def test_dry_run_writes_nothing(self):
        result = run("k", "--topic", "a", "--output-topic", "b", "--dry-run", cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("src/", result.stdout)
        self.assertIn("handler.cpp", result.stdout)
        self.assertIn("dry run: nothing was written", result.stdout)
        self.assertEqual(self.entries(), [])

    def test_dry_run_lists_the_kernel_files_and_one_line_for_the_record(self):
        args = ["k", "--topic", "a", "--output-topic", "b", "--no-git"]
        result = run(*args, "--dry-run", cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        # The tree back into paths: four columns per level, directories end with "/".
        listed, stack = [], []
        for line in result.stdout.splitlines()[1:-1]:
            connector = max(line.find("├── "), line.find("└── "))
            self.assertGreaterEqual(connector, 0, line)
            depth = connector // 4
            name = line[connector + 4:].split("  (")[0]
            stack[depth:] = [name]
            listed.append("".join(stack))
        self.assertNotRegex(result.stdout, r"[0-9a-f]{64}", "base copies are listed one by one")
        record = [line for line in result.stdout.splitlines() if "── .new-kernel/" in line]
        self.assertEqual(len(record), 1, result.stdout)
        self.assertRegex(record[0], r"\.new-kernel/  \(manifest and \d+ base copies, [\d.]+ KiB\)$")
        # The same files as a real generation writes, .new-kernel/ as one line.
        self.assertEqual(run(*args, cwd=self.dir, env_extra={"HOME": self.home}).returncode, 0)
        written = {os.path.relpath(os.path.join(d, n), os.path.join(self.dir, "k"))
                   for d, _, names in os.walk(os.path.join(self.dir, "k")) for n in names}
        kernel_files = {path for path in written if not path.startswith(".new-kernel/")}
        self.assertEqual({path for path in listed if not path.endswith("/")}, kernel_files)
        self.assertIn(".new-kernel/", listed)
        self.assertFalse([path for path in listed if path.startswith(".new-kernel/") and path != ".new-kernel/"])
        # The summary counts every file written, the record's included.
        self.assertRegex(result.stdout.splitlines()[-1],
                         rf"^{len(written)} files: {len(kernel_files)} of the kernel, {len(written) - len(kernel_files)} "
                         r"in \.new-kernel/; [\d.]+ KiB \(dry run: nothing was written\)$")

    def test_list_patterns_version_help(self):
        patterns = run("--list-patterns", cwd=self.dir)
        self.assertEqual(patterns.returncode, 0)
        self.assertEqual([line.split()[0] for line in patterns.stdout.splitlines()], ["consumer", "transform", "enrichment",
                                                                                   "batch-sink"])
        version = run("--version", cwd=self.dir)
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout, r"^new-kernel \d+\.\d+\.\d+\n$")
        help_text = run("--help", cwd=self.dir)
        self.assertEqual(help_text.returncode, 0)
        self.assertIn("Examples:", help_text.stdout)
        self.assertEqual(self.entries(), [])

    def test_help_gives_the_build_command_against_the_installed_runtime(self):
        prefix = os.path.dirname(os.path.dirname(os.path.realpath(NEW_KERNEL)))
        help_text = run("--help", cwd=self.dir)
        self.assertEqual(help_text.returncode, 0, help_text.stderr)
        then = [line for line in help_text.stdout.splitlines() if line.startswith("Then:")]
        self.assertEqual(then, [f"Then: cd NAME && cmake -S . -B build -DCMAKE_PREFIX_PATH={prefix} && "
                                "cmake --build build -j && ./build/NAME --samples samples/input.jsonl"])
        # Away from the runtime it was installed with, it names what to give instead.
        with tempfile.TemporaryDirectory() as elsewhere:
            copy = os.path.join(elsewhere, "bin", "new-kernel")
            os.mkdir(os.path.dirname(copy))
            shutil.copy(NEW_KERNEL, copy)
            alone = subprocess.run([copy, "--help"], cwd=self.dir, capture_output=True, text=True, timeout=60)
        self.assertEqual(alone.returncode, 0, alone.stderr)
        self.assertIn("Then: cd NAME && cmake -S . -B build -DCMAKE_PREFIX_PATH=PREFIX && ", alone.stdout)
        self.assertIn("PREFIX: where the kernel runtime is installed", alone.stdout)
        self.assertEqual(self.entries(), [])

    def test_empty_target_directory_is_used(self):
        os.mkdir(os.path.join(self.dir, "k"))
        result = run("k", "--topic", "a", "--no-git", cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "k", "CMakeLists.txt")))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "k", ".git")))


class Record(Scratch):
    """.new-kernel/: the manifest and the base store, as written on disk."""

    @staticmethod
    def render(test, name, cwd, *extra):
        result = run(name, "--topic", "orders", "--output-topic", "out", "--pattern", "transform", *extra,
                     cwd=cwd, env_extra={"HOME": test.home})
        test.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(cwd, name, ".new-kernel", "manifest.json")) as f:
            return json.load(f)

    def test_hashes_match_the_files_and_their_base_copies(self):
        manifest = self.render(self, "k", self.dir)
        target = os.path.join(self.dir, "k")
        self.assertEqual(manifest["schema"], 1)
        self.assertEqual(manifest["generator"]["version"], run("--version", cwd=self.dir).stdout.split()[-1])
        self.assertTrue(manifest["template"]["version"])
        self.assertTrue(manifest["template"]["changes"])
        base = nh.files_under(os.path.join(target, ".new-kernel", "base"))
        for entry in manifest["files"]:
            with self.subTest(path=entry["path"]):
                self.assertEqual(set(entry), {"path", "template", "policy", "sha256"})
                with open(os.path.join(target, entry["path"]), "rb") as f:
                    written = f.read()
                self.assertEqual(hashlib.sha256(written).hexdigest(), entry["sha256"])
                self.assertEqual(base[entry["sha256"]], written)
        self.assertEqual(set(base), {e["sha256"] for e in manifest["files"]})  # each content once
        self.assertEqual([e["path"] for e in manifest["files"]], sorted(e["path"] for e in manifest["files"]))
        policies = {e["path"]: e["policy"] for e in manifest["files"]}
        self.assertEqual(policies["src/handler.cpp"], "user")
        self.assertEqual(policies["src/main.cpp"], "managed")

    def test_same_answers_give_byte_identical_records(self):
        # In two places, one after the other, with and without git: the record
        # depends on the answers and the template only.
        first = os.path.join(self.dir, "one")
        second = os.path.join(self.dir, "two")
        os.mkdir(first)
        os.mkdir(second)
        self.render(self, "k", first)
        self.render(self, "k", second, "--no-git")
        a = nh.files_under(os.path.join(first, "k", ".new-kernel"))
        b = nh.files_under(os.path.join(second, "k", ".new-kernel"))
        self.assertEqual(sorted(a), sorted(b))
        for path in a:
            self.assertEqual(a[path], b[path], path)
        manifest = a["manifest.json"].decode()
        self.assertTrue(manifest.endswith("}\n"))
        self.assertNotRegex(manifest, r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}")


class Prompts(Scratch):
    def converse(self, args, answers, env_extra=None):
        """Runs new-kernel on a pseudo-terminal, answering each prompt in turn."""
        return nh.converse([NEW_KERNEL, *args], answers, env=nh.environment(**(env_extra or {})), cwd=self.dir)

    def test_asks_for_missing_values_with_defaults(self):
        # An invalid name is asked again; an empty topic answer takes the default shown.
        code, transcript = self.converse(["--no-git"], ["Bad Name", "asked-kernel", "", "", "", "", "", "", ""])
        self.assertEqual(code, 0, transcript)
        self.assertIn("Kernel name", transcript)
        self.assertIn("contains", transcript)
        self.assertIn("Input topic(s), comma-separated [asked-kernel.input]:", transcript)
        with open(os.path.join(self.dir, "asked-kernel", ".new-kernel", "manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["answers"]["input_topics"], ["asked-kernel.input"])

    def test_asks_for_the_output_topic_a_pattern_needs(self):
        code, transcript = self.converse(["enr", "--topic", "a,b", "--pattern", "enrichment", "--no-git"],
                                         ["enr.out", "", "", "", "", ""])
        self.assertEqual(code, 0, transcript)
        self.assertIn("Output topic [enr.output]:", transcript)
        with open(os.path.join(self.dir, "enr", ".new-kernel", "manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["answers"]["output_topic"], "enr.out")
        self.assertEqual(manifest["answers"]["input_topics"], ["a", "b"])


class Conversation:
    """new-kernel on a pseudo-terminal, driven prompt by prompt: expect() waits (with a deadline)
    for a text after what was already seen; answer() types a line."""

    def __init__(self, test, args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(test.dir)
            os.execve(NEW_KERNEL, [NEW_KERNEL, *args], nh.environment(HOME=test.home))
        self.test = test
        self.transcript = ""
        self.seen = 0  # expect() looks after this position
        self.exit_code = None

    def _read(self, deadline):
        ready, _, _ = select.select([self.fd], [], [], max(0.0, min(0.2, deadline - time.monotonic())))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.transcript += chunk.decode(errors="replace").replace("\r\n", "\n")
        return bool(chunk)

    def expect(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while text not in self.transcript[self.seen:]:
            if time.monotonic() > deadline or not self._read(deadline):
                self.kill()
                self.test.fail(f"expected {text!r}; the terminal showed:\n{self.transcript}")
        self.seen = self.transcript.index(text, self.seen) + len(text)

    def answer(self, line):
        os.write(self.fd, line.encode() + b"\n")

    def end_of_input(self):
        os.write(self.fd, b"\x04")  # Ctrl-D at the start of a line: read() returns 0

    def finish(self, timeout=30):
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            if time.monotonic() > deadline:
                self.kill()
                self.test.fail(f"new-kernel did not exit; the terminal showed:\n{self.transcript}")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.exit_code = os.waitstatus_to_exitcode(status)
        return self.exit_code

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


class Interactive(Scratch):
    """Interactive generation: every question the template has, each with its default."""

    def flag_message(self, *args):
        """The one-line message the command line gives for the same value."""
        result = run(*args, cwd=self.home)
        self.assertEqual(result.returncode, 64, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        return lines[0].removeprefix("new-kernel: ")

    def manifest(self, name):
        with open(os.path.join(self.dir, name, ".new-kernel", "manifest.json")) as f:
            return json.load(f)["answers"]

    def test_asks_every_question_in_order_explaining_bad_answers(self):
        bad_name = self.flag_message("Bad Name", "--topic", "a")
        own_output = self.flag_message("k", "--topic", "orders,returns", "--output-topic", "orders")
        talk = Conversation(self, ["--no-git"])
        talk.expect("Kernel name (lowercase letters, digits, dashes): ")
        talk.answer("Bad Name")
        talk.expect("  " + bad_name + "\nKernel name (lowercase letters, digits, dashes): ")
        talk.answer("orders-router")
        talk.expect("Pattern (consumer, transform, enrichment, batch-sink) [consumer]: ")
        talk.answer("transform")
        talk.expect("Input topic(s), comma-separated [orders-router.input]: ")
        talk.answer("orders, returns")
        talk.expect("Output topic [orders-router.output]: ")
        talk.answer("orders")
        talk.expect("  " + own_output + "\nOutput topic [orders-router.output]: ")
        talk.answer("")
        talk.expect("Description (one sentence) [A transform kernel from orders, returns to orders-router.output.]: ")
        talk.answer("")
        talk.expect("Dead-letter topic [orders-router.dlq]: ")
        talk.answer("router-failures")
        talk.expect("Consumer group [orders-router]: ")
        talk.answer("")
        settings_prompt = "Settings of the kernel, NAME=TYPE[:DEFAULT[:DESCRIPTION]] separated by ';' (none: empty): "
        bad_setting = self.flag_message("k", "--topic", "a", "--setting", "BATCH=integer:1")
        talk.expect(settings_prompt)
        talk.answer("BATCH=integer:1")
        talk.expect("  " + bad_setting + "\n" + settings_prompt)
        talk.answer("BATCH=int:1:rows per batch; TOKEN=secret::ledger token")
        talk.expect("Named outputs, NAME=TOPIC comma-separated (none: empty): ")
        talk.answer("audit=orders.audit")
        self.assertEqual(talk.finish(), 0, talk.transcript)
        self.assertIn("Created orders-router (transform: orders, returns -> orders-router.output)", talk.transcript)
        self.assertEqual(self.manifest("orders-router"), {
            "name": "orders-router", "pattern": "transform", "input_topics": ["orders", "returns"],
            "output_topic": "orders-router.output",
            "description": "A transform kernel from orders, returns to orders-router.output.",
            "dlq_topic": "router-failures", "consumer_group": "orders-router",
            "settings": ["BATCH=int:1:rows per batch", "TOKEN=secret::ledger token"],
            "outputs": ["audit=orders.audit"]})

    def test_a_consumer_is_not_asked_for_an_output_topic(self):
        talk = Conversation(self, ["--no-git"])
        for prompt, answer in [("Kernel name", "audit"), ("Pattern", ""), ("Input topic(s)", "payments"),
                               ("Description (one sentence) [A consumer kernel on payments.]: ", "Counts payments."),
                               ("Dead-letter topic", ""), ("Consumer group", "auditors"), ("Settings", ""),
                               ("Named outputs", "")]:
            talk.expect(prompt)
            talk.answer(answer)
        self.assertEqual(talk.finish(), 0, talk.transcript)
        self.assertNotIn("Output topic", talk.transcript)
        answers = self.manifest("audit")
        self.assertEqual((answers["pattern"], answers["output_topic"], answers["description"],
                          answers["dlq_topic"], answers["consumer_group"]),
                         ("consumer", None, "Counts payments.", "audit.dlq", "auditors"))

    def test_a_batch_sink_is_chosen_at_the_prompt_and_not_asked_for_an_output_topic(self):
        talk = Conversation(self, ["--no-git"])
        for prompt, answer in [("Kernel name", "order-sink"), ("Pattern", "batch-sink"), ("Input topic(s)", "orders"),
                               ("Description (one sentence) [A batch-sink kernel on orders.]: ", ""),
                               ("Dead-letter topic", ""), ("Consumer group", ""), ("Settings", ""),
                               ("Named outputs", "")]:
            talk.expect(prompt)
            talk.answer(answer)
        self.assertEqual(talk.finish(), 0, talk.transcript)
        self.assertNotIn("Output topic", talk.transcript)
        self.assertIn("Created order-sink (batch-sink: orders)", talk.transcript)
        self.assertEqual(self.manifest("order-sink")["pattern"], "batch-sink")
        with open(os.path.join(self.dir, "order-sink", "src", "kernel_spec.cpp")) as f:
            spec_cpp = f.read()
        self.assertIn("spec.batch_handler = order_sink::handle_batch;", spec_cpp)
        self.assertNotIn("spec.handler", spec_cpp)

    def test_flags_given_are_not_asked(self):
        talk = Conversation(self, ["--topic", "orders", "--dlq-topic", "parked", "--pattern", "consumer", "--no-git"])
        for prompt, answer in [("Kernel name", "k"), ("Description", ""), ("Consumer group [k]: ", ""),
                               ("Settings", ""), ("Named outputs", "")]:
            talk.expect(prompt)
            talk.answer(answer)
        self.assertEqual(talk.finish(), 0, talk.transcript)
        for asked in ("Pattern", "Input topic", "Output topic", "Dead-letter topic"):
            self.assertNotIn(asked, talk.transcript)
        self.assertEqual(self.manifest("k")["dlq_topic"], "parked")

    def test_nothing_is_asked_when_the_command_line_is_complete(self):
        talk = Conversation(self, ["k", "--topic", "orders", "--no-git"])
        self.assertEqual(talk.finish(), 0, talk.transcript)
        self.assertNotIn("]: ", talk.transcript)
        self.assertEqual(self.manifest("k")["consumer_group"], "k")

    def test_end_of_input_aborts_and_writes_nothing(self):
        for answered in (0, 3):  # at the first question, and after a few answers
            with self.subTest(answered=answered):
                talk = Conversation(self, [])
                prompts = ["Kernel name", "Pattern", "Input topic(s)", "Description"]
                for prompt, answer in zip(prompts, ["eof", "", "orders"][:answered]):
                    talk.expect(prompt)
                    talk.answer(answer)
                talk.expect(prompts[answered])
                talk.end_of_input()
                talk.expect("new-kernel: no answer (end of input): nothing was written")
                self.assertEqual(talk.finish(), 64, talk.transcript)
                self.assertEqual(self.entries(), [])


class GeneratedText(Scratch):
    """Generated files read as written by hand, whatever the answers: no trailing spaces, no
    runs of blank lines, and no value substituted in the middle of a wrapped paragraph or
    comment (its length would make that line ragged against the others)."""

    NAME = "long-" + "x" * 58  # 63 characters, the longest name
    TOPICS = ["in.first-" + "y" * 50, "in.second-" + "y" * 50]
    OUTPUT = "out." + "z" * 56
    DLQ = "parked." + "d" * 50
    GROUP = "group-" + "g" * 50

    def render(self, pattern):
        args = [self.NAME, "--topic", ",".join(self.TOPICS), "--dlq-topic", self.DLQ, "--group", self.GROUP,
                "--pattern", pattern, "--no-git", "--dir", pattern]
        if pattern not in ("consumer", "batch-sink"):
            args += ["--output-topic", self.OUTPUT]
        result = run(*args, cwd=self.dir, env_extra={"HOME": self.home})
        self.assertEqual(result.returncode, 0, result.stderr)
        root = os.path.join(self.dir, pattern)
        for directory, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d != ".new-kernel"]
            for name in names:
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as f:
                    yield os.path.relpath(path, root), f.read()

    def values(self):
        identifier = self.NAME.replace("-", "_")
        return [self.NAME, identifier, identifier.upper(), *self.TOPICS, self.OUTPUT, self.DLQ, self.GROUP]

    @staticmethod
    def wrapped_units(path, text):
        """Groups of lines that a writer wraps as one: Markdown paragraphs and list items, runs
        of comment lines. Tables, headings, code and commands in comments stand alone."""
        markdown = path.endswith(".md")
        units, current, in_code = [], [], False
        for line in text.split("\n"):
            stripped = line.strip()
            if markdown and stripped.startswith("```"):
                in_code = not in_code
                units.append(current)
                current = []
                continue
            if markdown:
                prose = not in_code and stripped and not stripped.startswith(("|", "#"))
                starts_unit = stripped.startswith(("- ", "* ")) or re.match(r"\d+\. ", stripped)
            else:
                marker = "//" if path.endswith((".cpp", ".hpp")) else "#"
                comment = re.match(rf"^\s*{marker}( ?)(.*)$", line)
                body = comment.group(2) if comment else ""
                # Commands and examples in comments are indented by two or more spaces.
                prose = comment and body and not body.startswith("  ") and not body.startswith(("-", "yamllint"))
                starts_unit = False
            if not prose or starts_unit:
                units.append(current)
                current = []
            if prose:
                current.append(line)
        units.append(current)
        return [unit for unit in units if len(unit) > 1]

    def test_no_ragged_lines(self):
        for pattern in ("consumer", "transform", "enrichment", "batch-sink"):
            for path, text in self.render(pattern):
                with self.subTest(pattern=pattern, path=path):
                    self.assertTrue(text.endswith("\n") and not text.endswith("\n\n"), "one newline at the end")
                    lines = text.split("\n")[:-1]
                    self.assertFalse([n + 1 for n, line in enumerate(lines) if line != line.rstrip()],
                                     "trailing whitespace on these lines")
                    self.assertFalse([n + 1 for n in range(1, len(lines)) if not lines[n].strip()
                                      and not lines[n - 1].strip()], "blank lines in a row")
                    self.assertNotEqual(lines[0].strip(), "", "a blank first line")
                    for unit in self.wrapped_units(path, text):
                        for line in unit[:-1]:
                            found = [v for v in self.values() if v in line]
                            self.assertFalse(found, f"a value inside a wrapped paragraph:\n" + "\n".join(unit))

    def test_the_build_file_states_its_warnings_and_finds_the_runtime_once(self):
        files = dict(self.render("transform"))
        build = files["CMakeLists.txt"]
        self.assertEqual(build.count("-Wall"), 1, build)
        self.assertEqual(build.count("find_package(kernel_runtime"), 1, build)
        self.assertIn("(the new-kernel runtime) was not found", build)

    def test_samples_and_message_spec_describe_the_kernel(self):
        # An "orders" kernel gets orders samples: the pattern's example events (an account and
        # an amount, which its handler reads) on its own topic, and its docs say so.
        for pattern in ("consumer", "transform", "enrichment", "batch-sink"):
            with self.subTest(pattern=pattern):
                args = ["orders-router", "--topic", "orders,returns", "--pattern", pattern, "--no-git",
                        "--dir", pattern]
                if pattern not in ("consumer", "batch-sink"):
                    args += ["--output-topic", "orders.routed"]
                result = run(*args, cwd=self.dir, env_extra={"HOME": self.home})
                self.assertEqual(result.returncode, 0, result.stderr)
                root = os.path.join(self.dir, pattern)
                for directory, _, names in os.walk(root):
                    for name in names:
                        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
                            self.assertNotIn("payment", f.read().lower(), os.path.join(directory, name))
                with open(os.path.join(root, "samples", "input.jsonl")) as f:
                    samples = [json.loads(line) for line in f]
                self.assertEqual({s.get("headers", {}).get("event-type") for s in samples}, {"orders.received", None})
                with open(os.path.join(root, "docs", "message-spec.md")) as f:
                    spec = f.read()
                self.assertIn(f"the example of the {pattern} pattern", spec)
                self.assertIn("`samples/input.jsonl`", spec)


def main():
    global NEW_KERNEL
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-kernel", required=True)
    args, rest = parser.parse_known_args()
    NEW_KERNEL = os.path.abspath(args.new_kernel)
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
