#!/usr/bin/env node
// A peer no one here wrote: kafkajs with @kafkajs/confluent-schema-registry, producing or
// consuming Confluent-framed Avro or Protobuf through a schema registry. The interop tests
// (tests/interop/) drive it as a process; installed once per build by `npm ci` (interop.cmake).
//
//   node peer.js produce --brokers 127.0.0.1:P --registry URL --format avro|protobuf --topic T
//                        --schema FILE [--input FILE.jsonl] [--message-name Name]
//       registers FILE under the subject <topic>-value, encodes each line of the input (stdin
//       by default) with the registry library and sends it; prints {"schema_id":N,"produced":M}.
//   node peer.js consume --brokers 127.0.0.1:P --registry URL --topic T --count N
//                        [--timeout-ms 20000] [--group G]
//       reads T from its start and prints one JSON line per record, {"value": decoded,
//       "headers": {...}} or {"error": why, "value_base64": ...}; exits 0 after N records,
//       2 when the timeout comes first.
'use strict';

const fs = require('fs');
const { Kafka, logLevel, Partitioners } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

function parse_arguments(argv) {
  const [mode, ...rest] = argv;
  const options = { mode, timeoutMs: 20000, group: `interop-peer-${process.pid}` };
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i];
    const value = rest[i + 1];
    if (!name.startsWith('--') || value === undefined) throw new Error(`expected --name value, got ${name}`);
    const key = name.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    options[key] = value;
  }
  for (const required of ['brokers', 'registry', 'topic']) {
    if (!options[required]) throw new Error(`--${required} is required`);
  }
  if (!['produce', 'consume'].includes(mode)) throw new Error(`mode must be produce or consume, got ${mode}`);
  return options;
}

function clients(options) {
  const kafka = new Kafka({
    clientId: 'interop-peer',
    brokers: options.brokers.split(','),
    logLevel: logLevel.WARN,
    // The embedded broker answers at once; a slow retry schedule only hides a failure.
    retry: { initialRetryTime: 100, retries: 8 },
  });
  // Protobuf: --message-name encodes as that message rather than the schema's first one.
  const protocol = options.messageName ? { [SchemaType.PROTOBUF]: { messageName: options.messageName } } : undefined;
  const registry = new SchemaRegistry({ host: options.registry }, protocol);
  return { kafka, registry };
}

function schema_type(format) {
  if (format === 'avro') return SchemaType.AVRO;
  if (format === 'protobuf') return SchemaType.PROTOBUF;
  throw new Error(`--format must be avro or protobuf, got ${format}`);
}

async function produce(options) {
  const { kafka, registry } = clients(options);
  const schema = fs.readFileSync(options.schema, 'utf8');
  const { id } = await registry.register({ type: schema_type(options.format), schema },
                                         { subject: `${options.topic}-value` });
  const lines = fs.readFileSync(options.input || 0, 'utf8').split('\n').filter((line) => line.trim());
  const messages = [];
  for (const line of lines) {
    const record = JSON.parse(line);
    messages.push({ key: record.key ?? null, value: await registry.encode(id, record.value) });
  }
  // The default partitioner spelled out: kafkajs 2 warns on every start otherwise.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: options.topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
  process.stdout.write(JSON.stringify({ schema_id: id, produced: messages.length }) + '\n');
}

async function consume(options) {
  const { kafka, registry } = clients(options);
  const want = Number(options.count);
  if (!Number.isInteger(want) || want < 1) throw new Error(`--count must be a positive integer, got ${options.count}`);
  const consumer = kafka.consumer({ groupId: options.group, sessionTimeout: 10000, heartbeatInterval: 1000 });
  let seen = 0;
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  const timer = setTimeout(() => finish(false), Number(options.timeoutMs));
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (seen >= want) return;
      const headers = {};
      for (const [name, value] of Object.entries(message.headers || {})) headers[name] = String(value);
      let line;
      try {
        const decoded = await registry.decode(message.value);
        line = { value: JSON.parse(JSON.stringify(decoded)), headers };  // a protobufjs message as plain JSON
      } catch (error) {
        line = { error: String(error.message || error), value_base64: message.value ? message.value.toString('base64') : null, headers };
      }
      process.stdout.write(JSON.stringify(line) + '\n');
      if (++seen === want) finish(true);
    },
  });
  const complete = await done;
  clearTimeout(timer);
  await consumer.disconnect();
  if (!complete) {
    process.stderr.write(`peer.js: ${seen} of ${want} records within ${options.timeoutMs} ms\n`);
    process.exit(2);
  }
}

async function main() {
  const options = parse_arguments(process.argv.slice(2));
  if (options.mode === 'produce') await produce(options);
  else await consume(options);
}

main().catch((error) => {
  process.stderr.write(`peer.js: ${error.stack || error}\n`);
  process.exit(1);
});
