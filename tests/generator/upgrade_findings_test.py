#!/usr/bin/env python3
"""Upgrade over months: what a team does to a kernel between upgrades (committed conflict
markers, a downgrade, a commit that misses new files, a kill mid-apply, large files, CRLF
editors, a newer manifest). Scenarios as in upgrade_test.py, on a copy of templates/kernel.

    upgrade_findings_test.py --new-kernel PREFIX/bin/new-kernel --templates templates/kernel
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import upgrade_test as ut  # noqa: E402
from upgrade_test import Scenario, run, snapshot  # noqa: E402


class CommittedMarkers(Scenario):
    def conflict(self):
        self.edit(".gitignore", ".idea/\n", ".idea/*\n")
        self.edit_template(".gitignore", ".idea/\n", ".fleet/\n")
        self.release()
        self.upgrade(code=1)

    def test_upgrade_refuses_while_markers_are_left(self):
        self.conflict()
        before = snapshot(self.kernel)
        result = self.upgrade(code=2)
        self.assertIn(".gitignore", result.stderr)
        self.assertIn("resolve", result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertNotIn("nothing to do", result.stdout)
        self.assertEqual(snapshot(self.kernel), before)

    def test_upgrade_refuses_while_a_new_file_is_left(self):
        with open(self.path("Dockerfile.new"), "w") as f:
            f.write("left over\n")
        result = self.upgrade(code=2)
        self.assertIn("Dockerfile.new", result.stderr)


class Downgrade(Scenario):
    def prepare_templates(self):
        # The kernel is generated from a newer release than the one upgrading it later.
        manifest = self.manifest()
        self.older_version = manifest["version"]
        manifest["version"] = "9.0.0"
        self.write_manifest(manifest)

    def older_templates(self):
        older = os.path.join(self.scratch, "older")
        shutil.copytree(ut.TEMPLATES, older)
        return older

    def test_upgrade_refuses_a_lower_template_version(self):
        before = snapshot(self.kernel)
        result = run("upgrade", self.kernel, "--templates", self.older_templates(), cwd=self.scratch)
        self.assertEqual(result.returncode, 73, result.stdout + result.stderr)
        self.assertIn("9.0.0", result.stderr)
        self.assertIn(self.older_version, result.stderr)
        self.assertIn("--allow-downgrade", result.stderr)
        self.assertEqual(snapshot(self.kernel), before)

    def test_check_says_the_kernel_is_newer(self):
        result = run("check", self.kernel, "--templates", self.older_templates(), cwd=self.scratch)
        self.assertEqual(result.returncode, 73, result.stdout + result.stderr)
        self.assertIn("kernel is newer than these templates", result.stdout + result.stderr)

    def test_allow_downgrade_forces_it(self):
        result = run("upgrade", self.kernel, "--templates", self.older_templates(), "--allow-downgrade",
                     cwd=self.scratch)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with open(self.path(".new-kernel/manifest.json")) as f:
            self.assertEqual(json.load(f)["template"]["version"], self.older_version)

    def test_the_source_is_recorded_and_another_one_warned_about(self):
        with open(self.path(".new-kernel/manifest.json")) as f:
            recorded = json.load(f)["template"]
        self.assertEqual(recorded["source"], "directory")
        self.assertEqual(recorded["path"], os.path.realpath(self.templates))
        other = os.path.join(self.scratch, "other")
        shutil.copytree(self.templates, other)
        result = run("upgrade", self.kernel, "--templates", other, cwd=self.scratch)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("warning:", result.stderr)
        self.assertIn(os.path.realpath(self.templates), result.stderr)


class MissingBaseCopy(Scenario):
    def test_check_fails_naming_the_file_whose_base_copy_is_missing(self):
        with open(self.path(".new-kernel/manifest.json")) as f:
            entry = next(e for e in json.load(f)["files"] if e["path"] == "Dockerfile")
        os.remove(self.path(".new-kernel/base/" + entry["sha256"]))
        result = run("check", self.kernel, "--templates", self.templates, cwd=self.scratch)
        self.assertEqual(result.returncode, 66, result.stdout + result.stderr)
        self.assertIn("Dockerfile", result.stdout + result.stderr)
        self.assertIn(".new-kernel/base/" + entry["sha256"], result.stdout + result.stderr)


class StagedInGit(Scenario):
    GIT = True

    def git(self, *args):
        identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t",
                    "GIT_COMMITTER_EMAIL": "t@localhost"}
        result = subprocess.run(["git", "-C", self.kernel, *args], capture_output=True, text=True,
                                env=dict(os.environ, HOME=self.home, **identity))
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def rename_release(self):
        self.rename_template_file("deploy/kubernetes.yaml", "deploy/k8s.yaml")
        self.add_template_file("docs/added.md", "# Added\n")
        self.release()

    def test_what_the_upgrade_wrote_is_staged_so_commit_am_keeps_it(self):
        self.rename_release()
        result = self.upgrade()
        self.assertIn("git commit", result.stdout)
        self.git("commit", "-qam", "upgrade")
        self.assertEqual(self.git("status", "--porcelain"), "")
        clone = os.path.join(self.scratch, "clone")
        subprocess.run(["git", "clone", "-q", self.kernel, clone], check=True, capture_output=True)
        self.assertEqual(snapshot(clone), snapshot(self.kernel))

    def test_no_stage_leaves_the_index_alone(self):
        self.rename_release()
        self.upgrade("--no-stage")
        self.assertEqual(self.git("diff", "--cached", "--name-only"), "")
        self.assertIn("docs/added.md", self.git("status", "--porcelain"))


class KilledWhileApplying(Scenario):
    def release_with_every_kind_of_change(self):
        self.rename_template_file("deploy/kubernetes.yaml", "deploy/k8s.yaml")
        self.add_template_file("docs/added/new.md", "# Added\n")
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.edit(".gitignore", "/build/\n", "/build/\n/out/\n")  # a merge too
        self.release()

    def test_a_kill_at_any_rename_is_finished_by_the_next_command(self):
        self.release_with_every_kind_of_change()
        pristine = os.path.join(self.scratch, "pristine")
        shutil.copytree(self.kernel, pristine, symlinks=True)
        self.upgrade()
        expected = snapshot(self.kernel)
        killed_at = 0
        for n in range(1, 200):
            copy = os.path.join(self.scratch, f"k{n}")
            shutil.copytree(pristine, copy, symlinks=True)
            result = run("upgrade", copy, "--templates", self.templates, cwd=self.scratch,
                         env_extra={"HOME": self.home, "NEW_KERNEL_TEST_KILL_AT_RENAME": str(n)})
            if result.returncode == 0:
                break  # fewer changes than n: the upgrade ran through
            self.assertEqual(result.returncode, -9, result.stdout + result.stderr)
            killed_at = n
            left = [name for name in os.listdir(copy) if name.startswith(".new-kernel-update-")]
            self.assertEqual(len(left), 1, left)
            command = ["check", "upgrade", "diff"][n % 3]
            again = run(command, copy, "--templates", self.templates, cwd=self.scratch, env_extra={"HOME": self.home})
            self.assertEqual(again.returncode, 0, f"{command} after a kill at {n}: {again.stdout}{again.stderr}")
            self.assertIn("finished an upgrade interrupted while applying", again.stderr)
            self.assertEqual(snapshot(copy), expected, f"after a kill at change {n} and one {command}")
            shutil.rmtree(copy)
        self.assertGreater(killed_at, 5)

    def test_a_kill_while_staging_leaves_the_tree_and_the_next_command_cleans_up(self):
        self.release_with_every_kind_of_change()
        before = snapshot(self.kernel)
        staging = os.path.join(self.kernel, ".new-kernel-update-abc123")
        os.makedirs(os.path.join(staging, "old"))
        with open(os.path.join(staging, "new-0"), "w") as f:
            f.write("half")
        result = run("diff", self.kernel, cwd=self.scratch)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("removed .new-kernel-update-abc123", result.stderr)
        self.assertFalse(os.path.exists(staging))
        self.assertEqual(snapshot(self.kernel), before)


class LargeFiles(Scenario):
    SIZE = 17 * 1024 * 1024

    def write_large(self, relative):
        with open(self.path(relative), "wb") as f:
            f.write(b'{"id": 1}\n' * (self.SIZE // 10 + 1))

    def test_a_large_team_file_blocks_no_command(self):
        self.write_large("samples/input.jsonl")  # policy user: never changed by an upgrade
        self.check(0)
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.release()
        self.check(1)
        result = self.upgrade()
        self.line(result.stdout, "update", ".gitignore")
        self.check(0)
        self.assertEqual(os.path.getsize(self.path("samples/input.jsonl")), (self.SIZE // 10 + 1) * 10)
        diff = run("diff", self.kernel, cwd=self.scratch)
        self.assertEqual(diff.returncode, 0, diff.stderr)
        self.assertIn("samples/input.jsonl: larger than 16 MiB, changed since generated", diff.stdout)

    def test_a_large_managed_file_both_sides_changed_is_refused_in_one_line(self):
        self.write_large(".gitignore")
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.release()
        before = snapshot(self.kernel)
        result = self.upgrade(code=73)
        self.assertIn(".gitignore is larger than 16 MiB", result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertEqual(snapshot(self.kernel), before)


class UserFileNotice(Scenario):
    def test_the_notice_shows_the_templates_change_itself(self):
        with open(os.path.join(self.templates, "docs", "message-spec.md.mustache"), "a") as f:
            f.write("\nA new section from the template.\n")
        self.release()
        result = self.upgrade()
        notice = result.stdout[result.stdout.index("notice: docs/message-spec.md"):]
        self.assertIn("+A new section from the template.", notice)
        # After the upgrade the base is the new render: diff --template has nothing to show.
        after = run("diff", self.kernel, "--template", "docs/message-spec.md", "--templates", self.templates,
                    cwd=self.scratch)
        self.assertEqual(after.stdout, "")


class NewerManifestFields(Scenario):
    def test_fields_a_newer_new_kernel_wrote_survive_an_upgrade(self):
        with open(self.path(".new-kernel/manifest.json")) as f:
            manifest = json.load(f)
        manifest["future"] = {"kept": True}
        manifest["template"]["channel"] = "stable"
        manifest["answers"]["region"] = "eu"
        with open(self.path(".new-kernel/manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.release()
        self.upgrade()
        with open(self.path(".new-kernel/manifest.json")) as f:
            after = json.load(f)
        self.assertEqual(after["future"], {"kept": True})
        self.assertEqual(after["template"]["channel"], "stable")
        self.assertEqual(after["answers"]["region"], "eu")
        self.assertEqual(after["template"]["version"], "9.0.0")


class CrlfEditor(Scenario):
    def test_a_file_turned_to_crlf_merges_and_keeps_crlf(self):
        with open(self.path(".gitignore"), "rb") as f:
            text = f.read()
        with open(self.path(".gitignore"), "wb") as f:
            f.write(text.replace(b"/build/\n", b"/build/\n/out/\n").replace(b"\n", b"\r\n"))
        self.edit_template(".gitignore", "*.swp\n", "*.swp\n*.swo\n")
        self.release()
        result = self.upgrade()
        self.assertNotIn("CONFLICT", result.stdout)
        with open(self.path(".gitignore"), "rb") as f:
            after = f.read()
        self.assertIn(b"/out/\r\n", after)
        self.assertIn(b"*.swo\r\n", after)
        self.assertNotIn(b"\r\r", after)
        self.assertEqual(after.count(b"\n"), after.count(b"\r\n"))
        self.check(0)


class DryRunModes(Scenario):
    def test_the_diff_of_a_new_executable_file_says_100755(self):
        self.add_template_file("scripts/run.sh", "#!/bin/sh\necho one\n", executable=True)
        self.release()
        result = self.upgrade("--dry-run", "--diff")
        self.assertIn("new file mode 100755", result.stdout)
        self.assertNotIn("new file mode 100644\n--- /dev/null\n+++ b/scripts/run.sh", result.stdout)


class SeveralVersions(Scenario):
    def test_a_jump_prints_every_change_note_in_between(self):
        manifest = self.manifest()
        manifest["history"] = manifest.get("history", []) + [
            {"version": manifest["version"], "changes": "The kernel's own version."},
            {"version": "8.0.0", "changes": "A note from 8.0.0."},
            {"version": "8.5.0", "changes": "A note from 8.5.0."}]
        self.write_manifest(manifest)
        self.release("The note of 9.0.0.")
        result = self.upgrade()
        self.assertIn("The note of 9.0.0.", result.stdout)
        self.assertIn("A note from 8.0.0.", result.stdout)
        self.assertIn("A note from 8.5.0.", result.stdout)
        self.assertLess(result.stdout.index("8.0.0"), result.stdout.index("A note from 8.5.0."))
        self.assertNotIn("The kernel's own version.", result.stdout)


def main():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-kernel", required=True)
    parser.add_argument("--templates", required=True)
    args, rest = parser.parse_known_args()
    ut.NEW_KERNEL = os.path.abspath(args.new_kernel)
    ut.TEMPLATES = os.path.abspath(args.templates)
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
