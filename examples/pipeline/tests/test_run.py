"""run.py as a user runs it: both steps on kernel-dev-broker with samples/orders.jsonl. What it
prints is what each step produced: valid orders passed on and priced, a business error on the
validate step's error topic, bad orders on its dead-letter topic, a large order handed to the
billing pipeline (whitelisted), and the express order refused by the produce guard, since the
shipping pipeline's topic is not whitelisted."""
import os
import shutil
import subprocess
import sys
import unittest

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "run.py")


def sections(printed):
    """{topic: [record line, ...]} from run.py's output."""
    found, current = {}, None
    for line in printed.splitlines():
        if line.startswith("  pipeline."):
            current = found.setdefault(line.strip().split(":")[0], [])
        elif line.startswith("    ") and current is not None:
            current.append(line.strip())
        elif line.startswith("logs: "):
            found["logs"] = line[len("logs: "):]
    return found


class RunScriptTests(unittest.TestCase):
    def test_each_step_produced_what_its_samples_call_for(self):
        done = subprocess.run([sys.executable, RUN, os.environ["PIPELINE_BIN_DIR"]], capture_output=True, text=True,
                              timeout=150)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        printed = sections(done.stdout)
        self.addCleanup(shutil.rmtree, printed.get("logs", ""), ignore_errors=True)
        keys = lambda topic: [line.split()[0] for line in printed[topic]]

        self.assertEqual(keys("pipeline.orders.step.validate.output"), ["o-1", "o-2", "o-5", "o-7"])
        self.assertEqual(printed["pipeline.orders.step.validate.error"], ["o-3   business error: we do not ship to BR"])
        dead = printed["pipeline.orders.step.validate.dead-letter"]
        self.assertEqual([line.split()[:2] for line in dead],
                         [["o-4", "validation_error:"], ["o-6", "deserialization_error:"]])

        priced = printed["pipeline.orders.step.price.output"]
        self.assertEqual(keys("pipeline.orders.step.price.output"), ["o-1", "o-2", "o-7"])
        self.assertIn('"gross":"29.75"', priced[0])
        self.assertEqual(keys("pipeline.billing.step.invoice.input"), ["o-2"])
        self.assertEqual(printed["pipeline.shipping.step.express.input"], [])
        refused = printed["pipeline.orders.step.price.dead-letter"]
        self.assertEqual(len(refused), 1)
        self.assertTrue(refused[0].startswith("o-5   topic_not_allowed: produce to pipeline.shipping.step.express.input"),
                        refused)
        self.assertEqual(printed["pipeline.orders.step.price.error"], [])


if __name__ == "__main__":
    unittest.main()
