#!/usr/bin/python3
"""End to end for --format protobuf: the installed new-kernel generates a transform kernel from
tests/data/schemas/order.proto, which is built with warnings as errors (protoc through
FindProtobuf), runs its own tests (values not written through a registry dead-lettered, in the
handler and on the embedded broker) and its samples; then it runs on kernel-dev-broker with
the schema registry stand-in (tests/tools), and an Order written by confluent-kafka-python's
ProtobufSerializer comes out of it as the same Order through ProtobufDeserializer. One kernel
build: about 100 s on 2 cores. Prints the figures: render time, build time.

    formats_e2e_test.py --prefix PREFIX        (PREFIX/bin/new-kernel and the runtime package)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import kernel_harness as kh  # noqa: E402
import schema_registry_standin  # noqa: E402
ORDER_PROTO = os.path.join(HERE, "..", "data", "schemas", "order.proto")
# As e2e_test.py: CI's one-off build compiles the kernel without -g.
DEBUG_INFO_FLAGS = (["-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"]
                    if os.environ.get("KERNEL_DEBUG_INFO", "1") == "0" else [])


class Failure(Exception):
    pass


def run(command, cwd=None, env=None, timeout=600):
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise Failure(f"{' '.join(command)} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result, time.monotonic() - started


def test_protobuf_transform(prefix, workdir, figures):
    name = "e2e-protobuf"
    directory = os.path.join(workdir, name)
    env = dict(os.environ, HOME=workdir)
    _, figures["render s"] = run([os.path.join(prefix, "bin", "new-kernel"), name, "--topic", f"{name}.in",
                                  "--output-topic", f"{name}.out", "--format", "protobuf", "--schema", ORDER_PROTO,
                                  "--dir", directory, "--no-git"], env=env)
    build = os.path.join(directory, "build")
    run(["cmake", "-S", directory, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
         "-DCMAKE_COMPILE_WARNING_AS_ERROR=ON", *DEBUG_INFO_FLAGS])
    _, figures["build s"] = run(["nice", "-n", "10", "cmake", "--build", build, "-j2"])
    _, figures["ctest s"] = run(["ctest", "--test-dir", build, "--output-on-failure", "--timeout", "180"])
    samples, _ = run([os.path.join(build, name), "--samples", os.path.join(directory, "samples", "input.jsonl")],
                     cwd=directory, timeout=120)
    lines = [json.loads(line) for line in samples.stdout.splitlines() if line.strip()]
    reasons = [line["headers"]["dlq-failure-reason"] for line in lines if line["topic"] == f"{name}.dlq"]
    if reasons != ["wrong_magic_byte"]:
        raise Failure(f"--samples: expected one unframed value dead-lettered, got {lines}")
    round_trip_through_the_registry(prefix, workdir, os.path.join(build, name), name)


def round_trip_through_the_registry(prefix, workdir, binary, name):
    """An Order from confluent-kafka-python's serializer through the kernel and back."""
    run(["protoc", f"--python_out={workdir}", f"-I{os.path.dirname(ORDER_PROTO)}", ORDER_PROTO])
    sys.path.insert(0, workdir)
    import order_pb2  # noqa: E402  (made just above)
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    inputs, outputs = f"{name}.in", f"{name}.out"
    standin, url = schema_registry_standin.serve()
    broker = kh.DevBroker(topics=[inputs, outputs, f"{name}.dlq"], binary=os.path.join(prefix, "bin", "kernel-dev-broker"))
    kernel = kh.KernelProcess.on_broker(binary, broker.bootstrap, KAFKA_SCHEMA_REGISTRY_URL=url)
    reader = kh.TopicReader(broker.bootstrap, outputs)
    try:
        order = order_pb2.Order(id="o-7", account="acme", amount_cents=1250, items=["pen", "ink"])
        serializer = ProtobufSerializer(order_pb2.Order, SchemaRegistryClient({"url": url}))
        kh.produce(broker.bootstrap, inputs,
                   [(b"o-7", serializer(order, SerializationContext(inputs, MessageField.VALUE)))])
        [written] = reader.read_until(1, 60)
        deserializer = ProtobufDeserializer(order_pb2.Order)
        back = deserializer(written.value(), SerializationContext(outputs, MessageField.VALUE))
        if written.key() != b"o-7" or back != order:
            raise Failure(f"the kernel wrote {written.key()!r}: {back}, expected the same Order keyed o-7")
    finally:
        reader.close()
        kernel.stop()
        kernel.close()
        broker.stop()
        standin.shutdown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    figures = {}
    workdir = tempfile.mkdtemp(prefix="new-kernel-formats-e2e-")
    try:
        test_protobuf_transform(os.path.abspath(args.prefix), workdir, figures)
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        print(f"(work directory kept: {workdir})", file=sys.stderr)
        return 1
    for key, value in figures.items():
        print(f"{key}: {value:.2f}")
    if not args.keep:
        subprocess.run(["rm", "-rf", workdir])
    return 0


if __name__ == "__main__":
    sys.exit(main())
