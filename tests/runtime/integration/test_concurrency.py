"""KERNEL_CONCURRENCY at process level: it-kernel with eight workers on kernel-dev-broker,
stopped mid-stream by SIGKILL or SIGTERM and restarted; confluent-kafka checks that every input
came out, that each key's outputs kept their order within a run, and that everything was
committed. Loopback only; every wait is a condition with a deadline."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402
from test_process import BrokerTestCase, inputs, numbers_of  # noqa: E402

COUNT = 4000
KEYS = 200


class ConcurrencyProcessTests(BrokerTestCase):
    def start_with_eight_workers(self, instance, **env):
        return self.start(IT_INSTANCE=instance, KERNEL_CONCURRENCY=8, IT_HANDLE_DELAY_US=2000,
                          KAFKA_CONSUMER_SESSION_TIMEOUT="6s", KAFKA_CONSUMER_HEARTBEAT_INTERVAL="1s", **env)

    def stop_mid_stream_and_restart(self, sig, group):
        self.produce([(f"k{n % KEYS}", json.dumps({"n": n})) for n in range(COUNT)])
        reader = self.reader()
        first = self.start_with_eight_workers("first", KAFKA_CONSUMER_GROUP=group)
        reader.read_until(COUNT // 4, 60)  # calls running on every worker: stop it now
        code = first.stop(sig)
        if sig == signal.SIGTERM:
            self.assertEqual(code, 0, "\n".join(first.lines[-20:]))
        second = self.start_with_eight_workers("second", KAFKA_CONSUMER_GROUP=group)
        reader.read_until(COUNT, 120)
        kh.wait_for(lambda: self.all_committed(group), 30, "every input committed")
        self.assertEqual(second.stop(), 0, "\n".join(second.lines[-20:]))
        outputs = reader.drain()
        numbers = numbers_of(outputs)
        self.assertEqual(set(numbers), set(range(COUNT)), "every input out at least once")
        # A key's outputs share an output partition, so the topic shows the order they were
        # made: within each run, each key's inputs came out in their offset order.
        runs = {}
        for message in outputs:
            document = json.loads(message.value())
            runs.setdefault((document["by"], message.key().decode()), []).append(document["n"])
        for (run, key), ns in runs.items():
            self.assertEqual(ns, sorted(set(ns)), f"outputs of {key} in the {run} run")
        return numbers

    def test_sigkill_with_eight_workers_then_restart_loses_nothing(self):
        self.stop_mid_stream_and_restart(signal.SIGKILL, "conc-kill")

    def test_sigterm_with_eight_workers_finishes_running_calls_then_restart_delivers_each_once(self):
        numbers = self.stop_mid_stream_and_restart(signal.SIGTERM, "conc-term")
        self.assertEqual(len(numbers), len(set(numbers)), "no input out twice after a clean stop")

    def hung_call_then_stop(self, stop):
        """A worker's call never returns; `stop(kernel)` starts the shutdown. The process must
        exit 1 within KERNEL_SHUTDOWN_TIMEOUT (plus a margin), naming the hung call."""
        kernel = self.start(KERNEL_CONCURRENCY=4, KERNEL_SHUTDOWN_TIMEOUT="3s", KAFKA_CONSUMER_GROUP="conc-hang")
        self.produce([("hung", json.dumps({"n": 0, "hang": True}))] + inputs(range(1, 10)))
        kh.wait_for(lambda: kernel.log_contains("handling n=0: hanging"), 30, "the hung call started")
        self.assertTrue(kernel.log_contains("4 worker threads call the handler"), "start-up names the worker count")
        started = time.monotonic()
        stop(kernel)
        try:
            code = kernel.process.wait(timeout=3 + 10)
        except subprocess.TimeoutExpired:
            kernel.process.kill()
            self.fail("still running 10 s past KERNEL_SHUTDOWN_TIMEOUT:\n" + "\n".join(kernel.lines[-20:]))
        took = time.monotonic() - started
        self.assertEqual(code, 1, "\n".join(kernel.lines[-20:]))
        self.assertLess(took, 3 + 5)
        self.assertTrue(kernel.log_contains("still running"), "\n".join(kernel.lines[-20:]))

    def test_a_hung_worker_call_does_not_keep_a_stopping_kernel_alive(self):
        self.hung_call_then_stop(lambda kernel: kernel.process.send_signal(signal.SIGTERM))

    def test_a_hung_worker_call_does_not_keep_a_kernel_stopped_by_a_fatal_error_alive(self):
        self.hung_call_then_stop(lambda kernel: self.produce([("f", json.dumps({"n": 99, "fail": "fatal"}))]))


if __name__ == "__main__":
    unittest.main()
