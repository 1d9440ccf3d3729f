#!/usr/bin/python3
"""An independent Kafka client (confluent-kafka) the tests use to check what kernels did.

  probe.py produce  --bootstrap B --topic T [--partition P] < records.jsonl
  probe.py consume  --bootstrap B --topic T --count N [--timeout S]   -> JSON lines
  probe.py committed --bootstrap B --group G --topic T                 -> {"0": 12, ...}
  probe.py watermarks --bootstrap B --topic T                          -> {"0": [low, high], ...}
"""
import argparse
import base64
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def text_or_base64(raw):
    if raw is None:
        return None
    try:
        return {"text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


def partitions_of(client, topic, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metadata = client.list_topics(topic, timeout=5)
        info = metadata.topics.get(topic)
        if info is not None and info.error is None and info.partitions:
            return sorted(info.partitions)
    raise SystemExit(f"probe: topic {topic} not found")


def produce(args):
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5})
    failures = []
    count = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        record = json.loads(line)
        value = record["value"]
        if "value_base64" in record:
            value = base64.b64decode(record["value_base64"])
        elif not isinstance(value, str):
            value = json.dumps(value, separators=(",", ":"))
        headers = [(k, v.encode()) for k, v in record.get("headers", {}).items()]
        kwargs = {}
        partition = record.get("partition", args.partition)
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                producer.produce(args.topic, value=value, key=record.get("key"), headers=headers,
                                 on_delivery=lambda err, msg: err and failures.append(str(err)), **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
        count += 1
        producer.poll(0)
    if producer.flush(60) != 0 or failures:
        raise SystemExit(f"probe: produce failed: {failures[:3]}")
    print(count)


def consume(args):
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "probe", "enable.auto.commit": False,
                         "enable.partition.eof": True})
    partitions = partitions_of(consumer, args.topic, args.timeout)
    consumer.assign([TopicPartition(args.topic, p, -2) for p in partitions])  # -2: beginning
    records = []
    at_end = set()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error():
            if message.error().code() == -191:  # _PARTITION_EOF
                at_end.add(message.partition())
                if len(records) >= args.count and len(at_end) == len(partitions):
                    break
            continue
        at_end.discard(message.partition())
        records.append({
            "partition": message.partition(),
            "offset": message.offset(),
            "key": text_or_base64(message.key()),
            "value": text_or_base64(message.value()),
            "headers": {k: text_or_base64(v) for k, v in (message.headers() or [])},
        })
    consumer.close()
    for record in records:
        print(json.dumps(record))


def committed(args):
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group, "enable.auto.commit": False})
    partitions = partitions_of(consumer, args.topic, 10)
    offsets = consumer.committed([TopicPartition(args.topic, p) for p in partitions], timeout=10)
    print(json.dumps({str(tp.partition): tp.offset for tp in offsets}))
    consumer.close()


def watermarks(args):
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "probe"})
    partitions = partitions_of(consumer, args.topic, 10)
    out = {}
    for p in partitions:
        out[str(p)] = list(consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=10))
    print(json.dumps(out))
    consumer.close()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("produce", "consume", "committed", "watermarks"):
        p = sub.add_parser(name)
        p.add_argument("--bootstrap", required=True)
        p.add_argument("--topic", required=True)
        p.add_argument("--group")
        p.add_argument("--count", type=int, default=0)
        p.add_argument("--partition", type=int)
        p.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    {"produce": produce, "consume": consume, "committed": committed, "watermarks": watermarks}[args.command](args)


if __name__ == "__main__":
    main()
