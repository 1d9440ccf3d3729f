#!/usr/bin/env python3
"""The README's shell commands work as written for someone who ran scripts/quickstart.sh: the
tools are named by a path that exists (or after the line that puts .prefix/bin on PATH),
kernel-admin is told where the brokers are, and every group, topic and file a command names is
one the quickstart's demo kernel has. The demo kernel is generated here with the quickstart's
own new-kernel arguments, so the names are the generator's, not a copy of them.

    readme_test.py --new-kernel PREFIX/bin/new-kernel --source CHECKOUT
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest

NEW_KERNEL = None
SOURCE = None
TOOLS = ("new-kernel", "kernel-admin", "kernel-dev-broker")


def quickstart_arguments():
    """new-kernel's arguments in scripts/quickstart.sh, without --dir and --no-git, and the
    installation prefix relative to the checkout."""
    with open(os.path.join(SOURCE, "scripts", "quickstart.sh")) as f:
        script = f.read().replace("\\\n", " ")
    prefix = re.search(r'^prefix="\$top/([^"]+)"$', script, re.M).group(1)
    line = next(line for line in script.splitlines() if line.startswith('"$prefix/bin/new-kernel"'))
    words = shlex.split(line)[1:]
    arguments = []
    while words:
        word = words.pop(0)
        if word == "--dir":
            words.pop(0)
        elif word != "--no-git":
            arguments.append(word)
    return arguments, prefix


def shell_blocks(markdown):
    """Each ```sh block of the README as a list of commands (continuations joined, comments
    dropped, `&&`, `;` and `|` separating commands), each a list of words."""
    blocks = []
    for block in re.findall(r"^```sh\n(.*?)^```", markdown, re.M | re.S):
        commands = []
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            command = []
            for word in words + [";"]:
                if word in ("&&", ";", "|", "||"):
                    if command:
                        commands.append(command)
                    command = []
                else:
                    command.append(word)
        blocks.append(commands)
    return blocks


class ReadmeCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._scratch = tempfile.TemporaryDirectory()
        arguments, cls.prefix = quickstart_arguments()
        cls.kernel = os.path.join(cls._scratch.name, "demo")
        result = subprocess.run([NEW_KERNEL, *arguments, "--dir", cls.kernel, "--no-git"], capture_output=True,
                                text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        with open(os.path.join(cls.kernel, ".new-kernel", "manifest.json")) as f:
            cls.answers = json.load(f)["answers"]
        cls.topics = {*cls.answers["input_topics"], cls.answers["output_topic"], cls.answers["dlq_topic"]}
        # The tools the quickstart installs, where it installs them.
        cls.installed = set(os.listdir(os.path.dirname(NEW_KERNEL)))
        with open(os.path.join(SOURCE, "README.md")) as f:
            cls.blocks = shell_blocks(f.read())

    @classmethod
    def tearDownClass(cls):
        cls._scratch.cleanup()

    def commands(self):
        """(command, what the lines before it in the README set up) for every command."""
        prefix_set = False
        for commands in self.blocks:
            path_set = bootstrap_set = in_kernel = False
            for command in commands:
                words = list(command)
                inline = {}
                while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=value command
                    name, value = words.pop(0).split("=", 1)
                    inline[name] = value
                if not words:
                    continue
                if words[0] == "export":
                    for assignment in words[1:]:
                        name, value = assignment.split("=", 1)
                        path_set |= name == "PATH" and f"/{self.prefix}/bin:" in value
                        bootstrap_set |= name == "KAFKA_BOOTSTRAP_SERVERS"
                    continue
                if re.match(r"^prefix=", words[0]):
                    prefix_set = True
                    continue
                if words[0] == "cd" and len(words) > 1:
                    in_kernel = os.path.basename(words[1]) == self.answers["name"]
                    continue
                yield words, {"prefix": prefix_set, "path": path_set, "in_kernel": in_kernel,
                              "bootstrap": bootstrap_set or "KAFKA_BOOTSTRAP_SERVERS" in inline}

    def tool_of(self, program, context):
        """The tool a program word names, checked to be reachable as written; None for others."""
        tool = os.path.basename(program)
        if tool not in TOOLS:
            return None
        self.assertIn(tool, self.installed, "the quickstart installs no such tool")
        if program == tool:
            self.assertTrue(context["path"], f"{tool} is not on PATH: name it by its path ({self.prefix}/bin/{tool}) "
                                             f"or export PATH=$PWD/{self.prefix}/bin:$PATH before it")
        elif program.startswith("$prefix/"):
            self.assertTrue(context["prefix"], f"{program}: $prefix is never set before it")
            self.assertEqual(program, f"$prefix/bin/{tool}")
        else:
            self.assertIn(program, (f"{self.prefix}/bin/{tool}", f"./{self.prefix}/bin/{tool}",
                                    f"$PWD/{self.prefix}/bin/{tool}"))
        return tool

    def check_file(self, path, context):
        """A file a command reads: in the demo kernel, from its directory or from the checkout."""
        demo = f"demo/{self.answers['name']}/"
        if path.startswith(demo):
            path = path[len(demo):]
        else:
            self.assertTrue(context["in_kernel"], f"{path}: relative to what? cd into the kernel first")
        self.assertTrue(os.path.isfile(os.path.join(self.kernel, path)), f"the demo kernel has no {path}")

    def check_kernel_admin(self, words, context):
        self.assertTrue(context["bootstrap"], f"{shlex.join(words)}: KAFKA_BOOTSTRAP_SERVERS is never set before it")
        arguments = [w for w in words[1:] if w != "--json"]
        command = arguments[0]
        options = dict(zip(arguments, arguments[1:]))  # each word and the one after it
        group, dlq = self.answers["consumer_group"], self.answers["dlq_topic"]
        if command == "lag":
            self.assertEqual(arguments[1], group, "lag takes the kernel's consumer group")
        elif command == "reset-offsets":
            self.assertEqual(arguments[1], group, "reset-offsets takes the kernel's consumer group")
            self.assertIn(options["--topic"], self.answers["input_topics"])
        elif command == "topic-stats":
            self.assertIn(arguments[1], self.topics)
        elif command == "dlq":
            self.assertEqual(arguments[2], dlq, f"dlq {arguments[1]} reads the demo kernel's dead-letter topic")
            if "--to" in options:
                self.assertIn(options["--to"], self.topics)
        elif command in ("pause", "resume"):
            self.assertEqual(options["--kernel"], self.answers["name"], f"{command} takes the kernel's name")
        else:
            self.fail(f"kernel-admin has no command {command}")

    def check_dev_broker(self, words, context):
        for option, value in zip(words[1:], words[2:]):
            if option in ("--topic", "--tail"):
                self.assertIn(value, self.topics, f"{option} {value}: not a topic of the demo kernel")
            elif option == "--seed":
                topic, path = value.split("=", 1)
                self.assertIn(topic, self.topics)
                self.check_file(path, context)

    def test_every_tool_command_works_as_written_with_the_quickstarts_names(self):
        checked = set()
        for words, context in self.commands():
            with self.subTest(command=shlex.join(words)):
                tool = self.tool_of(words[0], context)
                if tool == "kernel-admin":
                    self.check_kernel_admin(words, context)
                elif tool == "kernel-dev-broker":
                    self.check_dev_broker(words, context)
                elif tool == "new-kernel" and words[1:2] and words[1] not in ("upgrade", "check", "diff"):
                    self.assertEqual(words[1], self.answers["name"], "the README's kernel is the quickstart's")
                elif words[0].startswith("./build/"):
                    self.assertEqual(words[0], f"./build/{self.answers['name']}")
                    self.assertTrue(context["in_kernel"], "./build/...: cd into the kernel first")
                    if "--samples" in words:
                        self.check_file(words[words.index("--samples") + 1], context)
                checked.add(tool)
        self.assertTrue({"new-kernel", "kernel-admin", "kernel-dev-broker"} <= checked, checked)


def main():
    global NEW_KERNEL, SOURCE
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-kernel", required=True)
    parser.add_argument("--source", required=True)
    args, rest = parser.parse_known_args()
    NEW_KERNEL = os.path.abspath(args.new_kernel)
    SOURCE = os.path.abspath(args.source)
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
