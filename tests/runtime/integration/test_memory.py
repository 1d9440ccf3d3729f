"""Memory: a kernel's footprint is bounded in messages as well as bytes. With its outputs held
back (a long linger.ms), a backlog ten times larger must not raise its peak RSS by more than
20%. Loopback only; every wait is a condition with a deadline."""
import json
import os
import re
import sys
import unittest
import urllib.request

from confluent_kafka import Producer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402
from test_process import IT_KERNEL, IT_TOPICS  # noqa: E402

PARTITIONS = 4


def produce_empty_objects(bootstrap, count):
    """`count` messages of value {} spread over the partitions, as fast as the client goes."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10000,
                         "queue.buffering.max.messages": 1000000, "compression.type": "lz4"})
    for n in range(count):
        while True:
            try:
                producer.produce("it.in", value=b"{}", partition=n % PARTITIONS)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(120) == 0


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmHWM:\s+(\d+) kB", status.read()).group(1))


class MemoryTests(unittest.TestCase):
    def peak_rss_with_backlog(self, count):
        with kh.DevBroker(IT_TOPICS, partitions=PARTITIONS) as broker:
            produce_empty_objects(broker.bootstrap, count)
            # Outputs held back: nothing is acknowledged, so nothing completes and the backlog
            # waits behind the in-flight cap. A batch goes out early once it holds half the cap
            # (batch.num.messages); at librdkafka's default, only the linger timer sends one.
            with kh.KernelProcess.on_broker(IT_KERNEL, broker.bootstrap, KAFKA_PRODUCER_BATCH_TIMEOUT="2m",
                                            KAFKA_PROPERTY_BATCH_NUM_MESSAGES="10000", KERNEL_HTTP_PORT="0",
                                            KERNEL_HTTP_ADDRESS="127.0.0.1", KERNEL_SHUTDOWN_TIMEOUT="5s") as kernel:
                status_url = kernel.http_url() + "/admin/status"

                def all_held():
                    with urllib.request.urlopen(status_url, timeout=2) as response:
                        status = json.load(response)
                    partitions = status.get("partitions", [])
                    return len(partitions) == PARTITIONS and all("backpressure" in p["paused"] for p in partitions)
                kh.wait_for(all_held, 60, "every partition paused for back-pressure")
                return peak_rss_kib(kernel.process.pid)

    def test_peak_rss_does_not_grow_with_the_backlog(self):
        small = self.peak_rss_with_backlog(300_000)
        large = self.peak_rss_with_backlog(3_000_000)
        print(f"peak RSS with 300,000 waiting: {small / 1024:.1f} MiB; with 3,000,000: {large / 1024:.1f} MiB; "
              f"ratio {large / small:.2f}")
        self.assertLess(large, small * 1.2)


if __name__ == "__main__":
    unittest.main()
