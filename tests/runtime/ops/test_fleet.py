"""Fleet-wide pause and resume through the control topic (docs/operations.md#fleet-wide-pause):
three it-kernel instances in one group on kernel-dev-broker with a stream of traffic,
kernel-admin pause|resume, one instance SIGKILLed and started again while paused; a malformed
command is logged and ignored; kernel-admin's argument mistakes. confluent-kafka writes and
reads the topics. Loopback only; every wait is a condition with a deadline."""
import json
import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402

IT_KERNEL = os.environ["IT_KERNEL"]
ADMIN_TOOL = os.environ["ADMIN_TOOL"]
CONTROL = "it-kernel.control"
TOPICS = ("it.in", "it.out", "it-kernel.dlq", CONTROL)
PARTITIONS = 6


def status(kernel):
    code, body = kh.http("GET", kernel.url + "/admin/status")
    return json.loads(body) if code == 200 else None


def held_by_fleet(kernel):
    """Every partition it has is paused fleet-wide, and it says so (it has some)."""
    now = status(kernel)
    return (now is not None and now["partitions"] and any(p["source"] == "fleet" for p in now["pauses"])
            and all("fleet" in p["paused"] for p in now["partitions"]))


def running_freely(kernel):
    now = status(kernel)
    return now is not None and now["partitions"] and not now["pauses"] and \
        not any(p["paused"] for p in now["partitions"])


class Stream:
    """Keyed inputs {"n": n} at about 200 a second on a thread, until stopped."""

    def __init__(self, bootstrap):
        self.bootstrap, self.sent, self.stopping = bootstrap, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            batch = range(self.sent, self.sent + 20)
            kh.produce(self.bootstrap, "it.in", [(f"k{n % 60}", json.dumps({"n": n})) for n in batch])
            self.sent += len(batch)
            self.stopping.wait(0.1)  # pacing the stream

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=30)
        return self.sent


