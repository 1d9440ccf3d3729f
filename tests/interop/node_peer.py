"""Drives tests/interop/node/peer.js (kafkajs + @kafkajs/confluent-schema-registry, installed
into the build tree by the interop_node_install fixture; NODE_PEER names the installed script)
as a process: produce() registers a schema and sends records, consume() reads decoded ones."""
import json
import os
import subprocess
import tempfile


def _run(*args, timeout):
    done = subprocess.run(["node", os.environ["NODE_PEER"], *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise AssertionError(f"peer.js {args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def produce(bootstrap, registry, topic, fmt, schema, values, message_name=None, timeout=30):
    """Registers `schema` (text) under <topic>-value and sends each of `values` encoded with it;
    returns the schema id the registry gave."""
    with tempfile.TemporaryDirectory() as folder:
        schema_file = os.path.join(folder, "schema")
        input_file = os.path.join(folder, "input.jsonl")
        with open(schema_file, "w") as out:
            out.write(schema)
        with open(input_file, "w") as out:
            out.writelines(json.dumps({"key": str(i), "value": value}) + "\n" for i, value in enumerate(values))
        args = ["produce", "--brokers", bootstrap, "--registry", registry, "--format", fmt, "--topic", topic,
                "--schema", schema_file, "--input", input_file]
        if message_name:
            args += ["--message-name", message_name]
        return json.loads(_run(*args, timeout=timeout))["schema_id"]


def consume(bootstrap, registry, topic, count, timeout=30):
    """The first `count` records of `topic`, decoded: [{"value": ..., "headers": {...}}, ...]
    ({"error": ...} for a record the library could not decode)."""
    out = _run("consume", "--brokers", bootstrap, "--registry", registry, "--topic", topic, "--count", str(count),
               "--timeout-ms", str(int(timeout * 1000) - 2000), timeout=timeout)
    return [json.loads(line) for line in out.splitlines() if line.strip()]
