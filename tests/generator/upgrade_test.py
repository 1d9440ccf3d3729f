#!/usr/bin/env python3
"""new-kernel upgrade, check and diff, as installed. Each scenario generates a kernel from a
copy of templates/kernel, changes that copy as a template release would (a new version and
change note in template.json, edited, renamed, added or removed files), then upgrades the
kernel with --templates COPY and checks every byte on disk.

    upgrade_test.py --new-kernel PREFIX/bin/new-kernel --templates templates/kernel
"""
import argparse
import json
import os
import signal
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import new_kernel_harness as nh  # noqa: E402

NEW_KERNEL = None
TEMPLATES = None


def run(*args, cwd, env_extra=None):
    return subprocess.run([NEW_KERNEL, *args], cwd=cwd, env=nh.environment(**(env_extra or {})),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def snapshot(root):
    """Every file under root (.git aside): its bytes and permission bits."""
    return nh.files_under(root, with_modes=True)


class Scenario(unittest.TestCase):
    """A kernel `k` generated from a copy of the templates, in a scratch directory."""

    GIT = False

    def setUp(self):
        self._scratch = tempfile.TemporaryDirectory()
        self.scratch = self._scratch.name
        self.home = os.path.join(self.scratch, "home")
        os.mkdir(self.home)
        self.templates = os.path.join(self.scratch, "templates")
        shutil.copytree(TEMPLATES, self.templates)
        self.prepare_templates()
        self.kernel = os.path.join(self.scratch, "k")
        result = run("k", "--topic", "orders", "--output-topic", "orders.out", "--templates", self.templates,
                     *([] if self.GIT else ["--no-git"]), cwd=self.scratch, env_extra={"HOME": self.home})
        self.assertEqual(result.returncode, 0, result.stderr)

    def tearDown(self):
        self._scratch.cleanup()

    def prepare_templates(self):
        """Changes to the copy before generation (a file the release then changes)."""

    # -- a template release, made on the copy --------------------------------------------
    def manifest(self):
        with open(os.path.join(self.templates, "template.json")) as f:
            return json.load(f)

    def write_manifest(self, manifest):
        with open(os.path.join(self.templates, "template.json"), "w") as f:
            json.dump(manifest, f, indent=2)

    def release(self, changes="A release for the test."):
        manifest = self.manifest()
        manifest["version"] = "9.0.0"
        manifest["changes"] = changes
        self.write_manifest(manifest)

    def edit_template(self, path, old, new):
        full = os.path.join(self.templates, path + ".mustache")
        with open(full) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(full, "w") as f:
            f.write(text.replace(old, new, 1))

    def rename_template_file(self, path, new_path):
        """A release that moves a file: same template id, new path."""
        os.rename(os.path.join(self.templates, path + ".mustache"), os.path.join(self.templates, new_path + ".mustache"))
        manifest = self.manifest()
        for entry in manifest["files"]:
            if entry["path"] == path:
                entry["path"], entry["id"] = new_path, path
        self.write_manifest(manifest)

    def add_template_file(self, path, content, **entry):
        full = os.path.join(self.templates, path + ".mustache")
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        manifest = self.manifest()
        manifest["files"].append({"path": path, "language": "plain", "policy": "managed", **entry})
        self.write_manifest(manifest)

    # -- the kernel ---------------------------------------------------------------------
    def path(self, relative):
        return os.path.join(self.kernel, relative)

    def read(self, relative):
        with open(self.path(relative)) as f:
            return f.read()

    def edit(self, relative, old, new):
        text = self.read(relative)
        self.assertIn(old, text)
        with open(self.path(relative), "w") as f:
            f.write(text.replace(old, new, 1))

    def upgrade(self, *args, code=0, env_extra=None):
        result = run("upgrade", self.kernel, "--templates", self.templates, *args, cwd=self.scratch,
                     env_extra={"HOME": self.home, **(env_extra or {})})
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        return result

    def check(self, code):
        result = run("check", self.kernel, "--templates", self.templates, cwd=self.scratch)
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        self.assertEqual(len((result.stdout + result.stderr).splitlines()), 1, result.stdout + result.stderr)
        return result.stdout + result.stderr

    def line(self, output, action, path):
        """The dry-run or upgrade line for `path`."""
        lines = [l for l in output.splitlines() if l.split(" ", 1)[0] == action.split(" ")[0] and path in l]
        self.assertTrue(lines, f"no '{action} {path}' line in:\n{output}")
        self.assertTrue(lines[0].startswith(action), lines[0])
        return lines[0]


class TemplateOnlyChange(Scenario):
    def test_the_new_render_is_written_and_check_says_so_before_and_after(self):
        self.assertIn("up to date with template kernel", self.check(0))
        self.edit_template(".gitignore", "# Editors\n", "# Editors and tools\n")
        self.release("Names the tools in .gitignore.")
        message = self.check(1)
        self.assertIn(".gitignore", message)
        self.assertIn("-> kernel 9.0.0", message)
        result = self.upgrade()
        self.assertIn("-> kernel 9.0.0: Names the tools in .gitignore.", result.stdout)
        self.line(result.stdout, "update", ".gitignore")
        self.assertIn("# Editors and tools\n", self.read(".gitignore"))
        self.check(0)
        with open(self.path(".new-kernel/manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["template"]["version"], "9.0.0")
        self.assertEqual(manifest["template"]["changes"], "Names the tools in .gitignore.")

    def test_find_package_moves_with_the_templates(self):
        # The runtime version a kernel asks for is carried by the templates.
        self.edit_template("CMakeLists.txt", "find_package(kernel_runtime {{{runtime_version}}} QUIET)",
                           "find_package(kernel_runtime 7.3 QUIET)")
        self.release()
        self.upgrade()
        self.assertIn("find_package(kernel_runtime 7.3 QUIET)", self.read("CMakeLists.txt"))


class UserOnlyChange(Scenario):
    def test_the_edit_is_kept_and_nothing_else_changes(self):
        self.edit("Dockerfile", "WORKDIR /src\n", "WORKDIR /source\n")
        before = snapshot(self.kernel)
        self.check(0)  # edits are the team's: not an upgrade
        self.release()  # a version alone changes no file
        self.check(0)
        result = self.upgrade()
        self.assertNotIn("update", result.stdout)
        after = snapshot(self.kernel)
        self.assertEqual({p: v for p, v in after.items() if not p.startswith(".new-kernel")},
                         {p: v for p, v in before.items() if not p.startswith(".new-kernel")})
        diff = run("diff", self.kernel, cwd=self.scratch)
        self.assertEqual(diff.returncode, 0, diff.stderr)
        self.assertIn("-WORKDIR /src\n+WORKDIR /source\n", diff.stdout)
        self.assertIn("--- a/Dockerfile", diff.stdout)


class CleanMerge(Scenario):
    def test_both_change_different_lines(self):
        self.edit(".gitignore", "/build/\n", "/build/\n/out/\n")
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.release()
        result = self.upgrade("--diff")
        self.line(result.stdout, "merge", ".gitignore")
        self.assertIn("+*.swo", result.stdout)  # --diff shows what changes on disk
        text = self.read(".gitignore")
        self.assertIn("/out/\n", text)
        self.assertIn("*.swo\n", text)
        self.check(0)


class Conflict(Scenario):
    def test_same_line_gets_markers_exit_1_and_check_fails_until_resolved(self):
        self.edit(".gitignore", ".idea/\n", ".idea/*\n")
        self.edit_template(".gitignore", ".idea/\n", ".fleet/\n")
        self.release()
        result = self.upgrade(code=1)
        self.line(result.stdout, "CONFLICT", ".gitignore")
        text = self.read(".gitignore")
        self.assertIn("<<<<<<< yours (template kernel ", text)
        self.assertIn(".idea/*\n=======\n.fleet/\n>>>>>>> template kernel 9.0.0\n", text)
        message = self.check(2)
        self.assertIn(".gitignore", message)
        with open(self.path(".gitignore"), "w") as f:
            f.write(text.split("<<<<<<<")[0] + ".idea/*\n.fleet/\n" + text.split(">>>>>>> template kernel 9.0.0\n")[1])
        self.check(0)
        self.upgrade()  # resolved: nothing left to merge


class UserDeletedAChangedFile(Scenario):
    def test_it_stays_deleted_and_the_upgrade_says_so(self):
        os.remove(self.path("Dockerfile"))
        self.edit_template("Dockerfile", "WORKDIR /src\n", "WORKDIR /workspace\n")
        self.release()
        result = self.upgrade("--dry-run")
        self.line(result.stdout, "kept deleted", "Dockerfile")
        result = self.upgrade()
        self.assertIn("notice: Dockerfile: deleted by you, changed by the template", result.stdout)
        self.assertFalse(os.path.exists(self.path("Dockerfile")))
        self.check(0)
        self.assertFalse(os.path.exists(self.path("Dockerfile")))


class TemplateRenamedAnEditedFile(Scenario):
    def test_the_file_moves_then_merges(self):
        self.edit("deploy/kubernetes.yaml", "  replicas: 1", "  replicas: 3")
        self.rename_template_file("deploy/kubernetes.yaml", "deploy/k8s.yaml")
        self.edit_template("deploy/k8s.yaml", "terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: 40")
        self.release()
        result = self.upgrade()
        self.line(result.stdout, "rename", "deploy/kubernetes.yaml -> deploy/k8s.yaml")
        self.assertFalse(os.path.exists(self.path("deploy/kubernetes.yaml")))
        text = self.read("deploy/k8s.yaml")
        self.assertIn("  replicas: 3\n", text)
        self.assertIn("terminationGracePeriodSeconds: 40\n", text)
        self.check(0)


class RenamedOntoADroppedFile(Scenario):
    def test_a_file_moves_where_a_dropped_one_was(self):
        self.edit(".gitignore", "/build/\n", "/build/\n/out/\n")
        os.replace(os.path.join(self.templates, ".gitignore.mustache"),
                   os.path.join(self.templates, ".dockerignore.mustache"))
        manifest = self.manifest()
        manifest["files"] = [f for f in manifest["files"] if f["path"] != ".dockerignore"]
        for entry in manifest["files"]:
            if entry["path"] == ".gitignore":
                entry["path"], entry["id"] = ".dockerignore", ".gitignore"
        self.write_manifest(manifest)
        self.release()
        result = self.upgrade()
        self.line(result.stdout, "delete", ".dockerignore")
        self.line(result.stdout, "rename", ".gitignore -> .dockerignore")
        self.assertFalse(os.path.exists(self.path(".gitignore")))
        self.assertIn("/out/\n", self.read(".dockerignore"))
        self.assertIn("*.swp\n", self.read(".dockerignore"))
        self.check(0)


class TemplateRemovedAFile(Scenario):
    def test_unedited_is_deleted_edited_is_kept(self):
        self.edit("CLAUDE.md", "\n", "\nOur own notes.\n")
        manifest = self.manifest()
        manifest["files"] = [f for f in manifest["files"] if f["path"] not in (".dockerignore", "CLAUDE.md")]
        self.write_manifest(manifest)
        self.release()
        result = self.upgrade()
        self.line(result.stdout, "delete", ".dockerignore")
        self.assertFalse(os.path.exists(self.path(".dockerignore")))
        self.assertIn("Our own notes.", self.read("CLAUDE.md"))
        self.assertIn("notice: CLAUDE.md: the template dropped this file", result.stdout)
        with open(self.path(".new-kernel/manifest.json")) as f:
            paths = [e["path"] for e in json.load(f)["files"]]
        self.assertNotIn(".dockerignore", paths)
        self.assertNotIn("CLAUDE.md", paths)
        self.check(0)


LOGO_V1 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR one"
LOGO_V2 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR two"


class BinaryFile(Scenario):
    def prepare_templates(self):
        self.add_template_file("assets/logo.png", LOGO_V1)

    def test_binary_is_never_merged(self):
        with open(self.path("assets/logo.png"), "rb") as f:
            self.assertEqual(f.read(), LOGO_V1)
        with open(self.path("assets/logo.png"), "wb") as f:
            f.write(LOGO_V1 + b"\x00ours")
        with open(os.path.join(self.templates, "assets", "logo.png.mustache"), "wb") as f:
            f.write(LOGO_V2)
        self.release()
        result = self.upgrade(code=1)
        self.line(result.stdout, "CONFLICT", "assets/logo.png")
        with open(self.path("assets/logo.png"), "rb") as f:
            self.assertEqual(f.read(), LOGO_V1 + b"\x00ours")
        with open(self.path("assets/logo.png.new"), "rb") as f:
            self.assertEqual(f.read(), LOGO_V2)
        self.assertIn("assets/logo.png.new", self.check(2))
        os.remove(self.path("assets/logo.png.new"))
        self.check(0)


class ExecutableBit(Scenario):
    def prepare_templates(self):
        self.add_template_file("scripts/run.sh", "#!/bin/sh\necho one\n", executable=True)
        self.add_template_file("scripts/other.sh", "#!/bin/sh\necho other\n", executable=True)

    def test_merged_apart_from_the_content(self):
        self.assertTrue(os.stat(self.path("scripts/run.sh")).st_mode & stat.S_IXUSR)
        os.chmod(self.path("scripts/run.sh"), 0o644)  # the team's choice
        self.edit_template("scripts/run.sh", "echo one", "echo two")
        manifest = self.manifest()
        for entry in manifest["files"]:
            if entry["path"] == "scripts/other.sh":
                entry["executable"] = False  # the template's choice
        self.write_manifest(manifest)
        self.release()
        self.upgrade()
        self.assertIn("echo two", self.read("scripts/run.sh"))
        self.assertFalse(os.stat(self.path("scripts/run.sh")).st_mode & stat.S_IXUSR)
        self.assertFalse(os.stat(self.path("scripts/other.sh")).st_mode & stat.S_IXUSR)
        self.check(0)


class AddedByBoth(Scenario):
    def test_merged_against_an_empty_base(self):
        with open(self.path(".clang-format"), "w") as f:
            f.write("BasedOnStyle: Google\n")
        with open(self.path(".editorconfig"), "w") as f:
            f.write("root = true\n")
        self.add_template_file(".clang-format", "BasedOnStyle: LLVM\n")
        self.add_template_file(".editorconfig", "root = true\n")
        self.add_template_file(".clang-tidy", "Checks: '-*'\n")
        self.release()
        result = self.upgrade(code=1)
        self.line(result.stdout, "CONFLICT", ".clang-format")
        self.line(result.stdout, "create", ".clang-tidy")
        self.assertIn("<<<<<<< yours", self.read(".clang-format"))
        self.assertEqual(self.read(".editorconfig"), "root = true\n")


class UserFileChangedByTheTemplate(Scenario):
    def test_left_alone_and_reported(self):
        self.edit("docs/message-spec.md", "\n", "\nOur schema.\n")
        before = self.read("docs/message-spec.md")
        handler_before = self.read("src/handler.cpp")
        with open(os.path.join(self.templates, "docs", "message-spec.md.mustache"), "a") as f:
            f.write("\nA new section from the template.\n")
        self.release()
        result = self.upgrade()
        self.assertIn("notice: docs/message-spec.md: yours (policy user), changed by the template", result.stdout)
        self.assertEqual(self.read("docs/message-spec.md"), before)
        self.assertEqual(self.read("src/handler.cpp"), handler_before)
        self.check(0)  # its base is the new render: nothing left to upgrade


class PolicyBecomesManaged(Scenario):
    def test_a_file_the_template_now_manages_is_merged(self):
        self.edit("docs/message-spec.md", "\n", "\nOur schema.\n")
        with open(os.path.join(self.templates, "docs", "message-spec.md.mustache"), "a") as f:
            f.write("\nA new section from the template.\n")
        manifest = self.manifest()
        for entry in manifest["files"]:
            if entry["path"] == "docs/message-spec.md":
                entry["policy"] = "managed"
        self.write_manifest(manifest)
        self.release()
        result = self.upgrade()
        self.line(result.stdout, "merge", "docs/message-spec.md")
        text = self.read("docs/message-spec.md")
        self.assertIn("Our schema.", text)
        self.assertIn("A new section from the template.", text)


class DiffWithoutChanges(Scenario):
    def test_diff_says_in_one_line_that_there_is_nothing_to_show(self):
        result = run("diff", self.kernel, cwd=self.scratch)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "")  # the patch is empty: `new-kernel diff > edits.patch` writes nothing
        self.assertEqual(result.stderr, "no edits since the kernel was last generated\n")
        template = run("diff", self.kernel, "--template", "Dockerfile", "--templates", self.templates,
                       cwd=self.scratch)
        self.assertEqual(template.returncode, 0, template.stderr)
        self.assertEqual(template.stdout, "")
        self.assertEqual(template.stderr, "the templates have not changed Dockerfile since it was last generated\n")
        # With an edit there is a diff to show, and nothing else.
        self.edit("Dockerfile", "WORKDIR /src\n", "WORKDIR /source\n")
        edited = run("diff", self.kernel, cwd=self.scratch)
        self.assertEqual(edited.returncode, 0, edited.stderr)
        self.assertIn("+WORKDIR /source\n", edited.stdout)
        self.assertEqual(edited.stderr, "")


class TemplateDiff(Scenario):
    def test_diff_template_shows_the_templates_change_to_one_file(self):
        with open(os.path.join(self.templates, "docs", "message-spec.md.mustache"), "a") as f:
            f.write("\nA new section from the template.\n")
        self.release()
        result = run("diff", self.kernel, "--template", "docs/message-spec.md", "--templates", self.templates,
                     cwd=self.scratch)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("+A new section from the template.", result.stdout)
        self.assertEqual(run("diff", self.kernel, cwd=self.scratch).stdout, "")  # no edits of the team's
        bad = run("diff", self.kernel, "--template", "nope.txt", cwd=self.scratch)
        self.assertEqual(bad.returncode, 64)
        self.assertIn("not a file of this kernel", bad.stderr)


class UpgradeTwice(Scenario):
    def test_the_second_upgrade_changes_no_byte(self):
        self.edit(".gitignore", "/build/\n", "/build/\n/out/\n")
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.edit_template("Dockerfile", "WORKDIR /src\n", "WORKDIR /workspace\n")
        self.release()
        self.upgrade()
        after_first = snapshot(self.kernel)
        result = self.upgrade()
        self.assertIn("nothing to do", result.stdout)
        self.assertEqual(snapshot(self.kernel), after_first)


class DryRun(Scenario):
    def test_writes_nothing_and_prints_a_line_per_file(self):
        self.edit_template("Dockerfile", "WORKDIR /src\n", "WORKDIR /workspace\n")
        self.add_template_file("NOTICE", "notice\n")
        self.release()
        before = snapshot(self.kernel)
        result = self.upgrade("--dry-run", "--diff")
        self.assertEqual(snapshot(self.kernel), before)
        self.line(result.stdout, "update", "Dockerfile")
        self.line(result.stdout, "create", "NOTICE")
        self.line(result.stdout, "unchanged", "src/main.cpp")
        self.assertIn("+WORKDIR /workspace", result.stdout)
        self.assertIn("nothing was written", result.stdout)


class FailureMidway(Scenario):
    def test_an_injected_io_error_leaves_the_tree_byte_for_byte(self):
        self.edit(".gitignore", "/build/\n", "/build/\n/out/\n")
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.edit_template("Dockerfile", "WORKDIR /src\n", "WORKDIR /workspace\n")
        self.add_template_file("NOTICE", "notice\n")
        manifest = self.manifest()
        manifest["files"] = [f for f in manifest["files"] if f["path"] != ".dockerignore"]
        self.write_manifest(manifest)
        self.release()
        before = snapshot(self.kernel)
        entries = sorted(os.listdir(self.kernel))
        for variable, n in [("NEW_KERNEL_TEST_FAIL_AT_FILE", 1), ("NEW_KERNEL_TEST_FAIL_AT_FILE", 3),
                            ("NEW_KERNEL_TEST_FAIL_AT_RENAME", 2), ("NEW_KERNEL_TEST_FAIL_AT_RENAME", 5)]:
            with self.subTest(variable=variable, n=n):
                result = self.upgrade(code=74, env_extra={variable: str(n)})
                self.assertIn(f"injected by {variable}={n}", result.stderr)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertEqual(snapshot(self.kernel), before)
                self.assertEqual(sorted(os.listdir(self.kernel)), entries)
        self.upgrade()
        self.assertNotEqual(snapshot(self.kernel), before)


class PreviousManifestFormat(Scenario):
    def to_previous_format(self, template_version=None):
        """Rewrites .new-kernel/ as a new-kernel before the base store wrote it."""
        with open(self.path(".new-kernel/manifest.json")) as f:
            manifest = json.load(f)
        old = {"generator": manifest["generator"],
               "template": {"name": manifest["template"]["name"],
                            "version": template_version or manifest["template"]["version"],
                            "source": manifest["template"]["source"]},
               "answers": manifest["answers"],
               "files": manifest["files"]}
        with open(self.path(".new-kernel/manifest.json"), "w") as f:
            json.dump(old, f, indent=2)
        shutil.rmtree(self.path(".new-kernel/base"))

    def test_unedited_files_take_the_new_render_edited_ones_merge(self):
        self.to_previous_format()
        self.edit(".gitignore", "/build/\n", "/build/\n/out/\n")
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.edit_template("Dockerfile", "WORKDIR /src\n", "WORKDIR /workspace\n")
        self.release()
        self.assertIn(".gitignore", self.check(1))
        result = self.upgrade()
        self.assertIn("migrating .new-kernel/manifest.json from the previous format", result.stdout)
        self.assertIn("Dockerfile: unedited since generated: takes the new render", result.stdout)
        self.assertIn(".gitignore: edited since generated: merged against template kernel", result.stdout)
        self.assertIn("WORKDIR /workspace", self.read("Dockerfile"))
        self.assertIn("/out/\n", self.read(".gitignore"))
        self.assertIn("*.swo\n", self.read(".gitignore"))
        with open(self.path(".new-kernel/manifest.json")) as f:
            self.assertEqual(json.load(f)["schema"], 1)
        self.check(0)

    def test_without_the_recorded_template_an_empty_base_marks_conflicts(self):
        # Generated from templates this new-kernel no longer carries: no base to merge against.
        self.to_previous_format(template_version="0.0.1")
        self.edit(".gitignore", "/build/\n", "/build/\n/out/\n")
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.release()
        result = self.upgrade(code=1)
        self.assertIn(".gitignore: edited since generated: template kernel 0.0.1 is not built into this "
                      "new-kernel: merged against an empty base", result.stdout)
        self.line(result.stdout, "CONFLICT", ".gitignore")
        self.assertIn("/out/\n", self.read(".gitignore"))
        self.assertIn("*.swo\n", self.read(".gitignore"))


class Refusals(Scenario):
    GIT = True

    def test_uncommitted_changes_to_managed_files_are_refused(self):
        self.edit("Dockerfile", "WORKDIR /src\n", "WORKDIR /source\n")
        with open(self.path("notes.txt"), "w") as f:  # not managed: does not count
            f.write("x\n")
        self.edit_template("Dockerfile", "# Only the shared", "# Only (and all) the shared")
        self.release()
        before = snapshot(self.kernel)
        result = self.upgrade(code=73)
        self.assertIn("uncommitted changes to Dockerfile: commit or stash them first (or pass --allow-dirty",
                      result.stderr)
        self.assertEqual(snapshot(self.kernel), before)
        self.upgrade("--allow-dirty")
        self.assertIn("WORKDIR /source", self.read("Dockerfile"))
        self.assertIn("# Only (and all) the shared", self.read("Dockerfile"))

    def test_not_a_kernel_is_66_in_one_line(self):
        for directory in (self.scratch, os.path.join(self.scratch, "nowhere")):
            for command in ("upgrade", "check", "diff"):
                with self.subTest(command=command, directory=directory):
                    result = run(command, directory, cwd=self.scratch)
                    self.assertEqual(result.returncode, 66, result.stderr)
                    self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        with open(self.path(".new-kernel/manifest.json"), "w") as f:
            f.write('{"schema": 1, "files": [{"path": "../../etc/passwd"}]}')
        result = run("check", self.kernel, cwd=self.scratch)
        self.assertEqual(result.returncode, 66, result.stderr)
        self.assertIn("is invalid", result.stderr)

    def test_a_template_that_cannot_render_is_65_and_changes_nothing(self):
        with open(os.path.join(self.templates, "Dockerfile.mustache"), "a") as f:
            f.write("{{#unclosed}}\n")
        self.release()
        before = snapshot(self.kernel)
        for command in ("upgrade", "check"):
            with self.subTest(command=command):
                result = run(command, self.kernel, "--templates", self.templates, cwd=self.scratch)
                self.assertEqual(result.returncode, 65, result.stdout + result.stderr)
                self.assertIn("Dockerfile.mustache", result.stderr)
        self.assertEqual(snapshot(self.kernel), before)

    def test_missing_answers_without_a_terminal_are_64_naming_them(self):
        with open(self.path(".new-kernel/manifest.json")) as f:
            manifest = json.load(f)
        del manifest["answers"]["input_topics"]
        del manifest["answers"]["dlq_topic"]  # has a default: never asked
        with open(self.path(".new-kernel/manifest.json"), "w") as f:
            json.dump(manifest, f)
        subprocess.run(["git", "-C", self.kernel, "commit", "-qam", "edit"], check=True,
                       env={"HOME": self.home, "PATH": os.environ["PATH"], "GIT_AUTHOR_NAME": "t",
                            "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
        result = self.upgrade(code=64)
        self.assertIn("no answer for input_topics", result.stderr)
        self.assertIn("--set input_topics=VALUE", result.stderr)
        self.upgrade("--set", "input_topics=orders")
        with open(self.path(".new-kernel/manifest.json")) as f:
            answers = json.load(f)["answers"]
        self.assertEqual(answers["input_topics"], ["orders"])
        self.assertEqual(answers["dlq_topic"], "k.dlq")
        self.upgrade("--set", "colour=red", code=64)


class Interrupted(Scenario):
    def test_sigint_while_staging_changes_nothing(self):
        self.edit_template("Dockerfile", "WORKDIR /src\n", "WORKDIR /workspace\n")
        self.release()
        before = snapshot(self.kernel)
        env = nh.environment(NEW_KERNEL_TEST_PAUSE_AT_FILE="1", HOME=self.home)
        process = subprocess.Popen([NEW_KERNEL, "upgrade", self.kernel, "--templates", self.templates],
                                   env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.assertIn("paused while writing file 1", process.stderr.readline())
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 130, err)
        self.assertEqual(snapshot(self.kernel), before)


class AnswersOnATerminal(Scenario):
    def test_a_missing_answer_is_asked(self):
        with open(self.path(".new-kernel/manifest.json")) as f:
            manifest = json.load(f)
        del manifest["answers"]["input_topics"]
        with open(self.path(".new-kernel/manifest.json"), "w") as f:
            json.dump(manifest, f)
        code, transcript = nh.converse([NEW_KERNEL, "upgrade", self.kernel, "--templates", self.templates],
                                       ["orders, refunds"])
        self.assertEqual(code, 0, transcript)
        self.assertIn("Input topic(s), comma-separated", transcript)
        with open(self.path(".new-kernel/manifest.json")) as f:
            self.assertEqual(json.load(f)["answers"]["input_topics"], ["orders", "refunds"])


class NoGitRepository(Scenario):
    def test_a_link_in_the_way_is_refused_naming_it(self):
        os.remove(self.path("Dockerfile"))
        os.symlink("/etc/hostname", self.path("Dockerfile"))
        result = self.upgrade(code=73)
        self.assertIn("Dockerfile is a symbolic link", result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1)


class InsideAnotherRepository(unittest.TestCase):
    def test_an_uncommitted_kernel_in_a_monorepo_is_refused_in_one_line(self):
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run(["git", "init", "-q", scratch], check=True)
            result = run("k", "--topic", "orders", cwd=scratch, env_extra={"HOME": scratch})
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertFalse(os.path.exists(os.path.join(scratch, "k", ".git")))
            result = run("upgrade", "k", cwd=scratch, env_extra={"HOME": scratch})
            self.assertEqual(result.returncode, 73, result.stderr)
            self.assertRegex(result.stderr, r"uncommitted changes to .* and \d+ more: commit or stash")
            self.assertEqual(len(result.stderr.splitlines()), 1)
            self.assertEqual(run("upgrade", "k", "--allow-dirty", cwd=scratch).returncode, 0)


def main():
    global NEW_KERNEL, TEMPLATES
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-kernel", required=True)
    parser.add_argument("--templates", required=True)
    args, rest = parser.parse_known_args()
    NEW_KERNEL = os.path.abspath(args.new_kernel)
    TEMPLATES = os.path.abspath(args.templates)
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