class FleetTests(unittest.TestCase):
    def setUp(self):
        self.broker = kh.DevBroker(TOPICS, partitions=PARTITIONS)
        self.addCleanup(self.broker.stop)

    def kernel(self, instance):
        kernel = kh.KernelProcess.on_broker(
            IT_KERNEL, self.broker.bootstrap, IT_INSTANCE=instance, KAFKA_CONSUMER_GROUP="fleet",
            KERNEL_HTTP_PORT=0, KERNEL_HTTP_ADDRESS="127.0.0.1", KAFKA_CONSUMER_SESSION_TIMEOUT="6s",
            KAFKA_CONSUMER_HEARTBEAT_INTERVAL="1s")
        self.addCleanup(kernel.close)
        kernel.url = kernel.http_url()
        return kernel

    def admin(self, *args):
        return kh.run_binary(ADMIN_TOOL, *args, env=kh.clean_environment(KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap))

    def test_fleet_pause_holds_every_instance_and_a_restarted_one_then_resume_loses_nothing(self):
        reader = kh.TopicReader(self.broker.bootstrap, "it.out", PARTITIONS)
        self.addCleanup(reader.close)
        kernels = {name: self.kernel(name) for name in ("a", "b", "c")}
        # The traffic starts once the group is formed: the rebalances of its forming would
        # duplicate what was not committed yet, which is not what this test is about.
        kh.wait_for(lambda: all(status(k) and status(k)["partitions"] for k in kernels.values()), 30,
                    "every instance assigned")
        stream = Stream(self.broker.bootstrap)
        self.addCleanup(stream.stop)
        reader.read_until(100, 30)

        # A malformed command is logged and ignored: every instance keeps handling.
        kh.produce(self.broker.bootstrap, CONTROL, [("kernel", "not json"), ("kernel", json.dumps({"version": 2}))])
        kh.wait_for(lambda: all(k.log_contains("command ignored: value is not JSON") and
                                k.log_contains('command ignored: field "version" is not 1') for k in kernels.values()),
                    10, "each instance to log the malformed commands")
        before = len(reader.messages)
        reader.read_until(before + 50, 10)

        started = time.monotonic()
        done = self.admin("pause", "--kernel", "it-kernel", "--reason", "deploy 42")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("wrote pause of the kernel", done.stdout)
        for kernel in kernels.values():
            kh.wait_for(lambda kernel=kernel: held_by_fleet(kernel), 2, "every instance paused within 2 s")
        propagation = time.monotonic() - started
        print(f"\nfleet pause: kernel-admin started to every instance showing it: {propagation:.2f} s",
              file=sys.stderr)
        pause = status(kernels["a"])["pauses"][0]
        self.assertEqual((pause["source"], pause["scope"], pause["reason"]), ("fleet", "kernel", "deploy 42"))
        self.assertIn("@", pause["by"])

        # Nothing is handled while the pause holds, and the lag grows.
        reader.drain(0.5)  # what was in flight when it paused
        handled = len(reader.messages)
        lag = sum(p["lag"] or 0 for p in status(kernels["a"])["partitions"])
        kh.wait_for(lambda: sum(p["lag"] or 0 for p in status(kernels["a"])["partitions"]) > lag + 20, 10,
                    "the lag to grow")
        reader.drain(1.5)
        self.assertEqual(len(reader.messages), handled, "an output while the fleet was paused")

        # An instance killed and started again starts paused.
        kernels["b"].send_signal(signal.SIGKILL)
        kernels["b"].wait()
        kernels["b"] = self.kernel("b2")
        kh.wait_for(lambda: held_by_fleet(kernels["b"]), 30, "the restarted instance assigned and paused")
        self.assertTrue(kernels["b"].log_contains("fleet-wide pause of the kernel by"))
        reader.drain(0.5)
        self.assertEqual(len(reader.messages), handled, "an output while the fleet was paused")

        done = self.admin("resume", "--kernel", "it-kernel")
        self.assertEqual(done.returncode, 0, done.stderr)
        for kernel in kernels.values():
            kh.wait_for(lambda kernel=kernel: running_freely(kernel), 5, "every instance resumed")
        sent = stream.stop()

        def every_input_out():
            reader.read_until(0, 1)
            return {json.loads(m.value())["n"] for m in reader.messages} >= set(range(sent))
        kh.wait_for(every_input_out, 60, "every input out")
        outputs = reader.drain(0.5)
        numbers = [json.loads(m.value())["n"] for m in outputs]
        self.assertEqual(set(numbers), set(range(sent)), "every input out")
        # b was paused, with everything it had handled committed, when it was killed: nothing
        # is handled twice for the kill. On kernel-dev-broker the group's rebalance when b's
        # session expires sometimes takes a survivor's partitions away as lost (its commits
        # refused meanwhile): their work since the last commit is redone, at-least-once. Only
        # inputs of such partitions may come out twice (an output goes to its input's partition
        # number: same key, same partition count).
        lost = set()
        for kernel in kernels.values():
            for line in kernel.lines:
                if "] lost it.in[" in line:
                    lost |= {int(p) for p in line.split("] lost it.in[", 1)[1].split("]")[0].split(",")}
        copies = {}
        for message in outputs:
            copies.setdefault(json.loads(message.value())["n"], []).append(message.partition())
        twice = {n: partitions for n, partitions in copies.items() if len(partitions) > 1}
        self.assertFalse({n for n, partitions in twice.items() if not set(partitions) <= lost},
                         f"inputs out twice beyond partitions lost in a rebalance ({sorted(lost)})")
        print(f"fleet test: {len(twice)} of {sent} inputs out twice, all of partitions lost in a rebalance "
              f"{sorted(lost)}", file=sys.stderr)
        after = {json.loads(m.value())["by"] for m in outputs[handled:]}
        self.assertEqual(after, {"a", "b2", "c"}, "every instance handles again")
        metrics = kh.http("GET", kernels["a"].url + "/metrics")[1]
        self.assertIn('kernel_fleet_commands_total{result="malformed"} 2', metrics)
        self.assertIn('kernel_fleet_commands_total{result="applied"} 2', metrics)
        self.assertIn('kernel_partitions_paused{reason="fleet"} 0', metrics)
        for kernel in kernels.values():
            self.assertEqual(kernel.stop(), 0, "\n".join(kernel.lines[-20:]))

    def test_kernel_admin_argument_mistakes_exit_64_and_a_missing_control_topic_69(self):
        for args, words in ((("pause",), "--kernel is required"),
                            (("pause", "--kernel", "it-kernel", "--partition", "1"), "--partition needs --topic"),
                            (("resume", "--kernel", "it-kernel", "--topic", "it.in", "--partition", "0x1"),
                             "expected a partition number"),
                            (("pause", "--kernel", "bad name"), "contains a space"),
                            (("pause", "--kernel", "it-kernel", "--reason", "x" * 300), "at most 256")):
            done = self.admin(*args)
            self.assertEqual(done.returncode, 64, (args, done.stderr))
            self.assertIn(words, done.stderr)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        done = self.admin("pause", "--kernel", "other")
        self.assertEqual(done.returncode, 69, done.stderr)
        self.assertIn("control topic other.control does not exist", done.stderr)
        done = self.admin("pause", "--kernel", "it-kernel", "--topic", "it.in", "--partition", "6")
        self.assertEqual(done.returncode, 64, done.stderr)
        self.assertIn("it.in has 6 partitions", done.stderr)


if __name__ == "__main__":
    unittest.main()
